//! Extensions over HTTP (a limit with the customer's consent given at that moment, a
//! task's step), a completion's reason, and the outbox for admins.

mod common;

use baton_engine::store::prelude::*;
use common::*;
use serde_json::json;

#[tokio::test]
async fn a_limit_is_extended_with_the_consent_recorded_at_that_moment() {
    let api = Api::new();
    let t0 = api.engine.clock.now();
    let id = api.start_complaint("wang_fang", "張三").await;
    let path = format!("/instances/{id}/limits/settle/extend");
    let task = api.open_task(id);

    // No consent (it is false from the start): refused, nothing recorded.
    let p = api
        .post(&path, "wang_fang", json!({"by": "2h"}))
        .await
        .problem(403);
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("customer_consents")),
        "{p}"
    );
    // Someone with no part in the complaint may not ask.
    api.post(
        &path,
        "zhang_wei",
        json!({"by": "2h", "data": {"customer_consents": true}}),
    )
    .await
    .problem(403);
    // Not a length of time, or nothing at all: 422 on `by`.
    for by in ["soon", "0m"] {
        let p = api
            .post(
                &path,
                "wang_fang",
                json!({"by": by, "data": {"customer_consents": true}}),
            )
            .await
            .problem(422);
        assert_eq!(p["errors"][0]["field"], "by", "{p}");
    }
    // Only the fields the condition reads are taken along.
    let p = api
        .post(
            &path,
            "wang_fang",
            json!({"by": "2h", "data": {"customer_consents": true, "severity": "major"}}),
        )
        .await
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "severity", "{p}");
    // No such limit.
    api.post(
        &format!("/instances/{id}/limits/nope/extend"),
        "wang_fang",
        json!({"by": "2h"}),
    )
    .await
    .problem(404);
    // A body without `by` is the wrong shape.
    api.post(&path, "wang_fang", json!({"data": {}}))
        .await
        .problem(400);

    // The customer consents now: the deadline and the task's due time move.
    let o = api
        .post(
            &path,
            "wang_fang",
            json!({"by": "2h", "data": {"customer_consents": true}}),
        )
        .await
        .ok();
    let due = t0 + chrono::Duration::hours(3);
    assert_eq!(
        o["instance"]["data"]["customer_consents"],
        json!({"Bool": true})
    );
    let limit = &o["instance"]["limits"][0];
    assert_eq!(limit["name"], "settle");
    assert_eq!(limit["extended_minutes"], 120);
    let deadline: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(limit["deadline"].clone()).expect("a time");
    assert_eq!(deadline, due);
    let listed = api.get("/tasks", "wang_fang").await.ok();
    assert_eq!(listed["items"][0]["id"], json!({"instance": id, "n": 1}));
    let listed_due: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(listed["items"][0]["due"].clone()).expect("a time");
    assert_eq!(listed_due, due);
    // The task's step has no due time of its own: the answer names the limit.
    let p = api
        .post(
            &format!("/tasks/{task}/extend"),
            "wang_fang",
            json!({"by": "1h"}),
        )
        .await
        .problem(409);
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("limit `settle`")),
        "{p}"
    );
}

const SHIFT: &str = r#"
process shift "值班交接" {
  started by agent
  step handover "交接" {
    task for starter
    due 2h
    extend up to 4h
    next done
  }
  end done
}
"#;

#[tokio::test]
async fn a_tasks_step_is_extended_and_a_finished_task_is_a_conflict() {
    let api = Api::new();
    let t0 = api.engine.clock.now();
    api.engine
        .store
        .deploy("shift.flow", SHIFT, t0)
        .expect("deploys");
    let o = api
        .post("/instances", "wang_fang", json!({"process": "shift"}))
        .await
        .ok();
    let id = o["instance"]["id"].as_u64().expect("id");
    let task = api.open_task(id);
    let o = api
        .post(
            &format!("/tasks/{task}/extend"),
            "wang_fang",
            json!({"by": "90m"}),
        )
        .await
        .ok();
    let due: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(o["instance"]["tasks"][0]["due"].clone()).expect("a time");
    assert_eq!(due, t0 + chrono::Duration::minutes(210));
    // More than the definition allows in all.
    api.post(
        &format!("/tasks/{task}/extend"),
        "wang_fang",
        json!({"by": "3h"}),
    )
    .await
    .problem(403);
    api.post(&format!("/tasks/{task}/complete"), "wang_fang", json!({}))
        .await
        .ok();
    api.post(
        &format!("/tasks/{task}/extend"),
        "wang_fang",
        json!({"by": "1h"}),
    )
    .await
    .problem(409);
    api.post("/tasks/999-1/extend", "wang_fang", json!({"by": "1h"}))
        .await
        .problem(404);
}

#[tokio::test]
async fn a_choice_carries_its_reason_into_the_history() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "張三").await;
    let t = api.open_task(id);
    api.post(
        &format!("/tasks/{t}/complete"),
        "wang_fang",
        json!({"data": {"summary": "退票"}}),
    )
    .await
    .ok();
    let t = api.open_task(id);
    let o = api
        .post(
            &format!("/tasks/{t}/complete"),
            "wang_fang",
            json!({"choice": "resolved", "reason": "客戶接受解釋"}),
        )
        .await
        .ok();
    let reasoned: Vec<&serde_json::Value> = o["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["event"].get("Reasoned").is_some())
        .collect();
    assert_eq!(reasoned.len(), 1, "{o}");
    assert_eq!(reasoned[0]["event"]["Reasoned"]["reason"], "客戶接受解釋");
    // An empty reason is refused as invalid.
    let t = api.open_task(id);
    let p = api
        .post(
            &format!("/tasks/{t}/complete"),
            "wang_fang",
            json!({"data": {"satisfaction": 5}, "reason": ""}),
        )
        .await
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "reason", "{p}");
}

#[tokio::test]
async fn the_outbox_is_for_admins() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "張三").await;
    let t = api.open_task(id);
    api.post(&format!("/tasks/{t}/claim"), "wang_fang", json!({}))
        .await
        .ok();
    api.post(
        &format!("/tasks/{t}/reassign"),
        "wang_fang",
        json!({"to": "zhang_wei"}),
    )
    .await
    .ok();
    api.get("/outbox", "wang_fang").await.problem(403);
    let page = api.get("/outbox", ADMIN).await.ok();
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["message"]["to"], json!(["zhang_wei"]));
    assert_eq!(items[0]["state"], "Pending");
    assert_eq!(page["next"], serde_json::Value::Null);
    let failed = api.get("/outbox?failed=true", ADMIN).await.ok();
    assert_eq!(failed["items"], json!([]));
    api.get("/outbox?failed=maybe", ADMIN).await.problem(400);
}
