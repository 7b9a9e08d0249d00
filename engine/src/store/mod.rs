//! The sled store: one tree per kind of record, one transaction per batch of
//! commands, and a command acknowledged only once its batch is durable (group commit).

mod batch;
mod durability;
pub mod keys;
mod outbox;
mod query;
mod txn;
mod verify;

pub use outbox::Attempt;
pub use query::{InstancePage, Page};
pub use txn::{Delivery, OutboxRecord, Outcome, Request};

use crate::core::{Instance, InstanceId, Rejection};
use crate::staff::Directory;
use baton_dsl::model::Definition;
use baton_dsl::{Located, Severity};
use chrono::{DateTime, Utc};
use durability::GroupCommit;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

/// The layout version of the data on disk. A release that changes the layout bumps
/// it and migrates older databases when it opens them.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("the definition has errors:\n{}", .0.iter().map(|d| format!("{}:{}:{}: {} [{}]", d.file, d.line, d.column, d.diagnostic.message, d.diagnostic.code)).collect::<Vec<_>>().join("\n"))]
    Definition(Vec<Located>),
    #[error("storage: {0}")]
    Storage(String),
    #[error("database {path} uses layout version {found}, this release reads {SCHEMA_VERSION}")]
    Schema { path: String, found: u32 },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Storage(e.to_string())
    }
}

pub(crate) fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).expect("in-memory values always serialize")
}

pub(crate) fn decode<T: DeserializeOwned>(b: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(b).map_err(|e| StoreError::Storage(format!("corrupt record: {e}")))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredDefinition {
    pub name: String,
    pub version: u32,
    pub source: String,
    pub deployed_at: DateTime<Utc>,
    pub definition: Definition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Deployed {
    New { version: u32 },
    Unchanged { version: u32 },
}

pub(crate) struct Trees {
    pub meta: sled::Tree,
    pub defs: sled::Tree,
    pub instances: sled::Tree,
    pub events: sled::Tree,
    /// Tasks that have left their instance's record (which keeps only the current
    /// step's), in their final state.
    pub tasks: sled::Tree,
    pub by_person: sled::Tree,
    pub by_role: sled::Tree,
    pub by_state: sled::Tree,
    pub by_due: sled::Tree,
    pub by_process: sled::Tree,
    pub timers: sled::Tree,
    pub outbox: sled::Tree,
    pub idempotency: sled::Tree,
    /// Each person's notifications: (person, message id).
    pub inbox: sled::Tree,
    /// Webhook deliveries waiting for their next attempt: (due time, message id).
    pub retries: sled::Tree,
}

impl Trees {
    /// The trees a command's transaction writes, in a fixed order (see `txn`).
    pub fn all(&self) -> [&sled::Tree; 12] {
        [
            &self.instances,
            &self.events,
            &self.tasks,
            &self.by_person,
            &self.by_role,
            &self.by_state,
            &self.by_due,
            &self.by_process,
            &self.timers,
            &self.outbox,
            &self.idempotency,
            &self.meta,
        ]
    }
}

pub struct Store {
    db: sled::Db,
    pub(crate) t: Trees,
    commit: GroupCommit,
    /// Commands waiting to run, in batches (see `batch`).
    batches: batch::Combiner<(txn::Request, bool), Result<Outcome, StoreError>>,
    defs: RwLock<HashMap<(String, u32), Arc<Definition>>>,
    latest: RwLock<BTreeMap<String, u32>>,
    directory: RwLock<Arc<Directory>>,
    pub zone: chrono_tz::Tz,
    pub admin_role: String,
    pub calendar: crate::calendar::Calendar,
    /// Ids for new instances and outbox messages. One process owns the database, so
    /// counters in memory (restored from the last key at open) are enough and keep
    /// ids small and dense for people; an aborted transaction only leaves a gap.
    pub(crate) next_instance: AtomicU64,
    /// The data file, kept open to `fsync` it when `Options::fsync` asks.
    fsync: Option<std::fs::File>,
    pub(crate) next_message: AtomicU64,
}

fn last_u64(tree: &sled::Tree) -> Result<u64, StoreError> {
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            zone: chrono_tz::UTC,
            admin_role: "admin".into(),
            calendar: crate::calendar::CalendarConfig::default(),
            cache_bytes: None,
            fsync: false,
        }
    }
}

