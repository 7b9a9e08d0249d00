//! Several nodes on one PostgreSQL database, beside the embedded store in the same
//! run: starts and completions per second with 64 callers spread over one, two and
//! three nodes (each node an `Engine` of its own: its own pool, batches and
//! caches, as a `baton serve` process has), their p50 and p99; timers fired per
//! second with every node firing; the CPU (this process's and PostgreSQL's) and the
//! bytes written (WAL for PostgreSQL, the disk for sled) per command; and "my
//! tasks" with 1,000,000 open tasks in the database.
//!
//! The baseline is raw PostgreSQL: 64 connections each committing one-row inserts,
//! the most commits per second the server gives here.
//!
//! Run: `BATON_TEST_POSTGRES=postgres://root@127.0.0.1/postgres cargo bench -p
//! baton-engine --bench nodes` (`-- --quick` for a short run).

use baton_engine::clock::SystemClock;
use baton_engine::core::{Command, TaskId};
use baton_engine::staff::{Department, Directory, Person};
use baton_engine::store::prelude::*;
use baton_engine::store::{pg_testing, Options};
use baton_engine::Engine;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CALLERS: usize = 64;

const APPROVAL: &str = r#"
process approval "兩級審批" {
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
    next done
  }
  end done
}
"#;

const TIMED: &str = r#"
process timed "定時" {
  started by requester
  data {
    fire_at datetime
  }
  step pause "等待" {
    wait until fire_at
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

/// `nodes` engines on `db`; the first sets up the directory and the processes.
fn nodes(db: &Path, n: usize) -> Vec<Engine> {
    let first = Engine::open(db, Options::default(), Arc::new(SystemClock)).expect("open");
    first
        .store
        .set_directory(directory(CALLERS))
        .expect("directory");
    let now = chrono::Utc::now();
    first
        .store
        .deploy("approval.flow", APPROVAL, now)
        .expect("deploy");
    first
        .store
        .deploy("timed.flow", TIMED, now)
        .expect("deploy");
    let mut all = vec![first];
    for _ in 1..n {
        all.push(Engine::open(db, Options::default(), Arc::new(SystemClock)).expect("open"));
    }
    all
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

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>6.0}/s (p50 {:>6.2} ms, p99 {:>7.2} ms)",
            self.per_sec,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3
        )
    }
}

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
                    *start.lock().expect("start") = Some(Instant::now());
                }
                for i in 0..per_thread {
                    let t0 = Instant::now();
                    work(t, i);
                    mine.push(t0.elapsed());
                }
                lat.lock().expect("lat").extend(mine);
            });
        }
    });
    let elapsed = start.lock().expect("start").expect("started").elapsed();
    let mut lat = lat.into_inner().expect("lat");
    lat.sort();
    Run {
        per_sec: lat.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
    }
}

/// CPU seconds of the processes whose command name starts with `name` (this one:
/// `None`), from /proc.
fn cpu_seconds(name: Option<&str>) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let read = |stat: &str| -> f64 {
        // Fields after the command name, which is in parentheses.
        let after = stat.rsplit_once(')').map_or("", |(_, a)| a);
        let f: Vec<&str> = after.split_whitespace().collect();
        let ut: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let st: f64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
        (ut + st) / ticks
    };
    match name {
        None => std::fs::read_to_string("/proc/self/stat").map_or(0.0, |s| read(&s)),
        Some(n) => std::fs::read_dir("/proc")
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
                    .filter(|s| {
                        s.split_once('(')
                            .is_some_and(|(_, rest)| rest.starts_with(n))
                    })
                    .map(|s| read(&s))
                    .sum()
            })
            .unwrap_or(0.0),
    }
}

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

fn wal_bytes(admin: &str) -> u64 {
    let mut c = postgres::Client::connect(admin, postgres::NoTls).expect("connect");
    // The WAL's position: pg_stat_wal lags behind its backends by up to a second.
    let row = c
        .query_one(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint",
            &[],
        )
        .expect("the WAL's position");
    row.get::<_, i64>(0) as u64
}

