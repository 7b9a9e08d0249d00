//! Every error status, each with its problem+json body; and no input, however
//! strange, gets a 500.

mod common;

use axum::body::Body;
use axum::http::{header, Method};
use common::*;
use serde_json::json;

#[tokio::test]
async fn malformed_json_is_400_with_a_problem() {
    let api = Api::new();
    let req = api
        .request(Method::POST, "/instances", Some("wang_fang"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"process\": \"complaint\", "))
        .expect("request");
    let p = api.send(req).await.problem(400);
    assert_eq!(p["type"], "urn:baton:problem:bad-request");
    assert!(
        p["detail"]
            .as_str()
            .unwrap_or("")
            .contains("malformed JSON"),
        "{p}"
    );

    // Trailing garbage after a valid value is malformed too.
    let req = api
        .request(Method::POST, "/instances", Some("wang_fang"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"process\": \"complaint\"} x"))
        .expect("request");
    api.send(req).await.problem(400);
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_is_400_naming_the_field() {
    let api = Api::new();
    let p = api
        .post("/instances", "wang_fang", json!({"data": {}}))
        .await
        .problem(400);
    assert_eq!(
        p["errors"],
        json!([{"field": "process", "message": "missing field `process`"}])
    );

    let p = api
        .post(
            "/instances",
            "wang_fang",
            json!({"process": "complaint", "data": [1]}),
        )
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "data", "{p}");

    let id = api.start_complaint("wang_fang", "張三").await;
    let task = api.open_task(id);
    let p = api
        .post(
            &format!("/tasks/{task}/complete"),
            "wang_fang",
            json!({"choice": 5}),
        )
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "choice", "{p}");

    // A command that needs a body gets none.
    let req = api
        .request(
            Method::POST,
            &format!("/tasks/{task}/complete"),
            Some("wang_fang"),
        )
        .body(Body::empty())
        .expect("request");
    api.send(req).await.problem(400);
}

