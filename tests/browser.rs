//! The web pages in a real headless Chromium, driven through chromedriver, against
//! the real `baton serve`: staff carry a complaint through its four stages by
//! clicking, a supervisor approves from a second session and sees the task arrive
//! without a reload, and the pages are photographed at a phone's and a desktop's
//! width (under `target/screenshots/`) without horizontal scrolling. Beside it, in
//! tests/browser/: refused forms, who may see what and the sign-in's defences, a
//! probation review signed by four people, and axe-core's accessibility checks on
//! every kind of page.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install -y chromium
//! chromium-driver fonts-noto-cjk`), and for the accessibility checks axe-core
//! (`npm ci --prefix tests/browser`). With `CI` set, a missing browser or axe-core
//! fails these tests; elsewhere they say they were not run and pass.

#[path = "support/mod.rs"]
mod support;
use support::*;

#[path = "browser/access.rs"]
mod access;
#[path = "browser/accessibility.rs"]
mod accessibility;
#[path = "browser/probation.rs"]
mod probation;
#[path = "browser/refusals.rs"]
mod refusals;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const INSTALL: &str = "apt-get install -y chromium chromium-driver fonts-noto-cjk";

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn found(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// chromedriver on a free port, or None (and why) when there is no browser here.
fn driver(test: &str) -> Option<Driver> {
    if !(found("chromedriver") && found("chromium")) {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: chromium and chromedriver are missing; CI installs them: {INSTALL}"
        );
        eprintln!("NOT RUN {test}: no chromium/chromedriver here; to run it: {INSTALL}");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let out = child.stdout.take().expect("stdout");
    // Dropped (and so stopped) if it never says it is ready.
    let d = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    // Ready once it says so (it prints this line when it listens).
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(out).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("started successfully"));
    assert!(ready, "chromedriver stopped before it was ready");
    // Whatever it prints later is read, so that it never writes to a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Some(d)
}

async fn browser(d: &Driver, width: u32) -> Client {
    let mut caps = serde_json::Map::new();
    let mut options = json!({ "args": [
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        format!("--window-size={},900", width.max(500)), "--lang=zh-TW"
    ], "prefs": { "intl.accept_languages": "zh-TW,zh" } });
    // A desktop window is at least 500 px wide: a phone's width is emulated.
    if width < 500 {
        options["mobileEmulation"] =
            json!({ "deviceMetrics": { "width": width, "height": 800, "pixelRatio": 1.0 } });
    }
    caps.insert("goog:chromeOptions".into(), options);
    ClientBuilder::rustls()
        .expect("tls")
        .capabilities(caps)
        .connect(&d.url)
        .await
        .expect("a browser session")
}

