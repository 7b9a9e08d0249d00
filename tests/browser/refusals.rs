//! Refused forms: what was typed stays in the inputs, a field's message beside its
//! field, a process's `require` message at the top of the form.

use super::*;

/// Start a complaint from its form and carry it to the follow-up call.
pub(crate) async fn complaint_to_follow_up(c: &Client, base: &str, customer: &str) {
    c.goto(&format!("{base}/start/complaint"))
        .await
        .expect("start page");
    fill(c, "f-customer", customer).await;
    fill(c, "f-contact", "137-0000-3333").await;
    select(c, "f-channel", "app").await;
    press(c, "發起").await;
    open_task(c, base, "接受投訴").await;
    fill(c, "f-summary", "導覽耳機無法使用").await;
    select(c, "f-severity", "general").await;
    press(c, "完成").await;
    open_task(c, base, "解釋澄清").await;
    press(c, "客戶接受解釋").await;
    open_task(c, base, "回訪").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_form_keeps_what_was_typed_with_each_message_where_it_belongs() {
    let Some(d) = driver("a_refused_form_keeps_what_was_typed") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = processes_copy(tmp.path());
    let server = Server::start(&tmp.path().join("db"), &dir);
    let base = server.url.clone();
    let admin = server.admin_token();

    // On a phone, where a message beside its field must still fit.
    let wang = session(&d, 360, &base, &admin, "wang_fang").await;
    complaint_to_follow_up(&wang, &base, "鄭女士").await;
    // Satisfaction is 1 to 5. The browser itself refuses 9 before sending (the
    // input carries the range); switched off, as in a browser that does not check,
    // the server's answer is what the page shows.
    retype(&wang, "f-satisfaction", "9").await;
    wang.execute(
        "document.querySelectorAll('form').forEach(function (f) { f.noValidate = true; });",
        vec![],
    )
    .await
    .expect("js");
    press(&wang, "完成").await;
    let message = text(&wang, "#f-satisfaction-problem").await;
    assert!(
        message.contains('9') && message.contains('5') && message.contains("不在"),
        "the range and the value refused, in the page's language: {message}"
    );
    // Beside its field: in the same field block, named by the input as its
    // description.
    let beside = wang
        .find(Locator::XPath(
            "//div[contains(@class,'field')][.//*[@id='f-satisfaction']]/p[@id='f-satisfaction-problem']",
        ))
        .await
        .is_ok();
    assert!(
        beside,
        "the message is beside its field: {}",
        source(&wang).await
    );
    let described = find(&wang, Locator::Id("f-satisfaction"))
        .await
        .attr("aria-describedby")
        .await
        .expect("attr");
    assert_eq!(described.as_deref(), Some("f-satisfaction-problem"));
    assert_eq!(
        value(&wang, "f-satisfaction").await,
        "9",
        "what was typed stays"
    );
    // The top says there is something to fix below.
    assert_eq!(text(&wang, "main p.alert").await, "請修正以下標示的欄位。");
    shots_of(&wang, "task-refused-360").await;
    fits(&wang, "a refused task's page at 360 px").await;
    if let Some(axe) = super::accessibility::axe_source("a_refused_form_keeps_what_was_typed") {
        super::accessibility::check(&wang, &axe, "a refused task's page at 360 px").await;
    }
    // Put right, it goes through: back on my tasks, the follow-up done.
    retype(&wang, "f-satisfaction", "4").await;
    press(&wang, "完成").await;
    find(&wang, Locator::Css("#lists")).await;
    wang.goto(&format!("{base}/my/instances/1"))
        .await
        .expect("instance page");
    assert!(
        text(&wang, "main h1").await.contains("已結束：已結案"),
        "{}",
        source(&wang).await
    );

    // 張偉 may apply for his own promotion, or a supervisor for their team, but not
    // for a colleague: probation's first `require`, whatever the day of the month.
    let zhang = session(&d, 1280, &base, &admin, "zhang_wei").await;
    zhang
        .goto(&format!("{base}/start/probation"))
        .await
        .expect("start page");
    select(&zhang, "f-employee", "wang_fang").await;
    set_date(&zhang, "f-hired_on", "2020-01-06").await;
    retype(&zhang, "f-late_count", "2").await;
    press(&zhang, "發起").await;
    // At the top: the first thing in the page's main part after its title and
    // description, before the form.
    let top = find(
        &zhang,
        Locator::XPath("//main/form/preceding-sibling::p[@role='alert']"),
    )
    .await
    .text()
    .await
    .expect("text");
    assert_eq!(top, "只能為本人或本人直屬下屬申請轉正");
    // Nothing tied to a field: no field's message.
    let field_messages = zhang
        .find_all(Locator::Css("p.problem"))
        .await
        .expect("find");
    assert!(field_messages.is_empty(), "{}", source(&zhang).await);
    // What was chosen and typed is still there.
    assert_eq!(value(&zhang, "f-employee").await, "wang_fang");
    assert_eq!(value(&zhang, "f-hired_on").await, "2020-01-06");
    assert_eq!(value(&zhang, "f-late_count").await, "2");
    // Nothing was started: 王芳 has no application to fill in.
    wang.goto(&format!("{base}/")).await.expect("home");
    find(&wang, Locator::Css("#lists")).await;
    let page = source(&wang).await;
    assert!(!page.contains("填寫轉正申請表"), "{page}");

    wang.close().await.expect("close");
    zhang.close().await.expect("close");
    server.stop();
}
