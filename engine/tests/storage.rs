//! The storage traits' contract, written against the traits alone: every
//! implementation runs this suite (today the embedded sled store; a second backend
//! adds one line to `implementations!`). Each case names the traits it needs, so
//! the suite also shows which operations go together.

use baton_engine::core::{Command, InstanceId, TaskState};
use baton_engine::staff::{Department, Directory, Person};
use baton_engine::store::prelude::*;
use baton_engine::store::{Deployed, Ended, Options, Request, Store, StoreError};
use baton_engine::team::Party;
use baton_engine::tokens::TokenRecord;
use chrono::{DateTime, Duration, TimeZone, Utc};

const FLOW: &str = r#"
process review "審閱" {
  started by staff
  data {
    topic text "主題"
  }
  step draft "起草" {
    task for starter
    due 2h
    next approve
  }
  step approve "核准" {
    task for staff
    next tell
  }
  step tell "通知" {
    notify starter "「{topic}」已核准"
    next done
  }
  end done "完成"
}
"#;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 1, 0, 0)
        .single()
        .expect("a time")
}

fn person(id: &str, roles: &[&str]) -> Person {
    Person {
        id: id.into(),
        name: id.to_uppercase(),
        department: "ops".into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        supervisor: None,
    }
}

fn directory() -> Directory {
    Directory::new(
        vec![Department {
            id: "ops".into(),
            name: "營運".into(),
            head: "ann".into(),
        }],
        vec![
            person("ann", &["staff"]),
            person("bob", &["staff"]),
            person("cat", &[]),
        ],
    )
}

/// A store with the directory and the process deployed.
fn ready<S: DirectoryWrite + DefinitionWrite>(s: S) -> S {
    s.set_directory(directory()).expect("directory");
    assert_eq!(
        s.deploy("review.flow", FLOW, t0()).expect("deploy"),
        ("review".to_string(), Deployed::New { version: 1 })
    );
    s
}

fn start<S: Commands>(s: &S, by: &str, key: Option<&str>) -> InstanceId {
    let cmd = Command::Start {
        process: "review".into(),
        data: serde_json::json!({"topic": "預算"})
            .as_object()
            .cloned()
            .expect("object"),
    };
    s.execute(None, &cmd, by, t0(), key)
        .expect("start")
        .instance
        .id
}

fn deploys_keep_versions<S: DefinitionRead + DefinitionWrite>(s: &S) {
    // The same source again is the same version; a changed one the next.
    assert_eq!(
        s.deploy("review.flow", FLOW, t0()).expect("again").1,
        Deployed::Unchanged { version: 1 }
    );
    let v2 = FLOW.replace("due 2h", "due 3h");
    assert_eq!(
        s.deploy("review.flow", &v2, t0()).expect("v2").1,
        Deployed::New { version: 2 }
    );
    assert_eq!(s.latest("review").expect("latest").0, 2);
    assert_eq!(s.process_names(), [("review".to_string(), 2)]);
    assert_eq!(s.stored_definition("review", 1).expect("v1").source, FLOW);
    assert!(s.definition("review", 1).is_ok());
    assert!(matches!(
        s.definition("review", 3),
        Err(StoreError::Rejected(_))
    ));
}

fn commands_are_read_back<
    S: Commands + InstanceRead + TaskRead + HistoryRead + ParticipantRead + DirectoryRead + Health,
