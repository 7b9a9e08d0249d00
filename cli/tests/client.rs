//! The staff commands through a server print exactly what they print on the
//! database: the same commands run against an in-process server (no `baton serve`),
//! then, once it has stopped, on the same database folder with `--db`.

use baton_engine::clock::SystemClock;
use baton_engine::store::Options;
use baton_engine::{tokens, Engine};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

const ZONE: &str = "Asia/Shanghai";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn baton(args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_baton"));
    cmd.args(args)
        .env_remove("BATON_SERVER")
        .env_remove("BATON_TOKEN")
        .env_remove("BATON_DB")
        .env_remove("BATON_AS")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", "/nonexistent")
        .env("BATON_ZONE", ZONE);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run baton");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Each read-only command, as (who, arguments).
const READS: &[(&str, &[&str])] = &[
    ("wang_fang", &["show", "1"]),
    ("wang_fang", &["show", "1", "--json"]),
    ("wang_fang", &["history", "1"]),
    ("wang_fang", &["history", "1", "--json"]),
    ("wang_fang", &["tasks"]),
    ("wang_fang", &["tasks", "--json"]),
    ("chen_jing", &["tasks"]),
    ("wang_fang", &["inbox"]),
    ("wang_fang", &["inbox", "--json"]),
    // Refusals: the same message and exit code.
    ("zhang_wei", &["claim", "1-2"]),
    ("wang_fang", &["complete", "1-1", "--set", "summary=again"]),
    ("wang_fang", &["show", "99"]),
];

#[test]
fn the_same_commands_print_the_same_through_a_server_and_on_the_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("db");
    let processes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../processes");
    let engine = Engine::open(
        &db,
        Options {
            zone: ZONE.parse().expect("zone"),
            ..Default::default()
        },
        Arc::new(SystemClock),
    )
    .expect("open");
    for r in engine.deploy_dir(&processes).expect("deploy") {
        r.result.expect("deployed");
    }
    let now = engine.clock.now();
    let token = |p: &str| tokens::issue(&*engine.store, p, now).expect("token");
    let (fang, wei, jing) = (token("wang_fang"), token("zhang_wei"), token("chen_jing"));

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = baton_server::AppState::new(Arc::new(engine));
    let server = rt.spawn(baton_server::serve(state, listener, async {
        let _ = stopped.await;
    }));

    let remote = |who: &str, args: &[&str]| {
        let t = match who {
            "wang_fang" => &fang,
            "zhang_wei" => &wei,
            _ => &jing,
        };
        baton(args, &[("BATON_SERVER", &url), ("BATON_TOKEN", t)])
    };
    // Changes go through the server.
    let r = remote(
        "wang_fang",
        &[
            "start",
            "complaint",
            "--set",
            "customer=張三",
            "--set",
            "contact=138",
            "--set",
            "channel=hotline",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("instance 1  客戶投訴處理 (complaint v1)  running"),
        "{}",
        r.stdout
    );
    let r = remote("wang_fang", &["claim", "1-1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = remote(
        "wang_fang",
        &[
            "complete",
            "1-1",
            "--set",
            "summary=x",
            "--set",
            "severity=major",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = remote("wang_fang", &["complete", "1-2", "--set", "severity=bogus"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("invalid data:"), "{}", r.stderr);

    let through_server: Vec<Run> = READS.iter().map(|(who, args)| remote(who, args)).collect();

    // A wrong token, no token and a server that is not there get clear messages.
    let r = baton(
        &["tasks"],
        &[("BATON_SERVER", &url), ("BATON_TOKEN", "baton_wrong")],
    );
    assert_eq!(r.code, 5);
    assert!(
        r.stderr.contains("does not accept this token"),
        "{}",
        r.stderr
    );
    let r = baton(&["tasks"], &[("BATON_SERVER", &url)]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("BATON_TOKEN"), "{}", r.stderr);
    let r = baton(
        &["tasks"],
        &[("BATON_SERVER", "http://127.0.0.1:9"), ("BATON_TOKEN", "x")],
    );
    assert_eq!(r.code, 9);
    assert!(
        r.stderr
            .contains("cannot reach the Baton server at http://127.0.0.1:9"),
        "{}",
        r.stderr
    );

    let _ = stop.send(());
    rt.block_on(server).expect("join").expect("serve");
    drop(rt);

    let db = db.display().to_string();
    for ((who, args), remote) in READS.iter().zip(through_server) {
        let mut local_args = vec!["--db", db.as_str(), "--as", who];
        local_args.extend_from_slice(args);
        let local = baton(&local_args, &[]);
        assert_eq!(remote.stdout, local.stdout, "{who} {args:?}");
        assert_eq!(remote.stderr, local.stderr, "{who} {args:?}");
        assert_eq!(remote.code, local.code, "{who} {args:?}");
    }
}
