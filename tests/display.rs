//! What people read from the real `baton` binary through a real `baton serve`:
//! people and departments by name, choices by their labels, every time in the
//! company's zone (Asia/Taipei here, while the machine runs in UTC) in one format,
//! `--zone` to see them in another, and local times given without an offset.

use std::path::{Path, PathBuf};

#[path = "support/mod.rs"]
mod support;
use support::*;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

/// processes/ with the company in Taipei.
fn processes_in_taipei(into: &Path) -> PathBuf {
    let dir = into.join("processes");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for e in std::fs::read_dir(root().join("processes")).expect("processes/") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        if name.ends_with(".flow") || name == "staff.ron" {
            std::fs::copy(&p, dir.join(&name)).expect("copy");
        }
    }
    let config = std::fs::read_to_string(root().join("processes/baton.ron")).expect("baton.ron");
    let taipei = config.replace(
        r#"zone: Some("Asia/Shanghai")"#,
        r#"zone: Some("Asia/Taipei")"#,
    );
    assert_ne!(taipei, config, "baton.ron names its zone");
    std::fs::write(dir.join("baton.ron"), taipei).expect("write");
    dir
}

/// The CLI against the server as the person of `token`, on a machine in UTC, with
/// no zone of its own unless `args` give one.
#[track_caller]
fn baton(server: &Server, token: &str, args: &[&str]) -> String {
    let run = cli(&server.url, token, args, None);
    assert!(
        run.code == 0,
        "{args:?}\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    run.stdout
}

/// The line of a table or text that contains `what`.
#[track_caller]
fn line_with<'a>(text: &'a str, what: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no line with `{what}`:\n{text}"))
}

