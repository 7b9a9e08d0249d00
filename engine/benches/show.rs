//! Reading one instance as a person who took part in it long ago: may they see it
//! (`Store::takes_part`), then the instance as shown (`Store::shown`). Measured on an
//! instance with 10 history entries and one with 10,000, and, in the same run, the
//! way it was decided before the participants and signatures were kept beside the
//! history (reading and replaying the whole history), as the baseline.
//!
//! Run: `cargo bench -p baton-engine --bench show`.

use baton_engine::clock::ManualClock;
use baton_engine::core::{Command, Event, Instance, InstanceId, SYSTEM};
use baton_engine::staff::{Department, Directory, Person};
use baton_engine::store::prelude::*;
use baton_engine::store::{Options, Store};
use baton_engine::team::Party;
use baton_engine::{view, Engine};
use chrono::Utc;
use std::sync::Arc;
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FLOW: &str = r#"
process case "案件" {
  started by staff
  step handle "處理" {
    task for starter
    next done
  }
  end done
}
"#;

fn person(id: &str) -> Person {
    Person {
        id: id.into(),
        name: id.into(),
        department: "ops".into(),
        roles: vec!["staff".into()],
        supervisor: None,
    }
}

/// The old rule, by replaying the history: did `who` act on it or was a task of it
/// offered to them?
fn takes_part_by_history(store: &Store, who: &str, inst: &Instance) -> bool {
    if inst.starter == who {
        return true;
    }
    store.history(inst.id).expect("history").iter().any(|r| {
        (r.actor != SYSTEM && r.actor == who)
            || matches!(&r.event, Event::TaskCreated { task } if task.candidates.people.iter().any(|p| p == who))
    })
}

fn per_op(n: u32, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn main() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(Utc::now());
    let engine = Engine::open(dir.path(), Options::default(), Arc::new(clock)).expect("open");
    let store = engine.store.clone();
    store
        .set_directory(Directory::new(
            vec![Department {
                id: "ops".into(),
                name: "Ops".into(),
                head: "ann".into(),
            }],
            vec![person("ann"), person("bob"), person("cat")],
        ))
        .expect("directory");
    store.deploy("case.flow", FLOW, Utc::now()).expect("deploy");
    // `bob` commented once, first; `ann` then adds entries.
    let make = |entries: usize| -> InstanceId {
        let start = Command::Start {
            process: "case".into(),
            data: Default::default(),
        };
        let id = store
            .execute(None, &start, "ann", Utc::now(), None)
            .expect("start")
            .instance
            .id;
        let comment = |text: &str| Command::Comment { text: text.into() };
        store
            .execute(Some(id), &comment("bob"), "bob", Utc::now(), None)
            .expect("comment");
        loop {
            let have = store.history(id).expect("history").len();
            if have >= entries {
                break;
            }
            // A comment adds one entry.
            let reqs: Vec<_> = (0..(entries - have).min(200))
                .map(|i| {
                    baton_engine::store::Request::new(
                        Some(id),
                        &comment(&format!("note {i}")),
                        "ann",
                        Utc::now(),
                        None,
                    )
                })
                .collect();
            for r in store.execute_many(reqs) {
                r.expect("comment");
            }
        }
        id
    };
    let small = make(10);
    let large = make(10_000);
    let dir_ = store.directory();
    let bob = Party::person(&dir_, "bob");
    println!("reading an instance as someone who took part long ago (µs per read)");
    println!(
        "{:>8}  {:>10}  {:>12}  {:>6}",
        "history", "kept", "replayed", "ratio"
    );
    let mut kept_figures = Vec::new();
    for id in [small, large] {
        let entries = store.history(id).expect("history").len();
        let n = if entries > 1000 { 200 } else { 5_000 };
        let kept = per_op(n, || {
            let inst = store.instance(id).expect("instance");
            assert!(store.takes_part(&bob, &inst).expect("asked"));
            std::hint::black_box(store.shown(id).expect("shown"));
        });
        let replayed = per_op(n, || {
            let inst = store.instance(id).expect("instance");
            assert!(takes_part_by_history(&store, "bob", &inst));
            let history = store.history(id).expect("history");
            std::hint::black_box(view::shown(inst, &history));
        });
        println!(
            "{entries:>8}  {kept:>10.1}  {replayed:>12.1}  {:>6.1}",
            replayed / kept
        );
        kept_figures.push(kept);
    }
    println!(
        "kept: 10,000 entries cost {:.2}x what 10 cost",
        kept_figures[1] / kept_figures[0]
    );
}
