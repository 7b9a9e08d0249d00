//! The scheduler under load: a database holding 1,000,000 pending timers; firing
//! throughput when many fall due at once; lateness when they fall due at a steady
//! 1,000/s while task completions run beside them; peak memory; restart time.
//!
//! Run: `cargo bench -p baton-engine --bench scheduler` (`-- --quick` loads 50,000).
//! Raw sled inserts in the same run are the baseline the firing rate is compared to.

use baton_engine::clock::{Clock, ManualClock, SystemClock};
use baton_engine::core::{Command, Event, TaskId};
use baton_engine::scheduler::{self, SchedulerConfig};
use baton_engine::staff::{Department, Directory, Person};
use baton_engine::store::prelude::*;
use baton_engine::store::{Options, Request};
use baton_engine::Engine;
use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// sled copies a tree node on every write; mimalloc serves those short-lived
/// allocations far faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FLOW: &str = r#"
process timed "限時" {
  started by staff
  data {
    deadline datetime
  }
  step answer {
    task for starter
    due deadline
    next done
  }
  end done
}
"#;

fn directory() -> Directory {
    Directory::new(
        vec![Department {
            id: "ops".into(),
            name: "營運".into(),
            head: "p0".into(),
        }],
        (0..1000)
            .map(|i| Person {
                id: format!("p{i}"),
                name: format!("員工{i}"),
                department: "ops".into(),
                roles: vec!["staff".into()],
                supervisor: (i > 0).then(|| "p0".to_string()),
            })
            .collect(),
    )
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

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn start(e: &Engine, who: usize, deadline: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let mut data = serde_json::Map::new();
    data.insert("deadline".into(), deadline.to_rfc3339().into());
    let cmd = Command::Start {
        process: "timed".into(),
        data,
    };
    e.store
        .execute_unflushed(None, &cmd, &format!("p{}", who % 1000), now, None)
        .expect("start")
        .instance
        .id
}

fn request(who: usize, deadline: DateTime<Utc>, now: DateTime<Utc>) -> Request {
    let mut data = serde_json::Map::new();
    data.insert("deadline".into(), deadline.to_rfc3339().into());
    Request {
        target: None,
        command: Command::Start {
            process: "timed".into(),
            data,
        },
        actor: format!("p{}", who % 1000),
        now,
        idempotency_key: None,
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

fn raw_sled_inserts(n: u64) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sled::Config::new()
        .path(dir.path())
        .mode(sled::Mode::HighThroughput)
        .open()
        .expect("sled");
    let t = db.open_tree("t").expect("tree");
    let t0 = Instant::now();
    for i in 0..n {
        t.insert(i.to_be_bytes(), vec![0u8; 200]).expect("insert");
    }
    db.flush().expect("flush");
    n as f64 / t0.elapsed().as_secs_f64()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n: usize = if quick { 50_000 } else { 1_000_000 };
    let burst: usize = if quick { 10_000 } else { 50_000 };
    let dir = tempfile::tempdir().expect("tempdir");
    let t_start = Utc::now();
    let far = t_start + Duration::days(365);
    let clock = ManualClock::new(t_start);

    // Load: n timers due in a year, plus a burst due all at the same instant.
    {
        let e =
            Engine::open(dir.path(), Options::default(), Arc::new(clock.clone())).expect("open");
        e.store.set_directory(directory()).expect("directory");
        e.store.deploy("timed.flow", FLOW, t_start).expect("deploy");
        let t0 = Instant::now();
        // Loading, not measuring: in batches, flushed once at the end.
        for chunk in (0..n).collect::<Vec<_>>().chunks(512) {
            let reqs = chunk
                .iter()
                .map(|&i| request(i, far + Duration::seconds(i as i64), t_start))
                .collect();
            for o in e.store.execute_many_unflushed(reqs) {
                o.expect("start");
            }
        }
        for i in 0..burst {
            start(&e, i, t_start + Duration::hours(1), t_start);
        }
        e.store.durable().expect("flush");
        println!(
            "loaded {} pending timers in {:.0}s ({:.0} MB on disk, RSS {:.0} MB)",
            e.store.timer_count(),
            t0.elapsed().as_secs_f64(),
            e.store.size_on_disk() as f64 / 1e6,
            rss_mb()
        );
    }

    // Restart. After a crash, sled replays everything written since it last opened
    // the database (here, the whole load); that open also checkpoints it, as
    // `baton serve` does when it stops. Then a restart after a clean stop: open the
    // database and find the next timer due.
    let t0 = Instant::now();
    drop(Engine::open(dir.path(), Options::default(), Arc::new(clock.clone())).expect("reopen"));
    let replayed = t0.elapsed();
    let t0 = Instant::now();
    let e = Arc::new(
        Engine::open(dir.path(), Options::default(), Arc::new(clock.clone())).expect("reopen"),
    );
    let next = e.store.next_timer().expect("next");
    let restart = t0.elapsed();
    // Timer keys keep milliseconds, rounded up.
    let expected = t_start + Duration::hours(1);
    assert!(next
        .is_some_and(|t| t >= expected - Duration::milliseconds(1)
            && t <= expected + Duration::milliseconds(1)));
    println!(
        "restart with {} pending timers: {:.0} ms to open and find the next one due after a clean stop; {:.0} ms to open after a crash, replaying everything written since the last open",
        n + burst,
        restart.as_secs_f64() * 1e3,
        replayed.as_secs_f64() * 1e3
    );

    // Burst: everything in `burst` falls due at once.
    let raw = raw_sled_inserts(burst as u64);
    // Timer keys round up to the millisecond, so they are due a moment later.
    clock.set(t_start + Duration::hours(1) + Duration::milliseconds(1));
    let rss_before = rss_mb();
    let t0 = Instant::now();
    let fired = e.fire_due().expect("fire");
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(fired, burst);
    println!(
        "burst: {fired} timers due at once fired durably in {:.2}s = {:.0} timers/s ({:.1}% of {:.0} raw sled inserts/s); RSS {:.0} -> {:.0} MB",
        secs,
        fired as f64 / secs,
        100.0 * fired as f64 / secs / raw,
        raw,
        rss_before,
        rss_mb()
    );
    drop(e);

    // Steady: 1,000 timers/s for 10 s on the real clock, completions beside them.
    let sys = Arc::new(SystemClock);
    let e = Arc::new(Engine::open(dir.path(), Options::default(), sys.clone()).expect("reopen"));
    let rate = 1000;
    let secs = 10;
    // Far enough ahead that setting up (14,000 starts) ends before the first is due.
    let begin = sys.now() + Duration::seconds(if quick { 15 } else { 25 });
    let now = sys.now();
    let ids: Vec<u64> = (0..rate * secs)
        .map(|i| {
            start(
                &e,
                i,
                begin + Duration::microseconds((i * 1_000_000 / rate) as i64),
                now,
            )
        })
        .collect();
    // Work for the completions: instances far from due.
    let work: Vec<u64> = (0..4000).map(|i| start(&e, i, far, now)).collect();
    e.store.durable().expect("flush");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let stop = Arc::new(AtomicBool::new(false));
    let completed = AtomicUsize::new(0);
    rt.block_on(async {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let sched = tokio::spawn(scheduler::run(
            e.clone(),
            SchedulerConfig {
                webhooks: Default::default(),
                delivery: Default::default(),
            },
            async move {
                let _ = rx.await;
            },
        ));
        {
            let (e, stop) = (e.clone(), stop.clone());
            let completed = &completed;
            std::thread::scope(|s| {
                s.spawn(|| {
                    for id in &work {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let who = e.store.instance(*id).expect("instance").starter;
                        let cmd = Command::Complete {
                            task: TaskId {
                                instance: *id,
                                n: 1,
                            },
                            choice: None,
                            data: serde_json::Map::new(),
                        };
                        e.act(*id, cmd, &who, None).expect("complete");
                        completed.fetch_add(1, Ordering::Relaxed);
                    }
                });
                // Wait (real time: this is what is measured) for the last timer due.
                let end = begin + Duration::seconds(secs as i64) + Duration::seconds(1);
                while sys.now() < end {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                stop.store(true, Ordering::Relaxed);
            });
        };
        let _ = tx.send(());
        let _ = sched.await;
    });
    let mut late: Vec<f64> = Vec::new();
    for id in &ids {
        let h = e.store.history(*id).expect("history");
        let due = h.iter().find_map(|r| match &r.event {
            Event::DueSet { due } => *due,
            _ => None,
        });
        let fired = h.iter().find_map(|r| match r.event {
            Event::TimerFired { .. } => Some(r.at),
            _ => None,
        });
        if let (Some(d), Some(f)) = (due, fired) {
            late.push((f - d).num_microseconds().unwrap_or(0) as f64 / 1000.0);
        }
    }
    println!(
        "steady: {} of {} timers at {rate}/s fired, lateness p50 {:.1} ms, p99 {:.1} ms, with {} task completions beside them ({:.0}/s)",
        late.len(),
        ids.len(),
        pct(&mut late, 0.5),
        pct(&mut late, 0.99),
        completed.load(Ordering::Relaxed),
        completed.load(Ordering::Relaxed) as f64 / (secs as f64 + 1.0)
    );
    println!("peak memory (VmHWM): {:.0} MB", peak_rss_mb());
}
