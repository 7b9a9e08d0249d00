//! The catalogue of diagnostics: every code the checker can report, with its severity,
//! message template, default help and the one-line summary that docs/language.md lists.
//!
//! Each code means one thing. A code, once published, keeps its meaning: when an old
//! code covered several unrelated errors, it kept the first of them and the others got
//! new numbers (their summaries say which code they came from).
//!
//! Templates and help use `{0}`, `{1}` ... for the arguments given to
//! [`crate::Diagnostic::new`]; any other text, braces included, is kept as written.

use crate::diagnostic::Severity;
use serde::{Serialize, Serializer};
use std::fmt;

struct Entry {
    id: &'static str,
    severity: Severity,
    template: &'static str,
    help: Option<&'static str>,
    summary: &'static str,
}

macro_rules! catalogue {
    ($(
        $variant:ident = $id:literal, $severity:ident,
        $template:literal, help: $help:expr,
        summary: $summary:literal;
    )*) => {
        /// A diagnostic code; see the module documentation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(
                #[doc = $summary]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in the order of their ids (errors, then warnings).
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            fn entry(self) -> Entry {
                match self {
                    $(Code::$variant => Entry {
                        id: $id,
                        severity: Severity::$severity,
                        template: $template,
                        help: $help,
                        summary: $summary,
                    },)*
                }
            }
        }
    };
}

