//! `apply`: one command against one instance, giving events or a rejection.

use super::assign::is_candidate;
use super::flow::Run;
use super::fold::started;
use super::validate::{check_input, given, FieldError, Reading};
use super::*;
use crate::messages::Text;
use baton_dsl::model::{Action, Definition, Expr, FieldSource, Route, SignMode};

/// Work for the store that crosses instances, done in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    StartChild {
        /// The parent's step that starts it.
        step: String,
        process: String,
        data: Data,
        parent: InstanceId,
        starter: String,
    },
    ChildEnded {
        parent: InstanceId,
        child: InstanceId,
        outcome: String,
        /// The child's `outputs` that have a value, by the child's names.
        outputs: Data,
    },
}

#[derive(Debug)]
pub struct Applied {
    pub instance: Instance,
    pub events: Vec<Event>,
    pub effects: Vec<Effect>,
}

/// The actor name for changes the engine makes itself (timers, schedules).
pub const SYSTEM: &str = "baton";

/// What reading input needs: the directory, the company's zone, the time.
pub(super) fn reading<'a>(ctx: &'a Ctx<'a>, now: DateTime<Utc>) -> Reading<'a> {
    Reading {
        dir: ctx.directory,
        zone: ctx.zone,
        now,
    }
}

pub(super) fn invalid(field: &str, message: impl Into<String>) -> Rejection {
    Rejection::Invalid(vec![FieldError::new(field, message)])
}

/// Apply `cmd` by `actor` at `now`. `inst` is `None` only for a start, which then
/// creates instance `id` at `version` of the definition.
// The design's apply(definition, instance, command, now), plus who acts and what a
// start needs; bundling them into a struct would only hide the same list.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    def: &Definition,
    version: u32,
    inst: Option<&Instance>,
    id: InstanceId,
    cmd: &Command,
    actor: &str,
    now: DateTime<Utc>,
    ctx: &Ctx,
) -> Result<Applied, Rejection> {
    let mut run = match (inst, cmd) {
        (None, Command::Start { data, .. }) => {
            start(def, version, id, data, None, actor, now, ctx)?
        }
        (
            None,
            Command::StartChild {
                data,
                parent,
                starter,
                ..
            },
        ) => start_checked(
            def,
            version,
            id,
            data.clone(),
            Some(*parent),
            starter,
            now,
            ctx,
        )?,
        (None, _) => return Err(Rejection::NotFound(format!("no instance {id}"))),
        (Some(_), Command::Start { .. } | Command::StartChild { .. }) => {
            return Err(Rejection::Conflict(format!("instance {id} already exists")))
        }
        (Some(i), cmd) => {
            let mut run = Run::new(def, ctx, now, i.clone());
            super::branches::in_position(&mut run, cmd, actor, command)?;
            run
        }
    };
    let events = std::mem::take(&mut run.events);
    Ok(Applied {
        instance: run.inst,
        events,
        effects: run.effects,
    })
}

