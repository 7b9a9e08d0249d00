//! Engine throughput and latency, every command acknowledged only once durable.
//!
//! Run: `cargo bench -p baton-engine --bench engine` (add `-- --quick` for a short
//! run, `-- --million` for the 1,000,000-task and 1,000,000-instance figures,
//! `-- --async` for async callers only, `-- --cpu` for CPU and bytes per command,
//! `-- --fan-out` for the list of 1,000 elements fanned out to 1,000 tasks alone).
//!
//! The same run measures raw sled inserts with the same flush policy (one flush per
//! write for one caller; writes sharing flushes for many), as the ceiling the engine
//! is compared with.

use baton_engine::clock::SystemClock;
use baton_engine::core::{Command, TaskId};
use baton_engine::staff::{Department, Directory, Person};
use baton_engine::store::prelude::*;
use baton_engine::store::{Options, Store};
use baton_engine::Engine;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex};
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

/// A list filled at start and fanned out: one task per element, each with its own
/// due time and reminder.
const FAN_OUT: &str = r#"
process minutes "會議紀要" {
  started by requester
  data {
    action_items list 1.. of { item text, owner person, deadline date }
  }
  step follow_up "落實：{action.item}" {
    for each action in action_items
    task for action.owner
    due action.deadline at 18:00
    remind 1 day before due
    next done
  }
  end done
}
"#;

fn directory(people: usize) -> Directory {
    Directory::new(
        vec![Department {
            id: "ops".into(),
            name: "營運".into(),
            head: "p0".into(),
        }],
        (0..people)
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

fn engine(path: &std::path::Path, people: usize) -> Engine {
    let e = Engine::open(path, Options::default(), Arc::new(SystemClock)).expect("open");
    e.store.set_directory(directory(people)).expect("directory");
    e.store
        .deploy("approval.flow", APPROVAL, chrono::Utc::now())
        .expect("deploy");
    e
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

struct Run {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
}

/// Run `work(thread, i)` `per_thread` times on each of `threads` threads.
fn drive(threads: usize, per_thread: usize, work: impl Fn(usize, usize) + Sync) -> Run {
    let lat = Mutex::new(Vec::with_capacity(threads * per_thread));
    let barrier = Barrier::new(threads);
    let start = Mutex::new(None::<Instant>);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (lat, barrier, start, work) = (&lat, &barrier, &start, &work);
            s.spawn(move || {
                let mut mine = Vec::with_capacity(per_thread);
                if barrier.wait().is_leader() {
                    *start.lock().unwrap() = Some(Instant::now());
                }
                for i in 0..per_thread {
                    let t0 = Instant::now();
                    work(t, i);
                    mine.push(t0.elapsed());
                }
                lat.lock().unwrap().extend(mine);
            });
        }
    });
    let elapsed = start.lock().unwrap().expect("started").elapsed();
    let mut lat = lat.into_inner().unwrap();
    lat.sort();
    Run {
        per_sec: lat.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
    }
}

/// As `drive`, with `callers` tasks on an async runtime of two workers, as the
/// HTTP API calls the engine. Returns each caller's results too, in order.
fn drive_async<F, Fut, T>(callers: usize, per_caller: usize, work: F) -> (Run, Vec<Vec<T>>)
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = T> + Send,
    T: Send + 'static,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let barrier = Arc::new(tokio::sync::Barrier::new(callers + 1));
        let tasks: Vec<_> = (0..callers)
            .map(|t| {
                let (work, barrier) = (work.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let mut lat = Vec::with_capacity(per_caller);
                    let mut outs = Vec::with_capacity(per_caller);
                    for i in 0..per_caller {
                        let t0 = Instant::now();
                        outs.push(work(t, i).await);
                        lat.push(t0.elapsed());
                    }
                    (lat, outs)
                })
            })
            .collect();
        barrier.wait().await;
        let start = Instant::now();
        let mut lat = Vec::with_capacity(callers * per_caller);
        let mut outs = Vec::with_capacity(callers);
        for t in tasks {
            let (l, o) = t.await.expect("caller");
            lat.extend(l);
            outs.push(o);
        }
        let elapsed = start.elapsed();
        lat.sort();
        (
            Run {
                per_sec: lat.len() as f64 / elapsed.as_secs_f64(),
                p50: percentile(&lat, 0.5),
                p99: percentile(&lat, 0.99),
            },
            outs,
        )
    })
}

