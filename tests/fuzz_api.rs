//! Schemathesis against a real `baton serve`, through scripts/fuzz-api.sh: no answer is
//! a server error and no request that meets the OpenAPI document is refused as
//! malformed. It needs Python and Schemathesis (installed from PyPI on first use), so
//! it runs only when asked:
//!
//!   BATON_FUZZ_API=1 cargo test -p baton-cli --test fuzz_api
//!   BATON_FUZZ_API=1 FUZZ_SECONDS=300 cargo test -p baton-cli --test fuzz_api

use std::path::Path;
use std::process::Command;

#[test]
fn schemathesis_finds_no_server_error_and_no_valid_request_refused() {
    if std::env::var_os("BATON_FUZZ_API").is_none() {
        eprintln!("skipped: set BATON_FUZZ_API=1 to fuzz the API with Schemathesis");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("bash")
        .arg(root.join("scripts/fuzz-api.sh"))
        .env("BATON_BIN", env!("CARGO_BIN_EXE_baton"))
        .env(
            "FUZZ_SECONDS",
            std::env::var("FUZZ_SECONDS").unwrap_or_else(|_| "60".into()),
        )
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        last.contains(" 0 server errors, 0 schema-valid requests rejected"),
        "{stdout}"
    );
}
