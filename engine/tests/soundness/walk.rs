//! The walker: one instance of a checked definition driven at random on the pure
//! core, and what counts as going wrong.

use super::ZONE;
use baton_dsl::model::{Action, Definition, FieldSource, Route, TimedAction, Type, Who};
use baton_engine::core::{
    apply, Command, Ctx, Event, Instance, Rejection, Status, TaskKind, TimerKind,
};
use baton_engine::staff::{Directory, Person};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// Commands per walk at most.
pub const MAX_STEPS: usize = 50;

/// A small deterministic generator for the walker's choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1000) as f64 / 1000.0 < p
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// A random value of a declared type, as a form would send it.
fn value(ty: &Type, rng: &mut Rng, dir: &Directory) -> Json {
    match ty {
        // Between its least length and three more (none included when it may be
        // empty), each element's fields as a form would fill them.
        Type::List(l) => {
            let most = l.max.unwrap_or(l.min + 3).min(l.min + 3);
            let n = l.min + rng.below((most - l.min + 1) as usize) as u64;
            let elements: Vec<Json> = (0..n)
                .map(|_| {
                    let fields: serde_json::Map<String, Json> = l
                        .fields
                        .iter()
                        .map(|f| (f.name.clone(), value(&f.ty, rng, dir)))
                        .collect();
                    Json::Object(fields)
                })
                .collect();
            Json::Array(elements)
        }
        Type::Text => json!(*rng.pick(&["a", "b", "客戶"])),
        Type::Integer { min, max } => {
            let lo = min.unwrap_or(-5);
            let hi = max.unwrap_or(5).max(lo);
            let v = match rng.below(4) {
                0 => lo,
                1 => hi,
                _ => lo + rng.below((hi - lo + 1) as usize) as i64,
            };
            json!(v)
        }
        Type::Decimal { min, max } => {
            let lo = min.unwrap_or(-5.0);
            let hi = max.unwrap_or(5.0).max(lo);
            let v = match rng.below(4) {
                0 => lo,
                1 => hi,
                _ => lo + (hi - lo) * rng.below(11) as f64 / 10.0,
            };
            json!(v)
        }
        Type::Bool => json!(rng.chance(0.5)),
        Type::Date => {
            let d = chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()
                + chrono::Duration::days(rng.below(150) as i64);
            json!(d.format("%Y-%m-%d").to_string())
        }
        Type::DateTime => json!("2026-03-05T10:00:00+08:00"),
        Type::Duration => json!("2h"),
        // Which person a field holds is data: a chain from one without a supervisor
        // is refused at run time for that data alone, which no checker can see. The
        // walker keeps to people the directory gives a supervisor.
        Type::Person => {
            let led: Vec<_> = dir
                .people
                .iter()
                .filter(|p| p.supervisor.is_some())
                .collect();
            json!(rng.pick(&led).id)
        }
        Type::Department => json!(rng.pick(&dir.departments).id),
        Type::Choice(vs) => json!(rng.pick(vs).name),
    }
}

/// What went wrong on a walk.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The message with names and numbers taken out, to group failures.
    pub kind: String,
    pub detail: String,
}

fn kind_of(prefix: &str, msg: &str) -> String {
    let mut out = String::from(prefix);
    let mut name: Option<String> = None;
    for c in msg.chars() {
        match (c, &mut name) {
            ('`', None) => name = Some(String::new()),
            ('`', Some(n)) => {
                out.push_str(category(n));
                name = None;
            }
            (c, Some(n)) => n.push(c),
            (c, None) if c.is_ascii_digit() => {}
            (c, None) => out.push(c),
        }
    }
    out
}

/// What kind of name the generator gave: where a field gets its value.
fn category(name: &str) -> &'static str {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    match name.split_once('_') {
        None if name.starts_with('d') && digits(&name[1..]) => "<data field>",
        Some((s, rest)) if s.starts_with('s') && digits(&s[1..]) => match rest {
            "c" => "<set field>",
            "r" => "<rule-with field>",
            r if r.starts_with('f') && digits(&r[1..]) => "<filled field>",
            _ => "_",
        },
        _ => "_",
    }
}

