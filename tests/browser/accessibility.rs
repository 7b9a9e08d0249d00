//! axe-core's accessibility checks (WCAG 2.x A and AA, and its best practices) on
//! every kind of page: none may find a serious or critical violation.

use super::*;

const AXE_INSTALL: &str = "npm ci --prefix tests/browser";

/// A record, then a review by the handler's supervisor: started for the general
/// manager, who has none, it cannot go on after the record and is an incident for
/// the administrator's page.
const STUCK: &str = r#"
process stuck "主管覆核測試" {
  started by agent
  data {
    customer text   "客戶"
    handler  person "經辦人"
  }
  step record "登記" {
    task for starter
    next review
  }
  step review "主管覆核" {
    task for supervisor of handler
    fill resolution: text
    next done
  }
  end done "完成"
}
"#;

/// axe-core's script, as pinned in tests/browser/package-lock.json, or None (and
/// why) when it is not installed here.
pub(crate) fn axe_source(test: &str) -> Option<String> {
    let path = root()
        .join("tests")
        .join("browser")
        .join("node_modules")
        .join("axe-core")
        .join("axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: axe-core is missing ({}: {e}); CI installs it: {AXE_INSTALL}",
                path.display()
            );
            eprintln!("NOT RUN {test}: axe-core is not installed here; to run it: {AXE_INSTALL}");
            None
        }
    }
}