/// Cells of a table line (columns are two spaces or more apart).
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn names_labels_and_local_times_through_a_server() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_in_taipei(tmp.path());
    let server = Server::start(&tmp.path().join("db"), &dir);
    let admin = std::fs::read_to_string(server.db.join("admin.token"))
        .expect("admin.token")
        .trim()
        .to_string();
    let token = |p: &str| {
        baton(&server, &admin, &["token", "issue", p])
            .trim()
            .to_string()
    };
    let (fang, ming, li) = (token("wang_fang"), token("li_ming"), token("sun_li"));

    // A local time without an offset is read in the company's zone.
    let id = baton(
        &server,
        &fang,
        &[
            "start",
            "coordination",
            "-q",
            "--set",
            "partner=hr",
            "--set",
            "request=培訓場地",
            "--set",
            "needed_by=2026-12-05 18:00",
        ],
    )
    .trim()
    .to_string();
    let json: Value =
        serde_json::from_str(&baton(&server, &fang, &["show", &id, "--json"])).expect("json");
    // JSON: RFC 3339 with the company's offset.
    assert_eq!(
        json["data"]["needed_by"],
        json!({"DateTime": "2026-12-05T18:00:00+08:00"})
    );
    assert!(
        json["started_at"]
            .as_str()
            .is_some_and(|t| t.ends_with("+08:00")),
        "{json}"
    );

    // show: the process's title, the starter by name, fields by label, the department
    // by name, the time in the company's zone.
    let shown = baton(&server, &fang, &["show", &id]);
    assert!(
        line_with(&shown, "instance").contains("部門協調單"),
        "{shown}"
    );
    assert!(
        line_with(&shown, "started by").contains("started by 王芳 at "),
        "{shown}"
    );
    assert!(
        line_with(&shown, "started by").ends_with("+08:00"),
        "{shown}"
    );
    assert_eq!(
        cells(line_with(&shown, "配合部門")),
        ["配合部門", "人力資源部"]
    );
    assert_eq!(
        cells(line_with(&shown, "需完成時間")),
        ["需完成時間", "2026-12-05 18:00 +08:00"]
    );
    assert!(
        line_with(&shown, "step").contains("step 本部門領導簽字"),
        "{shown}"
    );
    // `--zone` shows the same moment in another zone.
    let utc = baton(&server, &fang, &["show", &id, "--zone", "UTC"]);
    assert_eq!(
        cells(line_with(&utc, "需完成時間")),
        ["需完成時間", "2026-12-05 10:00 +00:00"]
    );

    // tasks: the process by title, the candidate by name.
    let tasks = baton(&server, &ming, &["tasks"]);
    let row = cells(line_with(&tasks, &format!("{id}-1")));
    assert_eq!(
        row[1..5],
        ["部門協調單", "本部門領導簽字", "open", "李明"],
        "{tasks}"
    );
    assert!(row[5].ends_with("+08:00"), "{tasks}");

    baton(
        &server,
        &ming,
        &["complete", &format!("{id}-1"), "--choose", "approve"],
    );
    baton(
        &server,
        &li,
        &["complete", &format!("{id}-2"), "--choose", "approve"],
    );
    baton(
        &server,
        &li,
        &["complete", &format!("{id}-3"), "--set", "assignee=sun_li"],
    );
    // The work is due when it is needed, shown in the company's zone.
    let tasks = baton(&server, &li, &["tasks"]);
    let row = cells(line_with(&tasks, &format!("{id}-4")));
    assert_eq!(
        row[1..],
        [
            "部門協調單",
            "辦理協調事項",
            "open",
            "孫莉",
            "2026-12-05 18:00 +08:00"
        ],
        "{tasks}"
    );

    // history: who by name, choices by label, people in data by name.
    let history = baton(&server, &fang, &["history", &id]);
    let started = cells(line_with(&history, "started 部門協調單"));
    assert_eq!(started[2], "王芳", "{history}");
    assert!(started[1].ends_with("+08:00"), "{history}");
    let signed = cells(line_with(&history, &format!("task {id}-1 completed")));
    assert_eq!(
        signed[2..],
        ["李明", &format!("task {id}-1 completed: 簽字")],
        "{history}"
    );
    assert!(
        line_with(&history, &format!("task {id}-3 completed")).contains("=孫莉"),
        "{history}"
    );
    assert!(
        !history.contains("sun_li") && !history.contains("wang_fang"),
        "{history}"
    );

    // `18:00` alone is today's 18:00 in the company's zone.
    let before = Utc::now()
        .with_timezone(&chrono_tz::Asia::Taipei)
        .date_naive();
    let today = baton(
        &server,
        &fang,
        &[
            "start",
            "coordination",
            "-q",
            "--set",
            "partner=hr",
            "--set",
            "request=會議室",
            "--set",
            "needed_by=18:00",
        ],
    )
    .trim()
    .to_string();
    let after = Utc::now()
        .with_timezone(&chrono_tz::Asia::Taipei)
        .date_naive();
    let json: Value =
        serde_json::from_str(&baton(&server, &fang, &["show", &today, "--json"])).expect("json");
    let at = |d: chrono::NaiveDate| {
        chrono_tz::Asia::Taipei
            .from_local_datetime(&d.and_hms_opt(18, 0, 0).expect("18:00"))
            .single()
            .expect("one 18:00")
            .fixed_offset()
            .to_rfc3339()
    };
    let got = json["data"]["needed_by"]["DateTime"].as_str().unwrap_or("");
    assert!(got == at(before) || got == at(after), "{got}");
}

#[test]
fn the_cli_types_set_values_by_their_field() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = processes_in_taipei(tmp.path());
    let server = Server::start(&tmp.path().join("db"), &dir);
    let admin = std::fs::read_to_string(server.db.join("admin.token"))
        .expect("admin.token")
        .trim()
        .to_string();
    let fang = baton(&server, &admin, &["token", "issue", "wang_fang"])
        .trim()
        .to_string();
    // A contact of digits stays text; the server takes no number for a text field.
    let id = baton(
        &server,
        &fang,
        &[
            "start",
            "complaint",
            "-q",
            "--set",
            "customer=張三",
            "--set",
            "contact=13800000000",
            "--set",
            "channel=hotline",
        ],
    )
    .trim()
    .to_string();
    let shown = baton(&server, &fang, &["show", &id]);
    assert_eq!(
        cells(line_with(&shown, "聯系方式")),
        ["聯系方式", "13800000000"]
    );
    // A choice by its label.
    assert_eq!(cells(line_with(&shown, "渠道")), ["渠道", "熱線"]);
    let json: Value =
        serde_json::from_str(&baton(&server, &fang, &["show", &id, "--json"])).expect("json");
    assert_eq!(json["data"]["contact"], json!({"Text": "13800000000"}));
    // A time limit by the steps it spans, its deadline in the company's zone.
    let history = baton(&server, &fang, &["history", &id]);
    let limit = line_with(&history, "limit 接受投訴→回訪 until ");
    assert!(limit.ends_with("+08:00"), "{history}");
}