/// Make the next open of the database at `path` fast. sled replays, when it opens a
/// database, the log written since it last opened it, and then records a snapshot
/// of its page table; opening it once more at a clean shutdown moves that replay
/// from the next start to this stop. Call it when nothing else has it open.
pub fn checkpoint(path: &Path) -> Result<(), StoreError> {
    let db = sled_config(path, &Options::default()).open()?;
    drop(db);
    Ok(())
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
        let db = sled_config(path, &opts).open()?;
        let t = Trees {
            meta: db.open_tree("meta")?,
            defs: db.open_tree("definitions")?,
            instances: db.open_tree("instances")?,
            events: db.open_tree("events")?,
            tasks: db.open_tree("tasks")?,
            by_person: db.open_tree("tasks_by_person")?,
            by_role: db.open_tree("tasks_by_role")?,
            by_state: db.open_tree("tasks_by_state")?,
            by_due: db.open_tree("tasks_by_due")?,
            by_process: db.open_tree("instances_by_process")?,
            timers: db.open_tree("timers")?,
            outbox: db.open_tree("outbox")?,
            idempotency: db.open_tree("idempotency")?,
            inbox: db.open_tree("inbox")?,
            retries: db.open_tree("delivery_retries")?,
        };
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
                let sd: StoredDefinition = decode(&b)?;
                defs.insert((name.clone(), version), Arc::new(sd.definition));
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
        Ok(Store {
            fsync,
            next_instance,
            next_message,
            db,
            t,
            commit: GroupCommit::new(),
            batches: batch::Combiner::new(),
            defs: RwLock::new(defs),
            latest: RwLock::new(latest),
            directory: RwLock::new(Arc::new(directory)),
            zone: opts.zone,
            admin_role: opts.admin_role,
            calendar,
        })
    }

    /// Block until every change made so far is on disk (shared with concurrent
    /// callers). sled's flush writes its log with `sync_file_range`, which survives a
    /// killed process; see the README for what it does not cover.
    pub fn durable(&self) -> Result<(), StoreError> {
        self.commit
            .wait_durable(|| {
                self.db.flush().map_err(|e| e.to_string())?;
                match &self.fsync {
                    Some(f) => f.sync_data().map_err(|e| e.to_string()),
                    None => Ok(()),
                }
            })
            .map_err(StoreError::Storage)
    }

    pub fn flushes(&self) -> u64 {
        self.commit.flushes()
    }

    pub fn directory(&self) -> Arc<Directory> {
        self.directory
            .read()
            .map(|d| d.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    pub fn set_directory(&self, dir: Directory) -> Result<(), StoreError> {
        self.t.meta.insert("directory", encode(&dir))?;
        self.durable()?;
        *self.directory.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(dir);
        Ok(())
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
        let b = self
            .t
            .defs
            .get(keys::definition(name, version))?
            .ok_or_else(|| Rejection::NotFound(format!("no process `{name}` version {version}")))?;
        let sd: StoredDefinition = decode(&b)?;
        let d = Arc::new(sd.definition);
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
        let b = self
            .t
            .defs
            .get(keys::definition(name, version))?
            .ok_or_else(|| Rejection::NotFound(format!("no process `{name}` version {version}")))?;
        decode(&b)
    }

    /// Check a source and store it as the next version of its process. A source with
    /// errors is refused with its diagnostics and changes nothing; an unchanged source
    /// keeps its version.
    pub fn deploy(
        &self,
        file: &str,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, Deployed), StoreError> {
        self.deploy_with(file, source, now, &BTreeMap::new())
    }

    /// As `deploy`, with the outside view of other processes being deployed together
    /// (so that `start X` can name a process deployed in the same batch).
    pub fn deploy_with(
        &self,
        file: &str,
        source: &str,
        now: DateTime<Utc>,
        batch: &BTreeMap<String, baton_dsl::Signature>,
    ) -> Result<(String, Deployed), StoreError> {
        let dir = self.directory();
        let names = (!dir.people.is_empty()).then(|| dir.names());
        let mut sigs = batch.clone();
        for (name, version) in self.process_names() {
            if sigs.contains_key(&name) {
                continue;
            }
            if let Ok(sd) = self.stored_definition(&name, version) {
                if let Some((n, s)) = baton_dsl::signature(&sd.source) {
                    sigs.insert(n, s);
                }
            }
        }
        if let Some((n, s)) = baton_dsl::signature(source) {
            sigs.insert(n, s);
        }
        let out = baton_dsl::check(
            source,
            &baton_dsl::Context {
                staff: names.as_ref(),
                processes: Some(&sigs),
            },
        );
        let Some(def) = out.definition else {
            return Err(StoreError::Definition(
                out.diagnostics
                    .into_iter()
                    .filter(|d| d.severity == Severity::Error)
                    .map(|d| Located::new(file, source, d))
                    .collect(),
            ));
        };
        let name = def.name.clone();
        let current = self
            .latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name)
            .copied();
        if let Some(v) = current {
            let sd = self.stored_definition(&name, v)?;
            if sd.source == source {
                return Ok((name, Deployed::Unchanged { version: v }));
            }
        }
        let version = current.map_or(1, |v| v + 1);
        let sd = StoredDefinition {
            name: name.clone(),
            version,
            source: source.to_string(),
            deployed_at: now,
            definition: def.clone(),
        };
        let mut latest_key = b"latest\0".to_vec();
        latest_key.extend_from_slice(name.as_bytes());
        let defs = &self.t.defs;
        let meta = &self.t.meta;
        (defs, meta)
            .transaction(|(d, m)| {
                d.insert(keys::definition(&name, version), encode(&sd))?;
                m.insert(latest_key.clone(), &version.to_be_bytes())?;
                Ok::<_, sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| StoreError::Storage(format!("{e:?}")))?;
        self.durable()?;
        self.defs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert((name.clone(), version), Arc::new(def));
        self.latest
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.clone(), version);
        Ok((name, Deployed::New { version }))
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

use sled::Transactional;

impl Store {
    /// Remove a timer key that cannot be applied.
    pub fn drop_timer(
        &self,
        due: DateTime<Utc>,
        instance: InstanceId,
        n: u32,
    ) -> Result<(), StoreError> {
        self.t.timers.remove(keys::timer(due, instance, n))?;
        Ok(())
    }
}