#[tokio::test]
async fn bad_query_parameters_and_headers_are_400_naming_each() {
    let api = Api::new();
    for (path, field) in [
        ("/instances?limit=0", "limit"),
        ("/instances?limit=many", "limit"),
        ("/instances?limit=100000", "limit"),
        ("/instances?state=sleeping", "state"),
        ("/instances?cursor=zz", "cursor"),
        ("/instances?cursor=abc", "cursor"),
        ("/tasks?overdue=maybe", "overdue"),
        ("/tasks?team=yes", "team"),
        ("/instances?team=1", "team"),
        ("/tasks?state=done", "state"),
        ("/definitions/complaint/source?version=two", "version"),
    ] {
        let p = api.get(path, ADMIN).await.problem(400);
        assert_eq!(p["errors"][0]["field"], field, "{path}: {p}");
    }
    // Of the documented shape, but not usable: a cursor (hex) of another list or
    // that this server did not make, two ways of choosing tasks at once. The
    // document cannot say these, so they are 422, not 400.
    for path in [
        "/inbox?cursor=6b3a31",
        "/instances?cursor=743a313a323a333a34",
        "/tasks?cursor=ff",
    ] {
        let p = api.get(path, ADMIN).await.problem(422);
        assert_eq!(p["type"], "urn:baton:problem:unusable-query", "{path}: {p}");
        assert_eq!(p["errors"][0]["field"], "cursor", "{path}: {p}");
    }
    let p = api
        .get("/tasks?role=agent&overdue=true", ADMIN)
        .await
        .problem(422);
    // Each of the four ways to choose tasks is named.
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(4), "{p}");

    let req = api
        .request(Method::POST, "/instances", Some("wang_fang"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", "x".repeat(300))
        .body(Body::from(json!({"process": "complaint"}).to_string()))
        .expect("request");
    let p = api.send(req).await.problem(400);
    assert_eq!(p["errors"][0]["field"], "Idempotency-Key", "{p}");
}

#[tokio::test]
async fn unknown_ids_and_routes_are_404() {
    let api = Api::new();
    for path in [
        "/instances/999",
        "/instances/abc",
        "/instances/-1",
        "/instances/99999999999999999999999",
        "/instances/999/history",
        "/definitions/nothing",
        "/definitions/nothing/source",
        "/definitions/nothing/diagram",
        "/definitions/complaint/source?version=9",
        "/no/such/route",
    ] {
        let p = api.get(path, ADMIN).await.problem(404);
        assert_eq!(p["type"], "urn:baton:problem:not-found", "{path}");
    }
    for task in [
        "999-1",
        "abc",
        "1-",
        "-1",
        "1-2-3",
        "99999999999999999999999-1",
        "1-99999999999",
    ] {
        for verb in ["claim", "release", "complete", "reassign", "comment"] {
            let body = match verb {
                "reassign" => json!({"to": "zhang_wei"}),
                "comment" => json!({"text": "hello"}),
                _ => json!({}),
            };
            api.post(&format!("/tasks/{task}/{verb}"), ADMIN, body)
                .await
                .problem(404);
        }
    }
    // A task number past the instance's tasks names no task.
    let id = api.start_complaint("wang_fang", "張三").await;
    api.post(&format!("/tasks/{id}-99/claim"), "wang_fang", json!({}))
        .await
        .problem(404);
    api.post(
        &format!("/tasks/{id}-99/comment"),
        "wang_fang",
        json!({"text": "x"}),
    )
    .await
    .problem(404);
}

#[tokio::test]
async fn a_wrong_method_is_405_with_a_problem() {
    let api = Api::new();
    let req = api
        .request(Method::DELETE, "/instances", Some(ADMIN))
        .body(Body::empty())
        .expect("request");
    let a = api.send(req).await;
    a.problem(405);
    assert!(a.headers.get(header::ALLOW).is_some());
    let req = api
        .request(Method::GET, "/tasks/1-1/claim", Some(ADMIN))
        .body(Body::empty())
        .expect("request");
    api.send(req).await.problem(405);
}

#[tokio::test]
async fn completing_a_completed_task_or_claiming_anothers_is_409() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "張三").await;
    let task = api.open_task(id);
    let fill = json!({"data": {"severity": "major", "summary": "導遊態度差"}});
    api.post(
        &format!("/tasks/{task}/complete"),
        "wang_fang",
        fill.clone(),
    )
    .await
    .ok();
    let p = api
        .post(&format!("/tasks/{task}/complete"), "wang_fang", fill)
        .await
        .problem(409);
    assert_eq!(p["type"], "urn:baton:problem:conflict");

    // A task offered to a role: one HR officer claims it, the other one cannot.
    let hiring = api
        .post(
            "/instances",
            "chen_jing",
            json!({"process": "hiring", "data": {"position": "客服專員", "requirements": "普通話"}}),
        )
        .await
        .ok();
    let hid = hiring["instance"]["id"].as_u64().expect("id");
    let review = api.open_task(hid);
    api.post(
        &format!("/tasks/{review}/complete"),
        "li_ming",
        json!({"choice": "approve"}),
    )
    .await
    .ok();
    let hr = api.open_task(hid);
    api.post(&format!("/tasks/{hr}/claim"), "sun_li", json!({}))
        .await
        .ok();
    let p = api
        .post(&format!("/tasks/{hr}/claim"), "qian_yu", json!({}))
        .await
        .problem(409);
    assert!(
        p["detail"]
            .as_str()
            .unwrap_or("")
            .contains("claimed by 孫莉"),
        "{p}"
    );
    api.post(
        &format!("/tasks/{hr}/complete"),
        "qian_yu",
        json!({"choice": "approve"}),
    )
    .await
    .problem(409);

    // An instance that has ended cannot be cancelled again.
    api.post(&format!("/instances/{id}/cancel"), "wang_fang", json!({}))
        .await
        .ok();
    let p = api
        .post(&format!("/instances/{id}/cancel"), "wang_fang", json!({}))
        .await
        .problem(409);
    assert!(
        p["detail"].as_str().unwrap_or("").contains("cancelled"),
        "{p}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let api = Api::new();
    let big =
        json!({"process": "complaint", "data": {"customer": "x".repeat(baton_server::BODY_LIMIT)}});
    let p = api.post("/instances", "wang_fang", big).await.problem(413);
    assert_eq!(p["type"], "urn:baton:problem:payload-too-large");
    let big = json!({"source": "x".repeat(2 * baton_server::BODY_LIMIT)});
    let a = api.post("/definitions", ADMIN, big).await;
    a.problem(413);
    // Read to its end before the answer: the connection can go on.
    assert!(a.headers.get(header::CONNECTION).is_none());
    // Too large even to read through: answered at once, and the connection closed.
    let req = api
        .request(Method::POST, "/tasks/1-1/claim", Some("wang_fang"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::CONTENT_LENGTH,
            (baton_server::DRAIN_LIMIT + 1).to_string(),
        )
        .body(Body::from("{}"))
        .expect("request");
    let a = api.send(req).await;
    a.problem(413);
    assert_eq!(
        a.headers.get(header::CONNECTION).map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let api = Api::new();
    let req = api
        .request(Method::POST, "/instances", Some("wang_fang"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("process=complaint"))
        .expect("request");
    api.send(req).await.problem(415);
}

#[tokio::test]
async fn data_that_breaks_the_schema_is_422_with_one_entry_per_field() {
    let api = Api::new();
    let p = api
        .post(
            "/instances",
            "wang_fang",
            json!({"process": "complaint", "data": {"channel": "fax", "severity": 3}}),
        )
        .await
        .problem(422);
    assert_eq!(p["type"], "urn:baton:problem:invalid-data");
    let mut fields: Vec<&str> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["channel", "contact", "customer", "severity"],
        "{p}"
    );
    for e in p["errors"].as_array().expect("errors") {
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }

    // A fill field of the wrong type at completion.
    let id = api.start_complaint("wang_fang", "張三").await;
    let task = api.open_task(id);
    let p = api
        .post(
            &format!("/tasks/{task}/complete"),
            "wang_fang",
            json!({"data": {"severity": "huge"}}),
        )
        .await
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "severity", "{p}");
}

#[tokio::test]
async fn a_failed_require_is_422_with_its_message() {
    let api = Api::new();
    let p = api
        .post(
            "/instances",
            "wang_fang",
            json!({"process": "probation", "data": {
                "employee": "wang_fang", "hired_on": "2025-12-01", "violation": true
            }}),
        )
        .await
        .problem(422);
    assert_eq!(p["type"], "urn:baton:problem:requirement");
    assert_eq!(p["detail"], "試用期內有違紀違規記錄，不得申請轉正", "{p}");
}

/// An `Idempotency-Key` sent again with another body: 422, naming the header, as the
/// IETF Idempotency-Key draft says; the first answer is not replayed for it.
#[tokio::test]
async fn a_reused_idempotency_key_with_another_body_is_422() {
    let api = Api::new();
    let body = |customer: &str| json!({"process": "complaint", "data": {"customer": customer, "contact": "138", "channel": "app"}});
    api.post_with("/instances", "wang_fang", body("張三"), Some("once"))
        .await
        .ok();
    let p = api
        .post_with("/instances", "wang_fang", body("李四"), Some("once"))
        .await
        .problem(422);
    assert_eq!(p["type"], "urn:baton:problem:idempotency-key-reused", "{p}");
    assert_eq!(p["errors"][0]["field"], "Idempotency-Key", "{p}");
    // The same body is still the first answer.
    let again = api
        .post_with("/instances", "wang_fang", body("張三"), Some("once"))
        .await
        .ok();
    assert_eq!(again["replayed"], true);
}

/// Probation names its `employee`: a colleague may not apply for someone else.
#[tokio::test]
async fn naming_someone_else_is_422_with_the_require_message() {
    let api = Api::new();
    let p = api
        .post(
            "/instances",
            "zhang_wei",
            json!({"process": "probation", "data": {
                "employee": "wang_fang", "hired_on": "2025-12-01"
            }}),
        )
        .await
        .problem(422);
    assert_eq!(p["type"], "urn:baton:problem:requirement");
    assert_eq!(p["detail"], "只能為本人或本人直屬下屬申請轉正", "{p}");
}

#[tokio::test]
async fn a_definition_with_errors_is_422_with_its_diagnostics() {
    let api = Api::new();
    let source =
        "process broken {\n  step a {\n    task for nobody_role\n    next nowhere\n  }\n}\n";
    let p = api
        .post(
            "/definitions",
            ADMIN,
            json!({"file": "broken.flow", "source": source}),
        )
        .await
        .problem(422);
    assert_eq!(p["type"], "urn:baton:problem:definition");
    let diags = p["diagnostics"].as_array().expect("diagnostics");
    assert!(!diags.is_empty(), "{p}");
    for d in diags {
        assert_eq!(d["file"], "broken.flow");
        assert!(d["line"].as_u64().is_some_and(|l| l >= 1), "{d}");
        assert!(
            d["code"].as_str().is_some_and(|c| c.starts_with('E')),
            "{d}"
        );
    }
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(diags.len()));
    assert_eq!(p["errors"][0]["field"], "source");
    // Nothing was deployed.
    api.get("/definitions/broken", ADMIN).await.problem(404);
}

