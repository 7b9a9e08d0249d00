//! The HTTP API under load: task completions over loopback from 64 connections, each
//! answered only after the completion is durable (the engine's group commit).
//!
//! Run: `cargo bench -p baton-server --bench http` (add `-- --quick` for a short run).
//!
//! The real API (`baton_server::serve`, the router `baton serve` runs) listens on
//! 127.0.0.1:0 in this process, on a temp database with a 4-stage approval process and
//! many people; a Rust load generator (hyper's HTTP/1 client, one connection per
//! worker, light enough to leave the server most of the two cores) drives it.
//! Measured in the same run, as baselines:
//! - `GET /healthz` requests/s over the same 64 connections: the HTTP ceiling;
//! - the same completions straight through the engine (64 async callers, no HTTP).
//!
//! It prints figures and asserts no targets.

use baton_engine::clock::SystemClock;
use baton_engine::core::{Command, TaskId};
use baton_engine::staff::{Department, Directory, Person};
use baton_engine::store::prelude::*;
use baton_engine::store::Options;
use baton_engine::{tokens, Engine};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// sled copies a tree node on every write; mimalloc serves those short-lived
/// allocations far faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const APPROVAL: &str = r#"
process approval "四級審批" {
  started by requester
  data {
    amount integer 0..1000000
  }
  step s1 "一審" {
    task for starter
    due 2h
    next s2
  }
  step s2 "二審" {
    task for starter
    due 2h
    next s3
  }
  step s3 "三審" {
    task for starter
    due 2h
    next s4
  }
  step s4 "四審" {
    task for starter
    due 2h
    next done
  }
  end done
}
"#;

/// Connections (and callers of the engine baseline), one person each.
const CONNECTIONS: usize = 64;
/// People in the staff directory.
const PEOPLE: usize = 2000;

fn directory() -> Directory {
    Directory::new(
        vec![Department {
            id: "ops".into(),
            name: "營運".into(),
            head: "p0".into(),
        }],
        (0..PEOPLE)
            .map(|i| Person {
                id: format!("p{i}"),
                name: format!("員工{i}"),
                department: "ops".into(),
                roles: vec!["requester".into()],
                supervisor: (i > 0).then(|| "p0".to_string()),
            })
            .collect(),
    )
}

/// A database with the process deployed and `per_person` instances started by each
/// of the first `CONNECTIONS` people; returns the engine and each person's instances.
fn setup(path: &std::path::Path, per_person: usize) -> (Engine, Vec<Vec<u64>>) {
    let e = Engine::open(path, Options::default(), Arc::new(SystemClock)).expect("open");
    e.store.set_directory(directory()).expect("directory");
    e.store
        .deploy("approval.flow", APPROVAL, chrono::Utc::now())
        .expect("deploy");
    let mut ids: Vec<Vec<u64>> = (0..CONNECTIONS)
        .map(|_| Vec::with_capacity(per_person))
        .collect();
    for i in 0..per_person {
        for (p, mine) in ids.iter_mut().enumerate() {
            let mut data = serde_json::Map::new();
            data.insert("amount".into(), (1000 + i).into());
            let cmd = Command::Start {
                process: "approval".into(),
                data,
            };
            // Loading, not measuring: one flush at the end.
            let o = e
                .store
                .execute_unflushed(None, &cmd, &format!("p{p}"), chrono::Utc::now(), None)
                .expect("start");
            mine.push(o.instance.id);
        }
    }
    e.store.durable().expect("flush");
    (e, ids)
}

/// The `i`-th completion of a caller with these instances: every instance's first
/// stage, then every second stage, and so on.
fn nth(ids: &[u64], i: usize) -> TaskId {
    TaskId {
        instance: ids[i % ids.len()],
        n: (i / ids.len()) as u32 + 1,
    }
}

struct Figures {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    n: usize,
    /// CPU time of this whole process (server, client and engine) per request.
    cpu_per: Duration,
    /// Cores kept busy on average.
    busy: f64,
}

/// CPU time (user + system) of this process so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name in parentheses: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    // Clock ticks; 100 per second on Linux.
    Duration::from_millis(f.iter().sum::<u64>() * 10)
}

