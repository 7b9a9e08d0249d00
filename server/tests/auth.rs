//! Who is calling (401) and what they may do and see (403, and lists that leave out
//! what is not theirs).

mod common;

use axum::body::Body;
use axum::http::{header, Method};
use baton_engine::staff::Directory;
use baton_engine::tokens;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn no_token_a_bad_token_or_a_revoked_one_is_401() {
    let api = Api::new();
    let send = |auth: Option<String>| {
        let mut b = api.request(Method::GET, "/tasks", None);
        if let Some(a) = auth {
            b = b.header(header::AUTHORIZATION, a);
        }
        api.send(b.body(Body::empty()).expect("request"))
    };
    for auth in [
        None,
        Some("Bearer".to_string()),
        Some("Bearer baton_0000".into()),
        Some("Bearer not-a-token".into()),
        Some(format!("Basic {}", api.token("wang_fang"))),
        Some(format!("Bearer {}x", api.token("wang_fang"))),
    ] {
        let a = send(auth.clone()).await;
        let p = a.problem(401);
        assert_eq!(p["type"], "urn:baton:problem:unauthorized", "{auth:?}");
        assert!(a.headers.get(header::WWW_AUTHENTICATE).is_some());
    }
    // The scheme is case-insensitive.
    let a = send(Some(format!("bearer {}", api.token("wang_fang")))).await;
    a.ok();

    let revoked = api.token("zhang_wei").to_string();
    assert_eq!(
        tokens::revoke(&*api.engine.store, "zhang_wei").expect("revoke"),
        1
    );
    send(Some(format!("Bearer {revoked}"))).await.problem(401);
    // Other people's tokens still work.
    send(Some(format!("Bearer {}", api.token("wang_fang"))))
        .await
        .ok();

    // A token whose owner left the staff directory is revoked with her leaving.
    let d = api.engine.store.directory();
    let people: Vec<_> = d
        .people
        .iter()
        .filter(|p| p.id != "wang_fang")
        .cloned()
        .collect();
    api.engine
        .store
        .set_directory(baton_engine::staff::Directory::new(
            d.departments.clone(),
            people,
        ))
        .expect("directory");
    let p = send(Some(format!("Bearer {}", api.token("wang_fang"))))
        .await
        .problem(401);
    assert!(
        p["detail"].as_str().unwrap_or("").contains("revoked"),
        "{p}"
    );
}

#[tokio::test]
async fn public_routes_need_no_token() {
    let api = Api::new();
    for path in ["/healthz", "/metrics", "/openapi.json"] {
        let req = api
            .request(Method::GET, path, None)
            .body(Body::empty())
            .expect("request");
        let a = api.send(req).await;
        assert!(a.status.is_success(), "{path}: {}", a.status);
    }
}

#[tokio::test]
async fn the_wrong_person_gets_403() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "張三").await;
    let task = api.open_task(id);

    // Not a candidate of the task: another agent, a manager.
    for who in ["zhang_wei", "li_ming"] {
        let p = api
            .post(&format!("/tasks/{task}/claim"), who, json!({}))
            .await
            .problem(403);
        assert_eq!(p["type"], "urn:baton:problem:forbidden");
        api.post(
            &format!("/tasks/{task}/complete"),
            who,
            json!({"data": {"summary": "x"}}),
        )
        .await
        .problem(403);
    }
    // Not a role that starts complaints.
    let p = api
        .post(
            "/instances",
            "sun_li",
            json!({"process": "complaint", "data": {"customer": "x", "contact": "y", "channel": "app"}}),
        )
        .await
        .problem(403);
    assert!(p["detail"].as_str().unwrap_or("").contains("agent"), "{p}");
    // Only the starter or an admin cancels.
    api.post(
        &format!("/instances/{id}/cancel"),
        "zhang_wei",
        json!({"reason": "mine now"}),
    )
    .await
    .problem(403);
    // Only admins deploy.
    let source = std::fs::read_to_string(processes_dir().join("complaint.flow")).expect("source");
    api.post("/definitions", "wang_fang", json!({"source": source}))
        .await
        .problem(403);
    // A role's list is for its holders.
    api.get("/tasks?role=cs_manager", "wang_fang")
        .await
        .problem(403);
    // Someone who takes no part in the instance neither sees it nor comments on it.
    api.get(&format!("/instances/{id}"), "zhang_wei")
        .await
        .problem(403);
    api.get(&format!("/instances/{id}/history"), "zhang_wei")
        .await
        .problem(403);
    api.post(
        &format!("/tasks/{task}/comment"),
        "zhang_wei",
        json!({"text": "hi"}),
    )
    .await
    .problem(403);
    // Nothing changed.
    let h = api
        .get(&format!("/instances/{id}/history"), "wang_fang")
        .await
        .ok();
    assert!(
        h["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|r| r["actor"] == "wang_fang"),
        "{h}"
    );
}

