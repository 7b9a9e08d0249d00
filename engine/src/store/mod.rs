//! The sled store: one tree, each kind of record in a space of its own (see `space`),
//! one all-or-nothing write per batch of commands (see `journal`), and a command
//! acknowledged only once its batch is durable (group commit).

mod batch;
mod deploy;
mod durability;
mod health;
use health::refused;
mod journal;
pub mod keys;
mod migrate;
mod outbox;
mod private;
mod query;
pub(crate) mod records;
mod space;
mod txn;
mod verify;

#[doc(hidden)]
pub use health::Fault;
pub use outbox::Attempt;
pub use query::{InstancePage, Page, TaskPosition};
pub use txn::{Delivery, OutboxRecord, Outcome, Request};

use crate::core::{Instance, InstanceId, Rejection};
use crate::staff::Directory;
use baton_dsl::model::Definition;
use baton_dsl::Located;
use chrono::{DateTime, Utc};
use durability::GroupCommit;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

use space::Space;

/// The layout version of the data on disk. A release that changes the layout bumps
/// it and migrates older databases when it opens them.
pub const SCHEMA_VERSION: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("the definition has errors:\n{}", .0.iter().map(|d| format!("{}:{}:{}: {} [{}]", d.file, d.line, d.column, d.diagnostic.message, d.diagnostic.code)).collect::<Vec<_>>().join("\n"))]
    Definition(Vec<Located>),
    #[error("storage: {0}")]
    Storage(String),
    /// A deployed version whose source this release no longer compiles.
    #[error("process `{process}` version {version} no longer compiles with this release:\n{}", .problems.iter().map(|d| format!("{}:{}:{}: {} [{}]", d.file, d.line, d.column, d.diagnostic.message, d.diagnostic.code)).collect::<Vec<_>>().join("\n"))]
    Outdated {
        process: String,
        version: u32,
        problems: Vec<Located>,
    },
    #[error("database {path} uses layout version {found}, this release reads {SCHEMA_VERSION}")]
    Schema { path: String, found: u32 },
    /// The store is broken (see `Store::broken`): the first failure's reason.
    #[error("the store refuses writes since {0}; check the disk (free space, errors), then restart the server")]
    Broken(String),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Storage(e.to_string())
    }
}

/// A record in its versioned envelope (see `records`).
pub(crate) fn encode<T: records::Stored>(v: &T) -> Vec<u8> {
    records::encode(v)
}

pub(crate) fn decode<T: records::Stored>(b: &[u8]) -> Result<T, StoreError> {
    records::decode(b).map_err(|e| StoreError::Storage(format!("corrupt record: {e}")))
}

/// A deployed version of a process. Only its source is stored; `definition` is
/// compiled from it when it is read (see `deploy`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredDefinition {
    pub name: String,
    pub version: u32,
    /// The file it was deployed from; none for versions deployed before it was kept.
    #[serde(default)]
    pub file: Option<String>,
    pub source: String,
    #[serde(with = "baton_dsl::zone")]
    pub deployed_at: DateTime<Utc>,
    pub definition: Definition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Deployed {
    New { version: u32 },
    Unchanged { version: u32 },
}

/// As `baton deploy` reports it: `version 1 (new)`, `unchanged (version 3)`.
impl std::fmt::Display for Deployed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Deployed::New { version } => write!(f, "version {version} (new)"),
            Deployed::Unchanged { version } => write!(f, "unchanged (version {version})"),
        }
    }
}

