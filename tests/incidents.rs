//! The real `baton serve`: timers that were due while it was down fire at start, and
//! the instances that cannot go on become incidents (logged, listed); an admin
//! resolves them with the CLI through the server, and a staff member may not.

#[path = "support/mod.rs"]
mod support;
use support::*;

use baton_engine::clock::ManualClock;
use baton_engine::store::Options;
use baton_engine::Engine;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// After an hour's wait, a review by the handler's supervisor: the general manager
/// has none.
const FIX: &str = r#"
process fix "修正測試" {
  started by agent
  data {
    customer text   "客戶"
    handler  person "經辦人"
  }
  step pause "等待" {
    wait 1h
    next review
  }
  step review "主管覆核" {
    task for supervisor of handler
    fill resolution: text
    next close
  }
  step close "結案通知" {
    notify handler "{customer}：{resolution}"
    next done
  }
  end done "完成"
}
"#;

/// The company's staff directory, `fix.flow` and a configuration naming its owner.
fn folder(into: &Path) -> PathBuf {
    let dir = into.join("processes");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../processes");
    std::fs::copy(root.join("staff.ron"), dir.join("staff.ron")).expect("staff");
    std::fs::write(dir.join("fix.flow"), FIX).expect("flow");
    std::fs::write(
        dir.join("baton.ron"),
        r#"(zone: Some("Asia/Shanghai"), owners: {"fix": "cs_manager"})"#,
    )
    .expect("config");
    dir
}

#[test]
fn an_admin_resolves_incidents_with_the_cli_through_the_server() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = folder(tmp.path());
    let db = tmp.path().join("db");
    // Two instances started two hours ago: their hour's wait ended while no server ran.
    let ids: Vec<u64> = {
        let clock = ManualClock::new(chrono::Utc::now() - chrono::Duration::hours(2));
        let opts = Options {
            zone: chrono_tz::Asia::Shanghai,
            ..Default::default()
        };
        let engine = Engine::open(&db, opts, Arc::new(clock)).expect("open");
        for r in engine.deploy_dir(&dir).expect("deploy") {
            r.result.expect("deploys");
        }
        (0..2)
            .map(|_| {
                let mut data = serde_json::Map::new();
                data.insert("customer".into(), "張三".into());
                data.insert("handler".into(), "zhao_guoqiang".into());
                engine
                    .start("fix", data, "wang_fang", None)
                    .expect("start")
                    .instance
                    .id
            })
            .collect()
    };
    let mut serve = Server::start(&db, &dir);
    for _ in &ids {
        let line = serve.wait_for("incident:");
        assert!(line.contains("no supervisor"), "{line}");
    }
    // The admins and the owner (baton.ron: cs_manager) are told, in their inboxes.
    for _ in &ids {
        serve.wait_for("無法繼續，已轉為事故");
    }
    let admin = std::fs::read_to_string(db.join("admin.token"))
        .expect("admin.token")
        .trim()
        .to_string();
    let url = serve.url.clone();
    let (a, b) = (ids[0].to_string(), ids[1].to_string());

    let listed = baton(&url, &admin, &["incidents"]);
    let out = listed.ok();
    for id in &ids {
        assert!(out.contains(&format!("\n{id} ")), "{out}");
    }
    assert!(out.contains("no supervisor"), "{out}");
    let shown = baton(&url, &admin, &["show", &a]);
    assert!(shown.ok().contains("incident since"), "{}", shown.stdout);

    // A staff member neither sees nor resolves them.
    let staff = baton(&url, &admin, &["token", "issue", "wang_fang"]);
    let staff = staff.ok().trim().to_string();
    assert_eq!(baton(&url, &staff, &["incidents"]).code, 5);
    assert_eq!(baton(&url, &staff, &["retry", &a]).code, 5);

    let owner = baton(&url, &admin, &["token", "issue", "li_ming"]);
    let owner = owner.ok().trim().to_string();
    let inbox = baton(&url, &owner, &["inbox"]);
    assert_eq!(
        inbox.ok().matches("「修正測試」").count(),
        2,
        "{}",
        inbox.stdout
    );

    // The cause is still there: a retry is refused with it (exit 8).
    let r = baton(&url, &admin, &["retry", &a]);
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains("no supervisor"), "{}", r.stderr);
    // Corrected data, and on.
    let set = baton(&url, &admin, &["set", &a, "handler=wang_fang"]);
    assert!(set.ok().contains("step 主管覆核"), "{}", set.stdout);
    // A move is checked against the data the step reads (exit 6), then made.
    let r = baton(&url, &admin, &["move", &b, "close"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("resolution"), "{}", r.stderr);
    baton(&url, &admin, &["move", &b, "done"]).ok();

    let out = baton(&url, &admin, &["incidents", "--json"]);
    assert_eq!(out.ok().trim(), "[]");
    let history = baton(&url, &admin, &["history", &a]);
    let h = history.ok();
    assert!(
        h.contains("incident: `zhao_guoqiang` has no supervisor"),
        "{h}"
    );
    assert!(
        h.contains("incident resolved: set handler and retried"),
        "{h}"
    );
}
