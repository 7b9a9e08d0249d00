//! The managers' overview as a manager reads it: its figures (and its CSV's) equal
//! those computed here from the histories; filters by process and department; only
//! managers and admins see it.

mod common;

use axum::http::StatusCode;
use baton_engine::core::Event;
use baton_engine::store::prelude::*;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use common::browser::*;
use common::*;
use std::collections::BTreeMap;

const PASSWORD: &str = "西湖邊的第一個春天來了";

/// The API with the CS manager among the overview's readers.
fn api() -> Api {
    let mut api = Api::new();
    api.state = api.state.clone().with_web(baton_server::web::Settings {
        managers: vec!["cs_manager".into()],
        ..Default::default()
    });
    api.router = baton_server::app(api.state.clone());
    api
}

async fn complete(api: &Api, task: &str, as_: &str, body: serde_json::Value) {
    let a = api
        .post(&format!("/tasks/{task}/complete"), as_, body)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
}

/// Accept a complaint (a general one) and explain it away: it is then at the
/// call-back.
async fn accept_and_explain(api: &Api, id: u64) {
    let t = api.open_task(id);
    complete(
        api,
        &t,
        "wang_fang",
        serde_json::json!({"data": {"summary": "門票退款", "severity": "general"}}),
    )
    .await;
    let t = api.open_task(id);
    complete(
        api,
        &t,
        "wang_fang",
        serde_json::json!({"choice": "resolved"}),
    )
    .await;
}

async fn call_back(api: &Api, id: u64) {
    let t = api.open_task(id);
    complete(
        api,
        &t,
        "wang_fang",
        serde_json::json!({"data": {"satisfaction": 4}}),
    )
    .await;
}

/// What the history says of one period, as the overview should show it.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    started: u32,
    finished: u32,
    cancelled: u32,
    minutes: Vec<u64>,
    breached: BTreeMap<String, u32>,
}

/// The nearest-rank percentile of whole minutes (rounded down).
fn rank(minutes: &[u64], p: usize) -> String {
    if minutes.is_empty() {
        return String::new();
    }
    let mut m = minutes.to_vec();
    m.sort_unstable();
    let r = (p * m.len()).div_ceil(100).max(1);
    m[r - 1].to_string()
}

/// Every complaint's history, counted from `from` (a day in the company's zone).
fn from_histories(api: &Api, ids: &[u64], from: NaiveDate) -> Expected {
    let store = &api.engine.store;
    let mut e = Expected::default();
    let day = |t: DateTime<Utc>| t.with_timezone(&ZONE).date_naive();
    for id in ids {
        let history = store.history(*id).expect("history");
        let started = history[0].at;
        for r in &history {
            if day(r.at) < from {
                continue;
            }
            match &r.event {
                Event::Started { .. } => e.started += 1,
                Event::Completed { .. } => {
                    e.finished += 1;
                    let secs = (r.at - started).num_seconds() as u64;
                    e.minutes.push(secs / 60);
                }
                Event::Cancelled { .. } => e.cancelled += 1,
                Event::LimitBreached { name } => {
                    *e.breached.entry(name.clone()).or_default() += 1;
                }
                _ => {}
            }
        }
    }
    e
}

