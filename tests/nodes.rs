//! Several nodes on one PostgreSQL database, with the real `baton serve`: three
//! nodes on different ports, the same processes/ folder and configuration. Clients
//! spread over the nodes start and complete instances whose short timers fall due
//! while they work, a schedule starts an instance every three seconds, and one node
//! is killed with SIGKILL mid-way and started again. At the end every acknowledged
//! change is there exactly once, every timer fired exactly once, every occurrence
//! of the schedule started once, every message reached the webhook, and `verify`
//! finds nothing wrong.
//!
//! Needs `BATON_TEST_POSTGRES` (see `baton_engine::store::pg_testing`); the number
//! of timers comes from `BATON_NODES_TIMERS` (default 1,500):
//!
//!     BATON_TEST_POSTGRES=postgres://root@127.0.0.1/postgres \
//!         cargo test -p baton-cli --test nodes -- --nocapture

use baton_engine::store::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
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

const NODES: usize = 3;

/// A start every three seconds, whichever nodes are up.
const TICK: &str = r#"process tick "定時" {
  started by agent
  starts cron "*/3 * * * * *" catch up skip
  step note "記錄" {
    notify starter "定時"
    next done
  }
  end done
}
"#;

fn node(tmp: &Path, db: &Path, dir: &Path, n: usize) -> Server {
    let cwd = tmp.join(format!("node{n}"));
    std::fs::create_dir_all(&cwd).expect("mkdir");
    Server::start_in(db, dir, Some(&cwd))
}

