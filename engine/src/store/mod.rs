//! The sled store: one tree, each kind of record in a space of its own (see `space`),
//! one all-or-nothing write per batch of commands (see `journal`), and a command
//! acknowledged only once its batch is durable (group commit).

mod ack;
mod attempts;
mod batch;
mod copy;
mod deploy;
mod durability;
mod figures;
mod follow;
mod fsync;
mod handle;
mod health;
mod ids;
use health::refused;
mod journal;
pub mod keys;
mod kind;
mod logins;
mod migrate;
mod outbox;
mod participants;
pub(crate) mod pg;
mod private;
mod query;
pub(crate) mod records;
mod recover;
mod schedules;
mod signatures;
mod space;
mod tokens;
mod traits;
mod txn;
mod verify;

pub use ack::accept_loss;
pub use attempts::{Ended, Lease, Queued};
pub use copy::{copy, Copied};
#[doc(hidden)]
pub use figures::{bucket as figures_bucket, FigureRow, HourFigures};
pub use health::Fault;
pub use outbox::Attempt;
#[doc(hidden)]
pub use pg::testing as pg_testing;
pub use pg::{is_postgres, PgOptions};
pub use query::{InstancePage, Page, TaskPosition};
pub use traits::*;
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
use std::sync::{Arc, RwLock};

use kind::Kind;
use space::{Shared, Space, WriteBatch, Writer};

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
    #[error("the store refuses writes since {0}; check the disk (free space, errors): the store writes again by itself once the disk does")]
    Broken(String),
    /// The database cannot be reached now (PostgreSQL down, no free connection):
    /// nothing was written; the same request may be sent again later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database lacks what it acknowledged, or sled cannot read it (see `ack`).
    /// `path` is empty when sled reported corrupted data outside of opening.
    #[error("the database {}is damaged: {detail}", if path.is_empty() { String::new() } else { format!("{path} ") })]
    Damaged { path: String, detail: String },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        match e {
            // sled's own wording carries its internals (a backtrace field); a
            // person reads where, if sled knows, and what.
            sled::Error::Corruption { at, .. } => StoreError::Damaged {
                path: String::new(),
                detail: match at {
                    Some(at) => format!("part of its data file fails its checksum (at {at})"),
                    None => "part of its data file fails its checksum".to_string(),
                },
            },
            e => StoreError::Storage(e.to_string()),
        }
    }
}

/// A record in its versioned envelope (see `records`).
pub(crate) fn encode<T: records::Stored>(v: &T) -> Vec<u8> {
    records::encode(v)
}

pub(crate) fn decode<T: records::Stored>(b: &[u8]) -> Result<T, StoreError> {
    records::decode(b).map_err(|e| StoreError::Storage(format!("corrupt record: {e}")))
}

/// Open tasks and how many of them are overdue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Open {
    pub open: u32,
    pub overdue: u32,
}

/// Open tasks per (holder, process): `people` for tasks a person holds or is
/// offered by name, `roles` for those offered to a role that nobody claimed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenCounts {
    pub people: std::collections::BTreeMap<(String, String), Open>,
    pub roles: std::collections::BTreeMap<(String, String), Open>,
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
    tree: Shared,
    /// Each kind's space, at its place (see `kind`).
    spaces: [Space; Kind::COUNT],
    /// The batch being written, until all of it is (see `journal`). Not a kind:
    /// it is empty whenever the database is closed.
    pub journal: Space,
    /// Held alone while a batch is written key by key, and shared by every other
    /// write, so that no other write lands between a batch's first key and the
    /// removal of its journal: replaying the batch after a crash would undo it.
    /// Readers that must not see half a batch share it too. A `Writer` is the proof
    /// of holding it, and every write takes one (see `space`).
    writing: RwLock<()>,
    /// Broken once a write or flush failed (see `health`): a batch that failed
    /// part-way keeps its journal until the database is opened again, and a write
    /// now could be undone when that batch is replayed, so from then on every write
    /// is refused (see `outside_batch`).
    pub health: Arc<health::Health>,
    /// A failure a test asked for (see `Store::inject_failure`).
    injected: std::sync::Mutex<Option<Fault>>,
}

impl std::ops::Index<Kind> for Trees {
    type Output = Space;
    fn index(&self, k: Kind) -> &Space {
        &self.spaces[k.slot()]
    }
}

