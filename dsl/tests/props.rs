//! Properties: no input panics the parser, checker or formatter; formatting is
//! idempotent, ignores the author's spacing, and never changes the checked model.

use proptest::prelude::*;

const EVERYTHING: &str = include_str!("fixtures/good/everything.flow");
const COVERAGE: &str = include_str!("fixtures/bad/coverage.flow");
const SYNTAX: &str = include_str!("fixtures/bad/syntax_errors.flow");

fn run_all(src: &str) {
    let _ = baton_dsl::check(src, &Default::default());
    let out = baton_dsl::fmt::format(src);
    // Formatting only moves whitespace, whatever the input.
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    assert_eq!(squash(&out), squash(src));
}

fn model(src: &str) -> Option<baton_dsl::model::Definition> {
    baton_dsl::check(src, &Default::default()).definition
}

/// What the checker says about `src`: each diagnostic's code and message.
fn said(src: &str) -> Vec<(String, String)> {
    baton_dsl::check(src, &Default::default())
        .diagnostics
        .into_iter()
        .map(|d| (d.code.to_string(), d.message))
        .collect()
}

/// Re-space a source: every run of spaces becomes `n` spaces, and every line gets
/// `indent` extra spaces in front, and each blank line is repeated. Tokens stay.
fn respace(src: &str, n: usize, indent: usize, blank_every: usize) -> String {
    let mut out = String::new();
    for line in src.lines() {
        out.push_str(&" ".repeat(indent));
        let mut in_str = false;
        let mut prev_space = false;
        for (i, c) in line.char_indices() {
            if c == '#' && !in_str {
                // Comments are the author's words: kept exactly.
                out.push_str(&line[i..]);
                break;
            }
            if c == '"' {
                in_str = !in_str;
            }
            if c == ' ' && !in_str {
                if !prev_space {
                    out.push_str(&" ".repeat(n));
                }
                prev_space = true;
                continue;
            }
            prev_space = false;
            out.push(c);
        }
        out.push('\n');
        // The author's paragraph breaks are kept, but several count as one.
        if line.trim().is_empty() {
            out.push_str(&"\n".repeat(blank_every));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        run_all(&s);
    }

    #[test]
    fn mutated_definitions_never_panic(pos in 0usize..4000, len in 0usize..40, insert in "[{}()\"#:.<>=a-z0-9 \n-]{0,8}") {
        for base in [EVERYTHING, COVERAGE, SYNTAX] {
            let chars: Vec<char> = base.chars().collect();
            let at = pos % (chars.len() + 1);
            let end = (at + len).min(chars.len());
            let mutated: String = chars[..at].iter().chain(insert.chars().collect::<Vec<_>>().iter()).chain(chars[end..].iter()).collect();
            run_all(&mutated);
        }
    }

    #[test]
    fn fmt_is_canonical_and_keeps_meaning(n in 1usize..5, indent in 0usize..6, blank_every in 0usize..7) {
        // A base that checks clean is compared by its model; one with diagnostics by
        // what they say. Neither may fail to parse, or the property would compare two
        // syntax errors and hold for any formatter.
        for (base, clean) in [(EVERYTHING, true), (COVERAGE, false)] {
            prop_assert_eq!(model(base).is_some(), clean);
            let canonical = baton_dsl::fmt::format(base);
            let messy = respace(base, n, indent, blank_every);
            let formatted = baton_dsl::fmt::format(&messy);
            prop_assert_eq!(&formatted, &canonical);
            prop_assert_eq!(baton_dsl::fmt::format(&formatted), formatted.clone());
            prop_assert_eq!(model(&formatted), model(base));
            let before = said(base);
            prop_assert!(!before.is_empty() || clean);
            prop_assert!(before.iter().all(|(code, _)| code != "E001"), "{:?}", before);
            prop_assert_eq!(said(&formatted), before);
        }
    }
}
