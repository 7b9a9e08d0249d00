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
//! 1. its changes go into the journal space, as records of at most `CHUNK` bytes
//!    under its sequence number;
//! 2. each change is then written by itself, which takes only a shared lock;
//! 3. with `fsync` (a power cut must not undo an acknowledged batch), the batch is
//!    made durable;
//! 4. the journal records are removed.
//!
//! sled recovers a prefix of its log: after a crash, a write is there only if every
//! write before it is. So either the journal records are gone, and every change of
//! the batch is in place, or they are still there and `replay` writes the batch
//! again when the database opens (writing a change twice is harmless: each is the
//! final value of its key). The last record of a batch is marked: a journal without
//! it was cut short in step 1, before any change was made, and is dropped. A batch
//! is only acknowledged after its journal is removed and a flush.
//!
//! One kind of write escapes the log's order: sled stores a value, or a node of its
//! tree, above its blob threshold (131,020 bytes with its 512 KiB segments) in a
//! file of its own under `blobs/`, and its log only names the file. A killed
//! process loses no such file (the system has it); with `fsync`, the copy of sled
//! built here syncs each one as it writes it (vendor/sled/PATCHED.md), and the
//! journal is kept small so as never to make one. Hence step 3, only with `fsync`:
//! without it the journal's removal is on disk only after the batch's changes (the
//! log's order), which covers a killed process; with it the removal is written only
//! once the changes and their blob files are synced, so a change lost with its file
//! is written again from the journal. And the records are small (`CHUNK`), so that
//! the journal itself never becomes a blob file, even as a node of sled's tree: a
//! leaf holds at most about 17 keys.
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

/// The most a journal record holds. The changes of a batch are encoded one after
/// another and cut into records of this size wherever the cut falls; `replay` puts
/// them together again. About 17 such records (a full leaf of sled's tree, with
/// their keys) stay below sled's blob threshold of 131,020 bytes, so that no
/// journal record is ever written to a blob file (see the module's comment).
/// Journals written when records were cut only between changes read the same.
/// This matters only with `fsync`: without it, a blob file lost would take the
/// process's page cache with it, which a killed process keeps.
const CHUNK: usize = 6 * 1024;

/// The most a journal record holds without `fsync` (no barrier): fewer, larger
/// records are fewer writes to sled, and a blob file is as safe as the log against a
/// killed process. Below the blob threshold all the same, so that a record alone is
/// never a blob.
const LARGE_CHUNK: usize = 64 * 1024;

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

/// The changes of one batch (its records put together), or an error naming what is
/// wrong with them.
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

/// The size journal records are cut at: small with a barrier (`fsync`).
pub(super) fn chunk(barrier: bool) -> usize {
    if barrier {
        CHUNK
    } else {
        LARGE_CHUNK
    }
}

/// Makes everything written so far durable (step 3), for a store with `fsync`.
pub(super) type Barrier<'a> = &'a dyn Fn() -> Result<(), StoreError>;

/// Write `changes` (stored keys) as batch `seq`: journal, changes, the `barrier`
/// if any, journal removed. True when the barrier made the batch durable.
pub(super) fn write<'a>(
    w: &Writer<'_>,
    tree: &Shared,
    journal: &Space,
    seq: u64,
    changes: impl Iterator<Item = (Vec<u8>, Option<&'a IVec>)> + Clone,
    barrier: Option<Barrier<'_>>,
) -> Result<bool, StoreError> {
    let size = chunk(barrier.is_some());
    write_cut(w, tree, journal, seq, changes, barrier, size, usize::MAX)
}

