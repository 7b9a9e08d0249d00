//! Baton's engine: a pure step function (`core`), the sled store at its edge
//! (`store`), the staff directory and the clock.

pub mod calendar;
pub mod clock;
pub mod config;
pub mod core;
pub mod display;
pub mod logins;
pub mod messages;
pub mod overview;
pub mod scheduler;
pub mod staff;
pub mod store;
pub mod team;
pub mod tokens;
pub mod view;

use crate::clock::Clock;
use crate::core::{Command, Event, InstanceId, TaskId, SYSTEM};
use crate::store::prelude::*;
use crate::store::{Deployed, Options, Outcome, Request, Store, StoreError};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The store and the clock together: what the CLI, the server and the scheduler use.
pub struct Engine {
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    /// Woken when a command creates a timer, so the scheduler can sleep until the
    /// earliest one without polling.
    pub wake: Arc<tokio::sync::Notify>,
    pub metrics: Metrics,
    /// Counts the scheduler's passes; tests wait on it instead of on real time.
    pub ticks: tokio::sync::watch::Sender<u64>,
    /// Each definition file's latest refusal, by file: kept until the file deploys
    /// clean or leaves its folder, so that admins see why the running version
    /// stayed without reading the server's log.
    pub refused: Mutex<BTreeMap<String, Refused>>,
}

/// Why a definition file was not deployed, as its last deploy found it.
#[derive(Debug, Clone)]
pub struct Refused {
    pub file: String,
    pub when: chrono::DateTime<chrono::Utc>,
    /// Each diagnostic with its rendering (the source lines it points at).
    pub problems: Vec<(baton_dsl::Located, String)>,
    /// A refusal that is not about the source (the store failed, say).
    pub other: Option<String>,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub instances_started: AtomicU64,
    pub tasks_completed: AtomicU64,
    pub timers_fired: AtomicU64,
    pub deliveries_failed: AtomicU64,
}

/// One file's result in `deploy_dir`.
pub struct DeployReport {
    pub file: String,
    pub result: Result<(String, Deployed), StoreError>,
}

fn start(process: &str, data: serde_json::Map<String, serde_json::Value>) -> Command {
    Command::Start {
        process: process.to_string(),
        data,
    }
}

impl Engine {
    pub fn open(path: &Path, opts: Options, clock: Arc<dyn Clock>) -> Result<Engine, StoreError> {
        let store = Arc::new(Store::open_at(path, opts)?);
        let wake = Arc::new(tokio::sync::Notify::new());
        store.follow_others(wake.clone());
        Ok(Engine {
            store,
            clock,
            wake,
            metrics: Metrics::default(),
            ticks: tokio::sync::watch::Sender::new(0),
            refused: Mutex::new(BTreeMap::new()),
        })
    }

    /// Deploy a folder: `staff.ron` first (if present), then every `.flow` file. A
    /// file with errors is reported and not deployed; the others still are.
    pub fn deploy_dir(&self, dir: &Path) -> Result<Vec<DeployReport>, StoreError> {
        self.deploy_staff(dir)?;
        self.deploy_definitions(dir)
    }

