//! The pure core: `apply(definition, instance, command, now)` returns the events a
//! command causes, or a typed rejection; `fold` turns events into the next state.
//! Nothing here reads a clock, touches a disk or spawns anything.

mod apply;
mod assign;
mod branches;
mod each;
mod elements;
mod extend;
mod flow;
pub mod fold;
mod incident;
pub mod may;
pub mod time;
mod timers;
mod validate;

pub use apply::{apply, Applied, Effect, SYSTEM};
pub use branches::{BranchState, BranchStatus, Position};
pub use incident::{Attempt, Incident, Resolution};
pub use validate::{coerce, extension_minutes, parse_time, Expected, FieldError, Problem, Reading};

use baton_dsl::eval::Value;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type Data = BTreeMap<String, Value>;
pub type InstanceId = u64;

/// A task's id: its instance and its number within the instance, written `42-3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TaskId {
    pub instance: InstanceId,
    pub n: u32,
}

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.instance, self.n)
    }
}

impl std::str::FromStr for TaskId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (i, n) = s
            .split_once('-')
            .ok_or_else(|| format!("`{s}` is not a task id (like 42-3)"))?;
        Ok(TaskId {
            instance: i.parse().map_err(|_| format!("`{s}` is not a task id"))?,
            n: n.parse().map_err(|_| format!("`{s}` is not a task id"))?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Open,
    Claimed,
    Completed,
    Cancelled,
}

impl TaskState {
    pub fn is_active(self) -> bool {
        matches!(self, TaskState::Open | TaskState::Claimed)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Open => "open",
            TaskState::Claimed => "claimed",
            TaskState::Completed => "completed",
            TaskState::Cancelled => "cancelled",
        }
    }
}

/// Who may take a task: named people and members of roles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidates {
    pub people: Vec<String>,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskKind {
    Work,
    /// One signature of a sign-off step.
    Sign,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub process: String,
    pub step: String,
    pub title: String,
    pub kind: TaskKind,
    pub candidates: Candidates,
    pub assignee: Option<String>,
    pub state: TaskState,
    #[serde(with = "time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "time::option")]
    pub due: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
    pub choice: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimerKind {
    /// A step's `wait` is over.
    Wait {
        step: String,
    },
    /// A step's tasks are due.
    Due {
        step: String,
    },
    Remind {
        step: String,
    },
    RemindEvery {
        step: String,
        every_minutes: i64,
    },
    LimitBreach {
        limit: String,
    },
    LimitRemind {
        limit: String,
    },
    LimitRemindEvery {
        limit: String,
        every_minutes: i64,
    },
    /// A step's `remind` line that names whom it goes to or says its own message:
    /// which line (its place among the step's reminders) and, for a repeating one,
    /// its interval.
    StepReminder {
        step: String,
        index: u32,
        every_minutes: Option<i64>,
    },
    /// The same for a limit's `remind` line.
    LimitReminder {
        limit: String,
        index: u32,
        every_minutes: Option<i64>,
    },
    /// The due time (`reminder` none) or a `remind` line (its place among the step's
    /// reminders) of one element's task in a `for each` step: task number `task`,
    /// for element `element` of the list.
    ElementTimer {
        step: String,
        task: u32,
        element: u32,
        reminder: Option<u32>,
        every_minutes: Option<i64>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    /// Unique within the instance.
    pub n: u32,
    #[serde(with = "time")]
    pub due: DateTime<Utc>,
    pub kind: TimerKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveLimit {
    pub name: String,
    #[serde(with = "time")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "time")]
    pub deadline: DateTime<Utc>,
    pub extended_minutes: i64,
    pub breached: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    Completed,
    Cancelled,
    /// It cannot go on by itself: something Baton tried on its own (a timer, a child
    /// start, the route after a task) was refused. Its timers wait and staff commands
    /// are refused until an admin resolves it (see `incident`).
    Incident,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
            Status::Incident => "incident",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    pub by: String,
    pub approve: bool,
}

/// An instance's whole state: what `fold` builds from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub id: InstanceId,
    pub process: String,
    pub version: u32,
    pub status: Status,
    pub outcome: Option<String>,
    pub starter: String,
    #[serde(with = "time")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "time")]
    pub updated_at: DateTime<Utc>,
    pub data: Data,
    pub parent: Option<InstanceId>,
    pub step: Option<String>,
    #[serde(with = "time::option")]
    pub step_started_at: Option<DateTime<Utc>>,
    /// Set while a step's `wait` runs; its body has not started yet.
    pub waiting: bool,
    #[serde(with = "time::option")]
    pub due: Option<DateTime<Utc>>,
    pub due_extended_minutes: i64,
    /// Waiting for a child instance (`start X and wait`) to end.
    pub awaiting_child: bool,
    pub children: Vec<InstanceId>,
    pub tasks: Vec<Task>,
    pub signatures: Vec<Signature>,
    pub timers: Vec<Timer>,
    pub limits: Vec<ActiveLimit>,
    /// Number of events so far; the next event's sequence number.
    pub seq: u64,
    pub next_task: u32,
    pub next_timer: u32,
    /// The branches of the parallel step the instance is at (see `branches`).
    #[serde(default)]
    pub branches: Vec<BranchState>,
    /// The end the last waited-for child reached, kept until the parent goes on by
    /// it: a child that ends while its parent has an incident is routed by it once
    /// the incident is resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_outcome: Option<String>,
    /// The children the current step started and waits for that have not ended yet:
    /// one for `start X and wait`, one per element with `for each`. The step goes on
    /// when the last one ends.
    #[serde(default)]
    pub children_awaited: u32,
}

impl Instance {
    pub fn task(&self, id: TaskId) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }
    pub fn active_tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| t.state.is_active())
    }
}

