//! Every signature an instance was given, kept beside its history so that showing
//! an instance (`GET /instances/{id}`, `baton show`) reads what it shows, not the
//! whole history: (instance, seq of the signature's record) -> the signature, its
//! step and its visit of that step. A visit is named by the number of the first
//! sign-off task created when the step was entered, which every signature of that
//! visit can find among its instance's tasks.

use super::kind::Kind;
use super::space::WriteBatch;
use super::{keys, Store, StoreError};
use crate::core::{Event, Instance, InstanceId, Record, Status, TaskId, TaskKind};
use crate::view::{self, SignOff, Signed};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The meta key set once every instance's signatures are in place (databases
/// written before they were kept have them built at open).
const BUILT: &str = "index:signatures";

/// A signature as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct SignatureRecord {
    visit: u32,
    step: String,
    by: String,
    approve: bool,
    /// Milliseconds since 1970, UTC.
    at: i64,
    reason: Option<String>,
}

/// Its own storage type: nothing outside the store holds one.
impl super::records::Form<SignatureRecord> for SignatureRecord {
    type Of<'a> = SignatureRecord;
    fn of(d: &SignatureRecord) -> SignatureRecord {
        d.clone()
    }
}

/// The sample whose bytes `records/golden.txt` keeps.
#[cfg(test)]
pub(super) fn sample() -> SignatureRecord {
    SignatureRecord {
        visit: 2,
        step: "final_review".into(),
        by: "ann".into(),
        approve: false,
        at: 1_772_442_030_123,
        reason: Some("金額與合同不符".into()),
    }
}

impl super::records::Stored for SignatureRecord {
    const KIND: super::records::RecordKind = super::records::RecordKind::Signature;
    const VERSION: u8 = 1;
    type Current = SignatureRecord;
}

fn key(id: InstanceId, seq: u64) -> [u8; 16] {
    keys::event(id, seq)
}

/// The signatures among one command's records (or a whole history), with their
/// keys. `tasks` finds the tasks of the instance before the command (`old`), to
/// name the visit a signature belongs to; tasks created by the records themselves
/// are seen as they come.
pub(super) fn of_records(
    id: InstanceId,
    old: Option<&Instance>,
    records: &[Record],
) -> Vec<([u8; 16], SignatureRecord)> {
    let mut out = Vec::new();
    // Most commands sign nothing.
    if !records
        .iter()
        .any(|r| matches!(r.event, Event::Signed { .. }))
    {
        return out;
    }
    // Sign-off tasks seen, as (task, step): the instance's, then the new ones.
    let mut tasks: Vec<(TaskId, String)> = old
        .map(|o| {
            o.tasks
                .iter()
                .filter(|t| t.kind == TaskKind::Sign)
                .map(|t| (t.id, t.step.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut completed: Option<TaskId> = None;
    let mut reason: Option<String> = None;
    for r in records {
        match &r.event {
            // A new visit of the step: its earlier sign-off tasks are done. (Only
            // its own: the branches of a parallel step sign side by side.)
            Event::StepEntered { step, .. } => tasks.retain(|(_, s)| s != step),
            Event::TaskCreated { task } if task.kind == TaskKind::Sign => {
                tasks.push((task.id, task.step.clone()))
            }
            Event::TaskCompleted { task, .. } => {
                completed = Some(*task);
                reason = None;
            }
            Event::Reasoned { reason: why, .. } => reason = Some(why.clone()),
            Event::Signed { by, approve } => {
                let step = completed
                    .and_then(|c| tasks.iter().find(|(t, _)| *t == c))
                    .map(|(_, s)| s.clone())
                    .unwrap_or_default();
                let visit = tasks
                    .iter()
                    .filter(|(_, s)| *s == step)
                    .map(|(t, _)| t.n)
                    .min()
                    .unwrap_or(0);
                out.push((
                    key(id, r.seq),
                    SignatureRecord {
                        visit,
                        step,
                        by: by.clone(),
                        approve: *approve,
                        at: r.at.timestamp_millis(),
                        reason: reason.take(),
                    },
                ));
            }
            _ => {}
        }
    }
    out
}

/// The sign-offs of stored signatures, oldest first: one per visit.
fn sign_offs(sigs: impl IntoIterator<Item = SignatureRecord>) -> Vec<SignOff> {
    let mut out: Vec<(u32, SignOff)> = Vec::new();
    for s in sigs {
        let signed = Signed {
            by: s.by,
            approve: s.approve,
            at: DateTime::<Utc>::from_timestamp_millis(s.at).unwrap_or_default(),
            reason: s.reason,
        };
        // Signatures of one visit may come between those of another: the branches
        // of a parallel step sign side by side.
        match out
            .iter_mut()
            .find(|(visit, o)| *visit == s.visit && o.step == s.step)
        {
            Some((_, same)) => same.signatures.push(signed),
            None => out.push((
                s.visit,
                SignOff {
                    step: s.step,
                    signatures: vec![signed],
                },
            )),
        }
    }
    out.into_iter().map(|(_, s)| s).collect()
}

impl Store {
    /// An instance as people read it (see `view::Shown`), from the instance and what
    /// is kept beside it: its cost does not grow with its history.
    pub(super) fn shown(&self, id: InstanceId) -> Result<view::Shown, StoreError> {
        let instance = self.instance(id)?;
        let mut sigs = Vec::new();
        for kv in self.t[Kind::Signatures].scan_prefix(keys::instance(id)) {
            let (_, v) = kv?;
            sigs.push(super::decode::<SignatureRecord>(&v)?);
        }
        let waiting_for = if instance.awaiting_child {
            match instance.children.last() {
                Some(child) => Some(view::WaitingFor::Child {
                    process: self.instance(*child)?.process,
                }),
                None => None,
            }
        } else {
            view::waiting_for(&instance, &[])
        };
        let incident = match instance.status {
            Status::Incident => self.incident(id)?,
            _ => None,
        };
        Ok(view::Shown {
            signoffs: sign_offs(sigs),
            waiting_for,
            incident,
            instance,
        })
    }

    /// Differences between the kept signatures and the histories, for `verify`.
    pub(super) fn verify_signatures(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        for kv in self.t[Kind::Instances].iter() {
            let (k, _) = kv?;
            let Some(id) = k.get(..8).and_then(|b| b.try_into().ok()) else {
                continue;
            };
            let id = u64::from_be_bytes(id);
            let history = self.history(id)?;
            let kept = self.shown(id)?.signoffs;
            if kept != view::signoffs(&history) {
                problems.push(format!(
                    "instance {id}: its kept signatures disagree with its history"
                ));
            }
        }
        Ok(problems)
    }
}

/// Keep the signatures of every history, if this database was written before they
/// were kept: once, at open, before anything else runs.
pub(super) fn build(store: &Store) -> Result<(), StoreError> {
    if store.t[Kind::Meta].get(BUILT)?.is_some() {
        return Ok(());
    }
    let w = store.t.alone()?;
    let mut b = WriteBatch::default();
    super::each_history(store, |id, history| {
        for (k, rec) in of_records(id, None, history) {
            store.t[Kind::Signatures].put(&mut b, k, super::encode(&rec));
        }
        Ok(())
    })?;
    store.t[Kind::Meta].put(&mut b, BUILT, &[1u8]);
    store.t.apply_alone(&w, b)?;
    store.t.shared().flush()?;
    Ok(())
}
