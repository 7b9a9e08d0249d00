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
//! final value of its key). A batch is only acknowledged after step 3 and a flush.
//!
//! Readers of sled in between may see part of a batch. The engine's own commands
//! do not: they read a batch's changes from the pipeline until it is written.

use super::space::Space;
use super::StoreError;
use sled::IVec;

/// Journal records stay well below sled's blob threshold (a quarter of its 512 KiB
/// segment), above which a value is written to a file of its own.
const CHUNK: usize = 64 * 1024;

/// The journal key of one record of batch `seq`.
fn record_key(seq: u64, part: u32) -> [u8; 12] {
    let mut k = [0; 12];
    k[..8].copy_from_slice(&seq.to_be_bytes());
    k[8..].copy_from_slice(&part.to_be_bytes());
    k
}

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
    tree: &sled::Tree,
    journal: &Space,
    seq: u64,
    changes: impl Iterator<Item = (Vec<u8>, Option<&'a IVec>)> + Clone,
) -> Result<(), StoreError> {
    let mut records = 0u32;
    let mut rec = Vec::with_capacity(CHUNK);
    for (k, v) in changes.clone() {
        encode(&mut rec, (&k, v.map(|v| &v[..])));
        if rec.len() >= CHUNK {
            journal.insert(record_key(seq, records), std::mem::take(&mut rec))?;
            records += 1;
        }
    }
    if !rec.is_empty() {
        journal.insert(record_key(seq, records), rec)?;
        records += 1;
    }
    for (k, v) in changes {
        match v {
            Some(v) => tree.insert(k, v.clone())?,
            None => tree.remove(k)?,
        };
    }
    for part in 0..records {
        journal.remove(record_key(seq, part))?;
    }
    Ok(())
}

/// Write again every batch whose journal is still there (the process stopped while
/// writing it), oldest first, and clear the journal; all in one atomic sled batch.
/// Returns how many batches were written again.
pub(super) fn replay(tree: &sled::Tree, journal: &Space) -> Result<usize, StoreError> {
    let mut b = sled::Batch::default();
    let mut batches = std::collections::BTreeSet::new();
    for rec in journal.iter() {
        let (k, v) = rec?;
        let seq: [u8; 8] = k
            .get(..8)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| StoreError::Storage("corrupt journal: a key is too short".into()))?;
        batches.insert(seq);
        for (key, value) in
            decode(&v).map_err(|e| StoreError::Storage(format!("corrupt journal: {e}")))?
        {
            match value {
                Some(v) => b.insert(key, v),
                None => b.remove(key),
            }
        }
        journal.del(&mut b, &k);
    }
    if !batches.is_empty() {
        tree.apply_batch(b)?;
        tree.flush()?;
    }
    Ok(batches.len())
}

/// Leave the journal as `write` leaves it when the process stops before any of
/// the batch's changes is written.
#[cfg(test)]
pub(super) fn leave_cut_short(journal: &Space, seq: u64, changes: &[(Vec<u8>, Option<IVec>)]) {
    let mut rec = Vec::new();
    for (k, v) in changes {
        encode(&mut rec, (k, v.as_ref().map(|v| &v[..])));
    }
    journal.insert(record_key(seq, 0), rec).expect("journal");
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// A batch cut off after its journal and part of its changes is whole again
    /// once replayed, and the journal is empty.
    #[test]
    fn a_batch_cut_short_is_written_again_on_replay() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let tree = db.open_tree("records").expect("tree");
        let journal = Space::new(tree.clone(), 0xfe);
        let data = Space::new(tree.clone(), 3);
        data.insert(b"gone", b"old".to_vec()).expect("insert");
        data.insert(b"kept", b"old".to_vec()).expect("insert");
        let big = vec![1u8; 3 * CHUNK];
        let changes = vec![
            (data.key(b"a"), Some(IVec::from(&b"new"[..]))),
            (data.key(b"gone"), None),
            (data.key(b"large"), Some(IVec::from(&big[..]))),
        ];
        leave_cut_short(&journal, 9, &changes);
        // The first change made it to sled before the stop.
        tree.insert(&changes[0].0, b"new".to_vec()).expect("insert");

        assert_eq!(replay(&tree, &journal).expect("replay"), 1);
        assert_eq!(data.get(b"a").expect("get").as_deref(), Some(&b"new"[..]));
        assert_eq!(data.get(b"gone").expect("get"), None);
        assert_eq!(data.get(b"large").expect("get").as_deref(), Some(&big[..]));
        assert_eq!(
            data.get(b"kept").expect("get").as_deref(),
            Some(&b"old"[..])
        );
        assert_eq!(journal.iter().count(), 0);
        assert_eq!(replay(&tree, &journal).expect("replay"), 0);
    }

    #[test]
    fn a_written_batch_leaves_no_journal() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let tree = db.open_tree("records").expect("tree");
        let journal = Space::new(tree.clone(), 0xfe);
        let data = Space::new(tree.clone(), 3);
        data.insert(b"gone", b"old".to_vec()).expect("insert");
        let big = IVec::from(vec![2u8; 2 * CHUNK]);
        let new = IVec::from(&b"new"[..]);
        let changes = [
            (data.key(b"a"), Some(&new)),
            (data.key(b"gone"), None),
            (data.key(b"big"), Some(&big)),
        ];
        write(&tree, &journal, 4, changes.iter().cloned()).expect("write");
        assert_eq!(data.get(b"a").expect("get"), Some(new));
        assert_eq!(data.get(b"gone").expect("get"), None);
        assert_eq!(data.get(b"big").expect("get"), Some(big));
        assert_eq!(journal.iter().count(), 0);
    }
}
