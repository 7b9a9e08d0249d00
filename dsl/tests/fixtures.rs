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
        let rendered = render(f);
        assert!(!rendered.is_empty(), "{stem} must produce diagnostics");
        insta::assert_snapshot!(stem, rendered);
    }
}
