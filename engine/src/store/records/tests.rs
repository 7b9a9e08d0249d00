//! Samples of every kind of record, their golden bytes, and the tables that tie each
//! stored enum variant to its name.

use super::field::ValueV1;
use super::history::{AttemptV1, EventV1, MessageKindV1, ResolutionV1};
use super::instance::{StatusV1, TaskKindV1, TaskStateV1, TimerKindV1};
use super::outbox::DeliveryV1;
use super::{decode, encode, RecordKind, Stored};
use crate::core::{
    ActiveLimit, Attempt, Candidates, Data, Event, Incident, Instance, Message, MessageKind,
    Record, Resolution, Signature, Status, Task, TaskId, TaskKind, TaskState, Timer, TimerKind,
};
use crate::staff::{Department, Directory, Person};
use crate::store::deploy::Deployment;
use crate::store::txn::{Delivery, OutboxRecord, Outcome, WebhookDelivery};
use crate::tokens::TokenRecord;
use baton_dsl::eval::Value;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Serialize;

/// A moment `secs` seconds after the samples' start, with nanoseconds so that
/// times are seen to be kept exactly.
fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .expect("a valid time")
        + chrono::Duration::seconds(secs)
        + chrono::Duration::nanoseconds(123_456_789)
}

fn s(x: &str) -> String {
    x.to_string()
}

/// Every kind of value.
fn data() -> Data {
    [
        ("客戶", Value::Text(s("張三"))),
        ("count", Value::Int(-5)),
        ("amount", Value::Dec(2.5)),
        ("urgent", Value::Bool(true)),
        (
            "day",
            Value::Date(NaiveDate::from_ymd_opt(2026, 3, 2).expect("a date")),
        ),
        ("when", Value::DateTime(at(5))),
        (
            "took",
            Value::Duration(baton_dsl::model::Duration {
                months: 1,
                minutes: 2,
                working_minutes: 3,
                working_days: 4,
            }),
        ),
        ("channel", Value::Choice(s("hotline"))),
        ("handler", Value::Person(s("ann"))),
        ("unit", Value::Department(s("ops"))),
    ]
    .into_iter()
    .map(|(k, v)| (s(k), v))
    .collect()
}

pub(crate) fn task() -> Task {
    Task {
        id: TaskId { instance: 41, n: 2 },
        process: s("review"),
        step: s("first"),
        title: s("初審"),
        kind: TaskKind::Work,
        candidates: Candidates {
            people: vec![s("ann"), s("bo")],
            roles: vec![s("staff")],
        },
        assignee: Some(s("ann")),
        state: TaskState::Completed,
        created_at: at(10),
        due: Some(at(7200)),
        completed_by: Some(s("ann")),
        choice: Some(s("approve")),
    }
}

/// Every kind of timer.
fn timers() -> Vec<Timer> {
    let step = || s("first");
    let limit = || s("whole");
    [
        TimerKind::Wait { step: step() },
        TimerKind::Due { step: step() },
        TimerKind::Remind { step: step() },
        TimerKind::RemindEvery {
            step: step(),
            every_minutes: 60,
        },
        TimerKind::LimitBreach { limit: limit() },
        TimerKind::LimitRemind { limit: limit() },
        TimerKind::LimitRemindEvery {
            limit: limit(),
            every_minutes: 30,
        },
        TimerKind::StepReminder {
            step: step(),
            index: 1,
            every_minutes: None,
        },
        TimerKind::LimitReminder {
            limit: limit(),
            index: 2,
            every_minutes: Some(15),
        },
    ]
    .into_iter()
    .zip(1..)
    .map(|(kind, n)| Timer {
        n,
        due: at(600 * n as i64),
        kind,
    })
    .collect()
}

fn limit() -> ActiveLimit {
    ActiveLimit {
        name: s("whole"),
        started_at: at(0),
        deadline: at(86_400),
        extended_minutes: 30,
        breached: true,
    }
}

