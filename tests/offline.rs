//! The real `baton` binary on a database of its own (no server): what it prints, to
//! a person and to a pipe.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn command(args: &[&str], db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_baton"));
    c.args(args)
        .arg("--db")
        .arg(db)
        .current_dir(root())
        .env_remove("BATON_SERVER")
        .env_remove("BATON_AS")
        .env("BATON_ZONE", "Asia/Shanghai");
    c
}

fn baton(args: &[&str], db: &Path) -> Output {
    command(args, db).output().expect("baton runs")
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The command with its stdout a pipe nobody reads any more (`| head` that has
/// finished): exit 0 and nothing said, not a panic (exit 101).
#[track_caller]
fn to_a_closed_pipe(args: &[&str], db: &Path) {
    let mut child = command(args, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("baton runs");
    // The reader goes away before baton writes a thing.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("baton ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "{args:?}: {stderr}");
}

#[test]
fn output_to_a_pipe_closed_early_ends_quietly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("db");
    ok(&baton(&["deploy", "processes/"], &db));
    let started = ok(&baton(
        &[
            "start",
            "complaint",
            "--as",
            "wang_fang",
            "--set",
            "customer=王",
            "--set",
            "contact=13800000000",
            "--set",
            "channel=hotline",
            "--quiet",
        ],
        &db,
    ));
    let id = started.trim();
    to_a_closed_pipe(&["show", id, "--json"], &db);
    to_a_closed_pipe(&["history", id, "--json"], &db);
    to_a_closed_pipe(&["tasks", "--as", "wang_fang", "--json"], &db);
    to_a_closed_pipe(&["graph", "complaint"], &db);
    to_a_closed_pipe(&["check", "processes/", "--format", "json"], &db);
}

#[test]
fn deploy_says_in_words_what_it_did() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("db");
    let first = ok(&baton(&["deploy", "processes/"], &db));
    assert!(
        first
            .lines()
            .any(|l| l == "processes/complaint.flow: complaint, version 1 (new)"),
        "{first}"
    );
    let again = ok(&baton(&["deploy", "processes/"], &db));
    assert!(
        again
            .lines()
            .any(|l| l == "processes/complaint.flow: complaint, unchanged (version 1)"),
        "{again}"
    );
    assert!(
        !first.contains('{') && !again.contains('{'),
        "no Debug output:\n{first}{again}"
    );
}

#[test]
fn show_says_what_a_waiting_step_waits_for() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("db");
    ok(&baton(&["deploy", "processes/"], &db));
    let started = ok(&baton(
        &[
            "start",
            "trip_care",
            "--as",
            "wang_fang",
            "--set",
            "customer=王",
            "--set",
            "phone=13800000000",
            "--set",
            "trip_date=2099-06-10",
            "--set",
            "agent=wang_fang",
            "--quiet",
        ],
        &db,
    ));
    let id = started.trim();
    // Two days before the trip, at 10:00 in the company's zone.
    let text = ok(&baton(&["show", id], &db));
    assert!(
        text.contains("step 行前確認（提前兩天） (waiting until 2099-06-08 10:00 +08:00)"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&baton(&["show", id, "--json"], &db))).expect("json");
    assert_eq!(json["waiting"], true, "{json}");
    assert_eq!(json["waiting_for"]["kind"], "time", "{json}");
    assert_eq!(
        json["waiting_for"]["until"], "2099-06-08T10:00:00+08:00",
        "{json}"
    );
    assert_eq!(json["signoffs"], serde_json::json!([]), "{json}");
}

/// A command other than `deploy` on a folder without a database says so, and leaves
/// no database behind.
#[test]
fn a_command_on_a_missing_database_says_so_and_creates_none() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let db = tmp.path().join("missing-dir");
    for args in [
        &["tasks", "--as", "wang_fang"][..],
        &["show", "1", "--as", "wang_fang"][..],
        &["outbox"][..],
        &["extend", "1/settle", "--by", "2h", "--as", "wang_fang"][..],
        &["comment", "1-1", "已致電", "--as", "wang_fang"][..],
        &["reassign", "1-1", "--to", "zhang_wei", "--as", "wang_fang"][..],
    ] {
        let out = baton(args, &db);
        assert_eq!(out.status.code(), Some(9), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no database here"), "{err}");
        assert!(!db.exists(), "{args:?} made a database");
    }
    // `deploy` makes one.
    ok(&baton(&["deploy", "processes"], &db));
    assert!(db.exists());
    ok(&baton(&["tasks", "--as", "wang_fang"], &db));
}

