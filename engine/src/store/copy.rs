//! `baton copy`: every record of one database into another, embedded or
//! PostgreSQL, either way. Records keep their keys and their versioned envelopes
//! (see `records`), so a copy is the same database in another place: every
//! instance, task, history entry, timer, message, webhook attempt, token, sign-in
//! and definition. The copy is then checked: the same number of records of each
//! kind, and `verify` clean on the target.

use super::kind::Kind;
use super::space::WriteBatch;
use super::{Options, Store, StoreError};
use std::path::Path;

/// Records written per transaction (PostgreSQL) or journal batch (sled).
const CHUNK: usize = 2_000;

/// What a copy moved, per kind of record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub kinds: Vec<(String, usize)>,
    pub problems: Vec<String>,
}

impl Copied {
    pub fn total(&self) -> usize {
        self.kinds.iter().map(|(_, n)| n).sum()
    }
}

/// Copy the database at `from` into the empty database at `to`, then check it.
/// Neither may be in use by a running `baton serve` on sled (sled's lock refuses
/// it); on PostgreSQL, stop the nodes first so that nothing changes during the copy.
pub fn copy(from: &Path, to: &Path, opts: impl Fn() -> Options) -> Result<Copied, StoreError> {
    let src = Store::open_at(from, opts())?;
    let dst = Store::open_at(to, opts())?;
    for kind in [
        Kind::Instances,
        Kind::Definitions,
        Kind::Tokens,
        Kind::Outbox,
    ] {
        if dst.t[kind].first()?.is_some() {
            return Err(StoreError::Storage(format!(
                "{} already holds records ({kind:?}): copy into an empty database",
                dst.path.display()
            )));
        }
    }
    let mut kinds = Vec::new();
    {
        let w = dst.t.alone()?;
        for kind in Kind::ALL {
            let mut n = 0;
            let mut b = WriteBatch::default();
            for kv in src.t[kind].iter() {
                let (k, v) = kv?;
                // The target's layout version and its record of what it
                // acknowledged stay its own.
                if kind == Kind::Meta && super::ack::OWN_MARKS.contains(&k.as_ref()) {
                    continue;
                }
                dst.t[kind].put(&mut b, &k, v);
                n += 1;
                if b.changes.len() >= CHUNK {
                    dst.t.apply_alone(&w, std::mem::take(&mut b))?;
                }
            }
            dst.t.apply_alone(&w, b)?;
            kinds.push((format!("{kind:?}"), n));
        }
    }
    dst.durable()?;
    if let Some(pg) = &dst.pg {
        let last = |k: Kind| super::last_u64(&dst.t[k]);
        pg.raise_ids(last(Kind::Instances)?, last(Kind::Outbox)?)?;
    }
    drop(dst);
    drop(src);
    // Opened again: its caches, indexes and ids are read from what was copied.
    let src = Store::open_at(from, opts())?;
    let dst = Store::open_at(to, opts())?;
    let mut problems = Vec::new();
    // A database's own marks (see `ack::OWN_MARKS`) are not copied, nor counted.
    let count = |s: &Store, kind: Kind| -> Result<usize, StoreError> {
        let mut n = 0;
        for kv in s.t[kind].iter() {
            let (k, _) = kv?;
            if !(kind == Kind::Meta && super::ack::OWN_MARKS.contains(&k.as_ref())) {
                n += 1;
            }
        }
        Ok(n)
    };
    for kind in Kind::ALL {
        let a = count(&src, kind)?;
        let b = count(&dst, kind)?;
        if a != b {
            problems.push(format!(
                "{kind:?}: {a} records in the source, {b} in the copy"
            ));
        }
    }
    problems.extend(dst.verify()?);
    Ok(Copied { kinds, problems })
}
