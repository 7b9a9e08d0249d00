//! Who-chains against the directory's shape: `supervisor of X` finds nobody for a
//! person without a supervisor (the general manager). With `--staff`, a chain that is
//! certain to find nobody for some person it may start from is a warning naming them.

use super::Checker;
use crate::ast;
use crate::catalogue::Code;
use crate::diagnostic::Diagnostic;
use crate::model::Type;
use std::collections::BTreeSet;

impl Checker<'_> {
    pub(super) fn who_chains(&mut self, p: &ast::Process) {
        let Some(staff) = self.ctx.staff else { return };
        if staff.shape.is_empty() {
            return;
        }
        let mut whos: Vec<&ast::Who> = Vec::new();
        for s in &p.steps {
            for st in &s.body {
                match st {
                    ast::Stmt::Task(w, _) => whos.push(w),
                    ast::Stmt::Notify { to, .. } => whos.push(to),
                    ast::Stmt::Sign { signers, .. } => whos.extend(signers),
                    ast::Stmt::OnOverdue(a, _) => whos.extend(action_who(a)),
                    ast::Stmt::Remind(r, _) => whos.extend(r.to.as_ref()),
                    _ => {}
                }
            }
        }
        for l in &p.limits {
            whos.extend(l.on_breach.iter().filter_map(action_who));
            whos.extend(l.reminders.iter().filter_map(|r| r.to.as_ref()));
        }
        let mut found = Vec::new();
        for w in whos {
            // What `except` leaves out is another matter (W007).
            let w = match w {
                ast::Who::Except(b, _, _) => b,
                w => w,
            };
            if !matches!(w, ast::Who::SupervisorOf(..) | ast::Who::DeptHeadOf(..)) {
                continue;
            }
            let mut nobody = Vec::new();
            self.chain(w, p, false, &mut nobody);
            nobody.sort();
            nobody.dedup();
            if nobody.is_empty() {
                continue;
            }
            found.push(Diagnostic::new(
                Code::NobodyFound,
                w.span(),
                &[&named(staff, &nobody)],
            ));
        }
        // A signer who may turn out to be the starter can only refuse.
        let starters: BTreeSet<String> = {
            let mut none = Vec::new();
            self.chain(&ast::Who::Starter(0..0), p, false, &mut none)
        };
        for s in &p.steps {
            if s.body
                .iter()
                .any(|st| matches!(st, ast::Stmt::SelfApproval(_)))
            {
                continue;
            }
            for st in &s.body {
                let ast::Stmt::Sign { signers, mode, .. } = st else {
                    continue;
                };
                // With `all` or `in order`, every place must approve: a place of
                // `each person with role` held by the starter can only be refused.
                let every_place = matches!(mode, ast::SignMode::All | ast::SignMode::InOrder);
                for signer in signers {
                    // `except` leaves out those it names for certain (`except
                    // starter`: the starter never signs here).
                    let (w, out): (&ast::Who, Vec<&str>) = match signer {
                        ast::Who::Except(_, xs, _)
                            if xs.iter().any(|x| matches!(x, ast::Who::Starter(_))) =>
                        {
                            continue
                        }
                        ast::Who::Except(b, xs, _) => (
                            b,
                            xs.iter()
                                .filter_map(|x| match x {
                                    ast::Who::Person(n) => Some(n.text.as_str()),
                                    _ => None,
                                })
                                .collect(),
                        ),
                        w => (w, Vec::new()),
                    };
                    let members = |r: &str| -> BTreeSet<String> {
                        staff
                            .shape
                            .iter()
                            .filter(|(id, x)| x.roles.contains(r) && !out.contains(&id.as_str()))
                            .map(|(id, _)| id.clone())
                            .collect()
                    };
                    let role = match w {
                        ast::Who::EachWithRole(r) => Some(r),
                        ast::Who::Name(n) if !self.fields.contains_key(&n.text) => Some(n),
                        _ => None,
                    };
                    let mut may_be: BTreeSet<String> = match (w, role) {
                        (ast::Who::Starter(_), _) => continue,
                        (ast::Who::EachWithRole(r), _) if every_place => members(&r.text),
                        // A role's place that only one person can take is theirs:
                        // when they started it, they can only refuse.
                        (_, Some(r)) => {
                            let m = members(&r.text);
                            if m.len() == 1 {
                                m
                            } else {
                                BTreeSet::new()
                            }
                        }
                        // A person field may hold anyone, so here a chain from one
                        // starts from everybody.
                        _ => self.chain(w, p, true, &mut Vec::new()),
                    };
                    may_be.retain(|id| !out.contains(&id.as_str()));
                    let both: Vec<String> = may_be.intersection(&starters).cloned().collect();
                    if both.is_empty() {
                        continue;
                    }
                    found.push(Diagnostic::new(
                        Code::StarterMaySign,
                        signer.span(),
                        &[&named(staff, &both)],
                    ));
                }
            }
        }
        self.diags.extend(found);
    }

    /// The people a who-clause may stand for; those for whom a step up the chain
    /// finds nobody go to `nobody`. A person field stands for nobody in particular,
    /// or, with `fields_anyone`, for anyone in the directory.
    pub(super) fn chain(
        &self,
        w: &ast::Who,
        p: &ast::Process,
        fields_anyone: bool,
        nobody: &mut Vec<String>,
    ) -> BTreeSet<String> {
        let Some(staff) = self.ctx.staff else {
            return BTreeSet::new();
        };
        let with_roles = |roles: &BTreeSet<&str>| -> BTreeSet<String> {
            staff
                .shape
                .iter()
                .filter(|(_, x)| x.roles.iter().any(|r| roles.contains(r.as_str())))
                .map(|(id, _)| id.clone())
                .collect()
        };
        let everyone = || staff.shape.keys().cloned().collect::<BTreeSet<String>>();
        match w {
            ast::Who::Starter(_) => {
                if p.started_by.is_empty() {
                    everyone()
                } else {
                    with_roles(&p.started_by.iter().map(|n| n.text.as_str()).collect())
                }
            }
            ast::Who::Person(n) => BTreeSet::from([n.text.clone()]),
            ast::Who::Name(n) => match self.fields.get(&n.text).map(|f| &f.ty) {
                Some(Type::Person) => {
                    // Which person a field holds is data; only a scheduled start for
                    // each person with a role says who `subject` can be. For any
                    // other person field a missing supervisor is a run-time matter.
                    let roles: BTreeSet<&str> = p
                        .schedules
                        .iter()
                        .filter_map(|s| s.for_each_role.as_ref().map(|r| r.text.as_str()))
                        .collect();
                    if fields_anyone {
                        everyone()
                    } else if n.text == "subject" && !roles.is_empty() && p.started_by.is_empty() {
                        with_roles(&roles)
                    } else {
                        BTreeSet::new()
                    }
                }
                _ => BTreeSet::new(),
            },
            ast::Who::HeadOf(n) => match staff.heads.get(&n.text) {
                Some(h) => BTreeSet::from([h.clone()]),
                None => staff.heads.values().cloned().collect(),
            },
            // The head of an element's department: any head, as for a field's.
            ast::Who::HeadOfMember(..) => staff.heads.values().cloned().collect(),
            ast::Who::EachWithRole(_) | ast::Who::Member(..) => BTreeSet::new(),
            // Those the base names, some of whom may be left out.
            ast::Who::Except(b, _, _) => self.chain(b, p, fields_anyone, nobody),
            ast::Who::SupervisorOf(inner, _) => {
                let mut out = BTreeSet::new();
                for id in self.chain(inner, p, fields_anyone, nobody) {
                    match staff.shape.get(&id).and_then(|x| x.supervisor.clone()) {
                        Some(s) => {
                            out.insert(s);
                        }
                        None => nobody.push(id),
                    }
                }
                out
            }
            ast::Who::DeptHeadOf(inner, _) => self
                .chain(inner, p, fields_anyone, nobody)
                .iter()
                .filter_map(|id| staff.shape.get(id))
                .filter_map(|x| staff.heads.get(&x.department).cloned())
                .collect(),
        }
    }
}

/// People as a reader knows them: "陳靜 (chen_jing)", at most three, then how many
/// more.
pub(super) fn named(staff: &super::StaffNames, ids: &[String]) -> String {
    let shown: Vec<String> = ids
        .iter()
        .take(3)
        .map(|id| match staff.shape.get(id) {
            Some(x) if !x.name.is_empty() => format!("{} ({id})", x.name),
            _ => id.clone(),
        })
        .collect();
    let more = if ids.len() > 3 {
        format!(" and {} more", ids.len() - 3)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

fn action_who(a: &ast::Action) -> Option<&ast::Who> {
    match a {
        ast::Action::Notify(w, _) | ast::Action::Escalate(w) => Some(w),
        ast::Action::Goto(_) => None,
    }
}
