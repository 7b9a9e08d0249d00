//! A store whose disk filled up (or failed) refuses writes with a short reason, and
//! writes again by itself once the disk does, without a restart: nothing it
//! acknowledged is lost, a batch that failed is all there or not at all (there if
//! its journal reached the disk whole), and a command sent again with its
//! Idempotency-Key happens once.

mod common;

use baton_engine::store::{Fault, StoreError};
use common::*;
use serde_json::json;
use std::collections::BTreeSet;

const QUICK: &str = "process quick {\n  started by agent\n  step answer {\n    task for starter\n    next done\n  }\n  end done\n}\n";

fn harness() -> Harness {
    let h = Harness::at(sh(2026, 11, 30, 10, 0));
    h.engine
        .store
        .deploy("quick.flow", QUICK, h.now())
        .expect("deploys");
    h
}

fn start(h: &Harness, key: &str) -> Result<baton_engine::store::Outcome, StoreError> {
    h.engine
        .start("quick", obj(json!({})), "wang_fang", Some(key))
}

/// The ids of every `quick` instance, and that each is there once.
fn quick_ids(h: &Harness) -> BTreeSet<u64> {
    let page = h
        .engine
        .store
        .instances("quick", "running", None, 1000)
        .expect("instances");
    let ids: BTreeSet<u64> = page.items.iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), page.items.len());
    ids
}

#[test]
fn a_full_disk_refuses_writes_until_it_has_room_and_then_the_store_writes_again() {
    let h = harness();
    let acked: Vec<u64> = ["k0", "k1", "k2"]
        .iter()
        .map(|k| start(&h, k).expect("starts").instance.id)
        .collect();

    h.engine.store.inject_failure(Fault::Full);
    for key in ["k3", "k4"] {
        match start(&h, key) {
            Err(StoreError::Broken(why)) => assert!(why.contains("injected"), "{why}"),
            other => panic!("{key}: not refused as broken: {other:?}"),
        }
    }
    // Still full: the store cannot write yet, and says why.
    assert!(matches!(
        h.engine.store.try_recover(),
        Err(StoreError::Broken(_))
    ));
    assert!(h.engine.store.broken().is_some());

    // Room again: the store writes again, without being opened by anyone.
    h.engine.store.clear_failure();
    h.engine.store.try_recover().expect("recovers");
    assert_eq!(h.engine.store.broken(), None);
    let after = start(&h, "k5").expect("starts after the recovery");
    assert!(!after.replayed);

    // The refused commands, sent again with their keys, happen once each.
    let mut retried = Vec::new();
    for key in ["k3", "k4"] {
        let first = start(&h, key).expect("sent again");
        let again = start(&h, key).expect("and again");
        assert!(again.replayed);
        assert_eq!(first.instance.id, again.instance.id);
        retried.push(first.instance.id);
    }
    let ids = quick_ids(&h);
    for id in acked.iter().chain(&retried).chain([&after.instance.id]) {
        assert!(ids.contains(id), "{id} missing from {ids:?}");
    }
    assert_eq!(ids.len(), 6, "{ids:?}");
    assert_eq!(
        h.engine.store.verify().expect("verify"),
        Vec::<String>::new()
    );
}

/// A write that fails part-way: cut in its journal, the batch is not there after
/// the recovery; cut after its journal, among its changes, it is, whole.
#[test]
fn a_batch_cut_part_way_is_all_there_or_not_at_all_after_the_recovery() {
    for (cut, there) in [(0, false), (1, true), (3, true)] {
        let h = harness();
        let acked = start(&h, "k0").expect("starts").instance.id;
        h.engine.store.inject_failure(Fault::WriteAfter(cut));
        assert!(matches!(start(&h, "cut"), Err(StoreError::Broken(_))));
        h.engine.store.try_recover().expect("recovers");
        let ids = quick_ids(&h);
        assert!(ids.contains(&acked));
        assert_eq!(
            ids.len(),
            1 + usize::from(there),
            "cut after {cut}: {ids:?}"
        );
        assert_eq!(
            h.engine.store.verify().expect("verify"),
            Vec::<String>::new()
        );
        // Sent again with its key: answered from the batch if it is there.
        let again = start(&h, "cut").expect("sent again");
        assert_eq!(again.replayed, there, "cut after {cut}");
        assert_eq!(quick_ids(&h).len(), 2);
    }
}

