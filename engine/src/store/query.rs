//! Questions staff ask, each answered from an index range, never a scan of all
//! instances.

use super::kind::Kind;
use super::txn::OutboxRecord;
use super::{decode, keys, Store, StoreError};
use crate::core::{Incident, Instance, InstanceId, Record, Task, TaskId, TaskState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back to get the next page; `None` on the last page.
    pub next: Option<String>,
}

pub type InstancePage = Page<Instance>;

/// Where a page of `Store::tasks_in_state` ended: its last task's due time and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskPosition {
    pub due: Option<DateTime<Utc>>,
    pub id: TaskId,
}

impl TaskPosition {
    pub fn of(t: &Task) -> TaskPosition {
        TaskPosition {
            due: t.due,
            id: t.id,
        }
    }
}

impl Store {
    /// A task: from its instance's record while its step runs, else from the tasks
    /// that have left their instance.
    fn task_record(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        if let Some(b) = self.t[Kind::Instances].get(keys::instance(id.instance))? {
            let inst: Instance = decode(&b)?;
            if let Some(t) = inst.tasks.into_iter().find(|t| t.id == id) {
                return Ok(Some(t));
            }
        }
        for state in keys::FINAL_STATES {
            if let Some(b) = self.t[Kind::Tasks].get(keys::state_task(state, id))? {
                return Ok(Some(decode(&b)?));
            }
        }
        Ok(None)
    }

    pub(super) fn task(&self, id: TaskId) -> Result<Task, StoreError> {
        self.task_record(id)?
            .ok_or_else(|| crate::core::Rejection::NotFound(format!("no task {id}")).into())
    }

    /// The tasks an index lists under a name; each entry carries its task.
    fn tasks_under(
        &self,
        tree: &super::space::Space,
        name: &str,
        out: &mut Vec<Task>,
    ) -> Result<(), StoreError> {
        for kv in tree.scan_prefix(keys::name_prefix(name)) {
            let (_, v) = kv?;
            out.push(decode(&v)?);
        }
        Ok(())
    }

    /// A person's open and claimed tasks: their own, and those offered to their roles
    /// that nobody has claimed yet. Soonest due first.
    pub(super) fn tasks_for(&self, person: &str) -> Result<Vec<Task>, StoreError> {
        let mut out = Vec::new();
        self.tasks_under(&self.t[Kind::ByPerson], person, &mut out)?;
        let dir = self.directory();
        if let Some(p) = dir.person(person) {
            for r in &p.roles {
                self.tasks_under(&self.t[Kind::ByRole], r, &mut out)?;
            }
        }
        out.sort_by_key(|t| (t.due.is_none(), t.due, t.id));
        out.dedup_by_key(|t| t.id);
        Ok(out)
    }

    pub(super) fn tasks_for_role(&self, role: &str) -> Result<Vec<Task>, StoreError> {
        let mut out = Vec::new();
        self.tasks_under(&self.t[Kind::ByRole], role, &mut out)?;
        Ok(out)
    }

    /// Tasks in a state, `limit` at a time after `after` (where the previous page
    /// ended). Open and claimed tasks come soonest due first (those without
    /// a due time last), finished ones oldest first.
    pub(super) fn tasks_in_state(
        &self,
        state: TaskState,
        after: Option<TaskPosition>,
        limit: usize,
    ) -> Result<Page<Task>, StoreError> {
        let b = keys::state_byte(state);
        let (space, start) = match after {
            Some(t) if state.is_active() => (
                &self.t[Kind::Active],
                keys::active_task(state, t.due, t.id).to_vec(),
            ),
            Some(t) => (&self.t[Kind::Tasks], keys::state_task(state, t.id).to_vec()),
            None if state.is_active() => (&self.t[Kind::Active], vec![b]),
            None => (&self.t[Kind::Tasks], vec![b]),
        };
        let mut items = Vec::new();
        let mut next = None;
        let range = (
            std::ops::Bound::Excluded(start),
            std::ops::Bound::Excluded(vec![b + 1]),
        );
        for kv in space.range(range) {
            let (k, v) = kv?;
            if items.len() == limit {
                next = items.last().map(|t: &Task| t.id.to_string());
                break;
            }
            if state.is_active() {
                if let Some(t) = keys::task_from(&k)
                    .map(|id| self.task_record(id))
                    .transpose()?
                    .flatten()
                {
                    items.push(t);
                }
            } else {
                items.push(decode(&v)?);
            }
        }
        Ok(Page { items, next })
    }

