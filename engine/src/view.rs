//! An instance as people read it: its state, every sign-off of its history (the
//! instance itself keeps only the signatures of the step it is at), and what its
//! step waits for. Worked out when it is shown; none of it is stored.

use crate::core::{Event, Incident, Instance, Record, Status, TimerKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `GET /instances/{id}` and `baton show`: the instance, and beside it what its
/// history and its timers tell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shown {
    #[serde(flatten)]
    pub instance: Instance,
    /// Every sign-off so far, oldest first, the one under way included.
    pub signoffs: Vec<SignOff>,
    /// What the current step waits for before it does anything.
    pub waiting_for: Option<WaitingFor>,
    /// While its status is `incident`: since when, why, and what was attempted.
    pub incident: Option<Incident>,
}

/// The signatures given at one visit of a sign-off step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignOff {
    pub step: String,
    pub signatures: Vec<Signed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signed {
    pub by: String,
    pub approve: bool,
    #[serde(with = "crate::core::time")]
    pub at: DateTime<Utc>,
    /// Why, when the signer said (`--reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a waiting step waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WaitingFor {
    /// `wait` or `wait until`: the step goes on at `until`.
    Time {
        #[serde(with = "crate::core::time")]
        until: DateTime<Utc>,
    },
    /// `start ... and wait`: the step goes on when the instance of `process` it
    /// started ends.
    Child { process: String },
}

/// The instance with its sign-offs, from its `history` (oldest first).
pub fn shown(instance: Instance, history: &[Record]) -> Shown {
    Shown {
        signoffs: signoffs(history),
        waiting_for: waiting_for(&instance, history),
        incident: incident(&instance, history),
        instance,
    }
}

/// Every sign-off of a history: the signatures after each entry into a step.
pub fn signoffs(history: &[Record]) -> Vec<SignOff> {
    let mut out: Vec<SignOff> = Vec::new();
    // The step entered last on each line (the main one, `None`, and each branch of
    // a parallel step), and where its sign-off is in `out` once listed.
    let mut steps: std::collections::BTreeMap<Option<&str>, (&str, Option<usize>)> =
        std::collections::BTreeMap::new();
    let mut line: Option<&str> = None;
    // A reason is recorded just before the signature it explains.
    let mut reason: Option<&str> = None;
    for r in history {
        match &r.event {
            Event::StepEntered { step: s, .. } => {
                steps.insert(line, (s, None));
            }
            Event::InBranch { branch } => line = branch.as_deref(),
            Event::Reasoned { reason: why, .. } => reason = Some(why),
            Event::Signed { by, approve } => {
                let signed = Signed {
                    by: by.clone(),
                    approve: *approve,
                    at: r.at,
                    reason: reason.take().map(str::to_string),
                };
                match steps.get_mut(&line) {
                    Some((_, Some(at))) => {
                        if let Some(listed) = out.get_mut(*at) {
                            listed.signatures.push(signed);
                        }
                    }
                    Some((s, at)) => {
                        *at = Some(out.len());
                        out.push(SignOff {
                            step: s.to_string(),
                            signatures: vec![signed],
                        });
                    }
                    // A signature before any step: cannot happen; shown all the same.
                    None => out.push(SignOff {
                        step: String::new(),
                        signatures: vec![signed],
                    }),
                }
            }
            Event::TaskCompleted { .. } => reason = None,
            _ => {}
        }
    }
    out
}

/// What the instance's current step waits for: a moment (`wait`), an instance it
/// started (`start ... and wait`, named in `history`: the instance's, or at least
/// the records of the command that started it), or nothing (its open tasks, if
/// any, say the rest).
pub fn waiting_for(i: &Instance, history: &[Record]) -> Option<WaitingFor> {
    if i.waiting {
        let step = i.step.as_deref()?;
        return i
            .timers
            .iter()
            .filter(|t| matches!(&t.kind, TimerKind::Wait { step: s } if s == step))
            .map(|t| t.due)
            .min()
            .map(|until| WaitingFor::Time { until });
    }
    if i.awaiting_child {
        // The step started it last: a step does one thing.
        return history.iter().rev().find_map(|r| match &r.event {
            Event::ChildStarted {
                process,
                wait: true,
            } => Some(WaitingFor::Child {
                process: process.clone(),
            }),
            _ => None,
        });
    }
    None
}

/// The open incident of an instance, from the last one its history raised.
pub fn incident(i: &Instance, history: &[Record]) -> Option<Incident> {
    if i.status != Status::Incident {
        return None;
    }
    history.iter().rev().find_map(|r| match &r.event {
        Event::IncidentRaised { reason, attempted } => Some(Incident {
            instance: i.id,
            process: i.process.clone(),
            at: r.at,
            reason: reason.clone(),
            attempted: attempted.clone(),
        }),
        _ => None,
    })
}
