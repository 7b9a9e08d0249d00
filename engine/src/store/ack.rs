//! What the store acknowledged, recorded beside sled's files, so that opening the
//! database tells whether all of it is still there.
//!
//! sled recovers its log up to the first message whose checksum fails and takes
//! that prefix for the whole database: a flipped bit or a file cut short in what a
//! run wrote used to lose, without a word, every change after it, acknowledged or
//! not (and the next run wrote over the rest). So each group flush
//!
//! 1. reads the last instance and outbox message ids, and writes a mark into sled:
//!    the flush's number, in `meta` (after everything that flush acknowledges, so
//!    that sled has the mark only if it has all of that);
//! 2. flushes sled (and `fsync`s it when asked);
//! 3. records the mark and the ids in the file `acknowledged`.
//!
//! The file is written only after sled's flush returned, so it never claims more
//! than sled has on disk. Opening the database compares the two: sled must hold at
//! least the recorded mark and ids, or the database is refused as damaged, with what
//! is missing and the way out (a backup, or `accept_loss`). sled's own panics on
//! some damaged files are caught there and become the same refusal.
//!
//! The file holds two copies of the record, written in turn (flush n in copy n % 2),
//! each with a checksum: a write torn by a power cut leaves the other copy, one
//! flush behind, which is still a record sled must hold. Only the copy is written
//! in place at each flush (about 40 bytes, no new blocks); it is synced when the
//! store `fsync`s, so that it means as much after a power cut. Opening makes the
//! file anew (a temporary file renamed) unless both copies are whole.

use super::kind::Kind;
use super::space::Writer;
use super::{open_db, Options, StoreError, Trees};
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The file, in the database folder.
pub const FILE: &str = "acknowledged";

/// The key in `meta` of the last flush's mark.
const MARK: &[u8] = b"acknowledged";

const MAGIC: &[u8; 8] = b"baton-ak";
/// A copy of the record: magic, flush, instance, message, checksum.
const RECORD: usize = 40;
/// Where each copy starts.
const SLOT: u64 = 64;

/// How far sled's data reaches: the last flush marked in it, and the last
/// instance and outbox message ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Mark {
    pub flush: u64,
    pub instance: u64,
    pub message: u64,
}

impl Mark {
    /// What sled holds now.
    fn found(t: &Trees) -> Result<Mark, StoreError> {
        Ok(Mark {
            flush: marked(t)?.unwrap_or(0),
            instance: super::last_u64(&t[Kind::Instances])?,
            message: super::last_u64(&t[Kind::Outbox])?,
        })
    }

    fn encode(&self) -> [u8; RECORD] {
        let mut r = [0; RECORD];
        r[..8].copy_from_slice(MAGIC);
        r[8..16].copy_from_slice(&self.flush.to_be_bytes());
        r[16..24].copy_from_slice(&self.instance.to_be_bytes());
        r[24..32].copy_from_slice(&self.message.to_be_bytes());
        let sum = checksum(&r[..32]);
        r[32..].copy_from_slice(&sum);
        r
    }

    /// A copy of the record, or None if it is not one (never written, or damaged).
    fn decode(r: &[u8]) -> Option<Mark> {
        let r = r.get(..RECORD)?;
        if &r[..8] != MAGIC || r[32..] != checksum(&r[..32]) {
            return None;
        }
        let u = |at: usize| {
            let mut b = [0; 8];
            b.copy_from_slice(&r[at..at + 8]);
            u64::from_be_bytes(b)
        };
        Some(Mark {
            flush: u(8),
            instance: u(16),
            message: u(24),
        })
    }
}

fn checksum(b: &[u8]) -> [u8; 8] {
    let d = Sha256::digest(b);
    let mut sum = [0; 8];
    sum.copy_from_slice(&d[..8]);
    sum
}

/// The mark sled holds, if any flush ever wrote one.
fn marked(t: &Trees) -> Result<Option<u64>, StoreError> {
    Ok(t[Kind::Meta].get(MARK)?.map(|v| {
        let mut b = [0; 8];
        if let Some(v) = v.get(..8) {
            b.copy_from_slice(v);
        }
        u64::from_be_bytes(b)
    }))
}

