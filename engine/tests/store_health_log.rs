//! A broken store is said once in the log, at error level: the scheduler, whose
//! every pass fails on it until the disk has room again, does not say it again each
//! pass; and once it has, a pass makes the store write again by itself.
//! (A test binary of its own: it counts the process's error events.)

mod common;

use baton_engine::clock::{Clock, ManualClock};
use baton_engine::scheduler::{self, SchedulerConfig};
use baton_engine::store::Fault;
use baton_engine::Engine;
use common::*;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

static ERRORS: AtomicUsize = AtomicUsize::new(0);

/// Counts the events at error level, from every thread.
struct Errors;

impl tracing::Subscriber for Errors {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        if *e.metadata().level() == tracing::Level::ERROR {
            ERRORS.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

const DUE: &str = "process quick {\n  started by agent\n  step answer {\n    task for starter\n    due 1h\n    next done\n  }\n  end done\n}\n";

#[tokio::test]
async fn a_broken_store_is_logged_once_however_often_the_scheduler_fails_on_it() {
    tracing::subscriber::set_global_default(Errors).expect("the only subscriber");
    let start = sh(2026, 11, 30, 10, 0);
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(start);
    let engine =
        Arc::new(Engine::open(dir.path(), options(), Arc::new(clock.clone())).expect("open"));
    for r in engine.deploy_dir(&processes_dir()).expect("deploy") {
        r.result.expect("deploys");
    }
    engine
        .store
        .deploy("quick.flow", DUE, start)
        .expect("deploys");
    engine
        .start("quick", obj(json!({})), "wang_fang", None)
        .expect("starts");
    let mut ticks = engine.ticks.subscribe();
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
    ticks.changed().await.expect("a first pass");
    assert_eq!(ERRORS.load(Ordering::SeqCst), 0);

    engine.store.inject_failure(Fault::Full);
    assert!(engine
        .start("quick", obj(json!({})), "wang_fang", None)
        .is_err());
    assert!(engine.store.broken().is_some());
    assert_eq!(ERRORS.load(Ordering::SeqCst), 1, "said once when it broke");

    // The task's deadline passes: each pass fails on the broken store.
    for s in 0..4 {
        clock.set(start + hours(1) + chrono::Duration::seconds(s * 2));
        tokio::time::timeout(std::time::Duration::from_secs(20), ticks.changed())
            .await
            .expect("a scheduler pass")
            .expect("running");
    }
    assert!(!engine
        .store
        .due_timers(clock.now(), 10)
        .expect("due")
        .is_empty());
    assert_eq!(ERRORS.load(Ordering::SeqCst), 1, "not said again each pass");

    // Room again: the next pass opens the database again and fires the timer.
    engine.store.clear_failure();
    clock.set(start + hours(1) + chrono::Duration::seconds(10));
    tokio::time::timeout(std::time::Duration::from_secs(20), ticks.changed())
        .await
        .expect("a scheduler pass")
        .expect("running");
    assert_eq!(engine.store.broken(), None);
    assert!(engine
        .store
        .due_timers(clock.now(), 10)
        .expect("due")
        .is_empty());
    assert_eq!(engine.store.verify().expect("verify"), Vec::<String>::new());
    assert_eq!(ERRORS.load(Ordering::SeqCst), 1);
    let _ = stop.send(());
    task.await.expect("stops");
}
