//! What the end-to-end tests share: a copy of processes/, a real `baton serve` and
//! the real CLI against it. Each test binary includes this module and uses part of
//! it, hence `dead_code` is allowed here.
#![allow(dead_code)]

pub mod api;
pub mod hook;
pub mod load;
pub mod proxy;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A folder like processes/: every definition, the staff directory, the configuration.
pub fn processes_copy(into: &Path) -> PathBuf {
    let dir = into.join("processes");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for e in std::fs::read_dir(root().join("processes")).expect("processes/") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        if name.ends_with(".flow") || name == "staff.ron" || name == "baton.ron" {
            std::fs::copy(&p, dir.join(&name)).expect("copy");
        }
    }
    dir
}

/// A running `baton serve` on a machine in UTC, stopped (SIGKILL) if a test fails
/// before it stops it.
pub struct Server {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    /// Every line of its log so far.
    log: Arc<Mutex<Vec<String>>>,
    pub url: String,
    pub db: PathBuf,
    /// Where it runs: with PostgreSQL, where it writes `admin.token`.
    pub cwd: Option<PathBuf>,
}

/// Is `db` a PostgreSQL address rather than a folder?
pub fn is_postgres(db: &Path) -> bool {
    db.to_str().is_some_and(baton_engine::store::is_postgres)
}

impl Server {
    pub fn start(db: &Path, dir: &Path) -> Server {
        Server::start_in(db, dir, None)
    }

    /// As `start`, in the folder `cwd` (a node of several on one PostgreSQL).
    pub fn start_in(db: &Path, dir: &Path, cwd: Option<&Path>) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_baton"));
        if let Some(c) = cwd {
            cmd.current_dir(c);
        }
        let mut child = cmd
            .arg("serve")
            .arg("--db")
            .arg(db)
            .arg("--dir")
            .arg(dir)
            .args(["--addr", "127.0.0.1:0"])
            .env_remove("BATON_ADDR")
            .env_remove("BATON_DB")
            .env_remove("BATON_ZONE")
            .env("TZ", "UTC")
            .env("BATON_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("baton serve starts");
        let (tx, rx) = mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let err = child.stderr.take().expect("stderr");
        let keep = log.clone();
        // Read the log to its end whatever the test waits for, so that the server
        // never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                keep.lock().expect("log").push(line.clone());
                let _ = tx.send(line);
            }
        });
        let mut s = Server {
            child,
            lines: rx,
            log,
            url: String::new(),
            db: db.to_path_buf(),
            cwd: cwd.map(Path::to_path_buf),
        };
        let line = s.wait_for("HTTP API on http://");
        let at = line.find("http://").expect("an address");
        s.url = line[at..]
            .split_whitespace()
            .next()
            .expect("url")
            .to_string();
        s
    }

    /// The first log line from now on that contains `what`.
    pub fn wait_for(&mut self, what: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line.contains(what) => return line,
                Ok(_) => {}
                Err(e) => panic!(
                    "baton serve never said `{what}` ({e}); its log:\n{}",
                    self.log().join("\n")
                ),
            }
        }
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    pub fn admin_token(&self) -> String {
        let file = match (&self.cwd, is_postgres(&self.db)) {
            (Some(c), true) => c.join("admin.token"),
            _ => self.db.join("admin.token"),
        };
        std::fs::read_to_string(file)
            .expect("admin.token")
            .trim()
            .to_string()
    }

    /// SIGTERM, and wait until it has stopped cleanly.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        assert!(sent.success());
        // Every handle on the database was let go, so it could be checkpointed
        // (PostgreSQL keeps its own files).
        if !is_postgres(&self.db) {
            self.wait_for("checkpointed");
        }
        self.wait_for("stopped cleanly");
        let status = self.child.wait().expect("exits");
        assert!(status.success(), "{status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What a CLI command did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Its stderr, once it is sure it ended with `code`.
    #[track_caller]
    pub fn fails(&self, code: i32) -> &str {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        &self.stderr
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok()).expect("JSON")
    }
}

/// The CLI against the server, as the person whose token this is, showing times in
/// Shanghai.
pub fn baton(server: &str, token: &str, args: &[&str]) -> Run {
    cli(server, token, args, Some("Asia/Shanghai"))
}

/// The CLI against the server on a machine in UTC, showing times in `zone` (none:
/// the company's, as the server says).
pub fn cli(server: &str, token: &str, args: &[&str], zone: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_baton"));
    cmd.args(args)
        .env_remove("BATON_DB")
        .env_remove("BATON_AS")
        .env_remove("BATON_ZONE")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", "/nonexistent")
        .env("TZ", "UTC")
        .env("BATON_SERVER", server)
        .env("BATON_TOKEN", token);
    if let Some(z) = zone {
        cmd.env("BATON_ZONE", z);
    }
    let out = cmd.output().expect("baton runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