/// A message for the outbox, written in the same transaction as its cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub kind: MessageKind,
    /// People (directory ids) or, with a channel, addresses.
    pub to: Vec<String>,
    pub channel: Option<String>,
    pub text: String,
    pub task: Option<TaskId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    Notify,
    Reminder,
    Overdue,
    Escalation,
    Breach,
    /// An instance became an incident: to the admins and the process's owner.
    Incident,
}

/// What happened, in the past tense. The audit history is the list of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    Started {
        process: String,
        version: u32,
        starter: String,
        data: Data,
        parent: Option<InstanceId>,
    },
    StepEntered {
        step: String,
        waiting: bool,
    },
    WaitEnded,
    DueSet {
        #[serde(with = "time::option")]
        due: Option<DateTime<Utc>>,
    },
    DataSet {
        values: Data,
    },
    TaskCreated {
        task: Task,
    },
    TaskClaimed {
        task: TaskId,
        by: String,
    },
    TaskReleased {
        task: TaskId,
    },
    TaskCompleted {
        task: TaskId,
        by: String,
        choice: Option<String>,
        data: Data,
    },
    TaskReassigned {
        task: TaskId,
        to: Candidates,
        escalated: bool,
    },
    TaskCancelled {
        task: TaskId,
    },
    Signed {
        by: String,
        approve: bool,
    },
    TimerSet {
        timer: Timer,
    },
    TimerCancelled {
        n: u32,
    },
    TimerFired {
        n: u32,
    },
    LimitStarted {
        limit: ActiveLimit,
    },
    LimitBreached {
        name: String,
    },
    LimitStopped {
        name: String,
    },
    DeadlineExtended {
        limit: Option<String>,
        minutes: i64,
        #[serde(with = "time")]
        due: DateTime<Utc>,
    },
    MessageQueued {
        message: Message,
    },
    ChildStarted {
        process: String,
        wait: bool,
    },
    ChildFinished {
        child: InstanceId,
        outcome: String,
    },
    Commented {
        text: String,
    },
    Completed {
        outcome: String,
    },
    Cancelled {
        reason: String,
    },
    /// A task's due time became the earlier of its step's due time and the
    /// deadline of a limit running over it (after either was extended).
    TaskDue {
        task: TaskId,
        #[serde(with = "time::option")]
        due: Option<DateTime<Utc>>,
    },
    /// Why a task was completed as it was: a refused sign-off, a choice.
    Reasoned {
        task: TaskId,
        reason: String,
    },
    /// Something Baton tried on its own was refused: the instance waits for an admin.
    IncidentRaised {
        reason: String,
        attempted: Attempt,
    },
    /// An admin resolved the incident.
    IncidentResolved {
        how: Resolution,
    },
    /// A parallel step started one of its branches.
    BranchStarted {
        branch: String,
    },
    /// What follows happens in this branch (`None`: on the main line again).
    InBranch {
        branch: Option<String>,
    },
    /// The branch reached `join` (or an end it may go to).
    BranchFinished {
        branch: String,
    },
    /// The branch was withdrawn, its tasks and timers with it.
    BranchCancelled {
        branch: String,
    },
    /// Enough branches finished: the parallel step goes on.
    Joined {
        branches: Vec<String>,
    },
}