#[allow(clippy::too_many_arguments)]
fn start<'a>(
    def: &'a Definition,
    version: u32,
    id: InstanceId,
    input: &serde_json::Map<String, serde_json::Value>,
    parent: Option<InstanceId>,
    actor: &str,
    now: DateTime<Utc>,
    ctx: &'a Ctx<'a>,
) -> Result<Run<'a>, Rejection> {
    if actor != SYSTEM && ctx.directory.person(actor).is_none() {
        return Err(Rejection::Forbidden(format!(
            "`{actor}` is not in the staff directory"
        )));
    }
    // Who may start by hand: the roles `started by` names. A process that names none
    // is started by the calendar or by another process only. An admin may start any
    // process (to make up for a missed scheduled start, say); the history says so.
    let by_role = def
        .started_by
        .iter()
        .any(|r| ctx.directory.has_role(actor, r));
    let as_admin = actor != SYSTEM && !by_role && ctx.directory.has_role(actor, ctx.admin_role);
    if actor != SYSTEM && !by_role && !as_admin {
        return Err(Rejection::Forbidden(if def.started_by.is_empty() {
            format!(
                "`{actor}` may not start {}: it is started by the calendar or by another process",
                def.name
            )
        } else {
            format!(
                "`{actor}` may not start {}: it is started by {}",
                def.name,
                def.started_by.join(", ")
            )
        }));
    }
    let start_fields: Vec<String> = def
        .fields
        .iter()
        .filter(|f| f.source == FieldSource::Start)
        .map(|f| f.name.clone())
        .collect();
    let mut errors = Vec::new();
    let mut data = match check_input(def, input, Some(&start_fields), &reading(ctx, now)) {
        Ok(d) => d,
        Err(e) => {
            errors = e;
            Data::new()
        }
    };
    for f in def.fields.iter().filter(|f| f.source == FieldSource::Start) {
        let reported = errors.iter().any(|e| e.field == f.name);
        if !given(input, &f.name) && !reported {
            if let Some(none) = super::elements::empty_list(def, &f.name) {
                data.insert(f.name.clone(), none);
                continue;
            }
        }
        if !f.optional && f.default.is_none() && !given(input, &f.name) && !reported {
            errors.push(FieldError::missing(&f.name));
        }
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        return Err(Rejection::Invalid(errors));
    }
    let mut run = start_checked(def, version, id, data, parent, actor, now, ctx)?;
    if as_admin {
        let by = crate::display::person(actor, ctx.directory);
        let text = run.text(Text::StartedAsAdmin { by: &by });
        run.emit(Event::Commented { text });
    }
    Ok(run)
}

#[allow(clippy::too_many_arguments)]
fn start_checked<'a>(
    def: &'a Definition,
    version: u32,
    id: InstanceId,
    mut data: Data,
    parent: Option<InstanceId>,
    starter: &str,
    now: DateTime<Utc>,
    ctx: &'a Ctx<'a>,
) -> Result<Run<'a>, Rejection> {
    let blank = Event::Started {
        process: def.name.clone(),
        version,
        starter: starter.to_string(),
        data: Data::new(),
        parent,
    };
    // Defaults and `require` conditions are evaluated against the given data (a
    // default may use `today`, a condition the data it checks).
    let mut tmp = Run::new(
        def,
        ctx,
        now,
        started(id, now, &blank).expect("Started makes an instance"),
    );
    tmp.inst.data = data.clone();
    for f in &def.fields {
        if let (Some(d), false) = (&f.default, data.contains_key(&f.name)) {
            let v = tmp.eval(d)?;
            data.insert(f.name.clone(), v);
            tmp.inst.data = data.clone();
        }
    }
    // A condition on `starter` says who may name whom when a person starts by hand. A
    // start by another process names its people by that process's definition (and
    // carries its starter along), and the calendar is nobody: neither is asked.
    let by_hand = parent.is_none() && starter != SYSTEM;
    for r in &def.requires {
        if !by_hand && reads_starter(&r.cond) {
            continue;
        }
        let refused = |message: String| {
            let mut fields = Vec::new();
            fields_read(&r.cond, &mut fields);
            Rejection::Requirement { message, fields }
        };
        let ok = tmp
            .eval(&r.cond)
            .map_err(|e| refused(format!("{} ({e})", r.message)))?;
        if ok != Value::Bool(true) {
            return Err(refused(r.message.clone()));
        }
    }
    let ev = Event::Started {
        process: def.name.clone(),
        version,
        starter: starter.to_string(),
        data,
        parent,
    };
    // `started` builds the instance from the event exactly as a replay does.
    let mut run = Run::new(
        def,
        ctx,
        now,
        started(id, now, &ev).expect("Started makes an instance"),
    );
    run.events.push(ev);
    let entry = def
        .steps
        .first()
        .ok_or_else(|| Rejection::Stuck("the process has no step".into()))?;
    run.goto(&entry.name)?;
    Ok(run)
}