/// The journal slot of writes outside the batches of commands (`Trees::apply`).
/// They are written alone, one at a time, so one slot is enough; batches of
/// commands count up from 0 and never reach it.
const OUTSIDE_SEQ: u64 = u64::MAX;

impl Trees {
    fn new(tree: sled::Tree) -> Trees {
        Trees::on(Shared::new(tree))
    }

    fn on(tree: Shared) -> Trees {
        Trees {
            spaces: Kind::ALL.map(|k| Space::new(tree.clone(), k)),
            journal: Space::journal(tree.clone()),
            writing: RwLock::new(()),
            health: Arc::default(),
            injected: std::sync::Mutex::new(None),
            tree,
        }
    }

    /// Every space, in the order of `Kind::ALL`; a command's writes are kept per
    /// space in this order too (see `txn`).
    pub fn all(&self) -> [&Space; Kind::COUNT] {
        std::array::from_fn(|i| &self.spaces[i])
    }

    pub fn shared(&self) -> &Shared {
        &self.tree
    }

    /// Write a batch built with `Space::put` and `Space::del`, all or nothing,
    /// through the journal as batches of commands are. Only kinds that commands
    /// never read (see `kind::ByCommands`).
    pub fn apply(&self, b: WriteBatch) -> Result<(), StoreError> {
        if let Some((k, _, _)) = b
            .changes
            .iter()
            .find(|(k, _, _)| !k.is_some_and(Kind::outside_writable))
        {
            return Err(StoreError::Storage(format!(
                "a write to {k:?} outside a batch of commands, which read it"
            )));
        }
        self.write_batch(|w| self.apply_alone(w, b))
    }

    /// `apply` for a writer already alone (a migration): any kind.
    fn apply_alone(&self, w: &Writer<'_>, b: WriteBatch) -> Result<(), StoreError> {
        if let Some(pg) = self.tree.pg() {
            // One transaction: all or nothing without a journal.
            let changes: Vec<(Vec<u8>, Option<Vec<u8>>)> = b
                .changes
                .into_iter()
                .map(|(_, k, v)| (k, v.map(|v| v.to_vec())))
                .collect();
            return pg.write(&changes);
        }
        let changes = b.changes.iter().map(|(_, k, v)| (k.clone(), v.as_ref()));
        journal::write(w, &self.tree, &self.journal, OUTSIDE_SEQ, changes, None)?;
        Ok(())
    }

    /// True, once, if a test asked for this failure now; always while it asked for
    /// a full disk.
    fn take_fault(&self, at: Fault) -> bool {
        let mut f = self.injected.lock().unwrap_or_else(|e| e.into_inner());
        if *f == Some(Fault::Full) {
            return true;
        }
        if *f == Some(at) {
            *f = None;
            return true;
        }
        false
    }

    /// How many writes the next batch may make before it fails, if a test asked.
    fn take_cut(&self) -> Option<usize> {
        let mut f = self.injected.lock().unwrap_or_else(|e| e.into_inner());
        match *f {
            Some(Fault::WriteAfter(n)) => {
                *f = None;
                Some(n)
            }
            _ => None,
        }
    }

    /// The right to write outside a batch of commands (or to read what must not be
    /// half a batch; see `writing`). Refused once the store is broken.
    pub fn outside_batch(&self) -> Result<Writer<'_>, StoreError> {
        // Poisoned: a batch write panicked part-way (and marked the store broken).
        let w = self
            .writing
            .read()
            .map_err(|_| refused("a write panicked"))?;
        match self.health.broken() {
            None => Ok(Writer::outside(w)),
            Some(why) => Err(refused(&why)),
        }
    }

    /// The right to write anything, alone: while the database is opened, before
    /// anything else runs (migrations, the schema version).
    fn alone(&self) -> Result<Writer<'_>, StoreError> {
        let w = self
            .writing
            .write()
            .map_err(|_| refused("a write panicked"))?;
        Ok(Writer::alone(w))
    }

    /// Write a batch with `write` (see `writing`); if it fails (or panics), the
    /// store is broken and refuses every write after it.
    pub fn write_batch<T>(
        &self,
        write: impl FnOnce(&Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let w = self
            .writing
            .write()
            .map_err(|_| refused("a write panicked"))?;
        if let Some(why) = self.health.broken() {
            return Err(refused(&why));
        }
        if self.take_fault(Fault::Write) {
            let e = StoreError::Storage("an injected write failure".into());
            self.health
                .fail(format!("a batch of commands failed in its write: {e}"));
            return Err(e);
        }
        let w = Writer::alone(w);
        let panicked = BreakOnUnwind(&self.health);
        let res = write(&w);
        std::mem::forget(panicked);
        if let Some(why) = res.as_ref().err().and_then(health::cause) {
            self.health
                .fail(format!("a batch of commands failed in its write: {why}"));
        }
        res
    }
}