>(
    s: &S,
) {
    let id = start(s, "ann", Some("k1"));
    // The same key is the same answer, and nothing new.
    assert_eq!(start(s, "ann", Some("k1")), id);
    let inst = s.instance(id).expect("instance");
    assert_eq!(inst.starter, "ann");
    let mine = s.tasks_for("ann").expect("tasks");
    assert_eq!(mine.len(), 1);
    let task = mine[0].id;
    assert_eq!(s.task(task).expect("task").step, "draft");
    let done = Command::Complete {
        task,
        choice: None,
        data: Default::default(),
    };
    s.execute(Some(id), &done, "ann", t0(), None)
        .expect("complete");
    // Finished tasks by state; the next one offered to a role.
    let finished = s
        .tasks_in_state(TaskState::Completed, None, 10)
        .expect("page");
    assert_eq!(
        finished.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        [task]
    );
    assert_eq!(s.tasks_for_role("staff").expect("queue").len(), 1);
    assert!(s.tasks_for("cat").expect("none").is_empty());
    let history = s.history(id).expect("history");
    assert!(history.len() >= 4, "{history:?}");
    assert!(history.windows(2).all(|w| w[0].seq + 1 == w[1].seq));
    let page = s.instances("review", "running", None, 10).expect("page");
    assert_eq!(page.items.iter().map(|i| i.id).collect::<Vec<_>>(), [id]);
    let shown = s.shown(id).expect("shown");
    assert_eq!(shown.instance.step.as_deref(), Some("approve"));
    // Who takes part: the starter; a role member through the role; not a stranger.
    let dir = s.directory();
    let inst = s.instance(id).expect("instance");
    assert!(s
        .takes_part(&Party::person(&dir, "ann"), &inst)
        .expect("ann"));
    assert!(s
        .takes_part(&Party::person(&dir, "bob"), &inst)
        .expect("bob"));
    assert!(!s
        .takes_part(&Party::person(&dir, "cat"), &inst)
        .expect("cat"));
    // Besides the starter, whom the instance names: the role offered the next task.
    assert_eq!(
        s.participants(id).expect("participants"),
        (vec![], vec!["staff".to_string()])
    );
    assert_eq!(s.verify().expect("verify"), Vec::<String>::new());
}

fn timers_fire_once<S: Commands + TimerRead + TimerWrite + Health>(s: &S) {
    let id = start(s, "ann", None);
    assert_eq!(s.timer_count(), 1);
    let due = s.next_timer().expect("next").expect("a timer");
    assert_eq!(due, t0() + Duration::hours(2));
    assert!(s
        .due_timers(due - Duration::seconds(1), 10)
        .expect("none")
        .is_empty());
    let fired = s.due_timers(due, 10).expect("due");
    assert_eq!(fired.len(), 1);
    let (at, inst, n) = fired[0];
    assert_eq!(inst, id);
    let reqs = vec![Request::new(
        Some(inst),
        &Command::FireTimer { n, due: at },
        baton_engine::core::SYSTEM,
        due,
        None,
    )];
    for r in s.execute_many(reqs) {
        r.expect("fired");
    }
    assert_eq!(s.timer_count(), 0);
    // Dropping a timer that is gone already changes nothing.
    s.drop_timer(at, inst, n).expect("drop");
    assert_eq!(s.verify().expect("verify"), Vec::<String>::new());
}

fn schedules_keep_their_watermark<S: ScheduleRead + ScheduleWrite>(s: &S) {
    assert_eq!(s.watermark("review", 0).expect("none"), None);
    s.set_watermark("review", 0, t0()).expect("set");
    assert_eq!(s.watermark("review", 0).expect("mark"), Some(t0()));
    assert_eq!(s.watermark("review", 1).expect("other"), None);
}

fn messages_reach_inboxes_and_webhooks<
    S: Commands + InstanceRead + OutboxRead + OutboxWrite + Health,
