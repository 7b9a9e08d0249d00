//! Crash testing with the real `baton serve`: rounds of 16 clients starting and
//! completing instances (whose short timers fire and whose messages go to a webhook
//! in this process), a SIGKILL at a random moment, and a restart. At the end every
//! acknowledged start and completion is there exactly once, every timer of an
//! acknowledged completion fired exactly once, every message reached the webhook at
//! least once with a stable id, and `verify` finds nothing wrong.
//!
//! The number of rounds comes from `BATON_CRASH_ROUNDS` (default 5), the random
//! moments from `BATON_CRASH_SEED` (default: the time); the figures are printed at
//! the end:
//!
//!     BATON_CRASH_ROUNDS=100 cargo test -p baton-cli --test crash -- --nocapture

use baton_engine::store::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;
use support::api::Api;
use support::hook::Hook;
use support::load::*;
use support::*;

use baton_engine::core::{Event, Status};
use baton_engine::store::{Delivery, Options};
use chrono::Utc;

#[derive(Debug, Default)]
struct Figures {
    rounds: usize,
    acknowledged: usize,
    starts_lost: usize,
    starts_duplicated: usize,
    completions_lost: usize,
    completions_duplicated: usize,
    timers_fired_twice: usize,
    timers_never_fired: usize,
    /// Completions that came after their wait's moment, which then set no timer.
    waits_already_past: usize,
    messages: usize,
    webhook_messages_missing: usize,
    webhook_ids_unstable: usize,
    webhook_messages_unknown: usize,
    deliveries_pending: usize,
    kills_during_a_post: usize,
    unexpected_answers: usize,
    verify_problems: usize,
}