/// Every instance's history in turn, read straight from the history space (for
/// indexes built from the histories at open).
fn each_history(
    store: &Store,
    mut f: impl FnMut(InstanceId, &[crate::core::Record]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut current: Option<(InstanceId, Vec<crate::core::Record>)> = None;
    for kv in store.t[Kind::Events].iter() {
        let (k, v) = kv?;
        let Some(id) = k.get(..8).and_then(|b| b.try_into().ok()) else {
            continue;
        };
        let id = u64::from_be_bytes(id);
        let records: Vec<crate::core::Record> = decode(&v)?;
        match &mut current {
            Some((i, h)) if *i == id => h.extend(records),
            _ => {
                if let Some((i, h)) = current.take() {
                    f(i, &h)?;
                }
                current = Some((id, records));
            }
        }
    }
    if let Some((i, h)) = current {
        f(i, &h)?;
    }
    Ok(())
}

/// Marks the store broken if dropped while a batch write unwinds from a panic.
struct BreakOnUnwind<'a>(&'a health::Health);

impl Drop for BreakOnUnwind<'_> {
    fn drop(&mut self) {
        self.0.fail("a batch write panicked part-way");
    }
}

pub struct Store {
    /// The database, as every part of the store shares it (see `handle`).
    db: handle::Handle<sled::Db>,
    pub(crate) t: Trees,
    commit: GroupCommit,
    /// Commands waiting to run, in batches (see `batch`).
    batches: Arc<batch::Combiner<(txn::Request, bool), Result<Outcome, StoreError>>>,
    /// Batches that have run, waiting to be written (see `batch::Pipeline`).
    pipeline: batch::Pipeline<{ Kind::COUNT }>,
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
    pub(crate) next_instance: ids::Ids,
    /// Where the database is, and the size of sled's cache, to open it again (see
    /// `recover`).
    path: std::path::PathBuf,
    cache_bytes: Option<u64>,
    /// The data file and sled's blob files, synced after each flush when
    /// `Options::fsync` asks (see `fsync`).
    fsync: Option<fsync::Fsync>,
    pub(crate) next_message: ids::Ids,
    /// The record of what was acknowledged, beside sled's files (see `ack`); none
    /// on PostgreSQL, whose commit is the acknowledgement.
    acks: Option<ack::Acks>,
    /// The PostgreSQL database the spaces live in, when it is not sled (see `pg`).
    pub(crate) pg: Option<Arc<pg::Pg>>,
    /// Counts the batches of commands written, for pages that show changes as they
    /// happen (`Changes`).
    changed: tokio::sync::watch::Sender<u64>,
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
    /// The connection pool, when the database is PostgreSQL's.
    pub postgres: PgOptions,
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
            postgres: PgOptions::default(),
        }
    }
}

/// Make the next open of the database at `path` fast. sled replays, when it opens a
/// database, the log written since it last opened it, and then records a snapshot
/// of its page table; opening it once more at a clean shutdown moves that replay
/// from the next start to this stop. Call it when nothing else has it open.
pub fn checkpoint(path: &Path) -> Result<(), StoreError> {
    ack::guarded(path, || open_db(path, &Options::default()).map(drop))
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
        // With `fsync`, a blob file is synced when sled writes it, before its log
        // can name it (vendor/sled/PATCHED.md): a power cut then finds every file a
        // log on disk names. Without it, as without `fsync` at all, a power cut may
        // lose the last moments.
        .sync_blobs(opts.fsync)
}

impl Store {
    /// Open the database at `path`, made if there is none; refused as damaged when
    /// it lacks what it acknowledged or sled cannot read it (see `ack`).
    pub fn open(path: &Path, opts: Options) -> Result<Store, StoreError> {
        ack::guarded(path, || Store::open_unguarded(path, opts))
    }