>(
    s: &S,
) {
    let id = start(s, "ann", None);
    for (who, step) in [("ann", "draft"), ("bob", "approve")] {
        let task = s
            .instance(id)
            .expect("instance")
            .tasks
            .iter()
            .find(|t| t.step == step)
            .map(|t| t.id)
            .expect("task");
        let done = Command::Complete {
            task,
            choice: None,
            data: Default::default(),
        };
        s.execute(Some(id), &done, who, t0(), None)
            .expect("complete");
    }
    let pending = s.undelivered(100).expect("undelivered");
    assert!(!pending.is_empty(), "a message to hand on");
    for rec in &pending {
        s.hand_on(rec, &["http://hook.example/".to_string()], t0())
            .expect("hand on");
    }
    assert!(s.undelivered(100).expect("none left").is_empty());
    assert_eq!(s.outbox(0, 100).expect("outbox").len(), pending.len());
    assert_eq!(s.inbox("ann", 0, 10).expect("inbox").len(), 1);
    {
        assert!(s.message(pending[0].id).expect("message").is_some());
        // Leased, then settled: sent once, nothing left queued.
        let leases = s
            .lease_due(t0(), t0() + Duration::seconds(30), 10)
            .expect("lease");
        assert_eq!(leases.len(), pending.len());
        assert!(s
            .lease_due(t0(), t0() + Duration::seconds(30), 10)
            .expect("held")
            .is_empty());
        for l in &leases {
            assert!(s.settle_attempt(l, Ended::Sent).expect("settle"));
        }
        assert!(s.queued_attempts().expect("queued").is_empty());
        assert_eq!(s.next_attempt().expect("next"), None);
    }
    assert_eq!(s.verify().expect("verify"), Vec::<String>::new());
}

fn tokens_by_hash_and_person<S: TokenRead + TokenWrite + DirectoryWrite>(s: &S) {
    assert!(s.no_tokens().expect("none"));
    let rec = TokenRecord {
        person: "ann".into(),
        issued_at: t0(),
    };
    s.put_token(&[7; 32], &rec).expect("put");
    assert_eq!(s.token(&[7; 32]).expect("get"), Some(rec));
    assert_eq!(s.tokens_of("ann").expect("of"), [[7; 32]]);
    assert_eq!(
        s.token_holders().expect("holders"),
        [("ann".to_string(), [7; 32])]
    );
    // Not for someone outside the directory.
    let stranger = TokenRecord {
        person: "zed".into(),
        issued_at: t0(),
    };
    assert!(s.put_token(&[8; 32], &stranger).is_err());
    s.remove_tokens(&[("ann".to_string(), [7; 32])])
        .expect("remove");
    assert_eq!(s.token(&[7; 32]).expect("gone"), None);
    assert!(s.no_tokens().expect("none again"));
}

fn sign_ins_and_read_marks<S: LoginRead + LoginWrite + Commands + Changes>(s: &S) {
    use baton_engine::logins::{InviteRecord, PasswordRecord, SessionRecord};
    let pw = PasswordRecord {
        phc: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        set_at: t0(),
    };
    s.put_password("ann", &pw).expect("password");
    assert_eq!(s.password("ann").expect("read"), Some(pw));
    assert!(s
        .put_password(
            "zed",
            &PasswordRecord {
                phc: "x".into(),
                set_at: t0()
            }
        )
        .is_err());
    s.remove_password("ann").expect("removed");
    assert_eq!(s.password("ann").expect("read"), None);
    // An invitation is taken once.
    let inv = InviteRecord {
        person: "ann".into(),
        issued_at: t0(),
        expires_at: t0() + chrono::Duration::days(7),
    };
    s.put_invite(&[1; 32], &inv).expect("invite");
    assert_eq!(s.invite(&[1; 32]).expect("read"), Some(inv.clone()));
    assert_eq!(s.take_invite(&[1; 32]).expect("take"), Some(inv));
    assert_eq!(s.take_invite(&[1; 32]).expect("again"), None);
    // Sessions, ended one by one or all of a person's.
    let session = SessionRecord {
        person: "ann".into(),
        started_at: t0(),
        seen_at: t0(),
        csrf: "c".into(),
    };
    for h in [[2; 32], [3; 32], [4; 32]] {
        s.put_session(&h, &session).expect("session");
    }
    s.remove_session(&[2; 32]).expect("one");
    assert_eq!(s.session(&[2; 32]).expect("read"), None);
    assert_eq!(s.remove_sessions_of("ann").expect("all"), 2);
    assert_eq!(s.session(&[3; 32]).expect("read"), None);
    // Read marks: one above the mark, then all up to an id.
    s.mark_read("ann", 5, false).expect("one");
    s.mark_read("ann", 9, false).expect("one");
    assert_eq!(s.read_marks("ann").expect("marks"), (0, [5, 9].into()));
    s.mark_read("ann", 6, true).expect("up to 6");
    assert_eq!(s.read_marks("ann").expect("marks"), (6, [9].into()));
    // Word of changes: a command raises the counter a receiver waits on.
    let mut rx = s.changes();
    let before = *rx.borrow_and_update();
    start(s, "ann", None);
    assert!(rx.has_changed().expect("open"));
    assert!(*rx.borrow() > before);
}