/// The people who may act on a task now.
fn candidates(
    inst: &Instance,
    task: &baton_engine::core::Task,
    dir: &Directory,
    in_order: bool,
) -> Vec<String> {
    let mut v: Vec<String> = match &task.assignee {
        Some(a) => vec![a.clone()],
        None => {
            let mut v = task.candidates.people.clone();
            for r in &task.candidates.roles {
                v.extend(dir.with_role(r).map(|p| p.id.clone()));
            }
            v
        }
    };
    // One person signs a step once, except at a later place of an in-order sign-off.
    // ... and a place only people who signed already may fill is theirs again.
    if task.kind == TaskKind::Sign && !in_order {
        let fresh: Vec<String> = v
            .iter()
            .filter(|p| !inst.signatures.iter().any(|s| &s.by == *p))
            .cloned()
            .collect();
        if !fresh.is_empty() {
            v = fresh;
        }
    }
    v.sort();
    v.dedup();
    v
}

/// A timer that can move the instance on (not a reminder or a mere notice).
fn moves_on(def: &Definition, kind: &TimerKind) -> bool {
    match kind {
        TimerKind::Wait { .. } | TimerKind::LimitBreach { .. } => true,
        TimerKind::Due { step } => def.step(step).is_some_and(|s| {
            s.on_overdue
                .iter()
                .any(|a| matches!(a, TimedAction::Goto(_) | TimedAction::Escalate(_)))
        }),
        _ => false,
    }
}

/// The instance's state without ids and times: where it is, its data, who has what
/// to do.
fn fingerprint(inst: &Instance) -> String {
    let tasks: Vec<String> = inst
        .active_tasks()
        .map(|t| format!("{:?}{:?}{:?}{}", t.kind, t.candidates, t.assignee, t.step))
        .collect();
    // At a parallel step, where each branch is.
    let branches: Vec<String> = inst
        .branches
        .iter()
        .map(|b| format!("{}{:?}{:?}", b.name, b.status, b.position))
        .collect();
    format!(
        "{:?}|{}|{:?}|{tasks:?}|{:?}|{branches:?}",
        inst.step, inst.waiting, inst.data, inst.signatures
    )
}

/// Whether `msg` says that a who position found nobody once people were left out,
/// for a who that reads data (`head of partner`, `owner except starter`): who a field
/// holds is data, and data alone that leaves nobody is a matter for run time (a
/// refusal, or an incident), as a person field holding someone without a supervisor
/// is. The same without a field is the checker's to see (W007).
fn left_out_by_data(def: &Definition, msg: &str) -> bool {
    let Some(who) = msg
        .strip_prefix('`')
        .and_then(|m| m.split_once("` finds nobody"))
        .map(|(w, _)| w)
    else {
        return false;
    };
    let mut whos: Vec<&Who> = Vec::new();
    for s in &def.steps {
        match &s.action {
            Action::Task(w) => whos.push(w),
            Action::Sign { signers, .. } => whos.extend(signers),
            _ => {}
        }
        for a in &s.on_overdue {
            if let TimedAction::Escalate(w) = a {
                whos.push(w);
            }
        }
    }
    whos.iter().any(|w| w.to_string() == who && reads_data(w))
}

fn reads_data(w: &Who) -> bool {
    match w {
        Who::Field(_) | Who::HeadOfField(_) | Who::Address(_) => true,
        Who::SupervisorOf(x) | Who::DeptHeadOf(x) => reads_data(x),
        Who::Except(x, xs) => reads_data(x) || xs.iter().any(reads_data),
        _ => false,
    }
}

/// A work task completed with a random choice and random values for what it fills
/// (optional ones now and then left empty), and how the trace says it.
fn completion(
    def: &Definition,
    step: &baton_dsl::model::Step,
    task: baton_engine::core::TaskId,
    rng: &mut Rng,
    dir: &Directory,
) -> (Command, String) {
    let choice = match &step.route {
        Route::Choose(cs) => Some(rng.pick(cs).name.clone()),
        _ => None,
    };
    let mut data = Map::new();
    for f in &step.fills {
        if f.optional && rng.chance(0.4) {
            continue;
        }
        if let Some(field) = def.field(&f.field) {
            data.insert(f.field.clone(), value(&field.ty, rng, dir));
        }
    }
    let said = format!("choosing {choice:?} with {}", Json::Object(data.clone()));
    (Command::Complete { task, choice, data }, said)
}

pub struct Walk {
    pub steps: usize,
    pub failure: Option<Failure>,
}

