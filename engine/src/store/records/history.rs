//! The history (`RecordKind::History`: the records one command appended, under one key)
//! and incidents (`RecordKind::Incident`). Every variant of `Event` is matched here by
//! name, so the order of the domain's variants never reaches the disk.

use super::field::{b, ob, oown, own, time, DataV1, TaskIdV1};
use super::instance::{ActiveLimitV1, CandidatesV1, TaskV1, TimerKindV1, TimerV1};
use super::{RecordKind, Stored};
use crate::core::{Attempt, Event, Incident, Message, MessageKind, Record, Resolution};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The records of one command, in order.
#[derive(Serialize, Deserialize)]
pub(crate) struct HistoryV1<'a>(pub super::field::Seq<'a, Record, RecordV1<'static>>);

impl<'a> From<&'a Vec<Record>> for HistoryV1<'a> {
    fn from(r: &'a Vec<Record>) -> Self {
        HistoryV1(super::field::Seq::of(r))
    }
}

impl From<HistoryV1<'_>> for Vec<Record> {
    fn from(h: HistoryV1<'_>) -> Self {
        h.0.into()
    }
}

form!(HistoryV1, Vec<Record>);

impl Stored for Vec<Record> {
    const KIND: RecordKind = RecordKind::History;
    const VERSION: u8 = 1;
    type Current = HistoryV1<'static>;
}

#[derive(Serialize, Deserialize)]
pub(crate) struct RecordV1<'a> {
    pub seq: u64,
    #[serde(with = "time")]
    pub at: DateTime<Utc>,
    pub actor: Cow<'a, str>,
    pub event: EventV1<'a>,
}

impl<'a> From<&'a Record> for RecordV1<'a> {
    fn from(r: &'a Record) -> Self {
        RecordV1 {
            seq: r.seq,
            at: r.at,
            actor: b(&r.actor),
            event: (&r.event).into(),
        }
    }
}

impl From<RecordV1<'_>> for Record {
    fn from(r: RecordV1<'_>) -> Self {
        Record {
            seq: r.seq,
            at: r.at,
            actor: own(r.actor),
            event: r.event.into(),
        }
    }
}

form!(RecordV1, Record);

/// `Event` as version 1 of the history lays it out. A new kind of event is a new
/// variant at the end (old records read the same); never one in between.
#[derive(Serialize, Deserialize)]
pub(crate) enum EventV1<'a> {
    Started {
        process: Cow<'a, str>,
        version: u32,
        starter: Cow<'a, str>,
        data: DataV1<'a>,
        parent: Option<u64>,
    },
    StepEntered {
        step: Cow<'a, str>,
        waiting: bool,
    },
    WaitEnded,
    DueSet {
        #[serde(with = "time::option")]
        due: Option<DateTime<Utc>>,
    },
    DataSet {
        values: DataV1<'a>,
    },
    TaskCreated {
        task: TaskV1<'a>,
    },
    TaskClaimed {
        task: TaskIdV1,
        by: Cow<'a, str>,
    },
    TaskReleased {
        task: TaskIdV1,
    },
    TaskCompleted {
        task: TaskIdV1,
        by: Cow<'a, str>,
        choice: Option<Cow<'a, str>>,
        data: DataV1<'a>,
    },
    TaskReassigned {
        task: TaskIdV1,
        to: CandidatesV1<'a>,
        escalated: bool,
    },
    TaskCancelled {
        task: TaskIdV1,
    },
    Signed {
        by: Cow<'a, str>,
        approve: bool,
    },
    TimerSet {
        timer: TimerV1<'a>,
    },
    TimerCancelled {
        n: u32,
    },
    TimerFired {
        n: u32,
    },
    LimitStarted {
        limit: ActiveLimitV1<'a>,
    },
    LimitBreached {
        name: Cow<'a, str>,
    },
    LimitStopped {
        name: Cow<'a, str>,
    },
    DeadlineExtended {
        limit: Option<Cow<'a, str>>,
        minutes: i64,
        #[serde(with = "time")]
        due: DateTime<Utc>,
    },
    MessageQueued {
        message: MessageV1<'a>,
    },
    ChildStarted {
        process: Cow<'a, str>,
        wait: bool,
    },
    ChildFinished {
        child: u64,
        outcome: Cow<'a, str>,
    },
    Commented {
        text: Cow<'a, str>,
    },
    Completed {
        outcome: Cow<'a, str>,
    },
    Cancelled {
        reason: Cow<'a, str>,
    },
    TaskDue {
        task: TaskIdV1,
        #[serde(with = "time::option")]
        due: Option<DateTime<Utc>>,
    },
    Reasoned {
        task: TaskIdV1,
        reason: Cow<'a, str>,
    },
    IncidentRaised {
        reason: Cow<'a, str>,
        attempted: AttemptV1<'a>,
    },
    IncidentResolved {
        how: ResolutionV1<'a>,
    },
    // Parallel branches. New variants go last: a stored event is its index.
    BranchStarted {
        branch: Cow<'a, str>,
    },
    InBranch {
        branch: Option<Cow<'a, str>>,
    },
    BranchFinished {
        branch: Cow<'a, str>,
    },
    BranchCancelled {
        branch: Cow<'a, str>,
    },
    Joined {
        branches: Cow<'a, [String]>,
    },
}

