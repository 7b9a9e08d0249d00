//! `for each X in LIST`: a step's task once per element of a list, each for the
//! person the element names, with its own due time and reminders. The step is done
//! when every element's task is (as with a task for each person with a role); a
//! list without elements has none, and the step goes on at once.

use super::flow::Run;
use super::*;
use crate::messages::Text;
use baton_dsl::eval::Element;
use baton_dsl::model::{ForEach, Reminder, Step, Who};

/// `who` with the element's fields put in: `X.owner` becomes the person it holds.
fn bind(who: &Who, each: &ForEach, element: &Element) -> Result<Who, Rejection> {
    Ok(match who {
        Who::Member(m) if m.var == each.var => match element.get(&m.field) {
            Some(baton_dsl::eval::Value::Person(p)) => Who::Person(p.clone()),
            _ => {
                return Err(Rejection::Stuck(format!(
                    "an element of `{}` names no person in `{}`",
                    each.list, m.field
                )))
            }
        },
        Who::HeadOfMember(m) if m.var == each.var => match element.get(&m.field) {
            Some(baton_dsl::eval::Value::Department(d)) => Who::HeadOfDept(d.clone()),
            _ => {
                return Err(Rejection::Stuck(format!(
                    "an element of `{}` names no department in `{}`",
                    each.list, m.field
                )))
            }
        },
        Who::SupervisorOf(w) => Who::SupervisorOf(Box::new(bind(w, each, element)?)),
        Who::DeptHeadOf(w) => Who::DeptHeadOf(Box::new(bind(w, each, element)?)),
        Who::Except(w, xs) => Who::Except(
            Box::new(bind(w, each, element)?),
            xs.iter()
                .map(|x| bind(x, each, element))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

impl<'a> Run<'a> {
    /// Start a `for each` step's tasks, one per element: its task, or its sign-off's
    /// signers (`kind` says which).
    pub(super) fn fan_out(
        &mut self,
        step: &'a Step,
        each: &ForEach,
        whos: &[Who],
        kind: TaskKind,
    ) -> Result<(), Rejection> {
        let elements: Vec<Element> = match self.inst.data.get(&each.list) {
            Some(baton_dsl::eval::Value::List(xs)) => xs.clone(),
            None => Vec::new(),
            Some(_) => return Err(Rejection::Stuck(format!("`{}` holds no list", each.list))),
        };
        // Nothing to do or to sign: the step goes on by its route (for a sign-off,
        // the approved one).
        if elements.is_empty() {
            return self.route(step, None);
        }
        let limit = self.inst.limits.iter().map(|l| l.deadline).min();
        for (i, element) in elements.iter().enumerate() {
            let due = self.element_due(step, each, element)?;
            let title =
                self.render_element(step.title.as_deref().unwrap_or(&step.name), each, element);
            for who in whos {
                let bound = bind(who, each, element)?;
                let places = match (assign::resolve(&bound, &self.inst, self.ctx)?, &kind) {
                    (assign::Resolved::One(c), _) => vec![c],
                    // Each such person signs for themselves, as in any sign-off.
                    (assign::Resolved::Each(people), TaskKind::Sign) => people
                        .into_iter()
                        .map(|p| Candidates {
                            people: vec![p],
                            roles: vec![],
                        })
                        .collect(),
                    // `each person with role` is not an element's: its people share
                    // one task here, as candidates.
                    (assign::Resolved::Each(people), _) => vec![Candidates {
                        people,
                        roles: vec![],
                    }],
                };
                for candidates in places {
                    // Elements whose signer is the same person (two partners of one
                    // department) are signed once: one person signs a step once.
                    let twice = kind == TaskKind::Sign
                        && self.inst.active_tasks().any(|t| {
                            t.kind == TaskKind::Sign
                                && t.step == step.name
                                && t.candidates == candidates
                        });
                    if twice {
                        continue;
                    }
                    let id = TaskId {
                        instance: self.inst.id,
                        n: self.inst.next_task,
                    };
                    self.emit(Event::TaskCreated {
                        task: Task {
                            id,
                            process: self.def.name.clone(),
                            step: step.name.clone(),
                            title: title.clone(),
                            kind: kind.clone(),
                            candidates,
                            assignee: None,
                            state: TaskState::Open,
                            created_at: self.now,
                            due: due.into_iter().chain(limit).min(),
                            completed_by: None,
                            choice: None,
                        },
                    });
                    if let Some(due) = due {
                        self.element_timers(step, id.n, i as u32, due);
                    }
                }
            }
        }
        Ok(())
    }

    /// Start a `for each` step's children, one per element, each given its
    /// element's values. Every child must be able to start before any is: one that
    /// cannot refuses them all (an incident when Baton reached the step itself), and
    /// a retry starts them all again.
    pub(super) fn start_children(
        &mut self,
        step: &'a Step,
        each: &ForEach,
        process: &str,
        with: &[(String, baton_dsl::model::Expr)],
        wait: bool,
    ) -> Result<(), Rejection> {
        let elements: Vec<Element> = match self.inst.data.get(&each.list) {
            Some(baton_dsl::eval::Value::List(xs)) => xs.clone(),
            None => Vec::new(),
            Some(_) => return Err(Rejection::Stuck(format!("`{}` holds no list", each.list))),
        };
        let mut given = Vec::with_capacity(elements.len());
        for (i, element) in elements.iter().enumerate() {
            let mut data = Data::new();
            for (k, e) in with {
                data.insert(k.clone(), self.eval_for(e, &each.var, element)?);
            }
            self.child_would_start(process, &data)
                .map_err(|r| match r {
                    Rejection::Requirement { message, fields } => Rejection::Requirement {
                        message: format!("element {} of `{}`: {message}", i + 1, each.list),
                        fields,
                    },
                    other => other,
                })?;
            given.push(data);
        }
        for data in given {
            self.start_child(step, process, data, wait);
        }
        // No elements, or nothing to wait for: the step goes on at once.
        if !wait || elements.is_empty() {
            return self.route(step, None);
        }
        Ok(())
    }

    /// The first `due` line of the step that holds for this element.
    fn element_due(
        &self,
        step: &Step,
        each: &ForEach,
        element: &Element,
    ) -> Result<Option<DateTime<Utc>>, Rejection> {
        for d in &step.due {
            let holds = match &d.when {
                None => true,
                Some(c) => baton_dsl::eval::truth(&self.eval_for(c, &each.var, element)?)
                    .map_err(|e| Rejection::Stuck(e.to_string()))?,
            };
            if holds {
                let v = self.eval_for(&d.at, &each.var, element)?;
                return self.moment(v).map(Some);
            }
        }
        Ok(None)
    }

    /// The due timer and the reminders of element `element`'s task `task`.
    fn element_timers(&mut self, step: &Step, task: u32, element: u32, due: DateTime<Utc>) {
        let kind = |reminder, every_minutes| TimerKind::ElementTimer {
            step: step.name.clone(),
            task,
            element,
            reminder,
            every_minutes,
        };
        self.set_timer(due, kind(None, None));
        for (index, r) in step.reminders.iter().enumerate() {
            let index = Some(index as u32);
            if let Some(d) = r.lead() {
                let at = self.after(due, &d.negate());
                if at > self.now {
                    self.set_timer(at, kind(index, None));
                }
            } else if let Some(d) = r.every() {
                let at = self.after(due, d);
                let every_minutes = (at - due).num_minutes();
                self.set_timer(at, kind(index, Some(every_minutes)));
            }
        }
    }

    /// A text with the element's `{X.field}` placeholders filled, and the others
    /// from the data as everywhere.
    fn render_element(&self, text: &str, each: &ForEach, element: &Element) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                return out;
            };
            let inner = after[..close].trim();
            let (key, fallback) = match inner.split_once(" or ") {
                Some((k, f)) => (k.trim(), f.trim()),
                None => (inner, "-"),
            };
            match key.split_once('.') {
                Some((x, f)) if x == each.var => match element.get(f) {
                    Some(v) => out.push_str(&self.shown_element(each, f, v)),
                    None => out.push_str(fallback),
                },
                _ => out.push_str(&self.render(&rest[open..open + close + 2])),
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// An element's value as people read it (a choice by its label).
    fn shown_element(&self, each: &ForEach, field: &str, v: &baton_dsl::eval::Value) -> String {
        use baton_dsl::model::Type;
        let label = match (v, self.def.field(&each.list).map(|f| &f.ty)) {
            (baton_dsl::eval::Value::Choice(c), Some(Type::List(l))) => match l.field(field) {
                Some(f) => match &f.ty {
                    Type::Choice(vs) => vs
                        .iter()
                        .find(|x| &x.name == c)
                        .and_then(|x| x.label.as_deref()),
                    _ => None,
                },
                None => None,
            },
            _ => None,
        };
        crate::display::value(v, label, self.ctx.directory, self.ctx.zone)
    }
}

/// An element's task was done: its due time and reminders are no longer news.
pub(super) fn task_done(run: &mut Run, task: TaskId) {
    let timers: Vec<u32> = run
        .inst
        .timers
        .iter()
        .filter(|t| matches!(&t.kind, TimerKind::ElementTimer { task: n, .. } if *n == task.n))
        .map(|t| t.n)
        .collect();
    for n in timers {
        run.emit(Event::TimerCancelled { n });
    }
}

/// An element's due time or reminder: to whoever holds its task (or whom the
/// reminder names, for the element), while the task is open.
pub(super) fn fire(run: &mut Run, timer: &Timer) -> Result<(), Rejection> {
    let TimerKind::ElementTimer {
        step,
        task,
        element,
        reminder,
        every_minutes,
    } = &timer.kind
    else {
        return Ok(());
    };
    let id = TaskId {
        instance: run.inst.id,
        n: *task,
    };
    let Some(t) = run.inst.task(id).filter(|t| t.state.is_active()).cloned() else {
        return Ok(());
    };
    let Some(s) = run.def.step(step) else {
        return Ok(());
    };
    let holder = match &t.assignee {
        Some(a) => vec![a.clone()],
        None => run.people_of(&t.candidates),
    };
    let instance = run.instance_name();
    let Some(index) = reminder else {
        let text = run.text(Text::Overdue {
            instance: &instance,
            step: &t.title,
        });
        run.message(MessageKind::Overdue, holder, text, Some(id));
        return Ok(());
    };
    let Some(r) = s.reminders.get(*index as usize) else {
        return Ok(());
    };
    let default_text = match every_minutes {
        Some(_) => run.text(Text::StillOverdue {
            instance: &instance,
            step: &t.title,
        }),
        None => run.text(Text::DueSoon {
            instance: &instance,
            step: &t.title,
        }),
    };
    let each = s.for_each.clone();
    let el = each
        .as_ref()
        .and_then(|e| match run.inst.data.get(&e.list) {
            Some(baton_dsl::eval::Value::List(xs)) => xs.get(*element as usize).cloned(),
            _ => None,
        });
    let to = match (r.to(), &each, &el) {
        (Some(w), Some(e), Some(el)) => match bind(w, e, el) {
            Ok(w) => assign::recipients(&w, &run.inst, run.ctx),
            Err(_) => holder,
        },
        (Some(w), _, _) => assign::recipients(w, &run.inst, run.ctx),
        (None, _, _) => holder,
    };
    let text = match (r.text(), &each, &el) {
        (Some(t), Some(e), Some(el)) => run.render_element(t, e, el),
        (Some(t), _, _) => run.render(t),
        (None, _, _) => default_text,
    };
    run.message(MessageKind::Reminder, to, text, Some(id));
    if let Some(m) = every_minutes {
        let next = super::timers::next_repeat(run, timer.due, repeat_of(r), *m);
        run.set_timer(next, timer.kind.clone());
    }
    Ok(())
}

fn repeat_of(r: &Reminder) -> Option<&baton_dsl::model::Duration> {
    r.every()
}