/// Strange paths, methods, headers and bodies: never a 500, never a panic.
#[tokio::test]
async fn no_input_gets_a_500() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "張三").await;
    let task = api.open_task(id);
    let paths = [
        "/".to_string(),
        "/instances".into(),
        format!("/instances/{id}"),
        format!("/instances/{id}/history"),
        format!("/instances/{id}/cancel"),
        "/instances/%FF".into(),
        "/instances/%00".into(),
        "/instances/1%2F2".into(),
        "/tasks".into(),
        format!("/tasks/{task}/claim"),
        format!("/tasks/{task}/complete"),
        format!("/tasks/{task}/reassign"),
        format!("/tasks/{task}/comment"),
        "/tasks/%E4%B8%AD-1/claim".into(),
        "/definitions".into(),
        "/definitions/complaint".into(),
        "/definitions/%FF%FE/source".into(),
        "/inbox".into(),
        "/inbox?limit=%FF".into(),
        "/instances?limit=1&limit=2".into(),
        "/tasks?role=%00".into(),
        "/healthz".into(),
        "/metrics".into(),
        "/openapi.json".into(),
        // The web pages.
        "/signin".into(),
        "/signout".into(),
        "/welcome/%FF".into(),
        format!("/my/tasks/{task}/claim"),
        "/my/tasks/%00/release".into(),
    ];
    // A page answers a refusal with a page (HTML) or sends the browser on.
    let page = |p: &str| {
        p == "/"
            || ["/signin", "/signout", "/welcome/", "/my/", "/admin/"]
                .iter()
                .any(|w| p.starts_with(w))
    };
    let bodies = [
        "".to_string(),
        "null".into(),
        "[]".into(),
        "\"text\"".into(),
        "{}".into(),
        "{\"process\": null, \"data\": null}".into(),
        "{\"process\": \"complaint\", \"data\": {\"customer\": {\"deep\": [[[[]]]]}}}".into(),
        "{\"choice\": \"\", \"data\": {\"severity\": null}}".into(),
        "{\"to\": \"\"}".into(),
        "{\"text\": \"\"}".into(),
        "{\"source\": \"\"}".into(),
        "\u{0}\u{1}".into(),
        "[".repeat(10_000),
        "{\"a\":".repeat(1000),
        "1e999999".into(),
    ];
    let tokens = [
        Some(format!("Bearer {}", api.token(ADMIN))),
        Some(format!("Bearer {}", api.token("wang_fang"))),
        Some("Bearer".into()),
        Some("Basic dXNlcjpwYXNz".into()),
        Some("Bearer baton_".into()),
        None,
    ];
    for path in &paths {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ] {
            for (i, body) in bodies.iter().enumerate() {
                let auth = &tokens[i % tokens.len()];
                let mut b = axum::http::Request::builder()
                    .method(method.clone())
                    .uri(path.as_str())
                    .header(header::CONTENT_TYPE, "application/json")
                    .header("Idempotency-Key", format!("k{i}"));
                if let Some(a) = auth {
                    b = b.header(header::AUTHORIZATION, a);
                }
                let a = api
                    .send(b.body(Body::from(body.clone())).expect("request"))
                    .await;
                assert!(
                    a.status.as_u16() < 500,
                    "{method} {path} with {body:.40}: {} {}",
                    a.status,
                    a.text
                );
                let html = a.content_type.starts_with("text/html");
                if page(path) && (html || a.status.is_redirection()) {
                    continue;
                }
                if !a.status.is_success() {
                    a.problem(a.status.as_u16());
                }
            }
        }
    }
}