pub(crate) fn instance() -> Instance {
    let mut open = task();
    open.id.n = 3;
    open.kind = TaskKind::Sign;
    open.state = TaskState::Open;
    open.assignee = None;
    open.due = None;
    open.completed_by = None;
    open.choice = None;
    Instance {
        id: 41,
        process: s("review"),
        version: 3,
        status: Status::Incident,
        outcome: Some(s("done")),
        starter: s("ann"),
        started_at: at(0),
        updated_at: at(90),
        data: data(),
        parent: Some(7),
        step: Some(s("first")),
        step_started_at: Some(at(30)),
        waiting: true,
        due: Some(at(120)),
        due_extended_minutes: -15,
        awaiting_child: true,
        children: vec![42, 43],
        tasks: vec![task(), open],
        signatures: vec![Signature {
            by: s("bo"),
            approve: false,
        }],
        timers: timers(),
        limits: vec![limit()],
        seq: 17,
        next_task: 4,
        next_timer: 10,
        branches: vec![],
        child_outcome: None,
        children_awaited: 0,
    }
}

fn message(kind: MessageKind) -> Message {
    Message {
        kind,
        to: vec![s("ann"), s("ops@example.com")],
        channel: Some(s("email")),
        text: s("「審閱」#41 逾期"),
        task: Some(task().id),
    }
}

fn attempts() -> Vec<Attempt> {
    vec![
        Attempt::Timer {
            n: 1,
            timer: TimerKind::Wait { step: s("first") },
        },
        Attempt::StartChild {
            step: s("first"),
            process: s("leave"),
        },
        Attempt::ChildEnded {
            child: 43,
            outcome: s("done"),
        },
        Attempt::Route {
            step: s("first"),
            choice: Some(s("approve")),
        },
    ]
}

/// One of every event (and every kind of message, attempt and resolution).
fn events() -> Vec<Event> {
    let id = task().id;
    let mut out = vec![
        Event::Started {
            process: s("review"),
            version: 3,
            starter: s("ann"),
            data: data(),
            parent: Some(7),
        },
        Event::StepEntered {
            step: s("first"),
            waiting: true,
        },
        Event::WaitEnded,
        Event::DueSet { due: Some(at(120)) },
        Event::DataSet { values: data() },
        Event::TaskCreated { task: task() },
        Event::TaskClaimed {
            task: id,
            by: s("ann"),
        },
        Event::TaskReleased { task: id },
        Event::TaskCompleted {
            task: id,
            by: s("ann"),
            choice: Some(s("approve")),
            data: data(),
        },
        Event::TaskReassigned {
            task: id,
            to: task().candidates,
            escalated: true,
        },
        Event::TaskCancelled { task: id },
        Event::Signed {
            by: s("bo"),
            approve: false,
        },
        Event::TimerSet {
            timer: timers()[8].clone(),
        },
        Event::TimerCancelled { n: 2 },
        Event::TimerFired { n: 3 },
        Event::LimitStarted { limit: limit() },
        Event::LimitBreached { name: s("whole") },
        Event::LimitStopped { name: s("whole") },
        Event::DeadlineExtended {
            limit: Some(s("whole")),
            minutes: 30,
            due: at(88_200),
        },
        Event::ChildStarted {
            process: s("leave"),
            wait: true,
        },
        Event::ChildFinished {
            child: 43,
            outcome: s("done"),
        },
        Event::Commented { text: s("好") },
        Event::Completed { outcome: s("done") },
        Event::Cancelled {
            reason: s("客戶撤回"),
        },
        Event::TaskDue {
            task: id,
            due: None,
        },
        Event::Reasoned {
            task: id,
            reason: s("ok"),
        },
    ];
    out.extend(
        [
            MessageKind::Notify,
            MessageKind::Reminder,
            MessageKind::Overdue,
            MessageKind::Escalation,
            MessageKind::Breach,
            MessageKind::Incident,
        ]
        .map(|k| Event::MessageQueued {
            message: message(k),
        }),
    );
    out.extend(
        attempts()
            .into_iter()
            .map(|attempted| Event::IncidentRaised {
                reason: s("nobody"),
                attempted,
            }),
    );
    out.extend(
        [
            Resolution::Retry,
            Resolution::Set {
                fields: vec![s("handler")],
            },
            Resolution::Move { step: s("done") },
            Resolution::Cancel,
        ]
        .map(|how| Event::IncidentResolved { how }),
    );
    out
}

