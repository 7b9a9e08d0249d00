//! `baton fmt`: one canonical layout.
//!
//! Like gofmt, the formatter keeps the author's line breaks and comments and decides
//! everything else: two-space indentation by braces, one space between tokens (none
//! inside ranges, before commas, inside parentheses), at most one blank line, data
//! fields and `->` arrows aligned in columns. It works on tokens, never on the tree,
//! so no comment can be lost; the model of the output equals the model of the input
//! (tested), because only whitespace outside strings and comments changes.

use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Word,
    Str,
    Comment,
    Punct,
}

#[derive(Debug, Clone)]
struct Tok {
    kind: Kind,
    text: String,
    /// Whitespace stood between this token and the previous one on its line.
    spaced: bool,
}

/// The characters of a name, as the grammar has them (`XID_CONTINUE`, which holds
/// `_`, digits, combining marks, `‿` and `·`). `char::is_alphanumeric` would split
/// `ชื่อ` or `क्षेत्र` at their marks.
fn is_word_char(c: char) -> bool {
    c == '_' || unicode_ident::is_xid_continue(c)
}

/// Split one logical line into tokens. A comment ends the line; a string may go on
/// to the next physical line after an escaped line break (see [`logical_lines`]).
fn lex_line(line: &str) -> Vec<Tok> {
    let chars: Vec<char> = line.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut spaced = false;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            spaced = true;
            i += 1;
            continue;
        }
        let start = i;
        let kind = if c == '#' {
            i = chars.len();
            Kind::Comment
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            Kind::Str
        } else if c.is_ascii_digit() {
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits = i - start;
            let at = |k: usize| chars.get(k).copied().unwrap_or(' ');
            if at(i) == '.' && at(i + 1).is_ascii_digit() {
                i += 1;
                while at(i).is_ascii_digit() {
                    i += 1;
                }
            } else if at(i) == ':' && at(i + 1).is_ascii_digit() && at(i + 2).is_ascii_digit() {
                i += 3; // 17:30
            } else if digits == 4 && at(i) == '-' && at(i + 1).is_ascii_digit() {
                // 2026-01-31
                i += 1;
                while at(i).is_ascii_digit() || at(i) == '-' {
                    i += 1;
                }
            }
            // A unit or ordinal written against the number: 30m, 1st.
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            Kind::Word
        } else if is_word_char(c) {
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            Kind::Word
        } else {
            let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
            let len = ["..<", "->", "..", "==", "!=", "<=", ">="]
                .iter()
                .find(|p| rest.starts_with(*p))
                .map_or(1, |p| p.chars().count());
            i += len;
            Kind::Punct
        };
        toks.push(Tok {
            kind,
            text: chars[start..i].iter().collect(),
            spaced,
        });
        spaced = false;
    }
    toks
}

/// The space between two neighbouring tokens. `in_type` is set on lines where a type
/// may stand (data fields, `fill`): there `-10` is one number, which a space would
/// break (`integer -10..10`).
fn gap(prev: &Tok, cur: &Tok, prev_prev: Option<&Tok>, in_type: bool) -> &'static str {
    let p = prev.text.as_str();
    let c = cur.text.as_str();
    if cur.kind == Kind::Comment {
        return "  ";
    }
    // A lone `.` is only ever `X.field`, which the grammar reads without spaces.
    if matches!(c, "," | "?" | ")" | ":" | ".")
        || matches!(p, "(" | "..<" | ".." | ".")
        || matches!(c, ".." | "..<")
    {
        return "";
    }
    // A call or a choice label: `day(today)`, `general("一般")`, as the author wrote it.
    if c == "(" && prev.kind == Kind::Word && !cur.spaced {
        return "";
    }
    // A signed number in a type, or a minus the author set apart from what is before
    // it but not from its number (`x in -10..10`, `integer -5..5`): kept together.
    let number_after = cur.text.starts_with(|c: char| c.is_ascii_digit());
    if p == "-" && !cur.spaced && number_after && (in_type || prev.spaced || prev_prev.is_none()) {
        return "";
    }
    // Unary minus: written against its operand, after an operator or at the start.
    if p == "-" && !cur.spaced {
        let unary = match prev_prev {
            None => true,
            Some(pp) if pp.kind == Kind::Punct => pp.text != ")" && pp.text != "}",
            Some(pp) => {
                pp.kind == Kind::Word && (is_operator_word(&pp.text) || is_type_word(&pp.text))
            }
        };
        if unary {
            return "";
        }
    }
    " "
}

