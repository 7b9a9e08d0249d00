//! The web pages over the router, as a browser uses them: an invitation, setting a
//! password, signing in, my tasks, claiming one, signing out; and every refusal
//! (CSRF, a wrong password, the throttle, an ended session) as its page.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::browser::*;
use common::*;

const PASSWORD: &str = "西湖邊的第一個春天來了";

#[tokio::test]
async fn an_invitation_sets_a_password_once_and_refuses_what_is_wrong() {
    let api = Api::new();
    let i = api
        .post(
            "/invites",
            "wang_fang",
            serde_json::json!({ "person": "zhang_wei" }),
        )
        .await;
    i.problem(403);
    let i = api
        .post(
            "/invites",
            ADMIN,
            serde_json::json!({ "person": "wang_fang" }),
        )
        .await;
    assert_eq!(i.status, StatusCode::CREATED, "{}", i.text);
    let v = i.json();
    let path = v["path"].as_str().expect("path").to_string();
    assert!(v["link"].as_str().expect("link").ends_with(&path));
    let mut b = Browser::default();
    let page = b.get(&api, &path).await;
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    assert!(
        page.text.contains("王芳"),
        "the page names the person: {}",
        page.text
    );
    let token = csrf(&page.text);
    // Two different passwords: the form again, with the reason.
    let a = b
        .post(
            &api,
            &path,
            &[
                ("csrf", &token),
                ("password", PASSWORD),
                ("again", "something else"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.text.contains("兩次輸入的密碼不同"), "{}", a.text);
    // Too short.
    let token = csrf(&a.text);
    let a = b
        .post(
            &api,
            &path,
            &[
                ("csrf", &token),
                ("password", "短密碼"),
                ("again", "短密碼"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.text.contains("至少要 10 個字元"), "{}", a.text);
    // Without the form's token.
    let a = b
        .post(&api, &path, &[("password", PASSWORD), ("again", PASSWORD)])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let token = csrf(&b.get(&api, &path).await.text);
    let a = b
        .post(
            &api,
            &path,
            &[
                ("csrf", &token),
                ("password", PASSWORD),
                ("again", PASSWORD),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    assert_eq!(location(&a), "/signin?welcome=1");
    // Used up.
    let again = b.get(&api, &path).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.text.contains("邀請連結無效"), "{}", again.text);
}

#[tokio::test]
async fn signing_in_shows_my_tasks_and_a_click_claims_one() {
    let api = Api::new();
    invited(&api, "wang_fang", PASSWORD).await;
    // Signed out: the pages send the browser to sign in.
    let mut stranger = Browser::default();
    let home = stranger.get(&api, "/").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&home), "/signin");
    let id = api.start_complaint("wang_fang", "趙先生").await;
    let task = api.open_task(id);
    let mut b = signed_in(&api, "wang_fang", PASSWORD).await;
    let session = b
        .cookies
        .get("baton_session")
        .expect("a session cookie")
        .clone();
    assert_eq!(session.len(), 64);
    let home = b.get(&api, "/").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text);
    let t = &home.text;
    assert!(
        t.contains("<title>(1) 我的任務"),
        "the count in the title: {t}"
    );
    assert!(t.contains("客戶投訴處理"), "the process's title: {t}");
    assert!(t.contains("接受投訴"), "the step's title: {t}");
    assert!(t.contains("趙先生"), "the instance's key data: {t}");
    assert!(
        t.contains("分鐘後到期"),
        "the due time as people say it: {t}"
    );
    assert!(!t.contains("wang_fang"), "names, not ids: {t}");
    // A click without the form's token is refused; with it, the task is claimed.
    let claim = format!("/my/tasks/{task}/claim");
    let a = b.post(&api, &claim, &[]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let token = csrf(&home.text);
    let a = b.post(&api, &claim, &[("csrf", &token)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    let inst = api.engine.store.instance(id).expect("instance");
    let t = inst.active_tasks().next().expect("task");
    assert_eq!(t.assignee.as_deref(), Some("wang_fang"));
    let home = b.get(&api, "/").await;
    assert!(
        home.text.contains("放回"),
        "a claimed task can be released: {}",
        home.text
    );
    // Someone else's task: the 403 page, in the pages' language.
    let mut other = {
        invited(&api, "zhang_wei", PASSWORD).await;
        signed_in(&api, "zhang_wei", PASSWORD).await
    };
    let their = other.get(&api, "/").await;
    let a = other
        .post(
            &api,
            &format!("/my/tasks/{task}/release"),
            &[("csrf", &csrf(&their.text))],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert!(a.text.contains("您沒有權限"), "{}", a.text);
    // Sign out: the session is over.
    let home = b.get(&api, "/").await;
    let a = b
        .post(&api, "/signout", &[("csrf", &csrf(&home.text))])
        .await;
    assert_eq!(location(&a), "/signin");
    assert!(!b.cookies.contains_key("baton_session"));
    b.cookies.insert("baton_session".into(), session);
    let home = b.get(&api, "/").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_wrong_password_says_nothing_about_the_person_and_the_sixth_is_held_back() {
    let api = Api::new();
    invited(&api, "wang_fang", PASSWORD).await;
    let mut b = Browser::default();
    let mut answers = Vec::new();
    for person in ["wang_fang", "no_such_person"] {
        let token = csrf(&b.get(&api, "/signin").await.text);
        let a = b
            .post(
                &api,
                "/signin",
                &[
                    ("csrf", &token),
                    ("person", person),
                    ("password", "not it at all"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(!b.cookies.contains_key("baton_session"));
        answers.push(a.text.replace(person, ""));
    }
    // The same page, whether the person exists or not (but for the token).
    let strip = |t: &str| t.replace(&csrf(t), "");
    assert_eq!(strip(&answers[0]), strip(&answers[1]));
    // Without the doubled token.
    let a = b
        .post(
            &api,
            "/signin",
            &[("person", "wang_fang"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // Four more wrong ones for 王芳 (five in all), then even the right one waits.
    for _ in 0..4 {
        let token = csrf(&b.get(&api, "/signin").await.text);
        b.post(
            &api,
            "/signin",
            &[
                ("csrf", &token),
                ("person", "wang_fang"),
                ("password", "wrong again!"),
            ],
        )
        .await;
    }
    let token = csrf(&b.get(&api, "/signin").await.text);
    let a = b
        .post(
            &api,
            "/signin",
            &[
                ("csrf", &token),
                ("person", "wang_fang"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.text);
    assert!(a.text.contains("嘗試次數過多"), "{}", a.text);
    // After the window, the right password signs in.
    api.clock.advance(chrono::Duration::minutes(16));
    signed_in(&api, "wang_fang", PASSWORD).await;
}

#[tokio::test]
async fn a_session_ends_when_idle_or_when_the_tokens_are_revoked() {
    let api = Api::new();
    invited(&api, "wang_fang", PASSWORD).await;
    let mut b = signed_in(&api, "wang_fang", PASSWORD).await;
    api.clock.advance(chrono::Duration::hours(7));
    assert_eq!(b.get(&api, "/").await.status, StatusCode::OK);
    api.clock.advance(chrono::Duration::hours(9));
    let a = b.get(&api, "/").await;
    assert_eq!(location(&a), "/signin?expired=1");
    let mut b = signed_in(&api, "wang_fang", PASSWORD).await;
    let r = api
        .send(
            api.request(Method::DELETE, "/tokens/wang_fang", Some(ADMIN))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let a = b.get(&api, "/").await;
    assert_eq!(location(&a), "/signin?expired=1");
}

#[tokio::test]
async fn english_for_a_browser_that_prefers_it() {
    let api = Api::new();
    let a = api
        .send(
            Request::builder()
                .uri("/signin")
                .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9,zh-TW;q=0.5")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert!(a.text.contains("<html lang=\"en\""), "{}", a.text);
    assert!(a.text.contains("Staff id"), "{}", a.text);
    let set_cookie = a.headers.get(header::SET_COOKIE).expect("cookie");
    let c = set_cookie.to_str().expect("ascii");
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict"),
        "{c}"
    );
}

#[tokio::test]
async fn a_task_is_done_on_its_page_and_a_wrong_value_keeps_what_was_typed() {
    let api = Api::new();
    invited(&api, "wang_fang", PASSWORD).await;
    let id = api.start_complaint("wang_fang", "趙先生").await;
    let task = api.open_task(id);
    let mut b = signed_in(&api, "wang_fang", PASSWORD).await;
    let home = b.get(&api, "/").await;
    assert!(
        home.text.contains(&format!("href=\"/my/tasks/{task}\"")),
        "{}",
        home.text
    );
    let page = b.get(&api, &format!("/my/tasks/{task}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let t = &page.text;
    assert!(t.contains("趙先生"), "the data so far: {t}");
    assert!(
        t.contains(r#"<textarea id="f-summary" name="summary""#),
        "text as a text area: {t}"
    );
    assert!(
        t.contains(r#"<select id="f-severity" name="severity" required"#),
        "a choice as a select: {t}"
    );
    // A value that is not one of the choices: the page again, the message beside the
    // field, the summary as typed.
    let token = csrf(t);
    let a = b
        .post(
            &api,
            &format!("/my/tasks/{task}"),
            &[
                ("csrf", &token),
                ("summary", "門票退款三張"),
                ("severity", "huge"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert!(a.text.contains("門票退款三張"), "kept: {}", a.text);
    assert!(
        a.text.contains(r#"id="f-severity-problem""#),
        "beside the field: {}",
        a.text
    );
    assert!(
        a.text.contains("「huge」不是可選的值") && !a.text.contains("is not one of"),
        "in the page's language: {}",
        a.text
    );
    let a = b
        .post(
            &api,
            &format!("/my/tasks/{task}"),
            &[
                ("csrf", &token),
                ("summary", "門票退款三張"),
                ("severity", "general"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    let inst = api.engine.store.instance(id).expect("instance");
    assert_eq!(inst.step.as_deref(), Some("explain"));
    // A choice is one button per outcome, with its label.
    let next = api.open_task(id);
    let page = b.get(&api, &format!("/my/tasks/{next}")).await;
    assert!(
        page.text
            .contains(r#"name="choice" value="resolved">客戶接受解釋</button>"#),
        "{}",
        page.text
    );
    let a = b
        .post(
            &api,
            &format!("/my/tasks/{next}"),
            &[("csrf", &csrf(&page.text)), ("choice", "resolved")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    // The finished task says so; another agent's browser gets the 403 page.
    let done = b.get(&api, &format!("/my/tasks/{next}")).await;
    assert!(done.text.contains("已經完成"), "{}", done.text);
    invited(&api, "zhang_wei", PASSWORD).await;
    let mut other = signed_in(&api, "zhang_wei", PASSWORD).await;
    let theirs = other.get(&api, &format!("/my/tasks/{task}")).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN, "{}", theirs.text);
}

#[tokio::test]
async fn a_process_is_started_from_its_form_and_a_refusal_says_why() {
    let api = Api::new();
    invited(&api, "wang_fang", PASSWORD).await;
    let mut b = signed_in(&api, "wang_fang", PASSWORD).await;
    let list = b.get(&api, "/start").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains("客戶投訴處理"), "{}", list.text);
    assert!(
        !list.text.contains("href=\"/start/hiring\""),
        "supervisors only: {}",
        list.text
    );
    assert_eq!(
        b.get(&api, "/start/hiring").await.status,
        StatusCode::FORBIDDEN
    );
    let form = b.get(&api, "/start/complaint").await;
    let f = &form.text;
    assert!(
        f.contains(r#"<select id="f-channel" name="channel" required"#),
        "{f}"
    );
    assert!(f.contains("熱線"), "choices by their labels: {f}");
    assert!(
        !f.contains("f-solution"),
        "a step fills the solution, not the starter: {f}"
    );
    // The severity has a default: not required.
    assert!(
        f.contains(r#"<select id="f-severity" name="severity" aria"#)
            || f.contains(r#"<select id="f-severity" name="severity">"#),
        "{f}"
    );
    let token = csrf(f);
    // The contact left out: the form again, the customer as typed.
    let a = b
        .post(
            &api,
            "/start/complaint",
            &[("csrf", &token), ("customer", "錢女士"), ("channel", "app")],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert!(a.text.contains("錢女士"), "{}", a.text);
    assert!(a.text.contains(r#"id="f-contact-problem""#), "{}", a.text);
    let a = b
        .post(
            &api,
            "/start/complaint",
            &[
                ("csrf", &token),
                ("customer", "錢女士"),
                ("contact", "139-0000-1111"),
                ("channel", "app"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    let home = b.get(&api, "/").await;
    assert!(home.text.contains("錢女士"), "{}", home.text);
    // A `require` refusal: its message at the top.
    let form = b.get(&api, "/start/probation").await;
    let a = b
        .post(
            &api,
            "/start/probation",
            &[
                ("csrf", &csrf(&form.text)),
                ("employee", "zhang_wei"),
                ("hired_on", "2026-01-05"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert!(
        a.text.contains("只能為本人或本人直屬下屬申請轉正"),
        "{}",
        a.text
    );
    assert!(
        a.text
            .contains("<option value=\"zhang_wei\" selected>張偉</option>"),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn my_tasks_arrive_on_the_open_page_without_a_reload() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let api = Api::new();
    invited(&api, "wang_fang", PASSWORD).await;
    let b = signed_in(&api, "wang_fang", PASSWORD).await;
    let home = {
        let mut b2 = Browser {
            cookies: b.cookies.clone(),
        };
        b2.get(&api, "/").await
    };
    assert!(
        home.text.contains("new EventSource('/my/events?seen='"),
        "{}",
        home.text
    );
    assert!(
        home.text.contains("<title>我的任務"),
        "no tasks yet: {}",
        home.text
    );
    let res = api
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri("/my/events")
                .header(header::COOKIE, b.cookie_header())
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut body = res.into_body();
    // A complaint started by 王芳 through the API: its first task is hers.
    api.start_complaint("wang_fang", "孫先生").await;
    let mut seen = String::new();
    // Bounded, so that a missing event fails the test instead of hanging it.
    let got = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.expect("frame").into_data() {
                seen.push_str(&String::from_utf8_lossy(&data));
                if seen.contains("event: tasks") && seen.contains("孫先生") {
                    return true;
                }
            }
        }
        false
    })
    .await;
    assert_eq!(got.ok(), Some(true), "{seen}");
    assert!(
        seen.contains("(1) 我的任務"),
        "the count for the title: {seen}"
    );
}

#[tokio::test]
async fn every_process_shows_its_diagram_drawn_by_the_binary_and_its_source() {
    let api = Api::new();
    invited(&api, "wang_fang", PASSWORD).await;
    let mut b = signed_in(&api, "wang_fang", PASSWORD).await;
    let list = b.get(&api, "/processes").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let names = api.engine.store.process_names();
    assert!(names.len() >= 8);
    for (name, _) in names {
        let (_, def) = api.engine.store.latest(&name).expect("latest");
        let title = def.title.clone().unwrap_or(name.clone());
        assert!(list.text.contains(&title), "{name} listed: {}", list.text);
        let page = b.get(&api, &format!("/processes/{name}")).await;
        assert_eq!(page.status, StatusCode::OK, "{name}");
        let t = &page.text;
        let svg = &t[t
            .find("<svg")
            .unwrap_or_else(|| panic!("{name}: no diagram"))..];
        let svg = &svg[..svg.find("</svg>").expect("closed")];
        // Every step is drawn, by its title.
        for s in &def.steps {
            let shown = s.title.as_deref().unwrap_or(&s.name);
            assert!(svg.contains(shown), "{name}: step {shown} not drawn");
        }
        assert!(t.contains(&format!("process {name}")), "{name}: the source");
    }
    assert_eq!(
        b.get(&api, "/processes/nothing").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get(&api, "/processes/complaint?version=99").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_instance_page_shows_its_history_and_where_it_stands_on_the_diagram() {
    let api = Api::new();
    invited(&api, "wang_fang", PASSWORD).await;
    let id = api.start_complaint("wang_fang", "周女士").await;
    let task = api.open_task(id);
    api.post(
        &format!("/tasks/{task}/complete"),
        "wang_fang",
        serde_json::json!({"data": {"summary": "導遊態度", "severity": "general"}}),
    )
    .await
    .ok();
    let mut b = signed_in(&api, "wang_fang", PASSWORD).await;
    let page = b.get(&api, &format!("/my/instances/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let t = &page.text;
    assert!(t.contains("目前在「解釋澄清」"), "where it stands: {t}");
    assert!(t.contains("周女士"), "its data: {t}");
    assert!(
        t.contains("接受投訴→回訪：2026-03-02 11:00 +08:00"),
        "the running limit and its deadline: {t}"
    );
    // The timeline: who did what, by name, in the company's zone.
    assert!(t.contains("發起客戶投訴處理"), "{t}");
    assert!(t.contains("<strong>王芳</strong> 完成任務"), "{t}");
    assert!(t.contains("+08:00"), "times in the company's zone: {t}");
    // The diagram: the current step filled, the step done lighter.
    let svg = &t[t.find("<svg").expect("a diagram")..];
    assert!(svg.contains("ffd166"), "the current step is marked");
    assert!(svg.contains("cfe8d5"), "the steps gone through are marked");
    // Someone who takes no part gets the 403 page.
    invited(&api, "liu_yang", PASSWORD).await;
    let mut other = signed_in(&api, "liu_yang", PASSWORD).await;
    assert_eq!(
        other.get(&api, &format!("/my/instances/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn action_items_are_typed_one_per_line_and_a_wrong_one_is_named_by_its_place() {
    let api = Api::at(sh(2026, 3, 6, 15, 0));
    let a = api
        .post(
            "/instances",
            ADMIN,
            serde_json::json!({"process": "weekly_hotspots", "data": {}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let id = a.json()["instance"]["id"].as_u64().expect("id");
    let task = api.open_task(id);
    invited(&api, "chen_jing", PASSWORD).await;
    let mut b = signed_in(&api, "chen_jing", PASSWORD).await;
    let page = b.get(&api, &format!("/my/tasks/{task}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("事項 | 負責人 | 完成期限"),
        "the element's fields in order: {}",
        page.text
    );
    let token = csrf(&page.text);
    let post = |items: &'static str| {
        vec![
            ("csrf", token.clone()),
            ("hotspots", "退款時效".to_string()),
            ("measures", "退款加急通道".to_string()),
            ("action_items", items.to_string()),
        ]
    };
    let form = post("上線 | wang_fang | 2026-03-10\n培訓 | nobody | 2026-03-11\n");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = b.post(&api, &format!("/my/tasks/{task}"), &form).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert!(
        a.text.contains("[1].owner: 員工名錄中沒有「nobody」"),
        "beside the list, with its place, in the page's language: {}",
        a.text
    );
    let form = post("上線 | wang_fang | 2026-03-10\n\n培訓 | zhang_wei | 2026-03-11\n");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = b.post(&api, &format!("/my/tasks/{task}"), &form).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    let inst = api.engine.store.instance(id).expect("instance");
    match inst.data.get("action_items") {
        Some(baton_dsl::eval::Value::List(xs)) => assert_eq!(xs.len(), 2),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_admin_resolves_incidents_from_their_page_and_staff_may_not_see_it() {
    let api = Api::new();
    let ids = stuck(&api, 3).await;
    invited(&api, ADMIN, PASSWORD).await;
    invited(&api, "wang_fang", PASSWORD).await;
    let mut staff = signed_in(&api, "wang_fang", PASSWORD).await;
    assert_eq!(
        staff.get(&api, "/admin/incidents").await.status,
        StatusCode::FORBIDDEN
    );
    let mut admin = signed_in(&api, ADMIN, PASSWORD).await;
    let page = admin.get(&api, "/admin/incidents").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let t = &page.text;
    for id in &ids {
        assert!(t.contains(&format!("href=\"/my/instances/{id}\"")), "{t}");
    }
    assert!(t.contains("修正測試"), "the process by its title: {t}");
    assert!(
        t.contains("<option value=\"review\">主管覆核</option>"),
        "steps by title: {t}"
    );
    let token = csrf(t);
    // A retry that still cannot go on says why, and the incident stays.
    let a = admin
        .post(
            &api,
            &format!("/admin/incidents/{}/retry", ids[0]),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert!(a.text.contains("role=\"alert\""), "{}", a.text);
    // Moved to the end, and cancelled with a reason: both leave the list.
    let a = admin
        .post(
            &api,
            &format!("/admin/incidents/{}/move", ids[1]),
            &[("csrf", &token), ("step", "done")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    let a = admin
        .post(
            &api,
            &format!("/admin/incidents/{}/cancel", ids[2]),
            &[("csrf", &token), ("reason", "客戶撤回")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    let left = api.engine.store.incidents(None, 10).expect("incidents");
    let left: Vec<u64> = left.items.iter().map(|i| i.instance).collect();
    assert_eq!(left, vec![ids[0]]);
    assert_eq!(
        api.engine
            .store
            .instance(ids[1])
            .expect("moved")
            .outcome
            .as_deref(),
        Some("done")
    );
    // Without the form's token: refused, nothing done.
    let a = admin
        .post(
            &api,
            &format!("/admin/incidents/{}/move", ids[0]),
            &[("step", "done")],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn notifications_unread_first_with_a_badge_on_every_page() {
    let api = Api::new();
    let ids = stuck(&api, 2).await;
    // What the delivery worker does in `baton serve`: hand messages to inboxes.
    let now = api.engine.clock.now();
    for rec in api.engine.store.undelivered(100).expect("outbox") {
        api.engine.store.hand_on(&rec, &[], now).expect("hand on");
    }
    invited(&api, ADMIN, PASSWORD).await;
    let mut admin = signed_in(&api, ADMIN, PASSWORD).await;
    let home = admin.get(&api, "/").await;
    assert!(
        home.text
            .contains(r#"<span class="badge" aria-label="2 則未讀">2</span>"#),
        "{}",
        home.text
    );
    let inbox = admin.get(&api, "/my/inbox").await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.text);
    for id in &ids {
        assert!(
            inbox.text.contains(&format!("href=\"/my/instances/{id}\"")),
            "{}",
            inbox.text
        );
    }
    assert_eq!(
        inbox.text.matches("class=\"unread\"").count(),
        2,
        "{}",
        inbox.text
    );
    // One read: it goes below the unread one, and the badge says 1.
    let msgs = api.engine.store.inbox(ADMIN, 0, 10).expect("inbox");
    let token = csrf(&inbox.text);
    let first = msgs[0].id.to_string();
    let a = admin
        .post(&api, "/my/inbox/read", &[("csrf", &token), ("id", &first)])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let inbox = admin.get(&api, "/my/inbox").await;
    assert_eq!(
        inbox.text.matches("class=\"unread\"").count(),
        1,
        "{}",
        inbox.text
    );
    assert!(inbox.text.contains(">1</span>"), "{}", inbox.text);
    // All read: no badge.
    let newest = msgs.iter().map(|m| m.id).max().expect("some").to_string();
    admin
        .post(
            &api,
            "/my/inbox/read",
            &[("csrf", &token), ("all", &newest)],
        )
        .await;
    let home = admin.get(&api, "/").await;
    assert!(!home.text.contains("class=\"badge\""), "{}", home.text);
    // Without the form's token nothing is marked.
    let a = admin.post(&api, "/my/inbox/read", &[("all", "999")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_long_list_shows_the_soonest_hundred_and_counts_the_rest() {
    let api = Api::new();
    for i in 0..103 {
        api.engine
            .store
            .execute_unflushed(
                None,
                &baton_engine::core::Command::Start {
                    process: "complaint".into(),
                    data: serde_json::json!({
                        "customer": format!("客戶{i}"), "contact": "1", "channel": "app"
                    })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                },
                "wang_fang",
                api.engine.clock.now(),
                None,
            )
            .expect("start");
    }
    api.engine.store.durable().expect("flush");
    invited(&api, "wang_fang", PASSWORD).await;
    let mut b = signed_in(&api, "wang_fang", PASSWORD).await;
    let home = b.get(&api, "/").await;
    assert!(
        home.text.contains("<title>(103) 我的任務"),
        "all counted: {}",
        &home.text[..400]
    );
    assert_eq!(
        home.text.matches("formaction=").count(),
        100,
        "the soonest hundred shown"
    );
    assert!(home.text.contains("另有 3 項"), "the rest counted");
    // One token for the list, not one per task.
    assert_eq!(
        home.text.matches("name=\"csrf\"").count(),
        2,
        "the list's and sign-out's"
    );
}
