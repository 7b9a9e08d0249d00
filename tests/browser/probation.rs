//! A probation review carried from the application to the general manager's
//! signature, each person in a browser of their own.

use super::*;

/// The one rule of probation.flow that depends on the day of the month: the
/// server runs on the real clock, so the copy under test leaves it out and the
/// review goes through on any day. (The rule itself is tested with a manual clock
/// in the engine's tests.)
const BY_THE_15TH: &str = "  require day(today) <= 15 \"申請須於每月15日（含）前提交\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probation_review_from_the_scores_through_every_signature() {
    let Some(d) = driver("a_probation_review_through_every_signature") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = processes_copy(tmp.path());
    let flow = dir.join("probation.flow");
    let source_text = std::fs::read_to_string(&flow).expect("probation.flow");
    assert!(
        source_text.contains(BY_THE_15TH),
        "probation.flow no longer has the rule on the 15th"
    );
    std::fs::write(&flow, source_text.replace(BY_THE_15TH, "")).expect("write");
    let server = Server::start(&tmp.path().join("db"), &dir);
    let base = server.url.clone();
    let admin = server.admin_token();

    // 陳靜 applies for 王芳, of her team.
    let chen = session(&d, 1280, &base, &admin, "chen_jing").await;
    chen.goto(&format!("{base}/start/probation"))
        .await
        .expect("start page");
    select(&chen, "f-employee", "wang_fang").await;
    set_date(&chen, "f-hired_on", "2020-01-06").await;
    press(&chen, "發起").await;
    find(&chen, Locator::Css("#lists")).await;

    // 王芳 fills in her application.
    let wang = session(&d, 360, &base, &admin, "wang_fang").await;
    open_task(&wang, &base, "填寫轉正申請表").await;
    fill(
        &wang,
        "f-self_review",
        "熟悉熱線與App受理流程，獨立處理投訴四十餘件",
    )
    .await;
    press(&wang, "完成").await;
    find(&wang, Locator::Css("#lists")).await;

    // Her supervisor's scores, and the attendance record confirmed.
    open_task(&chen, &base, "主管評估").await;
    fill(&chen, "f-opinion", "表現優秀，建議提前轉正").await;
    set_date(&chen, "f-proposed_date", "2020-03-01").await;
    fill(&chen, "f-salary", "6500").await;
    fill(&chen, "f-daily_score", "92").await;
    retype(&chen, "f-leave_count", "1").await;
    retype(&chen, "f-late_count", "0").await;
    press(&chen, "完成").await;
    find(&chen, Locator::Css("#lists")).await;

    // The quality supervisor's test, the customer-service manager's interview.
    let guo = session(&d, 1280, &base, &admin, "guo_peng").await;
    open_task(&guo, &base, "專業度測試（電話抽查測試＋試卷問答）").await;
    fill(&guo, "f-test_score", "95").await;
    press(&guo, "完成").await;
    find(&guo, Locator::Css("#lists")).await;
    guo.close().await.expect("close");
    let li = session(&d, 1280, &base, &admin, "li_ming").await;
    open_task(&li, &base, "面談考核").await;
    fill(&li, "f-interview_score", "90").await;
    press(&li, "完成").await;
    find(&li, Locator::Css("#lists")).await;

    // (92 + 95 + 90) / 3 is over 90: early promotion, signed in order by the
    // supervisor, the manager, HR and the general manager.
    let sign = |c: &Client| {
        let c = c.clone();
        let base = base.clone();
        async move {
            open_task(&c, &base, "簽字確認").await;
            press(&c, "簽署同意").await;
            find(&c, Locator::Css("#lists")).await;
        }
    };
    // A sign-off's form passes the accessibility checks too (when axe-core is here).
    if let Some(axe) = super::accessibility::axe_source("a_probation_review") {
        open_task(&chen, &base, "簽字確認").await;
        super::accessibility::check(&chen, &axe, "a sign-off's form").await;
    }
    sign(&chen).await;
    sign(&li).await;
    li.close().await.expect("close");
    let sun = session(&d, 1280, &base, &admin, "sun_li").await;
    sign(&sun).await;
    sun.close().await.expect("close");
    let zhao = session(&d, 1280, &base, &admin, "zhao_guoqiang").await;
    sign(&zhao).await;
    zhao.close().await.expect("close");

    chen.goto(&format!("{base}/my/instances/1"))
        .await
        .expect("instance page");
    let title = text(&chen, "main h1").await;
    assert!(
        title.contains("已結束：同意轉正"),
        "{}",
        source(&chen).await
    );
    let page = source(&chen).await;
    assert!(page.contains("<dd>提前轉正</dd>"), "the result: {page}");
    // Every signer by name, in the order they signed.
    let mut from = 0;
    for who in ["陳靜", "李明", "孫莉", "趙國強"] {
        let entry = format!("<strong>{who}</strong> 簽署同意");
        let Some(at) = page[from..].find(&entry) else {
            panic!("{entry}, after the signers before: {page}");
        };
        from += at + entry.len();
    }
    assert!(!page.contains("拒絕簽署"), "nobody refused: {page}");
    // 王芳 is told the outcome: the badge on her pages, the message in her inbox.
    wang.goto(&format!("{base}/my/inbox")).await.expect("inbox");
    let badge = text(&wang, "header .badge").await;
    assert_eq!(badge, "1", "{}", source(&wang).await);
    let inbox = text(&wang, "main").await;
    assert!(
        inbox.contains("您的轉正考核已完成，結果：提前轉正"),
        "{inbox}"
    );
    if let Some(axe) = super::accessibility::axe_source("a_probation_review") {
        super::accessibility::check(&wang, &axe, "the inbox with an unread message").await;
    }
    wang.close().await.expect("close");
    chen.close().await.expect("close");
    server.stop();
}