#[test]
fn killed_at_random_moments_the_server_keeps_every_acknowledged_change_timer_and_message() {
    let rounds: usize = std::env::var("BATON_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let seed: u64 = std::env::var("BATON_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
        | 1;
    println!("crash: {rounds} rounds, BATON_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    // A short hold on every POST, so that some kills land while one is in flight.
    let hook = Hook::start(|_, _| Duration::from_millis(20));
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = folder(tmp.path(), &hook.url);
    let db = tmp.path().join("db");

    let server = Server::start(&db, &dir);
    let admin = server.admin_token();
    let token = Api::new(&server.url).issue(&admin, "wang_fang");
    let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
    let unexpected: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|n| Client {
            n,
            op: Op::Start {
                seq: 0,
                fire_at: Utc::now() + TIMER,
            },
            fire_at: HashMap::new(),
        })
        .collect();
    let mut figures = Figures {
        rounds,
        ..Figures::default()
    };
    let mut restart_ms = Vec::new();
    let mut server = Some(server);
    for _ in 0..rounds {
        let run = rng.millis(200, 2500);
        let s = server.take().expect("a server");
        let (next, mid_post) = round(s, &token, clients, run, &acks, &unexpected, &hook);
        clients = next;
        figures.kills_during_a_post += usize::from(mid_post);
        let t0 = Instant::now();
        server = Some(Server::start(&db, &dir));
        restart_ms.push(t0.elapsed().as_millis());
    }
    let server = server.take().expect("a server");

    // Every timer due, then every message delivered.
    let acks = acks.lock().expect("acks").clone();
    let last_fire = acks
        .iter()
        .filter_map(|a| match a {
            Ack::Completed { fire_at, .. } => Some(*fire_at),
            _ => None,
        })
        .max()
        .unwrap_or_else(Utc::now);
    let wait = (last_fire - Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(wait + Duration::from_secs(3));
    let api = Api::new(&server.url);
    let end = Instant::now() + Duration::from_secs(60);
    let records = loop {
        let records = outbox(&api, &admin);
        let pending = records.iter().filter(|r| r["state"] == "Pending").count();
        if pending == 0 || Instant::now() > end {
            figures.deliveries_pending = pending;
            break records;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    server.stop();

    // The webhook: every message at least once, each id always with the same body.
    let arrivals = hook.arrivals();
    let mut by_id: BTreeMap<u64, Vec<&support::hook::Arrival>> = BTreeMap::new();
    for a in &arrivals {
        by_id.entry(a.id).or_default().push(a);
    }
    let known: BTreeSet<u64> = records.iter().filter_map(|r| r["id"].as_u64()).collect();
    figures.messages = known.len();
    figures.webhook_messages_missing = known.iter().filter(|id| !by_id.contains_key(id)).count();
    figures.webhook_messages_unknown = by_id.keys().filter(|id| !known.contains(id)).count();
    figures.webhook_ids_unstable = by_id
        .iter()
        .filter(|(id, seen)| {
            seen.iter()
                .any(|a| a.body != seen[0].body || a.key != format!("baton-message-{id}"))
        })
        .count();

    // The store itself, with the server stopped.
    let engine = baton_engine::Engine::open(
        &db,
        Options::default(),
        Arc::new(baton_engine::clock::SystemClock),
    )
    .expect("open");
    let store = &engine.store;
    let mut tags: HashMap<String, Vec<u64>> = HashMap::new();
    for status in ["running", "completed", "cancelled", "incident"] {
        let mut after = None;
        loop {
            let page = store
                .instances("crashy", status, after, 500)
                .expect("instances");
            for i in &page.items {
                if let Some(baton_dsl::eval::Value::Text(t)) = i.data.get("tag") {
                    tags.entry(t.clone()).or_default().push(i.id);
                }
            }
            match page.next {
                Some(n) => after = Some(n.parse().expect("a cursor")),
                None => break,
            }
        }
    }
    figures.starts_duplicated = tags.values().filter(|ids| ids.len() > 1).count();
    figures.acknowledged = acks.len();
    for a in &acks {
        match a {
            Ack::Started { tag, instance } => {
                if !tags.get(tag).is_some_and(|ids| ids.contains(instance)) {
                    figures.starts_lost += 1;
                }
            }
            Ack::Completed { instance, task, .. } => {
                let history = store.history(*instance).expect("history");
                let completed = history
                    .iter()
                    .filter(|r| matches!(&r.event, Event::TaskCompleted { task: t, .. } if t.to_string() == *task))
                    .count();
                match completed {
                    0 => figures.completions_lost += 1,
                    1 => {}
                    _ => figures.completions_duplicated += 1,
                }
                let inst = store.instance(*instance).expect("instance");
                let wait = wait_of(&inst, &history);
                match wait {
                    Wait::Never => figures.timers_never_fired += 1,
                    Wait::Twice => figures.timers_fired_twice += 1,
                    Wait::Passed => figures.waits_already_past += 1,
                    Wait::Fired => {}
                }
                if completed == 1 && matches!(wait, Wait::Fired | Wait::Passed) {
                    assert_eq!(inst.status, Status::Completed, "instance {instance}");
                }
            }
        }
    }
    let problems = store.verify().expect("verify");
    figures.verify_problems = problems.len();
    figures.unexpected_answers = unexpected.lock().expect("unexpected").len();
    let undelivered: Vec<_> = store
        .outbox(0, usize::MAX)
        .expect("outbox")
        .into_iter()
        .filter(|m| m.state != Delivery::Sent)
        .map(|m| (m.id, m.state))
        .collect();

    restart_ms.sort_unstable();
    println!(
        "crash: rounds {}, acknowledged commands {}, lost {}, duplicated {}, \
         timers fired twice {}, never {}, waits already past {}, messages {}, webhook messages missing {}, \
         unknown {}, ids unstable {}, kills during a webhook POST {}, \
         restart p50 {} ms, p99 {} ms, verify problems {}",
        figures.rounds,
        figures.acknowledged,
        figures.starts_lost + figures.completions_lost,
        figures.starts_duplicated + figures.completions_duplicated,
        figures.timers_fired_twice,
        figures.timers_never_fired,
        figures.waits_already_past,
        figures.messages,
        figures.webhook_messages_missing,
        figures.webhook_messages_unknown,
        figures.webhook_ids_unstable,
        figures.kills_during_a_post,
        percentile(&restart_ms, 0.5),
        percentile(&restart_ms, 0.99),
        figures.verify_problems,
    );
    assert_eq!(problems, Vec::<String>::new(), "verify");
    assert_eq!(
        *unexpected.lock().expect("unexpected"),
        Vec::<String>::new(),
        "answers other than 2xx"
    );
    assert!(
        undelivered.is_empty(),
        "{} deliveries not sent, such as {:?}",
        undelivered.len(),
        &undelivered[..undelivered.len().min(10)]
    );
    let bad = Figures {
        rounds: figures.rounds,
        acknowledged: figures.acknowledged,
        messages: figures.messages,
        kills_during_a_post: figures.kills_during_a_post,
        ..Figures::default()
    };
    assert_eq!(format!("{figures:?}"), format!("{bad:?}"), "seed {seed}");
    assert!(figures.acknowledged > 0);
}
