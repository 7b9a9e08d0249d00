//! The syntax tree: what the author wrote, with a byte span on every node that a
//! diagnostic may need to point at. Nothing here is checked yet; see `check`.

use std::ops::Range;

pub type Span = Range<usize>;

#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub name: Name,
    pub title: Option<Text>,
    pub description: Option<Text>,
    pub started_by: Vec<Name>,
    pub schedules: Vec<Schedule>,
    pub requires: Vec<Require>,
    pub data: Vec<FieldDecl>,
    pub limits: Vec<Limit>,
    pub steps: Vec<Step>,
    pub ends: Vec<End>,
    /// `outputs { a, b? }`: the data given back to a parent that waits (`?`: an end
    /// may leave it empty).
    pub outputs: Vec<(Name, bool)>,
    /// `counted by FIELD`: the choice fields the managers' overview counts the
    /// instances by.
    pub counted_by: Vec<Name>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Require {
    pub cond: Expr,
    pub message: Text,
}

#[derive(Debug, Clone, PartialEq)]
pub enum When {
    Cron(Text),
    Daily {
        at: (u32, u32),
        span: Span,
    },
    Weekdays {
        at: (u32, u32),
        span: Span,
    },
    Weekly {
        weekday: String,
        at: (u32, u32),
        span: Span,
    },
    Monthly {
        day: u32,
        at: (u32, u32),
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub when: When,
    pub zone: Option<Text>,
    pub for_each_role: Option<Name>,
    pub catch_up: Option<Name>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeSpec {
    Base(Name),
    Range {
        decimal: bool,
        lo: f64,
        hi: f64,
        span: Span,
    },
    Choice(Vec<(Name, Option<Text>)>),
    /// `list MIN..MAX of { FIELDS }`: `max` `None` is no upper bound.
    List {
        min: u64,
        max: Option<u64>,
        elems: Vec<FieldDecl>,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    pub name: Name,
    pub ty: TypeSpec,
    pub optional: bool,
    pub default: Option<Expr>,
    pub label: Option<Text>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub name: Name,
    pub from: Name,
    pub to: Name,
    pub within: Vec<(Expr, Option<Expr>)>,
    pub reminders: Vec<RemindLine>,
    pub on_breach: Vec<Action>,
    pub extend: Option<Extend>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Remind {
    Before(Expr),
    Every(Expr),
}

/// A `remind` line: when, and optionally to whom and with what message.
#[derive(Debug, Clone, PartialEq)]
pub struct RemindLine {
    pub at: Remind,
    pub to: Option<Who>,
    pub message: Option<Text>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Extend {
    pub up_to: Expr,
    pub when: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Notify(Who, Option<Text>),
    Escalate(Who),
    Goto(Name),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Who {
    EachWithRole(Name),
    SupervisorOf(Box<Who>, Span),
    DeptHeadOf(Box<Who>, Span),
    HeadOf(Name),
    Starter(Span),
    Person(Name),
    Name(Name),
    /// `X.field`: a field of the element a `for each` names.
    Member(Box<Member>, Span),
    /// `head of X.field`: the head of a department field of the element.
    HeadOfMember(Box<Member>, Span),
    /// `WHO except WHO except ...`: the first, less the people the others name.
    Except(Box<Who>, Vec<Who>, Span),
}

impl Who {
    pub fn span(&self) -> Span {
        match self {
            Who::EachWithRole(n) | Who::HeadOf(n) | Who::Person(n) | Who::Name(n) => n.span.clone(),
            Who::SupervisorOf(_, s)
            | Who::DeptHeadOf(_, s)
            | Who::Starter(s)
            | Who::Except(_, _, s)
            | Who::Member(_, s)
            | Who::HeadOfMember(_, s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assign {
    pub field: Name,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SignMode {
    All,
    Any,
    Count(u32),
    InOrder,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FillItem {
    pub name: Name,
    pub optional: bool,
    pub ty: Option<TypeSpec>,
    /// What people read for a field declared here (with its type).
    pub label: Option<Text>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceArm {
    pub name: Name,
    pub label: Option<Text>,
    pub target: Name,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleArm {
    /// `None` is `otherwise`.
    pub cond: Option<Expr>,
    pub target: Name,
    pub sets: Vec<Assign>,
    pub span: Span,
}

/// One statement inside a step, in source order; the checker decides which
/// combinations make a valid step.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Task(Who, Span),
    Rules(Vec<RuleArm>, Span),
    WaitFor(Expr, Span),
    WaitUntil(Expr, Span),
    Notify {
        to: Who,
        via: Option<Name>,
        message: Text,
        span: Span,
    },
    Set(Assign, Span),
    Start {
        process: Name,
        with: Vec<Assign>,
        wait: bool,
        span: Span,
    },
    Sign {
        mode: SignMode,
        signers: Vec<Who>,
        span: Span,
    },
    Fill(Vec<FillItem>, Span),
    Choose(Vec<ChoiceArm>, Span),
    Next {
        target: Name,
        when: Option<Expr>,
        span: Span,
    },
    Due {
        at: Expr,
        when: Option<Expr>,
        span: Span,
    },
    Remind(RemindLine, Span),
    OnOverdue(Action, Span),
    OnRefuse(Name, Span),
    Extend(Extend),
    SelfApproval(Span),
    /// `for each X in LIST`: the step's task once per element.
    ForEach {
        var: Name,
        list: Name,
        span: Span,
    },
    /// `check CONDITION "message"`: completing the task is refused while it is false.
    Check {
        cond: Expr,
        message: Text,
        span: Span,
    },
    /// `parallel { branch ... }`: branches run side by side (see `Branch`).
    Parallel(Vec<Branch>, Span),
    /// `join all | any | N`: how many branches must finish.
    Join(JoinMode, Span),
    /// `receive OUTPUT (as FIELD), ...`: a waited-for child's outputs kept.
    Receive(Vec<(Name, Option<Name>)>, Span),
    /// `on outcome { END -> STEP ... otherwise -> STEP }` (`None` is `otherwise`).
    OnOutcome(Vec<(Option<Name>, Name)>, Span),
}

/// A branch of a `parallel` block: its own sequence of steps, the first where it
/// begins; `next join` in one of them finishes the branch.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub name: Name,
    pub title: Option<Text>,
    /// `may end`: its steps may go to an end of the process, ending it all.
    pub may_end: bool,
    pub steps: Vec<Step>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JoinMode {
    All,
    Any,
    Count(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: Name,
    pub title: Option<Text>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct End {
    pub name: Name,
    pub title: Option<Text>,
    /// Its `notify` lines (only `Stmt::Notify`), sent when an instance ends here.
    pub notices: Vec<Stmt>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

#[derive(Debug, Clone, PartialEq)]
pub enum DurLit {
    Minutes(i64),
    Months(i64),
    WorkingMinutes(i64),
    WorkingDays(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Dec(f64),
    Str(String),
    Bool(bool),
    Date(String),
    Duration(DurLit),
    Today,
    Now,
    Ident(String),
    Call(String, Vec<Expr>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `x in a..b` (`inclusive_hi` false for `..<`)
    InRange {
        value: Box<Expr>,
        lo: Box<Expr>,
        hi: Box<Expr>,
        inclusive_hi: bool,
    },
    InSet(Box<Expr>, Vec<Expr>),
    At(Box<Expr>, (u32, u32)),
    /// `starter`: the person who started the instance.
    Starter,
    /// `supervisor of X`: the supervisor of the person X.
    SupervisorOf(Box<Expr>),
    /// `department of X`: the department the person X belongs to.
    DepartmentOf(Box<Expr>),
    /// `head of D`: the head of department D (`head of department of X` is the head
    /// of X's department).
    HeadOf(Box<Expr>),
    /// `X has role R`
    HasRole(Box<Expr>, Name),
    /// `X in department D`
    InDepartment(Box<Expr>, Box<Expr>),
    /// `person ID`: someone of the staff directory.
    PersonRef(Name),
    /// `X.field`: a field of a list's element named by `any`/`all` or `for each`.
    /// (Boxed, as the next: every level of an expression's nesting holds an
    /// `ExprKind` on the stack while it is built.)
    Member(Box<Member>),
    Quantified(Box<Quantified>),
}

/// `X.field`.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub var: Name,
    pub field: Name,
}

/// `any X in LIST where COND` (`all` true for `all ...`).
#[derive(Debug, Clone, PartialEq)]
pub struct Quantified {
    pub all: bool,
    pub var: Name,
    pub list: Name,
    pub cond: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}
