//! A task's page beyond doing the task, as a browser uses it: comments, handing the
//! task on and asking for more time, each form only for those the engine lets
//! through; and the definition files a deploy refused, shown to admins.

mod common;

use axum::http::StatusCode;
use baton_engine::store::StoreError;
use common::browser::*;
use common::*;

const PASSWORD: &str = "西湖邊的第一個春天來了";

/// `person` invited and signed in.
async fn browser(api: &Api, person: &str) -> Browser {
    invited(api, person, PASSWORD).await;
    signed_in(api, person, PASSWORD).await
}

/// The line of the task's page that says whom it is for and when it is due.
fn meta(page: &str) -> &str {
    let at = page.find(r#"<p class="meta">"#).expect("whom it is for");
    let rest = &page[at..];
    &rest[..rest.find("</p>").expect("end")]
}

#[tokio::test]
async fn a_comment_shows_on_the_task_and_in_the_instance_timeline_by_name() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "錢先生").await;
    let task = api.open_task(id);
    let mut b = browser(&api, "wang_fang").await;
    let path = format!("/my/tasks/{task}");
    let page = b.get(&api, &path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains(r#"<label for="a-comment">"#),
        "{}",
        page.text
    );
    let comment = format!("{path}/comment");
    // Without the form's token: refused.
    let a = b.post(&api, &comment, &[("text", "沒有權杖")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let token = csrf(&page.text);
    // An empty comment: the page again with the engine's reason, not a failure.
    let a = b
        .post(&api, &comment, &[("csrf", &token), ("text", "   ")])
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert!(a.text.contains("a comment cannot be empty"), "{}", a.text);
    let a = b
        .post(
            &api,
            &comment,
            &[("csrf", &token), ("text", "客戶下午三點再來電")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    assert_eq!(location(&a), path);
    let page = b.get(&api, &path).await;
    let t = &page.text;
    assert!(
        t.contains("<strong>王芳</strong> 客戶下午三點再來電"),
        "the comment with its author: {t}"
    );
    assert!(
        t.contains("2026-03-02 10:00 +08:00"),
        "when, in the zone: {t}"
    );
    let inst = b.get(&api, &format!("/my/instances/{id}")).await;
    assert!(
        inst.text
            .contains("<strong>王芳</strong> 備註：客戶下午三點再來電"),
        "{}",
        inst.text
    );
    // Someone who takes no part may not comment.
    let mut other = browser(&api, "zhang_wei").await;
    let home = other.get(&api, "/").await;
    let a = other
        .post(
            &api,
            &comment,
            &[("csrf", &csrf(&home.text)), ("text", "路過")],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert!(a.text.contains("您沒有權限"), "{}", a.text);
    let history = api.engine.store.history(id).expect("history");
    assert!(!history.iter().any(|r| r.actor == "zhang_wei"));
}

#[tokio::test]
async fn only_those_allowed_see_hand_on_and_more_time_and_a_post_anyway_is_403() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "孫小姐").await;
    let task = api.open_task(id);
    let path = format!("/my/tasks/{task}");
    // The agent works on the task (more time) but, not holding it yet, may not
    // hand it on.
    let mut agent = browser(&api, "wang_fang").await;
    let page = agent.get(&api, &path).await;
    assert!(!page.text.contains("/reassign\""), "{}", page.text);
    assert!(page.text.contains("/extend\""), "{}", page.text);
    let a = agent
        .post(
            &api,
            &format!("{path}/reassign"),
            &[("csrf", &csrf(&page.text)), ("to", "zhang_wei")],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert!(a.text.contains("您沒有權限"), "{}", a.text);
    // Her supervisor may hand it on, but has no task of it to ask more time for.
    let mut lead = browser(&api, "chen_jing").await;
    let page = lead.get(&api, &path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("/reassign\""), "{}", page.text);
    assert!(!page.text.contains("/extend\""), "{}", page.text);
    let a = lead
        .post(
            &api,
            &format!("{path}/extend"),
            &[
                ("csrf", &csrf(&page.text)),
                ("what", "limit:settle"),
                ("amount", "2"),
                ("unit", "h"),
                ("customer_consents", "true"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert!(a.text.contains("您沒有權限"), "{}", a.text);
    let inst = api.engine.store.instance(id).expect("instance");
    assert_eq!(inst.limits[0].extended_minutes, 0);
    assert_eq!(
        inst.task(task.parse().expect("id"))
            .expect("task")
            .candidates
            .people,
        ["wang_fang"]
    );
}

#[tokio::test]
async fn a_supervisor_hands_the_task_on_and_the_page_names_the_new_person() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "周先生").await;
    let task = api.open_task(id);
    let path = format!("/my/tasks/{task}");
    let mut lead = browser(&api, "chen_jing").await;
    let page = lead.get(&api, &path).await;
    assert!(meta(&page.text).contains("王芳"), "{}", page.text);
    // The picker shows names, not ids.
    assert!(
        page.text
            .contains(r#"<option value="zhang_wei">張偉</option>"#),
        "{}",
        page.text
    );
    let token = csrf(&page.text);
    // Nobody picked: the engine's reason on the page.
    let a = lead
        .post(
            &api,
            &format!("{path}/reassign"),
            &[("csrf", &token), ("to", "")],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert!(a.text.contains("員工名錄中沒有"), "{}", a.text);
    let a = lead
        .post(
            &api,
            &format!("{path}/reassign"),
            &[("csrf", &token), ("to", "zhang_wei")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    assert_eq!(location(&a), path);
    let page = lead.get(&api, &path).await;
    let m = meta(&page.text);
    assert!(m.contains("張偉") && !m.contains("王芳"), "{m}");
    // The new person has it among their tasks.
    let mut new = browser(&api, "zhang_wei").await;
    let page = new.get(&api, &path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(meta(&page.text).contains("張偉"), "{}", page.text);
}

#[tokio::test]
async fn more_time_moves_the_due_time_shown_and_a_refusal_says_why() {
    let api = Api::new();
    let id = api.start_complaint("wang_fang", "吳女士").await;
    let task = api.open_task(id);
    let path = format!("/my/tasks/{task}");
    let mut b = browser(&api, "wang_fang").await;
    let page = b.get(&api, &path).await;
    let before = api
        .engine
        .store
        .instance(id)
        .expect("instance")
        .limits
        .first()
        .expect("the complaint's limit runs")
        .deadline;
    let shown = baton_engine::display::time(before, ZONE);
    assert!(meta(&page.text).contains(&shown), "{}", page.text);
    // The condition reads the customer's consent: it is asked along.
    assert!(
        page.text.contains(r#"name="customer_consents""#),
        "{}",
        page.text
    );
    let token = csrf(&page.text);
    let extend = format!("{path}/extend");
    // A checkbox sends its hidden "false" and, when ticked, "true".
    let form = |amount: &'static str, consent: &'static str| {
        [
            ("csrf", token.as_str()),
            ("what", "limit:settle"),
            ("amount", amount),
            ("unit", "h"),
            ("customer_consents", "false"),
            ("customer_consents", consent),
        ]
    };
    // Without the consent: refused, with the reason on the page.
    let a = b.post(&api, &extend, &form("2", "false")).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert!(a.text.contains("customer_consents"), "{}", a.text);
    assert!(a.text.contains(r#"role="alert""#), "{}", a.text);
    // Not a length of time.
    let a = b.post(&api, &extend, &form("兩", "true")).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert!(a.text.contains("not a length of time"), "{}", a.text);
    // With it: the deadline and the task's due time move by two hours.
    let a = b.post(&api, &extend, &form("2", "true")).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    assert_eq!(location(&a), path);
    let after = before + chrono::Duration::hours(2);
    let page = b.get(&api, &path).await;
    let m = meta(&page.text);
    assert!(
        m.contains(&baton_engine::display::time(after, ZONE)) && !m.contains(&shown),
        "{m}"
    );
    let inst = api.engine.store.instance(id).expect("instance");
    assert_eq!(inst.limits[0].deadline, after);
}

const SHIFT: &str = r#"
process shift "值班交接" {
  started by agent
  step handover "交接" {
    task for starter
    next done
  }
  end done
}
"#;

#[tokio::test]
async fn a_refused_file_shows_its_diagnostics_to_admins_until_it_is_fixed() {
    let api = Api::new();
    let folder = tempfile::tempdir().expect("temp dir");
    let file = folder.path().join("shift.flow");
    std::fs::write(&file, SHIFT.replace("next done", "next nowhere")).expect("write");
    let reports = api
        .engine
        .deploy_definitions(folder.path())
        .expect("deploys");
    let Err(StoreError::Definition(diags)) = &reports[0].result else {
        panic!("refused: {:?}", reports[0].result.as_ref().map(|r| &r.0));
    };
    let d = &diags[0];
    let mut admin = browser(&api, ADMIN).await;
    let page = admin.get(&api, "/processes").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let t = &page.text;
    assert!(t.contains("<code>shift.flow</code>"), "{t}");
    assert!(t.contains(&d.diagnostic.code.to_string()), "{t}");
    assert!(
        t.contains(&format!("第 {} 行第 {} 欄", d.line, d.column)),
        "{t}"
    );
    let pre = &t[t.find("<pre").expect("the source excerpt")..];
    assert!(pre.contains("nowhere"), "{pre}");
    // Staff see the processes, not the refusals.
    let mut staff = browser(&api, "wang_fang").await;
    let page = staff.get(&api, "/processes").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text.contains("shift.flow"), "{}", page.text);
    assert!(!page.text.contains("<pre"), "{}", page.text);
    // Fixed, it deploys, and the refusal is gone.
    std::fs::write(&file, SHIFT).expect("write");
    let reports = api
        .engine
        .deploy_definitions(folder.path())
        .expect("deploys");
    assert!(reports[0].result.is_ok());
    let page = admin.get(&api, "/processes").await;
    assert!(!page.text.contains("shift.flow"), "{}", page.text);
    assert!(page.text.contains("值班交接"), "{}", page.text);
    // A refused file taken out of the folder has nothing left to fix.
    let other = folder.path().join("handover.flow");
    std::fs::write(&other, "process handover {").expect("write");
    api.engine
        .deploy_definitions(folder.path())
        .expect("deploys");
    let page = admin.get(&api, "/processes").await;
    assert!(
        page.text.contains("<code>handover.flow</code>"),
        "{}",
        page.text
    );
    std::fs::remove_file(&other).expect("remove");
    api.engine
        .deploy_definitions(folder.path())
        .expect("deploys");
    let page = admin.get(&api, "/processes").await;
    assert!(!page.text.contains("handover.flow"), "{}", page.text);
}
