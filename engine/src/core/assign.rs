//! Who a task is for, worked out from the definition's `who` and the directory.

use super::{Candidates, Ctx, Instance, Rejection};
use baton_dsl::eval::Value;
use baton_dsl::model::Who;

pub enum Resolved {
    /// One task, offered to these candidates.
    One(Candidates),
    /// One task per person (`each person with role`).
    Each(Vec<String>),
}

fn stuck(msg: String) -> Rejection {
    Rejection::Stuck(msg)
}

/// The single person a `who` names (for `supervisor of X`, `head of department of X`).
pub fn person(who: &Who, inst: &Instance, ctx: &Ctx) -> Result<String, Rejection> {
    let dir = ctx.directory;
    match who {
        Who::Starter => Ok(inst.starter.clone()),
        Who::Person(p) => Ok(p.clone()),
        Who::Field(f) => match inst.data.get(f) {
            Some(Value::Person(p)) => Ok(p.clone()),
            _ => Err(stuck(format!("`{f}` holds no person yet"))),
        },
        Who::SupervisorOf(inner) => {
            let p = person(inner, inst, ctx)?;
            dir.person(&p)
                .and_then(|x| x.supervisor.clone())
                .ok_or_else(|| stuck(format!("`{p}` has no supervisor in the staff directory")))
        }
        Who::DeptHeadOf(inner) => {
            let p = person(inner, inst, ctx)?;
            let dept = dir
                .person(&p)
                .map(|x| x.department.clone())
                .ok_or_else(|| stuck(format!("`{p}` is not in the staff directory")))?;
            dir.head_of(&dept)
                .map(str::to_string)
                .ok_or_else(|| stuck(format!("department `{dept}` has no head")))
        }
        Who::HeadOfField(f) => match inst.data.get(f) {
            Some(Value::Department(d)) => dir
                .head_of(d)
                .map(str::to_string)
                .ok_or_else(|| stuck(format!("department `{d}` has no head"))),
            _ => Err(stuck(format!("`{f}` holds no department yet"))),
        },
        Who::HeadOfDept(d) => dir
            .head_of(d)
            .map(str::to_string)
            .ok_or_else(|| stuck(format!("department `{d}` has no head"))),
        Who::Role(r) | Who::EachWithRole(r) => {
            Err(stuck(format!("`{r}` is a role, not one person")))
        }
        Who::Address(f) => Err(stuck(format!("`{f}` is an address, not a person"))),
    }
}

pub fn resolve(who: &Who, inst: &Instance, ctx: &Ctx) -> Result<Resolved, Rejection> {
    match who {
        Who::Role(r) => {
            if ctx.directory.with_role(r).next().is_none() {
                return Err(stuck(format!("nobody has the role `{r}`")));
            }
            Ok(Resolved::One(Candidates {
                people: vec![],
                roles: vec![r.clone()],
            }))
        }
        Who::EachWithRole(r) => {
            let people: Vec<String> = ctx.directory.with_role(r).map(|p| p.id.clone()).collect();
            if people.is_empty() {
                return Err(stuck(format!("nobody has the role `{r}`")));
            }
            Ok(Resolved::Each(people))
        }
        other => Ok(Resolved::One(Candidates {
            people: vec![person(other, inst, ctx)?],
            roles: vec![],
        })),
    }
}

/// Everyone a message to `who` reaches: roles expand to their members.
pub fn recipients(who: &Who, inst: &Instance, ctx: &Ctx) -> Vec<String> {
    match who {
        Who::Role(r) | Who::EachWithRole(r) => {
            ctx.directory.with_role(r).map(|p| p.id.clone()).collect()
        }
        Who::Address(f) => inst
            .data
            .get(f)
            .map(|v| vec![v.to_string()])
            .unwrap_or_default(),
        other => person(other, inst, ctx)
            .map(|p| vec![p])
            .unwrap_or_default(),
    }
}

/// Is `actor` one of the task's candidates?
pub fn is_candidate(c: &Candidates, actor: &str, ctx: &Ctx) -> bool {
    c.people.iter().any(|p| p == actor) || c.roles.iter().any(|r| ctx.directory.has_role(actor, r))
}