fn history() -> Vec<Record> {
    events()
        .into_iter()
        .zip(0..)
        .map(|(event, seq)| Record {
            seq,
            at: at(seq as i64),
            actor: if seq % 2 == 0 { s("ann") } else { s("baton") },
            event,
        })
        .collect()
}

fn incident() -> Incident {
    Incident {
        instance: 41,
        process: s("review"),
        at: at(90),
        reason: s("`bo` has no supervisor"),
        attempted: attempts()[3].clone(),
    }
}

/// The instance sample at a parallel step, one branch swapped in and each status.
fn branched() -> Instance {
    use crate::core::{BranchState, BranchStatus, Position};
    let mut i = instance();
    let branch = |name: &str, status, focused| BranchState {
        name: s(name),
        status,
        position: Position {
            step: Some(s("sign_here")),
            step_started_at: Some(at(31)),
            waiting: true,
            due: Some(at(121)),
            due_extended_minutes: 5,
            awaiting_child: false,
            signatures: vec![Signature {
                by: s("cy"),
                approve: true,
            }],
        },
        focused,
    };
    i.branches = vec![
        branch("paperwork", BranchStatus::Running, true),
        branch("guidance", BranchStatus::Finished, false),
        branch("partner", BranchStatus::Cancelled, false),
    ];
    i.child_outcome = Some(s("promoted"));
    i.children_awaited = 2;
    i
}

/// Instances and answers of version 3 (a child's end kept, but no count of the
/// children waited for) read as they did: the same instance, counting none.
#[test]
fn instances_and_answers_of_version_3_read_as_before() {
    let mut expected = branched();
    expected.children_awaited = 0;
    let old: Instance = decode(&golden(RecordKind::Instance, 3)).expect("version 3 instance");
    assert_eq!(old, expected);
    let old: Outcome = decode(&golden(RecordKind::Answer, 3)).expect("version 3 answer");
    assert_eq!(old.instance.children_awaited, 0);
}

/// Instances and answers of version 2 (branches, but no child's end kept) read as
/// they did: the same instance, keeping no child's end.
#[test]
fn instances_and_answers_of_version_2_read_as_before() {
    let mut expected = branched();
    expected.child_outcome = None;
    expected.children_awaited = 0;
    let old: Instance = decode(&golden(RecordKind::Instance, 2)).expect("version 2 instance");
    assert_eq!(old, expected);
    let old: Outcome = decode(&golden(RecordKind::Answer, 2)).expect("version 2 answer");
    assert_eq!(old.instance.child_outcome, None);
}

/// Instances and answers written before branches existed (version 1) read as they
/// did: the same instance, without branches.
#[test]
fn instances_and_answers_of_version_1_read_as_before() {
    let old: Instance = decode(&golden(RecordKind::Instance, 1)).expect("version 1 instance");
    assert_eq!(old, instance());
    assert!(old.branches.is_empty());
    let old: Outcome = decode(&golden(RecordKind::Answer, 1)).expect("version 1 answer");
    assert_eq!(old, answer());
    // And a history written before reads the same: its bytes are unchanged.
    let h: Vec<Record> = decode(&golden(RecordKind::History, 1)).expect("history");
    assert_eq!(h, history());
}

/// The branch events: not in the history sample (whose bytes were written before
/// them), stored and read back like every other event.
fn branch_events() -> Vec<Event> {
    vec![
        Event::BranchStarted {
            branch: s("paperwork"),
        },
        Event::InBranch {
            branch: Some(s("paperwork")),
        },
        Event::BranchFinished {
            branch: s("paperwork"),
        },
        Event::BranchCancelled {
            branch: s("guidance"),
        },
        Event::Joined {
            branches: vec![s("paperwork")],
        },
    ]
}

fn answer() -> Outcome {
    Outcome {
        instance: instance(),
        records: history()[..3].to_vec(),
        children: vec![42],
        replayed: false,
    }
}