#[tokio::test]
async fn a_required_field_sent_as_null_is_missing() {
    let api = Api::new();
    // A start field: one entry, the same as when it is left out.
    let p = api
        .post(
            "/instances",
            "wang_fang",
            json!({"process": "complaint", "data": {
                "customer": null, "contact": "138-0000-0000", "channel": "hotline"
            }}),
        )
        .await
        .problem(422);
    assert_eq!(
        p["errors"],
        json!([{"field": "customer", "message": "missing required field"}]),
        "{p}"
    );

    // A field the follow-up must fill.
    let id = api.start_complaint("wang_fang", "張三").await;
    let task = api.open_task(id);
    api.post(
        &format!("/tasks/{task}/complete"),
        "wang_fang",
        json!({"data": {"summary": "導遊遲到"}}),
    )
    .await
    .ok();
    let task = api.open_task(id);
    api.post(
        &format!("/tasks/{task}/complete"),
        "wang_fang",
        json!({"choice": "resolved"}),
    )
    .await
    .ok();
    let task = api.open_task(id);
    let p = api
        .post(
            &format!("/tasks/{task}/complete"),
            "wang_fang",
            json!({"data": {"satisfaction": null}}),
        )
        .await
        .problem(422);
    assert_eq!(
        p["errors"],
        json!([{"field": "satisfaction", "message": "missing required field"}]),
        "{p}"
    );
    let inst = api.get(&format!("/instances/{id}"), "wang_fang").await.ok();
    assert_eq!(inst["status"], "running", "{inst}");
    assert_eq!(api.open_task(id), task);
}