/// On a database too, times are in the company's zone from processes/baton.ron
/// (Asia/Shanghai) on a machine in UTC, `--zone` shows them in another, and
/// messages name people: `baton outbox` and `baton history`.
#[test]
fn the_company_zone_and_names_on_a_database() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("db");
    let run = |args: &[&str]| {
        let out = command(args, &db)
            .env_remove("BATON_ZONE")
            .env("TZ", "UTC")
            .output()
            .expect("baton runs");
        ok(&out)
    };
    run(&["deploy", "processes/"]);
    let id = run(&[
        "start",
        "daily_report",
        "--as",
        "jiang_hui",
        "--set",
        "subject=wang_fang",
        "-q",
    ]);
    let id = id.trim();
    run(&[
        "complete",
        &format!("{id}-1"),
        "--as",
        "wang_fang",
        "--set",
        "report=接聽52通",
    ]);
    let outbox = run(&["outbox"]);
    let line = outbox
        .lines()
        .find(|l| l.contains("王芳的工作日報：接聽52通"))
        .unwrap_or_else(|| panic!("{outbox}"));
    assert!(line.contains("+08:00") && line.contains("陳靜"), "{line}");
    let history = run(&["history", id]);
    assert!(
        history.contains("message to 陳靜: 王芳的工作日報：接聽52通"),
        "{history}"
    );
    assert!(
        history.lines().skip(1).all(|l| l.contains("+08:00")),
        "{history}"
    );
    let utc = run(&["history", id, "--zone", "UTC"]);
    assert!(utc.lines().skip(1).all(|l| l.contains("+00:00")), "{utc}");
    let json: serde_json::Value =
        serde_json::from_str(&run(&["show", id, "--json"])).expect("json");
    assert!(
        json["started_at"]
            .as_str()
            .is_some_and(|t| t.ends_with("+08:00")),
        "{json}"
    );
}

/// Who may name whom: a colleague who names someone else as probation's `employee` is
/// refused by the process's `require` (exit 7, its message), and nothing is started.
/// The condition on the starter is the first `require`, so the day of the month
/// does not change the answer.
#[test]
fn naming_someone_else_in_a_probation_application_is_exit_7() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("db");
    ok(&baton(&["deploy", "processes/"], &db));
    let out = baton(
        &[
            "start",
            "probation",
            "--as",
            "zhang_wei",
            "--set",
            "employee=wang_fang",
            "--set",
            "hired_on=2020-01-06",
        ],
        &db,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(
        stderr.contains("只能為本人或本人直屬下屬申請轉正"),
        "{stderr}"
    );
    // Nothing was started: there is no instance 1.
    assert_eq!(baton(&["show", "1"], &db).status.code(), Some(3));
}

/// A `check` refuses a completion: exit 7, its message and the fields it reads, and
/// the task stays open until what is filled in passes.
#[test]
fn a_mentor_who_is_the_new_employee_is_exit_7() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("db");
    ok(&baton(&["deploy", "processes/"], &db));
    // HR starts onboarding by hand for someone who joined long ago: the first day
    // has passed, so the supervisor's task is there at once.
    ok(&baton(
        &[
            "start",
            "onboarding",
            "--as",
            "sun_li",
            "--set",
            "employee=zhang_wei",
            "--set",
            "hired_on=2020-01-06",
        ],
        &db,
    ));
    let complete = |task: &str, who: &str, sets: &[&str]| {
        let mut args = vec!["complete", task, "--as", who];
        for s in sets {
            args.extend(["--set", s]);
        }
        baton(&args, &db)
    };
    ok(&complete("1-1", "chen_jing", &["offer_letter_no=HR-1"]));
    ok(&complete("1-2", "chen_jing", &[]));
    ok(&complete("1-3", "zhang_wei", &[]));
    let out = complete("1-4", "chen_jing", &["workstation=A-1", "mentor=zhang_wei"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("帶教老員工不能是新員工本人"), "{stderr}");
    assert!(stderr.contains("fields: `employee`, `mentor`"), "{stderr}");
    // Nothing changed: the same task, completed with a mentor of the department.
    ok(&complete(
        "1-4",
        "chen_jing",
        &["workstation=A-1", "mentor=wang_fang"],
    ));
}

