//! The real `baton serve` on an ephemeral port, driven with the CLI and with raw HTTP:
//! the first admin's token, a complaint carried through its four stages both ways
//! (and exactly as the README shows it), every error status with its problem+json
//! body, two completions of one task racing, a restart that keeps everything, and
//! kills under load that lose no acknowledged change.

use std::process::Command;
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::time::Duration;

#[path = "support/mod.rs"]
mod support;
use support::*;

use serde_json::{json, Value};

/// An HTTP answer: status, content type, body.
struct Answer {
    status: u16,
    content_type: String,
    headers: Vec<(String, String)>,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// A success; its JSON.
    #[track_caller]
    fn ok(&self) -> Value {
        assert!(
            (200..300).contains(&self.status),
            "{} {}",
            self.status,
            self.text
        );
        self.json()
    }

    /// A problem+json of this status with a type, title and detail; its body.
    #[track_caller]
    fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
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

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Raw HTTP: a method, a path, a token (or none) and a body sent as it is.
struct Http {
    base: String,
    agent: ureq::Agent,
}

impl Http {
    fn new(base: &str) -> Http {
        Http {
            base: base.to_string(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .build(),
        }
    }

    fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<&[u8]>) -> Answer {
        self.try_send(method, path, token, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// `send`, with a connection that failed as an error instead of a panic.
    fn try_send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Answer, String> {
        let mut req = self.agent.request(method, &format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let res = match body {
            Some(b) => req.set("Content-Type", "application/json").send_bytes(b),
            None => req.call(),
        };
        let r = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e.to_string()),
        };
        let headers = r
            .headers_names()
            .into_iter()
            .map(|n| {
                let v = r.header(&n).unwrap_or("").to_string();
                (n, v)
            })
            .collect();
        let content_type = r.content_type().to_string();
        Ok(Answer {
            status: r.status(),
            content_type,
            headers,
            text: r.into_string().map_err(|e| e.to_string())?,
        })
    }

    fn get(&self, path: &str, token: &str) -> Answer {
        self.send("GET", path, Some(token), None)
    }

    fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send("POST", path, Some(token), Some(body.to_string().as_bytes()))
    }

