//! The real `baton serve`, stopped (SIGTERM) or killed (SIGKILL) while a slow webhook
//! holds a delivery's POST: after the restart the webhook gets the message again,
//! with the same id, and the delivery is recorded as sent.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;
use support::api::Api;
use support::hook::Hook;
use support::*;

use serde_json::{json, Value};

const NOTICE: &str = r#"process notice "通知" {
  started by agent
  step tell {
    notify starter "已收到"
    next done
  }
  end done
}
"#;

/// A folder with the staff directory, `notice` and a configuration that posts every
/// message to `hook`. The client's timeout is longer than the receiver holds a
/// request, so that only the stop or the kill cuts the attempt off.
fn folder(tmp: &Path, hook: &str) -> PathBuf {
    let dir = tmp.join("processes");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::copy(root().join("processes/staff.ron"), dir.join("staff.ron")).expect("staff");
    std::fs::write(dir.join("notice.flow"), NOTICE).expect("flow");
    std::fs::write(
        dir.join("baton.ron"),
        format!(
            r#"(zone: Some("Asia/Shanghai"), webhooks: {{"*": "{hook}"}},
               delivery: (max_attempts: 8, first_backoff_secs: 1, max_backoff_secs: 5, timeout_secs: 120))"#
        ),
    )
    .expect("config");
    dir
}

/// Poll the outbox until message `id` is sent.
fn wait_sent(api: &Api, admin: &str, id: u64) -> Value {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let page = api.ok("GET", "/outbox?limit=500", admin, None);
        let rec = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap_or(Value::Null);
        if rec["state"] == "Sent" {
            return rec;
        }
        assert!(Instant::now() < end, "message {id} never sent: {rec}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

enum Stop {
    Term,
    Kill,
}

fn cut_off_mid_attempt(how: Stop) {
    // The first POST of each message is held far longer than the test runs; any
    // later one is answered at once.
    let hook = Hook::start(|_, first| {
        if first {
            Duration::from_secs(600)
        } else {
            Duration::ZERO
        }
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = folder(tmp.path(), &hook.url);
    let db = tmp.path().join("db");
    let mut server = Server::start(&db, &dir);
    let api = Api::new(&server.url);
    let fang = api.issue(&server.admin_token(), "wang_fang");
    api.ok(
        "POST",
        "/instances",
        &fang,
        Some(&json!({"process": "notice", "data": {}})),
    );
    assert!(
        hook.wait_until(Duration::from_secs(60), |a| !a.is_empty()),
        "the webhook never got the message"
    );
    let first = hook.arrivals()[0].clone();

    match how {
        Stop::Term => {
            let pid = server.child.id().to_string();
            let sent = Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("kill -TERM");
            assert!(sent.success());
            server.wait_for("stopped cleanly");
            let status = server.child.wait().expect("exits");
            assert!(status.success(), "{status}");
        }
        Stop::Kill => {
            server.child.kill().expect("SIGKILL");
            server.child.wait().expect("reaped");
        }
    }
    assert_eq!(hook.arrivals().len(), 1, "nothing sent after the stop");

    let stopped = server.log();
    let server = Server::start(&db, &dir);
    assert!(
        hook.wait_until(Duration::from_secs(60), |a| a.len() >= 2),
        "the message never came again after the restart; the receiver saw {:?}",
        hook.arrivals()
    );
    let again = hook.arrivals()[1].clone();
    assert_eq!(again.key, first.key, "the same Idempotency-Key");
    assert_eq!(again.id, first.id, "the same message id");
    assert_eq!(again.key, format!("baton-message-{}", first.id));
    assert_eq!(again.body, first.body);
    // The stop left the attempt leased (the receiver held it longer than a stop
    // waits), and the next start took it again.
    if matches!(how, Stop::Term) {
        assert!(
            stopped
                .iter()
                .any(|l| l.contains("stay queued for the next start")),
            "{stopped:#?}"
        );
    }
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.contains("left unfinished are due again")),
        "{:#?}",
        server.log()
    );
    let api = Api::new(&server.url);
    let rec = wait_sent(&api, &server.admin_token(), first.id);
    assert_eq!(rec["webhooks"][0]["attempts"], 1, "{rec}");
    server.stop();
    assert_eq!(hook.arrivals().len(), 2);

    let engine = baton_engine::Engine::open(
        &db,
        baton_engine::store::Options::default(),
        Arc::new(baton_engine::clock::SystemClock),
    )
    .expect("open");
    assert_eq!(engine.store.verify().expect("verify"), Vec::<String>::new());
}

#[test]
fn stopped_during_a_slow_webhook_the_message_arrives_after_the_restart() {
    cut_off_mid_attempt(Stop::Term);
}

#[test]
fn killed_during_a_slow_webhook_the_message_arrives_after_the_restart() {
    cut_off_mid_attempt(Stop::Kill);
}
