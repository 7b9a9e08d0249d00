//! `check` on completing a task, people and the instance as values, and `except` in
//! who positions: what the checker accepts, what it refuses and why.

use baton_dsl::model::{Expr, Who};
use baton_dsl::{check, Context, Outcome, PersonShape, StaffNames};

/// A directory in small: 陳靜 heads CS (no supervisor), 王芳 is an agent under her,
/// 劉洋 heads HR alone.
fn staff() -> StaffNames {
    let set = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
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
            ("chen_jing".into(), person("陳靜", "cs_manager", "cs", None)),
            (
                "liu_yang".into(),
                person("劉洋", "hr_officer", "hr", Some("chen_jing")),
            ),
            (
                "wang_fang".into(),
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

fn checked(src: &str) -> Outcome {
    let names = staff();
    check(
        src,
        &Context {
            staff: Some(&names),
            processes: None,
        },
    )
}

/// The codes a source gets, with `--staff`.
fn codes(src: &str) -> Vec<String> {
    checked(src)
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

/// A process whose one task fills `fill` and checks `cond`.
fn with_check(data: &str, fill: &str, cond: &str) -> String {
    format!(
        "process p {{\n  started by agent\n  data {{\n{data}\n  }}\n  step a {{\n    task for starter\n    fill {fill}\n    check {cond} \"不行\"\n    next done\n  }}\n  end done\n}}\n"
    )
}

#[test]
fn a_check_about_what_the_task_fills_is_accepted() {
    for (data, fill, cond) in [
        // The regulation's: the mentor is not the new employee.
        (
            "    employee person",
            "mentor: person",
            "mentor != employee",
        ),
        // Someone of the partner department.
        (
            "    partner department",
            "assignee: person",
            "assignee in department partner",
        ),
        // A number the person can raise far enough, whatever the data.
        ("    floor integer 0..5", "score: 0..10", "score >= floor"),
        ("    floor integer 0..5", "score: 0..10", "score >= 6"),
        // After a refusal, a solution within authority is not accepted; before it,
        // it is.
        (
            "    sent_back bool?",
            "within_authority: bool",
            "not (within_authority and (sent_back or false))",
        ),
        // Dates have no end: a later one can always be given.
        ("    start date", "until: date", "until > start + 1d"),
        (
            "    x integer 0..1",
            "who: person",
            "who has role hr_officer or x == 1",
        ),
    ] {
        let src = with_check(data, fill, cond);
        let out = checked(&src);
        assert!(out.diagnostics.is_empty(), "{cond}: {:#?}", out.diagnostics);
        let def = out.definition.expect("checks clean");
        let c = &def.steps[0].checks[0];
        assert_eq!(c.message, "不行");
        // The refusal names the data fields the condition reads.
        assert!(!c.fields.is_empty() && c.fields.windows(2).all(|w| w[0] < w[1]));
    }
}

#[test]
fn a_check_the_person_cannot_pass_is_refused_with_the_cases() {
    for (data, fill, cond, said) in [
        // Data given at the start: whoever does the task cannot change it.
        (
            "    score integer 0..100",
            "note: text",
            "score >= 60",
            "when score in [0, 59]",
        ),
        // No value of the range passes.
        (
            "    x integer 0..1",
            "score: 0..10",
            "score > 10",
            "no value passes it",
        ),
        // Made true whatever the floor, but not false when the floor is 0.
        (
            "    floor integer 0..5",
            "score: 0..10",
            "not (score >= floor)",
            "`score >= floor` is true",
        ),
        // Two parts on one filled field may each be met and not both.
        (
            "    lo integer 0..5\n    hi integer 0..5",
            "score: 0..10",
            "score >= lo and score <= hi",
            "could not be analysed",
        ),
        // Data and nothing the task fills.
        (
            "    employee person",
            "note: text",
            "employee != starter",
            "`employee != starter` is false",
        ),
    ] {
        let src = with_check(data, fill, cond);
        let got = codes(&src);
        assert_eq!(got.len(), 1, "{cond}: {got:#?}");
        assert!(got[0].starts_with("E088"), "{cond}: {got:#?}");
        assert!(got[0].contains(said), "{cond}: {got:#?}");
    }
}

#[test]
fn a_check_belongs_to_a_task_and_reads_only_what_has_a_value() {
    let src = "process p {\n  data {\n    x integer 0..3\n  }\n  step a {\n    check x > 1 \"x\"\n    rule {\n      x > 1 -> done\n      otherwise -> done\n    }\n  }\n  end done\n}\n";
    let got = codes(src);
    assert!(got.iter().any(|c| c.starts_with("E087")), "{got:#?}");
    // An optional fill may be left empty: the check must say what then.
    let src = with_check("    x integer 0..1", "note?: text", "note != \"\"");
    let got = codes(&src);
    assert!(got.iter().any(|c| c.starts_with("E080")), "{got:#?}");
    let src = with_check(
        "    x integer 0..1",
        "note?: text",
        "(note or \"-\") != \"\"",
    );
    assert!(codes(&src).iter().all(|c| !c.starts_with("E080")));
}

#[test]
fn people_compare_only_with_people() {
    let src = |cond: &str| {
        format!(
            "process p {{\n  data {{\n    employee person\n    partner department\n    note text\n    n integer 0..3\n  }}\n  require {cond} \"m\"\n  step a {{ next done }}\n  end done\n}}\n"
        )
    };
    for (cond, code) in [
        ("starter == note", "E071"),
        ("employee != n", "E071"),
        ("starter == partner", "E071"),
        ("department of employee == employee", "E071"),
        ("head of employee == starter", "E030"),
        ("department of partner == partner", "E030"),
        ("note has role agent", "E030"),
        ("starter has role nobody_has", "E004"),
        ("starter == person nobody", "E005"),
        ("starter in department nowhere", "E006"),
        ("starter == wang_fang", "E003"),
    ] {
        let got = codes(&src(cond));
        assert_eq!(got.len(), 1, "{cond}: {got:#?}");
        assert!(got[0].starts_with(code), "{cond}: {got:#?}");
    }
    for cond in [
        "employee == starter or starter == supervisor of employee",
        "head of department of employee != employee",
        "department of employee == partner and partner != hr",
        "starter in department cs or employee in department partner",
        "head of partner == person chen_jing or head of cs == starter",
        "employee has role agent and id > 0",
        "partner in {cs, hr}",
    ] {
        let out = checked(&src(cond));
        assert!(out.diagnostics.is_empty(), "{cond}: {:#?}", out.diagnostics);
    }
}

#[test]
fn people_values_lower_to_the_model_and_read_back_as_written() {
    let src = "process p {\n  data {\n    employee person\n  }\n  require employee in department cs and head of department of employee has role cs_manager or id == 7 \"m\"\n  step a { next done }\n  end done\n}\n";
    let def = checked(src).definition.expect("checks clean");
    let shown = def.requires[0].cond.to_string();
    assert_eq!(
        shown,
        "department of employee == cs and head of department of employee has role cs_manager or id == 7"
    );
    // What is shown reads back to the same model.
    let again = src.replace(
        "employee in department cs and head of department of employee has role cs_manager or id == 7",
        &shown,
    );
    assert_eq!(
        checked(&again).definition.expect("clean").requires,
        def.requires
    );
    // A department of the directory is a department, not a choice.
    assert!(def.requires[0]
        .cond
        .any(&|x| matches!(x, Expr::Department(d) if d == "cs")));
    // A field named `id` is the field.
    let field = "process p {\n  data {\n    id integer 0..9\n  }\n  require id > 1 \"m\"\n  step a { next done }\n  end done\n}\n";
    let def = checked(field).definition.expect("clean");
    assert_eq!(def.requires[0].cond.to_string(), "id > 1");
    assert!(def.requires[0]
        .cond
        .any(&|x| matches!(x, Expr::Field(f) if f == "id")));
}

#[test]
fn except_in_every_who_position() {
    let src = "process p {\n  started by agent\n  data {\n    owner person\n  }\n  limit l from a to b {\n    within 1h\n    on breach notify agent except owner\n  }\n  step a {\n    task for hr_officer except starter\n    notify cs_manager except owner \"m\"\n    due 1h\n    remind 10m before due to supervisor of starter except owner\n    on overdue escalate to each person with role cs_manager except owner except person wang_fang\n    next b\n  }\n  step b {\n    sign all of head of department of starter except owner, hr_officer except person wang_fang\n    on refuse -> done\n    next done\n  }\n  end done\n}\n";
    let out = checked(src);
    assert!(out.diagnostics.is_empty(), "{:#?}", out.diagnostics);
    let def = out.definition.expect("clean");
    let Some(baton_dsl::model::Action::Task(w)) = def.step("a").map(|s| &s.action) else {
        panic!("a task")
    };
    assert_eq!(
        *w,
        Who::Except(Box::new(Who::Role("hr_officer".into())), vec![Who::Starter])
    );
    assert_eq!(w.to_string(), "hr_officer except starter");
    // `supervisor of X except Y` leaves Y out of the supervisor, not of X.
    let src = "process p {\n  data {\n    owner person\n  }\n  step a {\n    task for supervisor of owner except starter\n    next done\n  }\n  end done\n}\n";
    let def = checked(src).definition.expect("clean");
    let baton_dsl::model::Action::Task(w) = &def.steps[0].action else {
        panic!("a task")
    };
    assert!(matches!(w, Who::Except(base, _) if matches!(**base, Who::SupervisorOf(_))));
}

#[test]
fn a_who_that_leaves_nobody_is_a_warning() {
    let with = |started: &str, body: &str| {
        format!("process p {{\n  started by {started}\n  step a {{\n{body}\n  }}\n  end done\n}}\n")
    };
    // Always, whatever the directory: the same on both sides.
    let src = with(
        "agent",
        "    task for starter except starter\n    next done",
    );
    let got = codes(&src);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with("W007: this finds nobody: everyone"),
        "{got:#?}"
    );
    // Without the directory, that is the only certainty.
    let plain = check(&src, &Context::default());
    assert_eq!(plain.diagnostics.len(), 1);
    let src = with(
        "cs_manager",
        "    task for head of department of starter except starter\n    next done",
    );
    assert!(check(&src, &Context::default()).diagnostics.is_empty());
    // With it: when the CS manager starts it, she is her own department's head.
    let got = codes(&src);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].contains("when 陳靜 (chen_jing) starts it"),
        "{got:#?}"
    );
    // A role of one person, who is left out.
    let got = codes(&with(
        "agent",
        "    notify hr_officer except person liu_yang \"m\"\n    next done",
    ));
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].starts_with("W007: this finds nobody: "), "{got:#?}");
    // An agent's department head is someone else: nothing to say.
    assert!(codes(&with(
        "agent",
        "    task for head of department of starter except starter\n    next done"
    ))
    .is_empty());
}

#[test]
fn a_choice_is_not_the_starters_own_to_make() {
    let decide = |extra: &str| {
        format!(
            "process p {{\n  started by cs_manager\n  step a {{\n    task for head of department of starter\n{extra}    choose {{\n      yes -> done\n      no -> done\n    }}\n  }}\n  end done\n}}\n"
        )
    };
    // The CS manager heads CS: her own request's choice would find nobody.
    let got = codes(&decide(""));
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].contains("does not decide it (`allow self approval` lets them)"),
        "{got:#?}"
    );
    // Said so, she may.
    let out = checked(&decide("    allow self approval\n"));
    assert!(out.diagnostics.is_empty(), "{:#?}", out.diagnostics);
    assert!(out.definition.expect("clean").steps[0].allow_self);
    // A task without a choice decides nothing: `allow self approval` has no place.
    let src = "process p {\n  step a {\n    task for starter\n    allow self approval\n    next done\n  }\n  end done\n}\n";
    let got = codes(src);
    assert_eq!(
        got,
        ["E027: `allow self approval` belongs to a sign-off or a task with a choice"]
    );
}
