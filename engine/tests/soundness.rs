//! Soundness of `baton check --staff`: a definition the checker passes never leaves
//! an instance unable to go on for a reason that depends only on the definition, the
//! staff directory's shape and the data's declared types.
//!
//! Definitions are generated as source text (`soundness/generate.rs`), kept when the
//! checker passes them against this test's directory, and walked on the pure core:
//! start with random valid data, then complete tasks as their candidates, sign or
//! refuse, or move the manual clock to the next timer and fire it. No legitimate
//! command may be refused as `Stuck`, and a running instance must always leave
//! somebody something to do or a timer that moves it on.
//!
//! `BATON_SOUNDNESS_CASES` sets the number of definitions (default 1,500, a few seconds);
//! `BATON_SOUNDNESS_KIND` makes only failures whose kind contains that text count
//! (to shrink one kind at a time); `BATON_SOUNDNESS_EXPLORE=1` runs a census that
//! does not stop at the first failure and prints the smallest definition of each
//! kind of failure, and the checker's error codes among the refused ones
//! (`BATON_SOUNDNESS_SHOW=E040` prints those refused with that code);
//! `BATON_SOUNDNESS_REPLAY=1` walks each file of `tests/soundness_cases/` that the
//! checker still passes and prints what goes wrong in it.
//!
//! A counterexample either test finds is a checker bug: fix the checker and keep the
//! definition in `tests/soundness_cases/`.

#[path = "soundness/generate.rs"]
mod generate;
#[path = "soundness/walk.rs"]
mod walk;

use baton_dsl::model::Definition;
use baton_dsl::{check, Context, StaffNames};
use baton_engine::calendar::Calendar;
use baton_engine::core::Ctx;
use baton_engine::staff::{Department, Directory, Person};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;
/// Walks per definition, each with its own starter, data and choices.
const WALKS: u64 = 2;

/// The company in small: a general manager with no supervisor heading the office,
/// a customer-service department and an HR department with their heads.
fn directory() -> Directory {
    let dept = |id: &str, head: &str| Department {
        id: id.into(),
        name: id.into(),
        head: head.into(),
    };
    let person = |id: &str, department: &str, roles: &[&str], supervisor: Option<&str>| Person {
        id: id.into(),
        name: id.into(),
        department: department.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        supervisor: supervisor.map(str::to_string),
    };
    Directory::new(
        vec![
            dept("office", "gm"),
            dept("cs", "cs_mgr"),
            dept("hr", "hr_head"),
        ],
        vec![
            person("gm", "office", &["general_manager"], None),
            person("cs_mgr", "cs", &["cs_manager"], Some("gm")),
            person("agent_a", "cs", &["agent"], Some("cs_mgr")),
            person("agent_b", "cs", &["agent"], Some("cs_mgr")),
            person("hr_head", "hr", &["hr_officer"], Some("gm")),
            person("hr_clerk", "hr", &["hr_officer"], Some("hr_head")),
        ],
    )
}

fn staff_names(dir: &Directory) -> StaffNames {
    dir.names()
}

/// The definition if `baton check --staff` passes it.
fn checked(src: &str, names: &StaffNames) -> Option<Definition> {
    let out = check(
        src,
        &Context {
            staff: Some(names),
            processes: None,
        },
    );
    // W005, W006 and W007 are the checker's word that a who-chain finds nobody for
    // someone who may start it, that the starter may be asked to approve their own
    // request, or that what `except` (or the rule that a starter does not decide
    // their own request) leaves out is everyone: the definition is flagged, so it
    // makes no promise for them.
    if out.errors().next().is_some()
        || out
            .diagnostics
            .iter()
            .any(|d| ["W005", "W006", "W007"].contains(&d.code.id()))
    {
        return None;
    }
    out.definition
}

fn cases() -> u32 {
    std::env::var("BATON_SOUNDNESS_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500)
}

struct World {
    dir: Directory,
    names: StaffNames,
    calendar: Calendar,
    owners: std::collections::BTreeMap<String, String>,
}

impl World {
    fn new() -> World {
        let dir = directory();
        let names = staff_names(&dir);
        World {
            dir,
            names,
            calendar: Calendar::standard(ZONE),
            owners: Default::default(),
        }
    }
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            directory: &self.dir,
            zone: ZONE,
            admin_role: "admin",
            calendar: &self.calendar,
            owners: &self.owners,
            child_check: None,
            language: Default::default(),
        }
    }
}

