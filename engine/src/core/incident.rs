//! Incidents: what Baton tried on its own for an instance (a timer, a child start, the
//! route after a task) was refused. Nothing is dropped: the attempt is undone, the
//! instance's status becomes `incident`, its history records the reason and the
//! attempt, and the admins and the process's owner are told. An admin then retries
//! (after fixing the cause), sets corrected data and retries, moves the instance to
//! a step, or cancels it.

use super::apply::{after_signature, child_ended, invalid, is_admin, Effect};
use super::flow::Run;
use super::timers::fire_timer;
use super::validate::check_input;
use super::*;
use baton_dsl::model::{Action, Definition, Expr, Route, Step, Wait, Who};

/// What Baton tried when it was refused; a retry tries exactly this again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attempt {
    /// Timer `n`, which stays in the instance until the retry fires it again.
    Timer { n: u32, timer: TimerKind },
    /// Starting the child process of step `step` (its `with` values are worked out
    /// again on a retry, so corrected data counts).
    StartChild { step: String, process: String },
    /// Going on after the child `child` ended with `outcome`.
    ChildEnded { child: InstanceId, outcome: String },
    /// Going on from step `step` after its last task was done (with `choice`).
    Route {
        step: String,
        choice: Option<String>,
    },
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Attempt::Timer { timer, .. } => match timer {
                TimerKind::Wait { step } => write!(f, "the end of the wait of step `{step}`"),
                TimerKind::Due { step } => write!(f, "the due time of step `{step}`"),
                TimerKind::Remind { step }
                | TimerKind::RemindEvery { step, .. }
                | TimerKind::StepReminder { step, .. } => {
                    write!(f, "a reminder of step `{step}`")
                }
                TimerKind::ElementTimer { step, task, .. } => {
                    write!(
                        f,
                        "the due time or a reminder of task {task} of step `{step}`"
                    )
                }
                TimerKind::LimitBreach { limit } => write!(f, "the breach of limit `{limit}`"),
                TimerKind::LimitRemind { limit }
                | TimerKind::LimitRemindEvery { limit, .. }
                | TimerKind::LimitReminder { limit, .. } => {
                    write!(f, "a reminder of limit `{limit}`")
                }
            },
            Attempt::StartChild { step, process } => {
                write!(f, "starting `{process}` at step `{step}`")
            }
            Attempt::ChildEnded { child, outcome } => {
                write!(f, "going on after instance {child} ended ({outcome})")
            }
            Attempt::Route { step, .. } => write!(f, "going on from step `{step}`"),
        }
    }
}

/// How an admin resolved an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Retry,
    /// Corrected values of these fields (the values are in the `DataSet` beside it),
    /// then a retry.
    Set {
        fields: Vec<String>,
    },
    Move {
        step: String,
    },
    Cancel,
}

impl std::fmt::Display for Resolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resolution::Retry => write!(f, "retried"),
            Resolution::Set { fields } => write!(f, "set {} and retried", fields.join(", ")),
            Resolution::Move { step } => write!(f, "moved to `{step}`"),
            Resolution::Cancel => write!(f, "cancelled"),
        }
    }
}

/// An open incident as the store keeps it (one per instance, while it lasts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub instance: InstanceId,
    pub process: String,
    #[serde(with = "time")]
    pub at: DateTime<Utc>,
    pub reason: String,
    pub attempted: Attempt,
}

impl<'a> Run<'a> {
    /// Record an incident: the status, the reason and the attempt, and a message to
    /// the admins and the process's owner.
    pub fn raise(&mut self, reason: String, attempted: Attempt) {
        let text = self.incident_text(&reason, &attempted);
        self.emit(Event::IncidentRaised { reason, attempted });
        let mut to: Vec<String> = self
            .ctx
            .directory
            .with_role(self.ctx.admin_role)
            .map(|p| p.id.clone())
            .collect();
        if let Some(owner) = self.ctx.owners.get(&self.def.name) {
            to.extend(self.ctx.directory.with_role(owner).map(|p| p.id.clone()));
        }
        to.sort();
        to.dedup();
        self.message(MessageKind::Incident, to, text, None);
    }

