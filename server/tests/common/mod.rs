//! A temp database with the company's processes deployed, a manual clock in Shanghai
//! time, a token per person, and one call to drive the API through `oneshot`, with
//! no socket.

#![allow(dead_code)]

pub mod browser;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use baton_engine::clock::ManualClock;
use baton_engine::staff::{Directory, Person};
pub use baton_engine::store::prelude::*;
use baton_engine::store::{Deployed, Options};
use baton_engine::{tokens, Engine};
use baton_server::{app, AppState};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

pub const ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;
/// The admin of these tests: not in processes/staff.ron, added to it here.
pub const ADMIN: &str = "it_admin";

/// A moment given as Shanghai wall-clock time.
pub fn sh(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    ZONE.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a valid Shanghai time")
        .with_timezone(&Utc)
}

pub fn processes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../processes")
}

pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The answer is a problem+json of this status; returns its body.
    #[track_caller]
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{}",
            self.text
        );
        let p = self.json();
        assert_eq!(p["status"], status, "{p}");
        assert!(
            p["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:baton:problem:")),
            "{p}"
        );
        assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
        assert!(p["detail"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
        p
    }

    /// The answer is a success with JSON; returns it.
    #[track_caller]
    pub fn ok(&self) -> Value {
        assert!(self.status.is_success(), "{} {}", self.status, self.text);
        self.json()
    }
}

pub struct Api {
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
    pub engine: Arc<Engine>,
    pub state: AppState,
    pub router: Router,
    pub tokens: HashMap<String, String>,
}

impl Api {
    /// Everything deployed, on a weekday morning in Shanghai.
    pub fn new() -> Api {
        Api::at(sh(2026, 3, 2, 10, 0))
    }

    pub fn at(start: DateTime<Utc>) -> Api {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = ManualClock::new(start);
        let engine = Engine::open(
            dir.path(),
            Options {
                zone: ZONE,
                ..Default::default()
            },
            Arc::new(clock.clone()),
        )
        .expect("open");
        for r in engine.deploy_dir(&processes_dir()).expect("deploy_dir") {
            match r.result {
                Ok((_, Deployed::New { .. })) => {}
                other => panic!("{}: {other:?}", r.file),
            }
        }
        let d = engine.store.directory();
        let mut people = d.people.clone();
        people.push(Person {
            id: ADMIN.into(),
            name: "系統管理員".into(),
            department: "technology".into(),
            roles: vec!["admin".into()],
            supervisor: Some("zheng_kai".into()),
        });
        engine
            .store
            .set_directory(Directory::new(d.departments.clone(), people.clone()))
            .expect("directory");
        let mut toks = HashMap::new();
        for p in &people {
            let t = tokens::issue(&*engine.store, &p.id, start).expect("token");
            toks.insert(p.id.clone(), t);
        }
        let engine = Arc::new(engine);
        let state = AppState::new(engine.clone());
        let router = app(state.clone());
        Api {
            dir,
            clock,
            engine,
            state,
            router,
            tokens: toks,
        }
    }

    pub fn token(&self, person: &str) -> &str {
        self.tokens
            .get(person)
            .map(String::as_str)
            .unwrap_or("baton_unknown")
    }

    /// One request: `as_` is the person whose token is sent (none if `None`).
    pub async fn send(&self, req: Request<Body>) -> Answer {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        Answer {
            status,
            content_type,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        as_: Option<&str>,
    ) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(p) = as_ {
            b = b.header(header::AUTHORIZATION, format!("Bearer {}", self.token(p)));
        }
        b
    }

    pub async fn get(&self, path: &str, as_: &str) -> Answer {
        self.send(
            self.request(Method::GET, path, Some(as_))
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    pub async fn post(&self, path: &str, as_: &str, body: Value) -> Answer {
        self.post_with(path, as_, body, None).await
    }

    pub async fn post_with(&self, path: &str, as_: &str, body: Value, key: Option<&str>) -> Answer {
        let mut b = self
            .request(Method::POST, path, Some(as_))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(k) = key {
            b = b.header("Idempotency-Key", k);
        }
        self.send(b.body(Body::from(body.to_string())).expect("request"))
            .await
    }

    /// Start a complaint as `agent`; returns the instance id.
    pub async fn start_complaint(&self, agent: &str, customer: &str) -> u64 {
        let a = self
            .post(
                "/instances",
                agent,
                serde_json::json!({"process": "complaint", "data": {
                    "customer": customer, "contact": "138-0000-0000", "channel": "hotline"
                }}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        a.json()["instance"]["id"].as_u64().expect("id")
    }

    /// The id of the instance's open task, as `42-3`.
    pub fn open_task(&self, instance: u64) -> String {
        let inst = self.engine.store.instance(instance).expect("instance");
        let t = inst.active_tasks().next().expect("an open task");
        t.id.to_string()
    }
}

/// After an hour's wait, a review by the handler's supervisor: the general manager
/// has none, so his instances become incidents.
pub const FIX: &str = r#"
process fix "修正測試" {
  started by agent
  data {
    customer text   "客戶"
    handler  person "經辦人"
  }
  step pause "等待" {
    wait 1h
    next review
  }
  step review "主管覆核" {
    task for supervisor of handler
    fill resolution: text
    next close
  }
  step close "結案通知" {
    notify handler "{customer}：{resolution}"
    next done
  }
  end done "完成"
}
"#;

/// `n` stuck instances of `fix`, an hour after their start.
pub async fn stuck(api: &Api, n: usize) -> Vec<u64> {
    let now = api.engine.clock.now();
    api.engine
        .store
        .deploy("fix.flow", FIX, now)
        .expect("deploy");
    let mut ids = Vec::new();
    for _ in 0..n {
        let a = api
            .post(
                "/instances",
                "wang_fang",
                serde_json::json!({"process": "fix", "data": {"customer": "張三", "handler": "zhao_guoqiang"}}),
            )
            .await;
        ids.push(a.ok()["instance"]["id"].as_u64().expect("id"));
    }
    api.clock.set(now + chrono::Duration::hours(1));
    assert_eq!(api.engine.fire_due().expect("fire"), n);
    ids
}
