//! A damaged database is found out when it is opened, never taken for a whole one:
//! opening it either gives back everything that was acknowledged or refuses with
//! the reason, and never panics. sled recovers its log up to the first message that
//! fails its checksum, so a single flipped bit in what a run wrote used to drop,
//! silently, every change after it.

mod common;

use baton_engine::clock::ManualClock;
use baton_engine::store::StoreError;
use baton_engine::Engine;
use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const QUICK: &str = "process quick {\n  started by agent\n  step answer {\n    task for starter\n    next done\n  }\n  end done\n}\n";

/// Instances started (and acknowledged) before the clean stop, and after it.
const FIRST: u64 = 600;
const SECOND: u64 = 600;

fn open(db: &Path) -> Result<Engine, StoreError> {
    Engine::open(
        db,
        options(),
        Arc::new(ManualClock::new(sh(2026, 11, 30, 10, 0))),
    )
}

/// What opening a copy of a database gave: the engine, the error, or the panic's text.
enum Opened {
    Whole,
    Refused(String),
    Missing(Vec<u64>),
    Failed(String),
    Panicked(String),
}

/// Open `db` and read every acknowledged instance, catching a panic.
fn try_open(db: &Path) -> Opened {
    let got = std::panic::catch_unwind(|| match open(db) {
        Ok(e) => {
            let missing: Vec<u64> = (1..=FIRST + SECOND)
                .filter(|id| e.store.instance(*id).is_err())
                .collect();
            if missing.is_empty() {
                Opened::Whole
            } else {
                Opened::Missing(missing)
            }
        }
        Err(e @ StoreError::Damaged { .. }) => Opened::Refused(e.to_string()),
        Err(e) => Opened::Failed(e.to_string()),
    });
    got.unwrap_or_else(|p| {
        let text = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Opened::Panicked(text)
    })
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

/// Two databases, as a clean stop and as SIGKILL leave them: `FIRST` instances
/// started, the database closed and checkpointed (`clean`); then opened again and
/// `SECOND` more started, each acknowledged, and the folder copied while it is still
/// open (`killed`): a killed process leaves exactly what it had handed the kernel.
struct Stopped {
    _tmp: tempfile::TempDir,
    clean: PathBuf,
    killed: PathBuf,
}

fn stopped() -> Stopped {
    let h = Harness::at(sh(2026, 11, 30, 10, 0));
    h.engine
        .store
        .deploy("quick.flow", QUICK, h.now())
        .expect("deploys");
    let start = |h: &Harness| h.start("quick", json!({}), "wang_fang").instance.id;
    for id in 1..=FIRST {
        assert_eq!(start(&h), id);
    }
    let Harness {
        verified,
        dir,
        engine,
        clock,
        ..
    } = h;
    // Its check holds the store: it goes first, so that the database closes.
    drop(verified);
    drop(engine);
    baton_engine::store::checkpoint(dir.path()).expect("checkpoint");
    let tmp = tempfile::tempdir().expect("tmp");
    let clean = tmp.path().join("clean");
    copy_dir(dir.path(), &clean);
    let e = open(dir.path()).expect("reopen");
    let h = Harness::of(dir, clock, e);
    for id in FIRST + 1..=FIRST + SECOND {
        assert_eq!(start(&h), id);
    }
    let killed = tmp.path().join("killed");
    copy_dir(h.dir.path(), &killed);
    drop(h);
    Stopped {
        _tmp: tmp,
        clean,
        killed,
    }
}

/// A copy of `from` in a new folder under `tmp`, named `name`.
fn copy_of(from: &Path, tmp: &Path, name: &str) -> PathBuf {
    let to = tmp.join(name);
    copy_dir(from, &to);
    to
}

/// The offsets of sled's data file that the second run wrote.
fn written_by_second_run(s: &Stopped) -> Vec<u64> {
    let before = std::fs::read(s.clean.join("db")).expect("db");
    let after = std::fs::read(s.killed.join("db")).expect("db");
    (0..after.len())
        .filter(|i| before.get(*i) != Some(&after[*i]))
        .map(|i| i as u64)
        .collect()
}

/// A small generator for repeatable choices (xorshift64).
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn flip(file: &Path, offset: u64, bit: u8) {
    let mut bytes = std::fs::read(file).expect("read");
    bytes[offset as usize] ^= 1 << bit;
    std::fs::write(file, bytes).expect("write");
}

fn truncate(file: &Path, len: u64) {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .expect("open");
    f.set_len(len).expect("truncate");
}

/// A bit flipped anywhere in what the second run wrote: each open gives back every
/// acknowledged instance, or refuses, saying the database is damaged. None of them
/// gives back less, fails otherwise or panics.
#[test]
fn a_flipped_bit_in_the_log_is_found_or_harmless() {
    let s = stopped();
    let region = written_by_second_run(&s);
    assert!(region.len() > 1000, "the second run wrote {}", region.len());
    let tmp = tempfile::tempdir().expect("tmp");
    let mut rng = Seeded(0x5eed_ba70);
    let (mut whole, mut refused, mut wrong) = (0, 0, Vec::new());
    // `BATON_FLIPS=600` for a longer run.
    let trials = std::env::var("BATON_FLIPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    for trial in 0..trials {
        let offset = region[(rng.next() % region.len() as u64) as usize];
        let bit = (rng.next() % 8) as u8;
        let db = copy_of(&s.killed, tmp.path(), &format!("flip{trial}"));
        flip(&db.join("db"), offset, bit);
        match try_open(&db) {
            Opened::Whole => whole += 1,
            Opened::Refused(why) => {
                assert!(why.contains("damaged"), "{why}");
                refused += 1
            }
            Opened::Missing(ids) => wrong.push(format!(
                "bit {bit} of byte {offset}: opened without {} instances ({:?}..)",
                ids.len(),
                ids.first()
            )),
            Opened::Failed(e) => wrong.push(format!("bit {bit} of byte {offset}: {e}")),
            Opened::Panicked(p) => wrong.push(format!("bit {bit} of byte {offset}: panic {p}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The flips did hit what matters: some were found.
    eprintln!("{trials} flipped bits: {whole} whole, {refused} refused");
    assert!(refused > 0, "{whole} whole, none refused");
}

/// sled's data file cut short, at the start, in what the first run wrote, and in
/// what the second wrote: opening refuses (or, cut where nothing acknowledged was,
/// opens whole), never panics. sled panicked on some of these (exit 101 for
/// `baton serve`), and opened others without what the second run wrote.
#[test]
fn a_truncated_data_file_is_refused_not_a_panic() {
    let s = stopped();
    let region = written_by_second_run(&s);
    let first_len = std::fs::metadata(s.clean.join("db")).expect("db").len();
    let tmp = tempfile::tempdir().expect("tmp");
    let last = *region.last().expect("written");
    let cuts = [
        0,
        100,
        300_000,
        first_len / 2,
        region[region.len() / 2],
        last,
    ];
    for (i, len) in cuts.into_iter().enumerate() {
        let db = copy_of(&s.killed, tmp.path(), &format!("cut{i}"));
        truncate(&db.join("db"), len);
        match try_open(&db) {
            Opened::Refused(why) => {
                assert!(why.contains("damaged"), "cut at {len}: {why}");
                assert!(why.contains(&db.display().to_string()), "{why}");
            }
            Opened::Whole if len >= last => {}
            Opened::Whole => panic!("cut at {len}: opened whole?"),
            Opened::Missing(ids) => panic!("cut at {len}: opened without {ids:?}"),
            Opened::Failed(e) => panic!("cut at {len}: {e}"),
            Opened::Panicked(p) => panic!("cut at {len}: panicked: {p}"),
        }
    }
}

/// sled's files as the first run left them, beside the record of what the second
/// acknowledged (a folder put together from two moments): refused, naming the
/// missing instances and the way out; accepting the loss opens it with what is left.
#[test]
fn data_behind_the_acknowledged_record_is_refused_until_the_loss_is_accepted() {
    let s = stopped();
    let tmp = tempfile::tempdir().expect("tmp");
    let db = copy_of(&s.clean, tmp.path(), "mixed");
    std::fs::copy(s.killed.join("acknowledged"), db.join("acknowledged")).expect("copy");
    let why = match try_open(&db) {
        Opened::Refused(why) => why,
        _ => panic!("opened, or failed otherwise"),
    };
    // Twice: refusing changed nothing.
    assert!(matches!(try_open(&db), Opened::Refused(_)));
    let lost = format!("instances {} to {}", FIRST + 1, FIRST + SECOND);
    assert!(why.contains(&lost), "{why}");
    assert!(
        why.contains("backup") && why.contains("accept-loss"),
        "{why}"
    );
    let accepted = baton_engine::store::accept_loss(&db).expect("accepted");
    assert!(accepted.contains(&lost), "{accepted}");
    let e = open(&db).expect("opens now");
    assert!(e.store.instance(FIRST).is_ok());
    assert!(e.store.instance(FIRST + 1).is_err());
    // And it records what it acknowledges again from there on.
    e.store
        .deploy("quick.flow", QUICK, sh(2026, 11, 30, 10, 0))
        .expect("deploy");
    drop(e);
    assert!(matches!(try_open(&db), Opened::Missing(_)));
}

/// The record of what was acknowledged, removed or unreadable: refused, as nothing
/// then tells whether the data is whole; accepting opens it again.
#[test]
fn a_missing_or_unreadable_acknowledged_record_is_refused() {
    let s = stopped();
    let tmp = tempfile::tempdir().expect("tmp");
    for (name, damage) in [
        ("removed", None),
        ("zeroed", Some(vec![0u8; 128])),
        ("short", Some(vec![7u8; 5])),
    ] {
        let db = copy_of(&s.killed, tmp.path(), name);
        let ack = db.join("acknowledged");
        match damage {
            None => std::fs::remove_file(&ack).expect("rm"),
            Some(bytes) => std::fs::write(&ack, bytes).expect("write"),
        }
        match try_open(&db) {
            Opened::Refused(why) => assert!(why.contains("acknowledged"), "{name}: {why}"),
            _ => panic!("{name}: not refused"),
        }
        baton_engine::store::accept_loss(&db).expect("accepted");
        assert!(matches!(try_open(&db), Opened::Whole), "{name}");
    }
}

/// A flipped bit in either of the record's two copies leaves the other one (the
/// newer, or the older, a flush behind) to check against: still whole.
#[test]
fn a_flipped_bit_in_the_record_falls_back_to_its_older_copy() {
    let s = stopped();
    let tmp = tempfile::tempdir().expect("tmp");
    let len = std::fs::metadata(s.killed.join("acknowledged"))
        .expect("ack")
        .len();
    // Every fifth byte, a bit in turn: both copies, each of their fields.
    for offset in (0..len).step_by(5) {
        let db = copy_of(&s.killed, tmp.path(), &format!("ack{offset}"));
        flip(&db.join("acknowledged"), offset, (offset % 8) as u8);
        assert!(matches!(try_open(&db), Opened::Whole), "bit {offset}");
    }
}

/// A database from before the record existed (the layout-3 fixture) opens, and
/// starts one.
#[test]
fn a_database_without_the_record_opens_and_starts_keeping_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layout-3");
    let db = copy_of(&fixture, tmp.path(), "old");
    assert!(!db.join("acknowledged").exists());
    let e = open(&db).expect("opens");
    assert!(db.join("acknowledged").exists());
    e.store
        .deploy("quick.flow", QUICK, sh(2026, 11, 30, 10, 0))
        .expect("deploy");
    let started = e
        .start("quick", obj(json!({})), "wang_fang", None)
        .expect("start")
        .instance
        .id;
    drop(e);
    let e = open(&db).expect("opens again");
    assert!(e.store.instance(started).is_ok());
}

/// A killed database opens without sled's recovery doubting anything, so that
/// opening reads nothing back: also after batches large enough that sled wrote
/// their journal's nodes to blob files and removed them again, which leaves
/// messages in its log naming files that are gone (each harmless, as a later
/// message replaced its page).
#[test]
fn a_killed_database_opens_without_doubts() {
    use baton_engine::core::Command;
    use baton_engine::store::Request;
    let now = sh(2026, 11, 30, 10, 0);
    let h = Harness::at(now);
    let e = &h.engine;
    e.store.deploy("quick.flow", QUICK, now).expect("deploys");
    for _ in 0..24 {
        let batch = (0..512)
            .map(|_| Request {
                target: None,
                command: Command::Start {
                    process: "quick".into(),
                    data: Default::default(),
                },
                actor: "wang_fang".into(),
                now,
                idempotency_key: None,
            })
            .collect();
        for o in e.store.execute_many_unflushed(batch) {
            o.expect("start");
        }
    }
    e.store.durable().expect("durable");
    let tmp = tempfile::tempdir().expect("tmp");
    let killed = copy_of(h.dir.path(), tmp.path(), "killed");
    drop(h);
    let e = open(&killed).expect("opens");
    assert_eq!(e.store.recovery_doubts(), 0);
    for id in [1, 6_000, 12_288] {
        assert!(e.store.instance(id).is_ok(), "instance {id}");
    }
}
