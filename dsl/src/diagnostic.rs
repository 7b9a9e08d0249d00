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
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(src, offset.min(src.len()));
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, src[line_start..offset].chars().count() + 1)
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
    pub fn new(file: &str, src: &str, diagnostic: Diagnostic) -> Self {
        let (line, column) = line_col(src, diagnostic.span.start);
        let (end_line, end_column) = line_col(src, diagnostic.span.end);
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
        let line_text = src.lines().nth(self.line - 1).unwrap_or("");
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