/// The CSV's rows as field lists (none of these fields is quoted).
fn csv_rows(csv: &str) -> Vec<Vec<String>> {
    csv.trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[tokio::test]
async fn the_overview_shows_what_the_histories_say() {
    let api = api();
    let t0 = baton_engine::clock::Clock::now(&api.clock);
    // Monday morning: four complaints.
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(api.start_complaint("wang_fang", &format!("客戶{n}")).await);
    }
    api.clock.advance(Duration::minutes(5));
    for id in &ids {
        accept_and_explain(&api, *id).await;
    }
    api.clock.advance(Duration::minutes(15));
    call_back(&api, ids[0]).await;
    // Past the hour: the others breach the complaint's limit.
    api.clock.advance(Duration::minutes(50));
    api.engine.fire_due().expect("fire");
    api.clock.advance(Duration::minutes(20));
    call_back(&api, ids[1]).await;
    let cancel = api
        .post(
            &format!("/instances/{}/cancel", ids[2]),
            "wang_fang",
            serde_json::json!({"reason": "重複登記"}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.text);
    // Tuesday: one more, finished within minutes.
    api.clock.advance(Duration::hours(23));
    let late = api.start_complaint("wang_fang", "客戶4").await;
    ids.push(late);
    api.clock.advance(Duration::minutes(3));
    accept_and_explain(&api, late).await;
    api.clock.advance(Duration::minutes(4));
    call_back(&api, late).await;

    invited(&api, "li_ming", PASSWORD).await;
    let mut manager = signed_in(&api, "li_ming", PASSWORD).await;
    let csv = manager.get(&api, "/overview.csv?process=complaint").await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert!(csv.content_type.starts_with("text/csv"));
    let rows = csv_rows(&csv.text);

    let today = baton_engine::clock::Clock::now(&api.clock)
        .with_timezone(&ZONE)
        .date_naive();
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let first = today.with_day(1).expect("the first");
    for (period, from) in [("week", monday), ("month", first)] {
        let want = from_histories(&api, &ids, from);
        assert!(want.finished >= 3 && want.cancelled == 1 && !want.breached.is_empty());
        let row = rows
            .iter()
            .find(|r| r[0] == "complaint" && r[2] == period)
            .unwrap_or_else(|| panic!("no {period} row in {}", csv.text));
        let got: Vec<&str> = row[5..10].iter().map(String::as_str).collect();
        let want_cells = [
            want.started.to_string(),
            want.finished.to_string(),
            want.cancelled.to_string(),
            rank(&want.minutes, 50),
            rank(&want.minutes, 90),
        ];
        assert_eq!(got, want_cells, "{period}");
        // The limit by its title, with how many times it was breached.
        let def = api.engine.store.latest("complaint").expect("def").1;
        for (limit, n) in &want.breached {
            let title = baton_engine::display::limit_title(&def, limit);
            assert!(row[10].contains(&format!("{title} {n}")), "{}", row[10]);
        }
    }
    // A line per day: Monday's and Tuesday's figures as the histories have them.
    for day in [t0.with_timezone(&ZONE).date_naive(), today] {
        let all = from_histories(&api, &ids, day);
        let next = from_histories(&api, &ids, day + Duration::days(1));
        let d = day.to_string();
        let row = rows
            .iter()
            .find(|r| r[2] == "day" && r[3] == d)
            .unwrap_or_else(|| panic!("no row for {d}"));
        assert_eq!(
            (row[5].as_str(), row[6].as_str()),
            (
                (all.started - next.started).to_string().as_str(),
                (all.finished - next.finished).to_string().as_str()
            ),
            "{d}"
        );
    }

    // The page shows the same, by the process's title; and 王芳's open task.
    let page = manager.get(&api, "/overview?process=complaint").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let week = from_histories(&api, &ids, monday);
    assert!(
        page.text.contains(&format!(
            "<th scope=\"row\">客戶投訴處理</th><td>{}</td><td>{}</td><td>{}</td>",
            week.started, week.finished, week.cancelled
        )),
        "{}",
        page.text
    );
    let open = ids
        .iter()
        .filter_map(|id| api.engine.store.instance(*id).ok())
        .filter(|i| i.status.as_str() == "running")
        .flat_map(|i| i.tasks.into_iter().filter(|t| t.state.is_active()))
        .count();
    assert!(open >= 1);
    assert!(
        page.text
            .contains(&format!("<th scope=\"row\">王芳</th><td>{open}</td>")),
        "{}",
        page.text
    );
    assert!(page.text.contains("<svg"), "the charts");
    assert!(
        page.text.contains(r#"href="/overview""#),
        "the link in the header"
    );

    // Filtered by another department: none of the CS agents' complaints.
    let hr = manager
        .get(&api, "/overview.csv?process=complaint&department=hr")
        .await;
    let week_hr = csv_rows(&hr.text)
        .into_iter()
        .find(|r| r[0] == "complaint" && r[2] == "week")
        .expect("a row");
    assert_eq!(week_hr[5..8], ["0", "0", "0"]);
    let cs = manager
        .get(&api, "/overview.csv?process=complaint&department=cs")
        .await;
    assert_eq!(csv_rows(&cs.text), rows);

    // An agent neither sees the link nor reads the overview.
    invited(&api, "wang_fang", PASSWORD).await;
    let mut agent = signed_in(&api, "wang_fang", PASSWORD).await;
    let home = agent.get(&api, "/").await;
    assert!(!home.text.contains(r#"href="/overview""#));
    for path in ["/overview", "/overview.csv"] {
        let a = agent.get(&api, path).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}");
    }
}

/// The weekly hot-issue meeting reads the complaints and the requests by type: the
/// page and the CSV count the instances started this week and this month under each
/// choice of the field their process is counted by, by its label, and the complaints
/// not classified yet. A type changed later moves its complaint.
#[tokio::test]
async fn complaints_and_requests_are_counted_by_type() {
    // Tuesday 3 March; the next Tuesday is in the next week of the same month.
    let mut api = Api::at(sh(2026, 3, 3, 10, 0));
    api.state = api.state.clone().with_web(baton_server::web::Settings {
        managers: vec!["cs_manager".into()],
        ..Default::default()
    });
    api.router = baton_server::app(api.state.clone());
    let accept = |id: u64, kind: Option<&'static str>| {
        let api = &api;
        async move {
            let mut data = serde_json::json!({"summary": "投訴"});
            if let Some(k) = kind {
                data["complaint_type"] = k.into();
            }
            complete(
                api,
                &api.open_task(id),
                "wang_fang",
                serde_json::json!({"data": data}),
            )
            .await;
        }
    };
    let last_week = api.start_complaint("wang_fang", "客戶甲").await;
    accept(last_week, Some("dining")).await;

    api.clock.advance(Duration::days(7));
    let dining = api.start_complaint("wang_fang", "客戶乙").await;
    accept(dining, Some("dining")).await;
    let given = api
        .post(
            "/instances",
            "wang_fang",
            serde_json::json!({"process": "complaint", "data": {
                "customer": "客戶丙", "contact": "138", "channel": "app", "complaint_type": "lodging"
            }}),
        )
        .await;
    assert_eq!(given.status, StatusCode::CREATED, "{}", given.text);
    let unclear = api.start_complaint("wang_fang", "客戶丁").await;
    accept(unclear, None).await;
    // Last week's complaint is closed as another type at its follow-up call.
    complete(
        &api,
        &api.open_task(last_week),
        "wang_fang",
        serde_json::json!({"choice": "resolved"}),
    )
    .await;
    complete(
        &api,
        &api.open_task(last_week),
        "wang_fang",
        serde_json::json!({"data": {"satisfaction": 4, "complaint_type": "other"}}),
    )
    .await;
    for kind in ["consultation", "consultation", "purchase"] {
        let a = api
            .post(
                "/instances",
                "wang_fang",
                serde_json::json!({"process": "service_request", "data": {
                    "customer": "客戶戊", "contact": "139", "channel": "hotline",
                    "request_type": kind, "request": "門票"
                }}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    }

    invited(&api, "li_ming", PASSWORD).await;
    let mut manager = signed_in(&api, "li_ming", PASSWORD).await;
    let page = manager.get(&api, "/overview").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let row = |label: &str, week: u32, month: u32| {
        format!("<th scope=\"row\">{label}</th><td>{week}</td><td>{month}</td>")
    };
    for want in [
        "客戶投訴處理：投訴類型".to_string(),
        row("餐飲", 1, 1),
        row("住宿", 1, 1),
        row("其他", 0, 1),
        row("購物", 0, 0),
        row("未分類", 1, 1),
        "客戶咨詢與服務需求：需求類型".to_string(),
        row("咨詢", 2, 2),
        row("購買", 1, 1),
        row("售後", 0, 0),
    ] {
        assert!(page.text.contains(&want), "{want}: {}", page.text);
    }
    // The ids stay out of sight.
    assert!(!page.text.contains(">dining<") && !page.text.contains(">consultation<"));

    let csv = manager.get(&api, "/overview.csv").await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    let rows = csv_rows(&csv.text);
    assert!(rows.iter().all(|r| r.len() == 14), "{}", csv.text);
    let count = |process: &str, period: &str, category: &str| -> Option<String> {
        rows.iter()
            .find(|r| r[0] == process && r[2] == period && r[12] == category)
            .map(|r| r[13].clone())
    };
    for (process, category, week, month) in [
        ("complaint", "餐飲", "1", "1"),
        ("complaint", "住宿", "1", "1"),
        ("complaint", "其他", "0", "1"),
        ("complaint", "未分類", "1", "1"),
        ("service_request", "咨詢", "2", "2"),
        ("service_request", "購買", "1", "1"),
        ("service_request", "便民", "0", "0"),
    ] {
        assert_eq!(
            (
                count(process, "week", category),
                count(process, "month", category)
            ),
            (Some(week.to_string()), Some(month.to_string())),
            "{process} {category}"
        );
    }
    let field_of = |process: &str| {
        rows.iter()
            .find(|r| r[0] == process && !r[11].is_empty())
            .map(|r| r[11].clone())
    };
    assert_eq!(field_of("complaint").as_deref(), Some("投訴類型"));
    assert_eq!(field_of("service_request").as_deref(), Some("需求類型"));
    // A process counted by nothing has no such rows.
    assert_eq!(field_of("hiring"), None);

    // Filtered by another department, nothing is counted.
    let hr = manager.get(&api, "/overview.csv?department=hr").await;
    for r in csv_rows(&hr.text).iter().filter(|r| !r[11].is_empty()) {
        assert_eq!(r[13], "0", "{r:?}");
    }
}