/// The two copies of the record in the file, each None if it is not whole; None
/// without the file.
fn copies(path: &Path) -> Result<Option<[Option<Mark>; 2]>, String> {
    match std::fs::read(path.join(FILE)) {
        Ok(b) => Ok(Some(
            [0, SLOT as usize].map(|at| b.get(at..).and_then(Mark::decode)),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read it: {e}")),
    }
}

/// The newer whole copy.
fn newest(copies: [Option<Mark>; 2]) -> Result<Mark, String> {
    copies
        .into_iter()
        .flatten()
        .max_by_key(|m| m.flush)
        .ok_or_else(|| "neither copy of its record is whole".into())
}

/// The newer whole copy of the record in the file; None without the file.
fn read(path: &Path) -> Result<Option<Mark>, String> {
    copies(path)?.map(newest).transpose()
}

/// The record of the database at `path` kept up to date, one flush at a time.
pub(super) struct Acks {
    /// The file, and the number of the last flush marked.
    state: Mutex<(File, u64)>,
    /// Sync the file after each record (the store `fsync`s its data too).
    sync: bool,
    /// The last instance and outbox message ids in sled: found when the database
    /// opens, then raised by each batch once it is written (`written`), so that a
    /// flush's mark does not search sled for them (two reverse scans per flush cost
    /// the single caller about 7% of its commands). Raised only after the batch's
    /// keys are in sled, so a mark never claims more than the flush after it holds.
    written: [AtomicU64; 2],
    /// The last instance id when the database opened, for `OPENED_AT`, until the
    /// first flush writes it (see `opened`).
    opened: Mutex<Option<u64>>,
    /// What sled's recovery doubted when the database opened (see `open`).
    doubts: AtomicU64,
}

impl Acks {
    /// Check what sled holds against the record, and go on recording from what it
    /// holds. A database from before the record existed has neither a mark nor the
    /// file: it opens, and gets both from now on.
    ///
    /// `doubts` is what sled's recovery said when it opened the database
    /// (`sled::Db::recovery_doubts`): the places where it skipped part of the log
    /// and went on. Only there can a change be lost in the middle of the log
    /// while the changes after it are kept; everywhere else sled holds a prefix
    /// of what was written, which the mark alone measures. So instances are
    /// checked against their histories (`orphans`) only when recovery skipped
    /// something: that check reads back every page written since the last open,
    /// which after a long run doubled the time opening takes.
    pub fn open(path: &Path, t: &Trees, sync: bool, doubts: u64) -> Result<Acks, StoreError> {
        let found = Mark::found(t)?;
        let damaged = |detail: String| StoreError::Damaged {
            path: path.display().to_string(),
            detail,
        };
        let copies = copies(path);
        let both_whole = matches!(copies, Ok(Some([Some(_), Some(_)])));
        match copies.and_then(|c| c.map(newest).transpose()) {
            Ok(Some(acked)) => {
                let missing = match missing(&acked, &found) {
                    Some(m) => Some(m),
                    None if doubts > 0 => {
                        tracing::warn!(
                            doubts,
                            "the database's log had unreadable parts: checking every \
                             instance started since it was last opened"
                        );
                        orphans(t, found.instance)?
                    }
                    None => None,
                };
                if let Some(missing) = missing {
                    return Err(damaged(format!(
                        "changes that were acknowledged are missing ({missing}); {}",
                        advice(path)
                    )));
                }
            }
            Ok(None) if marked(t)?.is_some() => {
                return Err(damaged(format!(
                    "its record of what was acknowledged, `{FILE}`, is gone, so nothing \
                     tells whether everything acknowledged is there; {}",
                    advice(path)
                )))
            }
            Ok(None) => {}
            Err(why) => {
                return Err(damaged(format!(
                    "its record of what was acknowledged, `{FILE}`, is damaged ({why}), so \
                     nothing tells whether everything acknowledged is there; {}",
                    advice(path)
                )))
            }
        }
        // A file with both copies whole goes on as it is: the next flush writes a
        // number above both. Any other is made anew, so that a torn write always
        // leaves a whole copy behind.
        if both_whole {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path.join(FILE))
                .map_err(|e| {
                    StoreError::Storage(format!("cannot open {}: {e}", path.join(FILE).display()))
                })?;
            return Ok(Acks {
                state: Mutex::new((file, found.flush)),
                sync,
                written: [
                    AtomicU64::new(found.instance),
                    AtomicU64::new(found.message),
                ],
                opened: Mutex::new(None),
                doubts: AtomicU64::new(doubts),
            });
        }
        let acks = Acks::start(path, found, sync)?;
        acks.doubts.store(doubts, Ordering::Release);
        Ok(acks)
    }

    /// The store opened its database again (see `recover`): check what sled holds
    /// now against the record, as opening does, and go on recording from it. sled
    /// may hold less than it held in memory before, never less than the record.
    pub fn reopen(&self, path: &Path, t: &Trees, doubts: u64) -> Result<(), StoreError> {
        let fresh = Acks::open(path, t, self.sync, doubts)?;
        self.doubts.store(doubts, Ordering::Release);
        for (mine, found) in self.written.iter().zip(&fresh.written) {
            mine.store(found.load(Ordering::Acquire), Ordering::Release);
        }
        let state = fresh.state.into_inner().unwrap_or_else(|e| e.into_inner());
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = state;
        Ok(())
    }

    /// A batch is in sled: the last instance and message ids it wrote, if any.
    pub fn written(&self, instance: Option<u64>, message: Option<u64>) {
        for (at, id) in self.written.iter().zip([instance, message]) {
            if let Some(id) = id {
                at.fetch_max(id, Ordering::AcqRel);
            }
        }
    }

    /// A new file holding `found`, in both copies, replacing any other at once.
    fn start(path: &Path, found: Mark, sync: bool) -> Result<Acks, StoreError> {
        let io = |what: &str, e: std::io::Error| {
            StoreError::Storage(format!("{what} {}: {e}", path.join(FILE).display()))
        };
        let new = path.join(format!("{FILE}.new"));
        let mut bytes = vec![0; SLOT as usize + RECORD];
        bytes[..RECORD].copy_from_slice(&found.encode());
        bytes[SLOT as usize..].copy_from_slice(&found.encode());
        let mut f = private_file(&new).map_err(|e| io("cannot write", e))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| io("cannot write", e))?;
        std::fs::rename(&new, path.join(FILE)).map_err(|e| io("cannot write", e))?;
        sync_dir(path).map_err(|e| io("cannot write", e))?;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path.join(FILE))
            .map_err(|e| io("cannot open", e))?;
        Ok(Acks {
            state: Mutex::new((file, found.flush)),
            sync,
            written: [
                AtomicU64::new(found.instance),
                AtomicU64::new(found.message),
            ],
            opened: Mutex::new(None),
            doubts: AtomicU64::new(0),
        })
    }

    /// What sled's recovery doubted when the database last opened.
    pub fn doubts(&self) -> u64 {
        self.doubts.load(Ordering::Acquire)
    }

    /// The database is open and checked: the last instance id now is what the next
    /// open checks from (`OPENED_AT`). It is written with the first flush's mark
    /// rather than now, and not at all when it has not changed, so that opening
    /// writes nothing to sled: a write there would make the next open replay it
    /// and write sled's snapshot anew. Until that flush the older value stays,
    /// which only makes the next check start earlier.
    pub fn opened(&self, t: &Trees) -> Result<(), StoreError> {
        *self.opened.lock().unwrap_or_else(|e| e.into_inner()) = not_yet_opened_at(t)?;
        Ok(())
    }

    /// Step 1 of a group flush: what it acknowledges, marked in sled, as a write
    /// outside the batches of commands (which never touch `meta`). It does not wait
    /// for a batch being written (see `Writer::mark`). Refused once the store is
    /// broken, as other writes are.
    pub fn mark(&self, t: &Trees) -> Result<Mark, String> {
        if let Some(why) = t.health.broken() {
            return Err(super::health::refused(&why).to_string());
        }
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let w = Writer::mark();
        if let Some(last) = self.opened.lock().unwrap_or_else(|e| e.into_inner()).take() {
            t[Kind::Meta]
                .insert(&w, OPENED_AT, &last.to_be_bytes())
                .map_err(|e| e.to_string())?;
        }
        // The ids first: the mark comes after them in sled's log.
        let m = Mark {
            flush: st.1 + 1,
            instance: self.written[0].load(Ordering::Acquire),
            message: self.written[1].load(Ordering::Acquire),
        };
        t[Kind::Meta]
            .insert(&w, MARK, &m.flush.to_be_bytes())
            .map_err(|e| e.to_string())?;
        st.1 = m.flush;
        Ok(m)
    }

    /// Step 3, once sled's flush returned: the mark is on disk, and recorded so.
    pub fn record(&self, m: Mark) -> Result<(), String> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut f = &st.0;
        let at = (m.flush % 2) * SLOT;
        f.seek(SeekFrom::Start(at))
            .and_then(|_| f.write_all(&m.encode()))
            .and_then(|()| if self.sync { f.sync_data() } else { Ok(()) })
            .map_err(|e| format!("cannot record what was acknowledged in `{FILE}`: {e}"))
    }
}

