//! `baton check`: every diagnostic of every file, errors first, then warnings.

use crate::exit::Code;
use crate::files;
use baton_dsl::{Context, Located, Severity};
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(paths: &[PathBuf], staff: Option<&Path>, format: Format) -> Code {
    let staff = match files::staff(staff) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Code::Usage;
        }
    };
    let list = match files::flow_files(paths) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Code::Usage;
        }
    };
    let sigs = files::signatures(&list);
    let ctx = Context {
        staff: staff.as_ref(),
        processes: Some(&sigs),
    };
    // Each file's text once, and its diagnostics pointing at it by number: copying the
    // text per diagnostic made a file with thousands of them take minutes.
    let mut sources: Vec<String> = Vec::new();
    let mut all: Vec<(Located, usize)> = Vec::new();
    let mut unreadable = false;
    for f in &list {
        let src = match files::read(f) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                unreadable = true;
                continue;
            }
        };
        let name = f.display().to_string();
        let diagnostics = baton_dsl::check(&src, &ctx).diagnostics;
        let n = sources.len();
        all.extend(
            Located::all(&name, &src, diagnostics)
                .into_iter()
                .map(|l| (l, n)),
        );
        sources.push(src);
    }
    let errors = all
        .iter()
        .filter(|(l, _)| l.diagnostic.severity == Severity::Error)
        .count();
    let warnings = all.len() - errors;
    match format {
        Format::Json => {
            let items: Vec<&Located> = all.iter().map(|(l, _)| l).collect();
            let doc = serde_json::json!({
                "files": list.len(),
                "errors": errors,
                "warnings": warnings,
                "diagnostics": items,
            });
            outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            // One write per buffer, not per line: stdout flushes at every newline.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for sev in [Severity::Error, Severity::Warning] {
                for (l, n) in all.iter().filter(|(l, _)| l.diagnostic.severity == sev) {
                    writeln!(out, "{}", l.render(&sources[*n])).ok();
                }
            }
            out.flush().ok();
            drop(out);
            eprintln!(
                "checked {} file(s): {errors} error(s), {warnings} warning(s)",
                list.len()
            );
        }
    }
    if unreadable {
        Code::Usage
    } else if errors > 0 {
        Code::Problems
    } else {
        Code::Ok
    }
}