    /// Run `f`; if it is refused, undo what it did and raise an incident instead,
    /// unless an admin is resolving one (then the refusal is their answer).
    pub fn or_incident(
        &mut self,
        attempted: Attempt,
        f: impl FnOnce(&mut Run<'a>) -> Result<(), Rejection>,
    ) -> Result<(), Rejection> {
        if self.resolving {
            return f(self);
        }
        let cp = self.checkpoint();
        match f(self) {
            Ok(()) => Ok(()),
            Err(r) => {
                self.rollback(cp);
                self.raise(r.to_string(), attempted);
                Ok(())
            }
        }
    }

    /// The message for the admins, in the company's language: the process, the
    /// instance with its key data, what failed and why.
    fn incident_text(&self, reason: &str, attempted: &Attempt) -> String {
        let title = self.def.title.as_deref().unwrap_or(&self.def.name);
        let key = self.key_data();
        let key = if key.is_empty() {
            String::new()
        } else {
            format!("（{key}）")
        };
        let step_title = |s: &str| -> String {
            self.def
                .step(s)
                .and_then(|x| x.title.clone())
                .unwrap_or_else(|| s.to_string())
        };
        let what = match attempted {
            Attempt::Timer { timer, .. } => match timer {
                TimerKind::Wait { step } => format!("「{}」的等待到期後繼續", step_title(step)),
                TimerKind::Due { step } => format!("「{}」的逾期處理", step_title(step)),
                TimerKind::Remind { step }
                | TimerKind::RemindEvery { step, .. }
                | TimerKind::StepReminder { step, .. }
                | TimerKind::ElementTimer { step, .. } => {
                    format!("「{}」的提醒", step_title(step))
                }
                TimerKind::LimitBreach { limit } => format!("時限「{limit}」的超時處理"),
                TimerKind::LimitRemind { limit }
                | TimerKind::LimitRemindEvery { limit, .. }
                | TimerKind::LimitReminder { limit, .. } => {
                    format!("時限「{limit}」的提醒")
                }
            },
            Attempt::StartChild { step, process } => {
                format!("「{}」啟動子流程 {process}", step_title(step))
            }
            Attempt::ChildEnded { child, .. } => format!("子流程 #{child} 結束後繼續"),
            Attempt::Route { step, .. } => format!("「{}」完成後繼續", step_title(step)),
        };
        let instance = format!("「{title}」#{}{key}", self.inst.id);
        // The attempt in the company's language: as written above in Chinese, as
        // the history writes it in English.
        let what = match self.ctx.language {
            crate::messages::Language::ZhHant => what,
            crate::messages::Language::En => attempted.to_string(),
        };
        self.text(crate::messages::Text::Incident {
            instance: &instance,
            attempted: &what,
            reason,
        })
    }

    /// Up to three values given at the start, as `label：value` (people by name).
    fn key_data(&self) -> String {
        use baton_dsl::model::FieldSource;
        self.def
            .fields
            .iter()
            .filter(|f| matches!(f.source, FieldSource::Start | FieldSource::Written))
            .filter_map(|f| {
                let v = self.inst.data.get(&f.name)?;
                let shown = match v {
                    Value::Person(p) => self
                        .ctx
                        .directory
                        .person(p)
                        .map_or_else(|| p.clone(), |x| x.name.clone()),
                    other => other.to_string(),
                };
                Some(format!(
                    "{}：{shown}",
                    f.label.as_deref().unwrap_or(&f.name)
                ))
            })
            .take(3)
            .collect::<Vec<_>>()
            .join("，")
    }
}

/// Only admins resolve incidents, and only of instances that have one.
fn resolver(run: &Run, actor: &str) -> Result<(), Rejection> {
    if !is_admin(run, actor) {
        return Err(Rejection::Forbidden(format!(
            "only an admin may resolve the incident of instance {}",
            run.inst.id
        )));
    }
    if run.inst.status != Status::Incident {
        return Err(Rejection::Conflict(format!(
            "instance {} has no incident (it is {})",
            run.inst.id,
            run.inst.status.as_str()
        )));
    }
    Ok(())
}

/// Try again what failed, after setting corrected data. All or nothing: if it is
/// refused again, nothing changes and the refusal says why.
pub(super) fn retry(
    run: &mut Run,
    input: &serde_json::Map<String, serde_json::Value>,
    attempted: Option<&Attempt>,
    actor: &str,
) -> Result<(), Rejection> {
    resolver(run, actor)?;
    let attempted = attempted
        .cloned()
        .ok_or_else(|| Rejection::Stuck("the incident's record is missing".into()))?;
    run.resolving = true;
    let values = check_input(
        run.def,
        input,
        None,
        &super::apply::reading(run.ctx, run.now),
    )
    .map_err(Rejection::Invalid)?;
    let how = if values.is_empty() {
        Resolution::Retry
    } else {
        let fields = values.keys().cloned().collect();
        run.emit(Event::DataSet { values });
        Resolution::Set { fields }
    };
    run.emit(Event::IncidentResolved { how });
    match attempted {
        Attempt::Timer { n, .. } => {
            if let Some(timer) = run.inst.timers.iter().find(|t| t.n == n).cloned() {
                fire_timer(run, &timer)?;
            }
        }
        Attempt::StartChild { step, .. } => {
            let s = run
                .def
                .step(&step)
                .ok_or_else(|| Rejection::Stuck(format!("no step `{step}`")))?;
            // Which element's child the store refused is not recorded: its
            // siblings may have started. An admin moves the instance on instead.
            if s.for_each.is_some() {
                return Err(Rejection::Conflict(format!(
                    "a child of step `{step}` could not start, one per element: move the instance to a step, or cancel it"
                )));
            }
            if let Action::Start { process, with, .. } = &s.action {
                let mut data = Data::new();
                for (k, e) in with {
                    data.insert(k.clone(), run.eval(e)?);
                }
                run.effects.push(Effect::StartChild {
                    step: step.clone(),
                    process: process.clone(),
                    data,
                    parent: run.inst.id,
                    starter: run.inst.starter.clone(),
                });
            }
        }
        Attempt::ChildEnded { child, outcome } => {
            if run.inst.awaiting_child {
                child_ended(run, child, &outcome)?;
            }
        }
        Attempt::Route { step, choice } => {
            let s = run
                .def
                .step(&step)
                .ok_or_else(|| Rejection::Stuck(format!("no step `{step}`")))?;
            if run.inst.step.as_deref() == Some(step.as_str()) {
                match &s.action {
                    Action::Sign {
                        mode,
                        signers,
                        on_refuse,
                        ..
                    } => after_signature(run, s, *mode, signers, on_refuse.as_deref())?,
                    _ => run.route(s, choice.as_deref())?,
                }
            }
        }
    }
    went_on_meanwhile(run)
}

/// A child that ended while its parent had an incident was recorded then; once the
/// parent runs again at that step, it goes on.
fn went_on_meanwhile(run: &mut Run) -> Result<(), Rejection> {
    let Some(step) = run.step() else {
        return Ok(());
    };
    let waits_for_child = matches!(step.action, Action::Start { wait: true, .. });
    if run.inst.status == Status::Running
        && waits_for_child
        && !run.inst.waiting
        && !run.inst.awaiting_child
    {
        // By the end the child reached, kept when it ended.
        let outcome = run.inst.child_outcome.clone();
        return run.route(step, outcome.as_deref());
    }
    Ok(())
}

/// Move an instance with an incident to a step (or an end) of its definition, once
/// the data that step reads is there.
pub(super) fn move_to(run: &mut Run, target: &str, actor: &str) -> Result<(), Rejection> {
    resolver(run, actor)?;
    if run.def.step(target).is_none() && run.def.end(target).is_none() {
        let mut names: Vec<&str> = run.def.steps.iter().map(|s| s.name.as_str()).collect();
        names.extend(run.def.ends.iter().map(|e| e.name.as_str()));
        return Err(invalid(
            "step",
            format!(
                "{} has no step `{target}` (its steps: {})",
                run.def.name,
                names.join(", ")
            ),
        ));
    }
    let missing = missing_for(run.def, target, &run.inst.data);
    if !missing.is_empty() {
        return Err(Rejection::Invalid(missing));
    }
    run.resolving = true;
    run.emit(Event::IncidentResolved {
        how: Resolution::Move {
            step: target.to_string(),
        },
    });
    run.goto(target)
}

/// The required fields step `target` reads that have no value: a move there would
/// only stop again. `target` an end reads nothing.
pub(super) fn missing_for(def: &Definition, target: &str, data: &Data) -> Vec<FieldError> {
    let Some(step) = def.step(target) else {
        return Vec::new();
    };
    let mut read = Vec::new();
    reads(step, &mut read);
    let set_here: Vec<&String> = step
        .sets
        .iter()
        .map(|(k, _)| k)
        .chain(match &step.action {
            Action::Decide(rules) => rules
                .iter()
                .flat_map(|r| r.sets.iter().map(|(k, _)| k))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    read.sort();
    read.dedup();
    read.into_iter()
        .filter(|f| !set_here.contains(&f))
        .filter(|f| required(def, f) && !data.contains_key(f))
        .map(|f| FieldError::new(&f, format!("step `{target}` needs it, and it has no value")))
        .collect()
}

/// A field that must have a value once its source has run: a start field or a
/// computed one not marked optional, or one a step must fill.
fn required(def: &Definition, field: &str) -> bool {
    use baton_dsl::model::FieldSource;
    let Some(f) = def.field(field) else {
        return false;
    };
    match &f.source {
        FieldSource::Filled(step) => def
            .step(step)
            .and_then(|s| s.fills.iter().find(|x| x.field == field))
            .is_some_and(|x| !x.optional),
        _ => !f.optional,
    }
}

/// Every field a step reads: its wait, values, messages (recipients and `{field}`
/// placeholders), who it is for, its decision, its child's values, due times and
/// routes.
fn reads(step: &Step, out: &mut Vec<String>) {
    let expr = |e: &Expr, out: &mut Vec<String>| super::apply::fields_read(e, out);
    if let Some(Wait::For(e) | Wait::Until(e)) = &step.wait {
        expr(e, out);
    }
    for (_, e) in &step.sets {
        expr(e, out);
    }
    for n in &step.notifies {
        who_reads(&n.to, out);
        placeholders(&n.message, out);
    }
    match &step.action {
        Action::Auto => {}
        Action::Task(w) => who_reads(w, out),
        Action::Sign { signers, .. } => signers.iter().for_each(|w| who_reads(w, out)),
        Action::Decide(rules) => {
            for r in rules {
                if let Some(c) = &r.cond {
                    expr(c, out);
                }
                for (_, e) in &r.sets {
                    expr(e, out);
                }
            }
        }
        Action::Start { with, .. } => with.iter().for_each(|(_, e)| expr(e, out)),
        // Its branches' steps read what they read when they are entered.
        Action::Parallel(_) => {}
    }
    for d in &step.due {
        expr(&d.at, out);
        if let Some(w) = &d.when {
            expr(w, out);
        }
    }
    if let Route::Next(ns) = &step.route {
        for (c, _) in ns {
            if let Some(c) = c {
                expr(c, out);
            }
        }
    }
    // A check reads what its task fills as well, which the completion gives.
    for c in &step.checks {
        let filled = |f: &String| step.fills.iter().any(|x| &x.field == f);
        out.extend(c.fields.iter().filter(|f| !filled(f)).cloned());
    }
}

fn who_reads(w: &Who, out: &mut Vec<String>) {
    match w {
        Who::Field(f) | Who::HeadOfField(f) | Who::Address(f) => out.push(f.clone()),
        Who::SupervisorOf(x) | Who::DeptHeadOf(x) => who_reads(x, out),
        Who::Except(x, xs) => {
            who_reads(x, out);
            xs.iter().for_each(|x| who_reads(x, out));
        }
        _ => {}
    }
}

/// The fields of `{field}` placeholders; `{field or text}` has a stand-in, so it
/// needs no value.
fn placeholders(text: &str, out: &mut Vec<String>) {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { return };
        let key = after[..close].trim();
        if !key.contains(" or ") && !["id", "title", "step"].contains(&key) {
            out.push(key.to_string());
        }
        rest = &after[close + 1..];
    }
}
