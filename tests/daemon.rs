//! The real daemon, killed with SIGKILL while timers are firing and started again:
//! every timer fires exactly once.

use baton_engine::core::{Event, MessageKind};
use baton_engine::store::prelude::*;
use baton_engine::{clock::SystemClock, store::Options, Engine};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

const FLOW: &str = "process due_soon \"到期\" {\n  started by agent\n  data {\n    deadline datetime\n  }\n  step answer {\n    task for starter\n    due deadline\n    on overdue notify starter \"已過期\"\n    next done\n  }\n  end done\n}\n";

const N: usize = 1500;

fn daemon(db: &Path, dir: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["serve", "--no-http", "--db"])
        .arg(db)
        .arg("--dir")
        .arg(dir)
        .env("BATON_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("baton starts");
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn wait_for(rx: &mpsc::Receiver<String>, what: &str) -> String {
    loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) if line.contains(what) => return line,
            Ok(_) => {}
            Err(e) => panic!("the daemon never said `{what}`: {e}"),
        }
    }
}

#[test]
fn killed_while_firing_every_timer_fires_exactly_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("processes");
    let db = tmp.path().join("db");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("due_soon.flow"), FLOW).expect("flow");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../processes/staff.ron"),
        dir.join("staff.ron"),
    )
    .expect("staff");
    // N instances whose deadlines fall over two seconds, soon after the daemon starts.
    let first_due = {
        let engine = Engine::open(&db, Options::default(), Arc::new(SystemClock)).expect("open");
        for r in engine.deploy_dir(&dir).expect("deploy") {
            r.result.expect("deploys");
        }
        // Far enough ahead for a slow (debug, busy) machine to finish setting up.
        let first_due = chrono::Utc::now() + chrono::Duration::seconds(10);
        for i in 0..N {
            let at = first_due + chrono::Duration::microseconds((i * 2_000_000 / N) as i64);
            let mut data = serde_json::Map::new();
            data.insert("deadline".into(), at.to_rfc3339().into());
            let cmd = baton_engine::core::Command::Start {
                process: "due_soon".into(),
                data,
            };
            // Setting up, not testing durability: one flush at the end.
            engine
                .store
                .execute_unflushed(None, &cmd, "wang_fang", chrono::Utc::now(), None)
                .expect("start");
        }
        engine.store.durable().expect("flush");
        assert_eq!(engine.store.timer_count(), N);
        first_due
    };
    assert!(
        chrono::Utc::now() < first_due,
        "setup took too long to test a kill mid-way"
    );

    let (mut child, rx) = daemon(&db, &dir);
    // Kill at the first pass that fired something, while the rest are still coming due.
    let line = wait_for(&rx, "scheduler tick");
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    assert!(line.contains("fired="), "{line}");
    {
        // Killed mid-way: some deadlines fired, some are still pending.
        let engine = Engine::open(&db, Options::default(), Arc::new(SystemClock)).expect("open");
        let pending = engine.store.timer_count();
        assert!(
            pending > 0 && pending < N,
            "{pending} of {N} pending after the kill"
        );
    }

    let (mut child, rx) = daemon(&db, &dir);
    wait_for(&rx, "nothing pending");
    // A graceful stop this time (SIGTERM).
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    // Closed and checkpointed, so that the next start has no log to replay.
    wait_for(&rx, "checkpointed");
    wait_for(&rx, "stopped cleanly");
    child.wait().expect("exits");

    let engine = Engine::open(&db, Options::default(), Arc::new(SystemClock)).expect("reopen");
    assert_eq!(engine.store.timer_count(), 0, "no timer left behind");
    let instances = engine
        .store
        .instances("due_soon", "running", None, 10 * N)
        .expect("list")
        .items;
    assert_eq!(instances.len(), N);
    for i in &instances {
        let fired = engine
            .store
            .history(i.id)
            .expect("history")
            .iter()
            .filter(|r| matches!(r.event, Event::TimerFired { .. }))
            .count();
        assert_eq!(
            fired, 1,
            "instance {} fired its deadline {fired} times",
            i.id
        );
    }
    let overdue = engine
        .store
        .outbox(0, 10 * N)
        .expect("outbox")
        .into_iter()
        .filter(|m| m.message.kind == MessageKind::Overdue)
        .count();
    assert_eq!(overdue, N, "one overdue notice per instance");
    assert_eq!(engine.store.verify().expect("verify"), Vec::<String>::new());
}
