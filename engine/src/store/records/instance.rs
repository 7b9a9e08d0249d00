//! Instances and tasks: an instance's record (`RecordKind::Instance`) holds its current
//! step's tasks, timers and limits; a task's record (`RecordKind::Task`) is the copy the
//! task indexes and the finished tasks keep.

use super::field::{b, ob, oown, own, time, DataV1, Seq, TaskIdV1};
use super::{RecordKind, Stored};
use crate::core::{
    ActiveLimit, Candidates, Instance, Signature, Status, Task, TaskKind, TaskState, Timer,
    TimerKind,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Serialize, Deserialize)]
pub(crate) struct InstanceV1<'a> {
    pub id: u64,
    pub process: Cow<'a, str>,
    pub version: u32,
    pub status: StatusV1,
    pub outcome: Option<Cow<'a, str>>,
    pub starter: Cow<'a, str>,
    #[serde(with = "time")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "time")]
    pub updated_at: DateTime<Utc>,
    pub data: DataV1<'a>,
    pub parent: Option<u64>,
    pub step: Option<Cow<'a, str>>,
    #[serde(with = "time::option")]
    pub step_started_at: Option<DateTime<Utc>>,
    pub waiting: bool,
    #[serde(with = "time::option")]
    pub due: Option<DateTime<Utc>>,
    pub due_extended_minutes: i64,
    pub awaiting_child: bool,
    pub children: Cow<'a, [u64]>,
    pub tasks: Seq<'a, Task, TaskV1<'static>>,
    pub signatures: Seq<'a, Signature, SignatureV1<'static>>,
    pub timers: Seq<'a, Timer, TimerV1<'static>>,
    pub limits: Seq<'a, ActiveLimit, ActiveLimitV1<'static>>,
    pub seq: u64,
    pub next_task: u32,
    pub next_timer: u32,
}

impl<'a> From<&'a Instance> for InstanceV1<'a> {
    fn from(i: &'a Instance) -> Self {
        InstanceV1 {
            id: i.id,
            process: b(&i.process),
            version: i.version,
            status: (&i.status).into(),
            outcome: ob(&i.outcome),
            starter: b(&i.starter),
            started_at: i.started_at,
            updated_at: i.updated_at,
            data: DataV1::Ref(&i.data),
            parent: i.parent,
            step: ob(&i.step),
            step_started_at: i.step_started_at,
            waiting: i.waiting,
            due: i.due,
            due_extended_minutes: i.due_extended_minutes,
            awaiting_child: i.awaiting_child,
            children: Cow::Borrowed(&i.children),
            tasks: Seq::of(&i.tasks),
            signatures: Seq::of(&i.signatures),
            timers: Seq::of(&i.timers),
            limits: Seq::of(&i.limits),
            seq: i.seq,
            next_task: i.next_task,
            next_timer: i.next_timer,
        }
    }
}

impl From<InstanceV1<'_>> for Instance {
    fn from(i: InstanceV1<'_>) -> Self {
        Instance {
            id: i.id,
            process: own(i.process),
            version: i.version,
            status: i.status.into(),
            outcome: oown(i.outcome),
            starter: own(i.starter),
            started_at: i.started_at,
            updated_at: i.updated_at,
            data: i.data.into(),
            parent: i.parent,
            step: oown(i.step),
            step_started_at: i.step_started_at,
            waiting: i.waiting,
            due: i.due,
            due_extended_minutes: i.due_extended_minutes,
            awaiting_child: i.awaiting_child,
            children: i.children.into_owned(),
            tasks: i.tasks.into(),
            signatures: i.signatures.into(),
            timers: i.timers.into(),
            limits: i.limits.into(),
            seq: i.seq,
            next_task: i.next_task,
            next_timer: i.next_timer,
            branches: vec![],
            child_outcome: None,
            children_awaited: 0,
        }
    }
}

// Version 1 of instances; version 2 (see `branches`) adds the parallel branches.

