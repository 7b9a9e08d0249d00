//! OpenAPI schemas of the engine's records as the API sends them. The engine's types
//! are the wire format (the CLI reads them back into the same types, so its output
//! over HTTP is the same as on a database), and the engine knows nothing of HTTP, so
//! the schemas are written here. A test serializes real records and checks that
//! their members are exactly the ones documented, so the two cannot drift apart.

#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A value of an instance's data, tagged with its type: answers always have this
/// shape (`{"Choice": "app"}`), and input data takes it too, so a value read can be
/// sent back as it is. Input also takes each type's plain shape: a string for text,
/// a JSON number for integers and decimals (not `"5"`), `true`/`false`, and strings
/// for dates (`2026-12-31`), times, durations (`2h`), choices, person and
/// department ids. A time is RFC 3339 with an offset, or a local time read in the
/// company's zone: `2026-12-05 18:00`, or `18:00` for today. A value of another
/// shape is refused with 422, one entry per field.
#[derive(ToSchema)]
#[schema(as = Value, example = json!({"Text": "張三"}))]
pub enum ValueDoc {
    Text(String),
    Int(i64),
    Dec(f64),
    Bool(bool),
    Date(NaiveDate),
    /// RFC 3339 with the offset of the company's zone.
    DateTime(DateTime<Utc>),
    /// Its parts, such as months, minutes, working minutes and working days.
    Duration(BTreeMap<String, i64>),
    /// The name of one of the field's choices.
    Choice(String),
    /// A person id of the staff directory.
    Person(String),
    /// A department id of the staff directory.
    Department(String),
    /// A list's elements, in order: each its fields' names -> values of this same
    /// shape (an optional field left empty is left out). As input, a JSON array of
    /// objects, each field's value in its plain or tagged shape; a bad one is named
    /// by its place, counted from 0: `action_items[2].owner`.
    List(Vec<BTreeMap<String, serde_json::Value>>),
}

/// A task's id: its instance and its number in the instance. In paths it is written
/// `INSTANCE-N`, e.g. `42-3`.
#[derive(ToSchema)]
#[schema(as = TaskId)]
pub struct TaskIdDoc {
    pub instance: u64,
    pub n: u32,
}

/// Who may take a task: named people and members of roles.
#[derive(ToSchema)]
#[schema(as = Candidates)]
pub struct CandidatesDoc {
    pub people: Vec<String>,
    pub roles: Vec<String>,
}

#[derive(ToSchema)]
#[schema(as = TaskState)]
#[allow(non_camel_case_types)]
pub enum TaskStateDoc {
    open,
    claimed,
    completed,
    cancelled,
}

#[derive(ToSchema)]
#[schema(as = TaskKind)]
pub enum TaskKindDoc {
    Work,
    /// One signature of a sign-off step.
    Sign,
}

#[derive(ToSchema)]
#[schema(as = Task)]
pub struct TaskDoc {
    pub id: TaskIdDoc,
    pub process: String,
    pub step: String,
    pub title: String,
    pub kind: TaskKindDoc,
    pub candidates: CandidatesDoc,
    /// Who claimed it.
    pub assignee: Option<String>,
    pub state: TaskStateDoc,
    pub created_at: DateTime<Utc>,
    pub due: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
    pub choice: Option<String>,
}

#[derive(ToSchema)]
#[schema(as = Status)]
#[allow(non_camel_case_types)]
pub enum StatusDoc {
    running,
    completed,
    cancelled,
    /// It cannot go on by itself and waits for an admin (see `GET /incidents`).
    incident,
}

#[derive(ToSchema)]
#[schema(as = Signature)]
pub struct SignatureDoc {
    pub by: String,
    pub approve: bool,
}

/// A pending timer: `kind` has one member, the kind of timer (`Wait`, `Due`,
/// `Remind`, `RemindEvery`, `LimitBreach`, `LimitRemind`, `LimitRemindEvery`), holding
/// its step or limit.
#[derive(ToSchema)]
#[schema(as = Timer)]
pub struct TimerDoc {
    pub n: u32,
    pub due: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub kind: serde_json::Value,
}

#[derive(ToSchema)]
#[schema(as = ActiveLimit)]
pub struct ActiveLimitDoc {
    pub name: String,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub extended_minutes: i64,
    pub breached: bool,
}