fn is_type_word(w: &str) -> bool {
    matches!(w, "integer" | "decimal")
}

fn is_operator_word(w: &str) -> bool {
    matches!(
        w,
        "in" | "and" | "or" | "not" | "when" | "until" | "wait" | "due" | "within"
    )
}

struct Line {
    indent: usize,
    toks: Vec<Tok>,
    /// The keyword of the innermost block this line sits in (`data`, `choose` ...).
    block: String,
}

fn render(toks: &[Tok], block: &str) -> Vec<String> {
    // Pieces with their leading gap, so alignment can widen a chosen gap.
    let in_type = block == "data"
        || block == "list"
        || toks.iter().any(|t| t.text == "fill" || t.text == "data");
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let g = if i == 0 {
            ""
        } else {
            let pp = if i >= 2 { toks.get(i - 2) } else { None };
            gap(&toks[i - 1], t, pp, in_type)
        };
        out.push(format!("{g}{}", t.text));
    }
    out
}

fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Format a source text. Callers check that it parses first; on text that does not,
/// this still only changes whitespace.
pub fn format(src: &str) -> String {
    let mut lines: Vec<Option<Line>> = Vec::new();
    let mut depth: usize = 0;
    let mut blocks: Vec<String> = Vec::new();
    for raw in logical_lines(src) {
        let toks = lex_line(&raw);
        if toks.is_empty() {
            lines.push(None);
            continue;
        }
        let indent = if toks[0].text == "}" {
            depth.saturating_sub(1)
        } else {
            depth
        };
        let block = blocks.last().cloned().unwrap_or_default();
        for (i, t) in toks.iter().enumerate() {
            if t.kind != Kind::Punct {
                continue;
            }
            if t.text == "{" {
                depth += 1;
                // The block's keyword: the first word of the line (`data`, `step` ...)
                // or, for a set literal, nothing that matters.
                // A list's element fields are laid out as a data block's, in a run
                // of their own.
                let opener = if toks[..i].iter().any(|t| t.text == "list") {
                    "list".to_string()
                } else if i > 0 {
                    toks[0].text.clone()
                } else {
                    String::new()
                };
                blocks.push(opener);
            } else if t.text == "}" {
                depth = depth.saturating_sub(1);
                blocks.pop();
            }
        }
        lines.push(Some(Line {
            indent,
            toks,
            block,
        }));
    }

    let mut rendered: Vec<Option<(usize, Vec<String>)>> = lines
        .iter()
        .map(|l| l.as_ref().map(|l| (l.indent, render(&l.toks, &l.block))))
        .collect();
    align(&lines, &mut rendered);

    let mut out = String::with_capacity(src.len());
    let mut blank_pending = false;
    let mut prev_opened = true;
    for (i, r) in rendered.iter().enumerate() {
        match r {
            None => blank_pending = true,
            Some((indent, pieces)) => {
                let first = lines[i].as_ref().map(|l| l.toks[0].text.as_str());
                if blank_pending && !prev_opened && first != Some("}") {
                    out.push('\n');
                }
                blank_pending = false;
                out.push_str(&"  ".repeat(*indent));
                let line: String = pieces.concat();
                out.push_str(line.trim_end());
                out.push('\n');
                prev_opened = line.trim_end().ends_with('{');
            }
        }
    }
    out
}

/// The source's lines, except that a line whose string goes on after an escaped line
/// break (`"a\` then a newline: the grammar's `\\ ~ ANY`) is joined with the next, the
/// newline kept, so that no indentation is ever put inside a string.
fn logical_lines(src: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in src.lines() {
        match out.last_mut() {
            Some(last) if open => {
                last.push('\n');
                last.push_str(line);
            }
            _ => out.push(line.to_string()),
        }
        // Only the new physical line is scanned: a string of many escaped line
        // breaks costs its length, not its length squared.
        open = string_goes_on(line, open);
    }
    out
}

