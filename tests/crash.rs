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
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;
use support::api::Api;
use support::hook::Hook;
use support::*;

use baton_engine::core::{Event, Status};
use baton_engine::store::{Delivery, Options};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

const CLIENTS: usize = 16;

/// A start, a task, a short wait, a message at each end of it.
const FLOW: &str = r#"process crashy "崩潰測試" {
  started by agent
  data {
    tag text
    fire_at datetime
  }
  step work "處理" {
    notify starter "開始 {tag}"
    task for starter
    next pause
  }
  step pause "等待" {
    wait until fire_at
    next tell
  }
  step tell "通知" {
    notify starter "到時 {tag}"
    next done
  }
  end done
}
"#;

/// The wait of each instance: this long after its start was first sent.
const TIMER: chrono::Duration = chrono::Duration::seconds(2);

fn folder(tmp: &Path, hook: &str) -> PathBuf {
    let dir = tmp.join("processes");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::copy(root().join("processes/staff.ron"), dir.join("staff.ron")).expect("staff");
    std::fs::write(dir.join("crashy.flow"), FLOW).expect("flow");
    std::fs::write(
        dir.join("baton.ron"),
        format!(
            r#"(zone: Some("Asia/Shanghai"), webhooks: {{"*": "{hook}"}},
               delivery: (max_attempts: 20, first_backoff_secs: 1, max_backoff_secs: 2, timeout_secs: 5))"#
        ),
    )
    .expect("config");
    dir
}

/// xorshift64*: enough to pick kill moments, and repeatable from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.next() % (to - from))
    }
}

/// What a client sends next. A request left unanswered by a kill is sent again,
/// the same, with the same Idempotency-Key, after the restart.
#[derive(Clone, Debug)]
enum Op {
    Start {
        seq: u32,
        fire_at: DateTime<Utc>,
    },
    Complete {
        seq: u32,
        instance: u64,
        task: String,
    },
}

#[derive(Clone, Debug)]
enum Ack {
    Started {
        tag: String,
        instance: u64,
    },
    Completed {
        instance: u64,
        task: String,
        fire_at: DateTime<Utc>,
    },
}

struct Client {
    n: usize,
    op: Op,
    /// The fire_at of each instance this client started, by seq.
    fire_at: HashMap<u32, DateTime<Utc>>,
}

fn tag(client: usize, seq: u32) -> String {
    format!("c{client}-{seq}")
}

/// The open task of an instance as the API shows it: `42-1`.
fn open_task(instance: &Value) -> Option<String> {
    instance["tasks"]
        .as_array()?
        .iter()
        .find(|t| t["state"] == "open" || t["state"] == "claimed")
        .map(|t| format!("{}-{}", t["id"]["instance"], t["id"]["n"]))
}

/// Send requests until `stop` or until one gets no answer (the server was killed).
/// Each 2xx is acknowledged; any other answer is counted as unexpected.
fn drive(
    api: &Api,
    token: &str,
    mut c: Client,
    stop: &AtomicBool,
    acks: &Mutex<Vec<Ack>>,
    unexpected: &Mutex<Vec<String>>,
) -> Client {
    while !stop.load(Ordering::Relaxed) {
        match c.op.clone() {
            Op::Start { seq, fire_at } => {
                let body = json!({"process": "crashy", "data": {
                    "tag": tag(c.n, seq), "fire_at": fire_at.to_rfc3339()
                }});
                let key = format!("start-{}", tag(c.n, seq));
                let Ok((status, v)) =
                    api.call("POST", "/instances", token, Some(&body), Some(&key))
                else {
                    return c;
                };
                let inst = &v["instance"];
                match (status, inst["id"].as_u64(), open_task(inst)) {
                    (200..=299, Some(id), Some(task)) => {
                        acks.lock().expect("acks").push(Ack::Started {
                            tag: tag(c.n, seq),
                            instance: id,
                        });
                        c.fire_at.insert(seq, fire_at);
                        c.op = Op::Complete {
                            seq,
                            instance: id,
                            task,
                        };
                    }
                    _ => {
                        unexpected
                            .lock()
                            .expect("unexpected")
                            .push(format!("start {key}: {status} {v}"));
                        return c;
                    }
                }
            }
            Op::Complete {
                seq,
                instance,
                task,
            } => {
                let key = format!("complete-{}", tag(c.n, seq));
                let path = format!("/tasks/{task}/complete");
                let Ok((status, v)) = api.call("POST", &path, token, Some(&json!({})), Some(&key))
                else {
                    return c;
                };
                if !(200..300).contains(&status) {
                    unexpected
                        .lock()
                        .expect("unexpected")
                        .push(format!("complete {key}: {status} {v}"));
                    return c;
                }
                acks.lock().expect("acks").push(Ack::Completed {
                    instance,
                    task,
                    fire_at: c.fire_at[&seq],
                });
                c.op = Op::Start {
                    seq: seq + 1,
                    fire_at: Utc::now() + TIMER,
                };
            }
        }
    }
    c
}

/// Run the clients against `server` until it is killed, after `run`.
fn round(
    mut server: Server,
    token: &str,
    clients: Vec<Client>,
    run: Duration,
    acks: &Arc<Mutex<Vec<Ack>>>,
    unexpected: &Arc<Mutex<Vec<String>>>,
    hook: &Hook,
) -> (Vec<Client>, bool) {
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = clients
        .into_iter()
        .map(|c| {
            let (api, token) = (Api::new(&server.url), token.to_string());
            let (stop, acks, unexpected) = (stop.clone(), acks.clone(), unexpected.clone());
            std::thread::spawn(move || drive(&api, &token, c, &stop, &acks, &unexpected))
        })
        .collect();
    std::thread::sleep(run);
    let mid_post = hook.in_flight() > 0;
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    stop.store(true, Ordering::Relaxed);
    let clients = threads
        .into_iter()
        .map(|t| t.join().expect("client"))
        .collect();
    (clients, mid_post)
}

/// Every outbox record, through the API.
fn outbox(api: &Api, admin: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = "/outbox?limit=500".to_string();
    loop {
        let page = api.ok("GET", &path, admin, None);
        out.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next"].as_str() {
            Some(next) => path = format!("/outbox?limit=500&cursor={next}"),
            None => return out,
        }
    }
}

fn percentile(sorted: &[u128], p: f64) -> u128 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

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
                let fired = history
                    .iter()
                    .filter(|r| matches!(r.event, Event::TimerFired { .. }))
                    .count();
                match fired {
                    0 => figures.timers_never_fired += 1,
                    1 => {}
                    _ => figures.timers_fired_twice += 1,
                }
                let inst = store.instance(*instance).expect("instance");
                if completed == 1 && fired == 1 {
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
         timers fired twice {}, never {}, messages {}, webhook messages missing {}, \
         unknown {}, ids unstable {}, kills during a webhook POST {}, \
         restart p50 {} ms, p99 {} ms, verify problems {}",
        figures.rounds,
        figures.acknowledged,
        figures.starts_lost + figures.completions_lost,
        figures.starts_duplicated + figures.completions_duplicated,
        figures.timers_fired_twice,
        figures.timers_never_fired,
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