/// `write` with records of `size` bytes, stopping as a crash would after `ops`
/// writes to sled (tests stop it at every point; `write` never does).
#[allow(clippy::too_many_arguments)]
pub(super) fn write_cut<'a>(
    w: &Writer<'_>,
    tree: &Shared,
    journal: &Space,
    seq: u64,
    changes: impl Iterator<Item = (Vec<u8>, Option<&'a IVec>)> + Clone,
    barrier: Option<Barrier<'_>>,
    size: usize,
    mut ops: usize,
) -> Result<bool, StoreError> {
    // Each write to sled spends one of `ops`; where none is left, the crash comes.
    let mut spend = || match ops.checked_sub(1) {
        Some(n) => {
            ops = n;
            true
        }
        None => false,
    };
    let mut records = 0u32;
    let mut encoded = Vec::new();
    for (k, v) in changes.clone() {
        encode(&mut encoded, (&k, v.map(|v| &v[..])));
    }
    let mut pieces = encoded.chunks(size).peekable();
    loop {
        let piece = pieces.next().unwrap_or_default();
        let last = pieces.peek().is_none();
        if !spend() {
            return Ok(false);
        }
        let mut rec = Vec::with_capacity(piece.len() + 1);
        rec.push(if last { LAST } else { MORE });
        rec.extend_from_slice(piece);
        journal.insert(w, record_key(seq, records), rec)?;
        records += 1;
        if last {
            break;
        }
    }
    for (k, v) in changes {
        if !spend() {
            return Ok(false);
        }
        match v {
            Some(v) => tree.insert(w, k, v.clone())?,
            None => tree.remove(w, k)?,
        };
    }
    if let Some(barrier) = barrier {
        barrier()?;
    }
    // The last record first: a crash part-way leaves the first records without it,
    // which `replay` drops, as it must now that every change is in place.
    for part in (0..records).rev() {
        if !spend() {
            return Ok(barrier.is_some());
        }
        journal.remove(w, record_key(seq, part))?;
    }
    Ok(barrier.is_some())
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
    // The batch being read, until its last record: its number, the part expected
    // next and its records' contents put together.
    let mut batch: Option<(u64, u32, Vec<u8>)> = None;
    // A batch whose first record is gone: its journal was being removed.
    let mut skip: Option<u64> = None;
    let mut replayed = 0;
    for rec in journal.iter() {
        let (k, v) = rec?;
        keys.push(k.clone());
        let (seq, part) = match (k.get(..8), k.get(8..12)) {
            (Some(s), Some(p)) => (
                u64::from_be_bytes(s.try_into().unwrap_or_default()),
                u32::from_be_bytes(p.try_into().unwrap_or_default()),
            ),
            _ => return Err(corrupt("a key is too short")),
        };
        if skip == Some(seq) {
            continue;
        }
        let (mark, piece) = v.split_first().ok_or_else(|| corrupt("an empty record"))?;
        // A batch without its last record was cut short before any change was made,
        // or while its journal was removed, after all its changes were: either way it
        // is dropped. So is one without its first record: earlier releases removed
        // the first record first. A record missing in between comes from no crash.
        let mut bytes = match batch.take() {
            Some((s, next, bytes)) if s == seq && next == part => bytes,
            Some((s, next, _)) if s == seq => {
                return Err(corrupt(&format!("batch {seq} lacks record {next}")))
            }
            _ if part == 0 => Vec::new(),
            _ => {
                skip = Some(seq);
                continue;
            }
        };
        bytes.extend_from_slice(piece);
        if *mark != LAST {
            batch = Some((seq, part + 1, bytes));
            continue;
        }
        changes.extend(decode(&bytes).map_err(|e| corrupt(&e))?);
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

    /// Changes as `write` takes them: stored keys and new values.
    type Batch<'a> = Vec<(Vec<u8>, Option<&'a IVec>)>;

    /// The changes `names` (in `data`) -> `after`, and how many journal records
    /// they make.
    fn changes<'a>(
        data: &Space,
        names: &[&[u8]],
        after: &[Option<&'a IVec>],
    ) -> (Batch<'a>, usize) {
        let changes: Vec<(Vec<u8>, Option<&IVec>)> = names
            .iter()
            .zip(after)
            .map(|(name, v)| (data.key(name), *v))
            .collect();
        let mut encoded = Vec::new();
        for (k, v) in &changes {
            encode(&mut encoded, (k, v.map(|v| &v[..])));
        }
        (changes, encoded.len().div_ceil(CHUNK))
    }

    /// A crash at any point of a batch's write, then a replay, leaves either the
    /// whole batch or none of it: none while its journal was still being written,
    /// all of it from then on. The journal is empty after the replay. The same
    /// with a barrier (`fsync`), which costs no write of its own.
    #[test]
    fn a_batch_cut_short_anywhere_is_all_or_nothing_after_replay() {
        let old = IVec::from(&b"old"[..]);
        let new = IVec::from(&b"new"[..]);
        // Values of a chunk's size or more, so that the journal has several records.
        let big = IVec::from(vec![1u8; CHUNK]);
        let bigger = IVec::from(vec![2u8; 2 * CHUNK]);
        let names: [&[u8]; 5] = [b"a", b"gone", b"large", b"larger", b"kept"];
        let before = [Some(&old), Some(&old), None, None, Some(&old)];
        let after = [Some(&new), None, Some(&big), Some(&bigger), Some(&old)];
        let noop = || Ok(());
        let lock = RwLock::new(());
        let w = Writer::alone(lock.write().expect("lock"));
        for barrier in [None, Some(&noop as Barrier<'_>)] {
            let (_, records) = changes(&fresh().2, &names[..4], &after[..4]);
            assert!(records >= 4, "{records}");
            let writes = 4;
            for ops in 0..=records + writes + records {
                let (tree, journal, data) = fresh();
                for (name, v) in names.iter().zip(before) {
                    if let Some(v) = v {
                        data.insert(&w, name, v.clone()).expect("insert");
                    }
                }
                let (changes, _) = changes(&data, &names[..4], &after[..4]);
                write_cut(
                    &w,
                    &tree,
                    &journal,
                    7,
                    changes.iter().cloned(),
                    barrier,
                    CHUNK,
                    ops,
                )
                .expect("write");
                let replayed = replay(&w, &tree, &journal).expect("replay");
                let whole = ops >= records;
                // Once the journal's removal began (its last record first), every
                // change is in place and what is left of it is dropped.
                assert_eq!(
                    replayed,
                    usize::from(whole && ops <= records + writes),
                    "{ops}"
                );
                let want = if whole { after } else { before };
                for (name, v) in names.iter().zip(want) {
                    assert_eq!(data.get(name).expect("get").as_ref(), v, "{ops}: {name:?}");
                }
                assert_eq!(journal.iter().count(), 0, "{ops}");
            }
        }
    }

    /// With a barrier (`fsync`), the journal is removed only after the batch is
    /// durable: when the barrier runs, every change is in place and the whole
    /// journal still there; a barrier that fails leaves the journal, and the next
    /// open writes the batch again.
    #[test]
    fn with_a_barrier_the_journal_is_removed_only_once_the_batch_is_durable() {
        let (tree, journal, data) = fresh();
        let lock = RwLock::new(());
        let w = Writer::alone(lock.write().expect("lock"));
        let big = IVec::from(vec![3u8; 3 * CHUNK]);
        let new = IVec::from(&b"new"[..]);
        let names: [&[u8]; 2] = [b"a", b"big"];
        let (changes, records) = changes(&data, &names, &[Some(&new), Some(&big)]);
        let seen = std::cell::RefCell::new(Vec::new());
        let barrier = || {
            seen.borrow_mut().push((
                journal.iter().count(),
                data.get(b"a").expect("get"),
                data.get(b"big").expect("get"),
            ));
            Err(StoreError::Storage("the disk is full".into()))
        };
        let res = write(
            &w,
            &tree,
            &journal,
            9,
            changes.iter().cloned(),
            Some(&barrier),
        );
        assert!(res.is_err());
        assert_eq!(
            *seen.borrow(),
            vec![(records, Some(new.clone()), Some(big.clone()))]
        );
        assert_eq!(journal.iter().count(), records, "the journal stays");
        data.remove(&w, b"big").expect("remove");
        assert_eq!(replay(&w, &tree, &journal).expect("replay"), 1);
        assert_eq!(data.get(b"big").expect("get").as_ref(), Some(&big));

        let ok = || Ok(());
        assert!(write(&w, &tree, &journal, 10, changes.iter().cloned(), Some(&ok)).expect("write"));
        assert_eq!(journal.iter().count(), 0);
    }

    /// No journal record is larger than a chunk and its mark, however large a
    /// change, so that none is ever a blob file of sled's.
    #[test]
    fn journal_records_stay_small() {
        let huge = IVec::from(vec![5u8; 300 * 1024]);
        // With `fsync` (a barrier) small enough that a full leaf of them is not a
        // blob; without it larger, fewer writes, each still below the threshold.
        let no_op = || Ok(());
        let barriers: [Option<Barrier<'_>>; 2] = [Some(&no_op), None];
        for barrier in barriers {
            let (tree, journal, data) = fresh();
            let lock = RwLock::new(());
            let w = Writer::alone(lock.write().expect("lock"));
            let (changes, _) = changes(&data, &[b"huge"], &[Some(&huge)]);
            let size = chunk(barrier.is_some());
            let mut encoded = Vec::new();
            for (k, v) in &changes {
                encode(&mut encoded, (k, v.map(|v| &v[..])));
            }
            let records = encoded.len().div_ceil(size);
            // Stopped as a crash would, once the journal is written.
            write_cut(
                &w,
                &tree,
                &journal,
                1,
                changes.iter().cloned(),
                barrier,
                size,
                records,
            )
            .expect("write");
            let sizes: Vec<usize> = journal.iter().map(|kv| kv.expect("kv").1.len()).collect();
            assert_eq!(sizes.len(), records);
            assert!(sizes.iter().all(|n| *n <= size + 1), "{sizes:?}");
            assert!(size < 131_020 / 17 || barrier.is_none());
            assert_eq!(replay(&w, &tree, &journal).expect("replay"), 1);
            assert_eq!(data.get(b"huge").expect("get"), Some(huge.clone()));
        }
    }

    /// A journal written by an earlier release, whose records were cut only between
    /// changes, is written again the same way.
    #[test]
    fn a_journal_cut_between_changes_replays() {
        let (tree, journal, data) = fresh();
        let lock = RwLock::new(());
        let w = Writer::alone(lock.write().expect("lock"));
        let mut first = vec![MORE];
        encode(&mut first, (&data.key(b"x"), Some(b"1")));
        let mut last = vec![LAST];
        encode(&mut last, (&data.key(b"y"), Some(b"2")));
        encode(&mut last, (&data.key(b"z"), None));
        data.insert(&w, b"z", b"old".to_vec()).expect("insert");
        journal.insert(&w, record_key(3, 0), first).expect("insert");
        journal.insert(&w, record_key(3, 1), last).expect("insert");
        assert_eq!(replay(&w, &tree, &journal).expect("replay"), 1);
        assert_eq!(data.get(b"x").expect("get").as_deref(), Some(&b"1"[..]));
        assert_eq!(data.get(b"y").expect("get").as_deref(), Some(&b"2"[..]));
        assert_eq!(data.get(b"z").expect("get"), None);
    }

    /// A record missing before a batch's last one cannot come from a crash: the
    /// database does not open rather than write part of the batch.
    #[test]
    fn a_batch_with_a_record_missing_in_the_middle_is_refused() {
        let (tree, journal, data) = fresh();
        let lock = RwLock::new(());
        let w = Writer::alone(lock.write().expect("lock"));
        let big = IVec::from(vec![1u8; 3 * CHUNK]);
        let (changes, records) = changes(&data, &[b"big"], &[Some(&big)]);
        assert!(records >= 3);
        write_cut(
            &w,
            &tree,
            &journal,
            5,
            changes.iter().cloned(),
            None,
            CHUNK,
            records,
        )
        .expect("write");
        journal.remove(&w, record_key(5, 1)).expect("remove");
        let e = replay(&w, &tree, &journal).expect_err("refused");
        assert!(e.to_string().contains("lacks record 1"), "{e}");
        assert_eq!(data.get(b"big").expect("get"), None);
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
        assert!(!write(&w, &tree, &journal, 4, changes.iter().cloned(), None).expect("write"));
        assert_eq!(data.get(b"a").expect("get"), Some(new));
        assert_eq!(data.get(b"gone").expect("get"), None);
        assert_eq!(data.get(b"big").expect("get"), Some(big));
        assert_eq!(journal.iter().count(), 0);
    }
}