#[test]
fn three_nodes_on_one_database_keep_every_change_timer_and_start_once() {
    let Some(pg) = baton_engine::store::pg_testing::database("nodes") else {
        return;
    };
    let timers: usize = std::env::var("BATON_NODES_TIMERS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1500);
    let db = PathBuf::from(&pg.url);
    let began = Utc::now();
    let hook = Hook::start(|_, _| Duration::from_millis(5));
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = folder(tmp.path(), &hook.url);
    std::fs::write(dir.join("tick.flow"), TICK).expect("tick");

    // The first node makes the schema and the first admin token; the others join.
    let mut nodes: Vec<Option<Server>> = vec![Some(node(tmp.path(), &db, &dir, 0))];
    let admin = nodes[0].as_ref().expect("node 0").admin_token();
    for n in 1..NODES {
        nodes.push(Some(node(tmp.path(), &db, &dir, n)));
    }
    let urls: Vec<String> = nodes
        .iter()
        .map(|s| s.as_ref().expect("node").url.clone())
        .collect();
    let token = Api::new(&urls[0]).issue(&admin, "wang_fang");

    let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
    let unexpected: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let completions = |acks: &Mutex<Vec<Ack>>| {
        acks.lock()
            .expect("acks")
            .iter()
            .filter(|a| matches!(a, Ack::Completed { .. }))
            .count()
    };
    // Each client on a node of its own choosing; a client whose node is killed
    // waits for it and sends its last request again there.
    let urls = Arc::new(Mutex::new(urls));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let (urls, token, stop) = (urls.clone(), token.clone(), stop.clone());
            let (acks, unexpected) = (acks.clone(), unexpected.clone());
            std::thread::spawn(move || {
                let mut c = Client {
                    n,
                    op: Op::Start {
                        seq: 0,
                        fire_at: Utc::now() + TIMER,
                    },
                    fire_at: HashMap::new(),
                };
                while !stop.load(Ordering::Relaxed) {
                    let url = urls.lock().expect("urls")[n % NODES].clone();
                    c = drive(&Api::new(&url), &token, c, &stop, &acks, &unexpected);
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        })
        .collect();

    // Kill one node with SIGKILL half-way, and start it again.
    let deadline = Instant::now() + Duration::from_secs(240);
    while completions(&acks) < timers / 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut killed = nodes[1].take().expect("node 1");
    killed.child.kill().expect("SIGKILL");
    killed.child.wait().expect("reaped");
    std::thread::sleep(Duration::from_millis(500));
    let again = node(tmp.path(), &db, &dir, 1);
    urls.lock().expect("urls")[1] = again.url.clone();
    nodes[1] = Some(again);
    while completions(&acks) < timers && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client");
    }

    // Every timer due (the last ones 2 s after the last start), and then taken by
    // a node: none is overdue in the database. Then every message delivered. On a
    // busy machine the nodes may take a while past the due times; the wait is
    // bounded, and what is still overdue then is reported as never fired.
    std::thread::sleep(Duration::from_secs(4));
    let watcher = baton_engine::Engine::open(
        &db,
        Options::default(),
        Arc::new(baton_engine::clock::SystemClock),
    )
    .expect("open");
    let end = Instant::now() + Duration::from_secs(90);
    while watcher
        .store
        .next_timer()
        .expect("next timer")
        .is_some_and(|due| due <= Utc::now())
        && Instant::now() < end
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(watcher);
    let api = Api::new(&urls.lock().expect("urls")[2]);
    let end = Instant::now() + Duration::from_secs(90);
    let records = loop {
        let records = outbox(&api, &admin);
        let pending = records.iter().filter(|r| r["state"] == "Pending").count();
        if pending == 0 || Instant::now() > end {
            break records;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    for s in nodes.into_iter().flatten() {
        // What went wrong on a node, if anything, for the failure's message.
        for line in s
            .log()
            .iter()
            .filter(|l| l.contains("ERROR") || l.contains("WARN"))
            .take(5)
        {
            println!("{}: {line}", s.url);
        }
        s.stop();
    }
    let ended = Utc::now();

    // The database itself, with every node stopped.
    let engine = baton_engine::Engine::open(
        &db,
        Options::default(),
        Arc::new(baton_engine::clock::SystemClock),
    )
    .expect("open");
    let store = &engine.store;
    let acks = acks.lock().expect("acks").clone();
    let mut tags: HashMap<String, Vec<u64>> = HashMap::new();
    let mut ticks = Vec::new();
    for process in ["crashy", "tick"] {
        for status in ["running", "completed", "cancelled", "incident"] {
            let mut after = None;
            loop {
                let page = store.instances(process, status, after, 500).expect("page");
                for i in &page.items {
                    if process == "tick" {
                        ticks.push(i.started_at);
                    } else if let Some(baton_dsl::eval::Value::Text(t)) = i.data.get("tag") {
                        tags.entry(t.clone()).or_default().push(i.id);
                    }
                }
                match page.next {
                    Some(n) => after = Some(n.parse().expect("a cursor")),
                    None => break,
                }
            }
        }
    }
    let mut lost = Vec::new();
    let mut twice = Vec::new();
    let (mut fired_once, mut fired_twice, mut never_fired, mut already_past) = (0, 0, 0, 0);
    for a in &acks {
        match a {
            Ack::Started { tag, instance } => {
                if !tags.get(tag).is_some_and(|ids| ids.contains(instance)) {
                    lost.push(format!("start {tag}"));
                }
            }
            Ack::Completed { instance, task, .. } => {
                let history = store.history(*instance).expect("history");
                let completed = history
                    .iter()
                    .filter(|r| matches!(&r.event, Event::TaskCompleted { task: t, .. } if t.to_string() == *task))
                    .count();
                match completed {
                    0 => lost.push(format!("completion {task}")),
                    1 => {}
                    _ => twice.push(format!("completion {task}")),
                }
                let inst = store.instance(*instance).expect("instance");
                match wait_of(&inst, &history) {
                    Wait::Never => never_fired += 1,
                    Wait::Fired => fired_once += 1,
                    Wait::Twice => fired_twice += 1,
                    Wait::Passed => already_past += 1,
                }
                if completed == 1 {
                    assert_eq!(inst.status, Status::Completed, "instance {instance}");
                }
            }
        }
    }
    twice.extend(
        tags.iter()
            .filter(|(_, ids)| ids.len() > 1)
            .map(|(t, ids)| format!("start {t}: instances {ids:?}")),
    );
    // Each occurrence of the schedule (every third second) started at most once:
    // no more starts than occurrences while the nodes ran (a start may come a
    // little late, so starts are not matched to occurrences by time).
    ticks.sort_unstable();
    let expected_ticks = ended.timestamp() / 3 - began.timestamp() / 3;
    let undelivered = store
        .outbox(0, usize::MAX)
        .expect("outbox")
        .into_iter()
        .filter(|m| m.state != Delivery::Sent)
        .count();
    let arrived: std::collections::BTreeSet<u64> = hook.arrivals().iter().map(|a| a.id).collect();
    let missing = records
        .iter()
        .filter_map(|r| r["id"].as_u64())
        .filter(|id| !arrived.contains(id))
        .count();
    let problems = store.verify().expect("verify");
    // Three nodes watched one folder: each file was deployed once.
    assert_eq!(store.latest("crashy").expect("crashy").0, 1);
    assert_eq!(store.latest("tick").expect("tick").0, 1);
    println!(
        "nodes: {NODES} nodes, acknowledged commands {}, timers fired once {fired_once}, \
         twice {fired_twice}, never {never_fired}, waits already past {already_past}, lost {}, duplicated {}, scheduled starts {} \
         over {} occurrences, messages {}, missing at the webhook {missing}, \
         verify problems {}",
        acks.len(),
        lost.len(),
        twice.len(),
        ticks.len(),
        expected_ticks,
        records.len(),
        problems.len(),
    );
    assert_eq!(problems, Vec::<String>::new(), "verify");
    assert_eq!(
        *unexpected.lock().expect("unexpected"),
        Vec::<String>::new()
    );
    assert_eq!(lost, Vec::<String>::new(), "acknowledged but lost");
    assert_eq!(twice, Vec::<String>::new(), "applied twice");
    assert_eq!((fired_twice, never_fired), (0, 0), "timers");
    assert!(
        fired_once + already_past >= timers,
        "{fired_once} timers and {already_past} waits past of {timers}"
    );
    assert!(
        ticks.len() as i64 <= expected_ticks,
        "{} scheduled starts in {expected_ticks} occurrences",
        ticks.len()
    );
    assert!(
        ticks.len() as i64 >= expected_ticks / 2,
        "{} scheduled starts in {expected_ticks} occurrences",
        ticks.len()
    );
    assert_eq!((undelivered, missing), (0, 0), "messages");
}

/// PostgreSQL goes away under a running node and comes back: meanwhile requests
/// answer 503 with the reason and `/healthz` says so; nothing acknowledged is lost;
/// a timer that fell due meanwhile fires once the database answers again, and the
/// node serves requests again by itself, without a restart.
#[test]
fn a_node_waits_out_postgres_going_away_and_goes_on_by_itself() {
    let Some(pg) = baton_engine::store::pg_testing::database("postgres away") else {
        return;
    };
    // The node reaches the database through a proxy the test takes down.
    let (host, rest) = pg.url.split_once('@').expect("user@host");
    let (hostport, name) = rest.split_once('/').expect("host/db");
    let target = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:5432")
    };
    let proxy = support::proxy::Proxy::start(&target);
    let url = format!("{host}@127.0.0.1:{}/{name}", proxy.port);
    let db = PathBuf::from(&url);
    let hook = Hook::start(|_, _| Duration::from_millis(1));
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = folder(tmp.path(), &hook.url);
    let server = node(tmp.path(), &db, &dir, 0);
    let admin = server.admin_token();
    let api = Api::new(&server.url);
    let token = api.issue(&admin, "wang_fang");

    // Started and completed before: its timer falls due while the database is away.
    let fire_at = Utc::now() + chrono::Duration::seconds(3);
    let body = serde_json::json!({"process": "crashy", "data": {"tag": "before", "fire_at": fire_at.to_rfc3339()}});
    let started = api.ok("POST", "/instances", &token, Some(&body));
    let id = started["instance"]["id"].as_u64().expect("id");
    let task = format!("{id}-1");
    api.ok(
        "POST",
        &format!("/tasks/{task}/complete"),
        &token,
        Some(&serde_json::json!({})),
    );

    proxy.down();
    let (status, health) = api
        .call("GET", "/healthz", "", None, None)
        .expect("an answer");
    assert_eq!(status, 503, "{health}");
    assert!(health.to_string().contains("database"), "{health}");
    let body = serde_json::json!({"process": "crashy", "data": {"tag": "while away", "fire_at": fire_at.to_rfc3339()}});
    let (status, refused) = api
        .call("POST", "/instances", &token, Some(&body), Some("away-1"))
        .expect("an answer");
    assert_eq!(status, 503, "{refused}");
    assert!(refused.to_string().contains("unavailable"), "{refused}");
    let (status, _) = api
        .call("GET", &format!("/instances/{id}"), &token, None, None)
        .expect("an answer");
    assert_eq!(status, 503);
    // The timer falls due while the database is away.
    while Utc::now() < fire_at + chrono::Duration::seconds(1) {
        std::thread::sleep(Duration::from_millis(100));
    }

    proxy.up();
    let back = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = api
            .call("GET", "/healthz", "", None, None)
            .expect("an answer");
        if status == 200 {
            break;
        }
        assert!(Instant::now() < back, "the node never came back: {status}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The refused start can be sent again, and runs once.
    let again = api.ok("POST", "/instances", &token, Some(&body));
    assert_eq!(
        again["instance"]["data"]["tag"]["Text"], "while away",
        "{again}"
    );
    // The timer that fell due meanwhile fires without a restart.
    let fired = Instant::now() + Duration::from_secs(30);
    loop {
        let v = api.ok("GET", &format!("/instances/{id}"), &token, None);
        if v["instance"]["status"] == "completed" || v["status"] == "completed" {
            break;
        }
        assert!(Instant::now() < fired, "the timer never fired: {v}");
        std::thread::sleep(Duration::from_millis(200));
    }
    server.stop();
    let engine = baton_engine::Engine::open(
        Path::new(&pg.url),
        Options::default(),
        Arc::new(baton_engine::clock::SystemClock),
    )
    .expect("open");
    let history = engine.store.history(id).expect("history");
    let fired = history
        .iter()
        .filter(|r| matches!(r.event, Event::TimerFired { .. }))
        .count();
    assert_eq!(fired, 1, "{history:?}");
    assert_eq!(engine.store.verify().expect("verify"), Vec::<String>::new());
}