/// Where a branch of a parallel step is: its step and the state kept while it runs.
#[derive(ToSchema)]
#[schema(as = Position)]
pub struct PositionDoc {
    /// Its current step (null once it finished or was cancelled).
    pub step: Option<String>,
    pub step_started_at: Option<DateTime<Utc>>,
    pub waiting: bool,
    pub due: Option<DateTime<Utc>>,
    pub due_extended_minutes: i64,
    pub awaiting_child: bool,
    pub signatures: Vec<SignatureDoc>,
}

#[derive(ToSchema)]
#[schema(as = BranchStatus)]
#[allow(non_camel_case_types)]
pub enum BranchStatusDoc {
    running,
    /// It reached `join` (or an end it may go to).
    finished,
    /// Withdrawn: its tasks were cancelled.
    cancelled,
}

/// A branch of the parallel step the instance is at.
#[derive(ToSchema)]
#[schema(as = Branch)]
pub struct BranchDoc {
    pub name: String,
    pub status: BranchStatusDoc,
    pub position: PositionDoc,
    /// Always false in what the server sends (it is true only within a command).
    pub focused: bool,
}

/// An instance's whole state.
#[derive(ToSchema)]
#[schema(as = Instance)]
pub struct InstanceDoc {
    pub id: u64,
    pub process: String,
    /// The version of the definition it runs on.
    pub version: u32,
    pub status: StatusDoc,
    /// The end it reached.
    pub outcome: Option<String>,
    pub starter: String,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub data: BTreeMap<String, ValueDoc>,
    pub parent: Option<u64>,
    /// The current step.
    pub step: Option<String>,
    pub step_started_at: Option<DateTime<Utc>>,
    pub waiting: bool,
    pub due: Option<DateTime<Utc>>,
    pub due_extended_minutes: i64,
    pub awaiting_child: bool,
    pub children: Vec<u64>,
    /// The current step's tasks.
    pub tasks: Vec<TaskDoc>,
    pub signatures: Vec<SignatureDoc>,
    pub timers: Vec<TimerDoc>,
    pub limits: Vec<ActiveLimitDoc>,
    /// Number of events so far.
    pub seq: u64,
    pub next_task: u32,
    pub next_timer: u32,
    /// At a parallel step: where each of its branches is (empty otherwise).
    pub branches: Vec<BranchDoc>,
    /// The children the current step started and still waits for: one for `start
    /// X and wait`, one per element with `for each`.
    pub children_awaited: u32,
}

/// An instance as `GET /instances/{id}` shows it: its state, every sign-off of its
/// history (`signatures` holds only those of the step it is at), and what its step
/// waits for.
#[derive(ToSchema)]
#[schema(as = ShownInstance)]
pub struct ShownInstanceDoc {
    #[serde(flatten)]
    pub instance: InstanceDoc,
    /// Every sign-off so far, oldest first, the one under way included.
    pub signoffs: Vec<SignOffDoc>,
    /// What the current step waits for before it does anything: `{"kind": "time",
    /// "until": ...}` (`wait`, `wait until`) or `{"kind": "child", "process": ...}`
    /// (`start ... and wait`); null when it waits for neither.
    #[schema(value_type = Option<Object>)]
    pub waiting_for: Option<serde_json::Value>,
    /// While the status is `incident`: since when, why, and what was attempted.
    pub incident: Option<IncidentDoc>,
}

/// An open incident: what Baton tried on its own for the instance and why it was
/// refused. `attempted` has one member, the kind of attempt (`timer` with the
/// timer's `n` and kind, `start_child` with its `step` and `process`,
/// `child_ended`, `route` with the `step` it went on from).
#[derive(ToSchema)]
#[schema(as = Incident)]
pub struct IncidentDoc {
    pub instance: u64,
    pub process: String,
    /// When it was raised.
    pub at: DateTime<Utc>,
    pub reason: String,
    #[schema(value_type = Object)]
    pub attempted: serde_json::Value,
}

/// The signatures given at one visit of a sign-off step.
#[derive(ToSchema)]
#[schema(as = SignOff)]
pub struct SignOffDoc {
    pub step: String,
    pub signatures: Vec<SignedDoc>,
}

/// A signature with its time.
#[derive(ToSchema)]
#[schema(as = Signed)]
pub struct SignedDoc {
    pub by: String,
    pub approve: bool,
    pub at: DateTime<Utc>,
    /// Why, when the signer gave a reason (left out otherwise).
    pub reason: Option<String>,
}

