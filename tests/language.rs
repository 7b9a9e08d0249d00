//! The real `baton` binary on the company's definitions: check, fmt, graph.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn baton(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("baton runs")
}

fn flows() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("processes"))
        .expect("processes/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .map(|p| p.file_stem().expect("stem").to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn every_process_checks_clean_against_the_staff_directory() {
    let out = baton(&["check", "processes/", "--staff", "processes/staff.ron"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.trim().is_empty(),
        "no diagnostics expected:\n{stdout}"
    );
    for name in [
        "complaint",
        "hiring",
        "onboarding",
        "probation",
        "coordination",
        "trip_care",
        "daily_report",
        "weekly_hotspots",
        "callback",
        "member_care",
        "member_anniversary",
        "member_activity",
        "quality_evaluation",
        "quality_daily",
        "quality_weekly",
        "rectification",
        "liaison",
        "probation_termination",
        "scenic_orders",
        "scenic_weekly",
        "case_training",
        "training_weekly",
        "training_monthly",
        "training_quarterly",
        "appraisal",
        "targets",
        "weekly_summary",
        "monthly_summary",
        "weekly_report",
        "service_request",
    ] {
        assert!(
            flows().iter().any(|f| f == name),
            "processes/{name}.flow is missing"
        );
    }
}

#[test]
fn every_process_is_formatted() {
    let out = baton(&["fmt", "--check", "processes/"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn exit_codes_and_json_diagnostics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.flow");
    std::fs::write(
        &bad,
        "process p {\n  step a {\n    task for starter\n    next don\n  }\n  end done\n}\n",
    )
    .expect("write");
    let bad = bad.to_string_lossy().into_owned();
    let out = baton(&["check", &bad, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["errors"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "E002");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(4), Some(10))
    );
    assert_eq!(d["help"], "did you mean `done`?");

    // Unreadable input and bad usage are 2, not 1.
    assert_eq!(
        baton(&["check", "no/such/file.flow"]).status.code(),
        Some(2)
    );
    assert_eq!(baton(&["check", "--format", "xml"]).status.code(), Some(2));
}

#[test]
fn text_diagnostics_point_at_the_line_with_a_caret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.flow");
    std::fs::write(
        &bad,
        "process p \"投訴\" {\n  step 受理 {\n    task for starter\n    next 結案x\n  }\n  end 結案\n}\n",
    )
    .expect("write");
    let out = baton(&["check", &bad.to_string_lossy()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bad.flow:4:10"), "{text}");
    assert!(
        text.contains("4 |     next 結案x\n  |          ^^^^^"),
        "{text}"
    );
}

#[test]
fn fmt_rewrites_a_file_and_then_has_nothing_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("p.flow");
    std::fs::write(
        &f,
        "process p {\n step a {   next  done }   # 註\n\n\n end done\n}\n",
    )
    .expect("write");
    let path = f.to_string_lossy().into_owned();
    assert_eq!(baton(&["fmt", "--check", &path]).status.code(), Some(1));
    assert_eq!(baton(&["fmt", &path]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&f).expect("read"),
        "process p {\n  step a { next done }  # 註\n\n  end done\n}\n"
    );
    assert_eq!(baton(&["fmt", "--check", &path]).status.code(), Some(0));
}

/// The dot output must render with the real Graphviz. `.ci/run` installs it; where it
/// is missing the test fails rather than passing silently.
#[test]
fn every_diagram_renders_with_graphviz() {
    for name in flows() {
        let out = baton(&["graph", &name, "--format", "dot"]);
        assert_eq!(out.status.code(), Some(0), "{name}");
        let dot = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(dot.contains("->"), "{name} has transitions");
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("Graphviz `dot` is installed (apt-get install graphviz)");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(dot.as_bytes())
            .expect("write dot");
        let res = child.wait_with_output().expect("dot finishes");
        assert!(
            res.status.success() && res.stderr.is_empty(),
            "{name}: {}",
            String::from_utf8_lossy(&res.stderr)
        );
        assert!(String::from_utf8_lossy(&res.stdout).contains("<svg"));
    }
    let mermaid = baton(&["graph", "complaint", "--format", "mermaid"]);
    let text = String::from_utf8_lossy(&mermaid.stdout);
    assert!(text.starts_with("flowchart TD"));
    assert!(
        text.contains("客戶接受解釋"),
        "choice labels on edges:\n{text}"
    );
    assert!(
        text.contains("escalate to cs_manager"),
        "escalations shown:\n{text}"
    );
}

/// docs/processes.md is what `baton docs` writes from the definitions: a definition
/// changed without the page fails here.
#[test]
fn the_processes_page_is_what_the_definitions_say() {
    let out = baton(&[
        "docs",
        "processes/",
        "--out",
        "docs/processes.md",
        "--check",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And it tells every process, each with its section of the regulation and the
    // staff's own words for roles.
    let page = std::fs::read_to_string(root().join("docs/processes.md")).expect("the page");
    for name in flows() {
        assert!(
            page.contains(&format!("<a id=\"{name}\"></a>")),
            "{name} is missing"
        );
    }
    assert!(page.contains("客戶服務中心主管"), "role titles");
    assert!(
        !page.contains("| cs_center_supervisor"),
        "a role shown by its id"
    );
    let sections = page.matches("- **Regulation 制度依據：** 第").count();
    assert_eq!(sections, flows().len(), "every process cites its section");
}

/// A page that differs from the definitions is refused with the command that fixes it.
#[test]
fn a_stale_processes_page_is_refused() {
    let dir = std::env::temp_dir().join(format!("baton-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let page = dir.join("processes.md");
    std::fs::write(&page, "# old\n").expect("write");
    let page = page.to_string_lossy().into_owned();
    let out = baton(&["docs", "processes/", "--out", &page, "--check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `baton docs processes/"));
    let out = baton(&["docs", "processes/", "--out", &page]);
    assert_eq!(out.status.code(), Some(0));
    let out = baton(&["docs", "processes/", "--out", &page, "--check"]);
    assert_eq!(out.status.code(), Some(0));
    std::fs::remove_dir_all(&dir).ok();
}

/// People read labels, not field names: every field of every shipped definition,
/// and every field of a list's elements, has one.
#[test]
fn every_field_people_read_has_a_label() {
    let mut unlabelled = Vec::new();
    for name in flows() {
        let path = root().join("processes").join(format!("{name}.flow"));
        let src = std::fs::read_to_string(&path).expect("read");
        let Some(def) = baton_dsl::check(&src, &Default::default()).definition else {
            continue; // `every_process_checks_clean...` reports it
        };
        for f in &def.fields {
            if f.label.is_none() {
                unlabelled.push(format!("{name}: {}", f.name));
            }
            if let baton_dsl::model::Type::List(l) = &f.ty {
                for e in l.fields.iter().filter(|e| e.label.is_none()) {
                    unlabelled.push(format!("{name}: {}.{}", f.name, e.name));
                }
            }
        }
    }
    assert!(unlabelled.is_empty(), "without a label: {unlabelled:#?}");
}