/// Starts, then completions, from async callers (`Engine::start_async`, `act_async`).
fn engine_runs_async(callers: usize, per_caller: usize) -> (Run, Run) {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = Arc::new(engine(dir.path(), callers.max(2)));
    let (starts, ids) = drive_async(callers, per_caller, {
        let e = e.clone();
        move |t, _| {
            let e = e.clone();
            async move {
                e.start_async("approval", data(), &format!("p{t}"), None)
                    .await
                    .expect("start")
                    .instance
                    .id
            }
        }
    });
    let ids = Arc::new(ids);
    let (completes, _) = drive_async(callers, per_caller * 4, {
        let e = e.clone();
        move |t, i| {
            let (e, ids) = (e.clone(), ids.clone());
            async move {
                let id = ids[t][i % per_caller];
                let n = (i / per_caller) as u32 + 1;
                let cmd = Command::Complete {
                    task: TaskId { instance: id, n },
                    choice: None,
                    data: serde_json::Map::new(),
                };
                e.act_async(id, cmd, &format!("p{t}"), None)
                    .await
                    .expect("complete");
            }
        }
    });
    let commands = (callers * per_caller * 5) as f64;
    println!(
        "   {callers} async callers: {commands:.0} commands made durable by {} flushes ({:.1} commands per flush, {:.2} ms per flush)",
        e.store.flushes(),
        commands / e.store.flushes().max(1) as f64,
        e.store.flush_time().as_secs_f64() * 1e3 / e.store.flushes().max(1) as f64,
    );
    (starts, completes)
}

/// The ceiling: raw sled inserts, each acknowledged after a flush that covers it
/// (for many callers, flushes shared exactly as the engine shares them).
fn raw_sled(threads: usize, per_thread: usize) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sled::Config::new()
        .path(dir.path())
        .flush_every_ms(Some(1000))
        .open()
        .expect("sled");
    let tree = db.open_tree("t").expect("tree");
    let value = vec![7u8; 600];
    // The same leader/follower group commit as the store's, on plain inserts.
    let state = Mutex::new((1u64, 0u64, false));
    let cv = Condvar::new();
    let n = AtomicUsize::new(0);
    drive(threads, per_thread, |_, _| {
        let k = n.fetch_add(1, Ordering::Relaxed) as u64;
        tree.insert(k.to_be_bytes(), value.as_slice())
            .expect("insert");
        let mut st = state.lock().unwrap();
        let mine = st.0;
        while st.1 < mine {
            if !st.2 {
                st.2 = true;
                let number = st.0;
                st.0 += 1;
                drop(st);
                db.flush().expect("flush");
                st = state.lock().unwrap();
                st.2 = false;
                st.1 = st.1.max(number);
                cv.notify_all();
            } else {
                st = cv.wait(st).unwrap();
            }
        }
    })
}

/// Bytes this process has caused to be written to storage so far.
fn written_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("write_bytes:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn data() -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("amount".into(), 1000.into());
    m
}

fn engine_runs(threads: usize, per_thread: usize) -> (Run, Run) {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = engine(dir.path(), threads.max(2));
    let ids: Vec<Mutex<Vec<u64>>> = (0..threads).map(|_| Mutex::new(Vec::new())).collect();
    let starts = drive(threads, per_thread, |t, _| {
        let o = e
            .start("approval", data(), &format!("p{t}"), None)
            .expect("start");
        ids[t].lock().unwrap().push(o.instance.id);
    });
    // Each caller completes its own instances' tasks, one stage at a time.
    let stage = AtomicUsize::new(0);
    let _ = &stage;
    let completes = drive(threads, per_thread * 4, |t, i| {
        let list = ids[t].lock().unwrap();
        let id = list[i % list.len()];
        drop(list);
        let n = (i / per_thread) as u32 + 1;
        let task = TaskId { instance: id, n };
        let cmd = Command::Complete {
            task,
            choice: None,
            data: serde_json::Map::new(),
        };
        e.act(id, cmd, &format!("p{t}"), None).expect("complete");
    });
    // Group commit at work: how many commands each flush covered.
    let commands = (threads * per_thread * 5) as f64;
    println!(
        "   {threads} caller(s): {commands:.0} commands made durable by {} flushes ({:.1} commands per flush, {:.2} ms per flush)",
        e.store.flushes(),
        commands / e.store.flushes().max(1) as f64,
        e.store.flush_time().as_secs_f64() * 1e3 / e.store.flushes().max(1) as f64,
    );
    (starts, completes)
}