    /// A token for a person, issued by the admin over HTTP.
    fn issue(&self, admin: &str, person: &str) -> String {
        let a = self.post("/tokens", admin, json!({ "person": person }));
        assert_eq!(a.status, 201, "{}", a.text);
        a.json()["token"].as_str().expect("token").to_string()
    }
}

fn complaint(customer: &str) -> Value {
    json!({"process": "complaint", "data": {
        "customer": customer, "contact": "13800000000", "channel": "hotline"
    }})
}

/// The instance of `GET /instances/{id}`, without what the server adds beside it
/// (its sign-offs, what it waits for, its open incident): as a command's outcome
/// has it.
fn instance_of(mut shown: Value) -> Value {
    if let Some(o) = shown.as_object_mut() {
        o.remove("signoffs");
        o.remove("waiting_for");
        o.remove("incident");
    }
    shown
}

/// The open task of an instance, as `42-3`.
fn open_task(instance: &Value) -> String {
    let t = instance["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["state"] == "open" || t["state"] == "claimed")
        .unwrap_or_else(|| panic!("an open task: {instance}"));
    format!("{}-{}", t["id"]["instance"], t["id"]["n"])
}

#[test]
fn the_first_serve_writes_an_admin_token_and_the_cli_carries_a_complaint_through() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_copy(tmp.path());
    let db = tmp.path().join("db");
    let server = Server::start(&db, &dir);
    let url = server.url.clone();

    // The admin's token: written once, readable by its owner only, never logged.
    let admin = server.admin_token();
    assert!(admin.starts_with("baton_") && admin.len() == 70, "{admin}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db.join("admin.token"))
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let log = server.log();
    let said: Vec<&String> = log.iter().filter(|l| l.contains("no tokens yet")).collect();
    assert_eq!(said.len(), 1, "{log:#?}");
    assert!(
        said[0].contains("jiang_hui") && said[0].contains("admin.token"),
        "{}",
        said[0]
    );
    assert!(
        !log.iter().any(|l| l.contains(&admin[6..])),
        "the token is in the log"
    );

    // The database is the server's: the CLI cannot open it, and says what to do.
    let r = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["token", "issue", "wang_fang", "--db"])
        .arg(&db)
        .env_remove("BATON_SERVER")
        .output()
        .expect("runs");
    assert_eq!(r.status.code(), Some(9));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--server"));

    // Through the server, the admin issues tokens; nobody else can.
    let fang = baton(&url, &admin, &["token", "issue", "wang_fang"])
        .ok()
        .trim()
        .to_string();
    assert!(fang.starts_with("baton_"), "{fang}");
    let wei = baton(&url, &admin, &["token", "issue", "zhang_wei"])
        .ok()
        .trim()
        .to_string();
    let r = baton(&url, &fang, &["token", "issue", "zhang_wei"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("only the `admin` role"), "{}", r.stderr);
    let r = baton(&url, &admin, &["token", "issue", "ghost"]);
    assert_eq!(r.code, 3, "{}", r.stderr);

    // 王芳 carries a complaint through accept, explain, propose and follow-up.
    let id = baton(
        &url,
        &fang,
        &[
            "start",
            "complaint",
            "-q",
            "--set",
            "customer=張三",
            "--set",
            "contact=13800000000",
            "--set",
            "channel=hotline",
        ],
    )
    .ok()
    .trim()
    .to_string();
    let id: u64 = id.parse().unwrap_or_else(|_| panic!("an id: {id}"));
    let tasks = baton(&url, &fang, &["tasks"]);
    assert!(tasks.ok().contains(&format!("{id}-1")), "{}", tasks.stdout);
    assert!(tasks.stdout.contains("接受投訴"), "{}", tasks.stdout);
    let steps: [(&str, &[&str], &str); 4] = [
        (
            "1",
            &["--set", "summary=門票退款", "--set", "severity=general"],
            "step 解釋澄清",
        ),
        ("2", &["--choose", "needs_solution"], "step 提出解決方案"),
        (
            "3",
            &[
                "--set",
                "solution=全額退款",
                "--set",
                "within_authority=true",
            ],
            "step 回訪",
        ),
        ("4", &["--set", "satisfaction=5"], "completed (已結案)"),
    ];
    for (n, args, then) in steps {
        let task = format!("{id}-{n}");
        let mut all = vec!["complete", task.as_str()];
        all.extend_from_slice(args);
        let r = baton(&url, &fang, &all);
        assert!(r.ok().contains(then), "after {task}: {}", r.stdout);
    }
    // 張偉 may not see it; the history says who did each stage.
    let r = baton(&url, &wei, &["show", &id.to_string()]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    let h = baton(&url, &fang, &["history", &id.to_string(), "--json"]);
    let h: Value = serde_json::from_str(h.ok()).expect("json");
    let completed: Vec<&Value> = h
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["event"].get("TaskCompleted").is_some())
        .collect();
    assert_eq!(completed.len(), 4, "{h:#}");
    assert!(completed.iter().all(|r| r["actor"] == "wang_fang"));
    let show = baton(&url, &fang, &["show", &id.to_string(), "--json"]);
    let inst: Value = serde_json::from_str(show.ok()).expect("json");
    assert_eq!(inst["status"], "completed");
    assert_eq!(inst["outcome"], "done");
    assert_eq!(inst["data"]["satisfaction"], json!({"Int": 5}));

    // Revoking through the server: 張偉's token stops working at once.
    let r = baton(&url, &admin, &["token", "revoke", "zhang_wei"]);
    assert_eq!(r.ok().trim(), "revoked 1 token");
    let r = baton(&url, &wei, &["tasks"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr.contains("does not accept this token"),
        "{}",
        r.stderr
    );
    let r = baton(&url, &admin, &["token", "revoke", &fang]);
    assert_eq!(
        r.code, 2,
        "a token is revoked on the database: {}",
        r.stderr
    );
    baton(&url, &fang, &["tasks"]).ok();
    server.stop();

    // Stopped: the database is free again for `--db`.
    let r = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["token", "revoke", &fang, "--db"])
        .arg(&db)
        .env_remove("BATON_SERVER")
        .output()
        .expect("runs");
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
}

/// The README's walk-through, run as written (in bash, in the folder where
/// `baton serve` keeps `baton-data`), with the binary under test for `baton` and the
/// test server's address for the default one.
#[test]
fn the_readme_walkthrough_runs_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let marker = "baton() { cargo run -q --release -p baton-cli -- \"$@\"; }";
    let start = readme.find(marker).expect("the README defines baton()");
    let block_end = readme[start..].find("```").expect("the block ends") + start;
    let script = &readme[start + marker.len()..block_end];
    assert!(
        script.contains("export BATON_SERVER=http://127.0.0.1:8080"),
        "{script}"
    );
    assert!(script.contains("baton-data/admin.token"), "{script}");

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_copy(tmp.path());
    let server = Server::start(&tmp.path().join("baton-data"), &dir);
    let script = format!(
        "set -euo pipefail\nbaton() {{ \"$BATON_BIN\" \"$@\"; }}\n{}",
        script.replace("http://127.0.0.1:8080", &server.url)
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(tmp.path())
        .env("BATON_BIN", env!("CARGO_BIN_EXE_baton"))
        .env_remove("BATON_SERVER")
        .env_remove("BATON_TOKEN")
        .env_remove("BATON_DB")
        .env_remove("BATON_AS")
        .env("HOME", "/nonexistent")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // It ends with the history of a closed complaint, every stage by 王芳.
    assert!(stdout.contains("completed (已結案)"), "{stdout}");
    assert!(stdout.contains("completed: 已結案"), "{stdout}");
    for stage in [
        "1 completed",
        "2 completed: 需要解決方案",
        "3 completed",
        "4 completed",
    ] {
        assert!(stdout.contains(stage), "`{stage}` missing:\n{stdout}");
    }
    server.stop();
}

#[test]
fn raw_http_carries_a_complaint_through_and_every_error_has_its_status_and_body() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_copy(tmp.path());
    let server = Server::start(&tmp.path().join("db"), &dir);
    let http = Http::new(&server.url);
    let admin = server.admin_token();
    let fang = http.issue(&admin, "wang_fang");
    let wei = http.issue(&admin, "zhang_wei");

    // The four stages.
    let a = http.post("/instances", &fang, complaint("張三"));
    assert_eq!(a.status, 201, "{}", a.text);
    let started = a.json();
    let id = started["instance"]["id"].as_u64().expect("id");
    assert_eq!(
        a.header("location"),
        Some(format!("/instances/{id}").as_str())
    );
    let mut inst = started["instance"].clone();
    let stages = [
        (
            json!({"data": {"summary": "門票退款", "severity": "general"}}),
            "explain",
        ),
        (json!({"choice": "needs_solution"}), "propose"),
        (
            json!({"data": {"solution": "全額退款", "within_authority": true}}),
            "follow_up",
        ),
        (json!({"data": {"satisfaction": 5}}), ""),
    ];
    let mut done = Vec::new();
    for (body, next) in stages {
        let task = open_task(&inst);
        let o = http
            .post(&format!("/tasks/{task}/complete"), &fang, body)
            .ok();
        inst = o["instance"].clone();
        done.push(task);
        if next.is_empty() {
            assert_eq!(inst["status"], "completed", "{inst}");
            assert_eq!(inst["outcome"], "done");
        } else {
            assert_eq!(inst["step"], next, "{inst}");
        }
    }
    let shown = http.get(&format!("/instances/{id}"), &fang).ok();
    assert_eq!(shown["signoffs"], json!([]), "{shown}");
    assert_eq!(shown["waiting_for"], Value::Null, "{shown}");
    assert_eq!(instance_of(shown), inst);
    let h = http
        .get(&format!("/instances/{id}/history?limit=500"), &fang)
        .ok();
    let by: Vec<(&str, &Value)> = h["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|r| Some((r["actor"].as_str()?, r["event"].get("TaskCompleted")?)))
        .collect();
    assert_eq!(by.len(), 4, "{h:#}");
    assert!(by.iter().all(|(actor, _)| *actor == "wang_fang"));

    // 400: malformed JSON, and a body of the wrong shape, naming the field.
    let a = http.send("POST", "/instances", Some(&fang), Some(b"{\"process\": "));
    let p = a.problem(400);
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("malformed JSON")),
        "{p}"
    );
    let p = http
        .post("/instances", &fang, json!({"process": 7}))
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "process", "{p}");

    // 401: no token, an unknown one, one that is not a bearer token.
    for a in [
        http.send("GET", "/tasks", None, None),
        http.get("/tasks", "baton_0123"),
        http.get("/tasks", "not-a-token"),
    ] {
        let p = a.problem(401);
        assert_eq!(p["type"], "urn:baton:problem:unauthorized");
        assert!(a
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer")));
    }

    // 403: not an admin; not the starter's role.
    http.post("/tokens", &fang, json!({"person": "zhang_wei"}))
        .problem(403);
    let chen = http.issue(&admin, "chen_jing");
    let p = http
        .post("/instances", &chen, complaint("李四"))
        .problem(403);
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("started by agent")),
        "{p}"
    );

    // 404: an unknown instance, task, process and route.
    http.get("/instances/999999", &fang).problem(404);
    http.post("/tasks/999999-1/complete", &fang, json!({}))
        .problem(404);
    http.post("/instances", &fang, json!({"process": "nope"}))
        .problem(404);
    let p = http.get("/no/such/route", &fang).problem(404);
    assert_eq!(p["detail"], "no such route");

    // 409: the task is already completed.
    let p = http
        .post(
            &format!("/tasks/{}/complete", done[0]),
            &fang,
            json!({"data": {}}),
        )
        .problem(409);
    assert_eq!(p["type"], "urn:baton:problem:conflict");
    // ... or claimed by someone else: a hiring requisition's review is offered to the
    // role cs_manager; 李明 claims it, and nobody else can claim or complete it.
    let li = http.issue(&admin, "li_ming");
    let hire = http
        .post(
            "/instances",
            &chen,
            json!({"process": "hiring", "data": {"position": "客服專員", "requirements": "普通話"}}),
        )
        .ok();
    let review = open_task(&hire["instance"]);
    http.post(&format!("/tasks/{review}/claim"), &li, json!({}))
        .ok();
    for a in [
        http.post(&format!("/tasks/{review}/claim"), &admin, json!({})),
        http.post(
            &format!("/tasks/{review}/complete"),
            &admin,
            json!({"choice": "approve"}),
        ),
    ] {
        let p = a.problem(409);
        assert!(
            p["detail"]
                .as_str()
                .is_some_and(|d| d.contains("claimed by 李明")),
            "{p}"
        );
    }

    // 422: one entry per bad field.
    let a = http.post(
        "/instances",
        &fang,
        json!({"process": "complaint", "data": {"contact": "138", "channel": "fax", "severity": "huge"}}),
    );
    let p = a.problem(422);
    assert_eq!(p["type"], "urn:baton:problem:invalid-data");
    let mut fields: Vec<&str> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    fields.sort();
    assert_eq!(fields, ["channel", "customer", "severity"], "{p}");
    assert!(p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())));
    // 422: a `require` of the process, with its message.
    let p = http
        .post(
            "/instances",
            &fang,
            json!({"process": "probation", "data": {"employee": "wang_fang", "hired_on": "2020-01-06", "violation": true}}),
        )
        .problem(422);
    assert_eq!(p["type"], "urn:baton:problem:requirement", "{p}");
    // Depending on today's date, the first `require` that fails is the 15th-of-the-
    // month rule or the one about violations.
    let detail = p["detail"].as_str().expect("detail");
    assert!(
        detail.contains("試用期內有違紀違規記錄，不得申請轉正")
            || detail.contains("申請須於每月15日（含）前提交"),
        "{p}"
    );

    // 413: a body over the limit (1 MiB).
    let big = json!({"process": "complaint", "data": {"customer": "x".repeat(1024 * 1024 + 16)}});
    let p = http.post("/instances", &fang, big).problem(413);
    assert_eq!(p["type"], "urn:baton:problem:payload-too-large");
    // The server is still fine.
    http.get("/tasks", &wei).ok();
    server.stop();
}

