//! A browser over the router for the web pages' tests: its cookies kept from each
//! answer, forms posted with the page's CSRF token, people invited and signed in.

use super::{Answer, Api, ADMIN};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};

/// A browser: its cookies, kept from each answer's `Set-Cookie`.
#[derive(Default)]
pub struct Browser {
    pub cookies: std::collections::BTreeMap<String, String>,
}

impl Browser {
    fn keep(&mut self, a: &Answer) {
        for v in a.headers.get_all(header::SET_COOKIE) {
            let v = v.to_str().expect("ascii");
            let (pair, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').expect("name=value");
            if val.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.into(), val.into());
            }
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, api: &Api, path: &str) -> Answer {
        let a = api
            .send(
                Request::builder()
                    .method(Method::GET)
                    .uri(path)
                    .header(header::COOKIE, self.cookie_header())
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        self.keep(&a);
        a
    }

    pub async fn post(&mut self, api: &Api, path: &str, form: &[(&str, &str)]) -> Answer {
        let body = serde_urlencoded::to_string(form).expect("form");
        let a = api
            .send(
                Request::builder()
                    .method(Method::POST)
                    .uri(path)
                    .header(header::COOKIE, self.cookie_header())
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .expect("request"),
            )
            .await;
        self.keep(&a);
        a
    }
}

/// The value of the hidden `csrf` input of a page.
pub fn csrf(page: &str) -> String {
    let at = page.find(r#"name="csrf" value=""#).expect("a csrf field");
    let rest = &page[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').expect("end")].to_string()
}

pub fn location(a: &Answer) -> &str {
    a.headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// An admin invites `person`; they set `password` through the link.
pub async fn invited(api: &Api, person: &str, password: &str) {
    let i = api
        .post("/invites", ADMIN, serde_json::json!({ "person": person }))
        .await;
    assert_eq!(i.status, StatusCode::CREATED, "{}", i.text);
    let path = i.json()["path"].as_str().expect("path").to_string();
    let mut b = Browser::default();
    let page = b.get(api, &path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let token = csrf(&page.text);
    let set = b
        .post(
            api,
            &path,
            &[
                ("csrf", &token),
                ("password", password),
                ("again", password),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.text);
}

/// Sign `person` in; the browser holds the session.
pub async fn signed_in(api: &Api, person: &str, password: &str) -> Browser {
    let mut b = Browser::default();
    let form = b.get(api, "/signin").await;
    let token = csrf(&form.text);
    let a = b
        .post(
            api,
            "/signin",
            &[("csrf", &token), ("person", person), ("password", password)],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    assert_eq!(location(&a), "/");
    b
}
