//! Incidents over HTTP: admins list them (`GET /incidents`, a page at a time) and
//! resolve them (`retry`, `set`, `move`, `cancel`); staff get 403; `/metrics`
//! counts the open ones; `GET /instances/{id}` shows the reason.

mod common;

use common::*;
use serde_json::{json, Value};

async fn gauge(api: &Api) -> String {
    let a = api
        .send(
            api.request(axum::http::Method::GET, "/metrics", None)
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    a.text
        .lines()
        .find(|l| l.starts_with("baton_incidents_open "))
        .unwrap_or_else(|| panic!("no gauge in {}", a.text))
        .to_string()
}

fn ids(page: &Value) -> Vec<u64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["instance"].as_u64().expect("id"))
        .collect()
}

#[tokio::test]
async fn admins_list_incidents_a_page_at_a_time_and_staff_may_not() {
    let api = Api::new();
    assert_eq!(gauge(&api).await, "baton_incidents_open 0");
    let all = stuck(&api, 3).await;
    assert_eq!(gauge(&api).await, "baton_incidents_open 3");
    api.get("/incidents", "wang_fang").await.problem(403);
    let first = api.get("/incidents?limit=2", ADMIN).await.ok();
    assert_eq!(ids(&first), all[..2]);
    let item = &first["items"][0];
    assert_eq!(item["process"], "fix");
    assert!(
        item["reason"]
            .as_str()
            .is_some_and(|r| r.contains("no supervisor")),
        "{item}"
    );
    assert!(item["attempted"]["timer"].is_object(), "{item}");
    let cursor = first["next"].as_str().expect("next");
    let second = api
        .get(&format!("/incidents?limit=2&cursor={cursor}"), ADMIN)
        .await
        .ok();
    assert_eq!(ids(&second), all[2..]);
    assert!(second.get("next").is_none());
    api.get("/incidents?cursor=zz", ADMIN).await.problem(400);

    let shown = api.get(&format!("/instances/{}", all[0]), ADMIN).await.ok();
    assert_eq!(shown["status"], "incident");
    assert!(shown["incident"]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("no supervisor")));
    let listed = api
        .get("/instances?process=fix&state=incident", ADMIN)
        .await
        .ok();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn admins_resolve_incidents_by_retry_set_move_and_cancel() {
    let api = Api::new();
    let all = stuck(&api, 3).await;
    let (a, b, c) = (all[0], all[1], all[2]);

    // Staff may not resolve; the instance's staff commands wait for the admin.
    for path in ["retry", "move", "set"] {
        let body = json!({"step": "done", "data": {"handler": "wang_fang"}});
        api.post(&format!("/instances/{a}/{path}"), "wang_fang", body)
            .await
            .problem(403);
    }
    // A retry while the cause remains is refused with it, and changes nothing.
    let p = api
        .post(&format!("/instances/{a}/retry"), ADMIN, json!({}))
        .await
        .problem(422);
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no supervisor")),
        "{p}"
    );

    // Set: corrected data, recorded with the admin, and on from where it stopped.
    api.post(&format!("/instances/{a}/set"), ADMIN, json!({"data": {}}))
        .await
        .problem(400);
    let o = api
        .post(
            &format!("/instances/{a}/set"),
            ADMIN,
            json!({"data": {"handler": "wang_fang"}}),
        )
        .await
        .ok();
    assert_eq!(o["instance"]["status"], "running");
    assert_eq!(o["instance"]["step"], "review");
    let history = api
        .get(&format!("/instances/{a}/history"), ADMIN)
        .await
        .ok();
    let set = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["event"]["DataSet"].is_object())
        .expect("the data set");
    assert_eq!(set["actor"], ADMIN);
    // Only an instance with an incident is retried.
    api.post(&format!("/instances/{a}/retry"), ADMIN, json!({}))
        .await
        .problem(409);

    // Move: checked against the definition and the data the step reads.
    let p = api
        .post(
            &format!("/instances/{b}/move"),
            ADMIN,
            json!({"step": "nowhere"}),
        )
        .await
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "step", "{p}");
    let p = api
        .post(
            &format!("/instances/{b}/move"),
            ADMIN,
            json!({"step": "close"}),
        )
        .await
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "resolution", "{p}");
    let o = api
        .post(
            &format!("/instances/{b}/move"),
            ADMIN,
            json!({"step": "done"}),
        )
        .await
        .ok();
    assert_eq!(o["instance"]["status"], "completed");

    // Cancel, as for any instance.
    let o = api
        .post(
            &format!("/instances/{c}/cancel"),
            ADMIN,
            json!({"reason": "客戶撤回"}),
        )
        .await
        .ok();
    assert_eq!(o["instance"]["status"], "cancelled");
    assert_eq!(gauge(&api).await, "baton_incidents_open 0");
    assert!(ids(&api.get("/incidents", ADMIN).await.ok()).is_empty());
}