/// Run axe on the page the browser is on; panics with each serious or critical
/// violation, its rule, why, and the elements it found.
pub(crate) async fn check(c: &Client, axe: &str, what: &str) {
    c.execute(&format!("{axe}\nreturn typeof window.axe;"), vec![])
        .await
        .expect("axe-core loads");
    let found = c
        .execute_async(
            "var done = arguments[arguments.length - 1];\
             axe.run(document, { resultTypes: ['violations'] }).then(function (r) {\
               done({ passed: r.passes.length, violations: r.violations.map(function (v) {\
                 return { id: v.id, impact: v.impact, help: v.help,\
                   nodes: v.nodes.map(function (n) {\
                     return n.target.join(' ') + ': ' + (n.failureSummary || '');\
                   })\
                 };\
               }) });\
             }).catch(function (e) { done({ error: String(e) }); });",
            vec![],
        )
        .await
        .expect("axe runs");
    let (Some(violations), Some(passed)) =
        (found["violations"].as_array(), found["passed"].as_u64())
    else {
        panic!("{what}: axe failed: {found}");
    };
    // Something was checked: an empty answer from a page axe could not read would
    // pass otherwise.
    assert!(passed > 0, "{what}: axe checked nothing");
    let described = |v: &serde_json::Value| {
        let nodes: Vec<&str> = v["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str())
            .collect();
        format!(
            "{} ({}): {}\n    {}",
            v["id"].as_str().unwrap_or(""),
            v["impact"].as_str().unwrap_or(""),
            v["help"].as_str().unwrap_or(""),
            nodes.join("\n    ")
        )
    };
    let (bad, minor): (Vec<_>, Vec<_>) = violations
        .iter()
        .partition(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")));
    // Moderate and minor findings are shown, not failed on.
    for v in &minor {
        eprintln!("{what}: {}", described(v));
    }
    let bad: Vec<String> = bad.into_iter().map(described).collect();
    assert!(
        bad.is_empty(),
        "{what} ({}): {} serious or critical accessibility violations:\n{}",
        path(c).await,
        bad.len(),
        bad.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_page_passes_axe_without_serious_violations() {
    let Some(d) = driver("every_kind_of_page_passes_axe") else {
        return;
    };
    let Some(axe) = axe_source("every_kind_of_page_passes_axe") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = processes_copy(tmp.path());
    std::fs::write(dir.join("stuck.flow"), STUCK).expect("stuck.flow");
    let server = Server::start(&tmp.path().join("db"), &dir);
    let base = server.url.clone();
    let admin = server.admin_token();

    // Signed out: the sign-in form, and the form with a failed attempt's message.
    let stranger = browser(&d, 1280).await;
    stranger
        .goto(&format!("{base}/signin"))
        .await
        .expect("sign-in");
    find(&stranger, Locator::Id("password")).await;
    check(&stranger, &axe, "the sign-in form").await;
    fill(&stranger, "person", "wang_fang").await;
    fill(&stranger, "password", "不是這個密碼").await;
    let button = find(&stranger, Locator::Css("main button[type=submit]")).await;
    submit(&stranger, button).await;
    check(&stranger, &axe, "the sign-in form after a wrong password").await;
    stranger.close().await.expect("close");

    let wang = session(&d, 1280, &base, &admin, "wang_fang").await;
    check(&wang, &axe, "my tasks, none yet").await;
    for (at, what) in [
        ("/start", "the processes I may start"),
        ("/start/complaint", "a start form"),
        ("/processes", "the processes"),
        ("/processes/complaint", "a process's page"),
    ] {
        wang.goto(&format!("{base}{at}")).await.expect(at);
        find(&wang, Locator::Css("main h1")).await;
        check(&wang, &axe, what).await;
    }
    // A complaint carried to its follow-up call: tasks on my tasks, a task's page
    // with a form, the same form refused, an instance's page with its history.
    super::refusals::complaint_to_follow_up(&wang, &base, "馮先生").await;
    let task = path(&wang).await;
    check(&wang, &axe, "a task's page").await;
    wang.execute(
        "document.querySelectorAll('form').forEach(function (f) { f.noValidate = true; });",
        vec![],
    )
    .await
    .expect("js");
    retype(&wang, "f-satisfaction", "0").await;
    press(&wang, "完成").await;
    find(&wang, Locator::Id("f-satisfaction-problem")).await;
    check(&wang, &axe, "a refused task's page").await;
    wang.goto(&format!("{base}/")).await.expect("home");
    find(&wang, Locator::LinkText("回訪")).await;
    check(&wang, &axe, "my tasks").await;
    wang.goto(&format!("{base}/my/instances/1"))
        .await
        .expect("instance");
    find(&wang, Locator::Css("ol.timeline")).await;
    check(&wang, &axe, "an instance's page").await;
    wang.goto(&format!("{base}/my/inbox")).await.expect("inbox");
    find(&wang, Locator::Css("main h1")).await;
    check(&wang, &axe, "the inbox").await;
    // An instance that cannot go on, for the incidents' page below.
    wang.goto(&format!("{base}/start/stuck"))
        .await
        .expect("start");
    fill(&wang, "f-customer", "陸小姐").await;
    select(&wang, "f-handler", "zhao_guoqiang").await;
    press(&wang, "發起").await;
    open_task(&wang, &base, "登記").await;
    press(&wang, "完成").await;
    // A refusal's page.
    wang.goto(&format!("{base}/my/instances/999"))
        .await
        .expect("missing");
    find(&wang, Locator::Css("main h1")).await;
    check(&wang, &axe, "a refusal's page").await;
    wang.close().await.expect("close");

    // The administrator's incidents. (A sign-off's form is checked in the
    // probation review.)
    let jiang = session(&d, 1280, &base, &admin, "jiang_hui").await;
    jiang
        .goto(&format!("{base}/admin/incidents"))
        .await
        .expect("incidents");
    find(&jiang, Locator::Css("section.incident")).await;
    check(&jiang, &axe, "the incidents").await;
    jiang
        .goto(&format!("{base}/overview"))
        .await
        .expect("overview");
    find(&jiang, Locator::Css("table.figures")).await;
    check(&jiang, &axe, "the managers' overview").await;
    jiang.close().await.expect("close");

    // The same pages on a phone: nothing scrolls sideways, and what the narrow
    // layout changes passes too.
    let stranger = browser(&d, 360).await;
    stranger
        .goto(&format!("{base}/signin"))
        .await
        .expect("sign-in");
    find(&stranger, Locator::Id("password")).await;
    on_a_phone(&stranger, &axe, "the sign-in form").await;
    stranger.close().await.expect("close");
    let wang = session(&d, 360, &base, &admin, "wang_fang").await;
    for (at, what) in [
        ("/", "my tasks"),
        (task.as_str(), "a task's page"),
        ("/start", "the processes I may start"),
        ("/start/complaint", "a start form"),
        ("/processes", "the processes"),
        ("/processes/complaint", "a process's page"),
        ("/my/instances/1", "an instance's page"),
        ("/my/instances/2", "an instance with an incident"),
        ("/my/inbox", "the inbox"),
    ] {
        wang.goto(&format!("{base}{at}")).await.expect(at);
        find(&wang, Locator::Css("main h1")).await;
        on_a_phone(&wang, &axe, what).await;
    }
    wang.close().await.expect("close");
    let jiang = session(&d, 360, &base, &admin, "jiang_hui").await;
    jiang
        .goto(&format!("{base}/admin/incidents"))
        .await
        .expect("incidents");
    find(&jiang, Locator::Css("section.incident")).await;
    on_a_phone(&jiang, &axe, "the incidents").await;
    jiang
        .goto(&format!("{base}/overview"))
        .await
        .expect("overview");
    find(&jiang, Locator::Css("table.figures")).await;
    on_a_phone(&jiang, &axe, "the managers' overview").await;
    jiang.close().await.expect("close");
    server.stop();
}

/// At 360 px: no horizontal scrolling, and axe's checks.
async fn on_a_phone(c: &Client, axe: &str, what: &str) {
    let what = format!("{what} at 360 px");
    fits(c, &what).await;
    check(c, axe, &what).await;
}