pub(crate) struct Trees {
    /// The one sled tree every space below lives in.
    tree: sled::Tree,
    pub meta: Space,
    pub defs: Space,
    pub instances: Space,
    pub events: Space,
    /// Finished tasks, by (state, task): the record of a task that has left its
    /// instance (which keeps only its current step's tasks), and the index of
    /// finished tasks by state. Written when the task finishes.
    pub tasks: Space,
    pub by_person: Space,
    pub by_role: Space,
    /// Open and claimed tasks by (state, due time, task).
    pub active: Space,
    pub by_process: Space,
    pub timers: Space,
    pub outbox: Space,
    pub idempotency: Space,
    /// Each person's notifications: (person, message id).
    pub inbox: Space,
    /// Webhook deliveries waiting for their next attempt: (due time, message id).
    pub retries: Space,
    /// Open incidents, by instance: what failed and why (see `core::incident`). An
    /// instance is here exactly while its status is `incident`.
    pub incidents: Space,
    /// The batch being written, until all of it is (see `journal`). Not among
    /// `SPACES`: it is empty whenever the database is closed.
    pub journal: Space,
    /// Held alone while a batch is written key by key, and shared by every other
    /// write, so that no other write lands between a batch's first key and the
    /// removal of its journal: replaying the batch after a crash would undo it.
    /// Readers that must not see half a batch share it too.
    writing: RwLock<()>,
    /// Broken once a write or flush failed (see `health`): a batch that failed
    /// part-way keeps its journal until the database is opened again, and a write
    /// now could be undone when that batch is replayed, so from then on every write
    /// is refused (see `outside_batch`).
    pub health: Arc<health::Health>,
    /// A failure a test asked for (see `Store::inject_failure`).
    injected: std::sync::Mutex<Option<Fault>>,
}

/// The journal's tag (see `Trees::journal`).
const JOURNAL_TAG: u8 = 16;

/// Each space's tag, with the name of the tree it had in layout version 2 (one tree
/// per kind of record), in the order of `Trees`' fields. The task spaces
/// (`tasks`, `active`) are laid out anew and rebuilt from the records when a
/// version-2 database is moved over; version 2's `tasks_by_due` (tag 9) is gone.
const SPACES: [(&str, u8); 15] = [
    ("meta", 1),
    ("definitions", 2),
    ("instances", 3),
    ("events", 4),
    ("tasks", 5),
    ("tasks_by_person", 6),
    ("tasks_by_role", 7),
    ("tasks_by_state", 8),
    ("instances_by_process", 10),
    ("timers", 11),
    ("outbox", 12),
    ("idempotency", 13),
    ("inbox", 14),
    ("delivery_retries", 15),
    // Newer than layout version 2: no tree of that name is ever found to move over.
    ("incidents", 17),
];

impl Trees {
    fn new(tree: sled::Tree) -> Trees {
        let s = |i: usize| Space::new(tree.clone(), SPACES[i].1);
        Trees {
            meta: s(0),
            defs: s(1),
            instances: s(2),
            events: s(3),
            tasks: s(4),
            by_person: s(5),
            by_role: s(6),
            active: s(7),
            by_process: s(8),
            timers: s(9),
            outbox: s(10),
            idempotency: s(11),
            inbox: s(12),
            retries: s(13),
            incidents: s(14),
            journal: Space::new(tree.clone(), JOURNAL_TAG),
            writing: RwLock::new(()),
            health: Arc::default(),
            injected: std::sync::Mutex::new(None),
            tree,
        }
    }

    /// Every space, in the order of `SPACES`; a command's writes are kept per space
    /// in this order too (see `txn`).
    pub fn all(&self) -> [&Space; SPACES.len()] {
        [
            &self.meta,
            &self.defs,
            &self.instances,
            &self.events,
            &self.tasks,
            &self.by_person,
            &self.by_role,
            &self.active,
            &self.by_process,
            &self.timers,
            &self.outbox,
            &self.idempotency,
            &self.inbox,
            &self.retries,
            &self.incidents,
        ]
    }

    pub fn shared(&self) -> &sled::Tree {
        &self.tree
    }

    /// Write a batch built with `Space::put` and `Space::del`, all or nothing.
    pub fn apply(&self, b: sled::Batch) -> Result<(), StoreError> {
        let _w = self.outside_batch()?;
        Ok(self.tree.apply_batch(b)?)
    }