pub(super) fn running(run: &Run) -> Result<(), Rejection> {
    match run.inst.status {
        Status::Running => Ok(()),
        Status::Incident => Err(Rejection::Conflict(format!(
            "instance {} has an incident: it waits for an admin to retry, set, move or cancel it",
            run.inst.id
        ))),
        ref s => Err(Rejection::Conflict(format!(
            "instance {} is {}",
            run.inst.id,
            s.as_str()
        ))),
    }
}

pub(super) fn is_admin(run: &Run, actor: &str) -> bool {
    super::may::admin(run.ctx.directory, run.ctx.admin_role, actor)
}

/// The task, checked to be active; `NotFound` or `Conflict` otherwise.
fn active_task(run: &Run, id: TaskId) -> Result<Task, Rejection> {
    let t = match run.inst.task(id) {
        Some(t) => t.clone(),
        // The instance keeps only the current step's tasks, but task numbers are
        // given out in order: a lower number is a task of an earlier step, which is
        // finished. The state moved on; the task did exist.
        None if id.instance == run.inst.id && id.n >= 1 && id.n < run.inst.next_task => {
            return Err(Rejection::Conflict(format!("task {id} is no longer open")))
        }
        None => return Err(Rejection::NotFound(format!("no open task {id}"))),
    };
    if !t.state.is_active() {
        return Err(Rejection::Conflict(format!(
            "task {id} is already {}",
            t.state.as_str()
        )));
    }
    Ok(t)
}

/// May `actor` work on `t`? Claimed by someone else is a conflict, not a candidate
/// is forbidden.
pub(super) fn may_work(run: &Run, t: &Task, actor: &str) -> Result<(), Rejection> {
    if let Some(a) = &t.assignee {
        if a != actor {
            return Err(Rejection::Conflict(format!(
                "task {} is claimed by {}",
                t.id,
                run.name_of(a)
            )));
        }
        return Ok(());
    }
    if !is_candidate(&t.candidates, actor, run.ctx) {
        return Err(Rejection::Forbidden(format!(
            "task {} is not for {}",
            t.id,
            run.name_of(actor)
        )));
    }
    Ok(())
}