/// On the database directly: `--team` lists what the people `--as` leads take part in.
#[test]
fn team_lists_on_the_database() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("db");
    ok(&baton(&["deploy", "processes/"], &db));
    let id = ok(&baton(
        &[
            "start",
            "complaint",
            "--as",
            "wang_fang",
            "--set",
            "customer=王",
            "--set",
            "contact=138",
            "--set",
            "channel=hotline",
            "--quiet",
        ],
        &db,
    ));
    let id = id.trim();
    // 李明 heads 客服部: 王芳's complaint is his team's, not his own.
    let tasks = ok(&baton(&["tasks", "--team", "--as", "li_ming"], &db));
    assert!(tasks.contains(&format!("{id}-1")), "{tasks}");
    let own = ok(&baton(&["tasks", "--as", "li_ming"], &db));
    assert!(!own.contains(&format!("{id}-1")), "{own}");
    let inst = ok(&baton(&["instances", "--team", "--as", "li_ming"], &db));
    assert!(inst.contains("客戶投訴處理"), "{inst}");
    // 孫莉 heads 人力資源部: nothing of it.
    let hr = ok(&baton(
        &["instances", "--team", "--as", "sun_li", "--json"],
        &db,
    ));
    assert_eq!(hr.trim(), "[]");
    // Whose team must be said.
    assert_eq!(baton(&["instances", "--team"], &db).status.code(), Some(2));
}

/// An admin checks a database the way the tests do: `baton verify` says it is
/// consistent (exit 0) after real work, and a layout-3 database from an earlier
/// release, moved to this release's layout by opening it, is consistent too.
#[test]
fn verify_checks_a_database_and_an_upgraded_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("db");
    ok(&baton(&["deploy", "processes/"], &db));
    ok(&baton(
        &[
            "start",
            "complaint",
            "--as",
            "wang_fang",
            "--set",
            "customer=張三",
            "--set",
            "contact=138",
            "--set",
            "channel=app",
        ],
        &db,
    ));
    ok(&baton(&["claim", "1-1", "--as", "wang_fang"], &db));
    assert_eq!(
        ok(&baton(&["verify"], &db)).trim(),
        format!("{}: consistent", db.display())
    );
    // The fixture of layout 3 (see engine/tests/fixture_layout.rs), copied.
    let old = tmp.path().join("old");
    std::fs::create_dir(&old).expect("mkdir");
    let fixture = root().join("engine/tests/fixtures/layout-3");
    for e in std::fs::read_dir(&fixture).expect("fixture") {
        let e = e.expect("entry");
        if e.path().is_file() {
            std::fs::copy(e.path(), old.join(e.file_name())).expect("copy");
        }
    }
    assert!(ok(&baton(&["verify"], &old)).contains("consistent"));
    let shown = ok(&baton(&["show", "3"], &old));
    assert!(shown.contains("主管審批"), "{shown}");
    // A missing database is exit 9, not a new empty one found consistent.
    let none = baton(&["verify"], &tmp.path().join("none"));
    assert_eq!(none.status.code(), Some(9));
}

/// `--add` fills a list's elements in order, a new element each time the last
/// already has the field; a bad element field is named by its place (exit 6).
#[test]
fn add_fills_the_action_items_of_the_weekly_meeting() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("db");
    ok(&baton(&["deploy", "processes/"], &db));
    // The calendar starts the meeting; the admin may start it by hand.
    ok(&baton(
        &["start", "weekly_hotspots", "--as", "jiang_hui"],
        &db,
    ));
    let meeting = |owner: &str| {
        baton(
            &[
                "complete",
                "1-1",
                "--as",
                "chen_jing",
                "--set",
                "hotspots=退款時效",
                "--set",
                "measures=退款加急通道",
                "--add",
                "action_items.item=退款加急通道上線",
                "--add",
                &format!("action_items.owner={owner}"),
                "--add",
                "action_items.deadline=2026-12-10",
                "--add",
                "action_items.item=培訓新話術",
                "--add",
                "action_items.owner=zhang_wei",
                "--add",
                "action_items.deadline=2026-12-11",
            ],
            &db,
        )
    };
    let out = meeting("nobody");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("action_items[0].owner"), "{stderr}");
    ok(&meeting("wang_fang"));
    let shown: serde_json::Value = serde_json::from_str(&ok(&baton(
        &["show", "1", "--as", "chen_jing", "--json"],
        &db,
    )))
    .expect("json");
    let items = &shown["data"]["action_items"]["List"];
    assert_eq!(items.as_array().map(Vec::len), Some(2), "{shown}");
    assert_eq!(items[0]["owner"]["Person"], "wang_fang", "{shown}");
    assert_eq!(items[1]["item"]["Text"], "培訓新話術", "{shown}");
    assert_eq!(items[1]["deadline"]["Date"], "2026-12-11", "{shown}");
}