    /// True, once, if a test asked for this failure now.
    fn take_fault(&self, at: Fault) -> bool {
        let mut f = self.injected.lock().unwrap_or_else(|e| e.into_inner());
        if *f == Some(at) {
            *f = None;
            return true;
        }
        false
    }

    /// Hold while writing anything but a batch of commands, or while reading what
    /// must not be half a batch (see `writing`). Refused once the store is broken.
    pub fn outside_batch(&self) -> Result<std::sync::RwLockReadGuard<'_, ()>, StoreError> {
        // Poisoned: a batch write panicked part-way (and marked the store broken).
        let w = self
            .writing
            .read()
            .map_err(|_| refused("a write panicked"))?;
        match self.health.broken() {
            None => Ok(w),
            Some(why) => Err(refused(why)),
        }
    }

    /// Write a batch of commands with `write` (see `writing`); if it fails (or
    /// panics), the store is broken and refuses every write after it.
    pub fn write_batch(
        &self,
        write: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let _w = self
            .writing
            .write()
            .map_err(|_| refused("a write panicked"))?;
        if let Some(why) = self.health.broken() {
            return Err(refused(why));
        }
        if self.take_fault(Fault::Write) {
            let e = StoreError::Storage("an injected write failure".into());
            self.health
                .fail(format!("a batch of commands failed in its write: {e}"));
            return Err(e);
        }
        let panicked = BreakOnUnwind(&self.health);
        let res = write();
        std::mem::forget(panicked);
        if let Err(e) = &res {
            self.health
                .fail(format!("a batch of commands failed in its write: {e}"));
        }
        res
    }
}

/// Marks the store broken if dropped while a batch write unwinds from a panic.
struct BreakOnUnwind<'a>(&'a health::Health);

impl Drop for BreakOnUnwind<'_> {
    fn drop(&mut self) {
        self.0.fail("a batch write panicked part-way");
    }
}

pub struct Store {
    db: sled::Db,
    pub(crate) t: Trees,
    commit: GroupCommit,
    /// Commands waiting to run, in batches (see `batch`).
    batches: Arc<batch::Combiner<(txn::Request, bool), Result<Outcome, StoreError>>>,
    /// Batches that have run, waiting to be written (see `batch::Pipeline`).
    pipeline: batch::Pipeline<{ SPACES.len() }>,
    /// Set once the threads that run async callers' batches are started.
    helpers: std::sync::OnceLock<()>,
    defs: RwLock<HashMap<(String, u32), Arc<Definition>>>,
    latest: RwLock<BTreeMap<String, u32>>,
    directory: RwLock<Arc<Directory>>,
    /// Held while the directory changes and while a token is issued, so that no
    /// token is issued for a person the directory is removing.
    staff: std::sync::Mutex<()>,
    /// Held while a deploy reads the newest version of a process, decides the next
    /// and writes it, so that two deploys at once (the file watcher and the API)
    /// never both take the same number. One process owns the database, so a lock
    /// in memory is enough.
    deploys: std::sync::Mutex<()>,
    pub zone: chrono_tz::Tz,
    pub admin_role: String,
    pub calendar: crate::calendar::Calendar,
    /// Process -> the role that owns it, told of its incidents.
    pub owners: BTreeMap<String, String>,
    pub language: crate::messages::Language,
    /// Ids for new instances and outbox messages. One process owns the database, so
    /// counters in memory (restored from the last key at open) are enough and keep
    /// ids small and dense for people; a refused command only leaves a gap.
    pub(crate) next_instance: AtomicU64,
    /// The data file, kept open to `fsync` it when `Options::fsync` asks.
    fsync: Option<std::fs::File>,
    pub(crate) next_message: AtomicU64,
}