fn command(run: &mut Run, cmd: &Command, actor: &str) -> Result<(), Rejection> {
    match cmd {
        Command::Start { .. } | Command::StartChild { .. } => unreachable!("handled in apply"),
        Command::Claim { task } => {
            running(run)?;
            let t = active_task(run, *task)?;
            may_work(run, &t, actor)?;
            if t.assignee.as_deref() != Some(actor) {
                run.emit(Event::TaskClaimed {
                    task: *task,
                    by: actor.to_string(),
                });
            }
            Ok(())
        }
        Command::Release { task } => {
            running(run)?;
            let t = active_task(run, *task)?;
            match &t.assignee {
                Some(a) if a == actor || is_admin(run, actor) => {
                    run.emit(Event::TaskReleased { task: *task });
                    Ok(())
                }
                Some(a) => Err(Rejection::Forbidden(format!(
                    "task {task} is claimed by {}, not {}",
                    run.name_of(a),
                    run.name_of(actor)
                ))),
                None => Err(Rejection::Conflict(format!("task {task} is not claimed"))),
            }
        }
        Command::Complete { task, choice, data } => {
            complete(run, *task, choice.as_deref(), data, None, actor)
        }
        Command::CompleteWithReason {
            task,
            choice,
            data,
            reason,
        } => complete(run, *task, choice.as_deref(), data, Some(reason), actor),
        Command::Reassign { task, to } => {
            running(run)?;
            let t = active_task(run, *task)?;
            if run.ctx.directory.person(to).is_none() {
                return Err(Rejection::Invalid(vec![FieldError::no_person("to", to)]));
            }
            if !super::may::hand_on(run.ctx.directory, run.ctx.admin_role, &t, actor) {
                return Err(Rejection::Forbidden(format!(
                    "only the person holding task {task}, someone who leads the people it is for, or an admin may hand it on"
                )));
            }
            run.emit(Event::TaskReassigned {
                task: *task,
                to: Candidates {
                    people: vec![to.clone()],
                    roles: vec![],
                },
                escalated: false,
            });
            let by = crate::display::person(actor, run.ctx.directory);
            let text = run.text(Text::HandedOn {
                instance: &run.instance_name(),
                task: &t.title,
                by: &by,
            });
            run.message(MessageKind::Notify, vec![to.clone()], text, Some(*task));
            Ok(())
        }
        Command::Comment { text } => {
            if text.trim().is_empty() {
                return Err(invalid("text", "a comment cannot be empty"));
            }
            run.emit(Event::Commented { text: text.clone() });
            Ok(())
        }
        Command::Cancel { reason } => {
            let incident = run.inst.status == Status::Incident;
            if !incident {
                running(run)?;
            }
            if !(is_admin(run, actor) || run.inst.starter == actor) {
                return Err(Rejection::Forbidden(format!(
                    "only the starter or an admin may cancel instance {}",
                    run.inst.id
                )));
            }
            if incident {
                run.emit(Event::IncidentResolved {
                    how: Resolution::Cancel,
                });
            }
            let open: Vec<TaskId> = run.inst.active_tasks().map(|t| t.id).collect();
            for task in open {
                run.emit(Event::TaskCancelled { task });
            }
            let timers: Vec<u32> = run.inst.timers.iter().map(|t| t.n).collect();
            for n in timers {
                run.emit(Event::TimerCancelled { n });
            }
            let limits: Vec<String> = run.inst.limits.iter().map(|l| l.name.clone()).collect();
            for name in limits {
                run.emit(Event::LimitStopped { name });
            }
            run.emit(Event::Cancelled {
                reason: reason.clone(),
            });
            // A parent waiting for this instance goes on rather than waiting forever.
            if let Some(parent) = run.inst.parent {
                run.effects.push(Effect::ChildEnded {
                    parent,
                    child: run.inst.id,
                    outcome: baton_dsl::model::CANCELLED.into(),
                    outputs: Data::new(),
                });
            }
            Ok(())
        }
        Command::FireTimer { n, .. } => super::timers::fire(run, *n),
        Command::UpdateData { data } => {
            running(run)?;
            let allowed: Option<Vec<String>> = if is_admin(run, actor) {
                None
            } else {
                let holds_task = run
                    .inst
                    .active_tasks()
                    .any(|t| may_work(run, t, actor).is_ok());
                if !holds_task {
                    return Err(Rejection::Forbidden(format!(
                        "{} has no task in instance {}",
                        run.name_of(actor),
                        run.inst.id
                    )));
                }
                Some(
                    run.step()
                        .map(|s| s.fills.iter().map(|f| f.field.clone()).collect())
                        .unwrap_or_default(),
                )
            };
            let values = check_input(
                run.def,
                data,
                allowed.as_deref(),
                &reading(run.ctx, run.now),
            )
            .map_err(Rejection::Invalid)?;
            if !values.is_empty() {
                run.emit(Event::DataSet { values });
            }
            Ok(())
        }
        Command::Extend {
            limit,
            minutes,
            data,
        } => super::extend::extend(run, limit.as_deref(), *minutes, data, actor),
        Command::ChildEnded {
            child,
            outcome,
            outputs,
        } => {
            if run.inst.awaiting_child
                && matches!(run.inst.status, Status::Incident | Status::Running)
            {
                keep_outputs(run, outputs);
            }
            if run.inst.status == Status::Incident && run.inst.awaiting_child {
                // Recorded now, gone on from when the incident is resolved.
                run.emit(Event::ChildFinished {
                    child: *child,
                    outcome: outcome.clone(),
                });
                return Ok(());
            }
            if run.inst.status != Status::Running || !run.inst.awaiting_child {
                return Ok(());
            }
            let attempted = Attempt::ChildEnded {
                child: *child,
                outcome: outcome.clone(),
            };
            run.or_incident(attempted, |run| child_ended(run, *child, outcome))
        }
        Command::RaiseIncident { reason, attempted } => {
            // One incident at a time: the first one's attempt is the one to retry.
            if run.inst.status == Status::Running {
                run.raise(reason.clone(), attempted.clone());
            }
            Ok(())
        }
        Command::Retry { data, attempted } => {
            super::incident::retry(run, data, attempted.as_ref(), actor)
        }
        Command::Move { step } => super::incident::move_to(run, step, actor),
    }
}

