//! Hostile and unusual input: nesting deep enough to overflow a stack, and a long run
//! of generated text over the grammar's own words acting as a fuzz target. Nothing may
//! crash; deep nesting is E013 with a line and column, not an abort.
//!
//! Test threads have 2 MiB of stack (less than a command's main thread), so passing
//! here leaves a margin for `baton check`, `graph`, `deploy` and `serve`.

use baton_dsl::{check, fmt, graph, Context, Located, Severity};
use proptest::prelude::*;

/// A process with the given `require` condition and step body.
fn with(require: &str, task: &str) -> String {
    format!(
        "process p {{\n  data {{\n    x integer\n  }}\n  require {require} \"m\"\n  step a {{\n    task for {task}\n    next e\n  }}\n  end e\n}}\n"
    )
}

fn parens(n: usize) -> String {
    format!("{}x{} == 1", "(".repeat(n), ")".repeat(n))
}
fn plus(n: usize) -> String {
    format!("x{} == 1", " + x".repeat(n))
}
fn minus(n: usize) -> String {
    format!("{}x == 1", "-".repeat(n))
}
fn nots(n: usize) -> String {
    format!("{}true", "not ".repeat(n))
}
fn supervisors(n: usize) -> String {
    format!("{}starter", "supervisor of ".repeat(n))
}

/// Everything a command does with a file, in the order it does it.
fn every_pass(src: &str) -> baton_dsl::Outcome {
    let out = check(src, &Context::default());
    for d in &out.diagnostics {
        let located = Located::new("hostile.flow", src, d.clone());
        assert!(located.render(src).contains("hostile.flow:"));
    }
    let formatted = fmt::format(src);
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    assert_eq!(squash(&formatted), squash(src));
    if let Some(def) = &out.definition {
        let _ = graph::mermaid(def);
        let _ = graph::dot(def);
    }
    out
}

fn assert_too_deep(src: &str, line: usize) {
    let out = every_pass(src);
    assert!(out.definition.is_none());
    let deep: Vec<_> = out
        .diagnostics
        .iter()
        .filter(|d| d.code == "E013")
        .collect();
    assert_eq!(deep.len(), 1, "{:?}", out.diagnostics);
    assert_eq!(deep[0].severity, Severity::Error);
    assert!(
        deep[0].message.contains("nested too deeply"),
        "{}",
        deep[0].message
    );
    let located = Located::new("f.flow", src, deep[0].clone());
    assert_eq!(located.line, line, "{}", located.render(src));
}

#[test]
fn a_thousand_parentheses_are_e013() {
    assert_too_deep(&with(&parens(1_000), "starter"), 5);
}

#[test]
fn five_thousand_five_hundred_additions_are_e013() {
    assert_too_deep(&with(&plus(5_500), "starter"), 5);
}

#[test]
fn five_thousand_five_hundred_unary_minus_are_e013() {
    assert_too_deep(&with(&minus(5_500), "starter"), 5);
    // Written apart, `- - -` is the same chain.
    let apart = format!("{}x == 1", "- ".repeat(5_500));
    assert_too_deep(&with(&apart, "starter"), 5);
}

#[test]
fn six_thousand_two_hundred_nots_are_e013() {
    assert_too_deep(&with(&nots(6_200), "starter"), 5);
}

#[test]
fn thirteen_thousand_supervisors_are_e013() {
    assert_too_deep(&with("x > 0", &supervisors(13_000)), 7);
    let heads = format!("{}starter", "head of department of ".repeat(13_000));
    assert_too_deep(&with("x > 0", &heads), 7);
}

#[test]
fn deep_sets_and_calls_are_e013() {
    let sets = format!("x in {}1{}", "{x in ".repeat(2_000), "}".repeat(2_000));
    assert_too_deep(&with(&sets, "starter"), 5);
    let calls = format!("{}x{} == 1", "f(".repeat(2_000), ")".repeat(2_000));
    assert_too_deep(&with(&calls, "starter"), 5);
    let mixed = format!("{}x{}", "not (-".repeat(400), ")".repeat(400));
    assert_too_deep(&with(&mixed, "starter"), 5);
    let chained = format!("x > 0{}", " and x > 0".repeat(3_000));
    assert_too_deep(&with(&chained, "starter"), 5);
}

/// Every other error of the file is still reported next to E013.
#[test]
fn e013_does_not_hide_other_errors() {
    let src = format!(
        "process p {{\n  require {} \"m\"\n  step a {{ task for }}\n  step b {{ next e }}\n  end e\n}}\n",
        parens(1_000)
    );
    let out = every_pass(&src);
    let codes: Vec<_> = out.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E013", "E001"], "{:?}", out.diagnostics);
}

