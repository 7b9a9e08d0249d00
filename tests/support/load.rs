//! Load for the end-to-end tests that kill servers: clients that start and complete
//! instances of a process with a short timer and a message at each end, through the
//! API, each request sent again (with its Idempotency-Key) after a kill.

use super::api::Api;
use super::hook::Hook;
use super::{root, Server};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const CLIENTS: usize = 16;

/// What became of the wait of one completed instance, from its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Its timer was set and fired once.
    Fired,
    /// Its timer was set and never fired.
    Never,
    /// A timer fired more often than it was set.
    Twice,
    /// No timer was needed: its moment had passed when the task was completed (on
    /// a busy machine a completion may come more than `TIMER` after the start),
    /// so the flow went straight on, as the engine does for a time gone by.
    Passed,
}

/// The wait of `instance`, whose history is `history`. A wait with no timer counts
/// as `Passed` only if the task was indeed completed at or after its moment
/// (`fire_at`); otherwise its timer was lost, and it counts as `Never`.
pub fn wait_of(
    instance: &baton_engine::core::Instance,
    history: &[baton_engine::core::Record],
) -> Wait {
    use baton_dsl::eval::Value;
    use baton_engine::core::Event;
    let count = |f: fn(&Event) -> bool| history.iter().filter(|r| f(&r.event)).count();
    let set = count(|e| matches!(e, Event::TimerSet { .. }));
    let fired = count(|e| matches!(e, Event::TimerFired { .. }));
    let completed_at = history
        .iter()
        .find(|r| matches!(r.event, Event::TaskCompleted { .. }))
        .map(|r| r.at);
    let moment = match instance.data.get("fire_at") {
        Some(Value::DateTime(t)) => Some(*t),
        _ => None,
    };
    let past = matches!((completed_at, moment), (Some(c), Some(m)) if c >= m);
    match (set, fired) {
        (0, 0) if past => Wait::Passed,
        (0, 0) => Wait::Never,
        (s, f) if f > s || f > 1 => Wait::Twice,
        (s, f) if s > f => Wait::Never,
        _ => Wait::Fired,
    }
}

/// A start, a task, a short wait, a message at each end of it.
pub const FLOW: &str = r#"process crashy "崩潰測試" {
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
pub const TIMER: chrono::Duration = chrono::Duration::seconds(2);

pub fn folder(tmp: &Path, hook: &str) -> PathBuf {
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
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.next() % (to - from))
    }
}

/// What a client sends next. A request left unanswered by a kill is sent again,
/// the same, with the same Idempotency-Key, after the restart.
#[derive(Clone, Debug)]
pub enum Op {
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
pub enum Ack {
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

pub struct Client {
    pub n: usize,
    pub op: Op,
    /// The fire_at of each instance this client started, by seq.
    pub fire_at: HashMap<u32, DateTime<Utc>>,
}

pub fn tag(client: usize, seq: u32) -> String {
    format!("c{client}-{seq}")
}

/// The open task of an instance as the API shows it: `42-1`.
pub fn open_task(instance: &Value) -> Option<String> {
    instance["tasks"]
        .as_array()?
        .iter()
        .find(|t| t["state"] == "open" || t["state"] == "claimed")
        .map(|t| format!("{}-{}", t["id"]["instance"], t["id"]["n"]))
}

/// Send requests until `stop` or until one gets no answer (the server was killed).
/// Each 2xx is acknowledged; any other answer is counted as unexpected.
pub fn drive(
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
pub fn round(
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
pub fn outbox(api: &Api, admin: &str) -> Vec<Value> {
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

pub fn percentile(sorted: &[u128], p: f64) -> u128 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}