/// A write made before the store opened its database again is never acknowledged
/// after: it may not have reached the disk.
#[test]
fn a_write_from_before_the_recovery_is_not_acknowledged_after_it() {
    let h = harness();
    let epoch = h.engine.store.epoch();
    let unflushed = h
        .engine
        .store
        .execute_unflushed(
            None,
            &baton_engine::core::Command::Start {
                process: "quick".into(),
                data: Default::default(),
            },
            "wang_fang",
            h.now(),
            None,
        )
        .expect("applied");
    h.engine.store.inject_failure(Fault::Flush);
    assert!(start(&h, "k1").is_err());
    h.engine.store.try_recover().expect("recovers");
    assert!(matches!(
        h.engine.store.durable_since(epoch),
        Err(StoreError::Broken(_))
    ));
    h.engine
        .store
        .durable()
        .expect("what is written now is durable");
    drop(unflushed);
}

/// A thousand refusals each say the same short reason: none wraps the one before,
/// and a second failure after a recovery has its own.
#[test]
fn refusals_stay_short() {
    let h = harness();
    h.engine.store.inject_failure(Fault::Full);
    let mut seen = BTreeSet::new();
    for i in 0..1000 {
        let e = start(&h, &format!("r{i}")).expect_err("refused");
        let text = e.to_string();
        assert!(text.len() < 400, "{} bytes: {text}", text.len());
        seen.insert(text);
    }
    assert_eq!(seen.len(), 1, "{seen:?}");
    let first = h.engine.store.broken().expect("broken");
    h.engine.store.clear_failure();
    h.engine.store.try_recover().expect("recovers");
    h.engine.store.inject_failure(Fault::Flush);
    assert!(start(&h, "again").is_err());
    let second = h.engine.store.broken().expect("broken again");
    assert!(second.contains("flush"), "{second}");
    assert!(!second.contains(&first), "{second}");
    assert!(second.len() < 250, "{second}");
}

/// After a recovery the database still opens, with or without `fsync`: the record
/// of what was acknowledged (kept beside sled's files) goes on matching what sled
/// holds, and every acknowledged instance is there.
#[test]
fn after_a_recovery_the_database_opens_again_with_everything_acknowledged() {
    for fsync in [false, true] {
        let opts = || baton_engine::store::Options { fsync, ..options() };
        let h = Harness::with(sh(2026, 11, 30, 10, 0), opts());
        h.engine
            .store
            .deploy("quick.flow", QUICK, h.now())
            .expect("deploys");
        let mut acked = vec![start(&h, "k0").expect("starts").instance.id];
        for (i, fault) in [Fault::Full, Fault::Flush, Fault::WriteAfter(2)]
            .into_iter()
            .enumerate()
        {
            h.engine.store.inject_failure(fault);
            assert!(start(&h, &format!("failed{i}")).is_err(), "{fault:?}");
            h.engine.store.clear_failure();
            h.engine.store.try_recover().expect("recovers");
            let id = start(&h, &format!("after{i}")).expect("starts").instance.id;
            acked.push(id);
        }
        let Harness {
            verified,
            dir,
            clock,
            engine,
            ..
        } = h;
        drop(verified);
        drop(engine);
        let e = baton_engine::Engine::open(dir.path(), opts(), std::sync::Arc::new(clock))
            .unwrap_or_else(|e| panic!("fsync {fsync}: opens again: {e}"));
        for id in &acked {
            e.store.instance(*id).expect("an acknowledged instance");
        }
        assert_eq!(e.store.verify().expect("verify"), Vec::<String>::new());
    }
}