/// The figures follow the commands: starts, finishes with their time to finish,
/// cancellations, and open and overdue tasks per person and role.
fn figures_follow_commands<S: Commands + TaskRead + FigureRead + Health>(s: &S) {
    let (a, b, c) = (
        start(s, "ann", None),
        start(s, "ann", None),
        start(s, "ann", None),
    );
    let draft = |id| {
        s.tasks_for("ann")
            .expect("tasks")
            .into_iter()
            .find(|t| t.id.instance == id)
            .expect("a draft")
            .id
    };
    let complete = |id, task, by: &str, at| {
        let cmd = Command::Complete {
            task,
            choice: None,
            data: Default::default(),
        };
        s.execute(Some(id), &cmd, by, at, None).expect("complete");
    };
    complete(a, draft(a), "ann", t0());
    let approve = s.tasks_for_role("staff").expect("queue")[0].id;
    complete(a, approve, "bob", t0() + Duration::minutes(150));
    let cancel = Command::Cancel {
        reason: "重複".into(),
    };
    s.execute(Some(b), &cancel, "ann", t0() + Duration::hours(1), None)
        .expect("cancel");
    let day = t0().date_naive();
    let rows = s.figures("review", day, day).expect("figures");
    let mut sum = baton_engine::store::HourFigures::default();
    for r in &rows {
        assert_eq!(r.department, "ops");
        sum.add(&r.figures);
    }
    assert_eq!((sum.started, sum.finished, sum.cancelled), (3, 1, 1));
    assert_eq!(sum.durations, std::collections::BTreeMap::from([(150, 1)]));
    // Three hours of the day had something counted: the starts, the cancel, the end.
    let hours: Vec<u8> = rows.iter().map(|r| r.hour).collect();
    assert_eq!(hours, [1, 2, 3]);
    assert!(s
        .figures(
            "review",
            day.succ_opt().expect("a day"),
            day.succ_opt().expect("a day")
        )
        .expect("none")
        .is_empty());
    // Instance c's draft, due two hours after its start, is ann's and overdue at 3h.
    let counts = s
        .open_task_counts(t0() + Duration::hours(3))
        .expect("counts");
    let ann = counts.people[&("ann".to_string(), "review".to_string())];
    assert_eq!((ann.open, ann.overdue), (1, 1));
    assert!(counts.roles.is_empty(), "{:?}", counts.roles);
    let _ = c;
    assert_eq!(s.verify().expect("verify"), Vec::<String>::new());
}

fn health_of_a_working_store<S: Health + IncidentRead>(s: &S) {
    s.durable().expect("durable");
    assert_eq!(s.broken(), None);
    assert_eq!(s.incident_count(), 0);
    assert!(s.incidents(None, 10).expect("page").items.is_empty());
}

/// The whole suite on stores made by `make`: everything a store offers.
fn suite<S>(make: impl Fn() -> S)
where
    S: InstanceRead
        + ParticipantRead
        + TaskRead
        + HistoryRead
        + IncidentRead
        + TimerRead
        + TimerWrite
        + ScheduleRead
        + ScheduleWrite
        + OutboxRead
        + OutboxWrite
        + DefinitionRead
        + DefinitionWrite
        + TokenRead
        + TokenWrite
        + LoginRead
        + LoginWrite
        + Changes
        + DirectoryRead
        + DirectoryWrite
        + Health
        + FigureRead
        + Commands,
{
    deploys_keep_versions(&ready(make()));
    commands_are_read_back(&ready(make()));
    timers_fire_once(&ready(make()));
    schedules_keep_their_watermark(&ready(make()));
    messages_reach_inboxes_and_webhooks(&ready(make()));
    tokens_by_hash_and_person(&ready(make()));
    sign_ins_and_read_marks(&ready(make()));
    figures_follow_commands(&ready(make()));
    health_of_a_working_store(&ready(make()));
}

