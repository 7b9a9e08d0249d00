//! Fixture folders: every file in `good/` checks clean; every file in `bad/` gives
//! exactly the diagnostics in its snapshot (file:line:column, caret, code, help).

use baton_dsl::{check, Context, Located, Signature, StaffNames};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn staff() -> StaffNames {
    let set = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
    StaffNames {
        roles: set(&["agent", "cs_manager", "hr_officer"]),
        people: set(&["chen_jing", "liu_yang", "wang_fang"]),
        departments: set(&["cs", "hr"]),
        ..Default::default()
    }
}

fn files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("fixture folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .collect();
    v.sort();
    v
}

fn signatures(paths: &[PathBuf]) -> BTreeMap<String, Signature> {
    paths
        .iter()
        .filter_map(|p| baton_dsl::signature(&std::fs::read_to_string(p).ok()?))
        .collect()
}

fn render(path: &Path) -> String {
    let src = std::fs::read_to_string(path).expect("fixture readable");
    let sigs = signatures(&files("good"));
    let names = staff();
    let ctx = Context {
        staff: Some(&names),
        processes: Some(&sigs),
    };
    let name = format!("bad/{}", path.file_name().expect("name").to_string_lossy());
    check(&src, &ctx)
        .diagnostics
        .into_iter()
        .map(|d| Located::new(&name, &src, d).render(&src))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn good_fixtures_check_clean() {
    let good = files("good");
    assert!(!good.is_empty());
    let sigs = signatures(&good);
    let names = staff();
    for f in &good {
        let src = std::fs::read_to_string(f).expect("readable");
        let out = check(
            &src,
            &Context {
                staff: Some(&names),
                processes: Some(&sigs),
            },
        );
        assert!(
            out.diagnostics.is_empty(),
            "{}: {:#?}",
            f.display(),
            out.diagnostics
        );
        assert!(out.definition.is_some());
    }
}

#[test]
fn bad_fixtures_match_their_snapshots() {
    let bad = files("bad");
    assert!(bad.len() >= 8);
    for f in &bad {
        let stem = f.file_stem().expect("stem").to_string_lossy().to_string();
        // Only the syntax fixture may fail to parse: any other that does would test
        // the parser's recovery, not the checks it is named after.
        if stem != "syntax_errors" {
            let src = std::fs::read_to_string(f).expect("fixture readable");
            let out = check(&src, &Context::default());
            assert!(
                out.diagnostics.iter().all(|d| d.code != "E001"),
                "bad/{stem}.flow does not parse: {:#?}",
                out.diagnostics
            );
        }
        let rendered = render(f);
        assert!(!rendered.is_empty(), "{stem} must produce diagnostics");
        insta::assert_snapshot!(stem, rendered);
    }
}

/// The caret is placed by display width: after Chinese text (two columns a
/// character) it still stands under the unknown field.
#[test]
fn caret_lines_up_after_chinese_text() {
    let src = "process p \"報銷\" {\n  step a \"審核金額\" { task for starter  fill amonut  next done }\n  end done\n}\n";
    let out = check(src, &Context::default());
    let unknown: Vec<_> = out
        .diagnostics
        .into_iter()
        .filter(|d| d.code == "E003" && d.message.contains("amonut"))
        .collect();
    assert_eq!(unknown.len(), 1);
    let text = Located::new("p.flow", src, unknown[0].clone()).render(src);
    let lines: Vec<&str> = text.lines().collect();
    let source = lines
        .iter()
        .find(|l| l.starts_with("2 | "))
        .expect("the source line is shown");
    let carets = lines
        .iter()
        .find(|l| l.contains('^'))
        .expect("a caret line");
    let width = |s: &str| unicode_width::UnicodeWidthStr::width(s);
    let col_of = |s: &str, needle: &str| width(&s[..s.find(needle).expect("found")]);
    assert_eq!(col_of(carets, "^"), col_of(source, "amonut"), "\n{text}");
    assert_eq!(
        carets.trim_end().matches('^').count(),
        "amonut".len(),
        "\n{text}"
    );
}