    /// Open or claimed tasks whose due time has passed, soonest due first.
    pub(super) fn overdue(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Task>, StoreError> {
        let mut out = Vec::new();
        for state in [TaskState::Open, TaskState::Claimed] {
            let b = keys::state_byte(state);
            // Keys hold milliseconds: read up to the end of `now`'s, then compare
            // exactly.
            let mut end = vec![b];
            end.extend_from_slice(&keys::millis(now + chrono::Duration::milliseconds(1)));
            for kv in self.t[Kind::Active].range(vec![b]..end).take(limit) {
                let (k, _) = kv?;
                if let Some(t) = keys::task_from(&k)
                    .map(|id| self.task_record(id))
                    .transpose()?
                    .flatten()
                    .filter(|t| t.due.is_some_and(|d| d < now))
                {
                    out.push(t);
                }
            }
        }
        out.sort_by_key(|t| (t.due, t.id));
        out.truncate(limit);
        Ok(out)
    }

    /// Instances of a process in a status (`running`, `completed`, `cancelled`),
    /// by id, `limit` at a time after the cursor.
    pub(super) fn instances(
        &self,
        process: &str,
        status: &str,
        after: Option<InstanceId>,
        limit: usize,
    ) -> Result<InstancePage, StoreError> {
        let prefix = keys::process_status(process, status, 0);
        let prefix = &prefix[..prefix.len() - 8];
        let start = keys::process_status(process, status, after.map_or(0, |a| a + 1));
        let mut end = prefix.to_vec();
        end.extend_from_slice(&[0xff; 9]);
        let mut items = Vec::new();
        let mut next = None;
        for kv in self.t[Kind::ByProcess].range(start..end) {
            let (k, _) = kv?;
            let id = u64::from_be_bytes(k[k.len() - 8..].try_into().unwrap_or([0; 8]));
            if items.len() == limit {
                next = items.last().map(|i: &Instance| i.id.to_string());
                break;
            }
            items.push(self.instance(id)?);
        }
        Ok(Page { items, next })
    }

    /// Open incidents, oldest instance first, `limit` at a time after the cursor:
    /// read from their own space, never a scan of the instances.
    pub(super) fn incidents(
        &self,
        after: Option<InstanceId>,
        limit: usize,
    ) -> Result<Page<Incident>, StoreError> {
        let start = keys::instance(after.map_or(0, |a| a.saturating_add(1)));
        let mut items: Vec<Incident> = Vec::new();
        let mut next = None;
        for kv in self.t[Kind::Incidents].range(start..) {
            let (_, v) = kv?;
            if items.len() == limit {
                next = items.last().map(|i| i.instance.to_string());
                break;
            }
            items.push(decode(&v)?);
        }
        Ok(Page { items, next })
    }

    /// The open incident of an instance, if it has one.
    pub(super) fn incident(&self, id: InstanceId) -> Result<Option<Incident>, StoreError> {
        self.t[Kind::Incidents]
            .get(keys::instance(id))?
            .map(|b| decode(&b))
            .transpose()
    }

    /// How many incidents are open (the `/metrics` gauge).
    pub(super) fn incident_count(&self) -> usize {
        self.t[Kind::Incidents].len()
    }

    pub(super) fn history(&self, id: InstanceId) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        for kv in self.t[Kind::Events].scan_prefix(keys::instance(id)) {
            let (_, v) = kv?;
            let batch: Vec<Record> = decode(&v)?;
            out.extend(batch);
        }
        if out.is_empty() {
            self.instance(id)?;
        }
        Ok(out)
    }

    /// Timers due at or before `now`, earliest first: (due, instance, timer number).
    pub(super) fn due_timers(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(DateTime<Utc>, InstanceId, u32)>, StoreError> {
        let mut end = keys::millis(now).to_vec();
        end.push(0xff);
        let mut out = Vec::new();
        for kv in self.t[Kind::Timers].range(..end) {
            let (k, _) = kv?;
            if let Some(t) = keys::timer_from(&k) {
                out.push(t);
            }
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// The earliest pending timer, for a scheduler that sleeps until then.
    pub(super) fn next_timer(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(match self.t[Kind::Timers].first()? {
            Some((k, _)) => keys::timer_from(&k).map(|t| t.0),
            None => None,
        })
    }

    pub(super) fn timer_count(&self) -> usize {
        self.t[Kind::Timers].len()
    }

    pub(super) fn outbox(&self, after: u64, limit: usize) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut out = Vec::new();
        for kv in self.t[Kind::Outbox].range((after + 1).to_be_bytes()..) {
            let (_, v) = kv?;
            out.push(decode(&v)?);
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }
}