#[test]
fn the_embedded_store_keeps_the_storage_contract() {
    let dirs = std::cell::RefCell::new(Vec::new());
    suite(|| {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path(), Options::default()).expect("open");
        dirs.borrow_mut().push(dir);
        store
    });
}

/// The same suite on PostgreSQL (`BATON_TEST_POSTGRES`; see `pg::testing`).
#[test]
fn the_postgres_store_keeps_the_storage_contract() {
    let dbs = std::cell::RefCell::new(Vec::new());
    if baton_engine::store::pg_testing::database("probe").is_none() {
        return;
    }
    suite(|| {
        let db = baton_engine::store::pg_testing::database("storage contract").expect("a database");
        let store = Store::open_postgres(&db.url, Options::default()).expect("open");
        dbs.borrow_mut().push(db);
        store
    });
}

/// Two nodes on one PostgreSQL database: the same task completed on both at once is
/// completed once, and the other node gets the conflict answer a single node gives;
/// the same Idempotency-Key sent to both starts one instance.
#[test]
fn two_nodes_never_both_apply_a_command() {
    let Some(db) = baton_engine::store::pg_testing::database("two nodes") else {
        return;
    };
    let a = ready(Store::open_postgres(&db.url, Options::default()).expect("node a"));
    let b = Store::open_postgres(&db.url, Options::default()).expect("node b");
    for round in 0..20 {
        let id = start(&a, "ann", None);
        let task = a.tasks_for("ann").expect("tasks")[0].id;
        let done = Command::Complete {
            task,
            choice: None,
            data: Default::default(),
        };
        let barrier = std::sync::Barrier::new(2);
        let (ra, rb) = std::thread::scope(|s| {
            let ta = s.spawn(|| {
                barrier.wait();
                a.execute(Some(id), &done, "ann", t0(), None)
            });
            let tb = s.spawn(|| {
                barrier.wait();
                b.execute(Some(id), &done, "ann", t0(), None)
            });
            (ta.join().expect("a"), tb.join().expect("b"))
        });
        let conflicts = [&ra, &rb]
            .iter()
            .filter(|r| {
                matches!(
                    r,
                    Err(StoreError::Rejected(
                        baton_engine::core::Rejection::Conflict(_)
                    ))
                )
            })
            .count();
        assert_eq!(
            (ra.is_ok() as usize + rb.is_ok() as usize, conflicts),
            (1, 1),
            "round {round}: {ra:?} / {rb:?}"
        );
        let completed = a
            .history(id)
            .expect("history")
            .iter()
            .filter(|r| matches!(r.event, baton_engine::core::Event::TaskCompleted { .. }))
            .count();
        assert_eq!(completed, 1, "round {round}");
        // One key, sent to both nodes at once: one instance.
        let key = format!("both-{round}");
        let (ia, ib) = std::thread::scope(|s| {
            let ta = s.spawn(|| start(&a, "ann", Some(&key)));
            let tb = s.spawn(|| start(&b, "ann", Some(&key)));
            (ta.join().expect("a"), tb.join().expect("b"))
        });
        assert_eq!(ia, ib, "round {round}");
        // Leave no open task of ann's for the next round.
        let open = a.tasks_for("ann").expect("tasks");
        for t in open {
            let c = Command::Complete {
                task: t.id,
                choice: None,
                data: Default::default(),
            };
            a.execute(Some(t.id.instance), &c, "ann", t0(), None)
                .expect("complete");
        }
    }
    assert_eq!(a.verify().expect("verify"), Vec::<String>::new());
}

