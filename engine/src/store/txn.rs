//! One command, all or nothing: the instance, its appended events, the task indexes,
//! tasks leaving their instance, the timers, the outbox and the idempotency record.
//! Work that crosses instances (a child started, a parent told that its child ended)
//! belongs to the same command. Commands run in batches (see `batch`), each batch
//! written all or nothing (see `journal`).

use super::batch::{write_changes, How, Overlay, Staged};
use super::kind::Kind;
use super::{decode, encode, keys, pg, Store, StoreError};
use crate::core::fold::fold_task;
use crate::core::{
    self, Attempt, Command, Ctx, Event, Incident, Instance, InstanceId, Message, Record, Rejection,
    Status, Task, TaskId,
};
use crate::staff::Directory;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::IVec;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

// Places in `Trees::all()` (see `kind`).
const INSTANCES: usize = Kind::Instances.slot();
const EVENTS: usize = Kind::Events.slot();
const TASKS: usize = Kind::Tasks.slot();
const BY_PERSON: usize = Kind::ByPerson.slot();
const BY_ROLE: usize = Kind::ByRole.slot();
const ACTIVE: usize = Kind::Active.slot();
const BY_PROCESS: usize = Kind::ByProcess.slot();
const TIMERS: usize = Kind::Timers.slot();
const OUTBOX: usize = Kind::Outbox.slot();
const IDEMPOTENCY: usize = Kind::Idempotency.slot();
const INCIDENTS: usize = Kind::Incidents.slot();
const PARTICIPANTS: usize = Kind::Participants.slot();
const SIGNATURES: usize = Kind::Signatures.slot();
const FIGURES: usize = Kind::Figures.slot();
const META: usize = Kind::Meta.slot();
/// The key whose lock orders message ids (see `write`).
const MESSAGE_IDS: &[u8] = b"message-ids";

