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

// ---- generated valid definitions with unusual tokens ------------------------------------

/// Names the grammar accepts (XID_START or `_`, then XID_CONTINUE), from several
/// scripts and every class of those: letters of each case (Lu, Ll, Lt `ǅ`, Lm `ʰ`,
/// Lo), letter numbers (Nl `Ⅻ`), combining marks (Mn in Thai and a decomposed é, Mc
/// in Devanagari), other digits (Nd `٣`), connector punctuation (Pc `‿`), the
/// middle dot; CJK and right-to-left scripts.
const NAMES: &[&str] = &[
    "ชื่อ",
    "क्षेत्र",
    "步驟",
    "名前",
    "имя",
    "x‿y",
    "a·b",
    "é",
    "e\u{301}",
    "_x1",
    "données",
    "אבג",
    "اسم",
    "ß",
    "Ωμέγα",
    "한국어",
    "ǅemal",
    "x",
    "score",
    "नाम",
    "xʰ",
    "Ⅻ",
    "x٣",
    "a‿‿b",
];

/// Text inside quotes: every escape, an escaped line break, `#`, quotes, wide text.
const TEXT_PIECES: &[&str] = &[
    "a",
    " ",
    "一般",
    "\\\"",
    "\\\\",
    "\\n",
    "\\t",
    "\\\n",
    "\\\n  ",
    "#",
    "->",
    "(",
    ")",
    "..",
    "-",
    "é",
    "\\é",
    "{x}",
    "  ",
    "ชื่อ",
];

struct Gen<'a> {
    picks: &'a [u32],
    at: usize,
}

impl Gen<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let v = self.picks.get(self.at).copied().unwrap_or(0) as usize;
        self.at += 1;
        v % n.max(1)
    }
    fn one<'b>(&mut self, xs: &[&'b str]) -> &'b str {
        xs[self.pick(xs.len())]
    }
    fn name(&mut self, n: usize) -> String {
        // Unique by a number after the script's name.
        format!("{}{n}", self.one(NAMES))
    }
    fn text(&mut self) -> String {
        let len = self.pick(5);
        let mut s = String::from("\"");
        for _ in 0..len {
            s.push_str(self.one(TEXT_PIECES));
        }
        s.push('"');
        s
    }
    /// Spacing between tokens: none where the grammar allows it, spaces, tabs.
    fn sp(&mut self) -> &'static str {
        self.one(&[" ", "  ", "\t", " \u{3000}"])
    }
    fn num(&mut self) -> i64 {
        self.pick(41) as i64 - 20
    }
    fn comment(&mut self) -> &'static str {
        self.one(&["", "", "", "  # note", " # \"not a string", " #(( ->"])
    }
}

/// A definition that checks clean, written with the tokens `baton fmt` must not change:
/// negative bounds, names of every identifier class, escapes, choice labels, comments.
fn valid_definition(picks: &[u32]) -> String {
    let mut g = Gen { picks, at: 0 };
    let mut s = String::new();
    let title = g.text();
    s.push_str(&format!(
        "process {} {title} {{{}\n",
        g.name(0),
        g.comment()
    ));
    s.push_str(&format!("  data {{{}\n", g.comment()));
    let fields = 1 + g.pick(4);
    let mut ints = vec![];
    for i in 0..fields {
        let f = g.name(100 + i);
        let lo = g.num();
        let hi = lo + g.pick(30) as i64;
        let ty = match g.pick(5) {
            0 => {
                ints.push(f.clone());
                format!("integer{}{lo}..{hi}", g.sp())
            }
            1 => {
                ints.push(f.clone());
                format!("{lo}..{hi}")
            }
            2 => format!("decimal {lo}.5..{}.75", hi + 1),
            3 => {
                let a = g.name(200 + i);
                let b = g.name(300 + i);
                let la = g.text();
                format!("{a}({la}){}|{}{b}", g.sp(), g.sp())
            }
            _ => "text".to_string(),
        };
        // The first integer field is read by `require`, so it must have a value.
        let read_at_start = ints.first() == Some(&f);
        let opt = if g.pick(2) == 0 && !read_at_start {
            "?"
        } else {
            ""
        };
        let label = if g.pick(2) == 0 {
            format!(" {}", g.text())
        } else {
            String::new()
        };
        s.push_str(&format!(
            "    {f}{}{ty}{opt}{label}{}\n",
            g.sp(),
            g.comment()
        ));
    }
    s.push_str("  }\n");
    if let Some(x) = ints.first() {
        let n = g.num();
        let cond = match g.pick(4) {
            0 => format!("{x} >{}-{}", g.sp(), n.abs()),
            1 => format!("{x} in -{}..{n}", n.abs() + 20),
            2 => format!("not ({x} == -{})", n.abs()),
            _ => format!("{x}{}-{}{}-1 < 100", g.sp(), n.abs(), g.sp()),
        };
        s.push_str(&format!("  require {cond} {}\n", g.text()));
    }
    let steps = 1 + g.pick(3);
    for i in 0..steps {
        let next = if i + 1 == steps {
            "done".to_string()
        } else {
            format!("s{}", i + 1)
        };
        s.push_str(&format!("  step s{i} {} {{{}\n", g.text(), g.comment()));
        s.push_str(g.one(&[
            "    task for starter\n",
            "    task for cs_manager except starter\n",
            "    task for\tagent except  starter except person wang_fang\n",
        ]));
        if g.pick(2) == 0 {
            // A check on what the task fills, with a negative bound.
            let f = g.name(500 + i);
            let n = g.num().abs();
            s.push_str(&format!(
                "    fill {f}:{}integer -{n}..{}{}\n    check {f}{}>={}-{n} {}{}\n",
                g.sp(),
                n + 5,
                g.comment(),
                g.sp(),
                g.sp(),
                g.text(),
                g.comment()
            ));
        }
        if g.pick(2) == 0 {
            s.push_str("    choose {\n");
            for k in 0..1 + g.pick(3) {
                let c = g.name(400 + k);
                let label = if g.pick(2) == 0 {
                    g.text()
                } else {
                    String::new()
                };
                s.push_str(&format!(
                    "      {c} {label}{}-> {next}{}\n",
                    g.sp(),
                    g.comment()
                ));
            }
            s.push_str("    }\n");
        } else {
            s.push_str(&format!("    next {next}{}\n", g.comment()));
        }
        s.push_str("  }\n");
    }
    s.push_str(&format!("  end done {}\n}}\n", g.text()));
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn fmt_keeps_the_meaning_of_unusual_valid_definitions(picks in prop::collection::vec(any::<u32>(), 200)) {
        let src = valid_definition(&picks);
        let before = baton_dsl::check(&src, &Default::default());
        prop_assert!(before.definition.is_some(), "generated an invalid definition:\n{src}\n{:?}", before.diagnostics);
        let formatted = baton_dsl::fmt::format(&src);
        let after = baton_dsl::check(&formatted, &Default::default());
        prop_assert_eq!(&after.definition, &before.definition, "\n{}\n---\n{}", src, formatted);
        prop_assert_eq!(after.diagnostics.len(), before.diagnostics.len());
        prop_assert_eq!(baton_dsl::fmt::format(&formatted), formatted.clone(), "not idempotent:\n{}", formatted);
    }
}