impl<'a> From<&'a Event> for EventV1<'a> {
    fn from(e: &'a Event) -> Self {
        match e {
            Event::Started {
                process,
                version,
                starter,
                data,
                parent,
            } => EventV1::Started {
                process: b(process),
                version: *version,
                starter: b(starter),
                data: DataV1::Ref(data),
                parent: *parent,
            },
            Event::StepEntered { step, waiting } => EventV1::StepEntered {
                step: b(step),
                waiting: *waiting,
            },
            Event::WaitEnded => EventV1::WaitEnded,
            Event::DueSet { due } => EventV1::DueSet { due: *due },
            Event::DataSet { values } => EventV1::DataSet {
                values: DataV1::Ref(values),
            },
            Event::TaskCreated { task } => EventV1::TaskCreated { task: task.into() },
            Event::TaskClaimed { task, by } => EventV1::TaskClaimed {
                task: (*task).into(),
                by: b(by),
            },
            Event::TaskReleased { task } => EventV1::TaskReleased {
                task: (*task).into(),
            },
            Event::TaskCompleted {
                task,
                by,
                choice,
                data,
            } => EventV1::TaskCompleted {
                task: (*task).into(),
                by: b(by),
                choice: ob(choice),
                data: DataV1::Ref(data),
            },
            Event::TaskReassigned {
                task,
                to,
                escalated,
            } => EventV1::TaskReassigned {
                task: (*task).into(),
                to: to.into(),
                escalated: *escalated,
            },
            Event::TaskCancelled { task } => EventV1::TaskCancelled {
                task: (*task).into(),
            },
            Event::Signed { by, approve } => EventV1::Signed {
                by: b(by),
                approve: *approve,
            },
            Event::TimerSet { timer } => EventV1::TimerSet {
                timer: timer.into(),
            },
            Event::TimerCancelled { n } => EventV1::TimerCancelled { n: *n },
            Event::TimerFired { n } => EventV1::TimerFired { n: *n },
            Event::LimitStarted { limit } => EventV1::LimitStarted {
                limit: limit.into(),
            },
            Event::LimitBreached { name } => EventV1::LimitBreached { name: b(name) },
            Event::LimitStopped { name } => EventV1::LimitStopped { name: b(name) },
            Event::DeadlineExtended {
                limit,
                minutes,
                due,
            } => EventV1::DeadlineExtended {
                limit: ob(limit),
                minutes: *minutes,
                due: *due,
            },
            Event::MessageQueued { message } => EventV1::MessageQueued {
                message: message.into(),
            },
            Event::ChildStarted { process, wait } => EventV1::ChildStarted {
                process: b(process),
                wait: *wait,
            },
            Event::ChildFinished { child, outcome } => EventV1::ChildFinished {
                child: *child,
                outcome: b(outcome),
            },
            Event::Commented { text } => EventV1::Commented { text: b(text) },
            Event::Completed { outcome } => EventV1::Completed {
                outcome: b(outcome),
            },
            Event::Cancelled { reason } => EventV1::Cancelled { reason: b(reason) },
            Event::TaskDue { task, due } => EventV1::TaskDue {
                task: (*task).into(),
                due: *due,
            },
            Event::Reasoned { task, reason } => EventV1::Reasoned {
                task: (*task).into(),
                reason: b(reason),
            },
            Event::IncidentRaised { reason, attempted } => EventV1::IncidentRaised {
                reason: b(reason),
                attempted: attempted.into(),
            },
            Event::IncidentResolved { how } => EventV1::IncidentResolved { how: how.into() },
            Event::BranchStarted { branch } => EventV1::BranchStarted { branch: b(branch) },
            Event::InBranch { branch } => EventV1::InBranch { branch: ob(branch) },
            Event::BranchFinished { branch } => EventV1::BranchFinished { branch: b(branch) },
            Event::BranchCancelled { branch } => EventV1::BranchCancelled { branch: b(branch) },
            Event::Joined { branches } => EventV1::Joined {
                branches: Cow::Borrowed(branches),
            },
        }
    }
}

