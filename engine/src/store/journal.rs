//! How a batch of commands reaches sled all or nothing without `apply_batch`.
//!
//! `sled::Tree::apply_batch` holds a process-wide write lock for as long as it
//! writes, and every read and every flush waits for it. The engine runs the next
//! batch while the previous one is written (see `batch::Pipeline`), so that lock
//! made the two stages take turns: with 64 callers, completions went from about
//! 10,200/s to 12,200/s when the writes stopped taking it.
//!
//! So a batch is written as a redo journal instead:
//!
//! 1. its changes go into the journal space, a few records under its sequence
//!    number (each below sled's blob threshold, so that none becomes a file of its
//!    own);
//! 2. each change is then written by itself, which takes only a shared lock;
//! 3. the journal records are removed.
//!
//! sled recovers a prefix of its log: after a crash, a write is there only if every
//! write before it is. So either the journal records are gone, and every change of
//! the batch is in place, or they are still there and `replay` writes the batch
//! again when the database opens (writing a change twice is harmless: each is the
//! final value of its key). The last record of a batch is marked: a journal without
//! it was cut short in step 1, before any change was made, and is dropped. A batch
//! is only acknowledged after step 3 and a flush.
//!
//! Readers of sled in between may see part of a batch. The engine's own commands
//! do not: they read a batch's changes from the pipeline until it is written.
//! Readers that must not (the delivery cursor) and every other writer wait for the
//! batch (see `Trees::writing`).
//!
//! A journal record that does not decode stops the database from opening, with
//! the reason: sled checks its log's checksums, so that means a bug, not a torn
//! write, and writing part of a batch would be worse.

use super::space::{Shared, Space, Writer};
use super::StoreError;
use sled::IVec;

/// A journal record is cut once it holds this much, well below sled's blob
/// threshold (a quarter of its 512 KiB segment), above which a value is written to
/// a file of its own. A single change larger than that still makes a larger record:
/// sled writes it as a blob, slower but just as safe.
const CHUNK: usize = 64 * 1024;

/// The journal key of one record of batch `seq`.
fn record_key(seq: u64, part: u32) -> [u8; 12] {
    let mut k = [0; 12];
    k[..8].copy_from_slice(&seq.to_be_bytes());
    k[8..].copy_from_slice(&part.to_be_bytes());
    k
}

/// The first byte of a batch's last journal record; the others start with `MORE`.
const LAST: u8 = 1;
const MORE: u8 = 0;

/// One change as a journal holds it: the stored key (with its space's tag) and the
/// new value, or none for a removal.
type Change<'a> = (&'a [u8], Option<&'a [u8]>);

fn encode(out: &mut Vec<u8>, (key, value): Change<'_>) {
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    match value {
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&(v.len() as u32).to_be_bytes());
            out.extend_from_slice(v);
        }
        None => out.push(0),
    }
}

/// A change read back from the journal.
type Owned = (Vec<u8>, Option<Vec<u8>>);

