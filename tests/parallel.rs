//! `baton show` and `baton history` of an instance at a parallel step, from the real
//! binary on a database of its own: where each branch is, by its title and its
//! step's title, and the branches' comings and goings in the history.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn baton(args: &[&str], db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .arg("--db")
        .arg(db)
        .current_dir(root())
        .env_remove("BATON_SERVER")
        .env_remove("BATON_AS")
        .env("BATON_ZONE", "Asia/Shanghai")
        .output()
        .expect("baton runs")
}

#[track_caller]
fn ok(args: &[&str], db: &Path) -> String {
    let out = baton(args, db);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The id of the one open task of `person` at the step titled `title`.
fn task_of(db: &Path, person: &str, title: &str) -> String {
    let out = ok(&["tasks", "--as", person, "--json"], db);
    let tasks: serde_json::Value = serde_json::from_str(&out).expect("json");
    let t = tasks
        .as_array()
        .expect("a list")
        .iter()
        .find(|t| t["title"] == title)
        .unwrap_or_else(|| panic!("no task `{title}` for {person}: {out}"));
    format!("{}-{}", t["id"]["instance"], t["id"]["n"])
}

#[test]
fn show_and_history_tell_where_each_branch_is() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("db");
    ok(&["deploy", "processes/"], &db);
    let id = ok(
        &[
            "start",
            "coordination",
            "--as",
            "wang_fang",
            "--set",
            "partner=technology",
            "--set",
            "also=product",
            "--set",
            "request=協助排查App登錄故障",
            "--set",
            "needed_by=2026-12-31 18:00",
            "--quiet",
        ],
        &db,
    )
    .trim()
    .to_string();
    let own = task_of(&db, "li_ming", "本部門領導簽字");
    ok(
        &["complete", &own, "--as", "li_ming", "--choose", "approve"],
        &db,
    );

    let shown = ok(&["show", &id], &db);
    assert!(shown.contains("step 配合部門領導審核簽字"), "{shown}");
    let line = |what: &str| {
        shown
            .lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no line with `{what}`:\n{shown}"))
            .to_string()
    };
    assert!(
        line("branch 配合部門:").contains("at 配合部門領導審核簽字"),
        "{shown}"
    );
    assert!(
        line("branch 另一配合部門:").contains("at 另一配合部門領導審核簽字"),
        "{shown}"
    );

    // The product head signs first: that branch is finished, the other still runs.
    let other = task_of(&db, "zhou_jie", "另一配合部門領導審核簽字");
    ok(
        &[
            "complete", &other, "--as", "zhou_jie", "--choose", "approve",
        ],
        &db,
    );
    let shown = ok(&["show", &id], &db);
    assert!(shown.contains("branch 另一配合部門: finished"), "{shown}");
    assert!(
        shown.contains("branch 配合部門: at 配合部門領導審核簽字"),
        "{shown}"
    );

    let history = ok(&["history", &id], &db);
    for what in [
        "branch 配合部門 started",
        "branch 另一配合部門 started",
        "branch 另一配合部門 finished",
    ] {
        assert!(history.contains(what), "{what}:\n{history}");
    }
    // JSON: the branches as stored, by name.
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["show", &id, "--json"], &db)).expect("json");
    assert_eq!(json["branches"][0]["name"], "first", "{json}");
    assert_eq!(json["branches"][1]["status"], "finished", "{json}");
}
