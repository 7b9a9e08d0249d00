//! Diagnostics: what `baton check` prints. Each carries a code from the catalogue
//! (`crate::catalogue`), a span into the source, the code's message filled in, an
//! optional label under the caret and optional help. `Located::render` is the one
//! renderer for people; tools read the JSON form.

use crate::ast::Span;
use crate::catalogue::{fill, Code};
use serde::Serialize;
use std::fmt;
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Always `code.severity()`; kept as a field for readers of the JSON form.
    pub severity: Severity,
    /// Stable code from the catalogue, listed in docs/language.md (`E0xx` errors,
    /// `W0xx` warnings). Compares equal to its id: `d.code == "E002"`.
    pub code: Code,
    pub message: String,
    #[serde(skip)]
    pub span: Span,
    pub label: Option<String>,
    /// The diagnostic's own help, or else the catalogue's default help for its code.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the catalogue's message for `code`, its `{0}`, `{1}` ... filled
    /// from `args`, and the code's default help (filled the same way), if any.
    pub fn new(code: Code, span: Span, args: &[&dyn fmt::Display]) -> Self {
        Diagnostic {
            severity: code.severity(),
            code,
            message: fill(code.template(), args),
            span,
            label: None,
            help: code.help().map(|h| fill(h, args)),
        }
    }
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    /// Replace the default help.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    /// Replace the default help when there is something to say (a "did you mean").
    pub fn help_opt(mut self, help: Option<String>) -> Self {
        self.set_help(help);
        self
    }
    /// `help_opt` for a diagnostic already pushed.
    pub fn set_help(&mut self, help: Option<String>) {
        if help.is_some() {
            self.help = help;
        }
    }
}

/// Line and column (both from 1, the column counted in characters) of a byte offset.
/// Scans from the start: for many offsets in one file, use [`LineIndex`].
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(src, offset.min(src.len()));
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, src[line_start..offset].chars().count() + 1)
}

/// Where each line of a file starts, built once so that locating every diagnostic of a
/// file costs a binary search and the length of its line, not a scan of the file.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    /// The last offset located and its column: offsets asked in order along a line
    /// (a file's diagnostics are sorted) count only the characters between them, so a
    /// file of one long line costs its length, not its length per diagnostic.
    last: std::cell::Cell<(usize, usize)>,
}