fn million(quick: bool) {
    let n: usize = if quick { 50_000 } else { 1_000_000 };
    let people = 10_000;
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let e = engine(dir.path(), people);
        let t0 = Instant::now();
        // Loading, not measuring: in batches, flushed once at the end.
        for chunk in (0..n).collect::<Vec<_>>().chunks(512) {
            let reqs = chunk
                .iter()
                .map(|i| baton_engine::store::Request {
                    target: None,
                    command: Command::Start {
                        process: "approval".into(),
                        data: data(),
                    },
                    actor: format!("p{}", i % people),
                    now: chrono::Utc::now(),
                    idempotency_key: None,
                })
                .collect();
            for o in e.store.execute_many_unflushed(reqs) {
                o.expect("start");
            }
        }
        e.store.durable().expect("flush");
        println!(
            "loaded {n} instances with {n} open tasks in {:.1}s ({:.0} MB on disk; peak memory so far {:.0} MB)",
            t0.elapsed().as_secs_f64(),
            e.store.size_on_disk() as f64 / 1e6,
            peak_rss_mb()
        );
        let mut lat = Vec::new();
        for i in 0..2000 {
            let t0 = Instant::now();
            let tasks = e
                .store
                .tasks_for(&format!("p{}", (i * 7919) % people))
                .expect("query");
            lat.push(t0.elapsed());
            assert_eq!(tasks.len(), n / people);
        }
        lat.sort();
        println!(
            "\"my tasks\" with {n} open tasks ({} per person): p50 {:.2} ms, p99 {:.2} ms",
            n / people,
            percentile(&lat, 0.5).as_secs_f64() * 1e3,
            percentile(&lat, 0.99).as_secs_f64() * 1e3
        );
    }
    // As after a crash: sled replays everything written since it last opened the
    // database (here, the whole load). That open also checkpoints it, as
    // `baton serve` does when it stops, so the next open is a start after a clean stop.
    let t0 = Instant::now();
    drop(Store::open(dir.path(), Options::default()).expect("reopen"));
    let replayed = t0.elapsed();
    println!("peak memory after reopening: {:.0} MB", peak_rss_mb());
    let t0 = Instant::now();
    let store = Store::open(dir.path(), Options::default()).expect("reopen");
    let opened = t0.elapsed();
    let t1 = Instant::now();
    let i = store.instance(n as u64 / 2).expect("an instance");
    println!(
        "open a database of {n} instances: {:.0} ms after a clean stop (first read after open {:.2} ms, instance {}); {:.0} ms after a crash, replaying everything written since the last open",
        opened.as_secs_f64() * 1e3,
        t1.elapsed().as_secs_f64() * 1e3,
        i.id,
        replayed.as_secs_f64() * 1e3,
    );
}

/// CPU cost of a command without waiting for the disk, one thread: alone (a batch
/// of one, as with one caller) and in batches of 256 (as under load). Tells the
/// engine's own work apart from the flush.
fn cpu_only(n: usize) {
    use baton_engine::store::Request;
    for batch in [1usize, 256] {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = engine(dir.path(), 64);
        let request = |target, command, who: &str| Request {
            target,
            command,
            actor: who.to_string(),
            now: chrono::Utc::now(),
            idempotency_key: None,
        };
        let w0 = written_bytes();
        let d0 = e.store.size_on_disk();
        let t0 = Instant::now();
        let mut ids = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(batch) {
            let reqs = chunk
                .iter()
                .map(|i| {
                    let cmd = Command::Start {
                        process: "approval".into(),
                        data: data(),
                    };
                    request(None, cmd, &format!("p{}", i % 64))
                })
                .collect();
            for (o, i) in e.store.execute_many_unflushed(reqs).into_iter().zip(chunk) {
                ids.push((o.expect("start").instance.id, format!("p{}", i % 64)));
            }
        }
        let starts = t0.elapsed();
        e.store.durable().expect("flush");
        let w1 = written_bytes();
        let d1 = e.store.size_on_disk();
        let t1 = Instant::now();
        for chunk in ids.chunks(batch) {
            let reqs = chunk
                .iter()
                .map(|(id, who)| {
                    let cmd = Command::Complete {
                        task: TaskId {
                            instance: *id,
                            n: 1,
                        },
                        choice: None,
                        data: serde_json::Map::new(),
                    };
                    request(Some(*id), cmd, who)
                })
                .collect();
            for o in e.store.execute_many_unflushed(reqs) {
                o.expect("complete");
            }
        }
        let completes = t1.elapsed();
        e.store.durable().expect("flush");
        let w2 = written_bytes();
        let d2 = e.store.size_on_disk();
        println!(
            "CPU only (no flush, 1 thread, batches of {batch}): {:.0} µs per start, {:.0} µs per completion; {:.1} KB written per start, {:.1} KB per completion (the log grew {:.1} and {:.1} KB)",
            starts.as_secs_f64() * 1e6 / n as f64,
            completes.as_secs_f64() * 1e6 / n as f64,
            (w1 - w0) as f64 / 1024.0 / n as f64,
            (w2 - w1) as f64 / 1024.0 / n as f64,
            (d1 - d0) as f64 / 1024.0 / n as f64,
            (d2 - d1) as f64 / 1024.0 / n as f64,
        );
    }
}