fn outbox_record() -> OutboxRecord {
    let hook = |url: &str, state, attempts| WebhookDelivery {
        url: s(url),
        state,
        attempts,
    };
    OutboxRecord {
        id: 9,
        instance: 41,
        at: at(60),
        message: message(MessageKind::Overdue),
        state: Delivery::Failed(s("410 Gone")),
        webhooks: vec![
            hook("http://a.example/hook", Delivery::Pending, 0),
            hook("http://b.example/hook", Delivery::Sent, 1),
            hook("http://c.example/hook", Delivery::Failed(s("410 Gone")), 5),
        ],
    }
}

fn retry() -> crate::store::Attempt {
    crate::store::Attempt {
        message: 9,
        slot: 1,
        url: s("http://b.example/hook"),
        attempts: 2,
        due: at(660),
    }
}

fn directory() -> Directory {
    directory_v1().with_role_titles([(s("staff"), s("職員")), (s("admin"), s("管理員"))].into())
}

/// The sample as version 1 kept it: without the roles' titles.
fn directory_v1() -> Directory {
    Directory::new(
        vec![Department {
            id: s("ops"),
            name: s("營運"),
            head: s("ann"),
        }],
        vec![
            Person {
                id: s("ann"),
                name: s("安"),
                department: s("ops"),
                roles: vec![s("staff"), s("admin")],
                supervisor: None,
            },
            Person {
                id: s("bo"),
                name: s("博"),
                department: s("ops"),
                roles: vec![],
                supervisor: Some(s("ann")),
            },
        ],
    )
}

fn deployment() -> Deployment {
    Deployment {
        name: s("review"),
        version: 3,
        file: Some(s("review.flow")),
        source: s("process review \"審閱\" {\n  started by staff\n  step first {\n    task for starter\n    next done\n  }\n  end done\n}\n"),
        deployed_at: at(0),
    }
}

pub(crate) fn token() -> TokenRecord {
    TokenRecord {
        person: s("ann"),
        issued_at: at(30),
    }
}

/// `at`, to the millisecond, as the sign-in records keep times.
fn at_ms(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at(secs).timestamp_millis()).expect("a valid time")
}

fn password() -> crate::logins::PasswordRecord {
    crate::logins::PasswordRecord {
        phc: s("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g"),
        set_at: at_ms(31),
    }
}

fn invite() -> crate::logins::InviteRecord {
    crate::logins::InviteRecord {
        person: s("bo"),
        issued_at: at_ms(32),
        expires_at: at_ms(32 + 7 * 86_400),
    }
}

fn session() -> crate::logins::SessionRecord {
    crate::logins::SessionRecord {
        person: s("ann"),
        started_at: at_ms(33),
        seen_at: at_ms(3_633),
        csrf: s("q8Zr1vT0bXc"),
    }
}

fn figures() -> crate::store::HourFigures {
    crate::store::HourFigures {
        started: 12,
        finished: 9,
        cancelled: 1,
        breached: [(s("reply"), 2), (s("settle"), 1)].into_iter().collect(),
        durations: [(0, 2), (60, 1), (2880, 3)].into_iter().collect(),
        counted: [
            ((s("complaint_type"), s("dining")), 4),
            ((s("complaint_type"), s("lodging")), 1),
            ((s("request_type"), s("purchase")), 7),
            // A department's record after its starter moved (see `HourFigures`).
            ((s("request_type"), s("consultation")), -1),
        ]
        .into_iter()
        .collect(),
    }
}

/// Figures of version 1 (before instances were counted by a field) read as they
/// did: the same figures, counting none by a field.
#[test]
fn figures_of_version_1_read_as_before() {
    let old: crate::store::HourFigures =
        decode(&golden(RecordKind::Figures, 1)).expect("version 1 figures");
    let mut expected = figures();
    expected.counted.clear();
    assert_eq!(old, expected);
    // Version 2 is version 1's payload with the counts after it.
    let v2 = golden(RecordKind::Figures, 2);
    assert!(v2[2..].starts_with(&golden(RecordKind::Figures, 1)[2..]));
}

/// The committed bytes of each kind's sample: `kind hex` per line.
const GOLDEN: &str = include_str!("golden.txt");

