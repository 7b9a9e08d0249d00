//! The OpenAPI document against the real router: every documented operation is
//! routed, no route takes a method the document does not list, the document lists
//! exactly the API's routes, every reference resolves, and the documented records
//! have exactly the members the engine's records serialize with.

mod common;

use axum::body::Body;
use axum::http::{header, Method};
use baton_engine::store::prelude::*;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                out.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// A path of the document with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "1-1")
        .replace("{name}", "complaint")
        // Nobody: revoking the admin's own tokens would answer 401 from then on.
        .replace("{person}", "nobody")
}

#[tokio::test]
async fn the_document_served_is_the_one_generated() {
    let api = Api::new();
    let req = api
        .request(Method::GET, "/openapi.json", None)
        .body(Body::empty())
        .expect("request");
    let served = api.send(req).await.ok();
    let generated = serde_json::to_value(baton_server::openapi()).expect("json");
    assert_eq!(served, generated);
    assert!(served["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.")));
}

#[tokio::test]
async fn the_document_lists_exactly_the_apis_routes() {
    let doc = serde_json::to_value(baton_server::openapi()).expect("json");
    let expected: BTreeSet<(String, String)> = [
        ("GET", "/definitions"),
        ("POST", "/definitions"),
        ("GET", "/definitions/{name}"),
        ("GET", "/definitions/{name}/source"),
        ("GET", "/definitions/{name}/diagram"),
        ("GET", "/definitions/{name}/labels"),
        ("GET", "/directory"),
        ("GET", "/instances"),
        ("POST", "/instances"),
        ("GET", "/instances/{id}"),
        ("GET", "/instances/{id}/history"),
        ("POST", "/instances/{id}/cancel"),
        ("POST", "/instances/{id}/limits/{name}/extend"),
        ("POST", "/instances/{id}/retry"),
        ("POST", "/instances/{id}/set"),
        ("POST", "/instances/{id}/move"),
        ("GET", "/incidents"),
        ("GET", "/tasks"),
        ("POST", "/tasks/{id}/claim"),
        ("POST", "/tasks/{id}/release"),
        ("POST", "/tasks/{id}/complete"),
        ("POST", "/tasks/{id}/reassign"),
        ("POST", "/tasks/{id}/comment"),
        ("POST", "/tasks/{id}/extend"),
        ("GET", "/inbox"),
        ("GET", "/outbox"),
        ("POST", "/tokens"),
        ("DELETE", "/tokens/{person}"),
        ("POST", "/invites"),
        ("GET", "/healthz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(operations(&doc), expected);
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_no_other_method_is() {
    let api = Api::new();
    let doc = serde_json::to_value(baton_server::openapi()).expect("json");
    let ops = operations(&doc);
    let paths: BTreeSet<&String> = ops.iter().map(|(_, p)| p).collect();
    for path in paths {
        for m in METHODS {
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).expect("method");
            let req = api
                .request(method.clone(), &concrete(path), Some(ADMIN))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .expect("request");
            let a = api.send(req).await;
            let documented = ops.contains(&(m.to_uppercase(), path.clone()));
            if documented {
                assert_ne!(
                    a.status.as_u16(),
                    405,
                    "{m} {path} is documented, not routed"
                );
                if a.status.as_u16() == 404 {
                    assert_ne!(
                        a.json()["detail"],
                        "no such route",
                        "{m} {path} is documented, not routed"
                    );
                }
            } else {
                assert_eq!(
                    a.status.as_u16(),
                    405,
                    "{m} {path} is routed, not documented: {}",
                    a.text
                );
            }
        }
    }
}

/// Routes reach the router only through `routes!`, which documents them: nothing
/// in the crate adds one any other way.
#[test]
fn no_route_bypasses_the_documentation() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.clone()];
    let mut checked = 0;
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(
                std::fs::read_dir(&p)
                    .expect("dir")
                    .filter_map(|e| e.ok().map(|e| e.path())),
            );
            continue;
        }
        // The web pages are HTML for browsers, not the API: they are routed apart
        // (`web::pages`) and have no place in the OpenAPI document.
        if p.starts_with(src.join("web")) {
            continue;
        }
        let text = std::fs::read_to_string(&p).expect("source");
        for bad in [
            ".route(",
            ".route_service(",
            ".nest(",
            ".nest_service(",
            "fallback_service(",
        ] {
            assert!(
                !text.contains(bad),
                "{} calls `{bad}`: register routes with `routes!`",
                p.display()
            );
        }
        checked += 1;
    }
    assert!(checked > 5);
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref" {
                    out.extend(v.as_str().map(str::to_string));
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_and_every_error_is_documented() {
    let doc = serde_json::to_value(baton_server::openapi()).expect("json");
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in &all {
        let pointer = r.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
    let public = ["/healthz", "/metrics", "/openapi.json"];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let responses = op["responses"].as_object().expect("responses");
            let has = |s: &str| responses.contains_key(s);
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{m} {path}: no success"
            );
            if public.contains(&path.as_str()) {
                assert_eq!(op["security"], json!([{}]), "{m} {path} is public");
                continue;
            }
            assert!(has("401"), "{m} {path}: 401 not documented");
            if path.contains('{') {
                assert!(has("404"), "{m} {path}: 404 not documented");
            }
            if op.get("requestBody").is_some() {
                for s in ["400", "413", "415"] {
                    assert!(has(s), "{m} {path}: {s} not documented");
                }
            }
            if m == "post" {
                let key = op["parameters"].as_array().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
                });
                assert!(key, "{m} {path}: Idempotency-Key not documented");
            }
            for (status, r) in responses {
                if !status.starts_with('2') {
                    let target = r["$ref"].as_str().expect("errors use the shared responses");
                    let resp = doc
                        .pointer(target.trim_start_matches('#'))
                        .expect("resolves");
                    assert!(
                        resp["content"].get("application/problem+json").is_some(),
                        "{target}"
                    );
                }
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer");
    // Operation ids are unique (client generators name functions after them).
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for m in METHODS {
            if let Some(id) = item.get(m).and_then(|op| op["operationId"].as_str()) {
                assert!(ids.insert(id.to_string()), "operationId `{id}` twice");
            }
        }
    }
    assert_eq!(ids.len(), operations(&doc).len());
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}

