//! What survives a power cut where sled keeps records as blob files. sled keeps a
//! value or a node of its tree larger than its blob threshold (about 128 KiB) in a
//! file of its own under `blobs/`; the copy this workspace builds syncs each such
//! file when it writes it (vendor/sled/PATCHED.md).

mod common;

use baton_dsl::eval::Value;
use baton_engine::clock::ManualClock;
use baton_engine::store::{Fault, Options};
use baton_engine::Engine;
use common::*;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

const NOTE: &str = "process note {\n  started by agent\n  data {\n    note text \"note\"\n  }\n  step answer {\n    task for starter\n    next done\n  }\n  end done\n}\n";

/// Well above sled's blob threshold, so that the record holding it is a blob file.
const BIG: usize = 200 * 1024;

fn fsync() -> Options {
    Options {
        fsync: true,
        ..options()
    }
}

fn open(path: &Path, clock: &ManualClock) -> Engine {
    Engine::open(path, fsync(), Arc::new(clock.clone())).expect("open")
}

fn blob_files(db: &Path) -> BTreeSet<String> {
    match std::fs::read_dir(db.join("blobs")) {
        Ok(d) => d
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

fn note(c: char) -> String {
    std::iter::repeat_n(c, BIG).collect()
}

/// sled keeps a record or a node of its tree above its blob threshold as a file of
/// its own, named by its log, which it writes by itself between flushes. Every such
/// file is synced, with its folder, when it is written, before the log entry naming
/// it (see vendor/sled/PATCHED.md): with `fsync`, a power cut finds every blob file
/// that a log on disk names. Counted here: each file written was synced.
#[test]
fn with_fsync_every_blob_file_is_synced_before_the_log_names_it() {
    let h = Harness::with(sh(2026, 11, 30, 10, 0), fsync());
    h.engine
        .store
        .deploy("note.flow", NOTE, h.now())
        .expect("deploys");
    let before = blob_files(h.dir.path());
    let synced = sled::blobs_synced();
    for c in ['a', 'b', 'c'] {
        h.start("note", json!({ "note": note(c) }), "wang_fang");
    }
    let written = blob_files(h.dir.path()).difference(&before).count() as u64;
    assert!(written > 0, "a record of {BIG} bytes made no blob file");
    // Other tests in this process may write blob files too: at least these.
    assert!(
        sled::blobs_synced() - synced >= written,
        "{written} blob files written, {} synced",
        sled::blobs_synced() - synced
    );
}

/// Acknowledged commands whose records are blob files, then one whose flush fails
/// (the power goes before it is durable). A power cut loses what was never synced:
/// the log's last writes, simulated by the failed flush, and no blob file, as each
/// was synced when written. After the restart the acknowledged ones are whole, the
/// failed one all there or not at all, and the database consistent.
#[test]
fn a_power_cut_before_the_flush_leaves_a_batch_with_blob_files_all_or_nothing() {
    let h = Harness::with(sh(2026, 11, 30, 10, 0), fsync());
    h.engine
        .store
        .deploy("note.flow", NOTE, h.now())
        .expect("deploys");
    let mut kept = Vec::new();
    for c in ['a', 'b'] {
        let o = h.start("note", json!({ "note": note(c) }), "wang_fang");
        kept.push((o.instance.id, c));
    }
    let db = h.dir.path().to_path_buf();
    assert!(
        !blob_files(&db).is_empty(),
        "a record of {BIG} bytes made no blob file: the test no longer tests anything"
    );

    h.engine.store.inject_failure(Fault::Flush);
    let failed = h.try_start("note", json!({ "note": note('c') }), "wang_fang");
    assert!(failed.is_err(), "the injected flush failure");
    let Harness {
        verified,
        dir,
        clock,
        engine,
        ..
    } = h;
    drop(verified);
    drop(engine);

    let e = open(dir.path(), &clock);
    assert_eq!(e.store.verify().expect("verify"), Vec::<String>::new());
    for (id, c) in &kept {
        let inst = e.store.instance(*id).expect("an acknowledged instance");
        assert_eq!(
            inst.data.get("note"),
            Some(&Value::Text(note(*c))),
            "instance {id}"
        );
    }
    let page = e
        .store
        .instances("note", "running", None, 100)
        .expect("instances");
    let all: Vec<_> = page.items.iter().map(|i| i.id).collect();
    assert!(
        all.len() == kept.len() || all.len() == kept.len() + 1,
        "{all:?}"
    );
    drop(clock);
}
