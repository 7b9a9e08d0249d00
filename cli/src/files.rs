//! Finding definition files and the other processes they may start.

use baton_dsl::{Signature, StaffNames};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `.flow` files named directly or found (not recursively) in named folders, sorted.
pub fn flow_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd =
                std::fs::read_dir(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            let mut found: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "flow"))
                .collect();
            found.sort();
            out.extend(found);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    Ok(out)
}

pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Signatures of every process in the folders of `files`, so that `start X` can be
/// checked even when only one file is named.
pub fn signatures(files: &[PathBuf]) -> BTreeMap<String, Signature> {
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .map(|f| f.parent().map(Path::to_path_buf).unwrap_or_default())
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut sigs = BTreeMap::new();
    for d in dirs {
        let dir = if d.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            d
        };
        for f in flow_files(&[dir]).unwrap_or_default() {
            if let Some((name, sig)) = read(&f).ok().and_then(|s| baton_dsl::signature(&s)) {
                sigs.insert(name, sig);
            }
        }
    }
    sigs
}

pub fn staff(path: Option<&Path>) -> Result<Option<StaffNames>, String> {
    let Some(path) = path else { return Ok(None) };
    let text = read(path)?;
    let dir = baton_engine::staff::Directory::from_ron(&text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(dir.names()))
}
