//! A broken store does not look healthy: once a write to disk failed, `/healthz` and
//! every write answer 503 with the reason and what to do, and `/metrics` has
//! `baton_store_healthy 0`; before, 200 and 1. Once the disk takes writes again,
//! `/healthz` finds the store writing again, without a restart: 200 and 1.

mod common;

use axum::body::Body;
use axum::http::Method;
use baton_engine::store::Fault;
use common::*;
use serde_json::json;

async fn get(api: &Api, path: &str) -> Answer {
    api.send(
        api.request(Method::GET, path, None)
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

fn complaint() -> serde_json::Value {
    json!({"process": "complaint", "data": {
        "customer": "張三", "contact": "138-0000-0000", "channel": "hotline"
    }})
}

async fn healthy_gauge(api: &Api) -> String {
    let a = get(api, "/metrics").await;
    assert_eq!(a.status.as_u16(), 200, "{}", a.text);
    assert!(
        a.text.contains("# TYPE baton_store_healthy gauge"),
        "{}",
        a.text
    );
    a.text
        .lines()
        .find(|l| l.starts_with("baton_store_healthy "))
        .unwrap_or_else(|| panic!("no gauge in {}", a.text))
        .to_string()
}

#[tokio::test]
async fn a_full_disk_makes_healthz_503_with_the_reason_and_the_gauge_0_until_it_has_room() {
    let api = Api::new();
    assert_eq!(
        get(&api, "/healthz").await.ok(),
        json!({"status": "ok", "zone": "Asia/Shanghai"})
    );
    assert_eq!(healthy_gauge(&api).await, "baton_store_healthy 1");

    api.engine.store.inject_failure(Fault::Full);
    let failed = api.post("/instances", "wang_fang", complaint()).await;
    // The request whose write failed, and every write after it, answer 503 with the
    // reason, as `/healthz` does.
    let p = failed.problem(503);
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("failed in its write")),
        "{p}"
    );
    let refused = api.post("/instances", "wang_fang", complaint()).await;
    assert_eq!(refused.problem(503)["detail"], p["detail"]);

    let p = get(&api, "/healthz").await.problem(503);
    assert_eq!(p["type"], "urn:baton:problem:unavailable");
    let detail = p["detail"].as_str().expect("detail");
    assert!(detail.contains("failed in its write"), "{detail}");
    assert!(detail.contains("injected write failure"), "{detail}");
    assert!(detail.contains("by itself"), "{detail}");
    assert!(detail.len() < 400, "{detail}");
    assert_eq!(healthy_gauge(&api).await, "baton_store_healthy 0");
    // Still full: `/healthz` tries, and still answers 503.
    get(&api, "/healthz").await.problem(503);

    api.engine.store.clear_failure();
    assert_eq!(
        get(&api, "/healthz").await.ok(),
        json!({"status": "ok", "zone": "Asia/Shanghai"})
    );
    assert_eq!(healthy_gauge(&api).await, "baton_store_healthy 1");
    let again = api.post("/instances", "wang_fang", complaint()).await;
    assert_eq!(again.status.as_u16(), 201, "{}", again.text);
    assert_eq!(
        api.engine.store.verify().expect("verify"),
        Vec::<String>::new()
    );
}
