//! One fixture per code: `fixtures/codes/E030.flow` gives exactly one diagnostic, with
//! code E030, through the public `check`, and its rendering is snapshotted. Every code
//! of the catalogue has such a file, so no code goes untested.

use baton_dsl::{check, Code, Context, Located, PersonShape, Signature, StaffNames};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Codes reserved in the catalogue for checks that are not written yet, so they have
/// no fixture. This list must shrink to empty: the work that makes the checker report
/// one of them adds its fixture and takes it off the list.
const RESERVED_WITHOUT_FIXTURE: &[Code] = &[];

/// Codes no input should ever produce: a fault of Baton's own, reported instead of a
/// crash. They cannot have a fixture.
const NEVER_FROM_INPUT: &[Code] = &[Code::Internal];

fn staff() -> StaffNames {
    let set = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
    // The directory's shape: the CS manager has no supervisor.
    let person = |name: &str, role: &str, dept: &str, sup: Option<&str>| PersonShape {
        name: name.into(),
        roles: [role.to_string()].into(),
        department: dept.into(),
        supervisor: sup.map(str::to_string),
    };
    StaffNames {
        roles: set(&["agent", "cs_manager", "hr_officer"]),
        people: set(&["chen_jing", "liu_yang", "wang_fang"]),
        departments: set(&["cs", "hr"]),
        shape: [
            (
                "chen_jing".to_string(),
                person("陳靜", "cs_manager", "cs", None),
            ),
            (
                "liu_yang".to_string(),
                person("劉洋", "hr_officer", "hr", Some("chen_jing")),
            ),
            (
                "wang_fang".to_string(),
                person("王芳", "agent", "cs", Some("chen_jing")),
            ),
        ]
        .into(),
        heads: [
            ("cs".to_string(), "chen_jing".to_string()),
            ("hr".to_string(), "liu_yang".to_string()),
        ]
        .into(),
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The processes a `start` may name: the good fixtures.
fn signatures() -> BTreeMap<String, Signature> {
    std::fs::read_dir(fixtures().join("good"))
        .expect("good fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .filter_map(|p| baton_dsl::signature(&std::fs::read_to_string(p).ok()?))
        .collect()
}

#[test]
fn every_code_has_a_fixture_that_gives_exactly_that_code() {
    let sigs = signatures();
    let names = staff();
    let ctx = Context {
        staff: Some(&names),
        processes: Some(&sigs),
    };
    let mut missing = Vec::new();
    // Every wrong fixture is reported, not only the first.
    let mut wrong = Vec::new();
    for &code in Code::ALL {
        let id = code.id();
        let path = fixtures().join("codes").join(format!("{id}.flow"));
        let reserved = RESERVED_WITHOUT_FIXTURE.contains(&code) || NEVER_FROM_INPUT.contains(&code);
        if !path.exists() {
            if !reserved {
                missing.push(id);
            }
            continue;
        }
        assert!(
            !reserved,
            "{id} has a fixture now: take it off RESERVED_WITHOUT_FIXTURE"
        );
        let src = std::fs::read_to_string(&path).expect("fixture readable");
        let out = check(&src, &ctx);
        let codes: Vec<Code> = out.diagnostics.iter().map(|d| d.code).collect();
        if codes != [code] {
            let got: Vec<String> = out
                .diagnostics
                .iter()
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            wrong.push(format!("codes/{id}.flow gives {got:#?}"));
            continue;
        }
        assert_eq!(
            out.definition.is_some(),
            code.severity() == baton_dsl::Severity::Warning,
            "codes/{id}.flow: only a warning leaves a usable definition"
        );
        let name = format!("codes/{id}.flow");
        let rendered = out
            .diagnostics
            .into_iter()
            .map(|d| Located::new(&name, &src, d).render(&src))
            .collect::<String>();
        insta::assert_snapshot!(format!("code_{id}"), rendered);
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}

/// Every file in `codes/` is named after a code of the catalogue.
#[test]
fn every_code_fixture_is_named_after_a_code() {
    for e in std::fs::read_dir(fixtures().join("codes")).expect("codes folder") {
        let path = e.expect("entry").path();
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .to_string();
        assert!(
            path.extension().is_some_and(|x| x == "flow") && Code::from_id(&stem).is_some(),
            "{} is not named after a code",
            path.display()
        );
    }
}