/// A `check` refused is a 422 `requirement` problem: its message as `detail`, and one
/// entry per data field the condition reads, so that a form can mark them; the task
/// is as it was.
#[test]
fn a_check_refused_is_422_with_the_fields_it_reads() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_copy(tmp.path());
    let server = Server::start(&tmp.path().join("db"), &dir);
    let http = Http::new(&server.url);
    let admin = server.admin_token();
    let hr = http.issue(&admin, "sun_li");
    let supervisor = http.issue(&admin, "chen_jing");
    let newcomer = http.issue(&admin, "zhang_wei");
    // Joined long ago: the first day has passed, the supervisor's task is there.
    let o = http
        .post(
            "/instances",
            &hr,
            json!({"process": "onboarding", "data": {"employee": "zhang_wei", "hired_on": "2020-01-06"}}),
        )
        .ok();
    let mut inst = o["instance"].clone();
    for (who, body) in [
        (&supervisor, json!({"data": {"offer_letter_no": "HR-1"}})),
        (&supervisor, json!({})),
        (&newcomer, json!({})),
    ] {
        let task = open_task(&inst);
        inst = http
            .post(&format!("/tasks/{task}/complete"), who, body)
            .ok()["instance"]
            .clone();
    }
    assert_eq!(inst["step"], "assign", "{inst}");
    let task = open_task(&inst);
    let p = http
        .post(
            &format!("/tasks/{task}/complete"),
            &supervisor,
            json!({"data": {"workstation": "A-1", "mentor": "zhang_wei"}}),
        )
        .problem(422);
    assert_eq!(p["type"], "urn:baton:problem:requirement", "{p}");
    assert_eq!(p["detail"], "帶教老員工不能是新員工本人", "{p}");
    assert_eq!(
        p["errors"],
        json!([
            {"field": "employee", "message": "帶教老員工不能是新員工本人"},
            {"field": "mentor", "message": "帶教老員工不能是新員工本人"}
        ]),
        "{p}"
    );
    // The same task takes a mentor of the department.
    let o = http
        .post(
            &format!("/tasks/{task}/complete"),
            &supervisor,
            json!({"data": {"workstation": "A-1", "mentor": "wang_fang"}}),
        )
        .ok();
    // HR's paperwork and the mentor's guidance go on side by side.
    assert_eq!(o["instance"]["step"], "settle_in", "{o}");
    let at: Vec<&serde_json::Value> = o["instance"]["branches"]
        .as_array()
        .expect("branches")
        .iter()
        .map(|b| &b["position"]["step"])
        .collect();
    assert_eq!(at, [&json!("paperwork"), &json!("guide")], "{o}");
    server.stop();
}