/// The result of a command, as returned to the caller (and to a retry with the same
/// idempotency key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub instance: Instance,
    /// The events this command appended to the instance's history.
    pub records: Vec<Record>,
    /// Child instances started by this command.
    pub children: Vec<InstanceId>,
    /// True when this is the stored answer to an earlier request with the same key.
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Delivery {
    Pending,
    Sent,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxRecord {
    pub id: u64,
    pub instance: InstanceId,
    #[serde(with = "crate::core::time")]
    pub at: DateTime<Utc>,
    pub message: Message,
    /// Overall: failed if any webhook failed for good, pending while any is still
    /// trying, else sent.
    pub state: Delivery,
    /// Each webhook the message goes to, with its own state and attempts.
    pub webhooks: Vec<WebhookDelivery>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub url: String,
    pub state: Delivery,
    pub attempts: u32,
}

/// The spaces a task has entries in, in the order `index_keys` gives them.
const INDEXES: [usize; 4] = [BY_PERSON, BY_ROLE, ACTIVE, TASKS];
/// Which of `INDEXES` hold a copy of the task as their value.
const CARRIES_TASK: [bool; 4] = [true, true, false, true];

/// A task's entries, per space of `INDEXES`. While it is open or claimed: who sees
/// it, and its (state, due time). Once finished: its record under (state, task),
/// which is also the index of finished tasks by state.
pub(super) fn index_keys(t: &Task) -> [BTreeSet<Vec<u8>>; 4] {
    let mut out: [BTreeSet<Vec<u8>>; 4] = Default::default();
    if t.state.is_active() {
        match &t.assignee {
            Some(a) => {
                out[0].insert(keys::named_task(a, t.id));
            }
            None => {
                out[0].extend(
                    t.candidates
                        .people
                        .iter()
                        .map(|p| keys::named_task(p, t.id)),
                );
                out[1].extend(t.candidates.roles.iter().map(|r| keys::named_task(r, t.id)));
            }
        }
        out[2].insert(keys::active_task(t.state, t.due, t.id).to_vec());
    } else {
        out[3].insert(keys::state_task(t.state, t.id).to_vec());
    }
    out
}

/// The spaces a command may write: all of them (`Trees::all`).
const WRITTEN: usize = Kind::COUNT;

type Ov<'a> = Overlay<'a, WRITTEN>;

/// A batch whose commands have run: their answers, and their changes waiting to be
/// written (none when the store closed before the batch could run).
struct Ran {
    outs: Vec<Result<Outcome, StoreError>>,
    staged: Option<Staged<WRITTEN>>,
    flush: bool,
    /// The store's epoch when the batch began (see `health`).
    epoch: u64,
    /// Already committed (PostgreSQL): nothing left to write.
    committed: bool,
}

/// One command as the batch runs it.
pub struct Request {
    /// The instance, or `None` to start a new one (`Command::Start`).
    pub target: Option<InstanceId>,
    pub command: Command,
    pub actor: String,
    pub now: DateTime<Utc>,
    pub idempotency_key: Option<String>,
}

impl Request {
    pub fn new(
        target: Option<InstanceId>,
        cmd: &Command,
        actor: &str,
        now: DateTime<Utc>,
        idempotency_key: Option<&str>,
    ) -> Request {
        Request {
            target,
            command: cmd.clone(),
            actor: actor.to_string(),
            now,
            idempotency_key: idempotency_key.map(str::to_string),
        }
    }
}

/// Threads that run async callers' batches: one applies a batch while the other
/// writes and flushes the one before. A third measured slower on two cores.
const HELPERS: usize = 2;

/// What a caller of one command gets if its list of answers came back empty, which
/// the batch queue never does.
fn no_answer() -> Result<Outcome, StoreError> {
    Err(StoreError::Storage("no answer".into()))
}

/// The answer to a command whose batch panicked.
fn failed() -> Result<Outcome, StoreError> {
    Err(StoreError::Storage(
        "internal error while running a command".into(),
    ))
}

/// The store's implementation of `Commands` (see `traits`).
impl super::traits::Commands for Store {
    /// Run one command. `target` is the instance, or `None` to start a new one
    /// (`Command::Start`). Returns once the change is durable.
    fn execute(
        &self,
        target: Option<InstanceId>,
        cmd: &Command,
        actor: &str,
        now: DateTime<Utc>,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError> {
        let req = Request::new(target, cmd, actor, now, idempotency_key);
        self.submit(vec![req], true).pop().unwrap_or_else(no_answer)
    }

    /// The command applied and visible, without waiting for the disk. For callers
    /// that run many commands and then make them durable together.
    fn execute_unflushed(
        &self,
        target: Option<InstanceId>,
        cmd: &Command,
        actor: &str,
        now: DateTime<Utc>,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError> {
        let req = Request::new(target, cmd, actor, now, idempotency_key);
        self.submit(vec![req], false)
            .pop()
            .unwrap_or_else(no_answer)
    }

    /// Several commands, answered in order, each applied or refused on its own, and
    /// answered once durable. The scheduler fires its timers so.
    fn execute_many(&self, requests: Vec<Request>) -> Vec<Result<Outcome, StoreError>> {
        self.submit(requests, true)
    }

    /// As `execute_many`, without waiting for the disk (call `durable` after).
    fn execute_many_unflushed(&self, requests: Vec<Request>) -> Vec<Result<Outcome, StoreError>> {
        self.submit(requests, false)
    }

    /// As `execute`, for a task on an async runtime: it waits for its answer without
    /// blocking a worker thread, while helper threads run the batches.
    async fn execute_async(
        self: &Arc<Self>,
        target: Option<InstanceId>,
        cmd: &Command,
        actor: &str,
        now: DateTime<Utc>,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError> {
        self.start_helpers();
        let req = Request::new(target, cmd, actor, now, idempotency_key);
        self.batches
            .run_async(vec![(req, true)], failed)
            .await
            .pop()
            .unwrap_or_else(no_answer)
    }

    /// As `execute`, leaving the batch to the helper threads (as `execute_async`
    /// does) instead of running it on the calling thread: cheaper when many threads
    /// call at once, as it wakes no other caller to run the next batch.
    fn execute_parked(
        self: &Arc<Self>,
        target: Option<InstanceId>,
        cmd: &Command,
        actor: &str,
        now: DateTime<Utc>,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError> {
        let req = Request::new(target, cmd, actor, now, idempotency_key);
        self.execute_many_parked(vec![req])
            .pop()
            .unwrap_or_else(no_answer)
    }

    /// As `execute_many`, leaving the batches to the helper threads: a long list
    /// runs as several batches, and each is written while the next one runs.
    fn execute_many_parked(
        self: &Arc<Self>,
        requests: Vec<Request>,
    ) -> Vec<Result<Outcome, StoreError>> {
        self.start_helpers();
        self.batches
            .run_parked(requests.into_iter().map(|r| (r, true)).collect(), failed)
    }
}

impl Store {
    /// Two helper threads run the batches of async callers: one applies a batch
    /// while the other waits for the disk with the one before. They hold the store
    /// only while they apply or flush a batch, never while they answer or wait, so
    /// that it closes (and its database can be opened again) once it is dropped.
    fn start_helpers(self: &Arc<Self>) {
        self.helpers.get_or_init(|| {
            for i in 0..HELPERS {
                let store = Arc::downgrade(self);
                let batches = self.batches.clone();
                let leads = batches.leads();
                let spawned = std::thread::Builder::new()
                    .name(format!("baton-batch-{i}"))
                    .spawn(move || loop {
                        if leads.wait(Duration::from_millis(500)) {
                            batches.lead(
                                &|work| match store.upgrade() {
                                    Some(s) => s.exec(work),
                                    None => Ran {
                                        outs: work.iter().map(|_| failed()).collect(),
                                        staged: None,
                                        flush: false,
                                        epoch: 0,
                                        committed: false,
                                    },
                                },
                                &|p| match store.upgrade() {
                                    Some(s) => s.settle(p),
                                    None => p.outs.into_iter().map(|_| failed()).collect(),
                                },
                                &failed,
                            );
                        } else if store.strong_count() == 0 {
                            return;
                        }
                    });
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "cannot start a batch thread");
                }
            }
        });
    }

    /// Run commands in the next batch; with `durable`, answer only once the batch
    /// is on disk (a replayed answer too: its first run may still be on its way).
    fn submit(&self, requests: Vec<Request>, durable: bool) -> Vec<Result<Outcome, StoreError>> {
        self.batches.run(
            requests.into_iter().map(|r| (r, durable)).collect(),
            |work| self.exec(work),
            |p| self.settle(p),
            failed,
        )
    }

    /// Run a batch's commands and stage its changes. The next batch may run as soon
    /// as this returns, while `settle` writes this one.
    fn exec(&self, work: Vec<(Request, bool)>) -> Ran {
        if let Some(pg) = &self.pg {
            return Ran {
                outs: pg::off_runtime(|| self.run_pg(pg, &work)),
                staged: None,
                flush: false,
                epoch: 0,
                committed: true,
            };
        }
        let flush = work.iter().any(|(_, d)| *d);
        let epoch = self.epoch();
        let dir = self.directory();
        let check = |process: &str, data: &core::Data, parent, starter: &str, now| {
            self.check_child(&dir, process, data, parent, starter, now, 0)
        };
        let ctx = self.ctx(&dir, &check);
        let mut ov: Ov<'_> = Overlay::new(self.t.all(), self.pipeline.below(epoch));
        let mut outs = Vec::with_capacity(work.len());
        for (req, _) in &work {
            // One batch runs at a time, so nothing else takes an id meanwhile: a
            // refused command (invalid data, a `require` that fails) gives back the
            // ids it took, and instance ids count only the starts that happened.
            let ids = self.next_instance.mark();
            let res = self.run_one(&mut ov, req, &ctx);
            match &res {
                Ok(_) => ov.keep(),
                Err(_) => {
                    ov.discard();
                    self.next_instance.give_back(ids);
                }
            }
            outs.push(res);
        }
        Ran {
            outs,
            staged: Some(self.pipeline.stage(ov.finish(), epoch)),
            flush,
            epoch,
            committed: false,
        }
    }

    /// Write a batch's changes (after those of the batches before it), make them
    /// durable when a caller waits for that, and give its answers.
    fn settle(&self, ran: Ran) -> Vec<Result<Outcome, StoreError>> {
        let Ran {
            outs,
            staged,
            flush,
            epoch,
            committed,
        } = ran;
        if committed {
            if outs.iter().any(Result::is_ok) {
                self.changed.send_modify(|n| *n += 1);
            }
            return outs;
        }
        // With `fsync`, the batch is made durable before its journal is removed (see
        // `journal`); then it needs no other flush.
        let written = match staged {
            Some(staged) => self.pipeline.write(staged, |seq, c| {
                // Once every key of the batch is in sled, a flush's mark may claim its
                // ids (see `ack::Acks::written`): raised before the barrier's flush,
                // whose mark must claim them, and again after the write for the
                // group flushes of batches without one.
                let ids = (last_id(&c[INSTANCES]), last_id(&c[OUTBOX]));
                let raise = || {
                    if let Some(a) = &self.acks {
                        a.written(ids.0, ids.1)
                    }
                };
                let durable = || {
                    raise();
                    self.durable_since(epoch)
                };
                let barrier = self
                    .fsync
                    .as_ref()
                    .map(|_| &durable as super::journal::Barrier<'_>);
                self.t.write_batch(|w| {
                    let cut = self.t.take_cut();
                    let whole = cut.is_none();
                    let how = How { barrier, cut };
                    let made_durable = write_changes(
                        w,
                        self.t.shared(),
                        self.t.all(),
                        &self.t.journal,
                        seq,
                        c,
                        how,
                    )?;
                    if whole {
                        raise();
                    }
                    Ok(made_durable)
                })
            }),
            None => Err(StoreError::Storage("the store is closed".into())),
        };
        let done = written.and_then(|made_durable| {
            if flush && !made_durable && outs.iter().any(Result::is_ok) {
                self.durable_since(epoch)
            } else {
                Ok(())
            }
        });
        match done {
            Ok(()) => {
                if outs.iter().any(Result::is_ok) {
                    self.changed.send_modify(|n| *n += 1);
                }
                outs
            }
            Err(e) => {
                // A failed write or flush broke the store: its commands are refused as
                // every later one is, `Broken` with the first failure's reason, for
                // callers that answer it apart (HTTP 503: outcome unknown, see
                // `recover`).
                let e = match self.broken() {
                    Some(why) => StoreError::Broken(why),
                    None => e,
                };
                // Every command of the batch fails the same way.
                let again = || match &e {
                    StoreError::Broken(why) => StoreError::Broken(why.clone()),
                    StoreError::Storage(m) => StoreError::Storage(m.clone()),
                    e => StoreError::Storage(e.to_string()),
                };
                outs.into_iter()
                    .map(|o| o.and_then(|_| Err(again())))
                    .collect()
            }
        }
    }

    /// Run a batch of commands in one PostgreSQL transaction (see `pg`), again from
    /// the start when it deadlocked with another node's; answered once committed.
    fn run_pg(&self, pg: &pg::Pg, work: &[(Request, bool)]) -> Vec<Result<Outcome, StoreError>> {
        let mut tries = 0;
        loop {
            let mut conn = match pg.conn() {
                Ok(c) => c,
                Err(e) => {
                    let m = e.to_string();
                    return work
                        .iter()
                        .map(|_| Err(StoreError::Unavailable(m.clone())))
                        .collect();
                }
            };
            let res = conn
                .begin()
                .and_then(|_| self.in_pg_transaction(&mut conn, work))
                .and_then(|outs| {
                    conn.commit()?;
                    Ok(outs)
                });
            match res {
                Ok(outs) => return outs,
                Err(e) => {
                    if !conn.rollback() {
                        conn.discard();
                    }
                    drop(conn);
                    tries += 1;
                    if pg::retryable(&e) && tries < 20 {
                        continue;
                    }
                    let m = pg::error(e).to_string();
                    return work
                        .iter()
                        .map(|_| Err(StoreError::Unavailable(m.clone())))
                        .collect();
                }
            }
        }
    }

    /// With PostgreSQL: claim up to `limit` timers due by `now` that no other node
    /// holds (`FOR UPDATE SKIP LOCKED`) and fire them, in the same transaction, so
    /// that every node fires timers at once and each timer once. Empty when none is
    /// left to claim; `None` on sled, whose scheduler fires its timers itself.
    #[allow(clippy::type_complexity)]
    pub fn fire_claimed(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Option<
        Result<
            Vec<(
                (DateTime<Utc>, InstanceId, u32),
                Result<Outcome, StoreError>,
            )>,
            StoreError,
        >,
    > {
        let pg = self.pg.as_ref()?;
        let space = &self.t[super::kind::Kind::Timers];
        let lo = space.key(&[]);
        let mut end = keys::millis(now).to_vec();
        end.push(0xff);
        let hi = space.key(&end);
        Some(pg::off_runtime(|| {
            let mut tries = 0;
            loop {
                let mut conn = pg.conn()?;
                let mut claimed = Vec::new();
                let res = conn
                    .begin()
                    .and_then(|_| {
                        let rows = conn.query(
                            "SELECT k FROM baton_records WHERE k >= $1 AND k < $2 \
                             ORDER BY k LIMIT $3 FOR UPDATE SKIP LOCKED",
                            &[&lo, &hi, &(limit as i64)],
                        )?;
                        claimed = rows
                            .iter()
                            .filter_map(|r| {
                                let k: Vec<u8> = r.get(0);
                                keys::timer_from(&k[1..])
                            })
                            .collect();
                        let work: Vec<(Request, bool)> = claimed
                            .iter()
                            .map(|&(due, instance, n)| {
                                let cmd = Command::FireTimer { n, due };
                                (
                                    Request::new(Some(instance), &cmd, core::SYSTEM, now, None),
                                    true,
                                )
                            })
                            .collect();
                        self.in_pg_transaction(&mut conn, &work)
                    })
                    .and_then(|outs| {
                        conn.commit()?;
                        Ok(outs)
                    });
                match res {
                    Ok(outs) => {
                        if outs.iter().any(Result::is_ok) {
                            self.changed.send_modify(|n| *n += 1);
                        }
                        return Ok(claimed.into_iter().zip(outs).collect());
                    }
                    Err(e) => {
                        if !conn.rollback() {
                            conn.discard();
                        }
                        drop(conn);
                        tries += 1;
                        if !(pg::retryable(&e) && tries < 20) {
                            return Err(pg::error(e));
                        }
                    }
                }
            }
        }))
    }

    /// The commands of a batch in the open transaction: each reads through its
    /// overlay from the database, locking what it reads (`Session::get_locked`),
    /// and the changes of those that succeeded are written at the end. An error of
    /// the database itself ends the whole batch (the transaction is lost).
    fn in_pg_transaction(
        &self,
        conn: &mut pg::Session,
        work: &[(Request, bool)],
    ) -> Result<Vec<Result<Outcome, StoreError>>, postgres::Error> {
        let dir = self.directory();
        let check = |process: &str, data: &core::Data, parent, starter: &str, now| {
            self.check_child(&dir, process, data, parent, starter, now, 0)
        };
        let ctx = self.ctx(&dir, &check);
        let spaces = self.t.all();
        let session = std::cell::RefCell::new(conn);
        let failed: std::cell::RefCell<Option<postgres::Error>> = Default::default();
        let read = |tree: usize, key: &[u8]| -> Result<Option<IVec>, StoreError> {
            let k = spaces[tree].key(key);
            match session.borrow_mut().get_locked(&k) {
                Ok(v) => Ok(v.map(IVec::from)),
                Err(e) => {
                    let m = e.to_string();
                    *failed.borrow_mut() = Some(e);
                    Err(StoreError::Unavailable(m))
                }
            }
        };
        let mut ov: Ov<'_> = Overlay::new(spaces, Vec::new()).reading(&read);
        let mut outs = Vec::with_capacity(work.len());
        for (req, _) in work {
            let ids = self.next_instance.mark();
            let res = self.run_one(&mut ov, req, &ctx);
            if let Some(e) = failed.borrow_mut().take() {
                return Err(e);
            }
            match &res {
                Ok(_) => ov.keep(),
                Err(_) => {
                    ov.discard();
                    self.next_instance.give_back(ids);
                }
            }
            outs.push(res);
        }
        let changes = ov.finish();
        let timers = changes[TIMERS].values().any(Option::is_some);
        let mut s = session.borrow_mut();
        s.write(
            spaces
                .iter()
                .zip(changes.iter())
                .flat_map(|(space, layer)| layer.iter().map(|(k, v)| (space.key(k), v.as_deref()))),
        )?;
        if outs.iter().any(Result::is_ok) {
            // Delivered at commit: other nodes' pages follow, and their schedulers
            // look again for the earliest timer.
            s.notify(if timers { "timer" } else { "change" })?;
        }
        Ok(outs)
    }

    /// One command and the work it causes across instances (a child started, a
    /// parent told that its child ended), all or nothing.
    fn run_one(
        &self,
        ov: &mut Ov<'_>,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Result<Outcome, StoreError> {
        // Idempotency keys belong to the person who sent them.
        let idem = req.idempotency_key.as_deref().map(|k| {
            let mut key = keys::name_prefix(&req.actor);
            key.extend_from_slice(k.as_bytes());
            key
        });
        let print = idem.as_ref().map(|_| fingerprint(req));
        if let (Some(k), Some(print)) = (&idem, &print) {
            if let Some(b) = ov.get(IDEMPOTENCY, k)? {
                // Answers stored before fingerprints were kept have none: they are
                // replayed as they always were.
                if let Some(first) = ov.get(IDEMPOTENCY, fingerprint_key(k))? {
                    if first.as_ref() != print.as_slice() {
                        return Err(Rejection::KeyReused(format!(
                            "the Idempotency-Key `{}` was sent before with a different request; use a new key for a new request",
                            req.idempotency_key.as_deref().unwrap_or_default()
                        ))
                        .into());
                    }
                }
                let mut o: Outcome = decode(&b)?;
                o.replayed = true;
                return Ok(o);
            }
        }
        let now = req.now;
        // An admin resolving an incident gets every refusal as the answer; otherwise
        // a child that cannot be started makes its parent an incident.
        let resolving = matches!(req.command, Command::Retry { .. } | Command::Move { .. });
        let mut queue: VecDeque<Queued> = VecDeque::from([Queued {
            target: req.target,
            command: req.command.clone(),
            actor: req.actor.clone(),
            on_refusal: None,
        }]);
        let mut first: Option<Outcome> = None;
        while let Some(q) = queue.pop_front() {
            let Queued {
                target: id,
                command: mut cmd,
                actor: who,
                on_refusal,
            } = q;
            let ids = self.next_instance.mark();
            let loaded = self.load(ov, id, &cmd).and_then(|(id, old, version, def)| {
                if let Command::Retry { attempted, .. } = &mut cmd {
                    // What to try again is the open incident's attempt.
                    if let Some(b) = ov.get(INCIDENTS, keys::instance(id))? {
                        let inc: Incident = decode(&b)?;
                        *attempted = Some(inc.attempted);
                    }
                }
                let version = old.as_ref().map_or(version, |i: &Instance| i.version);
                let applied = core::apply(&def, version, old.as_ref(), id, &cmd, &who, now, ctx)?;
                Ok((id, old, applied, def))
            });
            let (id, old, mut applied, def) = match (loaded, on_refusal) {
                (Ok(x), _) => x,
                (Err(StoreError::Rejected(r)), Some((parent, attempted))) if !resolving => {
                    // Nothing of the refused command was written; its id goes back.
                    self.next_instance.give_back(ids);
                    queue.push_front(Queued {
                        target: Some(parent),
                        command: Command::RaiseIncident {
                            reason: r.to_string(),
                            attempted,
                        },
                        actor: core::SYSTEM.to_string(),
                        on_refusal: None,
                    });
                    continue;
                }
                (Err(e), _) => return Err(e),
            };
            let records = write(
                ov,
                old.as_ref(),
                &applied.instance,
                std::mem::take(&mut applied.events),
                &who,
                now,
                &self.next_message,
                ctx,
                &def.counted_by,
            )?;
            if let Command::FireTimer { n, due } = &cmd {
                // Gone from the instance already (it moved on): drop the key too.
                ov.remove(TIMERS, keys::timer(*due, id, *n));
            }
            for eff in &applied.effects {
                match eff {
                    core::Effect::StartChild {
                        step,
                        process,
                        data,
                        parent,
                        starter,
                    } => queue.push_back(Queued {
                        target: None,
                        command: Command::StartChild {
                            process: process.clone(),
                            data: data.clone(),
                            parent: *parent,
                            starter: starter.clone(),
                        },
                        actor: core::SYSTEM.to_string(),
                        on_refusal: Some((
                            *parent,
                            Attempt::StartChild {
                                step: step.clone(),
                                process: process.clone(),
                            },
                        )),
                    }),
                    // The core turns a parent that cannot go on into an incident itself.
                    core::Effect::ChildEnded {
                        parent,
                        child,
                        outcome,
                        outputs,
                    } => queue.push_back(Queued {
                        target: Some(*parent),
                        command: Command::ChildEnded {
                            child: *child,
                            outcome: outcome.clone(),
                            outputs: outputs.clone(),
                        },
                        actor: core::SYSTEM.to_string(),
                        on_refusal: None,
                    }),
                }
            }
            match &mut first {
                None => {
                    first = Some(Outcome {
                        instance: applied.instance,
                        records,
                        children: Vec::new(),
                        replayed: false,
                    })
                }
                Some(o) => {
                    if matches!(cmd, Command::StartChild { parent, .. } if parent == o.instance.id)
                    {
                        o.children.push(id);
                    }
                    // The instance asked about changed again (a child ended, or it
                    // became an incident): answer with its state at the end.
                    if id == o.instance.id {
                        o.instance = applied.instance;
                        o.records.extend(records);
                    }
                }
            }
        }
        let outcome = first.ok_or_else(|| StoreError::Storage("no command ran".into()))?;
        if let (Some(k), Some(print)) = (&idem, print) {
            ov.insert(IDEMPOTENCY, k.as_slice(), encode(&outcome));
            ov.insert(IDEMPOTENCY, fingerprint_key(k).as_slice(), print.to_vec());
        }
        Ok(outcome)
    }

    /// The core's view of the store: the directory, the zone, the calendar and
    /// whether a child would start.
    fn ctx<'a>(&'a self, dir: &'a Directory, check: &'a core::ChildCheck<'a>) -> Ctx<'a> {
        Ctx {
            directory: dir,
            zone: self.zone,
            admin_role: &self.admin_role,
            calendar: &self.calendar,
            owners: &self.owners,
            child_check: Some(check),
            language: self.language,
        }
    }

    /// Would `process` start as `parent`'s child with `data` now? Its own children
    /// are asked in turn (a few levels deep; processes that start each other
    /// without end are refused by the checker). Nothing is written.
    #[allow(clippy::too_many_arguments)]
    fn check_child(
        &self,
        dir: &Directory,
        process: &str,
        data: &core::Data,
        parent: InstanceId,
        starter: &str,
        now: DateTime<Utc>,
        depth: usize,
    ) -> Result<(), Rejection> {
        if depth > 8 {
            return Ok(());
        }
        let (version, def) = self.latest(process).map_err(|e| match e {
            StoreError::Rejected(r) => r,
            other => Rejection::Stuck(other.to_string()),
        })?;
        let check = |p: &str, d: &core::Data, par, st: &str, n| {
            self.check_child(dir, p, d, par, st, n, depth + 1)
        };
        let ctx = self.ctx(dir, &check);
        let cmd = Command::StartChild {
            process: process.to_string(),
            data: data.clone(),
            parent,
            starter: starter.to_string(),
        };
        core::apply(
            &def,
            version,
            None,
            InstanceId::MAX,
            &cmd,
            core::SYSTEM,
            now,
            &ctx,
        )
        .map(|_| ())
    }

    /// The instance a command is for (a new id for a start), as this batch sees it,
    /// with its definition.
    fn load(
        &self,
        ov: &Ov<'_>,
        target: Option<InstanceId>,
        cmd: &Command,
    ) -> Result<Loaded, StoreError> {
        Ok(match (target, cmd) {
            (None, Command::Start { process, .. } | Command::StartChild { process, .. }) => {
                let (v, def) = self.latest(process)?;
                (self.next_instance.next()?, None, v, def)
            }
            (None, _) => return Err(Rejection::NotFound("no instance given".into()).into()),
            (Some(id), _) => {
                let b = ov
                    .get(INSTANCES, keys::instance(id))?
                    .ok_or_else(|| Rejection::NotFound(format!("no instance {id}")))?;
                let inst: Instance = decode(&b)?;
                let def = self.definition(&inst.process, inst.version)?;
                (id, Some(inst), 0, def)
            }
        })
    }
}

/// The largest id among a layer's keys that the batch writes (instances and
/// messages are keyed by their id).
fn last_id(layer: &super::batch::Layer) -> Option<u64> {
    layer
        .iter()
        .filter(|(_, v)| v.is_some())
        .filter_map(|(k, _)| k.get(..8)?.try_into().ok().map(u64::from_be_bytes))
        .max()
}

/// An instance (none for a start), its definition's version and the definition.
type Loaded = (
    InstanceId,
    Option<Instance>,
    u32,
    Arc<baton_dsl::model::Definition>,
);

/// A command of a request: the one asked for, or work it caused across instances.
struct Queued {
    target: Option<InstanceId>,
    command: Command,
    actor: String,
    /// If it is refused: the instance that becomes an incident instead, and what
    /// it attempted (a child that cannot be started). `None`: the refusal is the
    /// request's answer.
    on_refusal: Option<(InstanceId, Attempt)>,
}

/// What a retry must repeat to be answered with the first answer: the instance and
/// the command with its data (JSON objects are sorted maps, so the order in which
/// a client wrote the members does not count). SHA-256, stable across versions.
fn fingerprint(req: &Request) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let body = serde_json::to_vec(&(req.target, &req.command)).unwrap_or_default();
    Sha256::digest(body).into()
}

/// Where a key's fingerprint is kept: beside its answer, in the same space, under the
/// key followed by 0xFF. Keys are UTF-8, which never holds that byte, so no key's
/// answer can sit there; the stored answers keep their layout.
fn fingerprint_key(k: &[u8]) -> Vec<u8> {
    let mut f = k.to_vec();
    f.push(0xff);
    f
}

/// Write what one applied command changed. Task records and timers are updated from
/// the events, so an index never disagrees with the record it points to.
#[allow(clippy::too_many_arguments)]
fn write(
    ov: &mut Ov<'_>,
    old: Option<&Instance>,
    new: &Instance,
    events: Vec<Event>,
    actor: &str,
    now: DateTime<Utc>,
    message_ids: &super::ids::Ids,
    ctx: &Ctx<'_>,
    counted_by: &[String],
) -> Result<Vec<Record>, StoreError> {
    let base = old.map_or(0, |o| o.seq);
    // An incident is Baton's own act, even inside a person's command (the route
    // after their task): it and what follows it are recorded as Baton's.
    let raised = events
        .iter()
        .position(|e| matches!(e, Event::IncidentRaised { .. }))
        .unwrap_or(events.len());
    // The events move into their records (the command's answer holds them), and
    // are read from there below.
    let records: Vec<Record> = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| Record {
            seq: base + i as u64,
            at: now,
            actor: if i < raised { actor } else { core::SYSTEM }.to_string(),
            event,
        })
        .collect();
    let events = || records.iter().map(|r| &r.event);
    // One key per command, holding all its events: a new key is what costs most in
    // sled, and a command's events are always read together.
    if let Some(first) = records.first() {
        ov.insert(EVENTS, keys::event(new.id, first.seq), encode(&records));
    }
    ov.insert(INSTANCES, keys::instance(new.id), encode(new));
    // Who takes part: written once per person or role, so most commands (whose
    // actor is already there) add nothing.
    for k in super::participants::of_history(new.id, &new.starter, &records) {
        if ov.get(PARTICIPANTS, &k)?.is_none() {
            ov.insert(PARTICIPANTS, k, IVec::default());
        }
    }
    for (k, rec) in super::signatures::of_records(new.id, old, &records) {
        ov.insert(SIGNATURES, k, encode(&rec));
    }
    // The managers' figures: most commands (a claim, a completion mid-way) count
    // nothing and read nothing here.
    let counted = super::figures::Counted {
        fields: counted_by,
        before: old.map(|o| &o.data),
        after: &new.data,
    };
    for (k, f) in super::figures::of_command(
        &new.process,
        &new.starter,
        new.started_at,
        &records,
        counted,
        ctx.directory,
        |k| ov.get(FIGURES, k)?.map(|v| decode(&v)).transpose(),
    )? {
        ov.insert(FIGURES, k, encode(&f));
    }
    let old_status = old.map(|o| o.status.as_str());
    if old_status != Some(new.status.as_str()) {
        if let Some(o) = old {
            ov.remove(
                BY_PROCESS,
                keys::process_status(&o.process, o.status.as_str(), o.id),
            );
        }
        ov.insert(
            BY_PROCESS,
            keys::process_status(&new.process, new.status.as_str(), new.id),
            &[],
        );
    }

    // Tasks: the records as they were, then this command's events on top.
    // Each task this command touched: as it was (none if it created it) and is now.
    // As it was is borrowed from the old instance: only the new one is a copy.
    let mut tasks: BTreeMap<TaskId, (Option<&Task>, Task)> = BTreeMap::new();
    for e in events() {
        let id = match e {
            Event::TaskCreated { task } => {
                tasks.insert(task.id, (None, task.clone()));
                continue;
            }
            Event::TaskClaimed { task, .. }
            | Event::TaskDue { task, .. }
            | Event::TaskReleased { task }
            | Event::TaskCompleted { task, .. }
            | Event::TaskReassigned { task, .. }
            | Event::TaskCancelled { task } => Some(*task),
            Event::DeadlineExtended { limit: None, .. } => None,
            _ => continue,
        };
        let ids: Vec<TaskId> = match id {
            Some(id) => vec![id],
            None => new.active_tasks().map(|t| t.id).collect(),
        };
        for id in ids {
            if let std::collections::btree_map::Entry::Vacant(v) = tasks.entry(id) {
                // Only open and claimed tasks change, and those are in the instance.
                if let Some(t) = old.and_then(|o| o.task(id)) {
                    v.insert((Some(t), t.clone()));
                }
            }
            if let Some((_, t)) = tasks.get_mut(&id) {
                fold_task(t, e);
            }
        }
    }
    // Only the index entries that differ are written. "My tasks" is the question
    // asked most: the person and role entries carry the task itself, so answering it
    // is one range read; they are rewritten whenever the task changes.
    for (before, after) in tasks.values() {
        let mut gone = before.map(index_keys).unwrap_or_default();
        let mut added = index_keys(after);
        let changed = *before != Some(after);
        for (tree, (g, a)) in gone.iter_mut().zip(added.iter_mut()).enumerate() {
            let same: Vec<Vec<u8>> = g.intersection(a).cloned().collect();
            for k in same {
                g.remove(&k);
                if !(changed && CARRIES_TASK[tree]) {
                    a.remove(&k);
                }
            }
        }
        for (tree, ks) in INDEXES.iter().zip(gone) {
            for k in ks {
                ov.remove(*tree, k);
            }
        }
        let record = IVec::from(encode(after));
        for (i, (tree, ks)) in INDEXES.iter().zip(added).enumerate() {
            for k in ks {
                let value = if CARRIES_TASK[i] {
                    record.clone()
                } else {
                    IVec::default()
                };
                ov.insert(*tree, k, value);
            }
        }
    }
    // A task that leaves its instance (which keeps only its current step's tasks)
    // has finished, so its record is already under `TASKS` (see `index_keys`).

    // Timers, keyed by due time; a cancelled or fired one is found by its due time.
    let mut due_of: BTreeMap<u32, DateTime<Utc>> = old
        .map(|o| o.timers.iter().map(|t| (t.n, t.due)).collect())
        .unwrap_or_default();
    for e in events() {
        match e {
            Event::TimerSet { timer } => {
                due_of.insert(timer.n, timer.due);
                ov.insert(
                    TIMERS,
                    keys::timer(timer.due, new.id, timer.n),
                    IVec::default(),
                );
            }
            Event::TimerCancelled { n } | Event::TimerFired { n } => {
                if let Some(due) = due_of.get(n) {
                    ov.remove(TIMERS, keys::timer(*due, new.id, *n));
                }
            }
            Event::IncidentRaised { reason, attempted } => {
                let rec = Incident {
                    instance: new.id,
                    process: new.process.clone(),
                    at: now,
                    reason: reason.clone(),
                    attempted: attempted.clone(),
                };
                ov.insert(INCIDENTS, keys::instance(new.id), encode(&rec));
            }
            Event::IncidentResolved { .. } => ov.remove(INCIDENTS, keys::instance(new.id)),
            Event::MessageQueued { message } => {
                // Messages are handed on in the order of their ids, past a cursor
                // (see `outbox`), so an id must never become visible after a larger
                // one. With several nodes that means taking message ids one
                // transaction at a time: reading this key locks it until commit on
                // PostgreSQL (`Session::get_locked`); on sled, where one batch runs
                // at a time, it is a read of a key nobody writes.
                ov.get(META, MESSAGE_IDS)?;
                let id = message_ids.next()?;
                let rec = OutboxRecord {
                    id,
                    instance: new.id,
                    at: now,
                    message: message.clone(),
                    state: Delivery::Pending,
                    webhooks: Vec::new(),
                };
                ov.insert(OUTBOX, id.to_be_bytes(), encode(&rec));
            }
            _ => {}
        }
    }
    // An instance with an incident keeps its timers in its record, not in the
    // scheduler's queue: they fire only once it is resolved (due ones at once).
    let was_incident = old.is_some_and(|o| o.status == Status::Incident);
    if new.status == Status::Incident {
        for t in old.iter().flat_map(|o| o.timers.iter()).chain(&new.timers) {
            ov.remove(TIMERS, keys::timer(t.due, new.id, t.n));
        }
    } else if was_incident && new.status == Status::Running {
        for t in &new.timers {
            ov.insert(TIMERS, keys::timer(t.due, new.id, t.n), IVec::default());
        }
    }
    Ok(records)
}