/// Timers due at once on two nodes: each node claims the ones it fires (`FOR
/// UPDATE SKIP LOCKED`), so both fire some, and together they fire each once.
#[test]
fn two_nodes_share_the_due_timers_and_fire_each_once() {
    let Some(db) = baton_engine::store::pg_testing::database("timers") else {
        return;
    };
    let clock = baton_engine::clock::ManualClock::new(t0());
    let open = || {
        baton_engine::Engine::open(
            std::path::Path::new(&db.url),
            Options::default(),
            std::sync::Arc::new(clock.clone()),
        )
        .expect("node")
    };
    let a = open();
    a.store.set_directory(directory()).expect("directory");
    a.store.deploy("review.flow", FLOW, t0()).expect("deploy");
    let b = open();
    let n = 600;
    for i in 0..n {
        start(&*a.store, "ann", Some(&format!("t{i}")));
    }
    assert_eq!(a.store.timer_count(), n);
    clock.advance(Duration::hours(3));
    let (fa, fb) = std::thread::scope(|s| {
        let ta = s.spawn(|| a.fire_due().expect("a fires"));
        let tb = s.spawn(|| b.fire_due().expect("b fires"));
        (ta.join().expect("a"), tb.join().expect("b"))
    });
    assert_eq!(fa + fb, n, "node a fired {fa}, node b {fb}");
    assert!(fa > 0 && fb > 0, "node a fired {fa}, node b {fb}");
    assert_eq!(a.store.timer_count(), 0);
    assert_eq!(a.store.verify().expect("verify"), Vec::<String>::new());
}

/// The schema is made once, by versioned migrations; a database whose schema is
/// newer than this release knows is refused with what to do, and left as it is.
#[test]
fn a_newer_postgres_schema_is_refused() {
    let Some(db) = baton_engine::store::pg_testing::database("schema") else {
        return;
    };
    drop(Store::open_postgres(&db.url, Options::default()).expect("made"));
    // Opened again: nothing to apply.
    drop(Store::open_postgres(&db.url, Options::default()).expect("again"));
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let applied: i64 = c
        .query_one("SELECT count(*) FROM baton_schema", &[])
        .expect("versions")
        .get(0);
    assert_eq!(applied, 1);
    c.execute("INSERT INTO baton_schema (version) VALUES (99)", &[])
        .expect("a newer release's");
    let refused = Store::open_postgres(&db.url, Options::default())
        .err()
        .expect("refused");
    assert!(
        refused
            .to_string()
            .contains("schema version 99, newer than this release knows"),
        "{refused}"
    );
}

/// `baton copy`: an embedded database into PostgreSQL and back, every record kept
/// (counts per kind, `verify` clean), and the copy goes on where the source stopped.
#[test]
fn a_database_copied_to_postgres_and_back_keeps_everything() {
    let Some(db) = baton_engine::store::pg_testing::database("copy") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let sled_a = tmp.path().join("a");
    let (first, second, events) = {
        let s = ready(Store::open(&sled_a, Options::default()).expect("open"));
        let first = start(&s, "ann", Some("k1"));
        let second = start(&s, "ann", None);
        s.put_token(
            &[7; 32],
            &TokenRecord {
                person: "ann".into(),
                issued_at: t0(),
            },
        )
        .expect("token");
        (first, second, s.history(first).expect("history"))
    };
    let pg = std::path::PathBuf::from(&db.url);
    let there = baton_engine::store::copy(&sled_a, &pg, Options::default).expect("copy");
    assert_eq!(there.problems, Vec::<String>::new());
    assert!(there.total() > 0);
    // Copying into a database that holds records is refused.
    assert!(baton_engine::store::copy(&sled_a, &pg, Options::default).is_err());
    let sled_b = tmp.path().join("b");
    let back = baton_engine::store::copy(&pg, &sled_b, Options::default).expect("back");
    assert_eq!(back.problems, Vec::<String>::new());
    assert_eq!(back.kinds, there.kinds);
    for path in [pg.as_path(), sled_b.as_path()] {
        let s = Store::open_at(path, Options::default()).expect("open the copy");
        assert_eq!(s.history(first).expect("history"), events);
        assert_eq!(
            s.token(&[7; 32]).expect("token").map(|t| t.person),
            Some("ann".into())
        );
        // The same key answers from the first run; a new start gets a new id.
        let again = start(&s, "ann", Some("k1"));
        assert_eq!(again, first, "{}", path.display());
        assert!(start(&s, "ann", None) > second);
        assert_eq!(s.verify().expect("verify"), Vec::<String>::new());
    }
}