#[test]
fn a_wrong_person_gets_403() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_copy(tmp.path());
    let server = Server::start(&tmp.path().join("db"), &dir);
    let http = Http::new(&server.url);
    let admin = server.admin_token();
    let fang = http.issue(&admin, "wang_fang");
    let wei = http.issue(&admin, "zhang_wei");
    let o = http.post("/instances", &fang, complaint("張三")).ok();
    let id = o["instance"]["id"].as_u64().expect("id");
    let task = open_task(&o["instance"]);

    // 張偉 is an agent too, but the complaint is 王芳's: every way in is 403.
    for a in [
        http.post(&format!("/tasks/{task}/claim"), &wei, json!({})),
        http.post(
            &format!("/tasks/{task}/complete"),
            &wei,
            json!({"data": {"summary": "x", "severity": "general"}}),
        ),
        http.post(&format!("/instances/{id}/cancel"), &wei, json!({})),
        http.get(&format!("/instances/{id}"), &wei),
        http.get(&format!("/instances/{id}/history"), &wei),
        http.post(
            &format!("/tasks/{task}/comment"),
            &wei,
            json!({"text": "hi"}),
        ),
    ] {
        let p = a.problem(403);
        assert_eq!(p["type"], "urn:baton:problem:forbidden");
    }
    // Nothing changed, and his list does not show it.
    let after = http.get(&format!("/instances/{id}"), &fang).ok();
    assert_eq!(instance_of(after), o["instance"]);
    let list = http.get("/tasks", &wei).ok();
    assert_eq!(list["items"], json!([]));
    // The starter herself may.
    http.post(&format!("/tasks/{task}/claim"), &fang, json!({}))
        .ok();
    server.stop();
}

