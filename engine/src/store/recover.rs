//! Writing again after a failure, without a restart.
//!
//! Once a write or a flush failed (a full disk, a disk error), sled refuses every
//! write until it is opened again, and its memory may hold writes its disk does not.
//! So the store recovers as a restart would, in the process: once the disk takes a
//! write again, it lets go of sled (which writes what it can), opens the database
//! again, replays the journal of a batch cut short, and checks what sled holds
//! against the record of what was acknowledged (see `ack`). Nothing acknowledged is
//! lost: a command is answered only once its batch is durable.
//!
//! The commands of the batch that failed, and of the batches that ran with it, were
//! answered 503: their outcome is unknown. A batch is all or nothing (see `journal`):
//! after the recovery it is all there if its journal reached the disk whole, and
//! not at all otherwise. Sent again with the same Idempotency-Key, such a command is
//! answered from its first run if that run is there, and runs if it is not: once
//! either way. Every batch that ran before the reopening, on what sled held then, is
//! refused rather than written (see `batch::Pipeline`), and no write made before it
//! is acknowledged after it (see `durability`).

use super::health::refused;
use super::kind::Kind;
use super::space::Writer;
use super::{
    ack, decode, deploy, journal, keys, last_u64, open_sled, Fault, Options, Store, StoreError,
    Trees,
};
use crate::staff::Directory;
use baton_dsl::model::Definition;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::Arc;

/// What a recovery writes first, to see that the disk takes writes again: room for
/// sled to open the database (it writes a snapshot of its page table) and go on.
const PROBE: usize = 1 << 20;

/// What the store keeps in memory of the database: the staff directory, and the
/// latest definition of each process. Read at open, and again when the store opens
/// its database again (the disk may lack what sled held in memory only).
pub(super) struct Caches {
    pub directory: Directory,
    pub defs: HashMap<(String, u32), Arc<Definition>>,
    pub latest: BTreeMap<String, u32>,
}

impl Caches {
    pub fn load(t: &Trees) -> Result<Caches, StoreError> {
        let directory = match t[Kind::Meta].get("directory")? {
            Some(b) => decode(&b)?,
            None => Directory::default(),
        };
        // Only the latest version of each definition is read at open; older ones
        // load on demand, so opening stays fast whatever the history holds.
        let mut latest = BTreeMap::new();
        let mut defs = HashMap::new();
        for kv in t[Kind::Meta].scan_prefix(b"latest\0") {
            let (k, v) = kv?;
            let name = String::from_utf8_lossy(&k[7..]).into_owned();
            let version = u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4]));
            if let Some(b) = t[Kind::Definitions].get(keys::definition(&name, version))? {
                let def = deploy::compile(&decode(&b)?)?;
                defs.insert((name.clone(), version), Arc::new(def));
            }
            latest.insert(name, version);
        }
        Ok(Caches {
            directory,
            defs,
            latest,
        })
    }
}

impl Store {
    /// If the store is broken, try once to write again: check that the disk takes
    /// a write, then open the database again (see the module's comment). Ok once
    /// the store writes; the refusal, with the first failure's reason, while it
    /// cannot yet. The server calls it for `/healthz` and the scheduler on each of
    /// its passes while the store is broken; an attempt that fails costs a write of
    /// 1 MiB.
    pub(super) fn try_recover(&self) -> Result<(), StoreError> {
        if let Some(pg) = &self.pg {
            // PostgreSQL recovers by itself; the store only needs it to answer.
            return pg.with(|s| s.batch("SELECT 1"));
        }
        let Some(why) = self.t.health.broken() else {
            return Ok(());
        };
        // One attempt at a time; whoever finds one running goes on being refused.
        let Ok(_one) = self.t.health.recovering.try_lock() else {
            return Err(refused(&why));
        };
        if self.t.health.broken().is_none() {
            return Ok(());
        }
        if let Err(e) = self.probe() {
            tracing::debug!(error = %e, "the disk does not take writes yet");
            return Err(refused(&why));
        }
        match self.reopen() {
            Ok(replayed) => {
                self.t.health.recovered(replayed);
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, "the store could not open its database again");
                Err(refused(&why))
            }
        }
    }

    /// Write, sync and remove a file of `PROBE` bytes beside the database.
    fn probe(&self) -> std::io::Result<()> {
        if self.t.take_fault(Fault::Full) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "an injected full disk",
            ));
        }
        let path = self.path.join("recovery-probe");
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let written = o.open(&path).and_then(|mut f| {
            f.write_all(&vec![0u8; PROBE])?;
            f.sync_all()
        });
        let removed = std::fs::remove_file(&path);
        written.and(removed)
    }

    /// Close sled and open it again, with every write held back; returns how many
    /// batches the journal wrote again. Every sled handle the store keeps is
    /// replaced: the tree its spaces share, the database, and the data file that
    /// `fsync` syncs; the record of what was acknowledged goes on from what sled
    /// holds now.
    fn reopen(&self) -> Result<usize, StoreError> {
        let writing = self.t.writing.write().unwrap_or_else(|e| e.into_inner());
        // A write that panicked poisoned the lock; the reopening is what it awaited.
        self.t.writing.clear_poison();
        let w = Writer::alone(writing);
        self.t.shared().close();
        self.db.close();
        let opts = Options {
            cache_bytes: self.cache_bytes,
            ..Options::default()
        };
        // sled panics on some damaged files: that becomes a refusal, as at open.
        let db = ack::guarded(&self.path, || Ok(open_sled(&self.path, &opts)?))?;
        let tree = db.open_tree("records")?;
        let doubts = db.recovery_doubts();
        self.db.set(db);
        self.t.shared().set(tree);
        let replayed = journal::replay(&w, self.t.shared(), &self.t.journal)?;
        if let Some(acks) = &self.acks {
            acks.reopen(&self.path, &self.t, doubts)?;
        }
        if let Some(f) = &self.fsync {
            f.reopened()
                .map_err(|e| StoreError::Storage(format!("cannot open the data file: {e}")))?;
        }
        // What the store keeps in memory follows the disk, which may lack writes
        // that sled held in memory only.
        let caches = Caches::load(&self.t)?;
        *self.directory.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(caches.directory);
        *self.defs.write().unwrap_or_else(|e| e.into_inner()) = caches.defs;
        *self.latest.write().unwrap_or_else(|e| e.into_inner()) = caches.latest;
        // Ids only go up: one given to a command whose batch is lost stays unused.
        self.next_instance
            .raise(last_u64(&self.t[Kind::Instances])? + 1);
        self.next_message
            .raise(last_u64(&self.t[Kind::Outbox])? + 1);
        drop(w);
        Ok(replayed)
    }
}