#[derive(Default)]
struct Tally {
    generated: AtomicUsize,
    passed: AtomicUsize,
    steps: AtomicUsize,
    frozen: AtomicBool,
}

/// One generated definition: checked, then walked `WALKS` times. Counts go to
/// `tally` until the first failure (shrinking runs are not counted).
fn one(world: &World, spec: &generate::Spec, seed: u64, tally: &Tally) -> Option<walk::Failure> {
    let src = generate::render(spec);
    let count = !tally.frozen.load(Ordering::Relaxed);
    if count {
        tally.generated.fetch_add(1, Ordering::Relaxed);
    }
    let def = checked(&src, &world.names)?;
    if count {
        tally.passed.fetch_add(1, Ordering::Relaxed);
    }
    let ctx = world.ctx();
    for w in 0..WALKS {
        let r = walk::walk(
            &def,
            &src,
            seed.wrapping_add(w.wrapping_mul(0x9e37_79b9)),
            &world.dir,
            &ctx,
        );
        if count {
            tally.steps.fetch_add(r.steps, Ordering::Relaxed);
        }
        if let Some(f) = r.failure {
            return Some(f);
        }
    }
    None
}

fn kind_filter() -> Option<String> {
    std::env::var("BATON_SOUNDNESS_KIND")
        .ok()
        .filter(|s| !s.is_empty())
}

// Re-enabled when the checker catches the cases in tests/soundness_cases/.
#[test]
fn checked_definitions_never_get_stuck() {
    big_stack(property);
}