/// Whether `line` (which begins inside a string when `in_string`) ends inside a
/// string, on a backslash that escapes the line break.
fn string_goes_on(line: &str, in_string: bool) -> bool {
    let mut in_str = in_string;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (in_str, c) {
            (false, '#') => return false,
            (false, '"') => in_str = true,
            (true, '"') => in_str = false,
            (true, '\\') => {
                // The escaped character; none left means the line break is escaped.
                let escaped = chars.next();
                if escaped.is_none() {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Line up runs of similar lines: data fields (type column and label column) and the
/// arrows of choices and rules. A run is consecutive lines in the same block.
fn align(lines: &[Option<Line>], rendered: &mut [Option<(usize, Vec<String>)>]) {
    let mut i = 0;
    while i < lines.len() {
        let Some(l) = &lines[i] else {
            i += 1;
            continue;
        };
        let block = l.block.clone();
        let mut j = i;
        while j < lines.len()
            && lines[j].as_ref().is_some_and(|x| {
                x.block == block && x.toks[0].kind != Kind::Comment && x.toks[0].text != "}"
            })
        {
            j += 1;
        }
        if j > i + 1 {
            match block.as_str() {
                "data" | "list" => {
                    pad_column(lines, rendered, i..j, |toks| (toks.len() > 1).then_some(1));
                    pad_column(lines, rendered, i..j, |toks| {
                        let last = toks.len() - 1;
                        let k = if toks[last].kind == Kind::Comment {
                            last.checked_sub(1)?
                        } else {
                            last
                        };
                        (k > 1 && toks[k].kind == Kind::Str && toks[k - 1].text != "(").then_some(k)
                    });
                }
                // `on outcome {` lines its arms up as a choice does.
                "choose" | "rule" | "on" => {
                    pad_column(lines, rendered, i..j, |toks| {
                        toks.iter().position(|t| t.text == "->")
                    });
                }
                _ => {}
            }
        }
        i = j.max(i + 1);
    }
}

/// Widen the gap before the token that `pick` chooses on each line so those tokens
/// start in the same display column.
fn pad_column(
    lines: &[Option<Line>],
    rendered: &mut [Option<(usize, Vec<String>)>],
    range: std::ops::Range<usize>,
    pick: impl Fn(&[Tok]) -> Option<usize>,
) {
    let picks: Vec<Option<usize>> = range
        .clone()
        .map(|k| lines[k].as_ref().and_then(|l| pick(&l.toks)))
        .collect();
    if picks.iter().filter(|p| p.is_some()).count() < 2 {
        return;
    }
    let col = |k: usize, at: usize, r: &[Option<(usize, Vec<String>)>]| -> usize {
        r[k].as_ref()
            .map_or(0, |(_, p)| p[..at].iter().map(|s| width(s)).sum())
    };
    let target = range
        .clone()
        .zip(&picks)
        .filter_map(|(k, p)| p.map(|at| col(k, at, rendered)))
        .max()
        .unwrap_or(0);
    for (k, p) in range.zip(&picks) {
        if let Some(at) = p {
            let c = col(k, *at, rendered);
            if let Some((_, pieces)) = rendered[k].as_mut() {
                let piece = pieces[*at].trim_start().to_string();
                pieces[*at] = format!("{}{piece}", " ".repeat(target - c + 1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_spaces_and_aligns() {
        let src = "process p {\n data {\n a   text \"甲\"\n  longer_name integer?   \"乙\"\n }\n\n\n   step s { next  e }  # go\n end e\n}\n";
        let want = "process p {\n  data {\n    a           text     \"甲\"\n    longer_name integer? \"乙\"\n  }\n\n  step s { next e }  # go\n  end e\n}\n";
        assert_eq!(format(src), want);
        assert_eq!(format(want), want);
    }

    #[test]
    fn keeps_times_ranges_calls_and_unary_minus_together() {
        let line = "process p { require day( today ) <= 15 and x in 60..<65 and d == trip - 2d at 10:00 and y > -3 \"m\" }\n";
        let out = format(line);
        assert!(out.contains("day(today) <= 15"), "{out}");
        assert!(out.contains("60..<65"), "{out}");
        assert!(out.contains("trip - 2d at 10:00"), "{out}");
        assert!(out.contains("> -3"), "{out}");
    }
}
