//! Diagnostics: what `baton check` prints. Each carries a stable code, a span into the
//! source, a message, an optional label under the caret and optional help.

use crate::ast::Span;
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code, listed in docs/language.md (`E0xx` errors, `W0xx` warnings).
    pub code: &'static str,
    pub message: String,
    #[serde(skip)]
    pub span: Span,
    pub label: Option<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: None,
            help: None,
        }
    }
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
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
        LineIndex { starts }
    }

    /// Line and column (both from 1, the column in characters) of a byte offset of
    /// `src`, the text this index was built from.
    pub fn line_col(&self, src: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(src, offset.min(src.len()));
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1].min(offset);
        (line, src[start..offset].chars().count() + 1)
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
        let (end_line, end_column) = index.line_col(src, diagnostic.span.end);
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
        // The line around the diagnostic's start, found from its offset: no scan of the
        // lines before it.
        let at = floor_char_boundary(src, d.span.start.min(src.len()));
        let line_start = src[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = src[at..].find('\n').map_or(src.len(), |i| at + i);
        let line_text = src[line_start..line_end].trim_end_matches('\r');
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        let prefix: String = line_text.chars().take(self.column - 1).collect();
        let start_col = UnicodeWidthStr::width(prefix.as_str());
        let width = if self.end_line == self.line && self.end_column > self.column {
            let marked: String = line_text
                .chars()
                .skip(self.column - 1)
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