/// Recovery blanks a broken item, and with it the opening quote of a string that went
/// on, after an escaped line break, over nested text: that text is bounded too.
#[test]
fn nesting_uncovered_by_recovery_is_bounded_too() {
    for (depth, deep) in [(40, false), (60, false), (1_000, true)] {
        let src = format!(
            "process p {{\n  require x x \"a\\\nstep q {{ next e when {}x{} == 1 }}\"\n  step a {{ next e }}\n  end e\n}}\n",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        let out = every_pass(&src);
        assert!(out.definition.is_none());
        let codes: Vec<_> = out.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes.iter().any(|c| *c == "E013"), deep, "{codes:?}");
    }
}

/// Just inside the limits, every pass (check, format, both diagrams, evaluation) runs
/// on the deepest tree it may be given.
#[test]
fn nesting_at_the_limits_passes_every_pass() {
    for (require, task) in [
        // Parsed on the test's own stack (a few levels), and on the parser's.
        (parens(5), "starter".to_string()),
        (
            format!("x in {{1, {}2{}}}", "(".repeat(4), ")".repeat(4)),
            "starter".to_string(),
        ),
        (parens(60), "starter".to_string()),
        (plus(95), "starter".to_string()),
        (minus(60), "starter".to_string()),
        (nots(60), "starter".to_string()),
        (
            format!("{}true{}", "not (".repeat(30), ")".repeat(30)),
            "starter".to_string(),
        ),
        ("x > 0".to_string(), supervisors(60)),
    ] {
        let src = with(&require, &task);
        let out = every_pass(&src);
        let def = out
            .definition
            .unwrap_or_else(|| panic!("{require}: {:?}", out.diagnostics));
        struct Env;
        impl baton_dsl::eval::Env for Env {
            fn get(&self, _: &str) -> Option<&baton_dsl::eval::Value> {
                Some(&baton_dsl::eval::Value::Int(1))
            }
            fn now(&self) -> chrono::DateTime<chrono::Utc> {
                chrono::DateTime::UNIX_EPOCH
            }
            fn zone(&self) -> chrono_tz::Tz {
                chrono_tz::UTC
            }
        }
        let _ = baton_dsl::eval::eval(&def.requires[0].cond, &Env);
    }
}

// ---- fuzz: generated text over the grammar's words --------------------------------------

/// The grammar's words and punctuation, unusual names and numbers, and broken pieces.
const WORDS: &[&str] = &[
    "process",
    "step",
    "end",
    "data",
    "limit",
    "require",
    "starts",
    "started",
    "counted",
    "by",
    "description",
    "task",
    "for",
    "next",
    "when",
    "rule",
    "otherwise",
    "->",
    "choose",
    "fill",
    "due",
    "remind",
    "before",
    "after",
    "every",
    "on",
    "overdue",
    "breach",
    "refuse",
    "notify",
    "via",
    "escalate",
    "to",
    "extend",
    "up",
    "within",
    "from",
    "set",
    "start",
    "with",
    "and",
    "wait",
    "until",
    "sign",
    "all",
    "any",
    "of",
    "in",
    "order",
    "allow",
    "self",
    "approval",
    "supervisor",
    "head",
    "department",
    "starter",
    "person",
    "each",
    "role",
    "not",
    "or",
    "true",
    "false",
    "today",
    "now",
    "at",
    "cron",
    "day",
    "weekday",
    "monday",
    "the",
    "1st",
    "month",
    "catch",
    "once",
    "skip",
    "integer",
    "decimal",
    "text",
    "bool",
    "date",
    "datetime",
    "duration",
    "{",
    "}",
    "(",
    ")",
    ",",
    "?",
    ":",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "..",
    "..<",
    "|",
    "\"label\"",
    "\"a\\\"b\"",
    "\"\\\\\"",
    "\"unterminated",
    "# comment\n",
    "\n",
    "0",
    "7",
    "-10",
    "2.5",
    "99999999999999999999",
    "30m",
    "2 days",
    "4 working hours",
    "1 month",
    "2026-01-31",
    "17:30",
    "ชื่อ",
    "क्षेत्र",
    "步驟",
    "a‿b",
    "x·y",
    "é",
    "_",
    "x",
    "y",
    "\u{3000}",
    "\t",
    "\r",
    "\u{0301}",
    "\u{200d}",
];

