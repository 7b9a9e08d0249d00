//! The checked, typed model of a definition: what the engine runs. It holds no spans,
//! so two sources that differ only in layout give equal models (`baton fmt` relies on
//! this), and it is serde-friendly so the engine can store it beside the source.

use serde::{Deserialize, Serialize};

pub use crate::branches::{Branch, Join, Parallel, JOIN};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Roles that may start an instance by hand; empty means anyone in the directory.
    pub started_by: Vec<String>,
    pub schedules: Vec<Schedule>,
    pub requires: Vec<Require>,
    pub fields: Vec<Field>,
    pub limits: Vec<Limit>,
    /// In source order; the first step is where an instance begins.
    pub steps: Vec<Step>,
    pub ends: Vec<End>,
    /// What an instance gives back to a parent that waits for it.
    #[serde(default)]
    pub outputs: Vec<Output>,
    /// `counted by FIELD`: choice fields whose values the store counts the instances
    /// by (per hour of their start), for the managers' overview.
    #[serde(default)]
    pub counted_by: Vec<String>,
}

impl Definition {
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }
    pub fn end(&self, name: &str) -> Option<&End> {
        self.ends.iter().find(|e| e.name == name)
    }
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    /// Position of a step in source order, used to decide whether a step lies inside
    /// a limit's span.
    pub fn step_index(&self, name: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.name == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatchUp {
    /// After downtime, run a missed start once (the default).
    Once,
    /// Run every missed occurrence, oldest first.
    All,
    /// Drop missed occurrences; wait for the next one.
    Skip,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// As written, for people: "every day at 17:30".
    pub phrase: String,
    /// Seven-field cron expression (sec min hour dom month dow year) for the `cron` crate.
    pub cron: String,
    /// IANA zone; `None` means the company zone from configuration.
    pub zone: Option<String>,
    /// Start one instance per person with this role (`subject` holds the person).
    pub for_each_role: Option<String>,
    pub catch_up: CatchUp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Require {
    pub cond: Expr,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub name: String,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Type {
    Text,
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Decimal {
        min: Option<f64>,
        max: Option<f64>,
    },
    Bool,
    Date,
    DateTime,
    Duration,
    Person,
    Department,
    Choice(Vec<Variant>),
    /// A list of records of at least `min` and at most `max` elements.
    List(ListType),
}

/// The type of a list field: its length's bounds and each element's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListType {
    pub min: u64,
    pub max: Option<u64>,
    pub fields: Vec<ElemField>,
}

impl ListType {
    pub fn field(&self, name: &str) -> Option<&ElemField> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A field of a list's element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElemField {
    pub name: String,
    pub ty: Type,
    pub optional: bool,
    pub label: Option<String>,
}

/// `for each VAR in LIST`: a step's task once per element of a list field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForEach {
    pub var: String,
    pub list: String,
}

impl Type {
    pub fn describe(&self) -> String {
        match self {
            Type::Text => "text".into(),
            Type::Integer { .. } => "integer".into(),
            Type::Decimal { .. } => "decimal".into(),
            Type::Bool => "bool".into(),
            Type::Date => "date".into(),
            Type::DateTime => "datetime".into(),
            Type::Duration => "duration".into(),
            Type::Person => "person".into(),
            Type::Department => "department".into(),
            Type::Choice(vs) => format!(
                "one of {}",
                vs.iter()
                    .map(|v| v.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Type::List(l) => format!(
                "list of {{ {} }}",
                l.fields
                    .iter()
                    .map(|f| format!("{} {}", f.name, f.ty.describe()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    /// Optional fields may be absent; required ones must be given at start (data
    /// fields) or when the task that fills them completes (fill fields).
    pub optional: bool,
    pub default: Option<Expr>,
    pub label: Option<String>,
    /// Where the field gets its value: given at start, filled at a step, or computed.
    pub source: FieldSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldSource {
    Start,
    /// Declared in a step's `fill`; absent until that step completes.
    Filled(String),
    /// Written by `set` or a rule's `with`.
    Computed,
    /// Declared in `data` (for its label, its type, or to give it back as an
    /// output), optional without a default, and written by the process itself
    /// (`set`, a rule's `with`, `receive`): never asked for at start.
    Written,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Duration {
    pub months: i64,
    pub minutes: i64,
    /// Counted against the business calendar (working hours only).
    pub working_minutes: i64,
    pub working_days: i64,
}

impl Duration {
    pub fn minutes(m: i64) -> Self {
        Duration {
            minutes: m,
            ..Default::default()
        }
    }
    pub fn is_positive(&self) -> bool {
        self.months >= 0
            && self.minutes >= 0
            && self.working_minutes >= 0
            && self.working_days >= 0
            && (self.months + self.minutes + self.working_minutes + self.working_days) > 0
    }
    /// A rough length for comparing durations of different kinds (a month as 30
    /// days, a working day as 8 hours). Only the checker uses it, for sanity checks.
    pub fn approx_minutes(&self) -> i64 {
        self.months * 30 * 24 * 60
            + self.minutes
            + self.working_minutes
            + self.working_days * 8 * 60
    }
    pub fn negate(self) -> Self {
        Duration {
            months: -self.months,
            minutes: -self.minutes,
            working_minutes: -self.working_minutes,
            working_days: -self.working_days,
        }
    }
    pub fn plus(self, o: Duration) -> Self {
        Duration {
            months: self.months + o.months,
            minutes: self.minutes + o.minutes,
            working_minutes: self.working_minutes + o.working_minutes,
            working_days: self.working_days + o.working_days,
        }
    }
    pub fn is_working(&self) -> bool {
        self.working_minutes != 0 || self.working_days != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

/// A checked expression: every name is resolved to a field or a choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    Int(i64),
    Dec(f64),
    Text(String),
    Bool(bool),
    Date(chrono::NaiveDate),
    Duration(Duration),
    Choice(String),
    Today,
    Now,
    Field(String),
    Call(Func, Vec<Expr>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    InRange {
        value: Box<Expr>,
        lo: Box<Expr>,
        hi: Box<Expr>,
        inclusive_hi: bool,
    },
    InSet(Box<Expr>, Vec<Expr>),
    /// A date at a time of day (hour, minute) in the company's zone.
    At(Box<Expr>, u32, u32),
    // Appended after the others: stored definitions hold these by position.
    /// The person who started the instance.
    Starter,
    /// The supervisor of a person, from the staff directory.
    SupervisorOf(Box<Expr>),
    /// The instance's number.
    Id,
    /// The department a person belongs to.
    DepartmentOf(Box<Expr>),
    /// The head of a department (`head of department of X` is the head of the
    /// department of X).
    HeadOf(Box<Expr>),
    /// Whether a person has a role.
    HasRole(Box<Expr>, String),
    /// A department of the directory, by its id.
    Department(String),
    /// A person of the directory, by their id.
    Person(String),
    /// A field of an element named by `any`/`all` or the step's `for each`. (Boxed,
    /// as the next: an `Expr` is held on the stack at every level of evaluation.)
    Member(Box<Member>),
    Quantified(Box<Quantified>),
}

/// `var.field`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub var: String,
    pub field: String,
}

/// Whether `cond` holds for some (`all` false) or every element of `list`, each
/// named `var` in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantified {
    pub all: bool,
    pub var: String,
    pub list: Expr,
    pub cond: Expr,
}

impl Expr {
    /// Call `f` on each direct sub-expression. Passes that look for something
    /// anywhere in an expression go through this, so that a new kind of expression
    /// is visited by all of them.
    pub fn each_child<'e>(&'e self, f: &mut dyn FnMut(&'e Expr)) {
        match self {
            Expr::Int(_)
            | Expr::Dec(_)
            | Expr::Text(_)
            | Expr::Bool(_)
            | Expr::Date(_)
            | Expr::Duration(_)
            | Expr::Choice(_)
            | Expr::Today
            | Expr::Now
            | Expr::Field(_)
            | Expr::Starter
            | Expr::Id
            | Expr::Department(_)
            | Expr::Person(_)
            | Expr::Member(_) => {}
            Expr::Call(_, xs) => xs.iter().for_each(f),
            Expr::Neg(x)
            | Expr::Not(x)
            | Expr::At(x, _, _)
            | Expr::SupervisorOf(x)
            | Expr::DepartmentOf(x)
            | Expr::HeadOf(x)
            | Expr::HasRole(x, _) => f(x),
            Expr::Bin(_, a, b) => {
                f(a);
                f(b);
            }
            Expr::InRange { value, lo, hi, .. } => {
                f(value);
                f(lo);
                f(hi);
            }
            Expr::InSet(v, xs) => {
                f(v);
                xs.iter().for_each(f);
            }
            Expr::Quantified(q) => {
                f(&q.list);
                f(&q.cond);
            }
        }
    }

    /// Whether `pred` holds for this expression or any part of it.
    pub fn any(&self, pred: &dyn Fn(&Expr) -> bool) -> bool {
        if pred(self) {
            return true;
        }
        let mut found = false;
        self.each_child(&mut |x| found = found || x.any(pred));
        found
    }

    /// The fields this expression reads, in the order met, with repeats.
    pub fn fields<'e>(&'e self, out: &mut Vec<&'e str>) {
        if let Expr::Field(f) = self {
            out.push(f);
        }
        self.each_child(&mut |x| x.fields(out));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Func {
    Day,
    Month,
    Year,
    Weekday,
    Round,
    Min,
    Max,
    Date,
    /// The number of elements of a list.
    Count,
}

impl Func {
    pub fn from_name(s: &str) -> Option<Func> {
        Some(match s {
            "day" => Func::Day,
            "month" => Func::Month,
            "year" => Func::Year,
            "weekday" => Func::Weekday,
            "round" => Func::Round,
            "min" => Func::Min,
            "max" => Func::Max,
            "date" => Func::Date,
            "count" => Func::Count,
            _ => return None,
        })
    }
    pub const NAMES: &'static [&'static str] = &[
        "day", "month", "year", "weekday", "round", "min", "max", "date", "count",
    ];
}

/// Who a task is for, or whom a message goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Who {
    Role(String),
    Person(String),
    Starter,
    /// A person-typed field.
    Field(String),
    SupervisorOf(Box<Who>),
    /// The head of the department the person belongs to.
    DeptHeadOf(Box<Who>),
    /// The head of the department held in a department-typed field.
    HeadOfField(String),
    /// The head of a named department of the directory.
    HeadOfDept(String),
    /// One task per person with the role.
    EachWithRole(String),
    /// A text field holding an address (phone, e-mail), only for `notify ... via`.
    Address(String),
    /// Whoever the first names, less the people the others name (`except`).
    Except(Box<Who>, Vec<Who>),
    /// A person field of the element a `for each` step's task is for.
    Member(Box<Member>),
    /// The head of a department field of a `for each` step's element.
    HeadOfMember(Box<Member>),
}

impl Who {
    /// The who before any `except`.
    pub fn base(&self) -> &Who {
        match self {
            Who::Except(w, _) => w.base(),
            w => w,
        }
    }
    /// The people an `except` leaves out (none without one).
    pub fn excepted(&self) -> &[Who] {
        match self {
            Who::Except(_, xs) => xs,
            _ => &[],
        }
    }
    /// A role, or the head of a department: whom a request's starter may be among
    /// without being named (see `Step::allow_self`).
    pub fn is_role_or_head(&self) -> bool {
        matches!(
            self.base(),
            Who::Role(_)
                | Who::EachWithRole(_)
                | Who::DeptHeadOf(_)
                | Who::HeadOfField(_)
                | Who::HeadOfDept(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notify {
    pub to: Who,
    pub via: Option<String>,
    /// May hold `{field}` placeholders, filled in when the message is written.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Wait {
    For(Expr),
    Until(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignMode {
    All,
    Any,
    Count(u32),
    InOrder,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// `None` is `otherwise`.
    pub cond: Option<Expr>,
    pub target: String,
    pub sets: Vec<(String, Expr)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Action {
    /// The step finishes by itself once its wait, sets and notifications are done.
    Auto,
    Task(Who),
    Sign {
        mode: SignMode,
        signers: Vec<Who>,
        on_refuse: Option<String>,
        allow_self: bool,
    },
    Decide(Vec<Rule>),
    Start {
        process: String,
        with: Vec<(String, Expr)>,
        wait: bool,
    },
    /// Branches run side by side; the step goes on by its route once they join.
    Parallel(Parallel),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub name: String,
    pub label: Option<String>,
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Route {
    /// A rule-based step routes by its rules.
    ByRules,
    Choose(Vec<Choice>),
    /// First `when` that holds; `None` always holds.
    Next(Vec<(Option<Expr>, String)>),
    /// By the end a waited-for child reached (`on outcome`).
    ByOutcome(Vec<OutcomeArm>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    pub field: String,
    pub optional: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reminder {
    Before(Duration),
    Every(Duration),
    /// `remind 10m before to WHO "message"`: a reminder that names whom it goes
    /// to, or says its own message, or both. (New variants go last: deployed
    /// definitions are stored.)
    BeforeTold {
        lead: Duration,
        to: Option<Who>,
        text: Option<String>,
    },
    EveryTold {
        every: Duration,
        to: Option<Who>,
        text: Option<String>,
    },
}

impl Reminder {
    /// How long before the due time it comes, for a reminder "before".
    pub fn lead(&self) -> Option<&Duration> {
        match self {
            Reminder::Before(d) | Reminder::BeforeTold { lead: d, .. } => Some(d),
            _ => None,
        }
    }
    /// How often it repeats after the due time, for a reminder "every".
    pub fn every(&self) -> Option<&Duration> {
        match self {
            Reminder::Every(d) | Reminder::EveryTold { every: d, .. } => Some(d),
            _ => None,
        }
    }
    /// Whom it names (else: whoever holds the work).
    pub fn to(&self) -> Option<&Who> {
        match self {
            Reminder::BeforeTold { to, .. } | Reminder::EveryTold { to, .. } => to.as_ref(),
            _ => None,
        }
    }
    /// Its own message (else: the engine's).
    pub fn text(&self) -> Option<&str> {
        match self {
            Reminder::BeforeTold { text, .. } | Reminder::EveryTold { text, .. } => text.as_deref(),
            _ => None,
        }
    }
    /// Whether it names whom it goes to or says its own message.
    pub fn is_told(&self) -> bool {
        matches!(
            self,
            Reminder::BeforeTold { .. } | Reminder::EveryTold { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TimedAction {
    Notify(Who, Option<String>),
    Escalate(Who),
    Goto(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extension {
    pub up_to: Duration,
    pub when: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Due {
    /// A duration from the step's start, or a date/datetime.
    pub at: Expr,
    pub when: Option<Expr>,
}

/// `check CONDITION "message"`: a task's completion is refused unless the condition
/// holds on the data as the completion would leave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub cond: Expr,
    pub message: String,
    /// The data fields the condition reads, for the refusal to name.
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub title: Option<String>,
    pub wait: Option<Wait>,
    pub sets: Vec<(String, Expr)>,
    pub notifies: Vec<Notify>,
    pub action: Action,
    pub fills: Vec<Fill>,
    pub route: Route,
    pub due: Vec<Due>,
    pub reminders: Vec<Reminder>,
    pub on_overdue: Vec<TimedAction>,
    pub extend: Option<Extension>,
    /// Conditions on completing the step's task, in source order.
    pub checks: Vec<Check>,
    /// `for each X in LIST`: the task once per element.
    #[serde(default)]
    pub for_each: Option<ForEach>,
    /// `allow self approval` on a task with a choice: the starter may make the
    /// choice when it is offered to a role or a head they fill. Without it, a request
    /// started by hand is never decided by the person who started it.
    pub allow_self: bool,
    /// A waited-for child's outputs kept in this instance's data (`receive`).
    #[serde(default)]
    pub receives: Vec<Receive>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    pub name: String,
    pub from: String,
    pub to: String,
    pub within: Vec<(Expr, Option<Expr>)>,
    pub reminders: Vec<Reminder>,
    pub on_breach: Vec<TimedAction>,
    pub extend: Option<Extension>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct End {
    pub name: String,
    pub title: Option<String>,
    /// Sent when an instance ends here, before its parent hears of it.
    #[serde(default)]
    pub notifies: Vec<Notify>,
}

/// `outputs { name, name? }`: a field given back to a parent that waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    pub field: String,
    /// `?`: some end may leave it empty (else every end has a value for it).
    pub optional: bool,
}

/// `receive OUTPUT as FIELD`: the child's output kept in this field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receive {
    pub output: String,
    pub field: String,
}

/// `END -> STEP` of `on outcome`; `end` is `None` for `otherwise`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeArm {
    pub end: Option<String>,
    pub target: String,
}

/// The outcome a parent hears when an admin cancels the child it waits for.
pub const CANCELLED: &str = "cancelled";
