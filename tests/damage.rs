//! The real `baton` on a damaged database: `serve` refuses to start, naming the
//! folder and the way out (exit 9), never panicking (exit 101) and never running
//! without what was acknowledged; `baton accept-loss` is the way on with what is left.

mod support;

use baton_engine::clock::SystemClock;
use baton_engine::store::Options;
use baton_engine::Engine;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{processes_copy, Run};

/// Complaints started before the clean stop, and after it.
const FIRST: u64 = 1000;
const SECOND: u64 = 1000;

fn open(db: &Path) -> Engine {
    Engine::open(db, Options::default(), Arc::new(SystemClock)).expect("open")
}

fn start(e: &Engine) -> u64 {
    let data = json!({"customer": "王", "contact": "13800000000", "channel": "hotline"});
    let data = data.as_object().cloned().expect("an object");
    e.start("complaint", data, "wang_fang", None)
        .expect("start")
        .instance
        .id
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let p = e.expect("entry").path();
        let target = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).expect("copy");
        }
    }
}

/// In `tmp`: `processes/`; `clean`, a database after `FIRST` complaints and a clean
/// stop (checkpointed, as `serve` leaves it); and `killed`, the same after `SECOND`
/// more, copied while still open, as SIGKILL leaves it.
fn databases(tmp: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let dir = processes_copy(tmp);
    let live = tmp.join("live");
    let e = open(&live);
    e.deploy_dir(&dir).expect("deploy");
    for id in 1..=FIRST {
        assert_eq!(start(&e), id);
    }
    drop(e);
    baton_engine::store::checkpoint(&live).expect("checkpoint");
    let clean = tmp.join("clean");
    copy_dir(&live, &clean);
    let e = open(&live);
    for id in FIRST + 1..=FIRST + SECOND {
        assert_eq!(start(&e), id);
    }
    let killed = tmp.join("killed");
    copy_dir(&live, &killed);
    (dir, clean, killed)
}

/// `baton serve` on `db`, which must stop by itself within a minute.
fn serve(db: &Path, dir: &Path) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["serve", "--no-http", "--db"])
        .arg(db)
        .arg("--dir")
        .arg(dir)
        .env_remove("BATON_DB")
        .env("BATON_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("baton serve starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "baton serve started on a damaged database:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn baton(args: &[&str], db: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .arg("--db")
        .arg(db)
        .env_remove("BATON_SERVER")
        .env_remove("BATON_AS")
        .env("BATON_ZONE", "Asia/Shanghai")
        .output()
        .expect("baton runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// sled's data file cut short, in what the clean run wrote and in what the killed
/// one wrote: `serve` says the database is damaged and exits 9. It used to panic
/// inside sled (exit 101), or start without what the killed run wrote.
#[test]
fn serve_refuses_a_truncated_database_with_the_reason_not_a_panic() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (dir, clean, killed) = databases(tmp.path());
    let clean_len = std::fs::metadata(clean.join("db")).expect("db").len();
    let killed_len = std::fs::metadata(killed.join("db")).expect("db").len();
    let mut wrong = Vec::new();
    for (i, len) in [100, clean_len / 2, (clean_len + killed_len) / 2]
        .into_iter()
        .enumerate()
    {
        let db = tmp.path().join(format!("cut{i}"));
        copy_dir(&killed, &db);
        std::fs::OpenOptions::new()
            .write(true)
            .open(db.join("db"))
            .expect("open")
            .set_len(len)
            .expect("truncate");
        let run = serve(&db, &dir);
        let said = format!("error: the database {} is damaged: ", db.display());
        let err = &run.stderr;
        if run.code != 9
            || err.contains("panicked")
            || !err.contains(&said)
            || !err.contains("backup")
        {
            wrong.push(format!("cut at {len}: exit {}: {err}", run.code));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// sled's files as the clean stop left them, beside the record of what the killed
/// run acknowledged: `serve` refuses, saying which instances are missing; after
/// `baton accept-loss`, it runs on what is left.
#[test]
fn serve_refuses_a_database_without_what_it_acknowledged_until_the_loss_is_accepted() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (dir, clean, killed) = databases(tmp.path());
    let db = tmp.path().join("mixed");
    copy_dir(&clean, &db);
    std::fs::copy(killed.join("acknowledged"), db.join("acknowledged")).expect("copy");
    let lost = format!("instances {} to {}", FIRST + 1, FIRST + SECOND);
    let err = serve(&db, &dir).fails(9).to_string();
    assert!(err.contains(&lost), "{err}");
    let way_out = format!("`baton accept-loss --db {}`", db.display());
    assert!(err.contains(&way_out), "{err}");
    // Refused again: refusing changed nothing.
    assert_eq!(serve(&db, &dir).fails(9), err);
    // Nor does any other command get in.
    let show = baton(&["show", &FIRST.to_string()], &db);
    assert!(show.fails(9).contains(&lost), "{}", show.stderr);

    let accepted = baton(&["accept-loss"], &db);
    assert!(accepted.ok().contains(&lost), "{}", accepted.stdout);
    baton(&["show", &FIRST.to_string()], &db).ok();
    baton(&["show", &(FIRST + 1).to_string()], &db).fails(3);
    let server = support::Server::start(&db, &dir);
    server.stop();
}