fn documented(doc: &Value, schema: &str) -> BTreeSet<String> {
    keys(&doc["components"]["schemas"][schema]["properties"])
}

/// The engine's records, as the API sends them, have exactly the documented members.
#[tokio::test]
async fn documented_records_match_what_is_sent() {
    let api = Api::new();
    let doc = serde_json::to_value(baton_server::openapi()).expect("json");
    let id = api.start_complaint("wang_fang", "張三").await;
    let t = api.open_task(id);
    let o = api
        .post(&format!("/tasks/{t}/claim"), "wang_fang", json!({}))
        .await
        .ok();
    api.post(
        &format!("/tasks/{t}/reassign"),
        "wang_fang",
        json!({"to": "zhang_wei"}),
    )
    .await
    .ok();
    let now = api.engine.clock.now();
    for rec in api.engine.store.undelivered(100).expect("outbox") {
        api.engine.store.hand_on(&rec, &[], now).expect("hand on");
    }
    let inbox = api.get("/inbox", "zhang_wei").await.ok();
    let history = api
        .get(&format!("/instances/{id}/history"), "wang_fang")
        .await
        .ok();
    let names = api.get("/directory", "wang_fang").await.ok();
    let labels = api
        .get("/definitions/complaint/labels", "wang_fang")
        .await
        .ok();
    let health = api.get("/healthz", "wang_fang").await.ok();
    // A field's label has its choices, or a list's its elements' kinds: together,
    // a choice field's and a list field's members.
    let weekly = api
        .get("/definitions/weekly_hotspots/labels", "wang_fang")
        .await
        .ok();
    let mut field_labels = labels["fields"]["channel"].clone();
    if let (Some(m), Some(list)) = (
        field_labels.as_object_mut(),
        weekly["fields"]["action_items"].as_object(),
    ) {
        m.extend(list.clone());
    }
    assert_eq!(field_labels["kind"], "list", "{weekly}");
    for (schema, value) in [
        ("Outcome", &o),
        ("Instance", &o["instance"]),
        ("Task", &o["instance"]["tasks"][0]),
        ("TaskId", &o["instance"]["tasks"][0]["id"]),
        ("Candidates", &o["instance"]["tasks"][0]["candidates"]),
        ("Record", &history["items"][0]),
        ("Notification", &inbox["items"][0]),
        ("Names", &names),
        ("Labels", &labels),
        ("FieldLabel", &field_labels),
        ("StepLabel", &labels["steps"]["explain"]),
        ("Health", &health),
    ] {
        assert_eq!(keys(value), documented(&doc, schema), "{schema}: {value}");
    }
    // An instance as shown: the instance's members, its sign-offs and what it waits for.
    let shown = api.get(&format!("/instances/{id}"), "wang_fang").await.ok();
    let mut expected = documented(&doc, "Instance");
    let extra = keys(&doc["components"]["schemas"]["ShownInstance"]["allOf"][1]["properties"]);
    assert_eq!(
        extra,
        [
            "incident".to_string(),
            "signoffs".to_string(),
            "waiting_for".to_string()
        ]
        .into()
    );
    expected.extend(extra);
    assert_eq!(keys(&shown), expected, "{shown}");
    let problem = api.get("/instances/999", ADMIN).await.problem(404);
    let documented_problem = documented(&doc, "Problem");
    assert!(keys(&problem).is_subset(&documented_problem));
}