/// The golden bytes of a version of a kind: `instance` for version 1, `instance_v2`
/// for version 2 (the bytes of every version stay, for the records written so).
fn golden(kind: RecordKind, version: u8) -> Vec<u8> {
    let mut name = kind.name().replace(' ', "_");
    if version > 1 {
        name = format!("{name}_v{version}");
    }
    let hex = GOLDEN
        .lines()
        .filter_map(|l| l.split_once(' '))
        .find_map(|(n, hex)| (n == name).then_some(hex.trim()))
        .unwrap_or_else(|| panic!("no golden bytes for {}", kind.name()));
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The sample encodes to its golden bytes and reads back from them as it was.
fn check<T: Stored + PartialEq + std::fmt::Debug>(sample: T) {
    let kind = T::KIND.name();
    let bytes = encode(&sample);
    assert_eq!(
        hex(&bytes),
        hex(&golden(T::KIND, T::VERSION)),
        "the {kind} record is written differently: its storage type changed. Records \
         already on disk are written so; make a new version of the kind instead (see \
         `records`), and keep these bytes reading as they did"
    );
    assert_eq!(bytes[..2], [T::KIND as u8, T::VERSION]);
    let back: T = decode(&golden(T::KIND, T::VERSION)).unwrap_or_else(|e| panic!("{kind}: {e}"));
    assert_eq!(back, sample, "{kind} read back");
}

#[test]
fn each_kind_writes_its_golden_bytes_and_reads_them_back() {
    check(branched());
    check(task());
    check(history());
    check(incident());
    check(answer());
    check(outbox_record());
    check(retry());
    check(directory());
    check(deployment());
    check(token());
    check(figures());
    check(crate::store::signatures::sample());
    check(password());
    check(invite());
    check(session());
}

#[test]
fn a_directory_of_version_1_reads_with_its_roles_untitled() {
    let old: Directory = decode(&golden(RecordKind::Directory, 1)).expect("version 1 directory");
    assert_eq!(old, directory_v1());
    assert_eq!(old.role_title("staff"), "staff");
    assert_eq!(directory().role_title("staff"), "職員");
}

/// Version 1 of each kind but definitions is exactly what layout 3 wrote: the
/// postcard of the domain types as they are in this release. (Once a domain type
/// changes, its layout-3 bytes stay in the golden file and this test goes.)
#[test]
fn version_1_is_what_layout_3_wrote() {
    fn same<T: Stored + Serialize>(v: T) {
        let layout_3 = postcard::to_allocvec(&v).expect("serialize");
        assert_eq!(hex(&encode(&v)[2..]), hex(&layout_3), "{}", T::KIND.name());
        assert_eq!(super::envelop_layout_3::<T>(&layout_3), Ok(encode(&v)));
    }
    // Instances (and the answers holding one) have a version 2 since their branches
    // were added; their layout-3 bytes are version 1's golden bytes.
    for kind in [RecordKind::Instance, RecordKind::Answer] {
        let v1 = golden(kind, 1);
        assert_eq!(v1[..2], [kind as u8, 1]);
        assert_eq!(
            super::envelop_layout_3::<Instance>(&v1[2..]).is_ok(),
            kind == RecordKind::Instance
        );
    }
    same(task());
    same(history());
    same(incident());
    same(outbox_record());
    same(retry());
    // The directory has a version 2 since roles have titles; its layout-3 bytes are
    // version 1's golden bytes.
    let v1 = golden(RecordKind::Directory, 1);
    assert_eq!(
        super::envelop_layout_3::<Directory>(&v1[2..]),
        Ok(v1.clone())
    );
    same(token());
}

#[test]
fn a_record_of_another_kind_or_an_unknown_version_is_refused() {
    let mut b = encode(&task());
    assert!(decode::<Instance>(&b)
        .expect_err("another kind")
        .contains("where instance records belong"));
    b[1] = 2;
    let e = decode::<Task>(&b).expect_err("a newer version");
    assert!(e.contains("version 2 of task records is unknown"), "{e}");
    let mut b = encode(&task());
    b.push(0);
    assert!(decode::<Task>(&b).is_err(), "bytes left over");
    assert!(decode::<Task>(&[]).is_err());
}

/// The variant of a stored enum: its first byte (every index here is below 128,
/// postcard's one-byte varints).
fn index<S: Serialize>(s: S) -> usize {
    postcard::to_allocvec(&s).expect("serialize")[0] as usize
}

/// Each event's name, without a catch-all: a new kind of event fails to compile
/// here until it is named, placed in `EVENTS` and given a sample.
fn name(e: &Event) -> &'static str {
    match e {
        Event::Started { .. } => "Started",
        Event::StepEntered { .. } => "StepEntered",
        Event::WaitEnded => "WaitEnded",
        Event::DueSet { .. } => "DueSet",
        Event::DataSet { .. } => "DataSet",
        Event::TaskCreated { .. } => "TaskCreated",
        Event::TaskClaimed { .. } => "TaskClaimed",
        Event::TaskReleased { .. } => "TaskReleased",
        Event::TaskCompleted { .. } => "TaskCompleted",
        Event::TaskReassigned { .. } => "TaskReassigned",
        Event::TaskCancelled { .. } => "TaskCancelled",
        Event::Signed { .. } => "Signed",
        Event::TimerSet { .. } => "TimerSet",
        Event::TimerCancelled { .. } => "TimerCancelled",
        Event::TimerFired { .. } => "TimerFired",
        Event::LimitStarted { .. } => "LimitStarted",
        Event::LimitBreached { .. } => "LimitBreached",
        Event::LimitStopped { .. } => "LimitStopped",
        Event::DeadlineExtended { .. } => "DeadlineExtended",
        Event::MessageQueued { .. } => "MessageQueued",
        Event::ChildStarted { .. } => "ChildStarted",
        Event::ChildFinished { .. } => "ChildFinished",
        Event::Commented { .. } => "Commented",
        Event::Completed { .. } => "Completed",
        Event::Cancelled { .. } => "Cancelled",
        Event::TaskDue { .. } => "TaskDue",
        Event::Reasoned { .. } => "Reasoned",
        Event::IncidentRaised { .. } => "IncidentRaised",
        Event::IncidentResolved { .. } => "IncidentResolved",
        Event::BranchStarted { .. } => "BranchStarted",
        Event::InBranch { .. } => "InBranch",
        Event::BranchFinished { .. } => "BranchFinished",
        Event::BranchCancelled { .. } => "BranchCancelled",
        Event::Joined { .. } => "Joined",
    }
}