fn shots() -> PathBuf {
    let dir = root().join("target").join("screenshots");
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// Set a password through an invitation link, then sign in.
async fn sign_in(c: &Client, base: &str, admin: &str, person: &str) {
    let link = baton(base, admin, &["invite", person])
        .ok()
        .trim()
        .to_string();
    assert!(link.contains("/welcome/"), "{link}");
    c.goto(&link).await.expect("the invitation");
    let pw = "西湖邊的春天終於來了";
    fill(c, "password", pw).await;
    fill(c, "again", pw).await;
    c.find(Locator::Css("main button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    fill(c, "person", person).await;
    fill(c, "password", pw).await;
    c.find(Locator::Css("main button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::Css("#lists"))
        .await
        .expect("signed in: my tasks");
}

/// Pages load after a click: every find waits for its element (within a bound),
/// never for a length of time.
async fn find(c: &Client, at: Locator<'_>) -> fantoccini::elements::Element {
    let what = format!("{at:?}");
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(at)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

async fn fill(c: &Client, id: &str, text: &str) {
    find(c, Locator::Id(id))
        .await
        .send_keys(text)
        .await
        .expect("type");
}

async fn select(c: &Client, id: &str, value: &str) {
    find(c, Locator::Id(id))
        .await
        .select_by_value(value)
        .await
        .expect("select");
}

/// Open the task whose title is `title` from my tasks.
async fn open_task(c: &Client, base: &str, title: &str) {
    c.goto(&format!("{base}/")).await.expect("home");
    let Ok(link) = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::LinkText(title))
        .await
    else {
        let page = c.source().await.unwrap_or_default();
        panic!("no task {title} on the page: {page}");
    };
    link.click().await.expect("click");
}

async fn press(c: &Client, text: &str) {
    let Ok(button) = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::XPath(&format!(
            "//main//button[normalize-space()='{text}']"
        )))
        .await
    else {
        let page = c.source().await.unwrap_or_default();
        panic!("no button {text} on the page: {page}");
    };
    submit(c, button).await;
}

/// Click a button that sends its form, and wait for the page that answers (not
/// for a length of time): the page left behind is marked, so that nothing is read
/// from it by mistake.
async fn submit(c: &Client, button: fantoccini::elements::Element) {
    c.execute("document.body.dataset.left = '1';", vec![])
        .await
        .expect("js");
    button.click().await.expect("click");
    let answered = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("body:not([data-left])"))
        .await;
    if answered.is_err() {
        let page = c.source().await.unwrap_or_default();
        panic!("no page came back (did the browser hold the form back?): {page}");
    }
}

/// No horizontal scrolling at this width.
async fn fits(c: &Client, what: &str) {
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .expect("js");
    let (scroll, inner) = (v[0].as_f64().unwrap_or(0.0), v[1].as_f64().unwrap_or(0.0));
    assert!(
        scroll <= inner,
        "{what}: {scroll} px wide in a {inner} px window"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complaint_carried_through_by_clicking_with_the_supervisor_in_a_second_session() {
    let Some(d) = driver("a_complaint_carried_through_by_clicking") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = processes_copy(tmp.path());
    let server = Server::start(&tmp.path().join("db"), &dir);
    let base = server.url.clone();
    let admin = server.admin_token();

    let wang = browser(&d, 1280).await;
    sign_in(&wang, &base, &admin, "wang_fang").await;
    let chen = browser(&d, 360).await;
    sign_in(&chen, &base, &admin, "chen_jing").await;

    // 王芳 starts a complaint from its form.
    wang.goto(&format!("{base}/start/complaint"))
        .await
        .expect("start page");
    fill(&wang, "f-customer", "吳先生").await;
    fill(&wang, "f-contact", "137-0000-2222").await;
    select(&wang, "f-channel", "hotline").await;
    press(&wang, "發起").await;
    // Required fields are marked for the browser, which asks for them before
    // sending (the server's own messages are tested in server/tests/web.rs).
    open_task(&wang, &base, "接受投訴").await;
    let required = wang
        .find(Locator::Css("#f-summary[required]"))
        .await
        .is_ok();
    assert!(required, "the summary is required at this step");
    fill(&wang, "f-summary", "排隊過久").await;
    select(&wang, "f-severity", "general").await;
    press(&wang, "完成").await;
    open_task(&wang, &base, "解釋澄清").await;
    press(&wang, "需要解決方案").await;
    open_task(&wang, &base, "提出解決方案").await;
    shots_of(&wang, "task-page-1280").await;
    fits(&wang, "a task's page at 1280 px").await;
    fill(&wang, "f-solution", "贈送下次門票").await;
    // Not within her authority (the box left unticked): it goes to 陳靜.
    press(&wang, "完成").await;

    // 陳靜's open page shows the approval without a reload.
    chen.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::LinkText("主管審批"))
        .await
        .expect("the approval arrives on 陳靜's open page");
    shots_of(&chen, "my-tasks-360").await;
    fits(&chen, "my tasks at 360 px").await;
    chen.find(Locator::LinkText("主管審批"))
        .await
        .expect("link")
        .click()
        .await
        .expect("click");
    shots_of(&chen, "task-page-360").await;
    fits(&chen, "a task's page at 360 px").await;
    press(&chen, "同意方案").await;
    // Done: 陳靜 is back on her tasks.
    find(&chen, Locator::Css("#lists")).await;

    open_task(&wang, &base, "回訪").await;
    fill(&wang, "f-satisfaction", "5").await;
    press(&wang, "完成").await;
    shots_of(&wang, "my-tasks-1280").await;
    fits(&wang, "my tasks at 1280 px").await;

    // The history lists every step with who did it.
    wang.goto(&format!("{base}/my/instances/1"))
        .await
        .expect("instance page");
    let page = wang.source().await.expect("source");
    assert!(page.contains("已結束：已結案"), "{page}");
    for (who, what) in [
        ("王芳", "發起客戶投訴處理"),
        ("王芳", "進入「解釋澄清」"),
        ("陳靜", "完成任務：同意方案"),
        ("陳靜", "進入「回訪」"),
        ("王芳", "結束：已結案"),
    ] {
        assert!(
            page.contains(&format!("<strong>{who}</strong> {what}")),
            "{who} {what}: {page}"
        );
    }
    wang.close().await.expect("close");
    chen.close().await.expect("close");

    // 李明, the CS manager, reads the overview: this week's complaint figures are
    // what the history says.
    let li = session(&d, 1280, &base, &admin, "li_ming").await;
    li.goto(&format!("{base}/overview?process=complaint"))
        .await
        .expect("overview");
    find(&li, Locator::Css("table.figures")).await;
    let cells = li
        .execute(
            "return Array.from(document.querySelector('table.figures tbody tr') \
             .querySelectorAll('th,td')).map(function (c) { return c.textContent; });",
            vec![],
        )
        .await
        .expect("cells");
    let cells: Vec<String> = serde_json::from_value(cells).expect("texts");
    let history = support::baton(&base, &admin, &["history", "1", "--json"]);
    let history: serde_json::Value = serde_json::from_str(history.ok()).expect("json");
    let records = history.as_array().expect("records");
    let at = |r: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(r["at"].as_str().expect("at")).expect("a time")
    };
    let count = |e: &str| {
        records
            .iter()
            .filter(|r| r["event"].get(e).is_some())
            .count()
    };
    let started = at(&records[0]);
    let done = records
        .iter()
        .find(|r| r["event"].get("Completed").is_some())
        .expect("finished");
    let secs = (at(done) - started).num_seconds();
    let took = if secs < 60 {
        "不到 1 分鐘".to_string()
    } else {
        format!("{} 分鐘", secs / 60)
    };
    assert_eq!(
        cells[..6],
        [
            "客戶投訴處理".to_string(),
            count("Started").to_string(),
            count("Completed").to_string(),
            count("Cancelled").to_string(),
            took.clone(),
            took,
        ],
        "{cells:?}"
    );
    fits(&li, "the overview at 1280 px").await;
    shots_of(&li, "overview-1280").await;
    li.close().await.expect("close");
    server.stop();
}

async fn shots_of(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    std::fs::write(shots().join(format!("{name}.png")), png).expect("write");
}

/// A browser `width` px wide, signed in as `person`.
async fn session(d: &Driver, width: u32, base: &str, admin: &str, person: &str) -> Client {
    let c = browser(d, width).await;
    sign_in(&c, base, admin, person).await;
    c
}

/// The text of the first element `css` finds (waiting for it).
async fn text(c: &Client, css: &str) -> String {
    find(c, Locator::Css(css)).await.text().await.expect("text")
}

/// An input's current value.
async fn value(c: &Client, id: &str) -> String {
    find(c, Locator::Id(id))
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

/// Replace what an input holds (a refused form comes back with what was typed).
async fn retype(c: &Client, id: &str, text: &str) {
    let input = find(c, Locator::Id(id)).await;
    input.clear().await.expect("clear");
    input.send_keys(text).await.expect("type");
}

/// Set a date input's value: typed keys land in the parts of the date in the
/// order the browser's language shows them, which is not the ISO order everywhere.
async fn set_date(c: &Client, id: &str, iso: &str) {
    let input = find(c, Locator::Id(id)).await;
    let input = serde_json::to_value(&input).expect("element");
    let set = c
        .execute(
            "arguments[0].value = arguments[1]; return arguments[0].value;",
            vec![input, json!(iso)],
        )
        .await
        .expect("js");
    // A date the input cannot hold leaves it empty.
    assert_eq!(set, json!(iso), "{id} holds {iso}");
}

/// The path of the page the browser is on.
async fn path(c: &Client) -> String {
    c.current_url().await.expect("url").path().to_string()
}

/// The page's source, for a failed assertion's message.
async fn source(c: &Client) -> String {
    c.source().await.unwrap_or_default()
}
