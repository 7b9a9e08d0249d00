//! The storage boundary: what the engine, the scheduler, the server and the CLI may
//! ask of a store, one trait per kind of record or concern, reading apart from
//! writing, so that a function's bounds say what it touches (the scheduler's timer
//! pass needs `TimerRead + Commands`, an authorization check `InstanceRead +
//! ParticipantRead`). The embedded sled store (`Store`) implements every trait;
//! another backend implements the same ones, and `tests/storage.rs` holds the
//! suite every implementation must pass.
//!
//! Writes that change an instance (its record, history, tasks and their indexes,
//! timers, messages, incidents, participants, signatures, idempotency answers) go
//! only through `Commands`, one command all or nothing; the other write traits
//! touch only what commands never read (see `kind::ByCommands`).

use super::{
    Deployed, Ended, FigureRow, InstancePage, Lease, OpenCounts, OutboxRecord, Outcome, Page,
    Queued, Request, Store, StoreError, StoredDefinition, TaskPosition,
};
use crate::core::{Command, Incident, Instance, InstanceId, Record, Task, TaskId, TaskState};
use crate::logins::{InviteRecord, PasswordRecord, SessionRecord};
use crate::staff::Directory;
use crate::team::Party;
use crate::tokens::TokenRecord;
use crate::view::Shown;
use baton_dsl::model::Definition;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

/// Everything at once, for callers that hold a whole store (the server's state,
/// the CLI's commands): `use baton_engine::store::prelude::*`.
pub mod prelude {
    pub use super::{
        Changes, Commands, DefinitionRead, DefinitionWrite, DirectoryRead, DirectoryWrite,
        FigureRead, Health, HistoryRead, IncidentRead, InstanceRead, LoginRead, LoginWrite,
        OutboxRead, OutboxWrite, ParticipantRead, ScheduleRead, ScheduleWrite, TaskRead, TimerRead,
        TimerWrite, TokenRead, TokenWrite,
    };
}

/// Instances: one by id, a page of a process's instances in a status, and one as
/// people read it.
pub trait InstanceRead {
    fn instance(&self, id: InstanceId) -> Result<Instance, StoreError>;
    /// Instances of `process` in `status`, by id, `limit` after the cursor.
    fn instances(
        &self,
        process: &str,
        status: &str,
        after: Option<InstanceId>,
        limit: usize,
    ) -> Result<InstancePage, StoreError>;
    /// The instance with its sign-offs, what it waits for and its incident; its cost
    /// does not grow with its history.
    fn shown(&self, id: InstanceId) -> Result<Shown, StoreError>;
}

/// Who takes part in each instance (for read authorization).
pub trait ParticipantRead {
    fn takes_part(&self, party: &Party, inst: &Instance) -> Result<bool, StoreError>;
    /// People besides the starter, then roles.
    fn participants(&self, id: InstanceId) -> Result<(Vec<String>, Vec<String>), StoreError>;
}