#[tokio::test]
async fn an_admin_deploys_cancels_and_sees_everything() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "張三").await;
    api.get(&format!("/instances/{id}"), ADMIN).await.ok();
    let source = std::fs::read_to_string(processes_dir().join("complaint.flow")).expect("source");
    let a = api
        .post("/definitions", ADMIN, json!({"source": source.clone()}))
        .await;
    assert_eq!(a.status.as_u16(), 200, "{}", a.text);
    assert_eq!(
        a.json(),
        json!({"name": "complaint", "version": 1, "created": false})
    );
    let changed = source.replace("\"已結案\"", "\"已結案（v2）\"");
    let a = api
        .post(
            "/definitions",
            ADMIN,
            json!({"file": "complaint.flow", "source": changed}),
        )
        .await;
    assert_eq!(a.status.as_u16(), 201, "{}", a.text);
    assert_eq!(a.json()["version"], 2);
    let d = api.get("/definitions/complaint", "wang_fang").await.ok();
    assert_eq!(d["latest"], 2);
    assert_eq!(d["versions"].as_array().map(Vec::len), Some(2));

    let o = api
        .post(
            &format!("/instances/{id}/cancel"),
            ADMIN,
            json!({"reason": "duplicate"}),
        )
        .await
        .ok();
    assert_eq!(o["instance"]["status"], "cancelled");
    // The history records who did it.
    let h = api
        .get(&format!("/instances/{id}/history"), "wang_fang")
        .await
        .ok();
    let last = h["items"]
        .as_array()
        .and_then(|v| v.last())
        .cloned()
        .expect("a record");
    assert_eq!(last["actor"], ADMIN);
    assert_eq!(last["event"]["Cancelled"]["reason"], "duplicate");
}

fn ids(page: &Value) -> Vec<u64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_u64())
        .collect()
}

