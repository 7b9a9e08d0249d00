//! The scheduler with the manual clock: it wakes when the clock reaches a timer and
//! fires it at that instant; after downtime it catches up once, in due order; the
//! daily report starts once per agent per day, also across a restart.

mod common;

use baton_engine::clock::{Clock, ManualClock};
use baton_engine::core::{Event, MessageKind, TimerKind};
use baton_engine::scheduler::{self, SchedulerConfig};
use baton_engine::Engine;
use common::*;
use serde_json::json;
use std::sync::Arc;

struct Daemon {
    engine: Arc<Engine>,
    clock: ManualClock,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    _dir: Arc<tempfile::TempDir>,
}

fn open(dir: &std::path::Path, clock: &ManualClock) -> Arc<Engine> {
    Arc::new(Engine::open(dir, options(), Arc::new(clock.clone())).expect("open"))
}

/// Start the scheduler and wait for its first pass, so that it has seen the clock
/// as it is before a test moves it.
async fn spawn(engine: Arc<Engine>, clock: ManualClock, dir: Arc<tempfile::TempDir>) -> Daemon {
    let mut first = engine.ticks.subscribe();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(scheduler::run(
        engine.clone(),
        SchedulerConfig {
            webhooks: Default::default(),
            delivery: Default::default(),
        },
        async move {
            let _ = rx.await;
        },
    ));
    first.changed().await.expect("a first pass");
    Daemon {
        engine,
        clock,
        stop,
        task,
        _dir: dir,
    }
}

async fn daemon_at(start: chrono::DateTime<chrono::Utc>) -> Daemon {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let clock = ManualClock::new(start);
    let engine = open(dir.path(), &clock);
    for r in engine.deploy_dir(&processes_dir()).expect("deploy") {
        r.result.expect("deploys");
    }
    spawn(engine, clock, dir).await
}

impl Daemon {
    /// Move the clock and wait (on the scheduler's pass counter, not on real time)
    /// until `done` holds.
    async fn until(&self, t: chrono::DateTime<chrono::Utc>, done: impl Fn(&Engine) -> bool) {
        let mut ticks = self.engine.ticks.subscribe();
        self.clock.set(t);
        while !done(&self.engine) {
            tokio::time::timeout(std::time::Duration::from_secs(20), ticks.changed())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "no scheduler pass at {t}: next timer {:?}",
                        self.engine.store.next_timer()
                    )
                })
                .expect("scheduler alive");
        }
    }

    async fn stop(self) -> (Arc<Engine>, ManualClock, Arc<tempfile::TempDir>) {
        let _ = self.stop.send(());
        self.task.await.expect("scheduler ends");
        (self.engine, self.clock, self._dir)
    }
}

fn breaches(e: &Engine) -> Vec<(Vec<String>, chrono::DateTime<chrono::Utc>)> {
    e.store
        .outbox(0, 1000)
        .expect("outbox")
        .into_iter()
        .filter(|m| m.message.kind == MessageKind::Breach)
        .map(|m| (m.message.to.clone(), m.at))
        .collect()
}

