//! Who may hand a task on, and who may ask for more time: the rules `Reassign` and
//! `Extend` apply, asked also by the pages, which offer those forms only to the
//! people the engine would let through.

use super::{Candidates, Instance, Task, SYSTEM};
use crate::staff::Directory;
use crate::team::Party;

/// Baton itself, or a person with the admin role.
pub fn admin(dir: &Directory, admin_role: &str, actor: &str) -> bool {
    actor == SYSTEM || dir.has_role(actor, admin_role)
}

/// Offered to `actor`, by name or by one of their roles.
pub fn offered(c: &Candidates, actor: &str, dir: &Directory) -> bool {
    c.people.iter().any(|p| p == actor) || c.roles.iter().any(|r| dir.has_role(actor, r))
}

/// The person holding the task, someone who leads them (their supervisor, directly
/// or not, or their department's head), or an admin; an unclaimed task, someone who
/// leads a person it is offered to (by name or role), or an admin.
pub fn hand_on(dir: &Directory, admin_role: &str, t: &Task, actor: &str) -> bool {
    let holder = t.assignee.as_deref() == Some(actor);
    // Along the org chart: a supervisor or department head hands on a task of their
    // team, held by someone they lead or, unclaimed, offered to them.
    let lead = match t.assignee.as_deref() {
        Some(a) => dir.leads(actor, a),
        None => Party::team(dir, actor).offered(&t.candidates),
    };
    holder || lead || admin(dir, admin_role, actor)
}

/// Whoever may work on one of the instance's open tasks (holds it, or it is unclaimed
/// and offered to them), or an admin. Whether the definition allows more time, and
/// its condition, are the extension's own checks.
pub fn extend(dir: &Directory, admin_role: &str, inst: &Instance, actor: &str) -> bool {
    let works_on = |t: &Task| match &t.assignee {
        Some(a) => a == actor,
        None => offered(&t.candidates, actor, dir),
    };
    inst.active_tasks().any(works_on) || admin(dir, admin_role, actor)
}

/// As `extend`, for a running limit: the instance's starter too, who answers for the
/// limit to the end (a complaint's first responder, reminded of it with whoever holds
/// the step) and asks the customer's consent even while another person, a
/// department the complaint was handed over to, holds the step.
pub fn extend_limit(dir: &Directory, admin_role: &str, inst: &Instance, actor: &str) -> bool {
    actor == inst.starter || extend(dir, admin_role, inst, actor)
}
