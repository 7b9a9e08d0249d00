//! Webhook deliveries are at least once across restarts: an attempt cut off by a crash
//! or by a stop is taken again after the store is opened anew, with the same message
//! id in its body and its `Idempotency-Key`.

mod common;

use axum::{extract::State, http::HeaderMap, http::StatusCode, routing::post, Json, Router};
use baton_engine::clock::ManualClock;
use baton_engine::config::DeliveryConfig;
use baton_engine::scheduler::{self, SchedulerConfig};
use baton_engine::store::Delivery;
use baton_engine::Engine;
use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// A webhook that records each request and, while `hold` is set, does not answer it
/// until the test ends.
#[derive(Clone)]
struct Receiver {
    seen: Arc<Mutex<Vec<(String, u64)>>>,
    hold: Arc<AtomicBool>,
    arrived: Arc<Mutex<mpsc::Sender<()>>>,
    release: Arc<tokio::sync::Notify>,
}

async fn hook(
    State(r): State<Receiver>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> StatusCode {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let id = body["id"].as_u64().unwrap_or(0);
    r.seen.lock().expect("seen").push((key, id));
    let _ = r.arrived.lock().expect("arrived").send(());
    if r.hold.load(Ordering::SeqCst) {
        r.release.notified().await;
    }
    StatusCode::OK
}

/// The receiver on a runtime of its own, which outlives the engine's runtimes.
fn receiver() -> (
    Receiver,
    mpsc::Receiver<()>,
    String,
    tokio::runtime::Runtime,
) {
    let (tx, rx) = mpsc::channel();
    let r = Receiver {
        seen: Arc::default(),
        hold: Arc::new(AtomicBool::new(true)),
        arrived: Arc::new(Mutex::new(tx)),
        release: Arc::new(tokio::sync::Notify::new()),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(r.clone());
    rt.spawn(async move { axum::serve(listener, app).await });
    (r, rx, url, rt)
}

const FLOW: &str = r#"
process notice {
  started by agent
  step tell {
    notify starter "已收到"
    next done
  }
  end done
}
"#;

fn config(url: &str, timeout_secs: u64) -> SchedulerConfig {
    SchedulerConfig {
        webhooks: [("*".to_string(), url.to_string())].into(),
        delivery: DeliveryConfig {
            max_attempts: 3,
            first_backoff_secs: 2,
            max_backoff_secs: 60,
            timeout_secs,
        },
    }
}

fn open(path: &Path, clock: &ManualClock) -> Arc<Engine> {
    Arc::new(Engine::open(path, options(), Arc::new(clock.clone())).expect("open"))
}

/// An engine with one message, for the receiver, waiting to be handed on.
fn engine_with_a_message(path: &Path, clock: &ManualClock) -> (Arc<Engine>, u64) {
    let engine = open(path, clock);
    for r in engine.deploy_dir(&processes_dir()).expect("deploy") {
        r.result.expect("deploys");
    }
    engine
        .store
        .deploy("notice.flow", FLOW, clock_now(clock))
        .expect("deploy notice");
    engine
        .start("notice", obj(json!({})), "wang_fang", None)
        .expect("start");
    let out = engine.store.outbox(0, 10).expect("outbox");
    assert_eq!(out.len(), 1, "{out:?}");
    (engine, out[0].id)
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<chrono::Utc> {
    use baton_engine::clock::Clock;
    clock.now()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Run the scheduler on `rt` until the message's delivery is recorded as sent.
fn deliver(rt: &tokio::runtime::Runtime, engine: &Arc<Engine>, url: &str, id: u64) {
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let mut ticks = engine.ticks.subscribe();
    let task = rt.spawn(scheduler::run(engine.clone(), config(url, 5), async move {
        let _ = rx.await;
    }));
    rt.block_on(async {
        loop {
            let rec = engine
                .store
                .message(id)
                .expect("read")
                .expect("the message");
            if rec.state == Delivery::Sent {
                break;
            }
            if tokio::time::timeout(Duration::from_secs(20), ticks.changed())
                .await
                .is_err()
            {
                panic!("never delivered: {rec:?}");
            }
        }
    });
    let _ = stop.send(());
    rt.block_on(task).expect("scheduler");
}

#[test]
fn an_attempt_cut_off_by_a_crash_is_delivered_after_reopening_with_the_same_id() {
    let (recv, arrived, url, _recv_rt) = receiver();
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(sh(2026, 3, 2, 10, 0));
    let (engine, id) = engine_with_a_message(dir.path(), &clock);

    // The scheduler hands the message on and posts it; the receiver holds the POST.
    let rt = runtime();
    let (_stop, rx) = tokio::sync::oneshot::channel::<()>();
    rt.spawn(scheduler::run(
        engine.clone(),
        config(&url, 30),
        async move {
            let _ = rx.await;
        },
    ));
    arrived
        .recv_timeout(Duration::from_secs(20))
        .expect("the first attempt reaches the receiver");
    // A crash mid-attempt: every task of the run is gone, the store is dropped
    // without the attempt's outcome.
    drop(rt);
    let engine = Arc::try_unwrap(engine)
        .ok()
        .expect("nothing of the stopped run holds the engine");
    drop(engine);

    let engine = open(dir.path(), &clock);
    assert!(
        engine.store.next_attempt().expect("read").is_some(),
        "the attempt cut off is still queued"
    );
    assert_eq!(
        engine
            .store
            .message(id)
            .expect("read")
            .expect("message")
            .state,
        Delivery::Pending
    );
    recv.hold.store(false, Ordering::SeqCst);
    // Dropping a runtime is not quite a crash: a worker in the middle of the attempt
    // may see its connection close as the runtime goes and record a failure with a
    // retry after the back-off (2 s). Either way the message is delivered again with
    // its id; past the back-off, both are due.
    clock.advance(chrono::Duration::seconds(2));
    let rt = runtime();
    deliver(&rt, &engine, &url, id);
    let seen = recv.seen.lock().expect("seen").clone();
    let key = format!("baton-message-{id}");
    assert_eq!(
        seen,
        vec![(key.clone(), id), (key, id)],
        "the same id twice"
    );
    recv.release.notify_waiters();
}

#[test]
fn a_clean_stop_waits_for_an_attempt_in_flight_and_leaves_nothing_running() {
    let (recv, arrived, url, _recv_rt) = receiver();
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(sh(2026, 3, 2, 10, 0));
    let (engine, id) = engine_with_a_message(dir.path(), &clock);

    let rt = runtime();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    // The receiver never answers: the attempt ends with the client's timeout (1 s).
    let task = rt.spawn(scheduler::run(
        engine.clone(),
        config(&url, 1),
        async move {
            let _ = rx.await;
        },
    ));
    arrived
        .recv_timeout(Duration::from_secs(20))
        .expect("the first attempt reaches the receiver");
    let _ = stop.send(());
    rt.block_on(task).expect("scheduler");
    // The stop waited for the attempt: its failure is recorded, with a retry queued,
    // and no task of the stopped scheduler still holds the engine.
    assert_eq!(Arc::strong_count(&engine), 1, "an attempt still runs");
    let rec = engine.store.message(id).expect("read").expect("message");
    assert_eq!(rec.state, Delivery::Pending);
    assert_eq!(rec.webhooks[0].attempts, 1, "{rec:?}");
    drop(rt);
    drop(engine);

    let engine = open(dir.path(), &clock);
    recv.hold.store(false, Ordering::SeqCst);
    // After the back-off.
    clock.advance(chrono::Duration::seconds(2));
    let rt = runtime();
    deliver(&rt, &engine, &url, id);
    let rec = engine.store.message(id).expect("read").expect("message");
    assert_eq!(rec.webhooks[0].attempts, 2, "{rec:?}");
    let seen = recv.seen.lock().expect("seen").clone();
    let key = format!("baton-message-{id}");
    assert_eq!(seen, vec![(key.clone(), id), (key, id)]);
    recv.release.notify_waiters();
}
