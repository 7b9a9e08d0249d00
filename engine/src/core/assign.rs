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
        // Bound to the element's person when its task starts (see `each`).
        Who::Member(m) | Who::HeadOfMember(m) => Err(stuck(format!(
            "`{}.{}` names no element here",
            m.var, m.field
        ))),
        Who::Except(base, _) => {
            let p = person(base, inst, ctx)?;
            if left_out(who, &[], inst, ctx).contains(&p) {
                let whom = format!("it names only {}", name_of(ctx, &p));
                return Err(nobody_left(who, &whom, false));
            }
            Ok(p)
        }
    }
}

/// The people `who`'s `except` leaves out, and `also` (the starter of a request who
/// may not decide it). An exception that names nobody (an empty field, someone
/// without a supervisor) leaves nobody out.
fn left_out(who: &Who, also: &[&str], inst: &Instance, ctx: &Ctx) -> Vec<String> {
    let mut out: Vec<String> = also.iter().map(|p| p.to_string()).collect();
    for x in who.excepted() {
        out.extend(recipients(x, inst, ctx));
    }
    out
}

/// Why `who` finds nobody: `whom` are left out, `by_rule` as a request's starter who
/// does not decide it, else by `except`.
fn nobody_left(who: &Who, whom: &str, by_rule: bool) -> Rejection {
    let why = if by_rule {
        "the person who started the request does not decide it"
    } else {
        "`except` leaves them out"
    };
    stuck(format!("`{who}` finds nobody: {whom}, and {why}"))
}

fn name_of(ctx: &Ctx, p: &str) -> String {
    ctx.directory
        .person(p)
        .map_or_else(|| p.to_string(), |x| x.name.clone())
}

pub fn resolve(who: &Who, inst: &Instance, ctx: &Ctx) -> Result<Resolved, Rejection> {
    resolve_leaving_out(who, &[], inst, ctx)
}

/// As [`resolve`], leaving out `also` besides those `who`'s `except` names. A role
/// stays a role when none of its members is left out; otherwise the task goes to the
/// members who remain, by name.
pub fn resolve_leaving_out(
    who: &Who,
    also: &[&str],
    inst: &Instance,
    ctx: &Ctx,
) -> Result<Resolved, Rejection> {
    let gone = left_out(who, also, inst, ctx);
    let remaining = |r: &str| -> Result<Vec<String>, Rejection> {
        let people: Vec<String> = ctx.directory.with_role(r).map(|p| p.id.clone()).collect();
        if people.is_empty() {
            return Err(stuck(format!("nobody has the role `{r}`")));
        }
        let kept: Vec<String> = people
            .iter()
            .filter(|p| !gone.contains(p))
            .cloned()
            .collect();
        if kept.is_empty() {
            let rule = people.iter().any(|p| also.contains(&p.as_str()));
            let whom = format!("everyone with the role `{r}` is left out");
            return Err(nobody_left(who, &whom, rule));
        }
        Ok(kept)
    };
    match who.base() {
        // Nobody left out: the role as it is, without listing its members.
        Who::Role(r) if gone.is_empty() => {
            if ctx.directory.with_role(r).next().is_none() {
                return Err(stuck(format!("nobody has the role `{r}`")));
            }
            Ok(Resolved::One(Candidates {
                people: vec![],
                roles: vec![r.clone()],
            }))
        }
        Who::Role(r) => {
            let kept = remaining(r)?;
            if ctx.directory.with_role(r).count() == kept.len() {
                return Ok(Resolved::One(Candidates {
                    people: vec![],
                    roles: vec![r.clone()],
                }));
            }
            Ok(Resolved::One(Candidates {
                people: kept,
                roles: vec![],
            }))
        }
        Who::EachWithRole(r) => Ok(Resolved::Each(remaining(r)?)),
        base => {
            let p = person(base, inst, ctx)?;
            if gone.contains(&p) {
                let whom = format!("it names only {}", name_of(ctx, &p));
                return Err(nobody_left(who, &whom, also.contains(&p.as_str())));
            }
            Ok(Resolved::One(Candidates {
                people: vec![p],
                roles: vec![],
            }))
        }
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
        Who::Except(base, _) => {
            let gone = left_out(who, &[], inst, ctx);
            recipients(base, inst, ctx)
                .into_iter()
                .filter(|p| !gone.contains(p))
                .collect()
        }
        other => person(other, inst, ctx)
            .map(|p| vec![p])
            .unwrap_or_default(),
    }
}

/// Is `actor` one of the task's candidates?
pub fn is_candidate(c: &Candidates, actor: &str, ctx: &Ctx) -> bool {
    super::may::offered(c, actor, ctx.directory)
}