/// What sled lacks of `acked`, in words; None if it has it all.
fn missing(acked: &Mark, found: &Mark) -> Option<String> {
    let mut parts = Vec::new();
    let range = |what: &str, from: u64, to: u64| {
        if from == to {
            format!("{what} {to}")
        } else {
            format!("{what}s {from} to {to}")
        }
    };
    if found.instance < acked.instance {
        parts.push(range("instance", found.instance + 1, acked.instance));
    }
    if found.message < acked.message {
        parts.push(range("outbox message", found.message + 1, acked.message));
    }
    if found.flush < acked.flush {
        parts.push(format!(
            "the changes of the last {} group flushes: it holds {} of {}",
            acked.flush - found.flush,
            found.flush,
            acked.flush
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The key in `meta` of the last instance id when this database was last opened
/// (or given up to with `accept_loss`): instances above it are checked at the next
/// open (see `orphans`).
const OPENED_AT: &[u8] = b"opened-at-instance";

/// The keys of `meta` that belong to one database file, never copied into another
/// (see `copy`): its layout version and its record of what it acknowledged.
pub(super) const OWN_MARKS: [&[u8]; 3] = [b"schema_version", MARK, OPENED_AT];

fn opened_at(t: &Trees) -> Result<Option<u64>, StoreError> {
    Ok(t[Kind::Meta]
        .get(OPENED_AT)?
        .map(|v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8]))))
}

/// The last instance id, unless `OPENED_AT` holds it already: what the next
/// open's check is to start after.
fn not_yet_opened_at(t: &Trees) -> Result<Option<u64>, StoreError> {
    let last = super::last_u64(&t[Kind::Instances])?;
    Ok((opened_at(t)? != Some(last)).then_some(last))
}

/// Remember the last instance id now, for the next open's check, at once (see
/// `Acks::opened` for the way a running store does it).
pub(super) fn mark_opened(t: &Trees) -> Result<(), StoreError> {
    if let Some(last) = not_yet_opened_at(t)? {
        t[Kind::Meta].insert(&t.alone()?, OPENED_AT, &last.to_be_bytes())?;
    }
    Ok(())
}

/// The instances created since the database was last opened that have a record
/// without a history or a history without a record. A start writes both in one
/// batch (all or nothing, see `journal`), so one without the other is a lost page
/// update: a flipped bit can drop one of sled's page updates and keep later ones,
/// and the last ids then look whole while an instance in the middle is gone. (Ids
/// are not dense: a refused start uses one up, and has neither.) Two lookups per
/// instance started since the last open, which reads back every page written
/// since: opening runs it only when sled's recovery skipped something (see
/// `Acks::open`).
fn orphans(t: &Trees, last: u64) -> Result<Option<String>, StoreError> {
    let Some(from) = opened_at(t)? else {
        return Ok(None);
    };
    let mut lost = Vec::new();
    for id in from.saturating_add(1)..=last {
        let record = t[Kind::Instances].get(super::keys::instance(id))?.is_some();
        let history = t[Kind::Events]
            .scan_prefix(super::keys::instance(id))
            .next()
            .transpose()?
            .is_some();
        if record != history {
            lost.push(format!(
                "the {} of instance {id}",
                if record { "history" } else { "record" }
            ));
        }
    }
    Ok((!lost.is_empty()).then(|| lost.join(", ")))
}

fn advice(path: &Path) -> String {
    format!(
        "restore the folder from a backup taken while Baton was stopped, or go on with \
         what is left, giving up the rest for good: `baton accept-loss --db {}`",
        path.display()
    )
}

/// Say that the database at `path` holds what it holds now and nothing more, after
/// it was refused as damaged: the changes it lacks are given up for good. Returns
/// what was given up, in words. A database sled itself cannot read stays refused.
pub fn accept_loss(path: &Path) -> Result<String, StoreError> {
    guarded(path, || {
        if !path.join("db").exists() {
            return Err(StoreError::Storage(format!(
                "{}: no database here",
                path.display()
            )));
        }
        let db = open_db(path, &Options::default())?;
        let t = Trees::new(db.open_tree("records")?);
        // As opening would: a batch cut short is written again first.
        super::journal::replay(&t.alone()?, &t.tree, &t.journal)?;
        let found = Mark::found(&t)?;
        let mut lost = match read(path) {
            Ok(Some(acked)) => missing(&acked, &found),
            Ok(None) => Some(format!("`{FILE}` was gone")),
            Err(why) => Some(format!("`{FILE}` was damaged: {why}")),
        };
        if lost.is_none() {
            lost = orphans(&t, found.instance)?;
        }
        // What is there now is all there is: the next open checks from here on.
        mark_opened(&t)?;
        db.flush()?;
        Acks::start(path, found, false)?;
        Ok(lost.unwrap_or_else(|| "nothing: everything acknowledged is there".into()))
    })
}

thread_local! {
    /// Set while this thread opens a database (see `guarded`).
    static OPENING: Cell<bool> = const { Cell::new(false) };
}

/// Run `open` (opening the database at `path`), turning a panic in it, which sled
/// has on some damaged files, and sled's report of corrupted data, into a refusal
/// naming the folder. The panic's text goes into the refusal, not to stderr as a
/// crash: a panic hook, installed once, stays quiet for the thread that opens and
/// hands every other panic on to the hook that was there before.
pub(super) fn guarded<T>(
    path: &Path,
    open: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !OPENING.with(Cell::get) {
                before(info)
            }
        }));
    });
    let was = OPENING.with(|o| o.replace(true));
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(open));
    OPENING.with(|o| o.set(was));
    let restore = "restore the folder from a backup taken while Baton was stopped";
    match res {
        Ok(Err(StoreError::Damaged { path: p, detail })) if p.is_empty() => {
            Err(StoreError::Damaged {
                path: path.display().to_string(),
                detail: format!("{detail}; {restore}"),
            })
        }
        Ok(res) => res,
        Err(panic) => {
            let text = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no reason given");
            Err(StoreError::Damaged {
                path: path.display().to_string(),
                detail: format!("sled cannot read it ({text}); {restore}"),
            })
        }
    }
}