catalogue! {
    Internal = "E000", Error,
        "internal error: the parser could not read {0} here; please report this", help: None,
        summary: "The parser and the grammar disagree: a fault in Baton, not in the definition. Reported rather than crashing; no valid or invalid input should produce it.";
    Syntax = "E001", Error,
        "expected {0}, found {1}", help: None,
        summary: "Syntax error: the text does not follow the grammar. Says what was expected and what was found; every broken part of a file is reported.";
    UnknownStep = "E002", Error,
        "no {0} is named `{1}`", help: None,
        summary: "A step or end that is referred to (`next`, `->`, `on refuse`, a limit's `from`/`to`) does not exist.";
    UnknownField = "E003", Error,
        "unknown field `{0}`{1}", help: None,
        summary: "An unknown field: in an expression, a `fill`, a `{placeholder}` in a message, or a `start ... with` of a process that has no such field.";
    UnknownRole = "E004", Error,
        "no one in the staff directory has the role `{0}`{1}", help: None,
        summary: "(with `--staff`) A role that no one in the staff directory has, in `started by`, `for each person with role` or a who-clause; for a bare name, it is neither a person field nor such a role.";
    UnknownPerson = "E005", Error,
        "no person `{0}` in the staff directory", help: None,
        summary: "(with `--staff`) `person ID` names someone who is not in the staff directory.";
    UnknownDepartment = "E006", Error,
        "`{0}` is neither a department field nor a department in the staff directory", help: None,
        summary: "(with `--staff`) `head of X`: X is neither a department field nor a department in the staff directory.";
    NoSteps = "E007", Error,
        "a process needs at least one step", help: None,
        summary: "The process has no step.";
    UnknownProcess = "E008", Error,
        "no process is named `{0}`", help: None,
        summary: "`start X`: there is no process named X in the folder.";
    MissingStartField = "E009", Error,
        "starting `{0}` needs `{1}`", help: Some("add `with {1} = ...`"),
        summary: "`start X`: a field that X requires at start is not given with `with`.";
    DuplicateName = "E010", Error,
        "{0} `{1}` is declared twice", help: None,
        summary: "A name is used twice: a field, a step or end, a limit, or a choice (or a field in two `counted by` lines).";
    LimitWithoutWithin = "E011", Error,
        "a limit needs `within DURATION`", help: None,
        summary: "A limit without `within`.";
    NoSubjectField = "E012", Error,
        "a start for each person needs a `subject person` field to hold that person",
        help: Some("add `subject person?` to `data`"),
        summary: "A scheduled start `for each person with role R` in a process without a `subject person` field to hold that person.";
    NestingTooDeep = "E013", Error,
        "this is nested too deeply ({0} levels; at most {1})", help: None,
        summary: "Nested too deeply: more than 64 levels of parentheses, braces, `not`, unary `-` and `supervisor of` / `head of department of` / `department of` / `head of` open at one point, or an expression whose tree is more than 100 levels deep (a chain such as `a + b + c ...` of more than 100 terms). Reported before the file is parsed, so no input can exhaust the parser's stack; split the expression, for example into fields set by earlier steps.";
    WaitsTwice = "E019", Error,
        "a step can wait only once", help: Some("split the waits into two steps"),
        summary: "A step waits twice (two `wait` or `wait until` lines). Formerly part of E023.";
    NoEndReachable = "E021", Error,
        "no end can be reached from step `{0}`",
        help: Some("every path must lead to an `end`; this one loops forever"),
        summary: "No end can be reached from this step: it loops forever.";
    NoWayToFinish = "E022", Error,
        "step `{0}` has no way to finish",
        help: Some("add `next STEP`, a `choose { ... }` or a `rule { ... }`"),
        summary: "A step has no way to finish: no `next`, `choose` or `rule`.";
    SeveralActions = "E023", Error,
        "step `{0}` already has a task, sign-off, decision or start",
        help: Some("a step does one thing: split it into two steps"),
        summary: "A step does more than one thing (two of task, sign, rule, start).";
    NoTaskToFill = "E024", Error,
        "only a task has someone to {0}", help: Some("add `task for ...` to this step"),
        summary: "`fill` or `choose` in a step that has no task.";
    SeveralRoutes = "E025", Error,
        "a step goes on by its rules, by a choice, or by `next`: not by more than one",
        help: None,
        summary: "A step goes on in more than one way (`choose`, `next` and `rule` mixed).";
    NeedsDue = "E026", Error,
        "`{0}` needs a due time", help: Some("add `due 2h` (or another time) to the step"),
        summary: "`on overdue` or `extend` in a step without a due time.";
    NotASignOff = "E027", Error,
        "`{0}` belongs to {1}", help: None,
        summary: "`on refuse` in a step that is not a sign-off, or `allow self approval` in one that is neither a sign-off nor a task with a choice.";
    ChooseForEach = "E028", Error,
        "a task for each person cannot have one choice; use `sign` to collect answers",
        help: None,
        summary: "A task for each person with a role has a `choose`; use `sign` to collect several answers.";
    SignatureCount = "E029", Error,
        "{0} signatures asked of {1} signers", help: None,
        summary: "`sign N of ...` asks for more signatures than there are signers, or for none.";
    TypeMismatch = "E030", Error,
        "{0} must be {1}, found {2}", help: None,
        summary: "A value of the wrong type: expected one type, found another (a text where a condition is needed, a number assigned to a date field ...).";
    NotAChoice = "E031", Error,
        "`{0}` is not one of the choices {1}", help: None,
        summary: "A name is not one of the choices of the field it is compared with or assigned to.";
    NumberTooLarge = "E032", Error,
        "number too large", help: None,
        summary: "A number too large.";
    NoSuchDate = "E033", Error,
        "`{0}` is not a date", help: None,
        summary: "A date that does not exist (`2026-02-30`).";
    UnknownFunction = "E034", Error,
        "unknown function `{0}`", help: None,
        summary: "An unknown function.";
    ArgumentCount = "E035", Error,
        "`{0}` takes {1} argument(s), found {2}", help: None,
        summary: "A function called with the wrong number of arguments.";
    UndeclaredChoiceField = "E036", Error,
        "declare `{0}` in `data` so its choices are known", help: None,
        summary: "`set` or `with` computes a choice (or a value of unknown type) for a field not declared in `data`.";
    RequireBeforeValue = "E037", Error,
        "`require` is checked at start, when `{0}` has no value yet", help: None,
        summary: "A `require` uses a field that only gets a value after the start.";
    NestedEachWithRole = "E038", Error,
        "`each person with role` cannot be nested; name one person", help: None,
        summary: "`each person with role` inside `supervisor of` / `head of department of`.";
    NotCovered = "E040", Error,
        "the {0}s do not cover every case: not covered: {1}",
        help: Some("add a {0} for these cases, or a last one that always applies"),
        summary: "A decision (`rule`, or `next ... when` lines) does not cover every case; the message lists the values left out.";
    CaseNeverUsed = "E041", Error,
        "this {0} can never be used: {1}", help: None,
        summary: "A rule or `next` line can never be used, because earlier ones (or an earlier `otherwise`) already take every value it could.";
    CannotAnalyse = "E042", Error,
        "cannot tell whether every case is covered by these {0}s: {1} could not be analysed",
        help: Some("add a last {0} that always applies (`otherwise -> STEP` or an unconditional `next STEP`); perhaps not covered: {2}"),
        summary: "The cases of a decision cannot be analysed and there is no `otherwise` / unconditional `next`. Formerly part of E040.";
    MatchesNothing = "E043", Error,
        "this {0} matches no value", help: None,
        summary: "A rule or `next` line whose condition no value can meet. Formerly part of E041.";
    DeadExit = "E044", Error,
        "no end can be reached from step `{0}`: its way out, {1}, can never be taken",
        help: Some("a loop needs an exit whose condition can hold for the declared ranges and choices"),
        summary: "A loop whose only exits can never be taken (their conditions hold for no value of the declared ranges and choices), so no end can be reached from it.";
    UnbreakableLoop = "E045", Error,
        "{0} can go round for ever: {1}",
        help: Some("let a person decide the way out (`choose`), fill or set a field the conditions read, or add `on overdue -> STEP`"),
        summary: "A loop whose way out is decided by data that nothing inside the loop can change (no choice, no fill or set of the fields its conditions read, no timer leading out): an instance that enters it with such data never leaves.";
    NotPositive = "E050", Error,
        "{0} must be longer than zero", help: None,
        summary: "A duration that must be positive is zero or negative (due time, wait, reminder, limit, extension).";
    ReminderWithoutDue = "E051", Error,
        "a reminder needs a due time to count from",
        help: Some("add `due 2h` (or another time) to the step"),
        summary: "A reminder in a step without a due time.";
    EmptyRange = "E052", Error,
        "empty range: {0} is above {1}", help: None,
        summary: "A range type whose lower end is above its upper end.";
    ReminderTooEarly = "E053", Error,
        "this reminder would come before the step even starts",
        help: Some("a reminder before the due time must be shorter than the time allowed"),
        summary: "A reminder \"before due\" that is not shorter than the time allowed. Formerly part of E051.";
    BadCron = "E060", Error,
        "`{0}` is not a valid cron expression",
        help: Some("five fields: minute hour day-of-month month day-of-week, e.g. \"30 17 * * *\""),
        summary: "A cron expression that does not parse.";
    UnknownTimeZone = "E061", Error,
        "unknown time zone `{0}`", help: Some("use an IANA name such as \"Asia/Shanghai\""),
        summary: "An unknown time zone.";
    NoSuchTime = "E062", Error,
        "{0}:{1} is not a time of day", help: None,
        summary: "A time of day that does not exist (`25:00`).";
    NoSuchDay = "E063", Error,
        "a month has no day {0}", help: None,
        summary: "A day of the month outside 1–31.";
    CannotCompare = "E071", Error,
        "cannot compare {0} with {1}", help: None,
        summary: "Two values of types that cannot be compared (a date with a number), in a comparison, `in`, `min` or `max`. Formerly part of E030.";
    OperatorMismatch = "E072", Error,
        "cannot apply `{0}` to {1} and {2}", help: None,
        summary: "An arithmetic operator applied to values it does not work on (a date times a number). Formerly part of E030.";
    ArgumentType = "E073", Error,
        "`{0}` needs {1}, found {2}", help: None,
        summary: "A function argument of the wrong type (`day` of a number, `round` of a text). Formerly part of E030.";
    CannotNegate = "E074", Error,
        "cannot negate {0}", help: None,
        summary: "A minus sign before a value that is not a number or a duration. Formerly part of E030.";
    HeadOfNotDepartment = "E075", Error,
        "`head of` needs a department, `{0}` is {1}", help: None,
        summary: "`head of X` where X is a field that is not a department. Formerly part of E030.";
    NotAPerson = "E076", Error,
        "`{0}` is {1}, not {2}", help: None,
        summary: "A who-clause names a field that is not a person (or, in `notify`, an address). Formerly part of E030.";
    AddressWithoutVia = "E077", Error,
        "an address needs a channel: `via sms`", help: None,
        summary: "`notify` to an address (a text field) without `via`. Formerly part of E030.";
    WaitUntilNotTime = "E078", Error,
        "`wait until` needs a date or a time, found {0}", help: None,
        summary: "`wait until` something that is not a date or a date and time. Formerly part of E030.";
    DueNotTime = "E079", Error,
        "a due time is a duration, a date or a time, found {0}", help: None,
        summary: "A due time that is not a duration, a date or a date and time. Formerly part of E030.";
    FieldMaybeEmpty = "E080", Error,
        "`{0}` may be empty when {1} reads it ({2}): {3}",
        help: Some("fill or set `{0}` on every way here, make it required at start, or write `{0} or VALUE` where a fallback will do"),
        summary: "A field is read (condition, `with`, message, `set`, due or wait moment, who-clause) where some path from the start reaches the read without giving it a value; the message names one such path.";
    OptionalToRequired = "E081", Error,
        "`{0}` may be empty, and `{1}` needs a value for `{2}`: {3}",
        help: Some("fill `{0}` on every way here, or pass `{0} or VALUE`"),
        summary: "`start X with f = y`: `y` may be empty on some path, and X requires `f`.";
    NotOnePerson = "E082", Error,
        "{0} needs exactly one person, and `{1}` is a role",
        help: Some("name one person: `starter`, a person field, `person ID`, or another `supervisor of ...`"),
        summary: "`supervisor of X` / `head of department of X` where X is a role, not one person.";
    DivisorMaybeZero = "E084", Error,
        "`{0}` may be zero here, and nothing can be divided by zero",
        help: Some("give the divisor a range that leaves out 0 (for example `1..100`), or divide by a constant"),
        summary: "A division whose divisor's declared range includes 0 (or is unknown).";
    SignWithoutRefuse = "E085", Error,
        "a sign-off needs `on refuse -> STEP`: a signer may refuse",
        help: Some("say where a refusal leads, e.g. `on refuse -> revise`"),
        summary: "A sign-off step without `on refuse`: a refusal would have nowhere to go.";
    StarterSigns = "E086", Error,
        "the starter signs here, but may not approve their own request",
        help: Some("add `allow self approval`, or ask someone else to sign"),
        summary: "`starter` among the signers of a sign-off without `allow self approval`: the starter could only refuse.";
    CheckWithoutTask = "E087", Error,
        "`check` is asked when a person completes a task, and this step has none",
        help: Some("add `task for ...` to this step, or move the check to the task it is about"),
        summary: "A `check` in a step without a task: a check is asked when a person completes one.";
    CheckCannotPass = "E088", Error,
        "this check may fail whatever the person completing the task fills in: {0}",
        help: Some("a check is about what the task fills: compare a field of this step's `fill` with what it must (not) be, so that some value they can give passes"),
        summary: "A `check` that can fail for data the person completing the task cannot change: it reads no field the task fills, or for some values of the other data no value they can fill passes it. The message names such cases.";
    DueWithoutPerson = "E090", Error,
        "a due time needs a task or a sign-off to be due", help: None,
        summary: "A due time in a step without a task or sign-off. Formerly part of E026.";
    FractionalRange = "E091", Error,
        "an integer range needs whole numbers; write `decimal` before it", help: None,
        summary: "An integer range type with fractions in its ends. Formerly part of E052.";
    OutputUndeclared = "E092", Error,
        "output `{0}` is only computed here; declare it in `data` (with `?`) so that a parent can know its type", help: None,
        summary: "An output (`outputs { ... }`) that is neither declared in `data` nor in a typed `fill`: a parent could not know its type.";
    NotAnOutput = "E093", Error,
        "`{0}` is not an output of `{1}`",
        help: Some("name it in the `outputs { ... }` of that process"),
        summary: "`receive X`: the started process does not list X in its `outputs`.";
    ReceiveMismatch = "E094", Error,
        "`{0}` cannot keep output `{1}` of `{2}`: {3}", help: None,
        summary: "`receive X as F`: F's type differs from the output's (kind, choices, or a range that does not hold the output's), or F is not an optional field of `data`: it is empty until the child ends.";
    NotAChildEnd = "E095", Error,
        "`{0}` is not an end of `{1}`", help: None,
        summary: "`on outcome`: a name that is neither an end of the started process nor `cancelled`.";
    OutcomeNotCovered = "E096", Error,
        "`on outcome` does not say where to go when `{0}` ends at {1}",
        help: Some("add these ends, or a last `otherwise -> STEP`"),
        summary: "`on outcome` covers neither every end of the started process and `cancelled` (an admin may cancel it) nor has an `otherwise`: the instance would be stuck.";
    NoChildToWait = "E097", Error,
        "`{0}` needs a `start ... and wait` in the same step", help: None,
        summary: "`receive` or `on outcome` in a step that does not start a process and wait for it.";
    ListLength = "E110", Error,
        "no list fits this length: {0}", help: Some("write `list MIN..MAX of { ... }` with MIN at most MAX and MAX at least 1, or `list MIN.. of` for no upper bound"),
        summary: "A list type whose length bounds no list can meet: the least length above the greatest, or a greatest length of 0.";
    ListInList = "E111", Error,
        "an element of a list cannot hold a list", help: Some("declare the inner list as a field of its own"),
        summary: "A list type among the fields of a list's element.";
    NotAnElement = "E112", Error,
        "`{0}` names no element here", help: Some("`X.field` reads an element named by `any X in LIST where ...`, `all X in LIST where ...`, or the step's `for each X in LIST` (in who the task is for, its due time and its reminders)"),
        summary: "`X.field` where no `any`, `all` or `for each` names an element `X` (a step's `set` and `notify` run once, not per element).";
    NoElementField = "E113", Error,
        "the elements of `{0}` have no field `{1}`", help: None,
        summary: "`X.field` naming a field the list's elements do not have.";
    NotAList = "E114", Error,
        "{0} needs a list field, and `{1}` is {2}", help: Some("declare it as `{1} list of { ... }`"),
        summary: "`count(X)`, `any`/`all ... in X` or `for each ... in X` where X is not a list field.";
    ForEachWithoutTask = "E115", Error,
        "`for each` starts a task, a sign-off or a child process per element, and this step has {0}",
        help: Some("add `task for X.owner`, `sign all of head of X.department` or `start PROCESS with ... = X.field and wait` (any who, any process) to this step"),
        summary: "`for each` in a step with neither a task, a sign-off nor a child process (none, a rule, or branches): it starts one of those per element.";
    NotInForEach = "E116", Error,
        "a `for each` step cannot have {0}: {1}", help: None,
        summary: "`fill`, `choose`, `check`, `on overdue`, `extend` or a second `for each` in a `for each` step: each element's task is done on its own, with its own due time and reminders, and nothing is filled, chosen or extended for the step as a whole.";
    ElementMaybeEmpty = "E117", Error,
        "`{0}` may be empty: `{1}` is optional in the elements of `{2}`",
        help: Some("make `{1}` required in the list's type (drop its `?`), or read it only in a message placeholder"),
        summary: "`X.field` read in an expression or a who position where the element's field is optional: an element without it would stop the instance.";
    ForEachSignMode = "E118", Error,
        "a sign-off per element is `sign all of`: {0} does not say how the elements' signatures add up",
        help: Some("write `sign all of ...`: every element's signers sign, and one refusal takes `on refuse`; for fewer signatures, sign without `for each`"),
        summary: "`sign any of`, `sign N of` or `sign in order by` in a `for each` step: per element, a sign-off is `sign all of`, done when every element's signers have signed and refused as soon as one refuses.";
    ForEachOutcome = "E119", Error,
        "{0} in a `for each` step: its children end each at their own end, and the step goes on by `next` when all have",
        help: Some("drop it and write `next STEP`; to keep what a child found, let the child tell people (`notify` at its ends) or start it without `for each`"),
        summary: "`receive` or `on outcome` in a `for each` step that starts a child process per element: the children reach different ends and give back different values, so the step goes on by `next` when all have ended and keeps none of their outputs.";
    BranchLeaves = "E120", Error,
        "step `{0}` of branch `{1}` goes to `{2}`, outside its branch",
        help: Some("a branch's steps go on to steps of the same branch, to `join` (the branch is done) or, with `branch {1} ... may end`, to an end"),
        summary: "A step of a parallel branch goes to a step outside its branch, or to an end without `may end`: the branch would leave the join waiting.";
    BranchNeverJoins = "E121", Error,
        "branch `{0}` never reaches `join`: {1}",
        help: Some("finish the branch with `next join` (or `-> join`) on a way its steps can take"),
        summary: "A parallel branch from whose first step `join` cannot be reached: its join could never be reached.";
    IntoBranch = "E122", Error,
        "`{0}` is a step of branch `{1}`, and only that branch's own steps may go to it",
        help: Some("a branch begins at its first step when its parallel step starts; give the other way a step of its own"),
        summary: "A step outside a branch (another branch's, or the main line's) goes to a step inside it; a step is used by one branch only.";
    JoinOutsideBranch = "E123", Error,
        "`join` finishes a branch, and step `{0}` is not in one",
        help: Some("go to a step or an end"),
        summary: "A step outside every parallel branch goes to `join`.";
    JoinCount = "E124", Error,
        "`join {0}` needs {0} of {1} branches, which can never be",
        help: Some("join a number from 1 to the number of branches, `any` or `all`"),
        summary: "`join N` with N zero or more than the parallel block's branches.";
    JoinWithoutParallel = "E125", Error,
        "`join` says how the branches of a `parallel` block come together, and this step has none",
        help: None,
        summary: "A `join` line in a step without `parallel`.";
    NotInBranch = "E126", Error,
        "{0} cannot be used inside a parallel branch",
        help: Some("move it to a step before or after the parallel step"),
        summary: "What a branch cannot hold: a `parallel` block of its own, `start ... and wait`, a step where a `limit` starts or stops.";
    JoinIsReserved = "E127", Error,
        "`join` finishes a parallel branch, so no step or end can be called `join`",
        help: Some("rename it"),
        summary: "A step or end called `join` in a process with parallel branches.";
    CountedNotChoice = "E128", Error,
        "`counted by {0}`: the instances are counted by the choices of a field, and {1}",
        help: Some("name a field of the process whose type is a list of choices (`complaint_type dining(\"餐飲\") | lodging(\"住宿\")`)"),
        summary: "`counted by F` where F is not a choice field of the process: no such field, or a field of another type, whose values could not be counted by category.";
    NeverReached = "W001", Warning,
        "{0} `{1}` can never be reached",
        help: Some("no step leads here; the first step is where every instance begins"),
        summary: "A step or end that can never be reached from the first step.";
    Overlap = "W002", Warning,
        "this {0} overlaps an earlier one that leads elsewhere, when {1}; the earlier one wins", help: None,
        summary: "A rule overlaps an earlier one that leads elsewhere; the earlier one wins for the values named.";
    DueNotCovered = "W003", Warning,
        "the {0}s do not cover every case: not covered: {1}; there is no deadline then",
        help: Some("add a {0} for these cases, or a last one that always applies"),
        summary: "Conditional due times (or a limit's `within ... when` lines) do not cover every case; there is no deadline then.";
    SkippedMonths = "W004", Warning,
        "not every month has a day {0}; those months are skipped",
        help: Some("use a day from 1 to 28 to run every month"),
        summary: "A monthly start on day 29–31: months without that day are skipped.";
    NobodyFound = "W005", Warning,
        "this finds nobody for {0}: no supervisor in the staff directory",
        help: Some("give them a supervisor in staff.ron, or send this to a role"),
        summary: "(with `--staff`) `supervisor of ...` is certain to find nobody for a person it may start from (the starter's roles, `person ID`, a scheduled `subject`): they have no supervisor.";
    StarterMaySign = "W006", Warning,
        "the starter may be the one who signs here ({0}), and may not approve their own request",
        help: Some("add `allow self approval`, or ask someone the starter cannot be"),
        summary: "(with `--staff`) A signer of a sign-off may be the starter (a person the starter's roles include, or who heads them), who may not approve their own request.";
    NobodyLeft = "W007", Warning,
        "this finds nobody{0}: {1}",
        help: Some("name someone else, or leave out fewer people"),
        summary: "A who position finds nobody once people are left out: by `except` (always, or with `--staff` when the people named start the instance), or, for a choice offered to a role or a head, by the rule that a request's starter does not decide it.";
}

