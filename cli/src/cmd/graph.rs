//! `baton graph`: draw a definition as Mermaid or Graphviz dot.

use crate::exit::Code;
use crate::files;
use baton_dsl::{Context, Located};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Mermaid,
    Dot,
}

/// A file path, or the name of a process defined in `dir`.
fn find(target: &str, dir: &Path) -> Result<PathBuf, String> {
    let p = PathBuf::from(target);
    if p.is_file() {
        return Ok(p);
    }
    for f in files::flow_files(&[dir.to_path_buf()])? {
        let src = files::read(&f)?;
        if baton_dsl::signature(&src).is_some_and(|(name, _)| name == target) {
            return Ok(f);
        }
    }
    Err(format!(
        "`{target}` is neither a file nor a process in {}",
        dir.display()
    ))
}

pub fn run(target: &str, dir: &Path, format: Format) -> Code {
    let path = match find(target, dir) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Code::Usage;
        }
    };
    let src = match files::read(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Code::Usage;
        }
    };
    let sigs = files::signatures(std::slice::from_ref(&path));
    let out = baton_dsl::check(
        &src,
        &Context {
            staff: None,
            processes: Some(&sigs),
        },
    );
    let Some(def) = out.definition else {
        let name = path.display().to_string();
        for l in Located::all(&name, &src, out.diagnostics) {
            eprintln!("{}", l.render(&src));
        }
        return Code::Problems;
    };
    match format {
        Format::Mermaid => out!("{}", baton_dsl::graph::mermaid(&def)),
        Format::Dot => out!("{}", baton_dsl::graph::dot(&def)),
    }
    Code::Ok
}
