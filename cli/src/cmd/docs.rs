//! `baton docs`: the company's page on its processes (docs/processes.md), written
//! from the definitions so that it cannot drift from what runs.

use crate::exit::Code;
use crate::files;
use baton_dsl::handbook::{self, Entry};
use baton_dsl::{Context, Located};
use baton_engine::display::Lookup;
use baton_engine::staff::Directory;
use std::path::{Path, PathBuf};

/// The directory's names, as the page reads them: the same lookups as every other
/// text people read.
struct Names<'a>(&'a Directory);

impl handbook::Names for Names<'_> {
    fn role(&self, id: &str) -> Option<&str> {
        Lookup::role(self.0, id)
    }
    fn person(&self, id: &str) -> Option<&str> {
        Lookup::person(self.0, id)
    }
    fn department(&self, id: &str) -> Option<&str> {
        Lookup::department(self.0, id)
    }
}

/// Writes the page to `out` (standard output without it); with `check`, changes
/// nothing and says whether `out` is the page the definitions give.
pub fn run(paths: &[PathBuf], staff: &Path, out: Option<&Path>, check: bool) -> Code {
    match page(paths, staff) {
        Err(code) => code,
        Ok(text) => match (out, check) {
            (None, true) => {
                eprintln!("error: --check needs --out, the page to compare with");
                Code::Usage
            }
            (None, false) => {
                outln!("{}", text.trim_end());
                Code::Ok
            }
            (Some(path), true) => match std::fs::read_to_string(path) {
                Ok(old) if old == text => Code::Ok,
                Ok(_) => {
                    eprintln!(
                        "{} is not what the definitions say: run `baton docs {} --staff {} --out {}`",
                        path.display(),
                        paths
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(" "),
                        staff.display(),
                        path.display()
                    );
                    Code::Problems
                }
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", path.display());
                    Code::Problems
                }
            },
            (Some(path), false) => match std::fs::write(path, text) {
                Ok(()) => Code::Ok,
                Err(e) => {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    Code::Usage
                }
            },
        },
    }
}

fn page(paths: &[PathBuf], staff: &Path) -> Result<String, Code> {
    let usage = |e: String| {
        eprintln!("error: {e}");
        Code::Usage
    };
    let text = files::read(staff).map_err(usage)?;
    let dir = Directory::from_ron(&text).map_err(|e| usage(format!("{}: {e}", staff.display())))?;
    let list = files::flow_files(paths).map_err(usage)?;
    let sigs = files::signatures(&list);
    let names = dir.names();
    let ctx = Context {
        staff: Some(&names),
        processes: Some(&sigs),
    };
    let mut checked = Vec::new();
    let mut failed = false;
    for f in &list {
        let src = files::read(f).map_err(usage)?;
        let out = baton_dsl::check(&src, &ctx);
        match out.definition {
            Some(def) => checked.push((f.display().to_string(), src, def)),
            None => {
                // A page about a definition that does not run would mislead.
                let name = f.display().to_string();
                for l in Located::all(&name, &src, out.diagnostics) {
                    eprintln!("{}", l.render(&src));
                }
                failed = true;
            }
        }
    }
    if failed {
        return Err(Code::Problems);
    }
    let entries: Vec<Entry<'_>> = checked
        .iter()
        .map(|(file, source, definition)| Entry {
            file,
            source,
            definition,
        })
        .collect();
    Ok(handbook::render(&entries, &Names(&dir)))
}