impl Code {
    /// The stable id: `E002`, `W001`.
    pub fn id(self) -> &'static str {
        self.entry().id
    }
    pub fn severity(self) -> Severity {
        self.entry().severity
    }
    /// The message, with `{0}`, `{1}` ... for the arguments.
    pub fn template(self) -> &'static str {
        self.entry().template
    }
    /// The help shown when a diagnostic gives none of its own (same placeholders).
    pub fn help(self) -> Option<&'static str> {
        self.entry().help
    }
    /// One line for the table in docs/language.md.
    pub fn summary(self) -> &'static str {
        self.entry().summary
    }
    /// The code with this id.
    pub fn from_id(id: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.id() == id)
    }
}

/// Fill `{0}`, `{1}` ... in `template` with `args`. A placeholder without an argument,
/// and any other brace, is kept as written.
pub fn fill(template: &str, args: &[&dyn fmt::Display]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let arg = (digits > 0 && after[digits..].starts_with('}'))
            .then(|| after[..digits].parse::<usize>().ok())
            .flatten()
            .and_then(|i| args.get(i));
        match arg {
            Some(a) => {
                out.push_str(&a.to_string());
                rest = &after[digits + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.id() == *other
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.id() == other
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_sorted_and_well_formed() {
        let ids: Vec<&str> = Code::ALL.iter().map(|c| c.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort_by_key(|id| (id.starts_with('W'), *id));
        sorted.dedup();
        assert_eq!(ids, sorted, "ids must be unique and in order");
        for c in Code::ALL {
            let id = c.id();
            assert_eq!(id.len(), 4, "{id}");
            let want = match c.severity() {
                Severity::Error => 'E',
                Severity::Warning => 'W',
            };
            assert!(id.starts_with(want), "{id} has the wrong letter");
            assert!(id[1..].bytes().all(|b| b.is_ascii_digit()), "{id}");
            assert_eq!(Code::from_id(id), Some(*c));
            assert!(
                !c.summary().contains('|'),
                "{id}: a `|` breaks the docs table"
            );
        }
    }

    /// Placeholders run from `{0}` without gaps, and help uses no argument the message
    /// does not have.
    #[test]
    fn placeholders_have_no_gaps() {
        let count = |t: &str| (0..10).filter(|i| t.contains(&format!("{{{i}}}"))).count();
        for c in Code::ALL {
            let n = count(c.template());
            for i in 0..n {
                assert!(
                    c.template().contains(&format!("{{{i}}}")),
                    "{c}: gap at {i}"
                );
            }
            if let Some(h) = c.help() {
                assert!(
                    count(h) <= n,
                    "{c}: help has more placeholders than the message"
                );
            }
        }
    }

    #[test]
    fn fill_replaces_only_numbered_placeholders() {
        assert_eq!(fill("a {0} b {1}", &[&"x", &2]), "a x b 2");
        assert_eq!(fill("`choose { ... }` {0}", &[&"y"]), "`choose { ... }` y");
        assert_eq!(fill("{2} {x} {", &[&"y"]), "{2} {x} {");
        assert_eq!(fill("{0}{0}", &[&"é"]), "éé");
    }

    #[test]
    fn code_compares_and_serializes_as_its_id() {
        assert!(Code::UnknownStep == "E002");
        assert!("E002" == Code::UnknownStep);
        assert_eq!(Code::UnknownStep.to_string(), "E002");
        assert_eq!(
            serde_json::to_string(&Code::Overlap).expect("serializes"),
            "\"W002\""
        );
    }
}