/// The events as the history stores them: the index of each is its place here, for
/// good. A new one goes at the end.
const EVENTS: [&str; 34] = [
    "Started",
    "StepEntered",
    "WaitEnded",
    "DueSet",
    "DataSet",
    "TaskCreated",
    "TaskClaimed",
    "TaskReleased",
    "TaskCompleted",
    "TaskReassigned",
    "TaskCancelled",
    "Signed",
    "TimerSet",
    "TimerCancelled",
    "TimerFired",
    "LimitStarted",
    "LimitBreached",
    "LimitStopped",
    "DeadlineExtended",
    "MessageQueued",
    "ChildStarted",
    "ChildFinished",
    "Commented",
    "Completed",
    "Cancelled",
    "TaskDue",
    "Reasoned",
    "IncidentRaised",
    "IncidentResolved",
    "BranchStarted",
    "InBranch",
    "BranchFinished",
    "BranchCancelled",
    "Joined",
];

/// Each event is stored under the index of its name, whatever the order of the
/// domain's variants (conversions match by name), and reads back as itself: a
/// variant inserted in `Event` cannot make the history say something else.
#[test]
fn every_event_is_stored_under_its_name_and_reads_back_as_itself() {
    let mut events = events();
    events.extend(branch_events());
    let mut seen = std::collections::BTreeSet::new();
    for e in &events {
        let stored = EventV1::from(e);
        let bytes = postcard::to_allocvec(&stored).expect("serialize");
        assert_eq!(EVENTS[index(&stored)], name(e));
        let back: EventV1<'static> = postcard::from_bytes(&bytes).expect("read back");
        assert_eq!(&Event::from(back), e);
        seen.insert(name(e));
    }
    assert_eq!(seen.len(), EVENTS.len(), "every event has a sample");
}

