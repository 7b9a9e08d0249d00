//! Who may see what, and the sign-in's defences: a colleague's task is a 403 page,
//! a form without its CSRF token is refused, a browser without a session is sent
//! to sign in, and the sixth wrong password in a row is held back.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_colleagues_task_a_form_without_its_token_and_wrong_passwords_are_refused() {
    let Some(d) = driver("a_colleagues_task_a_form_without_its_token") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = processes_copy(tmp.path());
    let server = Server::start(&tmp.path().join("db"), &dir);
    let base = server.url.clone();
    let admin = server.admin_token();

    let wang = session(&d, 1280, &base, &admin, "wang_fang").await;
    wang.goto(&format!("{base}/start/complaint"))
        .await
        .expect("start page");
    fill(&wang, "f-customer", "林先生").await;
    fill(&wang, "f-contact", "137-0000-4444").await;
    select(&wang, "f-channel", "onsite").await;
    press(&wang, "發起").await;
    let link = find(&wang, Locator::LinkText("接受投訴"))
        .await
        .attr("href")
        .await
        .expect("attr")
        .expect("a link to the task");
    let task = format!("{base}{link}");

    // 張偉, an agent like her, opens 王芳's task by its address: refused.
    let zhang = session(&d, 1280, &base, &admin, "zhang_wei").await;
    zhang.goto(&task).await.expect("the task");
    assert_eq!(text(&zhang, "main h1").await, "403");
    assert_eq!(
        text(&zhang, "main p[role=alert]").await,
        "您沒有權限執行此操作。"
    );
    let page = source(&zhang).await;
    assert!(
        !page.contains("林先生"),
        "nothing of the task shows: {page}"
    );

    // A form sent without the session's CSRF token (as a form of another site
    // would be) is refused, and nothing is started.
    zhang
        .goto(&format!("{base}/start/complaint"))
        .await
        .expect("start page");
    fill(&zhang, "f-customer", "偽造的投訴").await;
    fill(&zhang, "f-contact", "000").await;
    select(&zhang, "f-channel", "app").await;
    let removed = zhang
        .execute(
            "var t = document.querySelectorAll('main form input[name=csrf]');\
             t.forEach(function (i) { i.remove(); }); return t.length;",
            vec![],
        )
        .await
        .expect("js");
    assert_eq!(removed, json!(1), "the form carried its token");
    press(&zhang, "發起").await;
    assert_eq!(text(&zhang, "main h1").await, "403");
    assert_eq!(
        text(&zhang, "main p[role=alert]").await,
        "表單已失效，請重新整理頁面後再試。"
    );
    zhang.goto(&format!("{base}/")).await.expect("home");
    find(&zhang, Locator::Css("#lists")).await;
    let page = source(&zhang).await;
    assert!(!page.contains("偽造的投訴"), "{page}");
    assert!(!page.contains("接受投訴"), "{page}");

    // A browser that never signed in asks for / and lands on the sign-in form.
    let stranger = browser(&d, 1280).await;
    stranger.goto(&format!("{base}/")).await.expect("home");
    find(&stranger, Locator::Id("password")).await;
    assert_eq!(path(&stranger).await, "/signin");
    assert_eq!(text(&stranger, "main h1").await, "登入");

    // Five wrong passwords are each told apart from nothing; the sixth in a row is
    // held back, and the page says for how long.
    for attempt in 1..=6 {
        retype(&stranger, "person", "zhang_wei").await;
        retype(&stranger, "password", &format!("猜錯的密碼第{attempt}次")).await;
        let button = find(&stranger, Locator::Css("main button[type=submit]")).await;
        submit(&stranger, button).await;
        let said = text(&stranger, "main p[role=alert]").await;
        if attempt <= 5 {
            assert_eq!(said, "員工編號或密碼不正確。", "attempt {attempt}");
        } else {
            assert!(
                said.starts_with("嘗試次數過多") && said.contains("分鐘後再試"),
                "attempt {attempt}: {said}"
            );
        }
    }
    // Still on the sign-in form, without a session.
    assert_eq!(path(&stranger).await, "/signin");
    stranger.goto(&format!("{base}/")).await.expect("home");
    find(&stranger, Locator::Id("password")).await;
    assert_eq!(path(&stranger).await, "/signin");

    wang.close().await.expect("close");
    zhang.close().await.expect("close");
    stranger.close().await.expect("close");
    server.stop();
}