/// The outputs of a child that ended which the waiting step `receive`s, under the
/// names it gives them. Kept before going on, so that an incident on the way keeps
/// them for the retry.
fn keep_outputs(run: &mut Run, outputs: &Data) {
    let Some(step) = run.step() else { return };
    let values: Data = step
        .receives
        .iter()
        .filter_map(|r| Some((r.field.clone(), outputs.get(&r.output)?.clone())))
        .collect();
    if !values.is_empty() {
        run.emit(Event::DataSet { values });
    }
}

/// A child this instance waits for has ended: record it and go on.
pub(super) fn child_ended(
    run: &mut Run,
    child: InstanceId,
    outcome: &str,
) -> Result<(), Rejection> {
    run.emit(Event::ChildFinished {
        child,
        outcome: outcome.to_string(),
    });
    // A child per element: the step waits for the last one.
    if run.inst.awaiting_child {
        return Ok(());
    }
    let step = run
        .step()
        .ok_or_else(|| Rejection::Stuck("no current step".into()))?;
    run.route(step, Some(outcome))
}

fn complete(
    run: &mut Run,
    task: TaskId,
    choice: Option<&str>,
    input: &serde_json::Map<String, serde_json::Value>,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), Rejection> {
    running(run)?;
    let t = active_task(run, task)?;
    may_work(run, &t, actor)?;
    let reason = match reason.map(str::trim) {
        Some("") => return Err(invalid("reason", "a reason cannot be empty")),
        r => r,
    };
    let step = run
        .step()
        .ok_or_else(|| Rejection::Stuck("no current step".into()))?;

    if t.kind == TaskKind::Sign {
        let Action::Sign {
            mode,
            signers,
            on_refuse,
            allow_self,
        } = &step.action
        else {
            return Err(Rejection::Stuck("a sign task outside a sign-off".into()));
        };
        let approve = match choice {
            Some("approve") => true,
            Some("refuse") => false,
            other => {
                return Err(invalid(
                    "choice",
                    format!(
                        "a sign-off takes `approve` or `refuse`, not {}",
                        other.map_or("nothing".to_string(), |c| format!("`{c}`"))
                    ),
                ))
            }
        };
        // One person signs a step once. In order, a later place whose definition
        // names them again is a signature of its own (a task handed to them is not).
        // Together, a place that only people who signed already may fill (a task
        // escalated to them) is theirs again, or it could never be signed at all.
        let signed = |p: &str| run.inst.signatures.iter().any(|s| s.by == p);
        let again_allowed = if *mode == SignMode::InOrder {
            let place = run.inst.signatures.iter().filter(|s| s.approve).count();
            signers
                .get(place)
                .and_then(|w| super::assign::resolve(w, &run.inst, run.ctx).ok())
                .is_some_and(|r| match r {
                    super::assign::Resolved::One(c) => is_candidate(&c, actor, run.ctx),
                    super::assign::Resolved::Each(people) => people.iter().any(|p| p == actor),
                })
        } else {
            !run.people_of(&t.candidates)
                .iter()
                .any(|p| p != actor && !signed(p))
        };
        if signed(actor) && !again_allowed {
            return Err(Rejection::Forbidden(format!(
                "{} has already signed this step",
                run.name_of(actor)
            )));
        }
        // The requester is whoever filed the request by hand; an instance started by
        // another process has no requester of its own.
        let requester = run.inst.parent.is_none() && actor == run.inst.starter;
        if approve && requester && !allow_self {
            return Err(Rejection::Forbidden(
                "the requester cannot approve their own request".into(),
            ));
        }
        if !input.is_empty() {
            return Err(invalid("data", "a signature carries no data"));
        }
        run.emit(Event::TaskCompleted {
            task,
            by: actor.to_string(),
            choice: Some(if approve { "approve" } else { "refuse" }.into()),
            data: Data::new(),
        });
        if let Some(r) = reason {
            run.emit(Event::Reasoned {
                task,
                reason: r.to_string(),
            });
        }
        super::each::task_done(run, task);
        run.emit(Event::Signed {
            by: actor.to_string(),
            approve,
        });
        if !approve {
            tell_starter(run, step, task, actor, None, reason);
        }
        let attempted = Attempt::Route {
            step: step.name.clone(),
            choice: None,
        };
        return run.or_incident(attempted, |run| {
            after_signature(run, step, *mode, signers, on_refuse.as_deref())
        });
    }

    // A work task: its choice and its data.
    let mut errors: Vec<FieldError> = Vec::new();
    match (&step.route, choice) {
        (Route::Choose(cs), Some(c)) if !cs.iter().any(|x| x.name == c) => {
            let names: Vec<&str> = cs.iter().map(|x| x.name.as_str()).collect();
            errors.push(FieldError::new(
                "choice",
                format!("`{c}` is not one of {}", names.join(", ")),
            ));
        }
        (Route::Choose(cs), None) => {
            let names: Vec<&str> = cs.iter().map(|x| x.name.as_str()).collect();
            errors.push(FieldError::new(
                "choice",
                format!("choose one of {}", names.join(", ")),
            ));
        }
        (Route::Choose(_), Some(_)) => {}
        (_, Some(c)) => errors.push(FieldError::new(
            "choice",
            format!("this task has no choices (got `{c}`)"),
        )),
        (_, None) => {}
    }
    let fills: Vec<String> = step.fills.iter().map(|f| f.field.clone()).collect();
    let mut data = match check_input(run.def, input, Some(&fills), &reading(run.ctx, run.now)) {
        Ok(d) => d,
        Err(e) => {
            errors.extend(e);
            Data::new()
        }
    };
    for f in step.fills.iter().filter(|f| !f.optional) {
        let reported = errors.iter().any(|e| e.field == f.field);
        let unfilled = !given(input, &f.field) && !run.inst.data.contains_key(&f.field);
        if let (true, Some(none)) = (unfilled, super::elements::empty_list(run.def, &f.field)) {
            data.insert(f.field.clone(), none);
            continue;
        }
        if unfilled && !reported {
            errors.push(FieldError::missing(&f.field));
        }
    }
    if !errors.is_empty() {
        return Err(Rejection::Invalid(errors));
    }
    // The checks, on the data as this completion would leave it; a false one refuses
    // the completion and nothing changes.
    for c in &step.checks {
        let message = match run.check(&c.cond, &data) {
            Ok(true) => continue,
            Ok(false) => c.message.clone(),
            Err(e) => format!("{} ({e})", c.message),
        };
        return Err(Rejection::Requirement {
            message,
            fields: c.fields.clone(),
        });
    }
    let wrote = !data.is_empty();
    run.emit(Event::TaskCompleted {
        task,
        by: actor.to_string(),
        choice: choice.map(str::to_string),
        data,
    });
    super::each::task_done(run, task);
    if wrote {
        run.retime_limits()?;
    }
    if let Some(r) = reason {
        run.emit(Event::Reasoned {
            task,
            reason: r.to_string(),
        });
    }
    // A task for each person: the step is done when the last one is.
    if run.inst.step_tasks().next().is_some() {
        return Ok(());
    }
    // The task is done whatever comes next: what follows it and cannot go on is an
    // incident for an admin, not a refusal the person who did the task can do
    // nothing about.
    let attempted = Attempt::Route {
        step: step.name.clone(),
        choice: choice.map(str::to_string),
    };
    run.or_incident(attempted, |run| run.route(step, choice))?;
    // A choice that ends the instance (a request declined, returned) is news to
    // the starter, who would otherwise learn of it from nobody.
    if let (Some(c), Status::Completed) = (choice, &run.inst.status) {
        let label = match &step.route {
            Route::Choose(cs) => cs
                .iter()
                .find(|x| x.name == c)
                .and_then(|x| x.label.clone())
                .unwrap_or_else(|| c.to_string()),
            _ => c.to_string(),
        };
        tell_starter(run, step, task, actor, Some(&label), reason);
    }
    Ok(())
}