/// One instance of `def`, driven at random for at most `MAX_STEPS` commands.
pub fn walk(def: &Definition, src: &str, seed: u64, dir: &Directory, ctx: &Ctx) -> Walk {
    let mut rng = Rng(seed | 1);
    let mut now: DateTime<Utc> = ZONE
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let mut trace: Vec<String> = Vec::new();
    let fail = |kind: String, msg: &str, trace: &[String]| Failure {
        kind,
        detail: format!(
            "{msg}\n--- walk:\n{}\n--- definition:\n{src}",
            trace.join("\n")
        ),
    };
    // The starter: someone allowed to start it by hand.
    let starters: Vec<&Person> = dir
        .people
        .iter()
        .filter(|p| def.started_by.is_empty() || def.started_by.iter().any(|r| p.roles.contains(r)))
        .collect();
    let starter = rng.pick(&starters).id.clone();
    let mut data = Map::new();
    for f in def.fields.iter().filter(|f| f.source == FieldSource::Start) {
        let leave_out =
            (f.optional && rng.chance(0.35)) || (f.default.is_some() && rng.chance(0.5));
        if !leave_out {
            data.insert(f.name.clone(), value(&f.ty, &mut rng, dir));
        }
    }
    trace.push(format!(
        "start by {starter} with {}",
        Json::Object(data.clone())
    ));
    // A process that names no role in `started by` is started by another process:
    // start it as a child, whose starter is the parent's.
    let cmd = if def.started_by.is_empty() {
        let mut checked = baton_engine::core::Data::new();
        for (k, v) in &data {
            let Some(f) = def.field(k) else { continue };
            if let Ok(x) = baton_engine::core::coerce(
                k,
                &f.ty,
                v,
                &baton_engine::core::Reading {
                    dir,
                    zone: ZONE,
                    now,
                },
            ) {
                checked.insert(k.clone(), x);
            }
        }
        Command::StartChild {
            process: def.name.clone(),
            data: checked,
            parent: 1_000_000,
            starter: starter.clone(),
        }
    } else {
        Command::Start {
            process: def.name.clone(),
            data,
        }
    };
    let mut inst = match apply(def, 1, None, 1, &cmd, &starter, now, ctx) {
        Ok(a) => a.instance,
        Err(Rejection::Stuck(m)) => {
            return Walk {
                steps: 1,
                failure: (!left_out_by_data(def, &m))
                    .then(|| fail(kind_of("stuck: ", &m), &m, &trace)),
            }
        }
        Err(e) => {
            return Walk {
                steps: 1,
                failure: Some(fail(
                    kind_of("refused: ", &e.to_string()),
                    &e.to_string(),
                    &trace,
                )),
            }
        }
    };
    let mut steps = 1;
    // A state met again with nothing but forced moves in between (tasks without
    // choices, data or deadlines; waits) repeats forever: a loop with no way out.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut last_free = 0;
    seen.insert(fingerprint(&inst), 0);
    while steps < MAX_STEPS && inst.status == Status::Running {
        let step = inst.step.as_deref().and_then(|s| def.step(s));
        // Every (task, person) pair that may act now.
        let mut acts: Vec<(baton_engine::core::Task, String)> = Vec::new();
        for t in inst.active_tasks() {
            // A branch's task is of its own step, not the parallel step's.
            let step = def.step(&t.step).or(step);
            let in_order = step.is_some_and(|s| {
                matches!(
                    s.action,
                    baton_dsl::model::Action::Sign {
                        mode: baton_dsl::model::SignMode::InOrder,
                        ..
                    }
                )
            });
            for p in candidates(&inst, t, dir, in_order) {
                acts.push((t.clone(), p));
            }
        }
        let next_timer = inst.timers.iter().min_by_key(|t| (t.due, t.n)).cloned();
        let progress = inst.timers.iter().any(|t| moves_on(def, &t.kind));
        if acts.is_empty() && !progress && !inst.awaiting_child {
            let what = if inst.active_tasks().next().is_some() {
                "no candidate of the open task may act"
            } else {
                "no task, no timer that moves it on"
            };
            let msg = format!(
                "dead end at `{}`: {what}",
                inst.step.as_deref().unwrap_or("?")
            );
            return Walk {
                steps,
                failure: Some(fail(kind_of("dead end: ", &msg), &msg, &trace)),
            };
        }
        let use_timer = match (&next_timer, acts.is_empty()) {
            (None, _) => false,
            (Some(_), true) => true,
            (Some(_), false) => rng.chance(0.2),
        };
        let (cmd, actor) = if use_timer {
            let t = next_timer.expect("a timer");
            now = now.max(t.due);
            trace.push(format!("fire {:?} at {}", t.kind, t.due));
            if !matches!(t.kind, TimerKind::Wait { .. }) {
                last_free = steps + 1;
            }
            (
                Command::FireTimer { n: t.n, due: t.due },
                baton_engine::core::SYSTEM.to_string(),
            )
        } else {
            let (task, actor) = acts[rng.below(acts.len())].clone();
            let step = def.step(&task.step).or(step).expect("a task has a step");
            // A signature is a free move unless the signer may only refuse.
            let forced = task.kind == TaskKind::Sign
                || (step.fills.is_empty()
                    && step.due.is_empty()
                    && !matches!(step.route, Route::Choose(_)));
            if !forced {
                last_free = steps + 1;
            }
            if task.kind == TaskKind::Sign {
                let allow_self = matches!(
                    step.action,
                    Action::Sign {
                        allow_self: true,
                        ..
                    }
                );
                let may_approve = allow_self || actor != inst.starter || inst.parent.is_some();
                // Another candidate who could have approved makes the move free too:
                // who acts is a choice.
                let someone_could = acts
                    .iter()
                    .any(|(t, p)| t.kind == TaskKind::Sign && (allow_self || *p != inst.starter));
                if may_approve || someone_could || !step.due.is_empty() {
                    last_free = steps + 1;
                }
                let approve = may_approve && rng.chance(0.75);
                let choice = if approve { "approve" } else { "refuse" };
                trace.push(format!("{actor} {choice}s at {}", task.step));
                (
                    Command::Complete {
                        task: task.id,
                        choice: Some(choice.into()),
                        data: Map::new(),
                    },
                    actor,
                )
            } else {
                let (cmd, said) = completion(def, step, task.id, &mut rng, dir);
                trace.push(format!("{actor} completes {} {said}", task.step));
                (cmd, actor)
            }
        };
        steps += 1;
        let mut result = apply(def, 1, Some(&inst), inst.id, &cmd, &actor, now, ctx);
        // A check refused what was filled: the person fills in something else. Some
        // values must pass, whatever the rest of the data (the checker's promise).
        if let (Err(Rejection::Requirement { .. }), Command::Complete { task, .. }) =
            (&result, &cmd)
        {
            let step = inst
                .task(*task)
                .and_then(|t| def.step(&t.step))
                .or_else(|| inst.step.as_deref().and_then(|s| def.step(s)));
            for _ in 0..60 {
                let Some(step) = step else { break };
                let (again, said) = completion(def, step, *task, &mut rng, dir);
                result = apply(def, 1, Some(&inst), inst.id, &again, &actor, now, ctx);
                if !matches!(result, Err(Rejection::Requirement { .. })) {
                    trace.push(format!("{actor} fills in again {said}"));
                    break;
                }
            }
            if let Err(Rejection::Requirement { message, .. }) = &result {
                let msg = format!(
                    "dead end at `{}`: nothing filled passes its check ({message})",
                    inst.step.as_deref().unwrap_or("?")
                );
                return Walk {
                    steps,
                    failure: Some(fail(kind_of("dead end: ", &msg), &msg, &trace)),
                };
            }
        }
        match result {
            Ok(a) => {
                inst = a.instance;
                // What cannot go on is no longer refused but an incident: the same
                // failure.
                let incident = a.events.iter().find_map(|e| match e {
                    Event::IncidentRaised { reason, .. } => Some(reason.clone()),
                    _ => None,
                });
                if let Some(m) = incident {
                    return Walk {
                        steps,
                        failure: (!left_out_by_data(def, &m))
                            .then(|| fail(kind_of("stuck: ", &m), &m, &trace)),
                    };
                }
                if inst.status == Status::Running {
                    let f = fingerprint(&inst);
                    if seen.get(&f).is_some_and(|&at| at >= last_free) {
                        let msg = format!(
                            "dead end at `{}`: a loop with no way out (the same state again, with nothing chosen or filled in between)",
                            inst.step.as_deref().unwrap_or("?")
                        );
                        return Walk {
                            steps,
                            failure: Some(fail(kind_of("dead end: ", &msg), &msg, &trace)),
                        };
                    }
                    seen.insert(f, steps);
                }
            }
            Err(Rejection::Stuck(m)) => {
                return Walk {
                    steps,
                    failure: (!left_out_by_data(def, &m))
                        .then(|| fail(kind_of("stuck: ", &m), &m, &trace)),
                }
            }
            Err(e) => {
                let m = e.to_string();
                return Walk {
                    steps,
                    failure: Some(fail(kind_of("refused: ", &m), &m, &trace)),
                };
            }
        }
    }
    Walk {
        steps,
        failure: None,
    }
}
