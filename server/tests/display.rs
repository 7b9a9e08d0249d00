//! What the API tells people-facing clients: the company's zone, names and labels;
//! JSON times with the company's offset; values in one shape both ways; a value of
//! the wrong JSON type refused per field.

mod common;

use baton_engine::store::prelude::*;
use common::*;
use serde_json::json;

#[tokio::test]
async fn the_server_says_its_zone_names_and_labels() {
    let api = Api::new();
    let answer = api.get("/healthz", "wang_fang").await;
    assert_eq!(answer.ok()["zone"], "Asia/Shanghai");
    // Every answer says it, an error too.
    let missing = api.get("/instances/999", "wang_fang").await;
    for a in [&answer, &missing] {
        assert_eq!(
            a.headers.get("baton-zone").and_then(|v| v.to_str().ok()),
            Some("Asia/Shanghai")
        );
    }
    let names = api.get("/directory", "wang_fang").await.ok();
    assert_eq!(names["zone"], "Asia/Shanghai");
    assert_eq!(names["language"], "zh-Hant");
    assert_eq!(names["people"]["wang_fang"], "王芳");
    assert_eq!(names["departments"]["technology"], "技術部");
    api.get("/directory", "nobody").await.problem(401);

    let labels = api
        .get("/definitions/probation/labels", "wang_fang")
        .await
        .ok();
    assert_eq!(labels["title"], "試用期轉正申請");
    assert_eq!(labels["fields"]["result"]["kind"], "choice");
    assert_eq!(
        labels["fields"]["result"]["choices"]["postpone"],
        "延期轉正"
    );
    assert_eq!(labels["start_fields"][0], "employee");
    let complaint = api
        .get("/definitions/complaint/labels", "wang_fang")
        .await
        .ok();
    assert_eq!(complaint["limits"]["settle"], "接受投訴→回訪");
    assert_eq!(
        complaint["steps"]["explain"]["choices"]["needs_solution"],
        "需要解決方案"
    );
    assert_eq!(complaint["ends"]["done"], "已結案");
    let v1 = api
        .get("/definitions/probation/labels?version=1", "wang_fang")
        .await
        .ok();
    assert_eq!(v1, labels);
    api.get("/definitions/probation/labels?version=9", "wang_fang")
        .await
        .problem(404);
    api.get("/definitions/probation/labels?version=x", "wang_fang")
        .await
        .problem(400);
}

#[tokio::test]
async fn json_times_carry_the_company_offset() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "張三").await;
    let shown = api.get(&format!("/instances/{id}"), "wang_fang").await.ok();
    // 10:00 in Shanghai, as the harness's clock says.
    assert_eq!(shown["started_at"], "2026-03-02T10:00:00+08:00");
    let history = api
        .get(&format!("/instances/{id}/history"), "wang_fang")
        .await
        .ok();
    assert_eq!(history["items"][0]["at"], "2026-03-02T10:00:00+08:00");
}

#[tokio::test]
async fn a_value_read_can_be_sent_back_as_it_is() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "張三").await;
    let shown = api.get(&format!("/instances/{id}"), "wang_fang").await.ok();
    let data = shown["data"].clone();
    assert_eq!(data["channel"], json!({"Choice": "hotline"}));
    assert_eq!(data["customer"], json!({"Text": "張三"}));
    // The same values, in the shape the answer gave them, start another complaint.
    let sent = json!({
        "customer": data["customer"],
        "contact": data["contact"],
        "channel": data["channel"],
    });
    let again = api
        .post(
            "/instances",
            "wang_fang",
            json!({"process": "complaint", "data": sent}),
        )
        .await
        .ok();
    assert_eq!(again["instance"]["data"], data);
}

#[tokio::test]
async fn a_value_of_the_wrong_json_type_is_refused_per_field() {
    let api = Api::new();
    // A number for a text field would be stored as "1e+23"; "5" for an integer.
    let p = api
        .post(
            "/instances",
            "wang_fang",
            json!({"process": "complaint", "data": {
                "customer": 1e23, "contact": 13800000000u64, "channel": "app"
            }}),
        )
        .await
        .problem(422);
    assert_eq!(
        p["errors"],
        json!([
            {"field": "contact", "message": "expected text, found the number 13800000000"},
            {"field": "customer", "message": "expected text, found the number 1e+23"},
        ])
    );
    let p = api
        .post(
            "/instances",
            "wang_fang",
            json!({"process": "probation", "data": {
                "employee": "wang_fang", "hired_on": "2026-01-05", "leave_count": "5"
            }}),
        )
        .await
        .problem(422);
    assert_eq!(
        p["errors"],
        json!([{"field": "leave_count", "message": "expected a whole number, found \"5\""}])
    );
    // The tag must be the field's type's.
    let p = api
        .post(
            "/instances",
            "wang_fang",
            json!({"process": "complaint", "data": {
                "customer": "張三", "contact": "138", "channel": {"Text": "app"}
            }}),
        )
        .await
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "channel");
    // Nothing was started.
    for process in ["complaint", "probation"] {
        let running = api
            .engine
            .store
            .instances(process, "running", None, 10)
            .expect("instances");
        assert!(running.items.is_empty(), "{process}");
    }
}