#[derive(Serialize, Deserialize)]
pub(crate) enum StatusV1 {
    Running,
    Completed,
    Cancelled,
    Incident,
}

impl From<&Status> for StatusV1 {
    fn from(s: &Status) -> Self {
        match s {
            Status::Running => StatusV1::Running,
            Status::Completed => StatusV1::Completed,
            Status::Cancelled => StatusV1::Cancelled,
            Status::Incident => StatusV1::Incident,
        }
    }
}

impl From<StatusV1> for Status {
    fn from(s: StatusV1) -> Self {
        match s {
            StatusV1::Running => Status::Running,
            StatusV1::Completed => Status::Completed,
            StatusV1::Cancelled => Status::Cancelled,
            StatusV1::Incident => Status::Incident,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct TaskV1<'a> {
    pub id: TaskIdV1,
    pub process: Cow<'a, str>,
    pub step: Cow<'a, str>,
    pub title: Cow<'a, str>,
    pub kind: TaskKindV1,
    pub candidates: CandidatesV1<'a>,
    pub assignee: Option<Cow<'a, str>>,
    pub state: TaskStateV1,
    #[serde(with = "time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "time::option")]
    pub due: Option<DateTime<Utc>>,
    pub completed_by: Option<Cow<'a, str>>,
    pub choice: Option<Cow<'a, str>>,
}

impl<'a> From<&'a Task> for TaskV1<'a> {
    fn from(t: &'a Task) -> Self {
        TaskV1 {
            id: t.id.into(),
            process: b(&t.process),
            step: b(&t.step),
            title: b(&t.title),
            kind: (&t.kind).into(),
            candidates: (&t.candidates).into(),
            assignee: ob(&t.assignee),
            state: t.state.into(),
            created_at: t.created_at,
            due: t.due,
            completed_by: ob(&t.completed_by),
            choice: ob(&t.choice),
        }
    }
}

impl From<TaskV1<'_>> for Task {
    fn from(t: TaskV1<'_>) -> Self {
        Task {
            id: t.id.into(),
            process: own(t.process),
            step: own(t.step),
            title: own(t.title),
            kind: t.kind.into(),
            candidates: t.candidates.into(),
            assignee: oown(t.assignee),
            state: t.state.into(),
            created_at: t.created_at,
            due: t.due,
            completed_by: oown(t.completed_by),
            choice: oown(t.choice),
        }
    }
}

form!(TaskV1, Task);

impl Stored for Task {
    const KIND: RecordKind = RecordKind::Task;
    const VERSION: u8 = 1;
    type Current = TaskV1<'static>;
}

/// A task in layout 3's form, the payload of version 1: what the move from layout
/// 2 writes for the tasks it takes out of their instances (see `migrate`), before
/// the move to layout 4 puts every value in its envelope.
pub(crate) fn task_in_layout_3(t: &Task) -> Vec<u8> {
    postcard::to_allocvec(&TaskV1::from(t)).expect("in-memory values always serialize")
}

#[derive(Serialize, Deserialize)]
pub(crate) enum TaskKindV1 {
    Work,
    Sign,
}

impl From<&TaskKind> for TaskKindV1 {
    fn from(k: &TaskKind) -> Self {
        match k {
            TaskKind::Work => TaskKindV1::Work,
            TaskKind::Sign => TaskKindV1::Sign,
        }
    }
}