fn complaint(e: &Engine, severity: &str) -> u64 {
    e.start(
        "complaint",
        obj(json!({"customer": "張三", "contact": "138", "channel": "hotline", "severity": severity})),
        "wang_fang",
        None,
    )
    .expect("start")
    .instance
    .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untouched_general_complaint_reaches_the_supervisor_at_the_breach_instant() {
    let start = sh(2026, 3, 2, 10, 0);
    let d = daemon_at(start).await;
    complaint(&d.engine, "general");
    // The reminder ten minutes before, to the agent who owns the complaint.
    d.until(start + minutes(50), |e| {
        e.store
            .outbox(0, 100)
            .expect("outbox")
            .iter()
            .any(|m| m.message.kind == MessageKind::Reminder)
    })
    .await;
    assert!(breaches(&d.engine).is_empty(), "no breach before the hour");
    // A minute short of the hour: still nothing.
    d.until(start + minutes(59), |e| {
        e.store
            .next_timer()
            .expect("next")
            .is_some_and(|t| t > start + minutes(59))
    })
    .await;
    assert!(breaches(&d.engine).is_empty());
    d.until(start + hours(1), |e| !breaches(e).is_empty()).await;
    // 王芳's supervisor is 陳靜; the message carries the breach instant.
    assert_eq!(
        breaches(&d.engine),
        vec![(vec!["chen_jing".to_string()], start + hours(1))]
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_major_complaint_breaches_at_24_hours_and_consent_extends_it() {
    let start = sh(2026, 3, 2, 10, 0);
    let d = daemon_at(start).await;
    let major = complaint(&d.engine, "major");
    let consented = complaint(&d.engine, "general");
    let refused = complaint(&d.engine, "general");
    let extend = |id: u64, consent: bool| {
        d.engine.act(
            id,
            baton_engine::core::Command::Extend {
                limit: Some("settle".into()),
                minutes: 60,
                data: obj(json!({"customer_consents": consent})),
            },
            "wang_fang",
            None,
        )
    };
    assert!(extend(consented, true).is_ok());
    assert!(extend(refused, false).is_err(), "no consent, no extension");
    d.until(start + hours(1), |e| breaches(e).len() == 1).await;
    let breached_instances = |e: &Engine| -> Vec<u64> {
        e.store
            .outbox(0, 1000)
            .expect("outbox")
            .into_iter()
            .filter(|m| m.message.kind == MessageKind::Breach)
            .map(|m| m.instance)
            .collect()
    };
    assert_eq!(breached_instances(&d.engine), [refused]);
    d.until(start + hours(2), |e| breaches(e).len() == 2).await;
    assert_eq!(breached_instances(&d.engine), [refused, consented]);
    d.until(start + hours(24), |e| breaches(e).len() == 3).await;
    assert_eq!(breached_instances(&d.engine), [refused, consented, major]);
    assert_eq!(breaches(&d.engine)[2].1, start + hours(24));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_three_days_down_every_overdue_timer_fires_once_in_due_order() {
    let start = sh(2026, 3, 2, 10, 0);
    let d = daemon_at(start).await;
    let mut ids = Vec::new();
    for (i, sev) in ["general", "major", "general"].iter().enumerate() {
        d.clock.set(start + minutes(7 * i as i64));
        ids.push(complaint(&d.engine, sev));
    }
    // Down for three days: the scheduler is stopped, and the clock runs on.
    let (engine, clock, dir) = d.stop().await;
    drop(engine);
    clock.set(start + chrono::Duration::days(3));
    let engine = open(dir.path(), &clock);
    let pending: Vec<_> = engine.store.due_timers(clock.now(), 100).expect("due");
    assert_eq!(
        pending.len(),
        6,
        "a reminder and a breach for each complaint"
    );
    let d = spawn(engine, clock.clone(), dir).await;
    d.until(clock.now(), |e| {
        e.store.due_timers(clock.now(), 10).expect("due").is_empty()
    })
    .await;
    // Every timer fired exactly once, and the messages came out in due order.
    let mut fired = 0;
    for id in &ids {
        let h = d.engine.store.history(*id).expect("history");
        let ns: Vec<u32> = h
            .iter()
            .filter_map(|r| match r.event {
                Event::TimerFired { n } => Some(n),
                _ => None,
            })
            .collect();
        let mut unique = ns.clone();
        unique.dedup();
        assert_eq!(ns, unique, "instance {id} fired a timer twice");
        fired += ns.len();
    }
    assert_eq!(fired, 6);
    let due_of = |inst: u64, kind: MessageKind| -> chrono::DateTime<chrono::Utc> {
        let i = ids.iter().position(|x| *x == inst).expect("ours") as i64;
        let base = start + minutes(7 * i);
        let limit = if inst == ids[1] { hours(24) } else { hours(1) };
        match kind {
            MessageKind::Reminder => base + limit - minutes(10),
            _ => base + limit,
        }
    };
    let order: Vec<chrono::DateTime<chrono::Utc>> = d
        .engine
        .store
        .outbox(0, 100)
        .expect("outbox")
        .into_iter()
        .map(|m| due_of(m.instance, m.message.kind))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "messages in due order");
    assert_eq!(order.len(), 6);
    d.stop().await;
}

/// The people the daily report is started for: one schedule per post.
const REPORTING_ROLES: [&str; 5] = [
    "agent",
    "scenic_agent",
    "member_care_agent",
    "info_agent",
    "quality_supervisor",
];

fn reporters(e: &Engine) -> usize {
    let dir = e.store.directory();
    REPORTING_ROLES
        .iter()
        .map(|r| dir.with_role(r).count())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_report_starts_once_per_agent_per_day_also_across_a_restart() {
    // Monday 2 March 2026, 09:00 Shanghai: the first sight of the schedules.
    let start = sh(2026, 3, 2, 9, 0);
    let d = daemon_at(start).await;
    // One schedule per post asked a daily report of.
    let agents = reporters(&d.engine);
    assert!(agents >= 2);
    let reports = |e: &Engine| -> usize {
        e.store
            .instances("daily_report", "running", None, 10_000)
            .expect("list")
            .items
            .len()
    };
    d.until(sh(2026, 3, 2, 17, 30), |e| reports(e) == agents)
        .await;
    // Each agent has exactly one report task.
    let dir = d.engine.store.directory();
    for p in REPORTING_ROLES.iter().flat_map(|r| dir.with_role(r)) {
        let mine = d.engine.store.tasks_for(&p.id).expect("tasks");
        assert_eq!(
            mine.iter().filter(|t| t.process == "daily_report").count(),
            1,
            "{}",
            p.id
        );
    }
    // Restart at 17:45 the same day: nothing starts again.
    let (engine, clock, dir) = d.stop().await;
    drop(engine);
    clock.set(sh(2026, 3, 2, 17, 45));
    let engine = open(dir.path(), &clock);
    let (started, _) = engine.run_schedules().expect("schedules");
    assert_eq!(started, 0);
    assert_eq!(reports(&engine), agents);
    let d = spawn(engine, clock, dir).await;
    d.until(sh(2026, 3, 3, 17, 30), |e| reports(e) == 2 * agents)
        .await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_daily_start_runs_once_after_a_long_downtime() {
    let start = sh(2026, 3, 2, 9, 0);
    let d = daemon_at(start).await;
    let (engine, clock, dir) = d.stop().await;
    drop(engine);
    // Down from Monday 09:00 to Thursday 09:00: three 17:30 occurrences missed.
    clock.set(sh(2026, 3, 5, 9, 0));
    let engine = open(dir.path(), &clock);
    let agents = reporters(&engine);
    let evaluators = engine
        .store
        .directory()
        .with_role("quality_evaluator")
        .count();
    assert!(evaluators >= 1);
    let (started, next) = engine.run_schedules().expect("schedules");
    // daily_report catches up once (the default): one start per agent, not three;
    // so does the quality evaluators' daily report, one per evaluator, and the
    // scenic supervisor's daily review of orders (08:00), once for the company.
    let running = |process: &str| {
        engine
            .store
            .instances(process, "running", None, 10_000)
            .expect("list")
            .items
            .len()
    };
    assert_eq!(running("daily_report"), agents);
    assert_eq!(running("quality_daily"), evaluators);
    assert_eq!(running("scenic_orders"), 1);
    assert_eq!(started, agents + evaluators + 1);
    assert!(next.expect("a next occurrence") > clock.now());
    let (again, _) = engine.run_schedules().expect("schedules");
    assert_eq!(again, 0);
    drop(dir);
}

/// 每周組織部門會議: the weekly hot-issue meeting missed while the daemon was down
/// (Thursday to Monday, over Friday 15:00) is still held, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weekly_meeting_missed_while_down_is_held_once_after() {
    let d = daemon_at(sh(2026, 3, 5, 9, 0)).await;
    let (engine, clock, dir) = d.stop().await;
    drop(engine);
    let meetings = |e: &Engine| {
        e.store
            .instances("weekly_hotspots", "running", None, 100)
            .expect("list")
            .items
            .len()
    };
    clock.set(sh(2026, 3, 16, 9, 0));
    let engine = open(dir.path(), &clock);
    assert_eq!(meetings(&engine), 0);
    engine.run_schedules().expect("schedules");
    // Two Fridays were missed (6th and 13th): one meeting, not two and not none.
    assert_eq!(meetings(&engine), 1);
    engine.run_schedules().expect("schedules");
    assert_eq!(meetings(&engine), 1);
    drop(dir);
}

#[test]
fn a_working_hours_deadline_set_on_friday_at_five_falls_due_on_monday() {
    let h = Harness::at(sh(2026, 11, 27, 17, 0));
    let src = "process quick {\n  started by agent\n  step answer {\n    task for starter\n    due 4 working hours\n    next done\n  }\n  end done\n}\n";
    h.engine
        .store
        .deploy("quick.flow", src, h.now())
        .expect("deploys");
    let o = h.start("quick", json!({}), "wang_fang");
    let task = o.instance.tasks[0].clone();
    // One working hour left on Friday, three on Monday from 09:00.
    assert_eq!(task.due, Some(sh(2026, 11, 30, 12, 0)));
    let timers = h.timers(o.instance.id);
    assert!(timers.contains(&(
        sh(2026, 11, 30, 12, 0),
        TimerKind::Due {
            step: "answer".into()
        }
    )));
}
