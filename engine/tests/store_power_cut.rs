//! What `fsync: true` promises across a power cut. sled keeps a value or a node of
//! its tree larger than its blob threshold (about 128 KiB) in a file of its own
//! under `blobs/`, written without fsync; a power cut can lose such a file while the
//! log that names it survives. These tests cut the power by closing the database
//! and deleting the blob files that were never synced.

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

/// Records that sled keeps as blob files: with `fsync`, a flush syncs every blob
/// file there is; without it nothing does. (Writes after the answer, such as the
/// removal of the batch's journal, may already have made new ones: sled rewrites
/// nodes of its tree as it goes.)
#[test]
fn with_fsync_a_flush_syncs_every_blob_file() {
    for fsync_on in [true, false] {
        let opts = Options {
            fsync: fsync_on,
            ..options()
        };
        let h = Harness::with(sh(2026, 11, 30, 10, 0), opts);
        h.engine
            .store
            .deploy("note.flow", NOTE, h.now())
            .expect("deploys");
        h.start("note", json!({ "note": note('a') }), "wang_fang");
        assert!(!blob_files(h.dir.path()).is_empty(), "no blob file");
        h.engine.store.durable().expect("flush");
        let want = if fsync_on { Some(0) } else { None };
        assert_eq!(h.engine.store.unsynced_blob_files(), want);
    }
}

/// Acknowledged commands whose records are blob files, then one whose flush fails
/// (the power goes before it is durable) and whose blob files are lost with the
/// power. After the restart the acknowledged ones should be whole, the failed one
/// all there or not at all, and the database consistent. It is not so: sled also
/// rewrites nodes of its tree as blob files between two flushes (see `fsync.rs` in
/// the store), and losing one of them loses records beside it. Kept to show it.
#[test]
#[ignore = "sled 0.34 writes tree nodes to unsynced blob files between flushes"]
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
    let synced = blob_files(&db);
    assert!(
        !synced.is_empty(),
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
    } = h;
    drop(verified);
    drop(engine);
    // The power cut: blob files written since the last acknowledged command are lost.
    let lost: Vec<String> = blob_files(&db).difference(&synced).cloned().collect();
    for f in &lost {
        std::fs::remove_file(db.join("blobs").join(f)).expect("remove");
    }

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