    /// Deploy the folder's staff directory, `staff.ron`: how many people it lists, or
    /// none without the file. A file that cannot be read or parsed is refused with
    /// the reason, and the running directory stays.
    pub fn deploy_staff(&self, dir: &Path) -> Result<Option<usize>, StoreError> {
        let staff = dir.join("staff.ron");
        if !staff.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&staff)
            .map_err(|e| StoreError::Storage(format!("{}: {e}", staff.display())))?;
        let d = staff::Directory::from_ron(&text)
            .map_err(|e| StoreError::Storage(format!("{}: {e}", staff.display())))?;
        let people = d.people.len();
        self.store.set_directory(d)?;
        Ok(Some(people))
    }

    /// Deploy every definition (`.flow`) of a folder, each on its own.
    pub fn deploy_definitions(&self, dir: &Path) -> Result<Vec<DeployReport>, StoreError> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| StoreError::Storage(format!("{}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "flow"))
            .collect();
        files.sort();
        let sources: Vec<(String, String)> = files
            .iter()
            .filter_map(|f| Some((f.display().to_string(), std::fs::read_to_string(f).ok()?)))
            .collect();
        let batch: BTreeMap<String, baton_dsl::Signature> = sources
            .iter()
            .filter_map(|(_, s)| baton_dsl::signature(s))
            .collect();
        let now = self.clock.now();
        let reports: Vec<DeployReport> = sources
            .iter()
            .map(|(file, src)| DeployReport {
                file: file.clone(),
                result: self.store.deploy_with(file, src, now, &batch),
            })
            .collect();
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        // A file gone from the folder has nothing left to fix.
        refused.retain(|f, _| {
            Path::new(f).parent() != Some(dir) || sources.iter().any(|(s, _)| s == f)
        });
        for ((file, src), r) in sources.iter().zip(&reports) {
            match &r.result {
                Ok(_) => {
                    refused.remove(file);
                }
                Err(e) => {
                    let (problems, other) = match e {
                        StoreError::Definition(diags) => (
                            diags.iter().map(|d| (d.clone(), d.render(src))).collect(),
                            None,
                        ),
                        e => (Vec::new(), Some(e.to_string())),
                    };
                    refused.insert(
                        file.clone(),
                        Refused {
                            file: file.clone(),
                            when: now,
                            problems,
                            other,
                        },
                    );
                }
            }
        }
        Ok(reports)
    }

    /// The definition files whose last deploy was refused, by file name.
    pub fn refused_files(&self) -> Vec<Refused> {
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        refused.values().cloned().collect()
    }

    pub fn start(
        &self,
        process: &str,
        data: serde_json::Map<String, serde_json::Value>,
        actor: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError> {
        self.run(None, start(process, data), actor, idempotency_key)
    }

    /// Run a command on an instance, or start one (`target` none), and then count it.
    fn run(
        &self,
        target: Option<InstanceId>,
        cmd: Command,
        actor: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError> {
        let o =
            self.store
                .execute_parked(target, &cmd, actor, self.clock.now(), idempotency_key)?;
        self.after(&o);
        Ok(o)
    }

    /// As `run`, awaiting the answer.
    async fn run_async(
        &self,
        target: Option<InstanceId>,
        cmd: Command,
        actor: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError> {
        let o = self
            .store
            .execute_async(target, &cmd, actor, self.clock.now(), idempotency_key)
            .await?;
        self.after(&o);
        Ok(o)
    }

    /// Log the incidents a command raised: the admins are told in their inboxes,
    /// and whoever watches the log sees them too.
    fn log_incidents(o: &Outcome) {
        for r in &o.records {
            if let Event::IncidentRaised { reason, attempted } = &r.event {
                tracing::warn!(
                    instance = o.instance.id,
                    process = %o.instance.process,
                    "incident: {attempted} was refused: {reason}; an admin must retry, set, move or cancel it"
                );
            }
        }
    }

    /// Count what a command did, and wake the scheduler if it set a timer or
    /// queued a message.
    fn after(&self, o: &Outcome) {
        if o.replayed {
            return;
        }
        Self::log_incidents(o);
        let mut timers = false;
        for r in &o.records {
            match &r.event {
                Event::Started { .. } => {
                    self.metrics
                        .instances_started
                        .fetch_add(1, Ordering::Relaxed);
                }
                Event::TaskCompleted { .. } => {
                    self.metrics.tasks_completed.fetch_add(1, Ordering::Relaxed);
                }
                // A new timer may be the earliest; a new message should go out now;
                // a resolved incident sets its instance's timers again.
                Event::TimerSet { .. }
                | Event::MessageQueued { .. }
                | Event::IncidentResolved { .. } => timers = true,
                _ => {}
            }
        }
        self.metrics
            .instances_started
            .fetch_add(o.children.len() as u64, Ordering::Relaxed);
        if timers || !o.children.is_empty() {
            self.wake.notify_one();
        }
    }

    /// A command on an existing instance (task commands name their instance).
    pub fn act(
        &self,
        instance: InstanceId,
        cmd: Command,
        actor: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError> {
        self.run(Some(instance), cmd, actor, idempotency_key)
    }

    /// As `start`, for async callers (the HTTP API): waits without blocking a
    /// runtime worker.
    pub async fn start_async(
        &self,
        process: &str,
        data: serde_json::Map<String, serde_json::Value>,
        actor: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError> {
        self.run_async(None, start(process, data), actor, idempotency_key)
            .await
    }

    /// As `act`, for async callers.
    pub async fn act_async(
        &self,
        instance: InstanceId,
        cmd: Command,
        actor: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError> {
        self.run_async(Some(instance), cmd, actor, idempotency_key)
            .await
    }

    pub fn claim(&self, task: TaskId, actor: &str) -> Result<Outcome, StoreError> {
        self.act(task.instance, Command::Claim { task }, actor, None)
    }

    pub fn complete(
        &self,
        task: TaskId,
        actor: &str,
        choice: Option<&str>,
        data: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Outcome, StoreError> {
        let cmd = Command::Complete {
            task,
            choice: choice.map(str::to_string),
            data,
        };
        self.act(task.instance, cmd, actor, None)
    }

    /// Fire every timer due by now, earliest first, each applied with the removal of
    /// its key, all or nothing; then make them durable together. Returns how many.
    pub fn fire_due(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut fired = 0;
        // Several nodes on PostgreSQL: each claims the timers it fires.
        while let Some(claimed) = self.store.fire_claimed(now, 256) {
            let claimed = claimed?;
            if claimed.is_empty() {
                break;
            }
            for ((due, instance, n), res) in claimed {
                match res {
                    Ok(o) => Self::log_incidents(&o),
                    Err(StoreError::Rejected(r)) => self.timer_incident(due, instance, n, &r)?,
                    Err(e) => return Err(e),
                }
                fired += 1;
            }
        }
        // Timers another node holds are its to fire.
        while !self.store.is_shared() {
            let batch = self.store.due_timers(now, 1024)?;
            if batch.is_empty() {
                break;
            }
            // The timers share atomic batch writes and flushes, and each still
            // applies or fails on its own.
            let requests = batch
                .iter()
                .map(|&(due, instance, n)| Request {
                    target: Some(instance),
                    command: Command::FireTimer { n, due },
                    actor: SYSTEM.to_string(),
                    now,
                    idempotency_key: None,
                })
                .collect();
            let results = self.store.execute_many_parked(requests);
            for ((due, instance, n), res) in batch.into_iter().zip(results) {
                match res {
                    Ok(o) => Self::log_incidents(&o),
                    // The core makes an incident of a timer that cannot be applied;
                    // whatever it still refuses becomes one here, never dropped.
                    Err(StoreError::Rejected(r)) => self.timer_incident(due, instance, n, &r)?,
                    Err(e) => return Err(e),
                }
                fired += 1;
            }
        }
        self.store.durable()?;
        self.metrics
            .timers_fired
            .fetch_add(fired as u64, Ordering::Relaxed);
        Ok(fired)
    }

    /// A timer the engine refused: its instance becomes an incident with the timer
    /// as the attempt (kept in the instance for a retry). Only a timer its instance
    /// no longer has, or of an instance that is gone, has nothing to keep.
    fn timer_incident(
        &self,
        due: chrono::DateTime<chrono::Utc>,
        instance: InstanceId,
        n: u32,
        r: &core::Rejection,
    ) -> Result<(), StoreError> {
        let timer = match self.store.instance(instance) {
            Ok(i) => i.timers.into_iter().find(|t| t.n == n),
            Err(StoreError::Rejected(_)) => None,
            Err(e) => return Err(e),
        };
        let Some(timer) = timer else {
            tracing::warn!(
                instance,
                timer = n,
                "a timer its instance no longer has: removed"
            );
            return self.store.drop_timer(due, instance, n);
        };
        let cmd = Command::RaiseIncident {
            reason: r.to_string(),
            attempted: core::Attempt::Timer {
                n,
                timer: timer.kind,
            },
        };
        let o = self
            .store
            .execute(Some(instance), &cmd, SYSTEM, self.clock.now(), None)?;
        self.after(&o);
        // Raised, or the instance was not running: either way the key has done its work.
        self.store.drop_timer(due, instance, n)
    }
}