/// The same for the enums inside records: the index of each variant, by name.
#[test]
fn every_variant_of_the_stored_enums_keeps_its_index() {
    let statuses = [
        (Status::Running, 0),
        (Status::Completed, 1),
        (Status::Cancelled, 2),
        (Status::Incident, 3),
    ];
    for (v, i) in statuses {
        assert_eq!(index(StatusV1::from(&v)), i, "{v:?}");
    }
    let states = [
        (TaskState::Open, 0),
        (TaskState::Claimed, 1),
        (TaskState::Completed, 2),
        (TaskState::Cancelled, 3),
    ];
    for (v, i) in states {
        assert_eq!(index(TaskStateV1::from(v)), i, "{v:?}");
    }
    for (v, i) in [(TaskKind::Work, 0), (TaskKind::Sign, 1)] {
        assert_eq!(index(TaskKindV1::from(&v)), i, "{v:?}");
    }
    let deliveries = [
        (Delivery::Pending, 0),
        (Delivery::Sent, 1),
        (Delivery::Failed(s("x")), 2),
    ];
    for (v, i) in deliveries {
        assert_eq!(index(DeliveryV1::from(&v)), i, "{v:?}");
    }
    // The samples hold every variant of these, in their stored order.
    for (i, t) in timers().iter().enumerate() {
        assert_eq!(index(TimerKindV1::from(&t.kind)), i, "{:?}", t.kind);
    }
    for (i, v) in data().values().enumerate() {
        let want = match v {
            Value::Text(_) => 0,
            Value::Int(_) => 1,
            Value::Dec(_) => 2,
            Value::Bool(_) => 3,
            Value::Date(_) => 4,
            Value::DateTime(_) => 5,
            Value::Duration(_) => 6,
            Value::Choice(_) => 7,
            Value::Person(_) => 8,
            Value::Department(_) => 9,
            Value::List(_) => 10,
        };
        assert_eq!(index(ValueV1::from(v)), want, "{v:?} ({i})");
    }
    for (i, a) in attempts().iter().enumerate() {
        assert_eq!(index(AttemptV1::from(a)), i, "{a:?}");
    }
    for e in events() {
        match &e {
            Event::MessageQueued { message } => {
                let want = match message.kind {
                    MessageKind::Notify => 0,
                    MessageKind::Reminder => 1,
                    MessageKind::Overdue => 2,
                    MessageKind::Escalation => 3,
                    MessageKind::Breach => 4,
                    MessageKind::Incident => 5,
                };
                assert_eq!(index(MessageKindV1::from(message.kind)), want);
            }
            Event::IncidentResolved { how } => {
                let want = match how {
                    Resolution::Retry => 0,
                    Resolution::Set { .. } => 1,
                    Resolution::Move { .. } => 2,
                    Resolution::Cancel => 3,
                };
                assert_eq!(index(ResolutionV1::from(how)), want);
            }
            _ => {}
        }
    }
}

/// A list value and an element's timer, added after the golden samples, are new
/// variants at the end of their storage enums: the samples' bytes (and so every
/// database written before them) read as they did, and the new ones read back.
#[test]
fn a_list_value_and_an_element_timer_are_stored_after_the_older_variants() {
    let element = |item: &str, owner: &str| {
        [
            (s("item"), Value::Text(s(item))),
            (s("owner"), Value::Person(s(owner))),
            (
                s("due"),
                Value::Date(NaiveDate::from_ymd_opt(2026, 3, 6).expect("a date")),
            ),
        ]
        .into()
    };
    let list = Value::List(vec![
        element("修復", "wang_fang"),
        element("培訓", "chen_jing"),
    ]);
    assert_eq!(index(ValueV1::from(&list)), 10);
    let mut inst = instance();
    inst.data.insert(s("action_items"), list);
    inst.data.insert(s("none_yet"), Value::List(vec![]));
    inst.timers.push(Timer {
        n: 40,
        due: at(900),
        kind: TimerKind::ElementTimer {
            step: s("follow_up"),
            task: 3,
            element: 1,
            reminder: Some(0),
            every_minutes: Some(1440),
        },
    });
    let kind = &inst.timers.last().expect("pushed").kind;
    assert_eq!(index(TimerKindV1::from(kind)), 9);
    let bytes = encode(&inst);
    let back: Instance = decode(&bytes).expect("reads back");
    assert_eq!(back, inst);
    // The older samples keep their bytes: nothing before the new variants moved.
    check(branched());
}
