//! Shared helpers for the walkthrough tests: a temp database with the company's
//! processes deployed, a manual clock in Shanghai time, and short ways to start,
//! complete, fire timers and read the outbox.

#![allow(dead_code)]

use baton_dsl::eval::Value;
use baton_engine::clock::ManualClock;
use baton_engine::core::{
    Instance, InstanceId, Message, MessageKind, Record, Rejection, Status, Task, TaskId, TimerKind,
};
pub use baton_engine::store::prelude::*;
use baton_engine::store::{Deployed, Options, Outcome, StoreError};
use baton_engine::Engine;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value as Json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// A moment given as Shanghai wall-clock time.
pub fn sh(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    ZONE.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a valid Shanghai time")
        .with_timezone(&Utc)
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

pub fn minutes(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

pub fn hours(h: i64) -> chrono::Duration {
    chrono::Duration::hours(h)
}

/// A JSON object literal as the map the engine takes.
pub fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

pub fn processes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../processes")
}

pub fn options() -> Options {
    Options {
        zone: ZONE,
        ..Default::default()
    }
}

/// The rejection inside a failed command; panics if it succeeded or failed otherwise.
pub fn rejection<T: std::fmt::Debug>(r: Result<T, StoreError>) -> Rejection {
    match r {
        Err(StoreError::Rejected(rej)) => rej,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// The (field, message) pairs of an `Invalid` rejection, sorted by field.
pub fn field_errors(rej: Rejection) -> Vec<(String, String)> {
    match rej {
        Rejection::Invalid(errs) => {
            let mut v: Vec<(String, String)> =
                errs.into_iter().map(|e| (e.field, e.message)).collect();
            v.sort();
            v
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// One outbox entry, as the tests look at it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub id: u64,
    pub instance: InstanceId,
    pub at: DateTime<Utc>,
    pub message: Message,
}

impl Sent {
    pub fn kind(&self) -> MessageKind {
        self.message.kind
    }
    pub fn to(&self) -> Vec<&str> {
        self.message.to.iter().map(String::as_str).collect()
    }
    pub fn text(&self) -> &str {
        &self.message.text
    }
}

pub struct Harness {
    /// First, so that it checks before the engine closes.
    pub verified: Verified,
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
    pub engine: Engine,
    /// The PostgreSQL database the engine runs on, with `BATON_TEST_STORE=postgres`
    /// (see `location`); last, so that it is dropped after the engine.
    pub pg: Option<baton_engine::store::pg_testing::TestDb>,
}

/// Where a test's database is: the temporary folder, or with
/// `BATON_TEST_STORE=postgres` a PostgreSQL database of its own on
/// `BATON_TEST_POSTGRES`, so that the walkthroughs run on either store.
pub fn location(
    dir: &tempfile::TempDir,
) -> (
    std::path::PathBuf,
    Option<baton_engine::store::pg_testing::TestDb>,
) {
    if std::env::var("BATON_TEST_STORE").as_deref() == Ok("postgres") {
        if let Some(db) = baton_engine::store::pg_testing::database("walkthrough") {
            return (std::path::PathBuf::from(&db.url), Some(db));
        }
    }
    (dir.path().to_path_buf(), None)
}

/// Checks, when a walkthrough ends, that it left a consistent database: indexes,
/// timers, kept signatures and participants agree with the records and histories.
pub struct Verified(pub Option<Arc<baton_engine::store::Store>>);

impl Drop for Verified {
    fn drop(&mut self) {
        let Some(store) = self.0.take() else { return };
        if std::thread::panicking() {
            return;
        }
        match store.verify() {
            Ok(problems) => assert_eq!(problems, Vec::<String>::new(), "verify"),
            // A test that broke the store on purpose.
            Err(StoreError::Broken(_)) => {}
            Err(e) => panic!("verify: {e}"),
        }
    }
}

impl Harness {
    /// A harness around an open engine.
    pub fn of(dir: tempfile::TempDir, clock: ManualClock, engine: Engine) -> Harness {
        Harness {
            verified: Verified(Some(engine.store.clone())),
            dir,
            clock,
            engine,
            pg: None,
        }
    }

    /// A fresh database at `start`, with `processes/` deployed (every file must deploy).
    pub fn at(start: DateTime<Utc>) -> Harness {
        Harness::with(start, options())
    }

    /// The same with other options (another language, say).
    pub fn with(start: DateTime<Utc>, options: Options) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = ManualClock::new(start);
        let (at, pg) = location(&dir);
        let engine = Engine::open(&at, options, Arc::new(clock.clone())).expect("open");
        let reports = engine.deploy_dir(&processes_dir()).expect("deploy_dir");
        let mut names: Vec<String> = Vec::new();
        for r in &reports {
            match &r.result {
                Ok((name, Deployed::New { version: 1 })) => names.push(name.clone()),
                Ok(other) => panic!("{}: unexpected {other:?}", r.file),
                Err(e) => panic!("{}: {e}", r.file),
            }
        }
        names.sort();
        assert_eq!(
            names,
            [
                "appraisal",
                "callback",
                "case_training",
                "complaint",
                "coordination",
                "daily_report",
                "hiring",
                "liaison",
                "member_activity",
                "member_anniversary",
                "member_care",
                "monthly_summary",
                "onboarding",
                "probation",
                "probation_termination",
                "quality_daily",
                "quality_evaluation",
                "quality_weekly",
                "rectification",
                "scenic_orders",
                "scenic_weekly",
                "service_request",
                "targets",
                "training_monthly",
                "training_quarterly",
                "training_weekly",
                "trip_care",
                "weekly_hotspots",
                "weekly_report",
                "weekly_summary"
            ]
        );
        Harness {
            pg,
            ..Harness::of(dir, clock, engine)
        }
    }

    /// Drop the engine (closing the database) and open it again on the same path.
    pub fn reopen(self) -> Harness {
        let Harness {
            verified,
            dir,
            clock,
            engine,
            pg,
        } = self;
        drop(verified);
        drop(engine);
        let at = match &pg {
            Some(db) => std::path::PathBuf::from(&db.url),
            None => dir.path().to_path_buf(),
        };
        let engine = Engine::open(&at, options(), Arc::new(clock.clone())).expect("reopen");
        Harness {
            pg,
            ..Harness::of(dir, clock, engine)
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        use baton_engine::clock::Clock;
        self.clock.now()
    }

    /// Move the clock to `t` and fire what is due; returns how many timers fired.
    pub fn fire_at(&self, t: DateTime<Utc>) -> usize {
        self.clock.set(t);
        self.engine.fire_due().expect("fire_due")
    }

    pub fn try_start(&self, process: &str, data: Json, actor: &str) -> Result<Outcome, StoreError> {
        self.engine.start(process, obj(data), actor, None)
    }

    pub fn start(&self, process: &str, data: Json, actor: &str) -> Outcome {
        self.try_start(process, data, actor)
            .unwrap_or_else(|e| panic!("start {process} by {actor}: {e}"))
    }

    pub fn inst(&self, id: InstanceId) -> Instance {
        self.engine.store.instance(id).expect("instance")
    }

    pub fn history(&self, id: InstanceId) -> Vec<Record> {
        self.engine.store.history(id).expect("history")
    }

    /// The instance's one active task, which must be at `step`; at a parallel step,
    /// the one active task of the branch that is at `step`.
    pub fn task(&self, id: InstanceId, step: &str) -> Task {
        let inst = self.inst(id);
        let active: Vec<&Task> = inst
            .active_tasks()
            .filter(|t| inst.branches.is_empty() || t.step == step)
            .collect();
        assert_eq!(
            active.len(),
            1,
            "instance {id} at {:?}: expected one active task, found {active:#?}",
            inst.step
        );
        assert_eq!(active[0].step, step, "instance {id} is at another step");
        active[0].clone()
    }

    pub fn try_complete(
        &self,
        task: TaskId,
        actor: &str,
        choice: Option<&str>,
        data: Json,
    ) -> Result<Outcome, StoreError> {
        self.engine.complete(task, actor, choice, obj(data))
    }

    pub fn complete(&self, task: TaskId, actor: &str, choice: Option<&str>, data: Json) -> Outcome {
        self.try_complete(task, actor, choice, data)
            .unwrap_or_else(|e| panic!("complete {task} by {actor}: {e}"))
    }

    /// Complete the one task of `step` and return the instance afterwards.
    pub fn act(
        &self,
        id: InstanceId,
        step: &str,
        actor: &str,
        choice: Option<&str>,
        data: Json,
    ) -> Instance {
        let t = self.task(id, step);
        self.complete(t.id, actor, choice, data).instance
    }

    pub fn sign(&self, id: InstanceId, actor: &str, approve: bool) -> Instance {
        self.act(
            id,
            "signoffs",
            actor,
            Some(if approve { "approve" } else { "refuse" }),
            Json::Object(Map::new()),
        )
    }

    /// The outbox after entry `after`, read 100 at a time.
    pub fn outbox_after(&self, after: u64) -> Vec<Sent> {
        let mut out: Vec<Sent> = Vec::new();
        loop {
            let from = out.last().map_or(after, |s| s.id);
            let page = self.engine.store.outbox(from, 100).expect("outbox");
            if page.is_empty() {
                return out;
            }
            out.extend(page.into_iter().map(|r| Sent {
                id: r.id,
                instance: r.instance,
                at: r.at,
                message: r.message,
            }));
        }
    }

    pub fn outbox(&self) -> Vec<Sent> {
        self.outbox_after(0)
    }

    /// The outbox entries of one instance.
    pub fn sent_by(&self, id: InstanceId) -> Vec<Sent> {
        self.outbox()
            .into_iter()
            .filter(|s| s.instance == id)
            .collect()
    }

    /// The id of the last outbox entry so far (0 if none): a mark to read on from.
    pub fn outbox_mark(&self) -> u64 {
        self.outbox().last().map_or(0, |s| s.id)
    }

    /// The instance's pending timers, earliest first.
    pub fn timers(&self, id: InstanceId) -> Vec<(DateTime<Utc>, TimerKind)> {
        let mut v: Vec<_> = self
            .inst(id)
            .timers
            .into_iter()
            .map(|t| (t.due, t.kind))
            .collect();
        v.sort_by_key(|(due, _)| *due);
        v
    }

    /// The ids of a person's tasks in their list.
    pub fn list(&self, person: &str) -> Vec<TaskId> {
        let mut v: Vec<TaskId> = self
            .engine
            .store
            .tasks_for(person)
            .expect("tasks_for")
            .into_iter()
            .map(|t| t.id)
            .collect();
        v.sort();
        v
    }

    /// The people with a role, from the deployed directory.
    pub fn people(&self, role: &str) -> Vec<String> {
        self.engine
            .store
            .directory()
            .with_role(role)
            .map(|p| p.id.clone())
            .collect()
    }

    /// Instances of a process in a status, by id.
    pub fn instances(&self, process: &str, status: &str) -> Vec<Instance> {
        self.engine
            .store
            .instances(process, status, None, 1000)
            .expect("instances")
            .items
    }

    pub fn data(&self, id: InstanceId, field: &str) -> Option<Value> {
        self.inst(id).data.get(field).cloned()
    }
}

/// Assert that an instance has ended with `outcome`.
pub fn assert_ended(inst: &Instance, outcome: &str) {
    assert_eq!(
        inst.status,
        Status::Completed,
        "instance {} still runs at {:?}",
        inst.id,
        inst.step
    );
    assert_eq!(inst.outcome.as_deref(), Some(outcome));
    assert!(inst.timers.is_empty(), "timers left: {:?}", inst.timers);
    assert!(inst.limits.is_empty(), "limits left: {:?}", inst.limits);
    assert_eq!(inst.active_tasks().count(), 0);
}

/// Assert that an instance runs at `step`.
pub fn assert_at(inst: &Instance, step: &str) {
    assert_eq!(
        inst.status,
        Status::Running,
        "instance {} is {:?}",
        inst.id,
        inst.outcome
    );
    assert_eq!(inst.step.as_deref(), Some(step));
}

// ---- the hiring chain, shared by the people walkthroughs and the rule tests ----------

/// What `hire` leaves behind.
pub struct Hired {
    pub hiring: InstanceId,
    pub onboarding: InstanceId,
}

/// A requisition by `requester` approved all the way, `candidate` hired on
/// `hired_on`: returns the hiring instance (waiting at `onboard`) and the onboarding
/// instance it started.
pub fn hire(h: &Harness, requester: &str, candidate: &str, hired_on: &str) -> Hired {
    let id = h
        .start(
            "hiring",
            serde_json::json!({"position": "熱線客服專員", "requirements": "普通話標準，一年以上客服經驗"}),
            requester,
        )
        .instance
        .id;
    h.act(
        id,
        "manager_review",
        "li_ming",
        Some("approve"),
        serde_json::json!({}),
    );
    h.act(
        id,
        "hr_review",
        "sun_li",
        Some("approve"),
        serde_json::json!({}),
    );
    h.act(
        id,
        "publish",
        "qian_yu",
        None,
        serde_json::json!({"channels": "招聘網站", "interview_on": "2026-03-12"}),
    );
    h.act(
        id,
        "hr_interview",
        "qian_yu",
        Some("hire"),
        serde_json::json!({"hr_interview_notes": "符合崗位要求"}),
    );
    h.act(
        id,
        "interview",
        requester,
        Some("hire"),
        serde_json::json!({"interview_notes": "表達清晰"}),
    );
    let offer = h.task(id, "offer");
    let o = h.complete(
        offer.id,
        "sun_li",
        None,
        serde_json::json!({"candidate": candidate, "hired_on": hired_on}),
    );
    assert_eq!(o.children.len(), 1, "the offer starts onboarding");
    Hired {
        hiring: id,
        onboarding: o.children[0],
    }
}

/// Walk an onboarding instance from its first day to its last task (`guide`), with
/// `mentor` as the mentor; returns when it waits to open the probation application.
pub fn onboard(h: &Harness, id: InstanceId, mentor: &str) {
    let inst = h.inst(id);
    let employee = match inst.data.get("employee") {
        Some(Value::Person(p)) => p.clone(),
        other => panic!("employee: {other:?}"),
    };
    let supervisor = h
        .engine
        .store
        .directory()
        .person(&employee)
        .and_then(|p| p.supervisor.clone())
        .expect("a supervisor");
    let first_day = match h.inst(id).timers.as_slice() {
        [t] => t.due,
        other => panic!("expected the first-day wait, found {other:?}"),
    };
    assert_eq!(h.fire_at(first_day), 1);
    h.act(
        id,
        "report",
        &supervisor,
        None,
        serde_json::json!({"offer_letter_no": "HR-2026-017"}),
    );
    h.act(id, "introduce", &supervisor, None, serde_json::json!({}));
    h.act(id, "study", &employee, None, serde_json::json!({}));
    h.act(
        id,
        "assign",
        &supervisor,
        None,
        serde_json::json!({"workstation": "A-12", "mentor": mentor}),
    );
    paperwork(h, id);
    h.act(id, "guide", mentor, None, serde_json::json!({}));
}

/// HR's paperwork for a new employee, done by 錢宇 (an HR officer): the branch of
/// onboarding beside the mentor's guidance.
pub fn paperwork(h: &Harness, id: InstanceId) -> Instance {
    h.act(
        id,
        "paperwork",
        "qian_yu",
        None,
        serde_json::json!({"contract_no": "LC-2026-017"}),
    )
}

// ---- the calendar, as the daemon runs it --------------------------------------------

/// Every instance of `process`, running or ended, by id.
pub fn ids_of(h: &Harness, process: &str) -> Vec<InstanceId> {
    let mut v: Vec<InstanceId> = ["running", "completed"]
        .iter()
        .flat_map(|s| h.instances(process, s))
        .map(|i| i.id)
        .collect();
    v.sort();
    v
}

/// A fresh database whose schedules start counting at `t`, as a daemon started then.
pub fn calendar_from(t: DateTime<Utc>) -> Harness {
    let h = Harness::at(t);
    assert_eq!(h.engine.run_schedules().expect("schedules").0, 0);
    h
}

/// What the daemon does when the clock reaches `at`: the scheduled starts due by then
/// and the timers they set. Returns the instances of `process` it started.
pub fn run_calendar(h: &Harness, process: &str, at: DateTime<Utc>) -> Vec<InstanceId> {
    let before = ids_of(h, process);
    h.clock.set(at);
    h.engine.run_schedules().expect("schedules");
    h.engine.fire_due().expect("timers");
    ids_of(h, process)
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect()
}

/// What one instance sent after `mark`, as (kind, to, text).
pub fn sent_for(h: &Harness, id: InstanceId, mark: u64) -> Vec<(MessageKind, Vec<String>, String)> {
    h.outbox_after(mark)
        .into_iter()
        .filter(|s| s.instance == id)
        .map(|s| {
            let to = s.to().iter().map(|p| p.to_string()).collect();
            (s.kind(), to, s.text().to_string())
        })
        .collect()
}

/// People ids as messages list them.
pub fn to(people: &[&str]) -> Vec<String> {
    people.iter().map(|p| p.to_string()).collect()
}
