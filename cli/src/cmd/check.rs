//! `baton check`: every diagnostic of every file, errors first, then warnings.

use crate::exit::Code;
use crate::files;
use baton_dsl::{Context, Located, Severity};
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
    let mut all: Vec<(Located, String)> = Vec::new();
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
        for d in baton_dsl::check(&src, &ctx).diagnostics {
            all.push((Located::new(&name, &src, d), src.clone()));
        }
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
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            for sev in [Severity::Error, Severity::Warning] {
                for (l, src) in all.iter().filter(|(l, _)| l.diagnostic.severity == sev) {
                    println!("{}", l.render(src));
                }
            }
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