/// Along the org chart, through the real binary: 陳靜 leads 王芳, so `baton tasks
/// --team` and `baton instances --team` list her complaint and its task, and she
/// opens it; 林濤, who leads another team, finds none of it.
#[test]
fn a_supervisor_lists_and_opens_her_teams_work_with_the_cli() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_copy(tmp.path());
    let server = Server::start(&tmp.path().join("db"), &dir);
    let http = Http::new(&server.url);
    let admin = server.admin_token();
    let fang = http.issue(&admin, "wang_fang");
    let jing = http.issue(&admin, "chen_jing");
    let tao = http.issue(&admin, "lin_tao");
    let o = http.post("/instances", &fang, complaint("張三")).ok();
    let id = o["instance"]["id"].as_u64().expect("id").to_string();
    let task = open_task(&o["instance"]);

    let tasks = baton(&server.url, &jing, &["tasks", "--team"]);
    assert!(tasks.ok().contains(&task), "{}", tasks.stdout);
    let own = baton(&server.url, &jing, &["tasks"]);
    assert!(!own.ok().contains(&task), "{}", own.stdout);
    let inst = baton(&server.url, &jing, &["instances", "--team", "--json"]);
    let listed: Value = serde_json::from_str(inst.ok()).expect("json");
    assert_eq!(listed[0]["id"].to_string(), id, "{listed}");
    baton(&server.url, &jing, &["show", &id]).ok();
    // Another supervisor's team: empty lists, and 403 (exit 5) on the instance.
    let other = baton(&server.url, &tao, &["tasks", "--team"]);
    assert!(!other.ok().contains(&task), "{}", other.stdout);
    let other = baton(&server.url, &tao, &["instances", "--team", "--json"]);
    assert_eq!(other.ok().trim(), "[]");
    assert_eq!(baton(&server.url, &tao, &["show", &id]).code, 5);
    // `--team` goes with no other way of choosing tasks.
    assert_eq!(
        baton(&server.url, &jing, &["tasks", "--team", "--overdue"]).code,
        2
    );
    server.stop();
}