/// The changes in one journal record, or an error naming what is wrong with it.
fn decode(mut rec: &[u8]) -> Result<Vec<Owned>, String> {
    fn take<'a>(rec: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
        if rec.len() < n {
            return Err("a journal record ends early".into());
        }
        let (head, tail) = rec.split_at(n);
        *rec = tail;
        Ok(head)
    }
    fn len(rec: &mut &[u8]) -> Result<usize, String> {
        let b = take(rec, 4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    let mut out = Vec::new();
    while !rec.is_empty() {
        let n = len(&mut rec)?;
        let key = take(&mut rec, n)?.to_vec();
        let value = match take(&mut rec, 1)?[0] {
            0 => None,
            1 => {
                let n = len(&mut rec)?;
                Some(take(&mut rec, n)?.to_vec())
            }
            b => return Err(format!("a journal record has an unknown mark {b}")),
        };
        out.push((key, value));
    }
    Ok(out)
}

/// Write `changes` (stored keys) as batch `seq`: journal, changes, journal removed.
pub(super) fn write<'a>(
    w: &Writer<'_>,
    tree: &Shared,
    journal: &Space,
    seq: u64,
    changes: impl Iterator<Item = (Vec<u8>, Option<&'a IVec>)> + Clone,
) -> Result<(), StoreError> {
    write_cut(w, tree, journal, seq, changes, usize::MAX)
}

/// `write`, stopping as a crash would after `ops` writes to sled (tests stop it at
/// every point; `write` never does).
pub(super) fn write_cut<'a>(
    w: &Writer<'_>,
    tree: &Shared,
    journal: &Space,
    seq: u64,
    changes: impl Iterator<Item = (Vec<u8>, Option<&'a IVec>)> + Clone,
    mut ops: usize,
) -> Result<(), StoreError> {
    // Each write to sled spends one of `ops`; where none is left, the crash comes.
    let mut spend = || match ops.checked_sub(1) {
        Some(n) => {
            ops = n;
            true
        }
        None => false,
    };
    let mut records = 0u32;
    let mut rec = vec![MORE];
    for (k, v) in changes.clone() {
        encode(&mut rec, (&k, v.map(|v| &v[..])));
        if rec.len() >= CHUNK {
            if !spend() {
                return Ok(());
            }
            journal.insert(
                w,
                record_key(seq, records),
                std::mem::replace(&mut rec, vec![MORE]),
            )?;
            records += 1;
        }
    }
    rec[0] = LAST;
    if !spend() {
        return Ok(());
    }
    journal.insert(w, record_key(seq, records), rec)?;
    records += 1;
    for (k, v) in changes {
        if !spend() {
            return Ok(());
        }
        match v {
            Some(v) => tree.insert(w, k, v.clone())?,
            None => tree.remove(w, k)?,
        };
    }
    for part in 0..records {
        if !spend() {
            return Ok(());
        }
        journal.remove(w, record_key(seq, part))?;
    }
    Ok(())
}

/// Write again every batch whose journal is still there and whole (the process
/// stopped while writing its changes), oldest first, then clear the journal and
/// flush. Key by key, not with sled's `apply_batch` (which would put every later
/// write of the process under sled's global lock): a crash part-way leaves the
/// journal, and the next open writes the same final values again. Returns how many
/// batches were written again.
pub(super) fn replay(w: &Writer<'_>, tree: &Shared, journal: &Space) -> Result<usize, StoreError> {
    let corrupt = |why: &str| StoreError::Storage(format!("corrupt journal: {why}"));
    let mut changes: Vec<Owned> = Vec::new();
    let mut keys: Vec<IVec> = Vec::new();
    // The records of the batch being read, until its last one.
    let mut batch: Option<(u64, Vec<IVec>)> = None;
    let mut replayed = 0;
    for rec in journal.iter() {
        let (k, v) = rec?;
        keys.push(k.clone());
        let seq = k
            .get(..8)
            .and_then(|s| s.try_into().ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| corrupt("a key is too short"))?;
        let (mark, _) = v.split_first().ok_or_else(|| corrupt("an empty record"))?;
        // A batch without its last record was cut short before any change was made.
        let mut records = match batch.take() {
            Some((s, records)) if s == seq => records,
            _ => Vec::new(),
        };
        records.push(v.clone());
        if *mark != LAST {
            batch = Some((seq, records));
            continue;
        }
        for rec in &records {
            changes.extend(decode(&rec[1..]).map_err(|e| corrupt(&e))?);
        }
        replayed += 1;
    }
    if keys.is_empty() {
        return Ok(0);
    }
    for (key, value) in changes {
        match value {
            Some(v) => tree.insert(w, key, v)?,
            None => tree.remove(w, key)?,
        };
    }
    tree.flush()?;
    for k in keys {
        journal.remove(w, k)?;
    }
    tree.flush()?;
    Ok(replayed)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::store::kind::Kind;
    use std::sync::RwLock;

    /// A new tree, its journal and one space of records.
    fn fresh() -> (Shared, Space, Space) {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let tree = Shared::new(db.open_tree("records").expect("tree"));
        (
            tree.clone(),
            Space::journal(tree.clone()),
            Space::new(tree, Kind::Instances),
        )
    }

    #[test]
    fn records_decode_to_what_was_encoded() {
        let big = vec![7u8; CHUNK + 10];
        let changes: Vec<(&[u8], Option<&[u8]>)> = vec![
            (b"\x03a", Some(b"one")),
            (b"\x05b", None),
            (b"\x03c", Some(&big)),
        ];
        let mut rec = Vec::new();
        for c in &changes {
            encode(&mut rec, *c);
        }
        let back = decode(&rec).expect("decode");
        let back: Vec<(&[u8], Option<&[u8]>)> =
            back.iter().map(|(k, v)| (&k[..], v.as_deref())).collect();
        assert_eq!(back, changes);
        assert!(decode(&rec[..rec.len() - 1]).is_err());
    }

    /// A crash at any point of a batch's write, then a replay, leaves either the
    /// whole batch or none of it: none while its journal was still being written,
    /// all of it from then on. The journal is empty after the replay.
    #[test]
    fn a_batch_cut_short_anywhere_is_all_or_nothing_after_replay() {
        let old = IVec::from(&b"old"[..]);
        let new = IVec::from(&b"new"[..]);
        // Two values of a chunk's size or more, so that the journal has three records.
        let big = IVec::from(vec![1u8; CHUNK]);
        let bigger = IVec::from(vec![2u8; 2 * CHUNK]);
        let names: [&[u8]; 5] = [b"a", b"gone", b"large", b"larger", b"kept"];
        let before = [Some(&old), Some(&old), None, None, Some(&old)];
        let after = [Some(&new), None, Some(&big), Some(&bigger), Some(&old)];
        let (records, writes) = (3, 4);
        let lock = RwLock::new(());
        let w = Writer::alone(lock.write().expect("lock"));
        for ops in 0..=records + writes + records {
            let (tree, journal, data) = fresh();
            for (name, v) in names.iter().zip(before) {
                if let Some(v) = v {
                    data.insert(&w, name, v.clone()).expect("insert");
                }
            }
            let changes: Vec<(Vec<u8>, Option<&IVec>)> = names[..4]
                .iter()
                .zip(after)
                .map(|(name, v)| (data.key(name), v))
                .collect();
            write_cut(&w, &tree, &journal, 7, changes.iter().cloned(), ops).expect("write");
            let replayed = replay(&w, &tree, &journal).expect("replay");
            let whole = ops >= records;
            assert_eq!(
                replayed,
                usize::from(whole && ops < records + writes + records),
                "{ops}"
            );
            let want = if whole { after } else { before };
            for (name, v) in names.iter().zip(want) {
                assert_eq!(data.get(name).expect("get").as_ref(), v, "{ops}: {name:?}");
            }
            assert_eq!(journal.iter().count(), 0, "{ops}");
        }
    }

    #[test]
    fn a_written_batch_leaves_no_journal() {
        let (tree, journal, data) = fresh();
        let lock = RwLock::new(());
        let w = Writer::alone(lock.write().expect("lock"));
        data.insert(&w, b"gone", b"old".to_vec()).expect("insert");
        let big = IVec::from(vec![2u8; 2 * CHUNK]);
        let new = IVec::from(&b"new"[..]);
        let changes = [
            (data.key(b"a"), Some(&new)),
            (data.key(b"gone"), None),
            (data.key(b"big"), Some(&big)),
        ];
        write(&w, &tree, &journal, 4, changes.iter().cloned()).expect("write");
        assert_eq!(data.get(b"a").expect("get"), Some(new));
        assert_eq!(data.get(b"gone").expect("get"), None);
        assert_eq!(data.get(b"big").expect("get"), Some(big));
        assert_eq!(journal.iter().count(), 0);
    }
}