/// The generated strategy's value trees and the parser nest deeply in a debug build.
fn big_stack(f: fn()) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .expect("a thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

fn property() {
    let world = World::new();
    let tally = Tally::default();
    let started = std::time::Instant::now();
    if std::env::var("BATON_SOUNDNESS_EXPLORE").is_ok_and(|v| v == "1") {
        explore(&world, &tally);
        return;
    }
    if std::env::var("BATON_SOUNDNESS_REPLAY").is_ok_and(|v| v == "1") {
        replay(&world);
        return;
    }
    let filter = kind_filter();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/soundness.proptest-regressions"
        )))),
        max_shrink_iters: 4096,
        // The same definitions on every run, so that CI is repeatable; a longer run
        // with `BATON_SOUNDNESS_SEED` (or `random`) explores further.
        rng_seed: match std::env::var("BATON_SOUNDNESS_SEED").ok().as_deref() {
            Some("random") => proptest::test_runner::RngSeed::Random,
            Some(n) => proptest::test_runner::RngSeed::Fixed(n.parse().unwrap_or(1)),
            None => proptest::test_runner::RngSeed::Fixed(1),
        },
        ..Config::default()
    });
    let result = runner.run(
        &(generate::spec(), proptest::num::u64::ANY),
        |(spec, seed)| match one(&world, &spec, seed, &tally) {
            Some(f) if filter.as_ref().is_none_or(|k| f.kind.contains(k.as_str())) => {
                tally.frozen.store(true, Ordering::Relaxed);
                Err(TestCaseError::fail(format!("{}\n{}", f.kind, f.detail)))
            }
            _ => Ok(()),
        },
    );
    eprintln!(
        "soundness: {} definitions generated, {} passed the checker ({:.0}%), {} walker steps, {:.1}s{}",
        tally.generated.load(Ordering::Relaxed),
        tally.passed.load(Ordering::Relaxed),
        100.0 * tally.passed.load(Ordering::Relaxed) as f64
            / tally.generated.load(Ordering::Relaxed).max(1) as f64,
        tally.steps.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        if tally.frozen.load(Ordering::Relaxed) { " (counted up to the first failure)" } else { "" }
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A census: every generated definition, failures grouped by kind, the shortest
/// definition of each kind printed.
fn explore(world: &World, tally: &Tally) {
    let started = std::time::Instant::now();
    let mut runner = TestRunner::deterministic();
    let strategy = (generate::spec(), proptest::num::u64::ANY);
    let mut kinds: BTreeMap<String, (usize, walk::Failure, usize)> = BTreeMap::new();
    let mut failing = 0;
    let mut refused: BTreeMap<&'static str, usize> = BTreeMap::new();
    for _ in 0..cases() {
        let (spec, seed) = strategy.new_tree(&mut runner).expect("a value").current();
        let src = generate::render(&spec);
        let out = check(
            &src,
            &Context {
                staff: Some(&world.names),
                processes: None,
            },
        );
        let mut codes: Vec<&'static str> = out.errors().map(|d| d.code.id()).collect();
        codes.sort();
        codes.dedup();
        for c in codes {
            *refused.entry(c).or_default() += 1;
        }
        if std::env::var("BATON_SOUNDNESS_SHOW")
            .is_ok_and(|v| out.errors().any(|d| d.code == v.as_str()))
        {
            let d = out.errors().next().expect("an error");
            eprintln!("{}: {}\n{src}", d.code, d.message);
        }
        if let Some(f) = one(world, &spec, seed, tally) {
            failing += 1;
            let len = generate::render(&spec).len();
            let e = kinds.entry(f.kind.clone()).or_insert((0, f.clone(), len));
            e.0 += 1;
            if len < e.2 {
                e.1 = f;
                e.2 = len;
            }
        }
    }
    for (kind, (n, f, _)) in &kinds {
        eprintln!("==== {n} × {kind}\n{}\n", f.detail);
    }
    let passed = tally.passed.load(Ordering::Relaxed);
    eprintln!(
        "soundness census: {} definitions generated, {} passed the checker ({:.0}%), {} of those failed a walk, {} walker steps, {:.1}s",
        tally.generated.load(Ordering::Relaxed),
        passed,
        100.0 * passed as f64 / tally.generated.load(Ordering::Relaxed).max(1) as f64,
        failing,
        tally.steps.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    for (kind, (n, _, _)) in &kinds {
        eprintln!("  {n:5} {kind}");
    }
    eprintln!("checker errors among the refused definitions (definitions per code): {refused:?}");
}

fn case_files() -> Vec<std::path::PathBuf> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/soundness_cases");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("tests/soundness_cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .collect();
    files.sort();
    files
}

/// Walk each saved counterexample that the checker still passes, to confirm it
/// does go wrong at run time, and print how.
fn replay(world: &World) {
    let ctx = world.ctx();
    for path in case_files() {
        let src = std::fs::read_to_string(&path).expect("readable");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(def) = checked(&src, &world.names) else {
            eprintln!("{name}: refused by the checker");
            continue;
        };
        let found = (1..=300u64)
            .filter_map(|seed| walk::walk(&def, &src, seed * 7919, &world.dir, &ctx).failure)
            .next();
        match found {
            Some(f) => eprintln!("{name}: {}", f.detail.lines().next().unwrap_or("")),
            None => eprintln!("{name}: NO FAILURE in 300 walks"),
        }
    }
}

/// Definitions that once went wrong at run time for a reason the engine, not the
/// checker, had to fix: each checks clean and no walk of it goes wrong.
#[test]
fn engine_fixed_cases_run_to_the_end() {
    let world = World::new();
    let ctx = world.ctx();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/soundness_runs");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("tests/soundness_runs")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let src = std::fs::read_to_string(&path).expect("readable");
        let def = checked(&src, &world.names)
            .unwrap_or_else(|| panic!("{} checks clean", path.display()));
        for seed in 1..=300u64 {
            let w = walk::walk(&def, &src, seed * 7919, &world.dir, &ctx);
            assert!(
                w.failure.is_none(),
                "{}: {}",
                path.display(),
                w.failure.map(|f| f.detail).unwrap_or_default()
            );
        }
    }
}

/// Every saved counterexample must be refused by the checker.
#[test]
fn saved_counterexamples_fail_the_checker() {
    let world = World::new();
    let files = case_files();
    assert!(!files.is_empty(), "no cases in tests/soundness_cases");
    let passing: Vec<String> = files
        .iter()
        .filter(|p| {
            let src = std::fs::read_to_string(p).expect("readable");
            checked(&src, &world.names).is_some()
        })
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        passing.is_empty(),
        "the checker passes {} of {} counterexamples: {passing:?}",
        passing.len(),
        files.len()
    );
}