fn last_u64(tree: &Space) -> Result<u64, StoreError> {
    Ok(match tree.last()? {
        Some((k, _)) => {
            u64::from_be_bytes(k.get(..8).and_then(|b| b.try_into().ok()).unwrap_or([0; 8]))
        }
        None => 0,
    })
}

pub struct Options {
    pub zone: chrono_tz::Tz,
    pub admin_role: String,
    pub calendar: crate::calendar::CalendarConfig,
    /// sled's page cache; default 256 MiB.
    pub cache_bytes: Option<u64>,
    /// After each group flush, also `fsync` the data file, so that acknowledged
    /// changes survive a power cut and not only a killed process.
    pub fsync: bool,
    /// Process -> the role that owns it, told (with the admins) of its incidents.
    pub owners: BTreeMap<String, String>,
    /// The language of the engine's own messages.
    pub language: crate::messages::Language,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            zone: chrono_tz::UTC,
            admin_role: "admin".into(),
            calendar: crate::calendar::CalendarConfig::default(),
            cache_bytes: None,
            fsync: false,
            owners: BTreeMap::new(),
            language: crate::messages::Language::default(),
        }
    }
}

/// Make the next open of the database at `path` fast. sled replays, when it opens a
/// database, the log written since it last opened it, and then records a snapshot
/// of its page table; opening it once more at a clean shutdown moves that replay
/// from the next start to this stop. Call it when nothing else has it open.
pub fn checkpoint(path: &Path) -> Result<(), StoreError> {
    let db = open_db(path, &Options::default())?;
    drop(db);
    Ok(())
}

/// Open sled's database in a folder readable by this user only (see `private`).
fn open_db(path: &Path, opts: &Options) -> Result<sled::Db, StoreError> {
    let private = |e: std::io::Error| {
        StoreError::Storage(format!(
            "cannot make the database folder {} readable by this user only: {e}",
            path.display()
        ))
    };
    private::create(path).map_err(private)?;
    let db = open_sled(path, opts)?;
    private::tighten(path).map_err(private)?;
    Ok(db)
}