impl From<TaskKindV1> for TaskKind {
    fn from(k: TaskKindV1) -> Self {
        match k {
            TaskKindV1::Work => TaskKind::Work,
            TaskKindV1::Sign => TaskKind::Sign,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) enum TaskStateV1 {
    Open,
    Claimed,
    Completed,
    Cancelled,
}

impl From<TaskState> for TaskStateV1 {
    fn from(s: TaskState) -> Self {
        match s {
            TaskState::Open => TaskStateV1::Open,
            TaskState::Claimed => TaskStateV1::Claimed,
            TaskState::Completed => TaskStateV1::Completed,
            TaskState::Cancelled => TaskStateV1::Cancelled,
        }
    }
}

impl From<TaskStateV1> for TaskState {
    fn from(s: TaskStateV1) -> Self {
        match s {
            TaskStateV1::Open => TaskState::Open,
            TaskStateV1::Claimed => TaskState::Claimed,
            TaskStateV1::Completed => TaskState::Completed,
            TaskStateV1::Cancelled => TaskState::Cancelled,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct CandidatesV1<'a> {
    pub people: Cow<'a, [String]>,
    pub roles: Cow<'a, [String]>,
}

impl<'a> From<&'a Candidates> for CandidatesV1<'a> {
    fn from(c: &'a Candidates) -> Self {
        CandidatesV1 {
            people: Cow::Borrowed(&c.people),
            roles: Cow::Borrowed(&c.roles),
        }
    }
}

impl From<CandidatesV1<'_>> for Candidates {
    fn from(c: CandidatesV1<'_>) -> Self {
        Candidates {
            people: c.people.into_owned(),
            roles: c.roles.into_owned(),
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct TimerV1<'a> {
    pub n: u32,
    #[serde(with = "time")]
    pub due: DateTime<Utc>,
    pub kind: TimerKindV1<'a>,
}

impl<'a> From<&'a Timer> for TimerV1<'a> {
    fn from(t: &'a Timer) -> Self {
        TimerV1 {
            n: t.n,
            due: t.due,
            kind: (&t.kind).into(),
        }
    }
}

impl From<TimerV1<'_>> for Timer {
    fn from(t: TimerV1<'_>) -> Self {
        Timer {
            n: t.n,
            due: t.due,
            kind: t.kind.into(),
        }
    }
}

form!(TimerV1, Timer);

#[derive(Serialize, Deserialize)]
pub(crate) enum TimerKindV1<'a> {
    Wait {
        step: Cow<'a, str>,
    },
    Due {
        step: Cow<'a, str>,
    },
    Remind {
        step: Cow<'a, str>,
    },
    RemindEvery {
        step: Cow<'a, str>,
        every_minutes: i64,
    },
    LimitBreach {
        limit: Cow<'a, str>,
    },
    LimitRemind {
        limit: Cow<'a, str>,
    },
    LimitRemindEvery {
        limit: Cow<'a, str>,
        every_minutes: i64,
    },
    StepReminder {
        step: Cow<'a, str>,
        index: u32,
        every_minutes: Option<i64>,
    },
    LimitReminder {
        limit: Cow<'a, str>,
        index: u32,
        every_minutes: Option<i64>,
    },
    // Appended: payloads written before it read the same.
    ElementTimer {
        step: Cow<'a, str>,
        task: u32,
        element: u32,
        reminder: Option<u32>,
        every_minutes: Option<i64>,
    },
}

impl<'a> From<&'a TimerKind> for TimerKindV1<'a> {
    fn from(k: &'a TimerKind) -> Self {
        match k {
            TimerKind::Wait { step } => TimerKindV1::Wait { step: b(step) },
            TimerKind::Due { step } => TimerKindV1::Due { step: b(step) },
            TimerKind::Remind { step } => TimerKindV1::Remind { step: b(step) },
            TimerKind::RemindEvery {
                step,
                every_minutes,
            } => TimerKindV1::RemindEvery {
                step: b(step),
                every_minutes: *every_minutes,
            },
            TimerKind::LimitBreach { limit } => TimerKindV1::LimitBreach { limit: b(limit) },
            TimerKind::LimitRemind { limit } => TimerKindV1::LimitRemind { limit: b(limit) },
            TimerKind::LimitRemindEvery {
                limit,
                every_minutes,
            } => TimerKindV1::LimitRemindEvery {
                limit: b(limit),
                every_minutes: *every_minutes,
            },
            TimerKind::StepReminder {
                step,
                index,
                every_minutes,
            } => TimerKindV1::StepReminder {
                step: b(step),
                index: *index,
                every_minutes: *every_minutes,
            },
            TimerKind::LimitReminder {
                limit,
                index,
                every_minutes,
            } => TimerKindV1::LimitReminder {
                limit: b(limit),
                index: *index,
                every_minutes: *every_minutes,
            },
            TimerKind::ElementTimer {
                step,
                task,
                element,
                reminder,
                every_minutes,
            } => TimerKindV1::ElementTimer {
                step: b(step),
                task: *task,
                element: *element,
                reminder: *reminder,
                every_minutes: *every_minutes,
            },
        }
    }
}

