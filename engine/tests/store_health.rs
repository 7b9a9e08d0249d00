//! A store whose write or flush failed refuses every write until it is opened again,
//! and says so: `Store::broken` gives the reason the server shows in `/healthz`.
//! And the database folder is readable by the server's own user only: it holds
//! customers' names and phone numbers.

mod common;

use baton_engine::clock::ManualClock;
use baton_engine::store::Fault;
use baton_engine::Engine;
use common::*;
use serde_json::json;
use std::sync::Arc;

const QUICK: &str = "process quick {\n  started by agent\n  step answer {\n    task for starter\n    next done\n  }\n  end done\n}\n";

fn harness() -> Harness {
    let h = Harness::at(sh(2026, 11, 30, 10, 0));
    h.engine
        .store
        .deploy("quick.flow", QUICK, h.now())
        .expect("deploys");
    h
}

/// One failure of each kind: the command it hit fails, the store is broken with
/// that reason, every write after it is refused (a command, a deployment), and a
/// restart (opening the database again) makes it healthy and writing again.
#[test]
fn a_failed_write_or_flush_breaks_the_store_until_it_is_opened_again() {
    for (fault, why) in [(Fault::Flush, "flush"), (Fault::Write, "write")] {
        let h = harness();
        assert_eq!(h.engine.store.broken(), None);
        h.start("quick", json!({}), "wang_fang");
        h.engine.store.inject_failure(fault);
        let failed = h
            .try_start("quick", json!({}), "wang_fang")
            .expect_err("the injected failure");
        assert!(failed.to_string().contains("injected"), "{failed}");
        let reason = h.engine.store.broken().expect("broken");
        assert!(
            reason.contains(why) && reason.contains("injected"),
            "{reason}"
        );
        // The fault was for one write only: what refuses now is the broken state.
        let refused = h
            .try_start("quick", json!({}), "wang_fang")
            .expect_err("refused");
        assert!(refused.to_string().contains(&reason), "{refused}");
        assert!(refused.to_string().contains("by itself"), "{refused}");
        let redeploy =
            h.engine
                .store
                .deploy("quick.flow", &QUICK.replace("answer", "reply"), h.now());
        assert!(redeploy.is_err(), "a deployment got through a broken store");
        // The reason stays the first failure's.
        assert_eq!(h.engine.store.broken().as_deref(), Some(reason.as_str()));

        let h = h.reopen();
        assert_eq!(h.engine.store.broken(), None);
        h.start("quick", json!({}), "wang_fang");
    }
}

#[cfg(unix)]
mod private {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    /// Every file and folder under `root` (the root too), with its mode.
    fn walk(root: &Path, out: &mut Vec<(std::path::PathBuf, u32)>) {
        out.push((root.to_path_buf(), mode(root)));
        if root.is_dir() {
            for e in std::fs::read_dir(root).expect("read_dir") {
                walk(&e.expect("entry").path(), out);
            }
        }
    }

    fn assert_private(db: &Path) {
        assert_eq!(mode(db), 0o700, "{}", db.display());
        let mut all = Vec::new();
        walk(db, &mut all);
        assert!(all.len() > 2, "sled wrote no files? {all:?}");
        for (p, m) in all {
            assert_eq!(m & 0o077, 0, "{} is {m:o}", p.display());
        }
    }

    fn open(db: &Path) -> Engine {
        Engine::open(
            db,
            options(),
            Arc::new(ManualClock::new(sh(2026, 11, 30, 10, 0))),
        )
        .expect("open")
    }

    #[test]
    fn a_new_database_folder_and_its_files_are_the_owners_only() {
        let tmp = tempfile::tempdir().expect("tmp");
        // A folder that does not exist yet, two levels down: the store makes it.
        let db = tmp.path().join("data").join("baton");
        let e = open(&db);
        e.store.durable().expect("flush");
        assert_private(&db);
        drop(e);
        assert_private(&db);
    }

    /// A database made before, open to everyone (a folder 0755, files 0644, a
    /// subfolder 0755), is closed when it is opened.
    #[test]
    fn an_existing_database_open_to_everyone_is_closed_when_opened() {
        let tmp = tempfile::tempdir().expect("tmp");
        let db = tmp.path().join("baton");
        drop(open(&db));
        std::fs::create_dir_all(db.join("old")).expect("mkdir");
        std::fs::write(db.join("old").join("notes"), "張三 0912-345-678").expect("write");
        let mut all = Vec::new();
        walk(&db, &mut all);
        for (p, _) in &all {
            let m = if p.is_dir() { 0o755 } else { 0o644 };
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod");
        }
        assert_eq!(mode(&db), 0o755);
        drop(open(&db));
        assert_private(&db);
        assert_eq!(mode(&db.join("old")), 0o700);
        assert_eq!(mode(&db.join("old").join("notes")), 0o600);
    }

    /// An empty folder made for the database beforehand (0755, as `mkdir` leaves
    /// it) is closed too.
    #[test]
    fn an_empty_folder_made_beforehand_is_closed() {
        let tmp = tempfile::tempdir().expect("tmp");
        let db = tmp.path().join("baton");
        std::fs::create_dir(&db).expect("mkdir");
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        drop(open(&db));
        assert_private(&db);
    }
}