impl From<EventV1<'_>> for Event {
    fn from(e: EventV1<'_>) -> Self {
        match e {
            EventV1::Started {
                process,
                version,
                starter,
                data,
                parent,
            } => Event::Started {
                process: own(process),
                version,
                starter: own(starter),
                data: data.into(),
                parent,
            },
            EventV1::StepEntered { step, waiting } => Event::StepEntered {
                step: own(step),
                waiting,
            },
            EventV1::WaitEnded => Event::WaitEnded,
            EventV1::DueSet { due } => Event::DueSet { due },
            EventV1::DataSet { values } => Event::DataSet {
                values: values.into(),
            },
            EventV1::TaskCreated { task } => Event::TaskCreated { task: task.into() },
            EventV1::TaskClaimed { task, by } => Event::TaskClaimed {
                task: task.into(),
                by: own(by),
            },
            EventV1::TaskReleased { task } => Event::TaskReleased { task: task.into() },
            EventV1::TaskCompleted {
                task,
                by,
                choice,
                data,
            } => Event::TaskCompleted {
                task: task.into(),
                by: own(by),
                choice: oown(choice),
                data: data.into(),
            },
            EventV1::TaskReassigned {
                task,
                to,
                escalated,
            } => Event::TaskReassigned {
                task: task.into(),
                to: to.into(),
                escalated,
            },
            EventV1::TaskCancelled { task } => Event::TaskCancelled { task: task.into() },
            EventV1::Signed { by, approve } => Event::Signed {
                by: own(by),
                approve,
            },
            EventV1::TimerSet { timer } => Event::TimerSet {
                timer: timer.into(),
            },
            EventV1::TimerCancelled { n } => Event::TimerCancelled { n },
            EventV1::TimerFired { n } => Event::TimerFired { n },
            EventV1::LimitStarted { limit } => Event::LimitStarted {
                limit: limit.into(),
            },
            EventV1::LimitBreached { name } => Event::LimitBreached { name: own(name) },
            EventV1::LimitStopped { name } => Event::LimitStopped { name: own(name) },
            EventV1::DeadlineExtended {
                limit,
                minutes,
                due,
            } => Event::DeadlineExtended {
                limit: oown(limit),
                minutes,
                due,
            },
            EventV1::MessageQueued { message } => Event::MessageQueued {
                message: message.into(),
            },
            EventV1::ChildStarted { process, wait } => Event::ChildStarted {
                process: own(process),
                wait,
            },
            EventV1::ChildFinished { child, outcome } => Event::ChildFinished {
                child,
                outcome: own(outcome),
            },
            EventV1::Commented { text } => Event::Commented { text: own(text) },
            EventV1::Completed { outcome } => Event::Completed {
                outcome: own(outcome),
            },
            EventV1::Cancelled { reason } => Event::Cancelled {
                reason: own(reason),
            },
            EventV1::TaskDue { task, due } => Event::TaskDue {
                task: task.into(),
                due,
            },
            EventV1::Reasoned { task, reason } => Event::Reasoned {
                task: task.into(),
                reason: own(reason),
            },
            EventV1::IncidentRaised { reason, attempted } => Event::IncidentRaised {
                reason: own(reason),
                attempted: attempted.into(),
            },
            EventV1::IncidentResolved { how } => Event::IncidentResolved { how: how.into() },
            EventV1::BranchStarted { branch } => Event::BranchStarted {
                branch: own(branch),
            },
            EventV1::InBranch { branch } => Event::InBranch {
                branch: oown(branch),
            },
            EventV1::BranchFinished { branch } => Event::BranchFinished {
                branch: own(branch),
            },
            EventV1::BranchCancelled { branch } => Event::BranchCancelled {
                branch: own(branch),
            },
            EventV1::Joined { branches } => Event::Joined {
                branches: branches.into_owned(),
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct MessageV1<'a> {
    pub kind: MessageKindV1,
    pub to: Cow<'a, [String]>,
    pub channel: Option<Cow<'a, str>>,
    pub text: Cow<'a, str>,
    pub task: Option<TaskIdV1>,
}

impl<'a> From<&'a Message> for MessageV1<'a> {
    fn from(m: &'a Message) -> Self {
        MessageV1 {
            kind: m.kind.into(),
            to: Cow::Borrowed(&m.to),
            channel: ob(&m.channel),
            text: b(&m.text),
            task: m.task.map(Into::into),
        }
    }
}

impl From<MessageV1<'_>> for Message {
    fn from(m: MessageV1<'_>) -> Self {
        Message {
            kind: m.kind.into(),
            to: m.to.into_owned(),
            channel: oown(m.channel),
            text: own(m.text),
            task: m.task.map(Into::into),
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) enum MessageKindV1 {
    Notify,
    Reminder,
    Overdue,
    Escalation,
    Breach,
    Incident,
}

impl From<MessageKind> for MessageKindV1 {
    fn from(k: MessageKind) -> Self {
        match k {
            MessageKind::Notify => MessageKindV1::Notify,
            MessageKind::Reminder => MessageKindV1::Reminder,
            MessageKind::Overdue => MessageKindV1::Overdue,
            MessageKind::Escalation => MessageKindV1::Escalation,
            MessageKind::Breach => MessageKindV1::Breach,
            MessageKind::Incident => MessageKindV1::Incident,
        }
    }
}

impl From<MessageKindV1> for MessageKind {
    fn from(k: MessageKindV1) -> Self {
        match k {
            MessageKindV1::Notify => MessageKind::Notify,
            MessageKindV1::Reminder => MessageKind::Reminder,
            MessageKindV1::Overdue => MessageKind::Overdue,
            MessageKindV1::Escalation => MessageKind::Escalation,
            MessageKindV1::Breach => MessageKind::Breach,
            MessageKindV1::Incident => MessageKind::Incident,
        }
    }
}

/// What Baton tried when it was refused (`core::Attempt`).
#[derive(Serialize, Deserialize)]
pub(crate) enum AttemptV1<'a> {
    Timer {
        n: u32,
        timer: TimerKindV1<'a>,
    },
    StartChild {
        step: Cow<'a, str>,
        process: Cow<'a, str>,
    },
    ChildEnded {
        child: u64,
        outcome: Cow<'a, str>,
    },
    Route {
        step: Cow<'a, str>,
        choice: Option<Cow<'a, str>>,
    },
}

impl<'a> From<&'a Attempt> for AttemptV1<'a> {
    fn from(a: &'a Attempt) -> Self {
        match a {
            Attempt::Timer { n, timer } => AttemptV1::Timer {
                n: *n,
                timer: timer.into(),
            },
            Attempt::StartChild { step, process } => AttemptV1::StartChild {
                step: b(step),
                process: b(process),
            },
            Attempt::ChildEnded { child, outcome } => AttemptV1::ChildEnded {
                child: *child,
                outcome: b(outcome),
            },
            Attempt::Route { step, choice } => AttemptV1::Route {
                step: b(step),
                choice: ob(choice),
            },
        }
    }
}