/// Open sled's database. Its file lock outlives a closed handle by a moment, while
/// sled's background threads let go of it: a lock held by this process's last handle
/// is waited for briefly, so that closing and opening again (a checkpoint, a restart
/// in tests) does not fail on that. A lock held by another process still fails, a
/// second later.
fn open_sled(path: &Path, opts: &Options) -> sled::Result<sled::Db> {
    let mut tries = 0;
    loop {
        match sled_config(path, opts).open() {
            // sled words it so (kind `Other`, around the OS's `WouldBlock`).
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock") && tries < 100 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

fn sled_config(path: &Path, opts: &Options) -> sled::Config {
    sled::Config::new()
        .path(path)
        // Durability comes from our own flush after each batch (group commit), not
        // from a timer; sled's background flush stays as a backstop.
        .flush_every_ms(Some(1000))
        // Less compaction work per write; the log is cleaned up lazily.
        .mode(sled::Mode::HighThroughput)
        // A bounded page cache keeps memory flat however many instances and timers
        // the database holds (sled's own default is 1 GiB).
        .cache_capacity(opts.cache_bytes.unwrap_or(256 << 20))
}

impl Store {
    pub fn open(path: &Path, opts: Options) -> Result<Store, StoreError> {
        let db = open_db(path, &opts)?;
        let t = Trees::new(db.open_tree("records")?);
        migrate::migrate(&db, &t, path)?;
        let replayed = journal::replay(&t.tree, &t.journal)?;
        if replayed > 0 {
            tracing::warn!(
                replayed,
                "wrote again a batch the last run was writing when it stopped"
            );
        }
        // After the replay: a batch cut short by a release of layout 3 is in its
        // layout, and moves to the next with the rest.
        migrate::to_layout_4(&db, &t, path)?;
        match t.meta.get("schema_version")? {
            None => {
                t.meta
                    .insert("schema_version", &SCHEMA_VERSION.to_be_bytes())?;
            }
            Some(v) => {
                let found = u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4]));
                if found != SCHEMA_VERSION {
                    return Err(StoreError::Schema {
                        path: path.display().to_string(),
                        found,
                    });
                }
            }
        }
        let directory = match t.meta.get("directory")? {
            Some(b) => decode(&b)?,
            None => Directory::default(),
        };
        // Only the latest version of each definition is read at open; older ones
        // load on demand, so opening stays fast whatever the history holds.
        let mut latest = BTreeMap::new();
        let mut defs = HashMap::new();
        for kv in t.meta.scan_prefix(b"latest\0") {
            let (k, v) = kv?;
            let name = String::from_utf8_lossy(&k[7..]).into_owned();
            let version = u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4]));
            if let Some(b) = t.defs.get(keys::definition(&name, version))? {
                let def = deploy::compile(&decode(&b)?)?;
                defs.insert((name.clone(), version), Arc::new(def));
            }
            latest.insert(name, version);
        }
        let calendar = crate::calendar::Calendar::new(opts.zone, &opts.calendar)
            .map_err(|e| StoreError::Storage(format!("calendar: {e}")))?;
        let next_instance = AtomicU64::new(last_u64(&t.instances)? + 1);
        let next_message = AtomicU64::new(last_u64(&t.outbox)? + 1);
        let fsync = if opts.fsync {
            Some(
                std::fs::File::open(path.join("db"))
                    .map_err(|e| StoreError::Storage(e.to_string()))?,
            )
        } else {
            None
        };
        let health = t.health.clone();
        Ok(Store {
            fsync,
            next_instance,
            next_message,
            db,
            t,
            commit: GroupCommit::new(health.clone()),
            batches: Arc::new(batch::Combiner::new()),
            helpers: std::sync::OnceLock::new(),
            pipeline: batch::Pipeline::new(health),
            defs: RwLock::new(defs),
            latest: RwLock::new(latest),
            directory: RwLock::new(Arc::new(directory)),
            staff: std::sync::Mutex::new(()),
            deploys: std::sync::Mutex::new(()),
            zone: opts.zone,
            admin_role: opts.admin_role,
            owners: opts.owners,
            calendar,
            language: opts.language,
        })
    }

    /// Block until every change made so far is on disk (shared with concurrent
    /// callers). sled's flush writes its log with `sync_file_range`, which survives a
    /// killed process; see the README for what it does not cover.
    pub fn durable(&self) -> Result<(), StoreError> {
        self.commit.wait_durable(|| {
            if self.t.take_fault(Fault::Flush) {
                return Err("an injected flush failure".into());
            }
            self.db.flush().map_err(|e| e.to_string())?;
            match &self.fsync {
                Some(f) => f.sync_data().map_err(|e| e.to_string()),
                None => Ok(()),
            }
        })
    }

    /// Why the store refuses every write, or None while it is healthy. Once a write
    /// or flush failed, the store stays broken until the database is opened again
    /// (a restart), which replays a batch cut short.
    pub fn broken(&self) -> Option<String> {
        self.t.health.broken().map(str::to_string)
    }

    /// Make the next write of a batch of commands, or the next flush, fail: for
    /// tests of a full or failing disk.
    #[doc(hidden)]
    pub fn inject_failure(&self, at: Fault) {
        *self.t.injected.lock().unwrap_or_else(|e| e.into_inner()) = Some(at);
    }

    pub fn flushes(&self) -> u64 {
        self.commit.flushes()
    }

    /// Time spent waiting for the disk in flushes so far.
    pub fn flush_time(&self) -> std::time::Duration {
        self.commit.flush_time()
    }

    pub fn directory(&self) -> Arc<Directory> {
        self.directory
            .read()
            .map(|d| d.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Replace the staff directory. The tokens of everyone it no longer lists are
    /// revoked first, so that a person removed and later added back under the same
    /// id does not find their old tokens working again (and a failure part-way
    /// leaves fewer working tokens, never more).
    pub fn set_directory(&self, dir: Directory) -> Result<(), StoreError> {
        let _staff = self.staff_lock();
        crate::tokens::revoke_absent(self, &dir)?;
        let w = self.t.outside_batch()?;
        self.t.meta.insert("directory", encode(&dir))?;
        drop(w);
        self.durable()?;
        *self.directory.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(dir);
        Ok(())
    }

    /// See `staff`.
    pub(crate) fn staff_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.staff.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn definition(&self, name: &str, version: u32) -> Result<Arc<Definition>, StoreError> {
        let key = (name.to_string(), version);
        if let Some(d) = self
            .defs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(d.clone());
        }
        let d = Arc::new(deploy::compile(&self.deployment(name, version)?)?);
        self.defs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, d.clone());
        Ok(d)
    }

    pub fn latest(&self, name: &str) -> Result<(u32, Arc<Definition>), StoreError> {
        let v = self
            .latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
            .ok_or_else(|| Rejection::NotFound(format!("no process `{name}` is deployed")))?;
        Ok((v, self.definition(name, v)?))
    }

    pub fn process_names(&self) -> Vec<(String, u32)> {
        self.latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    pub fn stored_definition(
        &self,
        name: &str,
        version: u32,
    ) -> Result<StoredDefinition, StoreError> {
        self.stored(name, version)
    }

    pub fn instance(&self, id: InstanceId) -> Result<Instance, StoreError> {
        let b = self
            .t
            .instances
            .get(keys::instance(id))?
            .ok_or_else(|| Rejection::NotFound(format!("no instance {id}")))?;
        decode(&b)
    }

    /// A tree of its own for a module beside the store (the API's tokens), in the
    /// same database, so that it is backed up and made durable with everything else.
    pub fn tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(name)?)
    }

    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

