//! The real `baton serve` driven by the real CLI with `--server`: a running limit
//! shown with its deadline and as its tasks' due time, a breached one listed by
//! `tasks --overdue`, an extension with the customer's consent given then, comments,
//! reassignment, a refusal's reason reaching the requester, and the outbox.

use std::path::{Path, PathBuf};

#[path = "support/mod.rs"]
mod support;
use support::*;

use serde_json::Value;

/// A limit that is over when it starts (`window - 1h` with a window under an
/// hour): its task is overdue at once, with no waiting.
const URGENT: &str = r#"process urgent "緊急答覆" {
  started by agent
  data {
    window duration "時限"
  }
  limit reply from answer to answer {
    within window - 1h
    on breach notify starter "答覆已超時"
  }
  step answer "答覆" {
    task for starter
    next done
  }
  end done
}
"#;

/// processes/ with `urgent.flow` beside the company's definitions.
fn processes_with_urgent(into: &Path) -> PathBuf {
    let dir = processes_copy(into);
    std::fs::write(dir.join("urgent.flow"), URGENT).expect("urgent.flow");
    dir
}

/// A time of the JSON as the tables print it, in Shanghai time.
fn shown_time(v: &Value) -> String {
    let t: chrono::DateTime<chrono::Utc> = serde_json::from_value(v.clone()).expect("a time");
    t.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M %:z")
        .to_string()
}