#[tokio::test]
async fn an_array_where_an_object_is_expected_is_400() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "張三").await;
    let task = api.open_task(id);
    let cases = [
        (
            "/instances".to_string(),
            "wang_fang",
            json!(["complaint", {"customer": "李四", "contact": "138", "channel": "hotline"}]),
        ),
        ("/tokens".to_string(), ADMIN, json!(["wang_fang"])),
        (
            format!("/tasks/{task}/comment"),
            "wang_fang",
            json!(["客戶來電"]),
        ),
        (
            format!("/tasks/{task}/complete"),
            "wang_fang",
            json!([null, {}]),
        ),
        (format!("/instances/{id}/cancel"), ADMIN, json!(["重複"])),
    ];
    for (path, who, body) in cases {
        let p = api.post(&path, who, body).await.problem(400);
        assert_eq!(p["errors"][0]["field"], "body", "{path}: {p}");
    }
    // Nothing happened: the instance runs, its first task open, without a comment.
    let inst = api.get(&format!("/instances/{id}"), "wang_fang").await.ok();
    assert_eq!(inst["status"], "running", "{inst}");
    assert_eq!(api.open_task(id), task);
    assert_eq!(
        api.get("/instances?limit=500", ADMIN).await.ok()["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn invalid_utf8_anywhere_in_a_body_is_400() {
    let api = Api::new();
    let mut body = b"{\"process\": \"complaint\", \"ignored\": \"".to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(
        "\", \"data\": {\"customer\": \"李四\", \"contact\": \"138\", \"channel\": \"hotline\"}}"
            .as_bytes(),
    );
    let req = api
        .request(Method::POST, "/instances", Some("wang_fang"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request");
    let p = api.send(req).await.problem(400);
    assert_eq!(p["errors"][0]["field"], "body", "{p}");
    assert!(p["detail"].as_str().unwrap_or("").contains("UTF-8"), "{p}");
    assert_eq!(
        api.get("/instances?limit=500", ADMIN).await.ok()["items"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}