    fn open_unguarded(path: &Path, opts: Options) -> Result<Store, StoreError> {
        let db = open_db(path, &opts)?;
        let t = Trees::new(db.open_tree("records")?);
        migrate::migrate(&db, &t, path)?;
        let replayed = journal::replay(&t.alone()?, &t.tree, &t.journal)?;
        if replayed > 0 {
            tracing::warn!(
                replayed,
                "wrote again a batch the last run was writing when it stopped"
            );
        }
        // After the replay: a batch cut short by a release of layout 3 is in its
        // layout, and moves to the next with the rest.
        migrate::to_layout_4(&db, &t, path)?;
        let cut_off = attempts::release_leases(&t)?;
        if cut_off > 0 {
            tracing::info!(
                cut_off,
                "webhook attempts the last run left unfinished are due again"
            );
        }
        match t[Kind::Meta].get("schema_version")? {
            None => {
                t[Kind::Meta].insert(
                    &t.alone()?,
                    "schema_version",
                    &SCHEMA_VERSION.to_be_bytes(),
                )?;
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
        let acks = ack::Acks::open(path, &t, opts.fsync, db.recovery_doubts())?;
        acks.opened(&t)?;
        let recover::Caches {
            directory,
            defs,
            latest,
        } = recover::Caches::load(&t)?;
        let calendar = crate::calendar::Calendar::new(opts.zone, &opts.calendar)
            .map_err(|e| StoreError::Storage(format!("calendar: {e}")))?;
        let next_instance = ids::Ids::local(last_u64(&t[Kind::Instances])? + 1);
        let next_message = ids::Ids::local(last_u64(&t[Kind::Outbox])? + 1);
        let fsync = if opts.fsync {
            Some(fsync::Fsync::open(path).map_err(|e| StoreError::Storage(e.to_string()))?)
        } else {
            None
        };
        let health = t.health.clone();
        let store = Store {
            acks: Some(acks),
            pg: None,
            path: path.to_path_buf(),
            cache_bytes: opts.cache_bytes,
            fsync,
            next_instance,
            next_message,
            changed: tokio::sync::watch::Sender::new(0),
            db: handle::Handle::new(db),
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
        };
        participants::build(&store)?;
        signatures::build(&store)?;
        figures::build(&store)?;
        Ok(store)
    }

    /// Open the PostgreSQL database at `url` (see `pg`): its schema brought up to
    /// date, then what the store keeps in memory read from it. Several nodes may
    /// open the same database.
    pub fn open_postgres(url: &str, opts: Options) -> Result<Store, StoreError> {
        let pg = Arc::new(pg::Pg::open(url, opts.postgres.clone())?);
        let t = Trees::on(Shared::postgres(pg.clone()));
        match t[Kind::Meta].get("schema_version")? {
            None => {
                t[Kind::Meta].insert(
                    &t.alone()?,
                    "schema_version",
                    &SCHEMA_VERSION.to_be_bytes(),
                )?;
            }
            Some(v) => {
                let found = u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4]));
                if found != SCHEMA_VERSION {
                    return Err(StoreError::Schema {
                        path: pg.shown.clone(),
                        found,
                    });
                }
            }
        }
        let recover::Caches {
            directory,
            defs,
            latest,
        } = recover::Caches::load(&t)?;
        let calendar = crate::calendar::Calendar::new(opts.zone, &opts.calendar)
            .map_err(|e| StoreError::Storage(format!("calendar: {e}")))?;
        let health = t.health.clone();
        let store = Store {
            acks: None,
            path: std::path::PathBuf::from(&pg.shown),
            cache_bytes: None,
            fsync: None,
            next_instance: ids::Ids::shared(pg.clone(), "instances"),
            next_message: ids::Ids::shared(pg.clone(), "messages"),
            pg: Some(pg),
            changed: tokio::sync::watch::Sender::new(0),
            db: handle::Handle::empty(),
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
        };
        participants::build(&store)?;
        signatures::build(&store)?;
        figures::build(&store)?;
        Ok(store)
    }

    /// Open the database at `db`: a PostgreSQL address (`postgres://...`) or the
    /// folder of an embedded one.
    pub fn open_at(db: &Path, opts: Options) -> Result<Store, StoreError> {
        match db.to_str() {
            Some(url) if pg::is_postgres(url) => Store::open_postgres(url, opts),
            _ => Store::open(db, opts),
        }
    }

    /// How many places sled's recovery skipped in the log when this embedded
    /// database last opened (see `ack::Acks::open`); 0 for PostgreSQL's.
    pub fn recovery_doubts(&self) -> u64 {
        self.acks.as_ref().map_or(0, |a| a.doubts())
    }

    /// Is the database PostgreSQL's (several nodes may share it)?
    pub fn is_shared(&self) -> bool {
        self.pg.is_some()
    }

    /// Why the store refuses every write, or None while it is healthy. Once a write
    /// or flush failed, the store stays broken until it opens its database again,
    /// which replays a batch cut short (see `try_recover`).
    pub(super) fn broken(&self) -> Option<String> {
        self.t.health.broken()
    }

    /// Make the next write of a batch of commands, or the next flush, fail: for
    /// tests of a full or failing disk.
    #[doc(hidden)]
    pub fn inject_failure(&self, at: Fault) {
        *self.t.injected.lock().unwrap_or_else(|e| e.into_inner()) = Some(at);
    }

    /// Forget the failure a test asked for (the disk has room again).
    #[doc(hidden)]
    pub fn clear_failure(&self) {
        *self.t.injected.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub(super) fn flushes(&self) -> u64 {
        self.commit.flushes()
    }

    /// Time spent waiting for the disk in flushes so far.
    pub(super) fn flush_time(&self) -> std::time::Duration {
        self.commit.flush_time()
    }

    pub(super) fn directory(&self) -> Arc<Directory> {
        self.directory
            .read()
            .map(|d| d.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Replace the staff directory. The tokens of everyone it no longer lists are
    /// revoked first, so that a person removed and later added back under the same
    /// id does not find their old tokens working again (and a failure part-way
    /// leaves fewer working tokens, never more).
    pub(super) fn set_directory(&self, dir: Directory) -> Result<(), StoreError> {
        let _staff = self.staff_lock();
        let _cluster = match &self.pg {
            Some(pg) => Some(pg.lock(pg::locks::STAFF)?),
            None => None,
        };
        crate::tokens::revoke_absent(self, &dir)?;
        // Read before the write: a reopening after it may have lost it.
        let epoch = self.epoch();
        let w = self.t.outside_batch()?;
        self.t[Kind::Meta].insert(&w, "directory", encode(&dir))?;
        drop(w);
        self.durable_since(epoch)?;
        *self.directory.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(dir);
        if let Some(pg) = &self.pg {
            pg.notify("directory")?;
        }
        Ok(())
    }

    /// Held while the first token is issued (see `tokens::issue_first`): every
    /// node's, with PostgreSQL.
    pub(crate) fn first_token_lock(&self) -> Result<Option<pg::Locked<'_>>, StoreError> {
        match &self.pg {
            Some(pg) => Ok(Some(pg.lock(pg::locks::FIRST_TOKEN)?)),
            None => Ok(None),
        }
    }

    /// See `staff`.
    pub(crate) fn staff_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.staff.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn definition(
        &self,
        name: &str,
        version: u32,
    ) -> Result<Arc<Definition>, StoreError> {
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

    pub(super) fn latest(&self, name: &str) -> Result<(u32, Arc<Definition>), StoreError> {
        let v = self
            .latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
            .ok_or_else(|| Rejection::NotFound(format!("no process `{name}` is deployed")))?;
        Ok((v, self.definition(name, v)?))
    }

    pub(super) fn process_names(&self) -> Vec<(String, u32)> {
        self.latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    pub(super) fn stored_definition(
        &self,
        name: &str,
        version: u32,
    ) -> Result<StoredDefinition, StoreError> {
        self.stored(name, version)
    }

    pub(super) fn instance(&self, id: InstanceId) -> Result<Instance, StoreError> {
        let b = self.t[Kind::Instances]
            .get(keys::instance(id))?
            .ok_or_else(|| Rejection::NotFound(format!("no instance {id}")))?;
        decode(&b)
    }

    pub(super) fn size_on_disk(&self) -> u64 {
        if let Some(pg) = &self.pg {
            return pg.size().unwrap_or(0);
        }
        self.db.get().and_then(|db| db.size_on_disk()).unwrap_or(0)
    }
}

impl Store {
    /// Remove a timer key that cannot be applied.
    pub(super) fn drop_timer(
        &self,
        due: DateTime<Utc>,
        instance: InstanceId,
        n: u32,
    ) -> Result<(), StoreError> {
        let w = self.t.outside_batch()?;
        self.t[Kind::Timers].remove(&w, keys::timer(due, instance, n))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sled's corruption error reaches a person as what is wrong, without sled's
    /// internals (its wording carries an empty backtrace field).
    #[test]
    fn corrupted_data_is_said_in_words() {
        let e = StoreError::from(sled::Error::Corruption { at: None, bt: () });
        assert_eq!(
            e.to_string(),
            "the database is damaged: part of its data file fails its checksum"
        );
    }

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
        // Instances have a version 2 (their branches) since; version 1 is what was
        // written then.
        let instance = encode(&records::tests::instance());
        instances
            .insert(
                keys::instance(41),
                records::version_1_payload(records::RecordKind::Instance, &instance),
            )
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
            t.write_batch(|_| {
                assert!(t.writing.try_read().is_err(), "another write got in");
                Ok(())
            })
            .expect("written");
            assert!(t.outside_batch().is_ok());
            let b = || {
                let mut b = WriteBatch::default();
                t[Kind::Meta].put(&mut b, b"k", &b"v"[..]);
                b
            };
            t.apply(b()).expect("written");
            if fail {
                let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    t.write_batch(|_| -> Result<(), StoreError> { panic!("a write panics") })
                }));
                assert!(panicked.is_err());
            } else {
                let e = t.write_batch(|_| -> Result<(), _> {
                    Err(StoreError::Storage("disk full".into()))
                });
                assert!(e.is_err());
            }
            let refused = t.apply(b()).expect_err("refused");
            let why = if fail { "panicked" } else { "disk full" };
            assert!(refused.to_string().contains(why), "{refused}");
            assert!(t.health.broken().is_some_and(|b| b.contains(why)));
            assert!(t.outside_batch().is_err());
            assert!(t.write_batch(|_| Ok(())).is_err());
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
            let changes = [(t[Kind::Meta].key(b"probe"), Some(&one))];
            // Stopped after its journal, before its first change.
            let w = t.alone().expect("alone");
            journal::write_cut(
                &w,
                &t.tree,
                &t.journal,
                3,
                changes.iter().cloned(),
                None,
                journal::chunk(false),
                1,
            )
            .expect("write");
            db.flush().expect("flush");
        }
        let s = Store::open(dir.path(), Options::default()).expect("open");
        assert_eq!(
            s.t[Kind::Meta].get("probe").expect("get").as_deref(),
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
            let inst = s.t[Kind::Instances].get(keys::instance(41)).expect("get");
            let inst: Instance = decode(&inst.expect("instance 41")).expect("decode");
            assert_eq!(inst, records::tests::instance());
            let task = s.t[Kind::ByPerson].get(b"ann\0x").expect("get");
            let task: crate::core::Task = decode(&task.expect("a task")).expect("decode");
            assert_eq!(task, records::tests::task());
            assert_eq!(
                s.t[Kind::Meta]
                    .get("schema_version")
                    .expect("get")
                    .as_deref(),
                Some(&SCHEMA_VERSION.to_be_bytes()[..])
            );
            // New ids continue after the moved records.
            assert_eq!(s.next_instance.peek(), 42);
            let names = s.db.get().expect("open").tree_names();
            assert!(!names.iter().any(|n| n.as_ref() == b"instances"));
            // The API's tokens, in a tree of their own then, are in their space,
            // their records in envelopes like all others.
            let token = s.t[Kind::Tokens].get(b"hx").expect("get").expect("a token");
            let token: crate::tokens::TokenRecord = decode(&token).expect("decode");
            assert_eq!(token, records::tests::token());
            assert_eq!(
                s.t[Kind::Tokens].get(b"t").expect("get").as_deref(),
                Some(&b"kept"[..])
            );
            assert!(!names.iter().any(|n| n.as_ref() == b"tokens"));
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
            let db = &s.db.get().expect("open");
            for (name, space) in Kind::ALL.map(Kind::layout2_tree).iter().zip(s.t.all()) {
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
            for kv in s.t[Kind::Tasks].iter() {
                let (_, v) = kv.expect("entry");
                let t: crate::core::Task = decode(&v).expect("task");
                let v = migrate::layout_3_value("tasks", &[], &v);
                old_tasks.insert(keys::task(t.id), v).expect("insert");
            }
            db.open_tree("meta")
                .expect("tree")
                .insert("schema_version", &2u32.to_be_bytes())
                .expect("insert");
            s.t.shared()
                .clear(&s.t.alone().expect("alone"))
                .expect("clear");
            db.drop_tree("records").expect("drop");
            // sled's own flush: the store's marks what it acknowledges in the tree
            // just dropped (see `ack`).
            db.flush().expect("flush");
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
