//! Who sees what. The engine decides who may *do* what (claim, complete, start,
//! cancel) and refuses with `Forbidden`; reading is the server's business, and these
//! are its rules:
//!
//! - an admin sees everything;
//! - a person sees an instance they take part in: they started it, a task of it is or
//!   was offered to them, claimed, completed or handed to them, they acted on it or
//!   were sent a message about it;
//! - or that their roles cover: a task of it is or was offered to one of their roles;
//! - a task is seen by whoever sees its instance.

use crate::extract::Caller;
use baton_engine::core::{Candidates, Event, Instance, Task, SYSTEM};
use baton_engine::store::{Store, StoreError};

fn offered(c: &Caller, to: &Candidates) -> bool {
    to.people.contains(&c.person) || to.roles.iter().any(|r| c.has_role(r))
}

/// The task itself names the caller or one of their roles.
pub fn takes_part(c: &Caller, t: &Task) -> bool {
    t.assignee.as_deref() == Some(&c.person)
        || t.completed_by.as_deref() == Some(&c.person)
        || offered(c, &t.candidates)
}

pub fn sees_instance(store: &Store, c: &Caller, inst: &Instance) -> Result<bool, StoreError> {
    if c.admin || inst.starter == c.person || inst.tasks.iter().any(|t| takes_part(c, t)) {
        return Ok(true);
    }
    // The instance keeps only the current step's tasks; the history has the rest.
    for r in store.history(inst.id)? {
        if r.actor == c.person && r.actor != SYSTEM {
            return Ok(true);
        }
        let seen = match &r.event {
            Event::TaskCreated { task } => takes_part(c, task),
            Event::TaskClaimed { by, .. }
            | Event::TaskCompleted { by, .. }
            | Event::Signed { by, .. } => *by == c.person,
            Event::TaskReassigned { to, .. } => offered(c, to),
            Event::MessageQueued { message } => {
                message.channel.is_none() && message.to.contains(&c.person)
            }
            _ => false,
        };
        if seen {
            return Ok(true);
        }
    }
    Ok(false)
}

pub fn sees_task(store: &Store, c: &Caller, t: &Task) -> Result<bool, StoreError> {
    if c.admin || takes_part(c, t) {
        return Ok(true);
    }
    let inst = store.instance(t.id.instance)?;
    sees_instance(store, c, &inst)
}