/// The figures keep UTC hours: a database written in one zone and opened in
/// another (the company moved its zone, or `verify` runs elsewhere) still agrees
/// with its histories, and each hour goes to the day it falls in, in the zone the
/// store reads with.
#[test]
fn figures_do_not_depend_on_the_zone_they_were_written_in() {
    let dir = tempfile::tempdir().expect("tmp");
    let shanghai = || Options {
        zone: chrono_tz::Asia::Shanghai,
        ..Options::default()
    };
    // 2026-05-04 01:00 UTC is 09:00 in Shanghai, the same day in both.
    let late = t0() + Duration::hours(17);
    {
        let s = ready(Store::open(dir.path(), shanghai()).expect("open"));
        start(&s, "ann", None);
        // 18:00 UTC is 02:00 the next day in Shanghai.
        let cmd = Command::Start {
            process: "review".into(),
            data: serde_json::json!({"topic": "x"})
                .as_object()
                .cloned()
                .expect("object"),
        };
        s.execute(None, &cmd, "ann", late, None).expect("start");
        s.durable().expect("flush");
    }
    let day = t0().date_naive();
    let next = day.succ_opt().expect("a day");
    let started = |s: &Store, d| -> u32 {
        s.figures("review", d, d)
            .expect("figures")
            .iter()
            .map(|r| r.figures.started)
            .sum()
    };
    let s = Store::open(dir.path(), Options::default()).expect("open in UTC");
    assert_eq!(s.verify().expect("verify"), Vec::<String>::new());
    assert_eq!((started(&s, day), started(&s, next)), (2, 0));
    drop(s);
    let s = Store::open(dir.path(), shanghai()).expect("open in Shanghai");
    assert_eq!((started(&s, day), started(&s, next)), (1, 1));
}

/// A process counted by a choice field, given at the start or at its one step.
const COUNTED: &str = r#"
process sorted "分類" {
  started by staff
  data {
    kind a("甲") | b("乙") | c("丙")? "類別"
  }
  counted by kind
  step draft "起草" {
    task for starter
    fill kind?
    next done
  }
  end done "完成"
}
"#;

