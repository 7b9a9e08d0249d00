//! Definitions in the database: a changed source becomes the next version, running
//! instances finish on the version they started with, new ones take the newest, and
//! a source with errors is refused with its diagnostics while the running version
//! stays. Also the catch-up policies of scheduled starts.

mod common;

use baton_engine::store::{Deployed, StoreError};
use common::*;
use serde_json::json;

const V1: &str = "process leave \"請假\" {\n  started by agent\n  step ask {\n    task for starter\n    next approve\n  }\n  step approve {\n    task for supervisor of starter\n    next done\n  }\n  end done\n}\n";
const V2: &str = "process leave \"請假\" {\n  started by agent\n  step ask {\n    task for starter\n    next done\n  }\n  end done\n}\n";
const BROKEN: &str =
    "process leave {\n  step ask {\n    task for starter\n    next nowhere\n  }\n  end done\n}\n";

#[test]
fn a_changed_source_is_a_new_version_and_running_instances_keep_theirs() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let store = &h.engine.store;
    assert_eq!(
        store.deploy("leave.flow", V1, h.now()).unwrap().1,
        Deployed::New { version: 1 }
    );
    assert_eq!(
        store.deploy("leave.flow", V1, h.now()).unwrap().1,
        Deployed::Unchanged { version: 1 }
    );
    let old = h.start("leave", json!({}), "wang_fang").instance;
    assert_eq!(old.version, 1);
    assert_eq!(
        store.deploy("leave.flow", V2, h.now()).unwrap().1,
        Deployed::New { version: 2 }
    );
    // A broken source is refused with its diagnostics; version 2 stays the newest.
    match store.deploy("leave.flow", BROKEN, h.now()) {
        Err(StoreError::Definition(d)) => {
            assert_eq!(d[0].diagnostic.code, "E002");
            assert_eq!((d[0].line, d[0].column), (4, 10));
        }
        other => panic!("expected diagnostics, got {other:?}"),
    }
    assert_eq!(store.latest("leave").unwrap().0, 2);
    let new = h.start("leave", json!({}), "wang_fang").instance;
    assert_eq!(new.version, 2);
    // The old instance still runs version 1: after `ask` comes the supervisor's step.
    let t = h.task(old.id, "ask");
    let after = h.complete(t.id, "wang_fang", None, json!({})).instance;
    assert_eq!(after.step.as_deref(), Some("approve"));
    // The new one ends right after `ask`.
    let t = h.task(new.id, "ask");
    let after = h.complete(t.id, "wang_fang", None, json!({})).instance;
    assert_eq!(after.outcome.as_deref(), Some("done"));
    // Both sources are kept.
    assert_eq!(store.stored_definition("leave", 1).unwrap().source, V1);
    assert_eq!(store.stored_definition("leave", 2).unwrap().source, V2);
}

fn weekly(policy: &str) -> String {
    format!(
        "process sweep {{\n  starts every day at 08:00 catch up {policy}\n  step tidy {{\n    task for cs_manager\n    next done\n  }}\n  end done\n}}\n"
    )
}

#[test]
fn catch_up_policies_after_three_missed_mornings() {
    for (policy, expected) in [("once", 1), ("all", 3), ("skip", 0)] {
        let h = Harness::at(sh(2026, 3, 2, 9, 0));
        h.engine
            .store
            .deploy("sweep.flow", &weekly(policy), h.now())
            .unwrap();
        // First sight of the schedule: it counts from now.
        h.engine.run_schedules().unwrap();
        // Down until Thursday 09:00: Tuesday, Wednesday and Thursday 08:00 were missed.
        h.clock.set(sh(2026, 3, 5, 9, 0));
        // (The company's own schedules run here too; count this process only.)
        let sweeps = || h.instances("sweep", "running").len();
        let (_, next) = h.engine.run_schedules().unwrap();
        assert_eq!(sweeps(), expected, "policy {policy}");
        assert!(
            next.is_some_and(|t| t <= sh(2026, 3, 6, 8, 0)),
            "policy {policy}"
        );
        // Nothing runs twice.
        h.engine.run_schedules().unwrap();
        assert_eq!(sweeps(), expected, "policy {policy}");
        // On time (within the grace minute), every policy starts it.
        h.clock
            .set(sh(2026, 3, 6, 8, 0) + chrono::Duration::seconds(5));
        h.engine.run_schedules().unwrap();
        assert_eq!(sweeps(), expected + 1, "policy {policy}");
    }
}
