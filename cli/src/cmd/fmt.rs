//! `baton fmt`: rewrite definitions in the canonical layout, or `--check` that they are.

use crate::exit::Code;
use crate::files;
use baton_dsl::Located;
use std::path::PathBuf;

pub fn run(paths: &[PathBuf], check: bool) -> Code {
    let list = match files::flow_files(paths) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Code::Usage;
        }
    };
    let mut code = Code::Ok;
    for f in &list {
        let src = match files::read(f) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return Code::Usage;
            }
        };
        // Like gofmt, refuse to touch a file that does not parse: its layout is not
        // the problem, and guessing could hide the real one.
        if let Err(diags) = baton_dsl::parse(&src) {
            let name = f.display().to_string();
            for l in Located::all(&name, &src, diags) {
                eprintln!("{}", l.render(&src));
            }
            code = Code::Problems;
            continue;
        }
        let out = baton_dsl::fmt::format(&src);
        if out == src {
            continue;
        }
        if check {
            outln!("would reformat {}", f.display());
            code = Code::Problems;
        } else if let Err(e) = std::fs::write(f, out) {
            eprintln!("error: cannot write {}: {e}", f.display());
            return Code::Usage;
        } else {
            outln!("formatted {}", f.display());
        }
    }
    code
}