impl From<AttemptV1<'_>> for Attempt {
    fn from(a: AttemptV1<'_>) -> Self {
        match a {
            AttemptV1::Timer { n, timer } => Attempt::Timer {
                n,
                timer: timer.into(),
            },
            AttemptV1::StartChild { step, process } => Attempt::StartChild {
                step: own(step),
                process: own(process),
            },
            AttemptV1::ChildEnded { child, outcome } => Attempt::ChildEnded {
                child,
                outcome: own(outcome),
            },
            AttemptV1::Route { step, choice } => Attempt::Route {
                step: own(step),
                choice: oown(choice),
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) enum ResolutionV1<'a> {
    Retry,
    Set { fields: Cow<'a, [String]> },
    Move { step: Cow<'a, str> },
    Cancel,
}

impl<'a> From<&'a Resolution> for ResolutionV1<'a> {
    fn from(r: &'a Resolution) -> Self {
        match r {
            Resolution::Retry => ResolutionV1::Retry,
            Resolution::Set { fields } => ResolutionV1::Set {
                fields: Cow::Borrowed(fields),
            },
            Resolution::Move { step } => ResolutionV1::Move { step: b(step) },
            Resolution::Cancel => ResolutionV1::Cancel,
        }
    }
}

impl From<ResolutionV1<'_>> for Resolution {
    fn from(r: ResolutionV1<'_>) -> Self {
        match r {
            ResolutionV1::Retry => Resolution::Retry,
            ResolutionV1::Set { fields } => Resolution::Set {
                fields: fields.into_owned(),
            },
            ResolutionV1::Move { step } => Resolution::Move { step: own(step) },
            ResolutionV1::Cancel => Resolution::Cancel,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct IncidentV1<'a> {
    pub instance: u64,
    pub process: Cow<'a, str>,
    #[serde(with = "time")]
    pub at: DateTime<Utc>,
    pub reason: Cow<'a, str>,
    pub attempted: AttemptV1<'a>,
}

impl<'a> From<&'a Incident> for IncidentV1<'a> {
    fn from(i: &'a Incident) -> Self {
        IncidentV1 {
            instance: i.instance,
            process: b(&i.process),
            at: i.at,
            reason: b(&i.reason),
            attempted: (&i.attempted).into(),
        }
    }
}

impl From<IncidentV1<'_>> for Incident {
    fn from(i: IncidentV1<'_>) -> Self {
        Incident {
            instance: i.instance,
            process: own(i.process),
            at: i.at,
            reason: own(i.reason),
            attempted: i.attempted.into(),
        }
    }
}

form!(IncidentV1, Incident);

impl Stored for Incident {
    const KIND: RecordKind = RecordKind::Incident;
    const VERSION: u8 = 1;
    type Current = IncidentV1<'static>;
}