#[tokio::test]
async fn people_see_only_what_they_take_part_in_or_their_roles_cover() {
    let api = Api::new();
    let mine = api.start_complaint("wang_fang", "張三").await;
    let theirs = api.start_complaint("zhang_wei", "李四").await;
    let hiring = api
        .post(
            "/instances",
            "chen_jing",
            json!({"process": "hiring", "data": {"position": "客服專員", "requirements": "普通話"}}),
        )
        .await
        .ok()["instance"]["id"]
        .as_u64()
        .expect("id");

    // Lists leave out what is not yours.
    let list = api
        .get("/instances?process=complaint", "wang_fang")
        .await
        .ok();
    assert_eq!(ids(&list), [mine]);
    let list = api.get("/instances", "zhang_wei").await.ok();
    assert_eq!(ids(&list), [theirs]);
    let all = api.get("/instances", ADMIN).await.ok();
    assert_eq!(ids(&all), {
        let mut v = vec![mine, theirs, hiring];
        // By process name, then id.
        v.sort_by_key(|i| (if *i == hiring { "hiring" } else { "complaint" }, *i));
        v
    });
    let tasks = api.get("/tasks", "wang_fang").await.ok();
    let task_ids: Vec<String> = tasks["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| format!("{}-{}", t["id"]["instance"], t["id"]["n"]))
        .collect();
    assert_eq!(task_ids, [api.open_task(mine)]);

    // A role covers the instances whose tasks are offered to it: the CS manager sees
    // the requisition waiting for them; an HR officer does not, until it reaches HR.
    api.get(&format!("/instances/{hiring}"), "li_ming")
        .await
        .ok();
    api.get(&format!("/instances/{hiring}"), "qian_yu")
        .await
        .problem(403);
    let role = api.get("/tasks?role=cs_manager", "li_ming").await.ok();
    assert_eq!(role["items"].as_array().map(Vec::len), Some(1));
    let review = api.open_task(hiring);
    api.post(
        &format!("/tasks/{review}/complete"),
        "li_ming",
        json!({"choice": "approve"}),
    )
    .await
    .ok();
    api.get(&format!("/instances/{hiring}"), "qian_yu")
        .await
        .ok();
    // The manager took part, so still sees it after their task is done.
    api.get(&format!("/instances/{hiring}"), "li_ming")
        .await
        .ok();
    let list = api.get("/instances?process=hiring", "li_ming").await.ok();
    assert_eq!(ids(&list), [hiring]);
    // Others still do not.
    api.get(&format!("/instances/{hiring}"), "wang_fang")
        .await
        .problem(403);
    let list = api.get("/instances?process=hiring", "wang_fang").await.ok();
    assert_eq!(ids(&list), Vec::<u64>::new());

    // Filter by starter.
    let list = api
        .get("/instances?process=complaint&starter=zhang_wei", ADMIN)
        .await
        .ok();
    assert_eq!(ids(&list), [theirs]);
}

#[tokio::test]
async fn overdue_and_state_lists_show_only_visible_tasks() {
    let api = Api::new();
    let mine = api.start_complaint("wang_fang", "張三").await;
    let _theirs = api.start_complaint("zhang_wei", "李四").await;
    let open = api.get("/tasks?state=open", "wang_fang").await.ok();
    assert_eq!(open["items"].as_array().map(Vec::len), Some(1), "{open}");
    assert_eq!(open["items"][0]["id"]["instance"], mine);
    let open = api.get("/tasks?state=open", ADMIN).await.ok();
    assert_eq!(open["items"].as_array().map(Vec::len), Some(2), "{open}");
    // The complaint's first task has no due time of its own; the approval step has.
    let none = api.get("/tasks?overdue=true", ADMIN).await.ok();
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn admins_issue_and_revoke_tokens_over_http() {
    let api = Api::new();
    // Not an admin: 403, before anything is looked up.
    api.post("/tokens", "wang_fang", json!({"person": "zhang_wei"}))
        .await
        .problem(403);
    let a = api
        .send(
            api.request(Method::DELETE, "/tokens/zhang_wei", Some("wang_fang"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    a.problem(403);

    // An admin issues one: 201, shown once, and it works.
    let a = api
        .post("/tokens", ADMIN, json!({"person": "zhang_wei"}))
        .await;
    assert_eq!(a.status.as_u16(), 201, "{}", a.text);
    let issued = a.json();
    assert_eq!(issued["person"], "zhang_wei");
    assert_eq!(issued["replayed"], false);
    let token = issued["token"].as_str().expect("token").to_string();
    assert!(token.starts_with(tokens::PREFIX), "{token}");
    let send_as = |t: String| {
        api.send(
            api.request(Method::GET, "/tasks", None)
                .header(header::AUTHORIZATION, format!("Bearer {t}"))
                .body(Body::empty())
                .expect("request"),
        )
    };
    send_as(token.clone()).await.ok();

    // Unknown people and bad bodies.
    api.post("/tokens", ADMIN, json!({"person": "ghost"}))
        .await
        .problem(404);
    let p = api.post("/tokens", ADMIN, json!({})).await.problem(400);
    assert_eq!(p["errors"][0]["field"], "person", "{p}");

    // A retry with the same key gets the same token, and issues none.
    let first = api
        .post_with("/tokens", ADMIN, json!({"person": "li_ming"}), Some("k-1"))
        .await
        .ok();
    let again = api
        .post_with("/tokens", ADMIN, json!({"person": "li_ming"}), Some("k-1"))
        .await
        .ok();
    assert_eq!(first["token"], again["token"]);
    assert_eq!(again["replayed"], true);
    let other = api
        .post_with("/tokens", ADMIN, json!({"person": "li_ming"}), Some("k-2"))
        .await
        .ok();
    assert_ne!(first["token"], other["token"]);

    // Revoke every token of a person: theirs stop working, others' do not.
    let delete = |path: &str| {
        api.send(
            api.request(Method::DELETE, path, Some(ADMIN))
                .body(Body::empty())
                .expect("request"),
        )
    };
    let r = delete("/tokens/zhang_wei").await.ok();
    // The one from the test setup and the one issued above.
    assert_eq!(r, json!({"person": "zhang_wei", "revoked": 2}));
    send_as(token).await.problem(401);
    send_as(api.token("wang_fang").to_string()).await.ok();
    delete("/tokens/zhang_wei").await.problem(404);
    // A token never goes in a URL.
    let p = delete(&format!("/tokens/{}", api.token("li_ming")))
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "person", "{p}");
}

#[tokio::test]
async fn a_person_removed_from_the_directory_loses_their_tokens_for_good() {
    let api = Api::new();
    let token = api.token("wang_fang").to_string();
    let with = (*api.engine.store.directory()).clone();
    let get = |token: String| {
        let api = &api;
        async move {
            api.send(
                axum::http::Request::builder()
                    .uri("/tasks")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
        }
    };
    get(token.clone()).await.ok();

    let people = with
        .people
        .iter()
        .filter(|p| p.id != "wang_fang")
        .cloned()
        .collect();
    api.engine
        .store
        .set_directory(Directory::new(with.departments.clone(), people))
        .expect("directory without her");
    get(token.clone()).await.problem(401);

    // Back under the same id: the old token stays refused; a new one works.
    api.engine
        .store
        .set_directory(Directory::new(
            with.departments.clone(),
            with.people.clone(),
        ))
        .expect("directory with her again");
    let p = get(token.clone()).await.problem(401);
    assert!(
        p["detail"]
            .as_str()
            .unwrap_or("")
            .contains("unknown or revoked"),
        "{p}"
    );
    let fresh =
        tokens::issue(&*api.engine.store, "wang_fang", sh(2026, 3, 2, 11, 0)).expect("a new token");
    get(fresh).await.ok();
    // Everyone else's tokens still work.
    get(api.token("chen_jing").to_string()).await.ok();
}