#[test]
fn two_concurrent_completions_of_one_task_one_wins_one_gets_409() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_copy(tmp.path());
    let server = Server::start(&tmp.path().join("db"), &dir);
    let http = Http::new(&server.url);
    let admin = server.admin_token();
    let fang = http.issue(&admin, "wang_fang");
    for round in 0..20 {
        let o = http
            .post("/instances", &fang, complaint(&format!("客戶{round}")))
            .ok();
        let id = o["instance"]["id"].as_u64().expect("id");
        let task = open_task(&o["instance"]);
        let barrier = Arc::new(Barrier::new(2));
        let answers: Vec<Answer> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|i| {
                    let (barrier, task, fang, url) = (
                        barrier.clone(),
                        task.clone(),
                        fang.clone(),
                        server.url.clone(),
                    );
                    s.spawn(move || {
                        // Each on its own connection.
                        let http = Http::new(&url);
                        let body =
                            json!({"data": {"summary": format!("第{i}次"), "severity": "general"}});
                        barrier.wait();
                        http.post(&format!("/tasks/{task}/complete"), &fang, body)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}");
        let winner = answers.iter().find(|a| a.status == 200).expect("a winner");
        let loser = answers.iter().find(|a| a.status == 409).expect("a loser");
        loser.problem(409);
        // Exactly one completion is in the history, and it is the winner's data.
        let h = http
            .get(&format!("/instances/{id}/history?limit=500"), &fang)
            .ok();
        let completions: Vec<&Value> = h["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|r| r["event"].get("TaskCompleted"))
            .collect();
        assert_eq!(completions.len(), 1, "{h:#}");
        let summary = &winner.json()["instance"]["data"]["summary"];
        assert_eq!(&completions[0]["data"]["summary"], summary);
        assert_eq!(
            http.get(&format!("/instances/{id}"), &fang).ok()["step"],
            "explain"
        );
    }
    server.stop();
}

/// What the API shows of some instances: each instance, its history, and the
/// complaint tasks and inbox of a person.
fn snapshot(http: &Http, token: &str, ids: &[u64]) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        out.push(http.get(&format!("/instances/{id}"), token).ok());
        out.push(
            http.get(&format!("/instances/{id}/history?limit=500"), token)
                .ok(),
        );
    }
    let tasks = http.get("/tasks?limit=500", token).ok();
    let complaints: Vec<Value> = tasks["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|t| t["process"] == "complaint")
        .cloned()
        .collect();
    out.push(Value::Array(complaints));
    out.push(http.get("/inbox?limit=500", token).ok());
    out
}

#[test]
fn a_restart_keeps_instances_tasks_history_and_tokens() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_copy(tmp.path());
    let db = tmp.path().join("db");
    let server = Server::start(&db, &dir);
    let http = Http::new(&server.url);
    let admin = server.admin_token();
    let fang = http.issue(&admin, "wang_fang");
    let wei = http.issue(&admin, "zhang_wei");
    let chen = http.issue(&admin, "chen_jing");
    // Revoked before the restart: stays revoked.
    http.send("DELETE", "/tokens/chen_jing", Some(&admin), None)
        .ok();

    // One complaint closed, one half-way (claimed, commented), one cancelled.
    let mut ids = Vec::new();
    for who in ["張三", "李四", "王五"] {
        let o = http.post("/instances", &fang, complaint(who)).ok();
        ids.push(o["instance"]["id"].as_u64().expect("id"));
    }
    let mut inst = http.get(&format!("/instances/{}", ids[0]), &fang).ok();
    for body in [
        json!({"data": {"summary": "退票", "severity": "general"}}),
        json!({"choice": "resolved"}),
        json!({"data": {"satisfaction": 4}}),
    ] {
        let t = open_task(&inst);
        inst = http.post(&format!("/tasks/{t}/complete"), &fang, body).ok()["instance"].clone();
    }
    assert_eq!(inst["status"], "completed");
    let half = http.get(&format!("/instances/{}", ids[1]), &fang).ok();
    let t = open_task(&half);
    http.post(
        &format!("/tasks/{t}/complete"),
        &fang,
        json!({"data": {"summary": "延誤", "severity": "major"}}),
    )
    .ok();
    let half = http.get(&format!("/instances/{}", ids[1]), &fang).ok();
    let t = open_task(&half);
    http.post(&format!("/tasks/{t}/claim"), &fang, json!({}))
        .ok();
    http.post(
        &format!("/tasks/{t}/comment"),
        &fang,
        json!({"text": "客戶稍後回電"}),
    )
    .ok();
    http.post(
        &format!("/instances/{}/cancel", ids[2]),
        &fang,
        json!({"reason": "重複"}),
    )
    .ok();
    let before = snapshot(&http, &fang, &ids);
    let before_admin = http
        .get("/instances?process=complaint&state=running", &admin)
        .ok();
    server.stop();

    let server = Server::start(&db, &dir);
    let http = Http::new(&server.url);
    // The tokens are the same: no new admin token, the old ones work, the revoked
    // one does not.
    assert_eq!(server.admin_token(), admin);
    assert!(
        !server.log().iter().any(|l| l.contains("no tokens yet")),
        "{:#?}",
        server.log()
    );
    assert_eq!(snapshot(&http, &fang, &ids), before);
    assert_eq!(
        http.get("/instances?process=complaint&state=running", &admin)
            .ok(),
        before_admin
    );
    http.get("/tasks", &wei).ok();
    http.get("/tasks", &chen).problem(401);

    // And it goes on where it was: the claimed task, then the follow-up.
    let half = http.get(&format!("/instances/{}", ids[1]), &fang).ok();
    let t = open_task(&half);
    let o = http
        .post(
            &format!("/tasks/{t}/complete"),
            &fang,
            json!({"choice": "resolved"}),
        )
        .ok();
    let t = open_task(&o["instance"]);
    let o = http
        .post(
            &format!("/tasks/{t}/complete"),
            &fang,
            json!({"data": {"satisfaction": 5}}),
        )
        .ok();
    assert_eq!(o["instance"]["status"], "completed");
    // New instances get new ids.
    let o = http.post("/instances", &fang, complaint("趙六")).ok();
    assert!(o["instance"]["id"].as_u64().expect("id") > ids[2]);
    server.stop();
}

