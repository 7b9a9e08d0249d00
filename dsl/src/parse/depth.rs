//! Nesting limits, so that no input can overflow the stack.
//!
//! pest descends once per parenthesis, `not` and `supervisor of`, and every later pass
//! (checker, evaluator, formatter, diagram, even dropping the tree) recurses over the
//! syntax tree. A file nested a thousand levels deep would abort the process, so a
//! cheap scan of the text runs before pest does, and the tree builder limits the depth
//! of what it builds (a chain `a + b + c ...` is flat text but a deep tree).

use crate::ast::Span;
use crate::catalogue::Code;
use crate::diagnostic::Diagnostic;

/// Parentheses, braces, prefix operators (`not`, unary `-`) and who-chains
/// (`supervisor of`, `head of department of`) open at one point of the text.
pub(crate) const MAX_NESTING: usize = 64;
/// Depth of an expression's tree once built.
pub(crate) const MAX_EXPR_DEPTH: usize = 100;

pub(crate) fn too_deep(span: Span, levels: usize, max: usize) -> Diagnostic {
    Diagnostic::new(Code::NestingTooDeep, span, &[&levels, &max])
        .label("too deep")
        .help("split the expression, for example into fields set by earlier steps")
}

/// Scan `src` (strings and comments skipped) for nesting deeper than [`MAX_NESTING`].
/// Returns the E013 diagnostic at the first place the limit is passed, counting the
/// deepest nesting of the whole text.
pub(super) fn scan(src: &str) -> Option<Diagnostic> {
    let (deepest, first) = measure(src);
    let at = first?;
    let end = src
        .get(at..)
        .and_then(|rest| rest.char_indices().nth(1))
        .map_or(src.len(), |(k, _)| at + k);
    Some(too_deep(at..end, deepest, MAX_NESTING))
}

/// The deepest nesting of `src`, counted as [`scan`] counts it.
pub(super) fn deepest(src: &str) -> usize {
    measure(src).0
}

/// The deepest nesting, and where it first passes [`MAX_NESTING`].
fn measure(src: &str) -> (usize, Option<usize>) {
    let b = src.as_bytes();
    // Levels held by each open bracket: itself plus the prefix operators before it.
    let mut frames: Vec<usize> = Vec::new();
    let mut open = 0usize;
    // Prefix operators since the last operand, not yet closed by one.
    let mut run = 0usize;
    let mut deepest = 0usize;
    let mut first: Option<usize> = None;
    // Only a token that raises the level can make it the deepest or pass the limit
    // first, so the level is looked at there and not after every byte.
    let mut rise = |level: usize, at: usize| {
        deepest = deepest.max(level);
        if level > MAX_NESTING && first.is_none() {
            first = Some(at);
        }
    };
    // The two words before this one: `department` after `head of` is part of one
    // who-chain step (`head of department of`), counted once, at `head`.
    let mut words: [&[u8]; 2] = [b"", b""];
    let is_word = |c: u8| c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80;
    // Where the run of bytes from `from` for which `more` holds ends.
    let run_end = |from: usize, more: &dyn Fn(u8) -> bool| {
        b[from..]
            .iter()
            .position(|&c| !more(c))
            .map_or(b.len(), |k| from + k)
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b'"' => {
                i += 1;
                while i < b.len() && !matches!(b[i], b'"' | b'\n' | b'\r') {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                run = 0;
            }
            b'#' => i = run_end(i, &|c| !matches!(c, b'\n' | b'\r')),
            b'(' | b'{' => {
                frames.push(run + 1);
                open += run + 1;
                run = 0;
                i += 1;
                rise(open, start);
            }
            b')' | b'}' => {
                open -= frames.pop().unwrap_or(0);
                run = 0;
                i += 1;
            }
            b'-' if b.get(i + 1) != Some(&b'>') => {
                run += 1;
                i += 1;
                rise(open + run, start);
            }
            _ if is_word(c) => {
                i = run_end(i, &is_word);
                let word = &b[start..i];
                match word {
                    b"not" | b"supervisor" | b"head" => run += 1,
                    b"department" if words == [b"head".as_slice(), b"of".as_slice()] => {}
                    b"department" => run += 1,
                    b"of" => {}
                    _ => run = 0,
                }
                words = [words[1], word];
                rise(open + run, start);
            }
            _ => i += 1,
        }
    }
    (deepest, first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(src: &str) -> Option<String> {
        scan(src).map(|d| d.message)
    }

    #[test]
    fn counts_brackets_and_prefix_operators_together() {
        let ok = format!("{}x{}", "not (".repeat(32), ")".repeat(32));
        assert_eq!(level(&ok), None);
        let deep = format!("{}x{}", "not (".repeat(33), ")".repeat(33));
        assert!(level(&deep).is_some_and(|m| m.contains("66 levels")));
        // Operands close the prefix operators before them.
        let flat = "not a and not b or - x - y - z\n".repeat(100);
        assert_eq!(level(&flat), None);
    }

    #[test]
    fn skips_strings_and_comments() {
        let hidden = format!("\"{}\" # {}\n", "(".repeat(500), "(".repeat(500));
        assert_eq!(level(&hidden), None);
        let escaped = format!("\"\\\"{}\"", "(".repeat(500));
        assert_eq!(level(&escaped), None);
        assert!(level(&"supervisor of ".repeat(65)).is_some());
        assert!(level(&"department of ".repeat(65)).is_some());
        assert_eq!(level(&"head of department of ".repeat(64)), None);
        assert!(level(&"head of department of ".repeat(65)).is_some());
        assert!(level(&"- ".repeat(65)).is_some());
        assert_eq!(level(&"a -> b ".repeat(200)), None);
    }
}