#[test]
fn limits_extensions_comments_reassignment_reasons_and_the_outbox_through_the_server() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = processes_with_urgent(tmp.path());
    let server = Server::start(&tmp.path().join("db"), &dir);
    let url = server.url.clone();
    let admin = server.admin_token();
    let token = |person: &str| -> String {
        baton(&url, &admin, &["token", "issue", person])
            .ok()
            .trim()
            .to_string()
    };
    let wang = token("wang_fang");

    // A complaint: `show` lists its running limit with the deadline, which is also
    // its task's due time in `tasks`.
    let id = baton(
        &url,
        &wang,
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
    .ok()
    .trim()
    .to_string();
    let shown = baton(&url, &wang, &["show", &id, "--json"]).json();
    let deadline = shown_time(&shown["limits"][0]["deadline"]);
    let text = baton(&url, &wang, &["show", &id]).ok().to_string();
    assert!(
        text.contains(&format!("limit 接受投訴→回訪  deadline {deadline}\n")),
        "{text}"
    );
    let tasks = baton(&url, &wang, &["tasks"]).ok().to_string();
    assert!(
        tasks.contains(&format!("{id}-1")) && tasks.contains(&deadline),
        "{tasks}"
    );

    // The extension needs the customer's consent, given when it is asked for.
    let limit = format!("{id}/settle");
    let err = baton(&url, &wang, &["extend", &limit, "--by", "2h"])
        .fails(5)
        .to_string();
    assert!(err.contains("customer_consents"), "{err}");
    let err = baton(&url, &wang, &["extend", &limit, "--by", "soon"])
        .fails(6)
        .to_string();
    assert!(err.contains("`by`"), "{err}");
    baton(
        &url,
        &wang,
        &[
            "extend",
            &limit,
            "--by",
            "2h",
            "--set",
            "customer_consents=true",
        ],
    )
    .ok();
    let shown = baton(&url, &wang, &["show", &id, "--json"]).json();
    assert_eq!(shown["limits"][0]["extended_minutes"], 120);
    assert_eq!(
        shown["data"]["customer_consents"],
        serde_json::json!({"Bool": true})
    );
    let later = shown_time(&shown["limits"][0]["deadline"]);
    let text = baton(&url, &wang, &["show", &id]).ok().to_string();
    assert!(
        text.contains(&format!(
            "limit 接受投訴→回訪  deadline {later} (extended by 120 min)"
        )),
        "{text}"
    );
    // The task's step has no due time of its own: the answer names the limit.
    let err = baton(&url, &wang, &["extend", &format!("{id}-1"), "--by", "1h"])
        .fails(4)
        .to_string();
    assert!(err.contains("limit `settle`"), "{err}");

    // Comment, then hand the task on.
    let task = format!("{id}-1");
    baton(&url, &wang, &["comment", &task, "已致電客戶"]).ok();
    baton(&url, &wang, &["claim", &task]).ok();
    let zhang = token("zhang_wei");
    baton(&url, &zhang, &["reassign", &task, "--to", "zhang_wei"]).fails(5);
    baton(&url, &wang, &["reassign", &task, "--to", "zhang_wei"]).ok();
    let history = baton(&url, &wang, &["history", &id]).ok().to_string();
    assert!(history.contains("comment: 已致電客戶"), "{history}");
    assert!(
        history.contains(&format!("task {task} reassigned to 張偉")),
        "{history}"
    );
    let theirs = baton(&url, &zhang, &["tasks"]).ok().to_string();
    assert!(theirs.contains(&task), "{theirs}");

    // A limit that is already over: `tasks --overdue` lists its task.
    let late = baton(
        &url,
        &wang,
        &["start", "urgent", "-q", "--set", "window=30m"],
    )
    .ok()
    .trim()
    .to_string();
    let overdue = baton(&url, &wang, &["tasks", "--overdue", "--json"]).json();
    let ids: Vec<String> = overdue
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| format!("{}-{}", t["id"]["instance"], t["id"]["n"]))
        .collect();
    assert_eq!(ids, [format!("{late}-1")], "the complaint is not overdue");

    // A declined coordination request, with the reason: the requester is told.
    let coordination = baton(
        &url,
        &wang,
        &[
            "start",
            "coordination",
            "-q",
            "--set",
            "partner=technology",
            "--set",
            "request=協助排查App登錄故障",
            "--set",
            "needed_by=2030-03-05T18:00:00+08:00",
        ],
    )
    .ok()
    .trim()
    .to_string();
    let li = token("li_ming");
    baton(
        &url,
        &li,
        &[
            "complete",
            &format!("{coordination}-1"),
            "--choose",
            "approve",
        ],
    )
    .ok();
    let zheng = token("zheng_kai");
    baton(
        &url,
        &zheng,
        &[
            "complete",
            &format!("{coordination}-2"),
            "--choose",
            "decline",
            "--reason",
            "本週人手不足",
        ],
    )
    .ok();
    let inbox = baton(&url, &wang, &["inbox"]).ok().to_string();
    assert!(
        inbox.contains("鄭凱在部門協調單 #")
            && inbox.contains("的「配合部門領導審核簽字」選擇了「不予配合」，原因：本週人手不足"),
        "{inbox}"
    );
    let history = baton(&url, &wang, &["history", &coordination])
        .ok()
        .to_string();
    assert!(
        history.contains(&format!("task {coordination}-2 reason: 本週人手不足")),
        "{history}"
    );

    // The outbox goes through the server too (the database is the server's): admins only.
    let err = baton(&url, &wang, &["outbox"]).fails(5).to_string();
    assert!(err.contains("admins only"), "{err}");
    let outbox = baton(&url, &admin, &["outbox"]).ok().to_string();
    assert!(outbox.contains("轉交給你"), "{outbox}");
    assert!(outbox.contains("本週人手不足"), "{outbox}");
    let failed = baton(&url, &admin, &["outbox", "--failed", "--json"]).json();
    assert_eq!(failed, serde_json::json!([]));
}

/// The database `baton serve` makes holds customers' names and phone numbers: its
/// folder and everything in it are the server's user's only (Unix).
#[cfg(unix)]
#[test]
fn the_database_serve_makes_is_readable_by_its_user_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| {
        std::fs::symlink_metadata(p)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = processes_copy(tmp.path());
    let db = tmp.path().join("data").join("db");
    let server = Server::start(&db, &dir);
    assert!(!server.admin_token().is_empty());
    assert_eq!(mode(&db), 0o700);
    assert_eq!(mode(&db.join("admin.token")), 0o600);
    let mut todo = vec![db.clone()];
    let mut seen = 0;
    while let Some(p) = todo.pop() {
        assert_eq!(mode(&p) & 0o077, 0, "{} is {:o}", p.display(), mode(&p));
        seen += 1;
        if p.is_dir() {
            todo.extend(
                std::fs::read_dir(&p)
                    .expect("read_dir")
                    .map(|e| e.expect("entry").path()),
            );
        }
    }
    assert!(seen > 3, "only {seen} files");
}