fn cases() -> u32 {
    std::env::var("BATON_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

fn soup() -> impl Strategy<Value = String> {
    let word = prop::sample::select(WORDS);
    // Runs of what nests, now and then deeper than the limits.
    let run = (
        prop::sample::select(
            &[
                "(",
                "not ",
                "-",
                "- ",
                "supervisor of ",
                "{x in ",
                "f(",
                " + x",
            ][..],
        ),
        1usize..200,
    )
        .prop_map(|(w, n)| w.repeat(n));
    let piece = prop_oneof![
        16 => word.prop_map(str::to_string),
        2 => "\\PC{0,4}",
        1 => run,
    ];
    prop::collection::vec(piece, 0..120).prop_map(|ws| {
        let mut s = String::from("process p {\n");
        for w in ws {
            s.push_str(&w);
            s.push(' ');
        }
        s.push_str("\n}\n");
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// No generated input crashes any pass; a file that does not check says why.
    #[test]
    fn generated_text_never_crashes(src in soup()) {
        let out = every_pass(&src);
        if out.definition.is_none() {
            prop_assert!(out.diagnostics.iter().any(|d| d.severity == Severity::Error));
        }
        for d in &out.diagnostics {
            prop_assert!(d.span.start <= d.span.end && d.span.end <= src.len(), "{d:?}");
        }
    }
}

/// Long input of one kind: formatting and checking stay about linear (a string of
/// 100,000 escaped line breaks, 20,000 comment lines, a 1 MB line).
#[test]
fn long_input_stays_linear() {
    let many_breaks = format!(
        "process p {{\n  description \"{}\"\n  step a {{ next e }}\n  end e\n}}\n",
        "a\\\n".repeat(100_000)
    );
    let comments = format!(
        "process p {{\n{}  step a {{ next e }}\n  end e\n}}\n",
        "  # (((( \"\n".repeat(20_000)
    );
    let long_line = format!(
        "process p {{ require true{} \"m\" step a {{ next e }} end e }}\n",
        " and true".repeat(100_000)
    );
    for src in [many_breaks, comments, long_line] {
        let start = std::time::Instant::now();
        every_pass(&src);
        // Generous for a debug build on a busy machine; quadratic would take minutes.
        eprintln!("{} bytes: {:?}", src.len(), start.elapsed());
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    }
}

/// A file of one long line with 10,000 diagnostics: each is located and rendered
/// from the text around it, so reporting stays linear, and the line is shown cut
/// around the diagnostic, not whole 10,000 times.
#[test]
fn one_long_line_with_many_diagnostics() {
    let mut src = String::from("process p { step s0 { next e } ");
    for i in 0..10_000 {
        src.push_str(&format!("step unreachable_{i} {{ next e }} "));
    }
    src.push_str("end e }\n");
    let start = std::time::Instant::now();
    let out = check(&src, &Context::default());
    assert_eq!(out.diagnostics.len(), 10_000);
    let located = Located::all("long.flow", &src, out.diagnostics);
    let rendered: Vec<String> = located.iter().map(|l| l.render(&src)).collect();
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
    let bytes: usize = rendered.iter().map(String::len).sum();
    assert!(bytes < 10_000 * 1_000, "{bytes} bytes of report");
    // The 5,000th: its column, and its caret under its name in the cut line.
    let l = &located[5_000];
    let at = src.find("step unreachable_5000 ").expect("step") + "step ".len();
    assert_eq!((l.line, l.column), (1, at + 1));
    let r = &rendered[5_000];
    let lines: Vec<&str> = r.lines().collect();
    let shown = lines[3].split_once("| ").expect("source line").1;
    let carets = lines[4].split_once("| ").expect("caret line").1;
    assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
    let caret = carets.find('^').expect("caret");
    let under: String = shown.chars().skip(caret).take(17).collect();
    assert_eq!(under, "unreachable_5000 ", "{r}");
}

proptest! {
    /// Located by the file's line index (in any order, spans of any length) is where
    /// scanning from the start says.
    #[test]
    fn the_line_index_agrees_with_scanning(
        src in "[a \n\r é中\u{301}]{0,120}",
        spans in prop::collection::vec((0usize..130, 0usize..40), 0..12),
    ) {
        let diags: Vec<_> = spans
            .iter()
            .map(|&(s, len)| baton_dsl::Diagnostic::new(baton_dsl::Code::Syntax, s..s + len, &[&"x", &"y"]))
            .collect();
        let located = Located::all("f", &src, diags);
        for l in &located {
            let d = &l.diagnostic;
            let want = (
                baton_dsl::diagnostic::line_col(&src, d.span.start),
                baton_dsl::diagnostic::line_col(&src, d.span.end),
            );
            prop_assert_eq!(((l.line, l.column), (l.end_line, l.end_column)), want);
            let _ = l.render(&src);
        }
    }
}