impl From<TimerKindV1<'_>> for TimerKind {
    fn from(k: TimerKindV1<'_>) -> Self {
        match k {
            TimerKindV1::Wait { step } => TimerKind::Wait { step: own(step) },
            TimerKindV1::Due { step } => TimerKind::Due { step: own(step) },
            TimerKindV1::Remind { step } => TimerKind::Remind { step: own(step) },
            TimerKindV1::RemindEvery {
                step,
                every_minutes,
            } => TimerKind::RemindEvery {
                step: own(step),
                every_minutes,
            },
            TimerKindV1::LimitBreach { limit } => TimerKind::LimitBreach { limit: own(limit) },
            TimerKindV1::LimitRemind { limit } => TimerKind::LimitRemind { limit: own(limit) },
            TimerKindV1::LimitRemindEvery {
                limit,
                every_minutes,
            } => TimerKind::LimitRemindEvery {
                limit: own(limit),
                every_minutes,
            },
            TimerKindV1::StepReminder {
                step,
                index,
                every_minutes,
            } => TimerKind::StepReminder {
                step: own(step),
                index,
                every_minutes,
            },
            TimerKindV1::LimitReminder {
                limit,
                index,
                every_minutes,
            } => TimerKind::LimitReminder {
                limit: own(limit),
                index,
                every_minutes,
            },
            TimerKindV1::ElementTimer {
                step,
                task,
                element,
                reminder,
                every_minutes,
            } => TimerKind::ElementTimer {
                step: own(step),
                task,
                element,
                reminder,
                every_minutes,
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct ActiveLimitV1<'a> {
    pub name: Cow<'a, str>,
    #[serde(with = "time")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "time")]
    pub deadline: DateTime<Utc>,
    pub extended_minutes: i64,
    pub breached: bool,
}

impl<'a> From<&'a ActiveLimit> for ActiveLimitV1<'a> {
    fn from(l: &'a ActiveLimit) -> Self {
        ActiveLimitV1 {
            name: b(&l.name),
            started_at: l.started_at,
            deadline: l.deadline,
            extended_minutes: l.extended_minutes,
            breached: l.breached,
        }
    }
}

impl From<ActiveLimitV1<'_>> for ActiveLimit {
    fn from(l: ActiveLimitV1<'_>) -> Self {
        ActiveLimit {
            name: own(l.name),
            started_at: l.started_at,
            deadline: l.deadline,
            extended_minutes: l.extended_minutes,
            breached: l.breached,
        }
    }
}

form!(ActiveLimitV1, ActiveLimit);

#[derive(Serialize, Deserialize)]
pub(crate) struct SignatureV1<'a> {
    pub by: Cow<'a, str>,
    pub approve: bool,
}

impl<'a> From<&'a Signature> for SignatureV1<'a> {
    fn from(s: &'a Signature) -> Self {
        SignatureV1 {
            by: b(&s.by),
            approve: s.approve,
        }
    }
}

impl From<SignatureV1<'_>> for Signature {
    fn from(s: SignatureV1<'_>) -> Self {
        Signature {
            by: own(s.by),
            approve: s.approve,
        }
    }
}

form!(SignatureV1, Signature);