/// What a run cost: CPU here and in PostgreSQL, bytes written.
struct Cost {
    here: f64,
    server: f64,
    bytes: u64,
}

fn cost(admin: Option<&str>) -> Cost {
    Cost {
        here: cpu_seconds(None),
        server: cpu_seconds(Some("postgres")),
        bytes: match admin {
            Some(a) => wal_bytes(a),
            None => written_bytes(),
        },
    }
}

fn per_command(before: &Cost, after: &Cost, commands: usize) -> String {
    let n = commands.max(1) as f64;
    format!(
        "per command: {:.0} µs CPU here, {:.0} µs CPU in PostgreSQL, {:.1} KB written",
        (after.here - before.here) * 1e6 / n,
        (after.server - before.server) * 1e6 / n,
        after.bytes.saturating_sub(before.bytes) as f64 / 1024.0 / n
    )
}

fn data() -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("amount".into(), 1000.into());
    m
}

/// Starts, then completions of both stages, with the callers spread over `engines`.
fn load(engines: &[Engine], per: usize, admin: Option<&str>) -> (Run, Run, String) {
    let ids: Vec<Mutex<Vec<u64>>> = (0..CALLERS).map(|_| Mutex::new(Vec::new())).collect();
    let before = cost(admin);
    let starts = drive(CALLERS, per, |t, _| {
        let e = &engines[t % engines.len()];
        let o = e
            .start("approval", data(), &format!("p{t}"), None)
            .expect("start");
        ids[t].lock().expect("ids").push(o.instance.id);
    });
    let completes = drive(CALLERS, per * 2, |t, i| {
        let e = &engines[t % engines.len()];
        let id = ids[t].lock().expect("ids")[i % per];
        let task = TaskId {
            instance: id,
            n: (i / per) as u32 + 1,
        };
        let cmd = Command::Complete {
            task,
            choice: None,
            data: serde_json::Map::new(),
        };
        e.act(id, cmd, &format!("p{t}"), None).expect("complete");
    });
    let after = cost(admin);
    (
        starts,
        completes,
        per_command(&before, &after, CALLERS * per * 3),
    )
}

/// Timers due at once, fired by every node together: timers per second.
fn timers(engines: &[Engine], n: usize) -> f64 {
    let at = chrono::Utc::now() + chrono::Duration::seconds(1);
    let mut d = serde_json::Map::new();
    d.insert("fire_at".into(), at.to_rfc3339().into());
    drive(CALLERS, n / CALLERS, |t, _| {
        let e = &engines[t % engines.len()];
        e.start("timed", d.clone(), &format!("p{t}"), None)
            .expect("start");
    });
    while chrono::Utc::now() < at {
        std::thread::sleep(Duration::from_millis(20));
    }
    let t0 = Instant::now();
    let fired: usize = std::thread::scope(|s| {
        let hs: Vec<_> = engines
            .iter()
            .map(|e| s.spawn(move || e.fire_due().expect("fire")))
            .collect();
        hs.into_iter().map(|h| h.join().expect("node")).sum()
    });
    let left = engines[0].store.timer_count();
    assert_eq!(left, 0, "timers left");
    // Each timer counts once however many nodes tried it.
    let _ = fired;
    (n / CALLERS * CALLERS) as f64 / t0.elapsed().as_secs_f64()
}

/// 64 connections committing one-row inserts: PostgreSQL's own ceiling here.
fn raw_postgres(url: &str, per: usize) -> Run {
    {
        let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
        c.batch_execute("CREATE TABLE IF NOT EXISTS raw (k bigint PRIMARY KEY, v bytea)")
            .expect("table");
    }
    let clients: Vec<Mutex<postgres::Client>> = (0..CALLERS)
        .map(|_| Mutex::new(postgres::Client::connect(url, postgres::NoTls).expect("connect")))
        .collect();
    let v = vec![7u8; 400];
    drive(CALLERS, per, |t, i| {
        let mut c = clients[t].lock().expect("client");
        c.execute(
            "INSERT INTO raw (k, v) VALUES ($1, $2)",
            &[&((t * 1_000_000 + i) as i64), &v],
        )
        .expect("insert");
    })
}