/// Tasks and their indexes: by id, a person's, a role's queue, by state, overdue.
pub trait TaskRead {
    fn task(&self, id: TaskId) -> Result<Task, StoreError>;
    /// A person's open tasks and those offered to their roles that nobody claimed.
    fn tasks_for(&self, person: &str) -> Result<Vec<Task>, StoreError>;
    fn tasks_for_role(&self, role: &str) -> Result<Vec<Task>, StoreError>;
    fn tasks_in_state(
        &self,
        state: TaskState,
        after: Option<TaskPosition>,
        limit: usize,
    ) -> Result<Page<Task>, StoreError>;
    fn overdue(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Task>, StoreError>;
}

/// The managers' figures, kept by commands as they happen (see `figures`), and
/// the open tasks per person and role.
pub trait FigureRead {
    /// The figures of `process` for the company's days `from..=to`, per hour and
    /// department of the starter.
    fn figures(
        &self,
        process: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<FigureRow>, StoreError>;
    fn open_task_counts(&self, now: DateTime<Utc>) -> Result<OpenCounts, StoreError>;
}

/// An instance's history, oldest first.
pub trait HistoryRead {
    fn history(&self, id: InstanceId) -> Result<Vec<Record>, StoreError>;
}

/// Open incidents.
pub trait IncidentRead {
    fn incidents(
        &self,
        after: Option<InstanceId>,
        limit: usize,
    ) -> Result<Page<Incident>, StoreError>;
    fn incident(&self, id: InstanceId) -> Result<Option<Incident>, StoreError>;
    fn incident_count(&self) -> usize;
}

/// Timers by due time. They are set and fired by commands (`Commands`).
pub trait TimerRead {
    /// Due at or before `now`, earliest first: (due, instance, timer number).
    fn due_timers(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(DateTime<Utc>, InstanceId, u32)>, StoreError>;
    fn next_timer(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
    fn timer_count(&self) -> usize;
}

pub trait TimerWrite {
    /// Remove a timer key that no longer means anything.
    fn drop_timer(
        &self,
        due: DateTime<Utc>,
        instance: InstanceId,
        n: u32,
    ) -> Result<(), StoreError>;
}

/// How far each schedule of each process has counted its occurrences.
pub trait ScheduleRead {
    fn watermark(&self, process: &str, i: usize) -> Result<Option<DateTime<Utc>>, StoreError>;
}

pub trait ScheduleWrite {
    fn set_watermark(&self, process: &str, i: usize, at: DateTime<Utc>) -> Result<(), StoreError>;
}

/// Messages, inboxes and webhook deliveries.
pub trait OutboxRead {
    fn outbox(&self, after: u64, limit: usize) -> Result<Vec<OutboxRecord>, StoreError>;
    fn message(&self, id: u64) -> Result<Option<OutboxRecord>, StoreError>;
    /// A person's notifications after message `after`.
    fn inbox(
        &self,
        person: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<OutboxRecord>, StoreError>;
    /// Messages not yet handed on.
    fn undelivered(&self, limit: usize) -> Result<Vec<OutboxRecord>, StoreError>;
    fn next_attempt(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Every queued webhook attempt, due or leased.
    fn queued_attempts(&self) -> Result<Vec<Queued>, StoreError>;
}

pub trait OutboxWrite {
    /// Into inboxes and each webhook's queue, and past the cursor, all at once.
    fn hand_on(
        &self,
        rec: &OutboxRecord,
        webhooks: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Lease the webhook attempts due by `now` (and those whose lease expired)
    /// until `until`: taken, not removed, until their outcome is recorded.
    fn lease_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Lease>, StoreError>;
    /// Record how a leased attempt ended; false if its lease was taken over.
    fn settle_attempt(&self, lease: &Lease, ended: Ended) -> Result<bool, StoreError>;
}

/// Deployed definitions, every version.
pub trait DefinitionRead {
    fn definition(&self, name: &str, version: u32) -> Result<Arc<Definition>, StoreError>;
    fn latest(&self, name: &str) -> Result<(u32, Arc<Definition>), StoreError>;
    /// Each process with its newest version.
    fn process_names(&self) -> Vec<(String, u32)>;
    fn stored_definition(&self, name: &str, version: u32) -> Result<StoredDefinition, StoreError>;
}

pub trait DefinitionWrite {
    /// Check a source and keep it as the next version of its process (the same
    /// source again is the same version).
    fn deploy(
        &self,
        file: &str,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, Deployed), StoreError>;
    /// As `deploy`, with other processes being deployed together.
    fn deploy_with(
        &self,
        file: &str,
        source: &str,
        now: DateTime<Utc>,
        batch: &BTreeMap<String, baton_dsl::Signature>,
    ) -> Result<(String, Deployed), StoreError>;
}

/// API tokens, kept by hash.
pub trait TokenRead {
    fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError>;
    fn tokens_of(&self, person: &str) -> Result<Vec<[u8; 32]>, StoreError>;
    fn token_holders(&self) -> Result<Vec<(String, [u8; 32])>, StoreError>;
    fn no_tokens(&self) -> Result<bool, StoreError>;
}

pub trait TokenWrite {
    /// Refused (not found) when the person is not in the directory as it is kept:
    /// checked where directory changes cannot interleave.
    fn put_token(&self, hash: &[u8; 32], rec: &TokenRecord) -> Result<(), StoreError>;
    fn remove_tokens(&self, tokens: &[(String, [u8; 32])]) -> Result<(), StoreError>;
}

/// The web pages' sign-in: passwords by person, one-time invitations and
/// sessions by the hash of their secret (see `logins`).
pub trait LoginRead {
    fn password(&self, person: &str) -> Result<Option<PasswordRecord>, StoreError>;
    /// What the person has read of their notifications: every id up to the first,
    /// and the ids above it in the set.
    fn read_marks(&self, person: &str) -> Result<(u64, BTreeSet<u64>), StoreError>;
    fn invite(&self, hash: &[u8; 32]) -> Result<Option<InviteRecord>, StoreError>;
    fn session(&self, hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError>;
}

pub trait LoginWrite {
    /// Refused (not found) when the person is not in the directory as it is kept.
    fn put_password(&self, person: &str, rec: &PasswordRecord) -> Result<(), StoreError>;
    fn remove_password(&self, person: &str) -> Result<(), StoreError>;
    /// Refused (not found) when its person is not in the directory.
    fn put_invite(&self, hash: &[u8; 32], rec: &InviteRecord) -> Result<(), StoreError>;
    /// The invitation, removed in the same step: of two takers, one gets it.
    fn take_invite(&self, hash: &[u8; 32]) -> Result<Option<InviteRecord>, StoreError>;
    /// Refused (not found) when its person is not in the directory.
    fn put_session(&self, hash: &[u8; 32], rec: &SessionRecord) -> Result<(), StoreError>;
    fn remove_session(&self, hash: &[u8; 32]) -> Result<(), StoreError>;
    /// Ends every session of the person; how many there were.
    fn remove_sessions_of(&self, person: &str) -> Result<usize, StoreError>;
    /// Mark one notification read, or (`all`) every one up to `id`.
    fn mark_read(&self, person: &str, id: u64, all: bool) -> Result<(), StoreError>;
}

/// Word of changes, for pages that show them as they happen: a counter of the
/// batches of commands written, which a receiver waits on.
pub trait Changes {
    fn changes(&self) -> tokio::sync::watch::Receiver<u64>;
}

impl Changes for Store {
    fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

/// The staff directory.
pub trait DirectoryRead {
    fn directory(&self) -> Arc<Directory>;
}

pub trait DirectoryWrite {
    /// Replace it; the tokens of people it no longer lists are revoked first.
    fn set_directory(&self, dir: Directory) -> Result<(), StoreError>;
}

/// The store's own state: durability, health, size, a full check.
pub trait Health {
    /// Block until every change so far is durable.
    fn durable(&self) -> Result<(), StoreError>;
    /// As `durable`, for writes made since `epoch` (read with `epoch` before them):
    /// refused if the store opened its database again since, as they may be lost.
    fn durable_since(&self, epoch: u64) -> Result<(), StoreError>;
    /// How many times the store opened its database again after a failure.
    fn epoch(&self) -> u64;
    /// Why every write is refused, or None while healthy.
    fn broken(&self) -> Option<String>;
    /// If broken, try once to write again: once the disk takes a write, open the
    /// database again. Ok once the store writes; the refusal while it cannot yet.
    fn try_recover(&self) -> Result<(), StoreError>;
    fn flushes(&self) -> u64;
    fn flush_time(&self) -> std::time::Duration;
    fn size_on_disk(&self) -> u64;
    /// Every index against its records, every history against its instance.
    fn verify(&self) -> Result<Vec<String>, StoreError>;
}

/// Commands: the only way an instance changes. Each is applied all or nothing
/// and acknowledged once durable (the `_unflushed` forms leave that to a later
/// `Health::durable`).
pub trait Commands {
    fn execute(
        &self,
        target: Option<InstanceId>,
        cmd: &Command,
        actor: &str,
        now: DateTime<Utc>,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError>;
    fn execute_unflushed(
        &self,
        target: Option<InstanceId>,
        cmd: &Command,
        actor: &str,
        now: DateTime<Utc>,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError>;
    fn execute_many(&self, requests: Vec<Request>) -> Vec<Result<Outcome, StoreError>>;
    fn execute_many_unflushed(&self, requests: Vec<Request>) -> Vec<Result<Outcome, StoreError>>;
    /// For a task on an async runtime: waits without blocking a worker thread.
    fn execute_async(
        self: &Arc<Self>,
        target: Option<InstanceId>,
        cmd: &Command,
        actor: &str,
        now: DateTime<Utc>,
        idempotency_key: Option<&str>,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;
    /// Left to the store's own threads instead of run on the calling one.
    fn execute_parked(
        self: &Arc<Self>,
        target: Option<InstanceId>,
        cmd: &Command,
        actor: &str,
        now: DateTime<Utc>,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, StoreError>;
    fn execute_many_parked(
        self: &Arc<Self>,
        requests: Vec<Request>,
    ) -> Vec<Result<Outcome, StoreError>>;
}

/// The sled store's methods of the same names (private to the store module) are
/// its implementation of each trait.
macro_rules! by_store {
    ($trait:ident { $( fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )* }) => {
        impl $trait for Store {
            $( fn $name(&self $(, $arg: $ty)*) -> $ret { Store::$name(self $(, $arg)*) } )*
        }
    };
}

by_store!(InstanceRead {
    fn instance(&self, id: InstanceId) -> Result<Instance, StoreError>;
    fn instances(&self, process: &str, status: &str, after: Option<InstanceId>, limit: usize) -> Result<InstancePage, StoreError>;
    fn shown(&self, id: InstanceId) -> Result<Shown, StoreError>;
});
by_store!(ParticipantRead {
    fn takes_part(&self, party: &Party, inst: &Instance) -> Result<bool, StoreError>;
    fn participants(&self, id: InstanceId) -> Result<(Vec<String>, Vec<String>), StoreError>;
});
by_store!(TaskRead {
    fn task(&self, id: TaskId) -> Result<Task, StoreError>;
    fn tasks_for(&self, person: &str) -> Result<Vec<Task>, StoreError>;
    fn tasks_for_role(&self, role: &str) -> Result<Vec<Task>, StoreError>;
    fn tasks_in_state(&self, state: TaskState, after: Option<TaskPosition>, limit: usize) -> Result<Page<Task>, StoreError>;
    fn overdue(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Task>, StoreError>;
});
by_store!(FigureRead {
    fn figures(&self, process: &str, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<Vec<FigureRow>, StoreError>;
    fn open_task_counts(&self, now: DateTime<Utc>) -> Result<OpenCounts, StoreError>;
});
by_store!(HistoryRead {
    fn history(&self, id: InstanceId) -> Result<Vec<Record>, StoreError>;
});
by_store!(IncidentRead {
    fn incidents(&self, after: Option<InstanceId>, limit: usize) -> Result<Page<Incident>, StoreError>;
    fn incident(&self, id: InstanceId) -> Result<Option<Incident>, StoreError>;
    fn incident_count(&self) -> usize;
});
by_store!(TimerRead {
    fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<(DateTime<Utc>, InstanceId, u32)>, StoreError>;
    fn next_timer(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
    fn timer_count(&self) -> usize;
});
by_store!(TimerWrite {
    fn drop_timer(&self, due: DateTime<Utc>, instance: InstanceId, n: u32) -> Result<(), StoreError>;
});
by_store!(ScheduleRead {
    fn watermark(&self, process: &str, i: usize) -> Result<Option<DateTime<Utc>>, StoreError>;
});
by_store!(ScheduleWrite {
    fn set_watermark(&self, process: &str, i: usize, at: DateTime<Utc>) -> Result<(), StoreError>;
});
by_store!(OutboxRead {
    fn outbox(&self, after: u64, limit: usize) -> Result<Vec<OutboxRecord>, StoreError>;
    fn message(&self, id: u64) -> Result<Option<OutboxRecord>, StoreError>;
    fn inbox(&self, person: &str, after: u64, limit: usize) -> Result<Vec<OutboxRecord>, StoreError>;
    fn undelivered(&self, limit: usize) -> Result<Vec<OutboxRecord>, StoreError>;
    fn next_attempt(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
    fn queued_attempts(&self) -> Result<Vec<Queued>, StoreError>;
});
by_store!(OutboxWrite {
    fn hand_on(&self, rec: &OutboxRecord, webhooks: &[String], now: DateTime<Utc>) -> Result<(), StoreError>;
    fn lease_due(&self, now: DateTime<Utc>, until: DateTime<Utc>, limit: usize) -> Result<Vec<Lease>, StoreError>;
    fn settle_attempt(&self, lease: &Lease, ended: Ended) -> Result<bool, StoreError>;
});
by_store!(DefinitionRead {
    fn definition(&self, name: &str, version: u32) -> Result<Arc<Definition>, StoreError>;
    fn latest(&self, name: &str) -> Result<(u32, Arc<Definition>), StoreError>;
    fn process_names(&self) -> Vec<(String, u32)>;
    fn stored_definition(&self, name: &str, version: u32) -> Result<StoredDefinition, StoreError>;
});
by_store!(DefinitionWrite {
    fn deploy(&self, file: &str, source: &str, now: DateTime<Utc>) -> Result<(String, Deployed), StoreError>;
    fn deploy_with(&self, file: &str, source: &str, now: DateTime<Utc>, batch: &BTreeMap<String, baton_dsl::Signature>) -> Result<(String, Deployed), StoreError>;
});
by_store!(LoginRead {
    fn password(&self, person: &str) -> Result<Option<PasswordRecord>, StoreError>;
    fn read_marks(&self, person: &str) -> Result<(u64, BTreeSet<u64>), StoreError>;
    fn invite(&self, hash: &[u8; 32]) -> Result<Option<InviteRecord>, StoreError>;
    fn session(&self, hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError>;
});
by_store!(LoginWrite {
    fn put_password(&self, person: &str, rec: &PasswordRecord) -> Result<(), StoreError>;
    fn remove_password(&self, person: &str) -> Result<(), StoreError>;
    fn put_invite(&self, hash: &[u8; 32], rec: &InviteRecord) -> Result<(), StoreError>;
    fn take_invite(&self, hash: &[u8; 32]) -> Result<Option<InviteRecord>, StoreError>;
    fn put_session(&self, hash: &[u8; 32], rec: &SessionRecord) -> Result<(), StoreError>;
    fn remove_session(&self, hash: &[u8; 32]) -> Result<(), StoreError>;
    fn remove_sessions_of(&self, person: &str) -> Result<usize, StoreError>;
    fn mark_read(&self, person: &str, id: u64, all: bool) -> Result<(), StoreError>;
});
by_store!(TokenRead {
    fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError>;
    fn tokens_of(&self, person: &str) -> Result<Vec<[u8; 32]>, StoreError>;
    fn token_holders(&self) -> Result<Vec<(String, [u8; 32])>, StoreError>;
    fn no_tokens(&self) -> Result<bool, StoreError>;
});
by_store!(TokenWrite {
    fn put_token(&self, hash: &[u8; 32], rec: &TokenRecord) -> Result<(), StoreError>;
    fn remove_tokens(&self, tokens: &[(String, [u8; 32])]) -> Result<(), StoreError>;
});
by_store!(DirectoryRead {
    fn directory(&self) -> Arc<Directory>;
});
by_store!(DirectoryWrite {
    fn set_directory(&self, dir: Directory) -> Result<(), StoreError>;
});
by_store!(Health {
    fn durable(&self) -> Result<(), StoreError>;
    fn durable_since(&self, epoch: u64) -> Result<(), StoreError>;
    fn epoch(&self) -> u64;
    fn broken(&self) -> Option<String>;
    fn try_recover(&self) -> Result<(), StoreError>;
    fn flushes(&self) -> u64;
    fn flush_time(&self) -> std::time::Duration;
    fn size_on_disk(&self) -> u64;
    fn verify(&self) -> Result<Vec<String>, StoreError>;
});