/// Tell the instance's starter what someone else decided on a step (a refusal, a
/// choice that ended the instance), with the reason when one was given.
/// `choice`: the label of the choice made; none for a refused signature.
fn tell_starter(
    run: &mut Run,
    step: &baton_dsl::model::Step,
    task: TaskId,
    actor: &str,
    choice: Option<&str>,
    reason: Option<&str>,
) {
    let starter = run.inst.starter.clone();
    if starter == actor || run.ctx.directory.person(&starter).is_none() {
        return;
    }
    let instance = run.instance_name();
    let step_title = step.title.as_deref().unwrap_or(&step.name);
    let by = run.name_of(actor);
    let text = run.text(match choice {
        None => Text::Refused {
            instance: &instance,
            step: step_title,
            by: &by,
            reason,
        },
        Some(choice) => Text::Decided {
            instance: &instance,
            step: step_title,
            by: &by,
            choice,
            reason,
        },
    });
    run.message(MessageKind::Notify, vec![starter], text, Some(task));
}

pub(super) fn after_signature(
    run: &mut Run,
    step: &baton_dsl::model::Step,
    mode: SignMode,
    signers: &[baton_dsl::model::Who],
    on_refuse: Option<&str>,
) -> Result<(), Rejection> {
    let approvals = run.inst.signatures.iter().filter(|s| s.approve).count();
    let refusals = run.inst.signatures.len() - approvals;
    let pending = run
        .inst
        .step_tasks()
        .filter(|t| t.kind == TaskKind::Sign)
        .count();
    let refused_to = |run: &mut Run| -> Result<(), Rejection> {
        let target = on_refuse
            .ok_or_else(|| Rejection::Stuck(format!("step `{}` has no `on refuse`", step.name)))?;
        run.goto(target)
    };
    match mode {
        SignMode::InOrder => {
            if refusals > 0 {
                return refused_to(run);
            }
            match signers.get(approvals) {
                Some(next) => {
                    let due = run.inst.due;
                    run.sign_task(step, next, due)
                }
                None => run.route(step, None),
            }
        }
        SignMode::All => {
            if refusals > 0 {
                refused_to(run)
            } else if pending == 0 {
                run.route(step, None)
            } else {
                Ok(())
            }
        }
        SignMode::Any => {
            if approvals > 0 {
                run.route(step, None)
            } else if pending == 0 {
                refused_to(run)
            } else {
                Ok(())
            }
        }
        SignMode::Count(n) => {
            let n = n as usize;
            if approvals >= n {
                run.route(step, None)
            } else if approvals + pending < n {
                refused_to(run)
            } else {
                Ok(())
            }
        }
    }
}

/// Whether an expression reads `starter`.
fn reads_starter(e: &Expr) -> bool {
    e.any(&|x| matches!(x, Expr::Starter))
}

/// The fields an expression reads, each once, in order.
pub(super) fn fields_read(e: &Expr, out: &mut Vec<String>) {
    let mut names = Vec::new();
    e.fields(&mut names);
    for n in names {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
}
