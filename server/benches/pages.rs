//! The web pages' rendering on the server: my tasks with 500 open tasks, a task's
//! page, and the managers' overview over 100,000 instances finished in the last 30
//! days, each asked 300 times through the router in this process (no socket: what
//! is measured is the server's work), with the page's weight.
//!
//! Run: `cargo bench -p baton-server --bench pages`.
//!
//! Measured in the same run, as the baseline: `GET /healthz` through the same router.
//! It prints figures and asserts no targets.

use axum::body::Body;
use axum::http::{header, Request};
use baton_engine::clock::SystemClock;
use baton_engine::core::Command;
use baton_engine::staff::{Department, Directory, Person};
use baton_engine::store::prelude::*;
use baton_engine::store::Options;
use baton_engine::Engine;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const COMPLAINT: &str = r#"
process complaint "客戶投訴處理" {
  started by agent
  data {
    customer text                                   "客戶"
    contact  text                                   "聯系方式"
    channel  hotline("熱線") | app("App") | onsite("現場") "渠道"
  }
  step accept "接受投訴" {
    task for starter
    due 1h
    fill summary: text, severity: general("一般") | major("重大")
    next done
  }
  end done "已結案"
}
"#;

/// Open tasks of the one person who signs in.
const TASKS: usize = 500;
const ROUNDS: usize = 300;
/// Finished instances behind the overview, spread over the last 30 days.
const FINISHED: u64 = 100_000;

fn directory() -> Directory {
    Directory::new(
        vec![Department {
            id: "cs".into(),
            name: "客服部".into(),
            head: "chen_jing".into(),
        }],
        ["chen_jing", "wang_fang"]
            .iter()
            .map(|id| Person {
                id: id.to_string(),
                name: if *id == "wang_fang" {
                    "王芳"
                } else {
                    "陳靜"
                }
                .into(),
                department: "cs".into(),
                roles: vec!["agent".into()],
                supervisor: (*id == "wang_fang").then(|| "chen_jing".to_string()),
            })
            .collect(),
    )
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn measure(router: &axum::Router, path: &str, cookie: &str) -> (Vec<Duration>, usize) {
    let mut lat = Vec::with_capacity(ROUNDS);
    let mut size = 0;
    for _ in 0..ROUNDS {
        let req = Request::builder()
            .uri(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request");
        let t = Instant::now();
        let res = router.clone().oneshot(req).await.expect("infallible");
        assert!(res.status().is_success(), "{path}: {}", res.status());
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        lat.push(t.elapsed());
        size = body.len();
    }
    lat.sort();
    (lat, size)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("tmp");
    let e = Engine::open(dir.path(), Options::default(), Arc::new(SystemClock)).expect("open");
    e.store.set_directory(directory()).expect("directory");
    e.store
        .deploy("complaint.flow", COMPLAINT, chrono::Utc::now())
        .expect("deploy");
    let mut first = None;
    for i in 0..TASKS {
        let mut data = serde_json::Map::new();
        data.insert("customer".into(), format!("客戶{i}").into());
        data.insert("contact".into(), "138-0000-0000".into());
        data.insert("channel".into(), "hotline".into());
        let cmd = Command::Start {
            process: "complaint".into(),
            data,
        };
        let o = e
            .store
            .execute_unflushed(None, &cmd, "wang_fang", chrono::Utc::now(), None)
            .expect("start");
        first.get_or_insert(o.instance.id);
    }
    // Finished ones, started at times spread over the last 30 days and finished 5
    // minutes to 5 hours later: two commands each, sent in batches.
    let now = chrono::Utc::now();
    let span = 30 * 24 * 3600 - 6 * 3600;
    let t = std::time::Instant::now();
    let mut n = 0u64;
    while n < FINISHED {
        let chunk: Vec<u64> = (n..(n + 500).min(FINISHED)).collect();
        let at = |i: u64| now - chrono::Duration::seconds(((i * 7919) % span) as i64 + 6 * 3600);
        let starts = chunk
            .iter()
            .map(|i| {
                let mut data = serde_json::Map::new();
                data.insert("customer".into(), format!("客戶{i}").into());
                data.insert("contact".into(), "138-0000-0000".into());
                data.insert("channel".into(), "hotline".into());
                baton_engine::store::Request::new(
                    None,
                    &Command::Start {
                        process: "complaint".into(),
                        data,
                    },
                    "wang_fang",
                    at(*i),
                    None,
                )
            })
            .collect();
        let ids: Vec<u64> = e
            .store
            .execute_many_unflushed(starts)
            .into_iter()
            .map(|o| o.expect("start").instance.id)
            .collect();
        let mut data = serde_json::Map::new();
        data.insert("summary".into(), "門票退款".into());
        data.insert("severity".into(), "general".into());
        let dones = chunk
            .iter()
            .zip(&ids)
            .map(|(i, id)| {
                baton_engine::store::Request::new(
                    Some(*id),
                    &Command::Complete {
                        task: baton_engine::core::TaskId {
                            instance: *id,
                            n: 1,
                        },
                        choice: None,
                        data: data.clone(),
                    },
                    "wang_fang",
                    at(*i) + chrono::Duration::minutes(5 + (*i % 295) as i64),
                    None,
                )
            })
            .collect();
        for o in e.store.execute_many_unflushed(dones) {
            o.expect("finish");
        }
        n += chunk.len() as u64;
    }
    e.store.durable().expect("flush");
    eprintln!(
        "{FINISHED} instances started and finished in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let (secret, _) =
        baton_engine::logins::start(&*e.store, "wang_fang", chrono::Utc::now()).expect("session");
    let cookie = format!("{}={secret}", baton_server::web::SESSION);
    let state = baton_server::AppState::new(Arc::new(e)).with_web(baton_server::web::Settings {
        managers: vec!["agent".into()],
        ..Default::default()
    });
    let router = baton_server::app(state);
    let task = format!("/my/tasks/{}-1", first.expect("started"));

    let (base, _) = measure(&router, "/healthz", &cookie).await;
    let (home, home_size) = measure(&router, "/", &cookie).await;
    let (page, page_size) = measure(&router, &task, &cookie).await;
    let (overview, overview_size) = measure(&router, "/overview", &cookie).await;
    let base_p50 = percentile(&base, 0.5);
    for (what, lat, size) in [
        (format!("my tasks ({TASKS} open)"), &home, home_size),
        ("a task's page".to_string(), &page, page_size),
        (
            format!("the overview ({FINISHED} finished)"),
            &overview,
            overview_size,
        ),
    ] {
        println!(
            "{what}: p50 {:.2} ms, p99 {:.2} ms ({:.0}x GET /healthz's p50 of {:.3} ms); {:.1} KB",
            percentile(lat, 0.5),
            percentile(lat, 0.99),
            percentile(lat, 0.5) / base_p50,
            base_p50,
            size as f64 / 1024.0
        );
    }
}