/// Create `path` for writing, readable by this user only (see `private`).
fn private_file(path: &Path) -> std::io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// Make a rename in the folder durable (and, for `fsync`, new files in it).
#[cfg(unix)]
pub(super) fn sync_dir(path: &Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}

#[cfg(not(unix))]
pub(super) fn sync_dir(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_and_a_flipped_bit_anywhere_spoils_it() {
        let m = Mark {
            flush: 7,
            instance: 1 << 40,
            message: 3,
        };
        let r = m.encode();
        assert_eq!(Mark::decode(&r), Some(m));
        for bit in 0..RECORD * 8 {
            let mut bad = r;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(Mark::decode(&bad), None, "bit {bit}");
        }
        assert_eq!(Mark::decode(&r[..RECORD - 1]), None);
    }

    #[test]
    fn the_newer_whole_copy_is_read() {
        let dir = tempfile::tempdir().expect("tmp");
        let m = |flush| Mark {
            flush,
            instance: flush * 2,
            message: 0,
        };
        let acks = Acks::start(dir.path(), m(4), false).expect("start");
        assert_eq!(read(dir.path()), Ok(Some(m(4))));
        acks.record(m(5)).expect("record");
        acks.record(m(6)).expect("record");
        assert_eq!(read(dir.path()), Ok(Some(m(6))));
        // The newer copy (6, at slot 0) torn: the older one answers.
        let file = dir.path().join(FILE);
        let mut bytes = std::fs::read(&file).expect("read");
        bytes[10] ^= 1;
        std::fs::write(&file, &bytes).expect("write");
        assert_eq!(read(dir.path()), Ok(Some(m(5))));
        bytes[SLOT as usize + 20] ^= 4;
        std::fs::write(&file, &bytes).expect("write");
        assert!(read(dir.path()).is_err());
        std::fs::remove_file(&file).expect("rm");
        assert_eq!(read(dir.path()), Ok(None));
    }

    #[test]
    fn what_is_missing_is_said_in_words() {
        let acked = Mark {
            flush: 84,
            instance: 80,
            message: 41,
        };
        let found = Mark {
            flush: 24,
            instance: 20,
            message: 40,
        };
        assert_eq!(
            missing(&acked, &found).as_deref(),
            Some(
                "instances 21 to 80; outbox message 41; \
                 the changes of the last 60 group flushes: it holds 24 of 84"
            )
        );
        assert_eq!(missing(&found, &acked), None);
        assert_eq!(missing(&acked, &acked), None);
    }

    /// An instance whose record survived without its history (a flipped bit can
    /// drop one of sled's page updates and keep the later ones) is found although
    /// the last ids are whole; once given up with `accept_loss`, the database opens
    /// again. A refused start leaves an id with neither, which is no loss.
    #[test]
    fn an_instance_without_its_history_is_refused_until_given_up() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path();
        {
            let db = open_db(path, &Options::default()).expect("db");
            let t = Trees::new(db.open_tree("records").expect("tree"));
            mark_opened(&t).expect("opened");
            let w = t.alone().expect("writer");
            // 1 to 6, but 5 (a refused start): both records of each.
            for id in [1u64, 2, 3, 4, 6] {
                t[Kind::Instances]
                    .insert(&w, super::super::keys::instance(id), b"x".as_slice())
                    .expect("insert");
                t[Kind::Events]
                    .insert(&w, super::super::keys::event(id, 0), b"x".as_slice())
                    .expect("insert");
            }
            assert_eq!(orphans(&t, 6).expect("orphans"), None);
            let acked = Mark {
                flush: 0,
                instance: 6,
                message: 0,
            };
            Acks::start(path, acked, false).expect("start");
            Acks::open(path, &t, false, 1).expect("whole, it opens");
            t[Kind::Events]
                .remove(&w, super::super::keys::event(3, 0))
                .expect("remove");
            let refused = Acks::open(path, &t, false, 1).err().expect("refused");
            assert!(
                refused.to_string().contains("(the history of instance 3)"),
                "{refused}"
            );
            drop(w);
            db.flush().expect("flush");
        }
        let lost = accept_loss(path).expect("accepted");
        assert_eq!(lost, "the history of instance 3");
        let db = open_db(path, &Options::default()).expect("db");
        let t = Trees::new(db.open_tree("records").expect("tree"));
        Acks::open(path, &t, false, 1).expect("given up, it opens");
    }

    /// `orphans` names every instance since the last open that lost its record or
    /// its history, in id order, and nothing else: not an id with neither (a
    /// refused start), nor a key that is no record (longer than an id) or begins
    /// no history (shorter than one).
    #[test]
    fn orphans_names_each_record_or_history_lost_since_the_last_open() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = open_db(dir.path(), &Options::default()).expect("db");
        let t = Trees::new(db.open_tree("records").expect("tree"));
        let w = t.alone().expect("writer");
        let key = super::super::keys::instance;
        let mut rng = 0x0b5e_55edu64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut expected = Vec::new();
        for id in 1..=400 {
            let (record, history) = match next() % 10 {
                0 => (false, false),
                1 => (true, false),
                2 => (false, true),
                _ => (true, true),
            };
            if record {
                t[Kind::Instances]
                    .insert(&w, key(id), b"x".as_slice())
                    .expect("insert");
            }
            if history {
                for seq in 0..1 + next() % 20 {
                    t[Kind::Events]
                        .insert(&w, super::super::keys::event(id, seq), b"x".as_slice())
                        .expect("insert");
                }
            }
            if record != history {
                let lost = if record { "history" } else { "record" };
                expected.push(format!("the {lost} of instance {id}"));
            }
        }
        let mut longer = key(7).to_vec();
        longer.push(0);
        t[Kind::Instances]
            .insert(&w, &longer, b"x".as_slice())
            .expect("insert");
        for short in [&[0u8, 0, 0, 0, 0, 0, 1][..], &[255; 3]] {
            t[Kind::Events]
                .insert(&w, short, b"x".as_slice())
                .expect("insert");
        }
        assert!(expected.len() > 40, "{} lost", expected.len());
        // From the last open on, as opening checks.
        t[Kind::Meta]
            .insert(&w, OPENED_AT, &0u64.to_be_bytes())
            .expect("insert");
        assert_eq!(
            orphans(&t, 400).expect("orphans"),
            Some(expected.join(", "))
        );
        t[Kind::Meta]
            .insert(&w, OPENED_AT, &400u64.to_be_bytes())
            .expect("insert");
        assert_eq!(orphans(&t, 400).expect("orphans"), None);
    }
}