/// What the server enforces on its inputs is in the document, and the server agrees
/// with the document at the edges: `limit` 1 to 500, `Idempotency-Key` 1 to 255
/// visible ASCII characters, `cursor` hex pairs, `state` one of its words, and the
/// cancel body optional (none, `{}` or `null`).
#[tokio::test]
async fn the_document_states_the_limits_the_server_enforces() {
    let doc = serde_json::to_value(baton_server::openapi()).expect("json");
    let mut seen = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            for p in op["parameters"].as_array().into_iter().flatten() {
                let s = &p["schema"];
                let name = p["name"].as_str().unwrap_or("");
                let at = format!("{m} {path} {name}");
                match name {
                    "limit" => {
                        assert_eq!(
                            (&s["minimum"], &s["maximum"]),
                            (&json!(1), &json!(500)),
                            "{at}"
                        );
                    }
                    "Idempotency-Key" => {
                        assert_eq!(
                            (&s["minLength"], &s["maxLength"]),
                            (&json!(1), &json!(255)),
                            "{at}"
                        );
                        assert_eq!(s["pattern"], "^[\\x21-\\x7E]+$", "{at}");
                    }
                    "cursor" => assert_eq!(s["pattern"], "^([0-9a-f]{2}){1,1024}$", "{at}"),
                    "state" => assert!(s["enum"].is_array(), "{at}: {s}"),
                    _ => continue,
                }
                seen.insert(name.to_string());
            }
        }
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    let cancel = &doc["paths"]["/instances/{id}/cancel"]["post"]["requestBody"];
    assert_ne!(cancel["required"], true, "{cancel}");

    let api = Api::new();
    for (path, status) in [
        ("/tasks?limit=1", 200),
        ("/tasks?limit=500", 200),
        ("/tasks?limit=0", 400),
        ("/tasks?limit=501", 400),
        ("/tasks?state=open", 200),
        ("/tasks?state=done", 400),
    ] {
        assert_eq!(api.get(path, ADMIN).await.status.as_u16(), status, "{path}");
    }
    for (key, status) in [
        ("~".repeat(255), 201),
        ("!".repeat(256), 400),
        ("a b".to_string(), 400),
    ] {
        let body = json!({"process": "complaint", "data": {"customer": "張三", "contact": "138", "channel": "app"}});
        let a = api
            .post_with("/instances", "wang_fang", body, Some(&key))
            .await;
        assert_eq!(a.status.as_u16(), status, "{key}: {}", a.text);
    }
    let id = api.start_complaint("wang_fang", "李四").await;
    let req = api
        .request(
            Method::POST,
            &format!("/instances/{id}/cancel"),
            Some("wang_fang"),
        )
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("null"))
        .expect("request");
    api.send(req).await.ok();
}