/// An event as stored in the history: who caused it, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    #[serde(with = "time")]
    pub at: DateTime<Utc>,
    pub actor: String,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    Start {
        process: String,
        data: serde_json::Map<String, serde_json::Value>,
    },
    /// Internal: a parent's `start X` step starts this child with checked values.
    StartChild {
        process: String,
        data: Data,
        parent: InstanceId,
        starter: String,
    },
    Claim {
        task: TaskId,
    },
    Release {
        task: TaskId,
    },
    Complete {
        task: TaskId,
        choice: Option<String>,
        data: serde_json::Map<String, serde_json::Value>,
    },
    /// Hand a task to someone else: its assignee may delegate, a supervisor or an
    /// admin may reassign.
    Reassign {
        task: TaskId,
        to: String,
    },
    Comment {
        text: String,
    },
    Cancel {
        reason: String,
    },
    /// Fire timer `n`, due at `due` (the timer's key; removed even if the
    /// instance has moved on and the timer no longer means anything).
    FireTimer {
        n: u32,
        #[serde(with = "time")]
        due: DateTime<Utc>,
    },
    /// Change data fields: only while the instance runs, only fields the current
    /// task fills (by its assignee) or any field (by an admin).
    UpdateData {
        data: serde_json::Map<String, serde_json::Value>,
    },
    /// Extend the current step's due time, or a limit, where the definition allows.
    Extend {
        limit: Option<String>,
        minutes: i64,
        data: serde_json::Map<String, serde_json::Value>,
    },
    /// Internal: a child this instance waits for has ended.
    ChildEnded {
        child: InstanceId,
        outcome: String,
        /// The child's `outputs` that have a value, by the child's names.
        #[serde(default)]
        outputs: Data,
    },
    /// As `Complete`, with the reason for the choice or the refusal, which the
    /// history keeps and a refusal's notification carries.
    CompleteWithReason {
        task: TaskId,
        choice: Option<String>,
        data: serde_json::Map<String, serde_json::Value>,
        reason: String,
    },
    /// Internal: what Baton tried on its own for this instance was refused (a child
    /// it started, a timer the core could not turn into an incident itself).
    RaiseIncident {
        reason: String,
        attempted: Attempt,
    },
    /// An admin resolves an incident by trying again what failed, after setting
    /// `data` (corrected values; none for a plain retry). The store fills
    /// `attempted` from the open incident; callers leave it `None`.
    Retry {
        data: serde_json::Map<String, serde_json::Value>,
        attempted: Option<Attempt>,
    },
    /// An admin resolves an incident by moving the instance to a step or end of its
    /// definition.
    Move {
        step: String,
    },
}

/// Why a command was refused. A refused command changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("{0}")]
    NotFound(String),
    /// The state moved on: the task is already completed or claimed by someone else.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// Data that breaks the schema, one entry per bad field.
    #[error("invalid data: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// A `require` or `check` condition failed: its message, and the data fields the
    /// condition reads, for a form to point at.
    #[error("{message}")]
    Requirement {
        message: String,
        fields: Vec<String>,
    },
    /// The definition cannot go on (for example nobody can be assigned).
    #[error("{0}")]
    Stuck(String),
    /// An idempotency key sent again with a different request.
    #[error("{0}")]
    KeyReused(String),
}

/// What the core needs besides the definition: the staff directory, the time zone.
pub struct Ctx<'a> {
    pub directory: &'a crate::staff::Directory,
    pub zone: chrono_tz::Tz,
    /// People with the admin role may cancel, reassign and update any instance.
    pub admin_role: &'a str,
    /// Working time (`4 working hours`) is counted against this calendar.
    pub calendar: &'a crate::calendar::Calendar,
    /// Process -> the role that owns it (`owners` in `baton.ron`): told, with the
    /// admins, when one of its instances becomes an incident.
    pub owners: &'a BTreeMap<String, String>,
    /// Would this child start (process, values, parent, starter, now)? Asked before
    /// a `start X` step goes on, so that a child its definition refuses stops the
    /// parent where it is (an incident when Baton was acting on its own) rather than
    /// leaving it gone on without its child. `None`: not checked (the pure core's
    /// tests, which have no other definitions).
    pub child_check: Option<&'a ChildCheck<'a>>,
    /// The language of the engine's own messages.
    pub language: crate::messages::Language,
}

/// See `Ctx::child_check`.
pub type ChildCheck<'a> =
    dyn Fn(&str, &Data, InstanceId, &str, DateTime<Utc>) -> Result<(), Rejection> + 'a;
