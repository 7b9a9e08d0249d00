//! Notifications: every message reaches the inbox of each person it names; webhooks
//! get a POST with a stable message id, retried with back-off until they answer or
//! the attempts run out; a dead webhook holds up nothing else.

mod common;

use axum::{extract::State, http::HeaderMap, http::StatusCode, routing::post, Json, Router};
use baton_engine::clock::{Clock, ManualClock};
use baton_engine::config::DeliveryConfig;
use baton_engine::scheduler::{self, SchedulerConfig};
use baton_engine::store::Delivery;
use baton_engine::Engine;
use common::*;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(String, Value)>>>,
    /// Answer 500 to this many requests before the first 200.
    fail_first: usize,
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
    let mut seen = r.seen.lock().unwrap();
    seen.push((key, body));
    if seen.len() <= r.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

const FLOW: &str = r#"
process notice {
  started by agent
  data {
    phone text
  }
  step tell {
    notify phone via sms "您的行程已確認"
    notify starter "已通知客戶 {phone}"
    next done
  }
  end done
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_retry_with_backoff_and_a_dead_one_blocks_nothing() {
    let receiver = Receiver {
        fail_first: 2,
        ..Receiver::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let live = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    // Nothing listens on this port: every attempt fails at once.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/sms", l.local_addr().unwrap())
    };

    let dir = tempfile::tempdir().unwrap();
    let start = sh(2026, 3, 2, 10, 0);
    let clock = ManualClock::new(start);
    let engine = Arc::new(Engine::open(dir.path(), options(), Arc::new(clock.clone())).unwrap());
    for r in engine.deploy_dir(&processes_dir()).unwrap() {
        r.result.unwrap();
    }
    engine.store.deploy("notice.flow", FLOW, start).unwrap();
    let mut first = engine.ticks.subscribe();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(scheduler::run(
        engine.clone(),
        SchedulerConfig {
            webhooks: [
                ("sms".to_string(), dead.clone()),
                ("*".to_string(), live.clone()),
            ]
            .into(),
            delivery: DeliveryConfig {
                max_attempts: 3,
                first_backoff_secs: 2,
                max_backoff_secs: 60,
                timeout_secs: 5,
            },
        },
        async move {
            let _ = rx.await;
        },
    ));
    first.changed().await.unwrap();
    let id = engine
        .start(
            "notice",
            obj(json!({"phone": "13800000000"})),
            "wang_fang",
            None,
        )
        .unwrap()
        .instance
        .id;

    let states = |e: &Engine| -> Vec<(Option<String>, Delivery, u32)> {
        e.store
            .outbox(0, 10)
            .unwrap()
            .into_iter()
            .filter(|m| m.instance == id)
            .map(|m| {
                let attempts = m.webhooks.iter().map(|w| w.attempts).min().unwrap_or(0);
                (m.message.channel.clone(), m.state.clone(), attempts)
            })
            .collect()
    };
    let mut ticks = engine.ticks.subscribe();
    // Let the first attempts happen (both fail: the receiver's first 500, the dead port).
    loop {
        let s = states(&engine);
        if s.iter().all(|(_, _, a)| *a >= 1) && s.len() == 2 {
            break;
        }
        if tokio::time::timeout(std::time::Duration::from_secs(20), ticks.changed())
            .await
            .is_err()
        {
            panic!("stuck: {:?} {:?}", s, engine.store.outbox(0, 10).unwrap());
        }
    }
    // Back-off: the second attempts wait 2 s, the third 4 s more. Nothing is retried
    // before its time: at 1 s no second attempt has happened.
    clock.set(start + chrono::Duration::seconds(1));
    assert!(states(&engine).iter().all(|(_, _, a)| *a == 1));
    for after in [2, 6] {
        clock.set(start + chrono::Duration::seconds(after));
        let round = if after == 2 { 2 } else { 3 };
        loop {
            let out = engine.store.outbox(0, 10).unwrap();
            let settled = out.iter().all(|m| {
                m.webhooks
                    .iter()
                    .all(|w| w.state != Delivery::Pending || w.attempts >= round)
            });
            if settled {
                break;
            }
            if tokio::time::timeout(std::time::Duration::from_secs(20), ticks.changed())
                .await
                .is_err()
            {
                panic!("stuck at {after}s: {out:?}");
            }
        }
    }
    let s = states(&engine);
    // The sms message went to the dead webhook and the "*" one; the sms state is the
    // dead one's: failed after three attempts with the reason. The plain notice went
    // only to "*": sent on its third attempt.
    let sms = s
        .iter()
        .find(|(c, _, _)| c.as_deref() == Some("sms"))
        .unwrap();
    assert!(
        matches!(&sms.1, Delivery::Failed(reason) if !reason.is_empty()),
        "{sms:?}"
    );
    let plain = s.iter().find(|(c, _, _)| c.is_none()).unwrap();
    assert_eq!(plain.1, Delivery::Sent);
    let out = engine.store.outbox(0, 10).unwrap();
    let sms_rec = out.iter().find(|m| m.message.channel.is_some()).unwrap();
    assert_eq!(
        sms_rec.webhooks[0].attempts, 3,
        "the dead one tried three times"
    );
    assert_eq!(
        sms_rec.webhooks[1].state,
        Delivery::Sent,
        "the live one got it anyway"
    );
    // Every attempt carried the same message id, so the receiver can drop repeats.
    let seen = receiver.seen.lock().unwrap().clone();
    let ids: std::collections::BTreeSet<String> = seen.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(seen.len(), 4, "two 500s, then each message once");
    assert_eq!(ids.len(), 2, "one id per message: {ids:?}");
    assert!(seen
        .iter()
        .any(|(_, b)| b["text"] == "已通知客戶 13800000000"));
    // The inbox of the person named has the message, whatever the webhooks did.
    let inbox = engine.store.inbox("wang_fang", 0, 10).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].message.text, "已通知客戶 13800000000");
    assert_eq!(
        engine
            .metrics
            .deliveries_failed
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert!(clock.now() >= start);
    let _ = stop.send(());
    task.await.unwrap();
}