impl Store {
    /// Remove a timer key that cannot be applied.
    pub fn drop_timer(
        &self,
        due: DateTime<Utc>,
        instance: InstanceId,
        n: u32,
    ) -> Result<(), StoreError> {
        let _w = self.t.outside_batch()?;
        self.t.timers.remove(keys::timer(due, instance, n))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database in layout version 2: one tree per kind of record.
    fn old_layout(path: &Path, version: u32) {
        let db = sled::open(path).expect("open");
        let meta = db.open_tree("meta").expect("tree");
        meta.insert("schema_version", &version.to_be_bytes())
            .expect("insert");
        meta.insert("delivery_cursor", &7u64.to_be_bytes())
            .expect("insert");
        // Version 1 of each kind is what layouts 2 and 3 wrote, without its envelope.
        let raw = |v: Vec<u8>| v[2..].to_vec();
        let instances = db.open_tree("instances").expect("tree");
        instances
            .insert(keys::instance(41), raw(encode(&records::tests::instance())))
            .expect("insert");
        let mine = db.open_tree("tasks_by_person").expect("tree");
        mine.insert(b"ann\0x", raw(encode(&records::tests::task())))
            .expect("insert");
        let tokens = db.open_tree("tokens").expect("tree");
        tokens.insert(b"t", &b"kept"[..]).expect("insert");
        tokens
            .insert(b"hx", raw(encode(&records::tests::token())))
            .expect("insert");
        db.flush().expect("flush");
    }

    /// No other write, nor a read that must not see half a batch, runs while a batch
    /// is written; once a batch failed part-way (an error or a panic), every write is
    /// refused until the database is opened again and the batch replayed.
    #[test]
    fn a_batch_written_alone_and_a_failed_one_stops_every_write() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        for fail in [false, true] {
            let t = Trees::new(db.open_tree(format!("records{fail}")).expect("tree"));
            t.write_batch(|| {
                assert!(t.writing.try_read().is_err(), "another write got in");
                Ok(())
            })
            .expect("written");
            assert!(t.outside_batch().is_ok());
            let b = || {
                let mut b = sled::Batch::default();
                t.meta.put(&mut b, b"k", &b"v"[..]);
                b
            };
            t.apply(b()).expect("written");
            if fail {
                let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    t.write_batch(|| panic!("a write panics"))
                }));
                assert!(panicked.is_err());
            } else {
                let e = t.write_batch(|| Err(StoreError::Storage("disk full".into())));
                assert!(e.is_err());
            }
            let refused = t.apply(b()).expect_err("refused");
            let why = if fail { "panicked" } else { "disk full" };
            assert!(refused.to_string().contains(why), "{refused}");
            assert!(t.health.broken().is_some_and(|b| b.contains(why)));
            assert!(t.outside_batch().is_err());
            assert!(t.write_batch(|| Ok(())).is_err());
        }
    }

    /// A process that stopped while writing a batch left its journal: the next open
    /// writes the batch again before anything reads the records.
    #[test]
    fn opening_writes_again_a_batch_cut_short() {
        let dir = tempfile::tempdir().expect("tmp");
        drop(Store::open(dir.path(), Options::default()).expect("open"));
        {
            let db = open_db(dir.path(), &Options::default()).expect("db");
            let t = Trees::new(db.open_tree("records").expect("tree"));
            let one = sled::IVec::from(&b"1"[..]);
            let changes = [(t.meta.key(b"probe"), Some(&one))];
            // Stopped after its journal, before its first change.
            journal::write_cut(&t.tree, &t.journal, 3, changes.iter().cloned(), 1).expect("write");
            db.flush().expect("flush");
        }
        let s = Store::open(dir.path(), Options::default()).expect("open");
        assert_eq!(
            s.t.meta.get("probe").expect("get").as_deref(),
            Some(&b"1"[..])
        );
        assert_eq!(s.t.journal.len(), 0);
    }

    #[test]
    fn a_version_2_database_moves_into_spaces_and_keeps_every_record() {
        let dir = tempfile::tempdir().expect("tmp");
        old_layout(dir.path(), 2);
        for _ in 0..2 {
            let s = Store::open(dir.path(), Options::default()).expect("open");
            let inst = s.t.instances.get(keys::instance(41)).expect("get");
            let inst: Instance = decode(&inst.expect("instance 41")).expect("decode");
            assert_eq!(inst, records::tests::instance());
            let task = s.t.by_person.get(b"ann\0x").expect("get");
            let task: crate::core::Task = decode(&task.expect("a task")).expect("decode");
            assert_eq!(task, records::tests::task());
            assert_eq!(
                s.t.meta.get("schema_version").expect("get").as_deref(),
                Some(&SCHEMA_VERSION.to_be_bytes()[..])
            );
            // New ids continue after the moved records.
            assert_eq!(
                s.next_instance.load(std::sync::atomic::Ordering::Relaxed),
                42
            );
            let names = s.db.tree_names();
            assert!(!names.iter().any(|n| n.as_ref() == b"instances"));
            // Trees beside the store (the API's tokens) stay where they were, their
            // records in envelopes like all others.
            let tokens = s.tree("tokens").expect("tree");
            let token = tokens.get(b"hx").expect("get").expect("a token");
            let token: crate::tokens::TokenRecord = decode(&token).expect("decode");
            assert_eq!(token, records::tests::token());
            assert_eq!(
                tokens.get(b"t").expect("get").as_deref(),
                Some(&b"kept"[..])
            );
        }
    }

    const TWO_STEPS: &str = r#"
