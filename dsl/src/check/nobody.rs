//! Who positions that find nobody once people are left out: by `except`, and, for a
//! choice offered to a role or a head, by the rule that the person who started a
//! request does not decide it (unless `allow self approval`).
//!
//! `X except X` finds nobody whatever the directory says. With `--staff`, each person
//! who may start the instance is tried in turn: when everyone the position names for
//! them is left out, it finds nobody when they start it, and the warning names them.
//! Who a person field holds is data, so a position or an exception that reads one is
//! left to run time.

use super::people::named;
use super::Checker;
use crate::ast::{self, Stmt};
use crate::catalogue::Code;
use crate::diagnostic::Diagnostic;
use crate::model::Type;
use std::collections::BTreeSet;

/// A who position, and whether the starter is left out of it without being named.
struct Position<'a> {
    who: &'a ast::Who,
    starter_left_out: bool,
}

impl Checker<'_> {
    pub(super) fn nobody_left(&mut self, p: &ast::Process) {
        let mut found = Vec::new();
        for pos in positions(p, self) {
            if let Some(d) = self.nobody_at(&pos, p) {
                found.push(d);
            }
        }
        self.diags.extend(found);
    }

    fn nobody_at(&self, pos: &Position, p: &ast::Process) -> Option<Diagnostic> {
        let (base, except): (&ast::Who, &[ast::Who]) = match pos.who {
            ast::Who::Except(b, xs, _) => (b, xs),
            w => (w, &[]),
        };
        if except.is_empty() && !pos.starter_left_out {
            return None;
        }
        let everyone = "everyone it names is left out by `except`";
        if except.iter().any(|x| key(x) == key(base)) {
            return Some(Diagnostic::new(
                Code::NobodyLeft,
                pos.who.span(),
                &[&"", &everyone],
            ));
        }
        let staff = self.ctx.staff.filter(|s| !s.shape.is_empty())?;
        // Only a request started by hand has a starter who must not decide it.
        if except.is_empty() && p.started_by.is_empty() {
            return None;
        }
        // Who may start it: the roles of `started by`; a process started by another
        // one carries that one's starter, who may be anyone.
        let starters = self.chain(&ast::Who::Starter(0..0), p, false, &mut Vec::new());
        let mut nobody = Vec::new();
        let mut by_rule = false;
        for s in &starters {
            let Some(names) = self.people(base, s) else {
                continue;
            };
            if names.is_empty() {
                // Nobody to begin with: `supervisor of` the top, reported apart (W005).
                continue;
            }
            let mut out: BTreeSet<String> = BTreeSet::new();
            for x in except {
                out.extend(self.people(x, s).unwrap_or_default());
            }
            if names.is_subset(&out) {
                nobody.push(s.clone());
            } else if pos.starter_left_out && !p.started_by.is_empty() && {
                out.insert(s.clone());
                names.is_subset(&out)
            } {
                nobody.push(s.clone());
                by_rule = true;
            }
        }
        if nobody.is_empty() {
            return None;
        }
        let reads_starter = reads_starter(base) || except.iter().any(reads_starter);
        let when = if reads_starter || by_rule {
            format!(" when {} starts it", named(staff, &nobody))
        } else {
            String::new()
        };
        let why = if by_rule {
            "the person who started a request does not decide it (`allow self approval` lets them)"
        } else {
            everyone
        };
        Some(Diagnostic::new(
            Code::NobodyLeft,
            pos.who.span(),
            &[&when, &why],
        ))
    }

    /// The people a who names when `starter` started the instance; `None` when it
    /// depends on data (a person or department field).
    fn people(&self, w: &ast::Who, starter: &str) -> Option<BTreeSet<String>> {
        let staff = self.ctx.staff?;
        let with_role = |r: &str| -> BTreeSet<String> {
            staff
                .shape
                .iter()
                .filter(|(_, x)| x.roles.contains(r))
                .map(|(id, _)| id.clone())
                .collect()
        };
        Some(match w {
            ast::Who::Starter(_) => BTreeSet::from([starter.to_string()]),
            ast::Who::Person(n) => BTreeSet::from([n.text.clone()]),
            ast::Who::Name(n) => match self.fields.get(&n.text) {
                Some(_) => return None,
                None => with_role(&n.text),
            },
            ast::Who::EachWithRole(r) => with_role(&r.text),
            // An element's person is data.
            ast::Who::Member(..) | ast::Who::HeadOfMember(..) => return None,
            ast::Who::HeadOf(n) => match self.fields.get(&n.text) {
                Some(_) => return None,
                None => staff.heads.get(&n.text).cloned().into_iter().collect(),
            },
            ast::Who::SupervisorOf(x, _) => self
                .people(x, starter)?
                .iter()
                .filter_map(|id| staff.shape.get(id)?.supervisor.clone())
                .collect(),
            ast::Who::DeptHeadOf(x, _) => self
                .people(x, starter)?
                .iter()
                .filter_map(|id| staff.heads.get(&staff.shape.get(id)?.department).cloned())
                .collect(),
            ast::Who::Except(b, xs, _) => {
                let mut names = self.people(b, starter)?;
                for x in xs {
                    for gone in self.people(x, starter).unwrap_or_default() {
                        names.remove(&gone);
                    }
                }
                names
            }
        })
    }

    /// A role, or a head of a department, as the checker resolves names.
    fn is_role_or_head(&self, w: &ast::Who) -> bool {
        match w {
            ast::Who::Except(b, _, _) => self.is_role_or_head(b),
            ast::Who::Name(n) => !matches!(
                self.fields.get(&n.text).map(|f| &f.ty),
                Some(Type::Person | Type::Text)
            ),
            ast::Who::EachWithRole(_) | ast::Who::HeadOf(_) | ast::Who::DeptHeadOf(..) => true,
            _ => false,
        }
    }
}