/// "My tasks" with `filler` other open tasks in the database: p50 and p99.
fn my_tasks(url: &str, filler: usize) -> (Duration, Duration) {
    let e = &nodes(Path::new(url), 1)[0];
    for _ in 0..20 {
        e.start("approval", data(), "p1", None).expect("start");
    }
    // Other people's open tasks, as the index holds them: the value of one of p1's.
    let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    let sample: Vec<u8> = c
        .query_one(
            "SELECT v FROM baton_records WHERE k >= $1 ORDER BY k LIMIT 1",
            &[&[6u8, b'p', b'1', 0].as_slice()],
        )
        .expect("a task")
        .get(0);
    let chunk = 10_000;
    for from in (0..filler).step_by(chunk) {
        let keys: Vec<Vec<u8>> = (from..(from + chunk).min(filler))
            .map(|i| {
                let mut k = vec![6u8];
                k.extend(baton_engine::store::keys::named_task(
                    &format!("q{}", i % 5_000),
                    TaskId {
                        instance: 1_000_000 + i as u64,
                        n: 1,
                    },
                ));
                k
            })
            .collect();
        c.execute(
            "INSERT INTO baton_records (k, v) SELECT k, $2 FROM unnest($1::bytea[]) AS k",
            &[&keys, &sample],
        )
        .expect("filler");
    }
    c.batch_execute("ANALYZE baton_records").expect("analyze");
    let mut lat = Vec::new();
    for _ in 0..500 {
        let t0 = Instant::now();
        let mine = e.store.tasks_for("p1").expect("tasks");
        lat.push(t0.elapsed());
        assert_eq!(mine.len(), 20);
    }
    lat.sort();
    (percentile(&lat, 0.5), percentile(&lat, 0.99))
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let Some(admin) = std::env::var(pg_testing::VAR).ok() else {
        println!(
            "set {}=postgres://USER@HOST/DB to run this benchmark",
            pg_testing::VAR
        );
        return;
    };
    let per = if quick { 10 } else { 50 };
    let db = |what: &str| pg_testing::database(what).expect("a database");
    println!("{CALLERS} callers; a 2-stage approval (a start and two completions each); every command durable before it is acknowledged");

    let raw_db = db("raw");
    let raw = raw_postgres(&raw_db.url, per * 3);
    println!("raw PostgreSQL, one-row commits:     {raw}");

    let dir = tempfile::tempdir().expect("tmp");
    let sled = nodes(dir.path(), 1);
    let (s, c, cost) = load(&sled, per, None);
    println!("embedded (sled), 1 node:  starts {s} | completions {c} | {cost}");
    drop(sled);

    let mut figures = Vec::new();
    for n in 1..=3 {
        let d = db("nodes");
        let engines = nodes(&PathBuf::from(&d.url), n);
        let (s, c, cost) = load(&engines, per, Some(&admin));
        println!(
            "PostgreSQL, {n} node(s):   starts {s} | completions {c} = {:.0}% of raw commits | {cost}",
            100.0 * c.per_sec / raw.per_sec
        );
        let t = timers(&engines, if quick { 1_280 } else { 6_400 });
        figures.push((n, t));
    }
    let dir = tempfile::tempdir().expect("tmp");
    let sled = nodes(dir.path(), 1);
    let st = timers(&sled, if quick { 1_280 } else { 6_400 });
    drop(sled);
    print!("timers fired/s: embedded {st:.0}");
    for (n, t) in figures {
        print!(" | PostgreSQL {n} node(s) {t:.0}");
    }
    println!();

    let filler = if quick { 100_000 } else { 1_000_000 };
    let d = db("my tasks");
    let (p50, p99) = my_tasks(&d.url, filler);
    println!(
        "my tasks (20 of mine) among {filler} open tasks on PostgreSQL: p50 {:.2} ms, p99 {:.2} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}