impl LineIndex {
    pub fn new(src: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            starts,
            last: std::cell::Cell::new((0, 1)),
        }
    }

    /// Line and column (both from 1, the column in characters) of a byte offset of
    /// `src`, the text this index was built from.
    pub fn line_col(&self, src: &str, offset: usize) -> (usize, usize) {
        let (line, col) = self.locate(src, offset, self.last.get());
        self.last
            .set((floor_char_boundary(src, offset.min(src.len())), col));
        (line, col)
    }

    /// Like [`LineIndex::line_col`], counting from a known offset and its column
    /// (a span's start, for its end) when both are on one line.
    fn locate(&self, src: &str, offset: usize, (from, from_col): (usize, usize)) -> (usize, usize) {
        let offset = floor_char_boundary(src, offset.min(src.len()));
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1].min(offset);
        let col = if (start..=offset).contains(&from) && src.is_char_boundary(from) {
            from_col + src[from..offset].chars().count()
        } else {
            src[start..offset].chars().count() + 1
        };
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A diagnostic located in a file, ready for people (`render`) or tools (JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Located {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    #[serde(flatten)]
    pub diagnostic: Diagnostic,
}

impl Located {
    /// Locate one diagnostic. For all of a file's, use [`Located::all`].
    pub fn new(file: &str, src: &str, diagnostic: Diagnostic) -> Self {
        Located::with_index(file, src, &LineIndex::new(src), diagnostic)
    }

    /// Locate every diagnostic of one file, indexing its lines once.
    pub fn all(
        file: &str,
        src: &str,
        diagnostics: impl IntoIterator<Item = Diagnostic>,
    ) -> Vec<Located> {
        let index = LineIndex::new(src);
        diagnostics
            .into_iter()
            .map(|d| Located::with_index(file, src, &index, d))
            .collect()
    }

    pub fn with_index(file: &str, src: &str, index: &LineIndex, diagnostic: Diagnostic) -> Self {
        let (line, column) = index.line_col(src, diagnostic.span.start);
        let start = floor_char_boundary(src, diagnostic.span.start.min(src.len()));
        let (end_line, end_column) = index.locate(src, diagnostic.span.end, (start, column));
        Located {
            file: file.to_string(),
            line,
            column,
            end_line,
            end_column,
            diagnostic,
        }
    }

    /// rustc-style text: header with file:line:column, the source line, a caret line.
    /// Carets are measured in display columns so they line up under CJK text.
    pub fn render(&self, src: &str) -> String {
        let d = &self.diagnostic;
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = format!(
            "{kind}[{}]: {}\n  --> {}:{}:{}\n",
            d.code, d.message, self.file, self.line, self.column
        );
        // The line around the diagnostic's start, found from its offset, and cut around
        // the diagnostic when it is long: no scan of the lines before it, nor of more
        // than a screenful of its own.
        let at = floor_char_boundary(src, d.span.start.min(src.len()));
        let shown = Shown::around(src, at);
        let text = src[shown.from..shown.to].trim_end_matches('\r');
        let (open, close) = (
            if shown.cut_before { "…" } else { "" },
            if shown.cut_after { "…" } else { "" },
        );
        let line_text = format!("{open}{text}{close}");
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        let start_col = UnicodeWidthStr::width(open) + UnicodeWidthStr::width(&src[shown.from..at]);
        let width = if self.end_line == self.line && self.end_column > self.column {
            let marked: String = src[at..shown.to.max(at)]
                .chars()
                .take(self.end_column - self.column)
                .collect();
            UnicodeWidthStr::width(marked.as_str()).max(1)
        } else {
            1
        };
        out.push_str(&format!("{pad} |\n{num} | {line_text}\n{pad} | "));
        out.push_str(&" ".repeat(start_col));
        out.push_str(&"^".repeat(width));
        if let Some(label) = &d.label {
            out.push(' ');
            out.push_str(label);
        }
        out.push('\n');
        if let Some(help) = &d.help {
            out.push_str(&format!("{pad} = help: {help}\n"));
        }
        out
    }
}

/// The part of a line shown under a diagnostic: all of it when it is at most
/// [`Shown::WIDTH`] characters, else that many around the diagnostic's start.
struct Shown {
    from: usize,
    to: usize,
    cut_before: bool,
    cut_after: bool,
}

impl Shown {
    const WIDTH: usize = 200;
    /// Characters kept before the diagnostic when a line is cut.
    const BEFORE: usize = 60;

    fn around(src: &str, at: usize) -> Shown {
        let back = || {
            src[..at]
                .char_indices()
                .rev()
                .take_while(|&(_, c)| c != '\n')
        };
        let ahead = || src[at..].char_indices().take_while(|&(_, c)| c != '\n');
        let before = back().take(Self::WIDTH + 1).count();
        let after = ahead().take(Self::WIDTH + 1).count();
        let keep_before = if before + after <= Self::WIDTH {
            before
        } else {
            before.min(Self::BEFORE)
        };
        let keep_after = after.min(Self::WIDTH - keep_before);
        let from = back().take(keep_before).last().map_or(at, |(i, _)| i);
        let to = ahead()
            .take(keep_after)
            .last()
            .map_or(at, |(i, c)| at + i + c.len_utf8());
        Shown {
            from,
            to,
            cut_before: keep_before < before,
            cut_after: keep_after < after,
        }
    }
}

/// The closest of `candidates` to `name`, for "did you mean" help.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}
