//! Who sees what. The engine decides who may *do* what (claim, complete, start,
//! cancel, hand on) and refuses with `Forbidden`; reading is the server's business,
//! and these are its rules:
//!
//! - an admin sees everything;
//! - a person sees an instance they take part in: they started it, a task of it is or
//!   was offered to them, claimed, completed or handed to them, they acted on it or
//!   were sent a message about it;
//! - or that their roles cover: a task of it is or was offered to one of their roles;
//! - along the org chart, a supervisor or department head sees what the people they
//!   lead (`Directory::team`) see by those two rules;
//! - a task is seen by whoever sees its instance.

use crate::extract::Caller;
use baton_engine::core::{Instance, Task};
use baton_engine::store::{DirectoryRead, InstanceRead, ParticipantRead, StoreError};
use baton_engine::team::Party;

/// What one caller sees, worked out once per request: a list asks it of many
/// instances, and the team comes from the whole directory.
pub struct Sight {
    pub admin: bool,
    /// The caller, with their roles.
    pub own: Party,
    /// The people the caller leads, with their roles.
    pub team: Party,
}

impl Sight {
    pub fn of(store: &impl DirectoryRead, c: &Caller) -> Sight {
        Sight {
            admin: c.admin,
            own: Party {
                people: [c.person.clone()].into(),
                roles: c.roles.iter().cloned().collect(),
            },
            team: Party::team(&store.directory(), &c.person),
        }
    }

    pub fn instance(
        &self,
        store: &impl ParticipantRead,
        inst: &Instance,
    ) -> Result<bool, StoreError> {
        Ok(self.admin
            || store.takes_part(&self.own, inst)?
            || store.takes_part(&self.team, inst)?)
    }

    pub fn task(
        &self,
        store: &(impl InstanceRead + ParticipantRead),
        t: &Task,
    ) -> Result<bool, StoreError> {
        if self.admin || self.own.takes_part(t) || self.team.takes_part(t) {
            return Ok(true);
        }
        let inst = store.instance(t.id.instance)?;
        self.instance(store, &inst)
    }
}

pub fn sees_instance(
    store: &(impl DirectoryRead + ParticipantRead),
    c: &Caller,
    inst: &Instance,
) -> Result<bool, StoreError> {
    Sight::of(store, c).instance(store, inst)
}