/// A start whose list of 1,000 elements becomes 1,000 tasks (each with a due timer
/// and a reminder), durable before it is acknowledged: its time against the
/// budget of 100 ms.
fn fan_out(runs: usize) {
    const ELEMENTS: usize = 1000;
    const BUDGET: Duration = Duration::from_millis(100);
    let dir = tempfile::tempdir().expect("tempdir");
    let e = engine(dir.path(), ELEMENTS);
    e.store
        .deploy("minutes.flow", FAN_OUT, chrono::Utc::now())
        .expect("deploy");
    let items: Vec<serde_json::Value> = (0..ELEMENTS)
        .map(|i| {
            serde_json::json!({
                "item": format!("事項{i}"),
                "owner": format!("p{i}"),
                "deadline": "2030-01-10",
            })
        })
        .collect();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut data = serde_json::Map::new();
        data.insert(
            "action_items".into(),
            serde_json::Value::Array(items.clone()),
        );
        let t0 = Instant::now();
        let o = e.start("minutes", data, "p0", None).expect("start");
        times.push(t0.elapsed());
        assert_eq!(o.instance.active_tasks().count(), ELEMENTS);
    }
    times.sort();
    let p50 = percentile(&times, 0.50);
    let worst = times.last().copied().unwrap_or_default();
    println!(
        "fan-out: a list of {ELEMENTS} elements started as {ELEMENTS} tasks in {:.1} ms (p50 of {runs}), {:.1} ms at most; budget {} ms{}",
        p50.as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3,
        BUDGET.as_millis(),
        if p50 > BUDGET { " (OVER BUDGET)" } else { "" }
    );
}

/// One line of figures: starts and completions beside the raw-sled ceiling.
fn report(who: &str, raw: &Run, starts: &Run, completes: &Run) {
    println!(
        "{who}: raw sled {:>7.0} writes/s | starts {:>7.0}/s (p50 {:.2} ms, p99 {:.2} ms) | completions {:>7.0}/s (p50 {:.2} ms, p99 {:.2} ms) = {:.0}% of raw sled",
        raw.per_sec,
        starts.per_sec,
        starts.p50.as_secs_f64() * 1e3,
        starts.p99.as_secs_f64() * 1e3,
        completes.per_sec,
        completes.p50.as_secs_f64() * 1e3,
        completes.p99.as_secs_f64() * 1e3,
        100.0 * completes.per_sec / raw.per_sec
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--cpu") {
        cpu_only(20_000);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    if args.iter().any(|a| a == "--fan-out") {
        fan_out(if quick { 5 } else { 20 });
        return;
    }
    let per = if quick { 40 } else { 300 };
    println!("4-stage approval, every command durable before it is acknowledged");
    let only_async = args.iter().any(|a| a == "--async");
    for threads in [1usize, 64].into_iter().filter(|_| !only_async) {
        let per_thread = if threads == 1 { per * 4 } else { per };
        let raw = raw_sled(threads, per_thread * 4);
        let (starts, completes) = engine_runs(threads, per_thread);
        report(
            &format!("{threads:>2} caller(s)"),
            &raw,
            &starts,
            &completes,
        );
    }
    {
        let callers = 64;
        let raw = raw_sled(callers, per * 4);
        let (starts, completes) = engine_runs_async(callers, per);
        report(
            &format!("{callers} async callers (tasks on 2 runtime workers, as the HTTP API)"),
            &raw,
            &starts,
            &completes,
        );
    }
    fan_out(if quick { 5 } else { 20 });
    println!("peak memory so far: {:.0} MB", peak_rss_mb());
    if args.iter().any(|a| a == "--million") || quick {
        million(quick);
        println!("peak memory: {:.0} MB", peak_rss_mb());
    }
}
