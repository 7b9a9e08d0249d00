//! The code table in docs/language.md is the catalogue's: this test renders it from
//! `Code::ALL` and fails with the expected text when the two differ. With
//! `BATON_BLESS=1` it rewrites the table in the docs instead.

use baton_dsl::Code;
use std::path::Path;

const HEADER: &str = "| code | meaning |";

fn table() -> String {
    let mut out = format!("{HEADER}\n| --- | --- |\n");
    for c in Code::ALL {
        out.push_str(&format!("| {} | {} |\n", c.id(), c.summary()));
    }
    out
}

/// The byte range of the table in `docs`: from its header to the first line after it
/// that is not a table row.
fn table_range(docs: &str) -> Option<std::ops::Range<usize>> {
    let start = docs.find(&format!("\n{HEADER}\n"))? + 1;
    let mut end = start;
    for line in docs[start..].split_inclusive('\n') {
        if !line.starts_with('|') {
            break;
        }
        end += line.len();
    }
    Some(start..end)
}

#[test]
fn docs_code_table_is_the_catalogue() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/language.md");
    let docs = std::fs::read_to_string(&path).expect("docs/language.md is readable");
    let range = table_range(&docs).expect("docs/language.md has a `| code | meaning |` table");
    let want = table();
    if docs[range.clone()] == want {
        return;
    }
    if std::env::var("BATON_BLESS").is_ok_and(|v| v == "1") {
        let mut blessed = docs.clone();
        blessed.replace_range(range, &want);
        std::fs::write(&path, blessed).expect("docs/language.md is writable");
        return;
    }
    panic!(
        "the code table in docs/language.md differs from the catalogue \
         (dsl/src/catalogue.rs); run with BATON_BLESS=1 to rewrite it. Expected:\n\n{want}"
    );
}

#[test]
fn the_table_is_found_and_ends_at_the_last_row() {
    let docs = format!("text\n\n{}\nafter\n", table());
    let range = table_range(&docs).expect("found");
    assert_eq!(&docs[range], table());
}