/// What 8 clients were told before the server was killed under them: for each
/// instance, the task its last acknowledged request left open, and the instances
/// whose completion was still unanswered (the kill may or may not have kept it).
struct Told {
    open: std::collections::BTreeMap<u64, String>,
    unanswered: std::collections::HashSet<u64>,
}

/// 8 clients start complaints and complete their first tasks until the server, after
/// `acks` acknowledged requests, is killed (SIGKILL) under them.
fn load_then_kill(mut server: Server, token: &str, acks: usize) -> Told {
    use std::sync::atomic::{AtomicBool, Ordering};
    let acked: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
    let unanswered: Arc<Mutex<std::collections::HashSet<u64>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let (ack, acked_one) = mpsc::channel::<()>();
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let (http, token) = (Http::new(&server.url), token.to_string());
            let (acked, unanswered, done) = (acked.clone(), unanswered.clone(), done.clone());
            let ack = ack.clone();
            std::thread::spawn(move || {
                let summary = json!({"data": {"summary": "退票", "severity": "general"}});
                let post = |path: &str, body: String| {
                    http.try_send("POST", path, Some(&token), Some(body.as_bytes()))
                };
                for i in 0.. {
                    let body = complaint(&format!("客戶{c}-{i}")).to_string();
                    let Ok(a) = post("/instances", body) else {
                        return;
                    };
                    let inst = a.ok()["instance"].clone();
                    let id = inst["id"].as_u64().expect("id");
                    acked.lock().expect("acked").push((id, open_task(&inst)));
                    let _ = ack.send(());
                    if done.load(Ordering::Relaxed) {
                        return;
                    }
                    let path = format!("/tasks/{}/complete", open_task(&inst));
                    unanswered.lock().expect("unanswered").insert(id);
                    let Ok(a) = post(&path, summary.to_string()) else {
                        return;
                    };
                    let next = open_task(&a.ok()["instance"]);
                    acked.lock().expect("acked").push((id, next));
                    unanswered.lock().expect("unanswered").remove(&id);
                    let _ = ack.send(());
                }
            })
        })
        .collect();
    for _ in 0..acks {
        acked_one
            .recv_timeout(Duration::from_secs(60))
            .expect("acknowledged requests");
    }
    // Mid-way through the requests in flight.
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    done.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client");
    }
    let acked = acked.lock().expect("acked");
    let unanswered = unanswered.lock().expect("unanswered").clone();
    assert!(unanswered.len() <= 8);
    Told {
        // In the order they were answered: the last answer for an instance wins.
        open: acked.iter().cloned().collect(),
        unanswered,
    }
}

/// The server killed (SIGKILL) under load, three times: after each restart every
/// acknowledged start and completion is there as it was answered, and at the end
/// the records and their indexes agree.
/// (Where a kill lands is left to chance here; `engine/src/store/journal.rs` stops a
/// batch's write at every point in turn.)
#[test]
fn killed_under_load_the_server_loses_no_acknowledged_change() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_copy(tmp.path());
    let db = tmp.path().join("db");
    let server = Server::start(&db, &dir);
    let fang = Http::new(&server.url).issue(&server.admin_token(), "wang_fang");
    let mut told = load_then_kill(server, &fang, 300);
    for round in 1..=3 {
        let server = Server::start(&db, &dir);
        let http = Http::new(&server.url);
        for (id, task) in &told.open {
            let inst = http.get(&format!("/instances/{id}"), &fang).ok();
            if !told.unanswered.contains(id) {
                assert_eq!(&open_task(&inst), task, "round {round}, instance {id}");
            }
        }
        if round == 3 {
            server.stop();
            break;
        }
        told = load_then_kill(server, &fang, 300);
    }
    let engine = baton_engine::Engine::open(
        &db,
        baton_engine::store::Options::default(),
        Arc::new(baton_engine::clock::SystemClock),
    )
    .expect("open");
    assert_eq!(engine.store.verify().expect("verify"), Vec::<String>::new());
}

