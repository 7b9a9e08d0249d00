//! Commands over HTTP: a complaint carried through its stages, idempotent retries,
//! concurrent completions, the inbox, definitions, pagination and metrics.

mod common;

use axum::body::Body;
use axum::http::{header, Method};
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn a_complaint_goes_through_all_four_stages() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "張三").await;
    let step = |o: &Value| o["instance"]["step"].as_str().unwrap_or("").to_string();

    let t = api.open_task(id);
    let o = api
        .post(&format!("/tasks/{t}/claim"), "wang_fang", json!({}))
        .await
        .ok();
    assert_eq!(o["instance"]["tasks"][0]["assignee"], "wang_fang");
    let o = api
        .post(&format!("/tasks/{t}/release"), "wang_fang", json!({}))
        .await
        .ok();
    assert_eq!(o["instance"]["tasks"][0]["assignee"], Value::Null);
    let o = api
        .post(
            &format!("/tasks/{t}/complete"),
            "wang_fang",
            json!({"data": {"summary": "導遊態度差", "severity": "major"}}),
        )
        .await
        .ok();
    assert_eq!(step(&o), "explain");

    let t = api.open_task(id);
    api.post(
        &format!("/tasks/{t}/comment"),
        "wang_fang",
        json!({"text": "已致電客戶"}),
    )
    .await
    .ok();
    let o = api
        .post(
            &format!("/tasks/{t}/complete"),
            "wang_fang",
            json!({"choice": "needs_solution"}),
        )
        .await
        .ok();
    assert_eq!(step(&o), "propose");

    let t = api.open_task(id);
    let o = api
        .post(
            &format!("/tasks/{t}/complete"),
            "wang_fang",
            json!({"data": {"solution": "退還部分團費", "within_authority": false}}),
        )
        .await
        .ok();
    assert_eq!(step(&o), "approve");

    // The supervisor of the starter approves; the agent cannot.
    let t = api.open_task(id);
    api.post(
        &format!("/tasks/{t}/complete"),
        "wang_fang",
        json!({"choice": "approved"}),
    )
    .await
    .problem(403);
    let o = api
        .post(
            &format!("/tasks/{t}/complete"),
            "chen_jing",
            json!({"choice": "approved"}),
        )
        .await
        .ok();
    assert_eq!(step(&o), "follow_up");

    let t = api.open_task(id);
    let o = api
        .post(
            &format!("/tasks/{t}/complete"),
            "wang_fang",
            json!({"data": {"satisfaction": 5}}),
        )
        .await
        .ok();
    assert_eq!(o["instance"]["status"], "completed");
    assert_eq!(o["instance"]["outcome"], "done");

    let inst = api.get(&format!("/instances/{id}"), "wang_fang").await.ok();
    assert_eq!(inst["data"]["satisfaction"], json!({"Int": 5}));
    let done = api
        .get("/instances?process=complaint&state=completed", "wang_fang")
        .await
        .ok();
    assert_eq!(done["items"][0]["id"], id);
    // Every change records its actor.
    let h = api
        .get(&format!("/instances/{id}/history?limit=500"), "chen_jing")
        .await
        .ok();
    let actors: Vec<&str> = h["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|r| r["actor"].as_str())
        .collect();
    assert!(
        actors.contains(&"chen_jing") && actors.contains(&"wang_fang"),
        "{actors:?}"
    );
    assert!(h["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|r| r["event"]["Commented"]["text"] == "已致電客戶"));
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_first_answer() {
    let api = Api::new();
    let body = json!({"process": "complaint", "data": {
        "customer": "張三", "contact": "138", "channel": "app"}});
    let first = api
        .post_with("/instances", "wang_fang", body.clone(), Some("req-1"))
        .await;
    assert_eq!(first.status.as_u16(), 201);
    let retry = api
        .post_with("/instances", "wang_fang", body.clone(), Some("req-1"))
        .await;
    assert_eq!(retry.status.as_u16(), 201);
    let (a, b) = (first.json(), retry.json());
    assert_eq!(a["instance"], b["instance"]);
    assert_eq!(a["replayed"], false);
    assert_eq!(b["replayed"], true);
    let list = api.get("/instances?process=complaint", ADMIN).await.ok();
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(1),
        "only one instance"
    );

    // Another key is another request; the same key from another person too.
    api.post_with("/instances", "wang_fang", body.clone(), Some("req-2"))
        .await
        .ok();
    api.post_with("/instances", "zhang_wei", body, Some("req-1"))
        .await
        .ok();
    let list = api.get("/instances?process=complaint", ADMIN).await.ok();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(3));

    // A completion retried after it succeeded gets the first answer, not a 409.
    let id = a["instance"]["id"].as_u64().expect("id");
    let t = api.open_task(id);
    let fill = json!({"data": {"summary": "x", "severity": "general"}});
    let path = format!("/tasks/{t}/complete");
    let first = api
        .post_with(&path, "wang_fang", fill.clone(), Some("c-1"))
        .await
        .ok();
    let retry = api
        .post_with(&path, "wang_fang", fill.clone(), Some("c-1"))
        .await
        .ok();
    assert_eq!(first["instance"], retry["instance"]);
    assert_eq!(retry["replayed"], true);
    let h = api
        .get(&format!("/instances/{id}/history?limit=500"), "wang_fang")
        .await
        .ok();
    let completions = h["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|r| r["event"].get("TaskCompleted").is_some())
        .count();
    assert_eq!(completions, 1);
    // Without the key, the same request is refused: the task is done.
    api.post(&path, "wang_fang", fill).await.problem(409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_completions_give_one_success_and_one_conflict() {
    let api = Api::new();
    for round in 0..10 {
        let id = api
            .start_complaint("wang_fang", &format!("客戶{round}"))
            .await;
        let t = api.open_task(id);
        let path = format!("/tasks/{t}/complete");
        let fill = json!({"data": {"summary": "x", "severity": "general"}});
        let (a, b) = tokio::join!(
            api.post(&path, "wang_fang", fill.clone()),
            api.post(&path, "wang_fang", fill.clone())
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
        let loser = if a.status.as_u16() == 409 { &a } else { &b };
        loser.problem(409);
    }
}

#[tokio::test]
async fn reassigning_notifies_the_new_holder_in_their_inbox() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "張三").await;
    let t = api.open_task(id);
    api.post(&format!("/tasks/{t}/claim"), "wang_fang", json!({}))
        .await
        .ok();
    api.post(
        &format!("/tasks/{t}/reassign"),
        "wang_fang",
        json!({"to": "ghost"}),
    )
    .await
    .problem(422);
    let o = api
        .post(
            &format!("/tasks/{t}/reassign"),
            "wang_fang",
            json!({"to": "zhang_wei"}),
        )
        .await
        .ok();
    assert_eq!(
        o["instance"]["tasks"][0]["candidates"]["people"],
        json!(["zhang_wei"])
    );
    // The new holder sees the instance and the task now.
    api.get(&format!("/instances/{id}"), "zhang_wei").await.ok();
    let mine = api.get("/tasks", "zhang_wei").await.ok();
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1));

    // What the delivery worker does in `baton serve`: hand messages to inboxes.
    let now = api.engine.clock.now();
    for rec in api.engine.store.undelivered(100).expect("outbox") {
        api.engine.store.hand_on(&rec, &[], now).expect("hand on");
    }
    let inbox = api.get("/inbox", "zhang_wei").await.ok();
    let items = inbox["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{inbox}");
    assert!(
        items[0]["text"].as_str().unwrap_or("").contains("王芳"),
        "{inbox}"
    );
    assert_eq!(items[0]["kind"], "notify");
    assert_eq!(items[0]["task"], t);
    assert_eq!(items[0]["instance"], id);
    let empty = api.get("/inbox", "wang_fang").await.ok();
    assert_eq!(empty["items"], json!([]));
}

#[tokio::test]
async fn lists_are_paginated_with_a_cursor() {
    let api = Api::new();
    let mut started = Vec::new();
    for i in 0..7 {
        started.push(api.start_complaint("wang_fang", &format!("客戶{i}")).await);
    }
    for (path, who) in [
        ("/instances?process=complaint", "wang_fang"),
        ("/instances", ADMIN),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let url = match &cursor {
                Some(c) => format!(
                    "{path}{}limit=3&cursor={c}",
                    if path.contains('?') { "&" } else { "?" }
                ),
                None => format!(
                    "{path}{}limit=3",
                    if path.contains('?') { "&" } else { "?" }
                ),
            };
            let page = api.get(&url, who).await.ok();
            pages += 1;
            let items = page["items"].as_array().expect("items");
            assert!(items.len() <= 3);
            seen.extend(items.iter().filter_map(|i| i["id"].as_u64()));
            match page["next"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
            assert!(pages < 10, "runaway");
        }
        assert_eq!(seen, started, "{path}");
    }
    // Tasks and history too.
    let mut seen = Vec::new();
    let mut url = "/tasks?limit=2".to_string();
    loop {
        let page = api.get(&url, "wang_fang").await.ok();
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|t| t["id"]["instance"].clone()),
        );
        match page["next"].as_str() {
            Some(c) => url = format!("/tasks?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let id = started[0];
    let all = api
        .get(&format!("/instances/{id}/history?limit=500"), "wang_fang")
        .await
        .ok();
    let n = all["items"].as_array().map(Vec::len).unwrap_or(0);
    let first = api
        .get(&format!("/instances/{id}/history?limit=1"), "wang_fang")
        .await
        .ok();
    let next = first["next"].as_str().expect("a next page");
    let rest = api
        .get(
            &format!("/instances/{id}/history?limit=500&cursor={next}"),
            "wang_fang",
        )
        .await
        .ok();
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(n - 1));
    // A cursor of one list is refused by another (of the right shape: 422).
    api.get(&format!("/instances?cursor={next}"), "wang_fang")
        .await
        .problem(422);
}

#[tokio::test]
async fn definitions_list_show_source_and_diagram() {
    let api = Api::new();
    let list = api.get("/definitions", "wang_fang").await.ok();
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert!(
        names.contains(&"complaint") && names.contains(&"hiring"),
        "{names:?}"
    );
    let page = api.get("/definitions?limit=2", "wang_fang").await.ok();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    let next = page["next"].as_str().expect("next");
    let page2 = api
        .get(&format!("/definitions?limit=2&cursor={next}"), "wang_fang")
        .await
        .ok();
    assert_eq!(page2["items"][0]["name"], names[2]);

    let d = api.get("/definitions/complaint", "wang_fang").await.ok();
    assert_eq!(d["title"], "客戶投訴處理");
    assert_eq!(
        d["started_by"],
        json!([
            "agent",
            "scenic_agent",
            "callback_agent",
            "member_care_agent"
        ])
    );
    assert_eq!(d["latest"], 1);
    let steps: Vec<&str> = d["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "accept",
            "explain",
            "propose",
            "approve",
            "returned",
            "to_department",
            "department_reply_by",
            "department_handles",
            "to_scenic",
            "scenic_reply_by",
            "scenic_handles",
            "handed_back",
            "handover_returned",
            "follow_up"
        ]
    );
    assert!(d["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .any(|f| f["name"] == "customer" && f["source"] == "start"));

    let src = api.get("/definitions/complaint/source", "wang_fang").await;
    assert!(src.status.is_success());
    assert!(src.content_type.starts_with("text/plain"));
    let on_disk = std::fs::read_to_string(processes_dir().join("complaint.flow")).expect("file");
    assert_eq!(src.text, on_disk);
    let v1 = api
        .get("/definitions/complaint/source?version=1", "wang_fang")
        .await;
    assert_eq!(v1.text, on_disk);

    let diagram = api.get("/definitions/complaint/diagram", "wang_fang").await;
    assert!(diagram.status.is_success());
    assert!(diagram.text.starts_with("flowchart"), "{}", diagram.text);
    assert!(diagram.text.contains("接受投訴"));
}

#[tokio::test]
async fn metrics_count_work_and_requests() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "張三").await;
    let t = api.open_task(id);
    api.post(
        &format!("/tasks/{t}/complete"),
        "wang_fang",
        json!({"data": {"summary": "x", "severity": "general"}}),
    )
    .await
    .ok();
    api.get("/instances/999", ADMIN).await.problem(404);
    let req = api
        .request(Method::GET, "/metrics", None)
        .body(Body::empty())
        .expect("request");
    let m = api.send(req).await;
    assert!(
        m.content_type.starts_with("text/plain"),
        "{}",
        m.content_type
    );
    let text = m.text;
    for line in [
        "baton_instances_started_total 1",
        "baton_tasks_completed_total 1",
        "baton_timers_fired_total 0",
        "baton_deliveries_failed_total 0",
        "baton_http_requests_total{method=\"POST\",route=\"/instances\",status=\"201\"} 1",
        "baton_http_requests_total{method=\"GET\",route=\"/instances/:id\",status=\"404\"} 1",
        "baton_http_request_duration_seconds_count{method=\"POST\",route=\"/tasks/:id/complete\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
    assert!(text.contains("# TYPE baton_http_request_duration_seconds histogram"));
    assert!(text.contains("le=\"+Inf\""));
}

#[tokio::test]
async fn healthz_answers_ok() {
    let api = Api::new();
    let req = api
        .request(Method::GET, "/healthz", None)
        .body(Body::empty())
        .expect("request");
    let a = api.send(req).await;
    assert_eq!(a.json(), json!({"status": "ok", "zone": "Asia/Shanghai"}));
    let _ = header::CONTENT_TYPE;
}