/// Every who position of the definition.
fn positions<'a>(p: &'a ast::Process, c: &Checker) -> Vec<Position<'a>> {
    let mut out = Vec::new();
    let plain = |who: &'a ast::Who| Position {
        who,
        starter_left_out: false,
    };
    for s in &p.steps {
        // A choice offered to a role or a head is not made by the request's starter,
        // on the task and on whoever it is escalated to.
        let decision = s.body.iter().any(|st| matches!(st, Stmt::Choose(..)))
            && !s.body.iter().any(|st| matches!(st, Stmt::SelfApproval(_)))
            && s.body.iter().any(|st| matches!(st, Stmt::Task(..)));
        let decided = |who: &'a ast::Who| Position {
            who,
            starter_left_out: decision && c.is_role_or_head(who),
        };
        for st in &s.body {
            match st {
                Stmt::Task(w, _) => out.push(decided(w)),
                Stmt::Notify { to, .. } => out.push(plain(to)),
                Stmt::Sign { signers, .. } => out.extend(signers.iter().map(plain)),
                Stmt::OnOverdue(ast::Action::Escalate(w), _) => out.push(decided(w)),
                Stmt::OnOverdue(ast::Action::Notify(w, _), _) => out.push(plain(w)),
                Stmt::Remind(r, _) => out.extend(r.to.iter().map(plain)),
                _ => {}
            }
        }
    }
    for l in &p.limits {
        for a in &l.on_breach {
            if let ast::Action::Notify(w, _) | ast::Action::Escalate(w) = a {
                out.push(plain(w));
            }
        }
        out.extend(l.reminders.iter().filter_map(|r| r.to.as_ref()).map(plain));
    }
    out
}

/// A who as written, without positions, to see `X except X`.
fn key(w: &ast::Who) -> String {
    match w {
        ast::Who::EachWithRole(n) | ast::Who::Name(n) => n.text.clone(),
        ast::Who::SupervisorOf(x, _) => format!("supervisor of {}", key(x)),
        ast::Who::DeptHeadOf(x, _) => format!("head of department of {}", key(x)),
        ast::Who::HeadOf(n) => format!("head of {}", n.text),
        ast::Who::Starter(_) => "starter".into(),
        ast::Who::Person(n) => format!("person {}", n.text),
        ast::Who::Member(m, _) => format!("{}.{}", m.var.text, m.field.text),
        ast::Who::HeadOfMember(m, _) => format!("head of {}.{}", m.var.text, m.field.text),
        ast::Who::Except(b, xs, _) => {
            let xs: Vec<String> = xs.iter().map(key).collect();
            format!("{} except {}", key(b), xs.join(" except "))
        }
    }
}

fn reads_starter(w: &ast::Who) -> bool {
    match w {
        ast::Who::Starter(_) => true,
        ast::Who::SupervisorOf(x, _) | ast::Who::DeptHeadOf(x, _) => reads_starter(x),
        ast::Who::Except(b, xs, _) => reads_starter(b) || xs.iter().any(reads_starter),
        _ => false,
    }
}
