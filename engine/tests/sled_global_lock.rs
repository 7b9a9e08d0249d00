//! sled puts every write of the process under one global lock for good once anything
//! calls `apply_batch` or opens a transaction (its concurrency control switches mode
//! on first use). The store writes its batches through its own journal instead; this
//! keeps any later code from bringing either back.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn nothing_calls_sled_apply_batch_or_transactions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in ["engine/src", "server/src", "cli/src"] {
        sources(&root.join(krate), &mut files);
    }
    assert!(files.len() > 20, "sources found: {}", files.len());
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains(".apply_batch(")
                || code.contains(".transaction(")
                || code.contains("sled::Batch")
            {
                found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

/// Storage is reached only through the store's traits: no code outside
/// `engine/src/store/` names sled (comments aside), and neither the server nor the
/// CLI depends on it, so a second backend needs no change outside the store.
#[test]
fn nothing_outside_the_store_reaches_into_sled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let store = root.join("engine/src/store");
    let mut files = Vec::new();
    for krate in ["engine/src", "server/src", "cli/src"] {
        sources(&root.join(krate), &mut files);
    }
    let outside: Vec<_> = files.iter().filter(|f| !f.starts_with(&store)).collect();
    assert!(outside.len() > 20, "sources found: {}", outside.len());
    let mut found = Vec::new();
    for f in outside {
        let text = std::fs::read_to_string(f).expect("read");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("sled::") || code.contains("sled;") {
                found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
    for manifest in ["server/Cargo.toml", "cli/Cargo.toml"] {
        let text = std::fs::read_to_string(root.join(manifest)).expect("manifest");
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("sled")),
            "{manifest} depends on sled"
        );
    }
}
