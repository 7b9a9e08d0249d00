//! The real `baton` binary on hostile input: a definition nested far too deeply is
//! reported (E013, with file:line:column, exit code 1) by `check`, `graph` and
//! `deploy`, never a crash. Before the nesting limit, each of these aborted with a
//! stack overflow (SIGABRT).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn baton(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(dir)
        .env_remove("BATON_DB")
        .env_remove("BATON_SERVER")
        .env_remove("BATON_AS")
        .output()
        .expect("baton runs")
}

/// A small definition whose `require` is nested `depth` parentheses deep (2 KB for
/// 1,000), and whose step hands its task up 13,000 supervisors.
fn deep(depth: usize, supervisors: usize) -> String {
    format!(
        "process deep {{\n  data {{\n    x integer\n  }}\n  require {}x{} == 1 \"m\"\n  step a {{\n    task for {}starter\n    next done\n  }}\n  end done\n}}\n",
        "(".repeat(depth),
        ")".repeat(depth),
        "supervisor of ".repeat(supervisors)
    )
}

/// The start of a long output, for a failure message.
fn short(s: &str) -> String {
    s.chars().take(2_000).collect()
}

/// Exit code 1, not a signal, and the E013 message in `text`.
fn assert_reported(out: &Output, text: &str, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        short(&String::from_utf8_lossy(&out.stdout)),
        short(&String::from_utf8_lossy(&out.stderr))
    );
    assert!(text.contains("error[E013]"), "{what}: {}", short(text));
    assert!(
        text.contains("nested too deeply"),
        "{what}: {}",
        short(text)
    );
}

#[test]
fn check_and_graph_report_deep_nesting() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("deep.flow"), deep(1_000, 0)).expect("write");
    std::fs::write(dir.path().join("chain.flow"), deep(0, 13_000)).expect("write");
    std::fs::write(
        dir.path().join("minus.flow"),
        deep(0, 0).replace("require x", &format!("require {}x", "-".repeat(5_500))),
    )
    .expect("write");

    let out = baton(&["check", "."], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_reported(&out, &stdout, "check");
    assert_eq!(
        stdout.matches("error[E013]").count(),
        3,
        "{}",
        short(&stdout)
    );
    // Where the 65th level opens.
    assert!(stdout.contains("deep.flow:5:74"), "{}", short(&stdout));
    assert!(stdout.contains("chain.flow:7:"), "{}", short(&stdout));

    let out = baton(&["check", "--format", "json", "deep.flow"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["diagnostics"][0]["code"], "E013");
    assert_eq!(doc["diagnostics"][0]["line"], 5);

    for file in ["deep.flow", "chain.flow", "minus.flow"] {
        let out = baton(&["graph", file], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_reported(&out, &stderr, &format!("graph {file}"));
        let out = baton(&["fmt", "--check", file], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_reported(&out, &stderr, &format!("fmt {file}"));
    }
}

/// `baton deploy` (what `baton serve` does with its folder) refuses the file, deploys
/// the others, and exits cleanly.
#[test]
fn deploy_refuses_a_deep_definition_and_keeps_the_others() {
    let dir = tempfile::tempdir().expect("temp dir");
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).expect("mkdir");
    for f in ["staff.ron", "complaint.flow"] {
        std::fs::copy(root().join("processes").join(f), flows.join(f)).expect("copy");
    }
    std::fs::write(flows.join("deep.flow"), deep(1_000, 13_000)).expect("write");
    let out = baton(&["deploy", "flows", "--db", "db"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_reported(&out, &stderr, "deploy");
    assert!(
        stderr.contains("deep.flow: not deployed"),
        "{}",
        short(&stderr)
    );
    assert!(stdout.contains("complaint"), "{}", short(&stdout));
}

/// `baton serve` deploys its folder at start: the deep file is logged as not deployed
/// with E013, and the server keeps running and stops cleanly.
#[test]
fn serve_logs_a_deep_definition_and_keeps_running() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().expect("temp dir");
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).expect("mkdir");
    for f in ["staff.ron", "complaint.flow"] {
        std::fs::copy(root().join("processes").join(f), flows.join(f)).expect("copy");
    }
    std::fs::write(flows.join("deep.flow"), deep(1_000, 13_000)).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args([
            "serve",
            "--db",
            "db",
            "--dir",
            "flows",
            "--addr",
            "127.0.0.1:0",
        ])
        .current_dir(dir.path())
        .env_remove("BATON_ADDR")
        .env_remove("BATON_DB")
        .env("BATON_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("baton serve starts");
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    let (mut refused, mut listening) = (false, false);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(refused && listening) && Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                refused |= line.contains("nested too deeply");
                listening |= line.contains("HTTP API on http://");
                log.push(line);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => break,
        }
    }
    let alive = matches!(child.try_wait(), Ok(None));
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let status = child.wait().expect("exits");
    let log = short(&log.join("\n"));
    assert!(refused && listening, "{log}");
    assert!(alive, "{log}");
    assert!(status.success(), "{status}: {log}");
}