fn figures(mut lat: Vec<Duration>, elapsed: Duration, cpu: Duration) -> Figures {
    lat.sort();
    let at = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Figures {
        per_sec: lat.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
        n: lat.len(),
        cpu_per: cpu / lat.len().max(1) as u32,
        busy: cpu.as_secs_f64() / elapsed.as_secs_f64(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `requests(worker, i)` gives the i-th request of a worker: (path, body or GET).
/// Every worker has its own client, hence its own connection, opened before the
/// clock starts; every answer must be a success.
async fn load(
    base: &str,
    tokens: &[String],
    per_worker: usize,
    request: impl Fn(usize, usize) -> (String, Option<&'static str>) + Send + Sync + 'static,
) -> Figures {
    let request = Arc::new(request);
    let barrier = Arc::new(tokio::sync::Barrier::new(CONNECTIONS + 1));
    let mut workers = Vec::new();
    let addr = base.trim_start_matches("http://").to_string();
    for (w, token) in tokens.iter().enumerate().take(CONNECTIONS) {
        let (addr, auth) = (addr.clone(), format!("Bearer {token}"));
        let (barrier, request) = (barrier.clone(), request.clone());
        workers.push(tokio::spawn(async move {
            // Open the connection before the clock starts.
            let stream = tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .expect("handshake");
            tokio::spawn(conn);
            barrier.wait().await;
            let mut lat = Vec::with_capacity(per_worker);
            for i in 0..per_worker {
                let (path, body) = request(w, i);
                let t0 = Instant::now();
                let req = hyper::Request::builder()
                    .method(if body.is_some() { "POST" } else { "GET" })
                    .uri(&path)
                    .header("Host", &addr)
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .body(Full::new(Bytes::from_static(body.unwrap_or("").as_bytes())))
                    .expect("request");
                sender.ready().await.expect("ready");
                let res = sender.send_request(req).await.expect("send");
                let status = res.status();
                let bytes = res.into_body().collect().await.expect("body").to_bytes();
                lat.push(t0.elapsed());
                assert!(
                    status.is_success(),
                    "{path}: {status} {}",
                    String::from_utf8_lossy(&bytes)
                );
            }
            lat
        }));
    }
    barrier.wait().await;
    let (t0, cpu0) = (Instant::now(), cpu_time());
    let mut lat = Vec::new();
    for w in workers {
        lat.extend(w.await.expect("worker"));
    }
    figures(lat, t0.elapsed(), cpu_time() - cpu0)
}

/// The same completions straight through the engine, as the server makes them: 64
/// callers awaiting `Engine::act_async` on a runtime of its own, no HTTP.
fn engine_only(per_person: usize) -> Figures {
    let dir = tempfile::tempdir().expect("tempdir");
    let (e, ids) = setup(dir.path(), per_person);
    let e = Arc::new(e);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let barrier = Arc::new(tokio::sync::Barrier::new(CONNECTIONS + 1));
        let callers: Vec<_> = ids
            .into_iter()
            .enumerate()
            .map(|(p, mine)| {
                let (e, barrier) = (e.clone(), barrier.clone());
                tokio::spawn(async move {
                    let who = format!("p{p}");
                    let mut own = Vec::with_capacity(mine.len() * 4);
                    barrier.wait().await;
                    for i in 0..mine.len() * 4 {
                        let task = nth(&mine, i);
                        let cmd = Command::Complete {
                            task,
                            choice: None,
                            data: serde_json::Map::new(),
                        };
                        let t0 = Instant::now();
                        e.act_async(task.instance, cmd, &who, None)
                            .await
                            .expect("complete");
                        own.push(t0.elapsed());
                    }
                    own
                })
            })
            .collect();
        barrier.wait().await;
        let (t0, cpu0) = (Instant::now(), cpu_time());
        let mut lat = Vec::new();
        for c in callers {
            lat.extend(c.await.expect("caller"));
        }
        figures(lat, t0.elapsed(), cpu_time() - cpu0)
    })
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let per_person = if quick { 10 } else { 100 };
    let health_per_worker = if quick { 200 } else { 2000 };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "HTTP API over loopback: {CONNECTIONS} connections, {PEOPLE} people, 4-stage approval; \
         {cores} cores; every completion durable before it is answered (group commit, fsync: false)"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let (engine, ids) = setup(dir.path(), per_person);
    let now = engine.clock.now();
    let toks: Vec<String> = (0..CONNECTIONS)
        .map(|p| tokens::issue(&*engine.store, &format!("p{p}"), now).expect("token"))
        .collect();
    let engine = Arc::new(engine);

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("server")
        .enable_all()
        .build()
        .expect("runtime");
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let state = baton_server::AppState::new(engine.clone());
    let server = server_rt.spawn(baton_server::serve(state, listener, async {
        let _ = stop_rx.await;
    }));

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("client")
        .enable_all()
        .build()
        .expect("runtime");

    let health = client_rt.block_on(load(&base, &toks, health_per_worker, |_, _| {
        ("/healthz".to_string(), None)
    }));
    let ids = Arc::new(ids);
    let completions = {
        let ids = ids.clone();
        client_rt.block_on(load(&base, &toks, per_person * 4, move |w, i| {
            let task = nth(&ids[w], i);
            (format!("/tasks/{task}/complete"), Some("{}"))
        }))
    };
    // Every instance ended, every completion counted once.
    for mine in ids.iter() {
        for id in mine {
            let i = engine.store.instance(*id).expect("instance");
            assert_eq!(i.status.as_str(), "completed", "instance {id}");
        }
    }
    let _ = stop_tx.send(());
    server_rt
        .block_on(server)
        .expect("server task")
        .expect("server");
    drop(engine);

    let direct = engine_only(per_person);

    for (what, unit, f) in [
        ("GET /healthz (the HTTP ceiling)", "requests", &health),
        ("task completions over HTTP", "completions", &completions),
        ("the same straight to the engine", "completions", &direct),
    ] {
        println!(
            "{what:<32} {:>7.0} {unit}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} {unit}; CPU {:.0} µs each, {:.2} cores busy)",
            f.per_sec,
            ms(f.p50),
            ms(f.p99),
            f.n,
            f.cpu_per.as_secs_f64() * 1e6,
            f.busy
        );
    }
    println!(
        "HTTP completions are {:.0}% of the engine's rate",
        100.0 * completions.per_sec / direct.per_sec
    );
}