/// An event of the history: `event` has one member, the kind of event (`Started`,
/// `StepEntered`, `TaskCreated`, `TaskClaimed`, `TaskCompleted`, `Commented`,
/// `Cancelled`, ...), holding its details; `WaitEnded` is the bare string.
#[derive(ToSchema)]
#[schema(as = Record)]
pub struct RecordDoc {
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// Who caused it (`baton` for the engine's own timers).
    pub actor: String,
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

/// The answer to a command: the instance after it, and what it appended to the
/// history.
#[derive(ToSchema)]
#[schema(as = Outcome)]
pub struct OutcomeDoc {
    pub instance: InstanceDoc,
    pub records: Vec<RecordDoc>,
    /// Child instances the command started.
    pub children: Vec<u64>,
    /// True when this is the stored answer to an earlier request with the same
    /// `Idempotency-Key`: nothing was changed this time.
    pub replayed: bool,
}

/// The staff directory's names, the company's zone and the language of Baton's
/// messages (`GET /directory`).
#[derive(ToSchema)]
#[schema(as = Names)]
pub struct NamesDoc {
    /// The company's zone (IANA name, like `Asia/Taipei`): deadlines are reckoned in
    /// it, and JSON times carry its offset.
    pub zone: String,
    /// `zh-Hant` (traditional Chinese) or `en`.
    pub language: String,
    /// Person id -> name.
    pub people: BTreeMap<String, String>,
    /// Department id -> name.
    pub departments: BTreeMap<String, String>,
    /// Role id -> title, for the roles the directory gives one.
    pub roles: BTreeMap<String, String>,
}

/// A definition's titles and labels (`GET /definitions/{name}/labels`): what people
/// read instead of the names inside a definition.
#[derive(ToSchema)]
#[schema(as = Labels)]
pub struct LabelsDoc {
    /// The process's title (its name when it has none).
    pub title: String,
    /// Field name -> its label, type and choices.
    pub fields: BTreeMap<String, FieldLabelDoc>,
    /// The fields given when an instance starts, in the order they are written; the
    /// first with a value names an instance in Baton's messages.
    pub start_fields: Vec<String>,
    /// Step name -> its title and the labels of its choices.
    pub steps: BTreeMap<String, StepLabelDoc>,
    /// End name -> title.
    pub ends: BTreeMap<String, String>,
    /// Time limit name -> the titles of the steps it spans (`接受投訴→回訪`).
    pub limits: BTreeMap<String, String>,
    /// Parallel branch name -> title.
    pub branches: BTreeMap<String, String>,
}

#[derive(ToSchema)]
#[schema(as = FieldLabel)]
pub struct FieldLabelDoc {
    /// The field's label (its name when it has none).
    pub label: String,
    /// `text`, `integer`, `decimal`, `bool`, `date`, `datetime`, `duration`,
    /// `person`, `department`, `choice` or `list`.
    pub kind: String,
    /// For a choice: each choice's name -> label (left out otherwise).
    pub choices: Option<BTreeMap<String, String>>,
    /// For a list: each element field's name -> its kind (left out otherwise).
    pub elements: Option<BTreeMap<String, String>>,
    /// For a list: each element field in declared order, with its label and its
    /// choices' labels (left out otherwise).
    pub element_fields: Option<Vec<ElementLabelDoc>>,
}

/// One field of a list's elements, as people read it.
#[derive(ToSchema)]
#[schema(as = ElementLabel)]
pub struct ElementLabelDoc {
    pub name: String,
    /// Its label (its name when it has none).
    pub label: String,
    /// For a choice: each choice's name -> label (left out otherwise).
    pub choices: Option<BTreeMap<String, String>>,
}

#[derive(ToSchema)]
#[schema(as = StepLabel)]
pub struct StepLabelDoc {
    /// The step's title (its name when it has none).
    pub title: String,
    /// For a step completed with a choice: each choice's name -> label (left out
    /// otherwise).
    pub choices: Option<BTreeMap<String, String>>,
}

/// The states `GET /instances?state=` takes (the query keeps it as text, so that a
/// bad one is named in a 400; this is what the document says).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum InstanceState {
    Running,
    Completed,
    Cancelled,
    Incident,
}

/// The states `GET /tasks?state=` takes.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum TaskStateParam {
    Open,
    Claimed,
    Completed,
    Cancelled,
}
