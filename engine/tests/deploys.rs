//! Deploys that race: the file watcher of `baton serve` and `POST /definitions` may
//! deploy the same process at the same moment. Version numbers are handed out one at
//! a time, so each version holds exactly one source, the same source deployed twice
//! keeps one version, and what the running store believes is what is on disk.

mod common;

use baton_engine::store::{Deployed, Store};
use common::*;
use std::sync::Barrier;

const THREADS: usize = 8;
const ROUNDS: usize = 20;

/// A source of `leave` that differs from every other by its title.
fn source(title: &str) -> String {
    format!(
        "process leave \"{title}\" {{\n  started by agent\n  step ask {{\n    task for starter\n    next done\n  }}\n  end done\n}}\n"
    )
}

/// Deploy every source on a thread of its own, all starting together; the results
/// in the order of the sources.
fn race(store: &Store, sources: &[String], now: chrono::DateTime<chrono::Utc>) -> Vec<Deployed> {
    let barrier = Barrier::new(sources.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = sources
            .iter()
            .map(|src| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let (name, deployed) = store.deploy("leave.flow", src, now).expect("deploy");
                    assert_eq!(name, "leave");
                    deployed
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("deploying thread"))
            .collect()
    })
}

#[test]
fn the_same_source_deployed_at_once_is_one_new_version() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let store = &h.engine.store;
    store
        .deploy("leave.flow", &source("請假"), h.now())
        .expect("first deploy");
    for round in 0..ROUNDS {
        let n = store.latest("leave").expect("latest").0;
        let src = source(&format!("請假 {round}"));
        let results = race(store, &vec![src.clone(); THREADS], h.now());
        let new: Vec<_> = results
            .iter()
            .filter(|d| matches!(d, Deployed::New { .. }))
            .collect();
        assert_eq!(
            new,
            [&Deployed::New { version: n + 1 }],
            "round {round}: {results:?}"
        );
        let unchanged = results
            .iter()
            .filter(|d| **d == Deployed::Unchanged { version: n + 1 })
            .count();
        assert_eq!(unchanged, THREADS - 1, "round {round}: {results:?}");
        assert_eq!(store.latest("leave").expect("latest").0, n + 1);
        assert_eq!(
            store
                .stored_definition("leave", n + 1)
                .expect("stored")
                .source,
            src
        );
        assert!(store.stored_definition("leave", n + 2).is_err());
    }
}

#[test]
fn different_sources_deployed_at_once_get_dense_versions_each_its_own() {
    let mut h = Harness::at(sh(2026, 3, 2, 9, 0));
    h.engine
        .store
        .deploy("leave.flow", &source("請假"), h.now())
        .expect("first deploy");
    for round in 0..ROUNDS {
        let store = &h.engine.store;
        let n = store.latest("leave").expect("latest").0;
        let sources: Vec<String> = (0..THREADS)
            .map(|i| source(&format!("請假 {round}.{i}")))
            .collect();
        let results = race(store, &sources, h.now());
        let mut versions: Vec<u32> = results
            .iter()
            .map(|d| match d {
                Deployed::New { version } => *version,
                other => panic!("round {round}: a different source was {other:?}"),
            })
            .collect();
        // Each version holds the source whose deploy was told that number.
        for (src, v) in sources.iter().zip(&versions) {
            assert_eq!(
                &store.stored_definition("leave", *v).expect("stored").source,
                src,
                "round {round}, version {v}"
            );
        }
        versions.sort_unstable();
        let expected: Vec<u32> = (n + 1..=n + THREADS as u32).collect();
        assert_eq!(versions, expected, "round {round}");
        let latest = store.latest("leave").expect("latest").0;
        assert_eq!(latest, n + THREADS as u32, "round {round}");
        let cached = store.latest("leave").expect("latest").1;
        let on_disk = store.stored_definition("leave", latest).expect("stored");
        assert_eq!(*cached, on_disk.definition, "round {round}");

        // After a restart the newest version and its definition are the same.
        h = h.reopen();
        let store = &h.engine.store;
        let (after, def) = store.latest("leave").expect("latest after reopen");
        assert_eq!(after, latest, "round {round}: latest after reopen");
        assert_eq!(*def, on_disk.definition, "round {round}");
        assert_eq!(
            store
                .stored_definition("leave", after)
                .expect("stored")
                .source,
            on_disk.source
        );
    }
}