process review "審閱" {
  started by staff
  step first "初審" {
    task for starter
    due 2h
    next second
  }
  step second "複審" {
    task for starter
    next done
  }
  end done
}
"#;

    /// Real records written by this release, then laid out as version 2 had them:
    /// a tree per kind, finished tasks keyed by id, tasks by state and by due time.
    #[test]
    fn a_version_2_database_gets_its_task_indexes_rebuilt() {
        use crate::core::{Command, TaskId, TaskState};
        use crate::staff::{Department, Person};
        let dir = tempfile::tempdir().expect("tmp");
        let now = chrono::Utc::now();
        let before = {
            let s = Store::open(dir.path(), Options::default()).expect("open");
            s.set_directory(Directory::new(
                vec![Department {
                    id: "ops".into(),
                    name: "營運".into(),
                    head: "ann".into(),
                }],
                vec![Person {
                    id: "ann".into(),
                    name: "安".into(),
                    department: "ops".into(),
                    roles: vec!["staff".into()],
                    supervisor: None,
                }],
            ))
            .expect("directory");
            s.deploy("review.flow", TWO_STEPS, now).expect("deploy");
            let start = Command::Start {
                process: "review".into(),
                data: Default::default(),
            };
            for i in 0..3u64 {
                let id = s
                    .execute(None, &start, "ann", now, None)
                    .expect("start")
                    .instance
                    .id;
                if i > 0 {
                    let task = TaskId { instance: id, n: 1 };
                    let done = Command::Complete {
                        task,
                        choice: None,
                        data: Default::default(),
                    };
                    s.execute(Some(id), &done, "ann", now, None)
                        .expect("complete");
                }
            }
            let states = [TaskState::Open, TaskState::Completed];
            let lists: Vec<Vec<TaskId>> = states
                .iter()
                .map(|st| {
                    let page = s.tasks_in_state(*st, None, 100).expect("query");
                    page.items.iter().map(|t| t.id).collect()
                })
                .collect();
            assert_eq!(lists[1].len(), 2);
            // Lay it out as version 2.
            let db = &s.db;
            for ((name, _), space) in SPACES.iter().zip(s.t.all()) {
                if ["tasks", "tasks_by_state"].contains(name) {
                    continue;
                }
                let old = db.open_tree(name).expect("tree");
                for kv in space.iter() {
                    let (k, v) = kv.expect("entry");
                    old.insert(&k, migrate::layout_3_value(name, &k, &v))
                        .expect("insert");
                }
            }
            let old_tasks = db.open_tree("tasks").expect("tree");
            for kv in s.t.tasks.iter() {
                let (_, v) = kv.expect("entry");
                let t: crate::core::Task = decode(&v).expect("task");
                let v = migrate::layout_3_value("tasks", &[], &v);
                old_tasks.insert(keys::task(t.id), v).expect("insert");
            }
            db.open_tree("meta")
                .expect("tree")
                .insert("schema_version", &2u32.to_be_bytes())
                .expect("insert");
            s.t.shared().clear().expect("clear");
            db.drop_tree("records").expect("drop");
            s.durable().expect("flush");
            lists
        };
        let s = Store::open(dir.path(), Options::default()).expect("open");
        assert_eq!(s.verify().expect("verify"), Vec::<String>::new());
        for (st, ids) in [TaskState::Open, TaskState::Completed].iter().zip(before) {
            let page = s.tasks_in_state(*st, None, 100).expect("query");
            assert_eq!(page.items.iter().map(|t| t.id).collect::<Vec<_>>(), ids);
        }
        assert_eq!(s.tasks_for("ann").expect("mine").len(), 3);
    }

    #[test]
    fn an_unknown_layout_version_is_refused_and_left_as_it_is() {
        let dir = tempfile::tempdir().expect("tmp");
        old_layout(dir.path(), 1);
        match Store::open(dir.path(), Options::default()) {
            Err(StoreError::Schema { found, .. }) => assert_eq!(found, 1),
            other => panic!("expected a schema error, got {:?}", other.err()),
        }
        let db = open_db(dir.path(), &Options::default()).expect("open");
        assert!(db
            .open_tree("instances")
            .expect("tree")
            .get(keys::instance(41))
            .expect("get")
            .is_some());
    }
}