/// A route that takes no body (release) still reads the one it is sent before it
/// answers, so the connection stays usable: here the body arrives only after the
/// headers have had time to be answered, and the next request on the same connection
/// is answered too (before, the server answered at once, found the body unread and
/// closed the connection under the client's next request).
#[test]
fn a_connection_survives_a_body_the_route_does_not_take() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_copy(tmp.path());
    let server = Server::start(&tmp.path().join("db"), &dir);
    let http = Http::new(&server.url);
    let admin = server.admin_token();
    let fang = http.issue(&admin, "wang_fang");
    let o = http.post("/instances", &fang, complaint("張三")).ok();
    let task = open_task(&o["instance"]);

    let addr = server.url.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&addr).expect("connect");
    // Not claimed, so release answers 409; it reads no body.
    write!(
        conn,
        "POST /tasks/{task}/release HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {fang}\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\n\r\n"
    )
    .expect("head");
    conn.flush().expect("flush");
    // Give the server the chance to answer before the body is there (it must not).
    conn.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut early = vec![0u8; 4096];
    let early = match conn.read(&mut early) {
        Ok(n) => String::from_utf8_lossy(&early[..n]).into_owned(),
        Err(_) => String::new(),
    };
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    // The body, then a second request on the same connection.
    let _ = write!(
        conn,
        "{{}}GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    let mut rest = String::new();
    let _ = conn.read_to_string(&mut rest);
    let all = early + &rest;
    assert!(all.starts_with("HTTP/1.1 409"), "{all}");
    assert!(
        all.contains("HTTP/1.1 200"),
        "the second request went unanswered:\n{all}"
    );
    assert!(all.contains(r#"{"status":"ok","#), "{all}");
    server.stop();
}

#[test]
fn a_changed_file_is_redeployed_and_a_broken_one_keeps_the_running_version() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_copy(tmp.path());
    let mut server = Server::start(&tmp.path().join("db"), &dir);
    let http = Http::new(&server.url);
    let admin = server.admin_token();
    let version = |http: &Http| -> u64 {
        http.get("/definitions/complaint", &admin).ok()["latest"]
            .as_u64()
            .expect("a version")
    };
    assert_eq!(version(&http), 1);
    let file = dir.join("complaint.flow");
    let source = std::fs::read_to_string(&file).expect("source");
    // A real change: a new version, deployed while the server runs.
    std::fs::write(
        &file,
        source.replace("客戶投訴處理", "客戶投訴處理（新版）"),
    )
    .expect("write");
    server.wait_for("deployed complaint version 2");
    assert_eq!(version(&http), 2);
    // A broken file: reported with its diagnostics, and version 2 stays.
    std::fs::write(&file, source.replace("next explain", "next explian")).expect("write");
    server.wait_for("not deployed; the running version stays");
    // The diagnostics follow in the log: file:line:column, code and help.
    server.wait_for("did you mean `explain`?");
    let log = server.log().join("\n");
    assert!(
        log.contains("error[E002]") && log.contains("complaint.flow:"),
        "{log}"
    );
    assert_eq!(version(&http), 2);
    server.stop();
}

#[test]
fn the_log_names_the_database_with_its_size_and_says_when_staff_is_reloaded_or_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_copy(tmp.path());
    let db = tmp.path().join("db");
    let mut server = Server::start(&db, &dir);
    // The database is a path and its size a number of bytes, each labelled so.
    let running = server
        .log()
        .into_iter()
        .find(|l| l.contains("Baton is running"))
        .expect("the running line");
    assert!(
        running.contains(&format!("db={}", db.display())) && running.contains("db_bytes="),
        "{running}"
    );
    // At start, the staff directory is reported with the definitions.
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.contains("staff directory loaded")),
        "{}",
        server.log().join("\n")
    );
    // A changed staff.ron is reloaded, and the log says so.
    let file = dir.join("staff.ron");
    let staff = std::fs::read_to_string(&file).expect("staff.ron");
    std::fs::write(&file, format!("{staff}\n")).expect("write");
    let line = server.wait_for("staff directory reloaded");
    assert!(
        line.contains("staff.ron") && line.contains("people"),
        "{line}"
    );
    // A broken one is refused with its reason; the running directory stays.
    std::fs::write(&file, "(people: [").expect("write");
    let line = server.wait_for("staff directory not reloaded");
    assert!(line.contains("the running one stays"), "{line}");
    let admin = server.admin_token();
    let http = Http::new(&server.url);
    // The admin is still known as one.
    http.get("/definitions", &admin).ok();
    server.stop();
}