/// The counts by a field follow the values the instances hold, under the hour each
/// started: a value given a day later, or changed, counts there, even once the
/// starter has moved to another department. They are kept in UTC hours like the
/// other figures, so they survive a restart and agree with the histories whatever
/// zone the store is opened in; each day is the zone's.
#[test]
fn counts_by_a_field_survive_a_restart_and_a_change_of_zone() {
    use baton_engine::overview::{overview, Filter};
    use std::collections::BTreeMap;
    let dir = tempfile::tempdir().expect("tmp");
    let shanghai = || Options {
        zone: chrono_tz::Asia::Shanghai,
        ..Options::default()
    };
    let start = |s: &Store, kind: Option<&str>, at| -> InstanceId {
        let mut data = serde_json::Map::new();
        if let Some(k) = kind {
            data.insert("kind".into(), k.into());
        }
        let cmd = Command::Start {
            process: "sorted".into(),
            data,
        };
        s.execute(None, &cmd, "ann", at, None)
            .expect("start")
            .instance
            .id
    };
    let fill = |s: &Store, id: InstanceId, kind: &str, at| {
        let task = s
            .tasks_for("ann")
            .expect("tasks")
            .into_iter()
            .find(|t| t.id.instance == id)
            .expect("a draft")
            .id;
        let cmd = Command::Complete {
            task,
            choice: None,
            data: serde_json::json!({ "kind": kind })
                .as_object()
                .cloned()
                .expect("object"),
        };
        s.execute(Some(id), &cmd, "ann", at, None).expect("fill");
    };
    // t0 is 09:00 in Shanghai; `late` 02:00 the next day there, the same day in UTC.
    let late = t0() + Duration::hours(17);
    let next_day = t0() + Duration::days(1);
    {
        let s = Store::open(dir.path(), shanghai()).expect("open");
        s.set_directory(directory()).expect("directory");
        s.deploy("sorted.flow", COUNTED, t0()).expect("deploy");
        let first = start(&s, Some("a"), t0());
        let unsorted = start(&s, None, t0());
        start(&s, Some("b"), t0());
        start(&s, Some("a"), late);
        start(&s, None, late);
        // ann moves to another department meanwhile: her changes count there.
        let mut moved = directory();
        moved.departments.push(Department {
            id: "sales".into(),
            name: "銷售".into(),
            head: "bob".into(),
        });
        moved.people[0].department = "sales".into();
        s.set_directory(Directory::new(moved.departments, moved.people))
            .expect("directory");
        // A day later: one is sorted, the other changes its mind.
        fill(&s, unsorted, "c", next_day);
        fill(&s, first, "b", next_day);
        s.durable().expect("flush");
    }
    let day = t0().date_naive();
    let next = day.succ_opt().expect("a day");
    let counted = |s: &Store, d| -> BTreeMap<String, i32> {
        let mut out = BTreeMap::new();
        for r in s.figures("sorted", d, d).expect("figures") {
            for ((field, choice), n) in r.figures.counted {
                assert_eq!(field, "kind");
                *out.entry(choice).or_default() += n;
            }
        }
        out.retain(|_, n| *n != 0);
        out
    };
    let map = |xs: &[(&str, i32)]| -> BTreeMap<String, i32> {
        xs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    };
    let s = Store::open(dir.path(), Options::default()).expect("open in UTC");
    assert_eq!(s.verify().expect("verify"), Vec::<String>::new());
    assert_eq!(counted(&s, day), map(&[("a", 1), ("b", 2), ("c", 1)]));
    assert!(counted(&s, next).is_empty(), "nothing started the next day");
    drop(s);
    let s = Store::open(dir.path(), shanghai()).expect("open in Shanghai");
    assert_eq!(s.verify().expect("verify"), Vec::<String>::new());
    assert_eq!(counted(&s, day), map(&[("b", 2), ("c", 1)]));
    assert_eq!(counted(&s, next), map(&[("a", 1)]));

    // The overview: this week's counts by the choices' labels, for the department
    // of the starters, and none for another.
    let o =
        overview(&s, next_day, chrono_tz::Asia::Shanghai, &Filter::default()).expect("overview");
    let c = &o.processes[0].counted[0];
    assert_eq!((c.field.as_str(), c.label.as_str()), ("kind", "類別"));
    let shown: Vec<(&str, u32, u32)> = c
        .choices
        .iter()
        .map(|c| (c.label.as_str(), c.week, c.month))
        .collect();
    assert_eq!(shown, [("甲", 1, 1), ("乙", 2, 2), ("丙", 1, 1)]);
    // The one never sorted.
    assert_eq!((c.unclassified.week, c.unclassified.month), (1, 1));
    let hr = Filter {
        department: Some("hr".into()),
        ..Filter::default()
    };
    let o = overview(&s, next_day, chrono_tz::Asia::Shanghai, &hr).expect("overview");
    let c = &o.processes[0].counted[0];
    assert!(c.choices.iter().all(|c| c.week == 0 && c.month == 0));
    assert_eq!((c.unclassified.week, c.unclassified.month), (0, 0));
}
