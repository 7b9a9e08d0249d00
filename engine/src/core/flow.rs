//! Moving an instance through its steps: entering a step, waiting, running its body,
//! creating tasks and the timers they imply, routing to the next step, ending.
//!
//! `Run` holds a working copy of the instance; every change goes through `emit`,
//! which folds the event into the copy and records it.

use super::assign::{self, Resolved};
use super::fold::fold;
use super::*;
use baton_dsl::eval::{eval, truth, Env};
use baton_dsl::model::{
    Action, Definition, Duration, Expr, Route, SignMode, Step, TimedAction, Wait, Who,
};

/// Automatic steps (decisions, sets) could route in a circle; a command that passes
/// through this many steps is refused instead of looping forever.
const MAX_STEPS_PER_COMMAND: usize = 1000;

pub struct Run<'a> {
    pub def: &'a Definition,
    pub ctx: &'a Ctx<'a>,
    pub now: DateTime<Utc>,
    pub inst: Instance,
    pub events: Vec<Event>,
    pub effects: Vec<super::Effect>,
    hops: usize,
    /// An admin is resolving an incident: a refusal is their answer, not a new
    /// incident (see `or_incident`).
    pub resolving: bool,
}

/// Where a `Run` was, to go back to when what followed is refused.
pub struct Checkpoint {
    inst: Instance,
    events: usize,
    effects: usize,
    hops: usize,
}

struct DataEnv<'a> {
    data: &'a Data,
    /// Values that take the place of the data's: a completion's input, which a
    /// `check` reads as the completion would leave the data, without copying it.
    over: Option<&'a Data>,
    id: InstanceId,
    starter: &'a str,
    directory: &'a crate::staff::Directory,
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
    calendar: &'a crate::calendar::Calendar,
}

impl Env for DataEnv<'_> {
    fn get(&self, field: &str) -> Option<&Value> {
        self.over
            .and_then(|o| o.get(field))
            .or_else(|| self.data.get(field))
    }
    fn now(&self) -> DateTime<Utc> {
        self.now
    }
    fn zone(&self) -> chrono_tz::Tz {
        self.zone
    }
    fn starter(&self) -> Option<&str> {
        Some(self.starter)
    }
    fn supervisor_of(&self, person: &str) -> Option<&str> {
        self.directory.person(person)?.supervisor.as_deref()
    }
    fn department_of(&self, person: &str) -> Option<&str> {
        Some(&self.directory.person(person)?.department)
    }
    fn head_of(&self, dept: &str) -> Option<&str> {
        self.directory.head_of(dept)
    }
    fn has_role(&self, person: &str, role: &str) -> bool {
        self.directory.has_role(person, role)
    }
    fn instance_id(&self) -> Option<u64> {
        Some(self.id)
    }
    /// Calendar time first (months, minutes), then working days and hours on the
    /// business calendar.
    fn add(&self, at: DateTime<Utc>, d: &Duration) -> DateTime<Utc> {
        let plain = Duration {
            months: d.months,
            minutes: d.minutes,
            ..Duration::default()
        };
        let mut t = baton_dsl::eval::add_plain(at, &plain, self.zone);
        if d.working_days != 0 {
            t = self.calendar.add_working_days(t, d.working_days);
        }
        if d.working_minutes != 0 {
            t = self.calendar.add_working_minutes(t, d.working_minutes);
        }
        t
    }
}

impl<'a> Run<'a> {
    pub fn new(def: &'a Definition, ctx: &'a Ctx<'a>, now: DateTime<Utc>, inst: Instance) -> Self {
        Run {
            def,
            ctx,
            now,
            inst,
            events: Vec::new(),
            effects: Vec::new(),
            hops: 0,
            resolving: false,
        }
    }

    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            inst: self.inst.clone(),
            events: self.events.len(),
            effects: self.effects.len(),
            hops: self.hops,
        }
    }

    /// Undo every change since `cp`.
    pub fn rollback(&mut self, cp: Checkpoint) {
        self.inst = cp.inst;
        self.events.truncate(cp.events);
        self.effects.truncate(cp.effects);
        self.hops = cp.hops;
    }

    pub fn emit(&mut self, e: Event) {
        fold(&mut self.inst, &e, self.now);
        self.events.push(e);
    }

    fn env(&self) -> DataEnv<'_> {
        DataEnv {
            data: &self.inst.data,
            over: None,
            id: self.inst.id,
            starter: &self.inst.starter,
            directory: self.ctx.directory,
            now: self.now,
            zone: self.ctx.zone,
            calendar: self.ctx.calendar,
        }
    }

    pub fn eval(&self, e: &Expr) -> Result<Value, Rejection> {
        eval(e, &self.env())
            .map_err(|err| Rejection::Stuck(format!("cannot evaluate `{e}`: {err}")))
    }

    /// Whether a condition holds on the data as `over` would leave it (a
    /// completion's input laid over the instance's data).
    pub fn check(&self, cond: &Expr, over: &Data) -> Result<bool, baton_dsl::eval::EvalError> {
        let env = DataEnv {
            over: Some(over),
            ..self.env()
        };
        truth(&eval(cond, &env)?)
    }

    /// `e` with a `for each` step's element named `var`.
    pub(super) fn eval_for(
        &self,
        e: &Expr,
        var: &str,
        element: &baton_dsl::eval::Element,
    ) -> Result<Value, Rejection> {
        let env = self.env();
        let scoped = baton_dsl::eval::WithElement {
            outer: &env,
            var,
            element,
        };
        eval(e, &scoped).map_err(|err| Rejection::Stuck(format!("cannot evaluate `{e}`: {err}")))
    }

    pub fn holds(&self, cond: Option<&Expr>) -> Result<bool, Rejection> {
        match cond {
            None => Ok(true),
            Some(c) => {
                let v = self.eval(c)?;
                truth(&v).map_err(|e| Rejection::Stuck(e.to_string()))
            }
        }
    }

    pub fn after(&self, at: DateTime<Utc>, d: &Duration) -> DateTime<Utc> {
        self.env().add(at, d)
    }

    /// A date or time value as a moment: a date means the start of that day in the
    /// company's zone.
    pub(super) fn moment(&self, v: Value) -> Result<DateTime<Utc>, Rejection> {
        match v {
            Value::DateTime(t) => Ok(t),
            // A zone that skips midnight starts that day at the end of the gap.
            Value::Date(d) => Ok(baton_dsl::zone::from_local(
                self.ctx.zone,
                d.and_time(chrono::NaiveTime::MIN),
            )),
            Value::Duration(d) => Ok(self.after(self.now, &d)),
            other => Err(Rejection::Stuck(format!("{other} is not a time"))),
        }
    }

    pub fn step(&self) -> Option<&'a Step> {
        self.inst.step.as_deref().and_then(|s| self.def.step(s))
    }

    pub fn set_timer(&mut self, due: DateTime<Utc>, kind: TimerKind) {
        let n = self.inst.next_timer;
        self.emit(Event::TimerSet {
            timer: Timer { n, due, kind },
        });
    }

    pub fn message(
        &mut self,
        kind: MessageKind,
        to: Vec<String>,
        text: String,
        task: Option<TaskId>,
    ) {
        if to.is_empty() {
            return;
        }
        self.emit(Event::MessageQueued {
            message: Message {
                kind,
                to,
                channel: None,
                text,
                task,
            },
        });
    }

    /// A field's value as people read it: a person or department by name, a choice
    /// by its label, a number without float noise, a time in the company's zone.
    pub fn shown(&self, field: &str, v: &Value) -> String {
        let label = match (v, self.def.field(field).map(|f| &f.ty)) {
            (Value::Choice(c), Some(baton_dsl::model::Type::Choice(vs))) => vs
                .iter()
                .find(|x| &x.name == c)
                .and_then(|x| x.label.as_deref()),
            _ => None,
        };
        crate::display::value(v, label, self.ctx.directory, self.ctx.zone)
    }

    /// The instance as people know it: title, number and first given value.
    pub fn instance_name(&self) -> String {
        use baton_dsl::model::FieldSource;
        let title = self.def.title.as_deref().unwrap_or(&self.def.name);
        let subject = self
            .def
            .fields
            .iter()
            // Declared fields in their order, those the process writes too (a
            // day's review is named by its day).
            .filter(|f| matches!(f.source, FieldSource::Start | FieldSource::Written))
            .find_map(|f| self.inst.data.get(&f.name).map(|v| self.shown(&f.name, v)));
        crate::messages::instance_name(title, self.inst.id, subject.as_deref(), self.ctx.language)
    }

    /// One of the engine's own texts, in the company's language.
    pub fn text(&self, t: crate::messages::Text<'_>) -> String {
        t.render(self.ctx.language)
    }

    /// `{field}` placeholders filled from the data, written for people.
    pub fn render(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                return out;
            };
            let key = after[..close].trim();
            match key {
                "id" => out.push_str(&self.inst.id.to_string()),
                "title" => out.push_str(self.def.title.as_deref().unwrap_or(&self.def.name)),
                "step" => {
                    let step = self.inst.step.as_deref().unwrap_or("");
                    let title = self.def.step(step).and_then(|s| s.title.as_deref());
                    out.push_str(title.unwrap_or(step))
                }
                k => {
                    // `{field or 未填}`: the text after `or` stands in for an empty field.
                    let (k, fallback) = match k.split_once(" or ") {
                        Some((k, f)) => (k.trim(), f.trim()),
                        None => (k, "-"),
                    };
                    match self.inst.data.get(k) {
                        Some(v) => out.push_str(&self.shown(k, v)),
                        None => out.push_str(fallback),
                    }
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }

    // ---- leaving and entering ----------------------------------------------------------

    pub(super) fn leave_step(&mut self) {
        let Some(step) = self.inst.step.clone() else {
            return;
        };
        // Leaving a parallel step before its join (a limit's move, say) withdraws
        // its branches.
        if self.inst.focused_branch().is_none() && !self.inst.branches.is_empty() {
            self.cancel_branches();
        }
        let step_timers: Vec<u32> = self
            .inst
            .timers
            .iter()
            .filter(|t| match &t.kind {
                TimerKind::Wait { step: s }
                | TimerKind::Due { step: s }
                | TimerKind::Remind { step: s }
                | TimerKind::RemindEvery { step: s, .. }
                | TimerKind::StepReminder { step: s, .. }
                | TimerKind::ElementTimer { step: s, .. } => s == &step,
                _ => false,
            })
            .map(|t| t.n)
            .collect();
        for n in step_timers {
            self.emit(Event::TimerCancelled { n });
        }
        let open: Vec<TaskId> = self.inst.step_tasks().map(|t| t.id).collect();
        for task in open {
            self.emit(Event::TaskCancelled { task });
        }
        let ending: Vec<String> = self
            .def
            .limits
            .iter()
            .filter(|l| l.to == step && self.inst.limits.iter().any(|a| a.name == l.name))
            .map(|l| l.name.clone())
            .collect();
        for name in ending {
            self.stop_limit(&name);
        }
    }

    /// Cancel the breach and reminder timers of a limit.
    pub fn cancel_limit_timers(&mut self, name: &str) {
        let timers: Vec<u32> = self
            .inst
            .timers
            .iter()
            .filter(|t| match &t.kind {
                TimerKind::LimitBreach { limit }
                | TimerKind::LimitRemind { limit }
                | TimerKind::LimitRemindEvery { limit, .. }
                | TimerKind::LimitReminder { limit, .. } => limit == name,
                _ => false,
            })
            .map(|t| t.n)
            .collect();
        for n in timers {
            self.emit(Event::TimerCancelled { n });
        }
    }

    fn stop_limit(&mut self, name: &str) {
        self.cancel_limit_timers(name);
        self.emit(Event::LimitStopped {
            name: name.to_string(),
        });
    }

    /// Go to a step or an end.
    pub fn goto(&mut self, target: &str) -> Result<(), Rejection> {
        self.hops += 1;
        if self.hops > MAX_STEPS_PER_COMMAND {
            return Err(Rejection::Stuck(format!(
                "the process loops through automatic steps without stopping (at `{target}`)"
            )));
        }
        self.leave_step();
        if let Some(done) = self.branch_exit(target) {
            return done;
        }
        if self.def.end(target).is_some() {
            return self.finish(target);
        }
        let step = self
            .def
            .step(target)
            .ok_or_else(|| Rejection::Stuck(format!("no step `{target}`")))?;
        self.start_limits(target)?;
        self.emit(Event::StepEntered {
            step: target.to_string(),
            waiting: step.wait.is_some(),
        });
        if let Some(w) = &step.wait {
            let until = match w {
                Wait::For(e) => {
                    let v = self.eval(e)?;
                    self.moment(v)?
                }
                Wait::Until(e) => {
                    let v = self.eval(e)?;
                    self.moment(v)?
                }
            };
            if until > self.now {
                self.set_timer(
                    until,
                    TimerKind::Wait {
                        step: target.to_string(),
                    },
                );
                return Ok(());
            }
            // The moment has already passed: go straight on.
            self.emit(Event::WaitEnded);
        }
        self.body(step)
    }

    fn start_limits(&mut self, step: &str) -> Result<(), Rejection> {
        for l in self.def.limits.iter().filter(|l| l.from == step) {
            if self.inst.limits.iter().any(|a| a.name == l.name) {
                continue;
            }
            let Some(d) = self.limit_time(l)? else {
                continue;
            };
            let deadline = self.after(self.now, &d);
            self.emit(Event::LimitStarted {
                limit: ActiveLimit {
                    name: l.name.clone(),
                    started_at: self.now,
                    deadline,
                    extended_minutes: 0,
                    breached: false,
                },
            });
            self.limit_timers(&l.name, deadline);
        }
        Ok(())
    }

    /// A limit's time on the data as it is now: its first `within` whose `when`
    /// holds (none: no deadline).
    fn limit_time(
        &self,
        l: &baton_dsl::model::Limit,
    ) -> Result<Option<baton_dsl::model::Duration>, Rejection> {
        for (d, cond) in &l.within {
            if self.holds(cond.as_ref())? {
                return Ok(match self.eval(d)? {
                    Value::Duration(d) => Some(d),
                    _ => None,
                });
            }
        }
        Ok(None)
    }

    /// A running limit whose time depends on the data (`within 1h when severity ==
    /// general`, `within 24h when severity == major`) is timed again from its start
    /// when a completion changes that data: the severity judged at the step where the
    /// limit began counts, not the default it began with. Extensions granted stay.
    pub fn retime_limits(&mut self) -> Result<(), Rejection> {
        let active: Vec<ActiveLimit> = self
            .inst
            .limits
            .iter()
            .filter(|a| !a.breached)
            .cloned()
            .collect();
        for a in active {
            let Some(l) = self.def.limits.iter().find(|l| l.name == a.name) else {
                continue;
            };
            if l.within.iter().all(|(_, when)| when.is_none()) {
                continue;
            }
            let Some(d) = self.limit_time(l)? else {
                continue;
            };
            let deadline =
                self.after(a.started_at, &d) + chrono::Duration::minutes(a.extended_minutes);
            if deadline == a.deadline {
                continue;
            }
            // Stopped and started again from its first moment: the history says when
            // it ends now, and its timers move with it.
            let name = a.name.clone();
            self.stop_limit(&name);
            self.emit(Event::LimitStarted {
                limit: ActiveLimit { deadline, ..a },
            });
            self.limit_timers(&name, deadline);
        }
        Ok(())
    }

    pub fn limit_timers(&mut self, name: &str, deadline: DateTime<Utc>) {
        let Some(l) = self.def.limits.iter().find(|l| l.name == name) else {
            return;
        };
        self.set_timer(
            deadline,
            TimerKind::LimitBreach {
                limit: name.to_string(),
            },
        );
        for (index, r) in l.reminders.iter().enumerate() {
            let told = |every_minutes| TimerKind::LimitReminder {
                limit: name.to_string(),
                index: index as u32,
                every_minutes,
            };
            if let Some(d) = r.lead() {
                let at = self.after(deadline, &d.negate());
                if at > self.now {
                    let kind = if r.is_told() {
                        told(None)
                    } else {
                        TimerKind::LimitRemind {
                            limit: name.to_string(),
                        }
                    };
                    self.set_timer(at, kind);
                }
            } else if let Some(d) = r.every() {
                let at = self.after(deadline, d);
                // Repeat at the interval the first one came after, as `after`
                // counts it (not the checker's rough 8-hour working day).
                let every_minutes = (at - deadline).num_minutes();
                let kind = if r.is_told() {
                    told(Some(every_minutes))
                } else {
                    TimerKind::LimitRemindEvery {
                        limit: name.to_string(),
                        every_minutes,
                    }
                };
                self.set_timer(at, kind);
            }
        }
    }

    fn finish(&mut self, end: &str) -> Result<(), Rejection> {
        let all: Vec<String> = self.inst.limits.iter().map(|l| l.name.clone()).collect();
        for name in all {
            self.stop_limit(&name);
        }
        let rest: Vec<u32> = self.inst.timers.iter().map(|t| t.n).collect();
        for n in rest {
            self.emit(Event::TimerCancelled { n });
        }
        // The end's notices, while the data and the last step are still the instance's.
        if let Some(e) = self.def.end(end) {
            self.notices(&e.notifies);
        }
        self.emit(Event::Completed {
            outcome: end.to_string(),
        });
        if let Some(parent) = self.inst.parent {
            let outputs = self
                .def
                .outputs
                .iter()
                .filter_map(|o| Some((o.field.clone(), self.inst.data.get(&o.field)?.clone())))
                .collect();
            self.effects.push(super::Effect::ChildEnded {
                parent,
                child: self.inst.id,
                outcome: end.to_string(),
                outputs,
            });
        }
        Ok(())
    }

    /// A step's body after its wait: values, messages, then its action.
    pub fn body(&mut self, step: &'a Step) -> Result<(), Rejection> {
        for (k, e) in &step.sets {
            let v = self.eval(e)?;
            let v = self.typed(k, v);
            self.emit(Event::DataSet {
                values: [(k.clone(), v)].into(),
            });
        }
        self.notices(&step.notifies);
        match &step.action {
            Action::Parallel(par) => self.fork(step, par),
            Action::Auto => self.route(step, None),
            Action::Decide(rules) => {
                for r in rules {
                    if self.holds(r.cond.as_ref())? {
                        for (k, e) in &r.sets {
                            let v = self.eval(e)?;
                            let v = self.typed(k, v);
                            self.emit(Event::DataSet {
                                values: [(k.clone(), v)].into(),
                            });
                        }
                        return self.goto(&r.target);
                    }
                }
                Err(Rejection::Stuck(format!(
                    "no rule of step `{}` applies",
                    step.name
                )))
            }
            Action::Task(who) => {
                if let Some(each) = &step.for_each {
                    return self.fan_out(step, each, std::slice::from_ref(who), TaskKind::Work);
                }
                let due = self.due(step)?;
                let starter = self.undecided_by(step, who);
                let also: Vec<&str> = starter.iter().map(String::as_str).collect();
                match assign::resolve_leaving_out(who, &also, &self.inst, self.ctx)? {
                    Resolved::One(c) => self.create_task(step, c, TaskKind::Work, due),
                    Resolved::Each(people) => {
                        for p in people {
                            let c = Candidates {
                                people: vec![p],
                                roles: vec![],
                            };
                            self.create_task(step, c, TaskKind::Work, due);
                        }
                    }
                }
                self.due_timers(step, due);
                Ok(())
            }
            Action::Sign { mode, signers, .. } => {
                // Per element: every element's signers, each with the element's due
                // time (the checker allows only `sign all of` here).
                if let Some(each) = &step.for_each {
                    return self.fan_out(step, each, signers, TaskKind::Sign);
                }
                let due = self.due(step)?;
                let first: &[Who] = if *mode == SignMode::InOrder {
                    &signers[..signers.len().min(1)]
                } else {
                    signers
                };
                for w in first {
                    self.sign_task(step, w, due)?;
                }
                self.due_timers(step, due);
                Ok(())
            }
            Action::Start {
                process,
                with,
                wait,
            } => {
                // One child per element, each with its element's values.
                if let Some(each) = &step.for_each {
                    return self.start_children(step, each, process, with, *wait);
                }
                let mut data = Data::new();
                for (k, e) in with {
                    data.insert(k.clone(), self.eval(e)?);
                }
                self.child_would_start(process, &data)?;
                self.start_child(step, process, data, *wait);
                if *wait {
                    Ok(())
                } else {
                    self.route(step, None)
                }
            }
        }
    }

    /// Whether `process` would start with `data` now; refused as the child would be.
    pub(super) fn child_would_start(&self, process: &str, data: &Data) -> Result<(), Rejection> {
        let Some(check) = self.ctx.child_check else {
            return Ok(());
        };
        check(process, data, self.inst.id, &self.inst.starter, self.now).map_err(|r| match r {
            Rejection::Requirement { message, fields } => Rejection::Requirement {
                message: format!("{process} cannot start: {message}"),
                fields,
            },
            other => Rejection::Stuck(format!("{process} cannot start: {other}")),
        })
    }

    /// Ask the store to start a child with `data`, and record it.
    pub(super) fn start_child(&mut self, step: &Step, process: &str, data: Data, wait: bool) {
        self.effects.push(super::Effect::StartChild {
            step: step.name.clone(),
            process: process.to_string(),
            data,
            parent: self.inst.id,
            starter: self.inst.starter.clone(),
        });
        self.emit(Event::ChildStarted {
            process: process.to_string(),
            wait,
        });
    }

    /// `notify` lines of a step or an end, each to whoever it names now.
    fn notices(&mut self, notifies: &[baton_dsl::model::Notify]) {
        for n in notifies {
            let to = assign::recipients(&n.to, &self.inst, self.ctx);
            let text = self.render(&n.message);
            if to.is_empty() {
                continue;
            }
            self.emit(Event::MessageQueued {
                message: Message {
                    kind: MessageKind::Notify,
                    to,
                    channel: n.via.clone(),
                    text,
                    task: None,
                },
            });
        }
    }

    /// The starter of a request started by hand, whom a choice offered to a role or
    /// a head leaves out unless the step allows self approval: nobody decides their
    /// own request. An instance another process or the calendar started has no
    /// requester of its own.
    pub fn undecided_by(&self, step: &Step, who: &Who) -> Option<String> {
        let decision = matches!(step.route, Route::Choose(_)) && !step.allow_self;
        let by_hand = self.inst.parent.is_none() && self.inst.starter != super::SYSTEM;
        (decision && by_hand && who.is_role_or_head()).then(|| self.inst.starter.clone())
    }

    /// Values computed by `set` take the field's declared kind (a person, a choice).
    fn typed(&self, field: &str, v: Value) -> Value {
        use baton_dsl::model::Type;
        match (self.def.field(field).map(|f| &f.ty), v) {
            (Some(Type::Person), Value::Text(s)) => Value::Person(s),
            (Some(Type::Choice(_)), Value::Text(s)) => Value::Choice(s),
            (Some(Type::Decimal { .. }), Value::Int(i)) => Value::Dec(i as f64),
            (_, v) => v,
        }
    }

    pub fn sign_task(
        &mut self,
        step: &Step,
        who: &Who,
        due: Option<DateTime<Utc>>,
    ) -> Result<(), Rejection> {
        let tasks = match assign::resolve(who, &self.inst, self.ctx)? {
            Resolved::One(c) => vec![c],
            Resolved::Each(people) => people
                .into_iter()
                .map(|p| Candidates {
                    people: vec![p],
                    roles: vec![],
                })
                .collect(),
        };
        for c in tasks {
            // Two signers that turn out to be the same person (the starter's
            // supervisor is also named outright) sign once: a second task for them
            // could never be signed, since one person signs a step once.
            let twice = self
                .inst
                .active_tasks()
                .any(|t| t.kind == TaskKind::Sign && t.step == step.name && t.candidates == c);
            if !twice {
                self.create_task(step, c, TaskKind::Sign, due);
            }
        }
        Ok(())
    }

    fn due(&mut self, step: &Step) -> Result<Option<DateTime<Utc>>, Rejection> {
        for d in &step.due {
            if self.holds(d.when.as_ref())? {
                let v = self.eval(&d.at)?;
                let at = self.moment(v)?;
                self.emit(Event::DueSet { due: Some(at) });
                return Ok(Some(at));
            }
        }
        Ok(None)
    }

    pub fn due_timers(&mut self, step: &Step, due: Option<DateTime<Utc>>) {
        let Some(due) = due else { return };
        let name = step.name.clone();
        self.set_timer(due, TimerKind::Due { step: name.clone() });
        for (index, r) in step.reminders.iter().enumerate() {
            let told = |every_minutes| TimerKind::StepReminder {
                step: name.clone(),
                index: index as u32,
                every_minutes,
            };
            if let Some(d) = r.lead() {
                let at = self.after(due, &d.negate());
                if at > self.now {
                    let kind = if r.is_told() {
                        told(None)
                    } else {
                        TimerKind::Remind { step: name.clone() }
                    };
                    self.set_timer(at, kind);
                }
            } else if let Some(d) = r.every() {
                let at = self.after(due, d);
                // Repeat at the interval the first one came after, as `after`
                // counts it (not the checker's rough 8-hour working day).
                let every_minutes = (at - due).num_minutes();
                let kind = if r.is_told() {
                    told(Some(every_minutes))
                } else {
                    TimerKind::RemindEvery {
                        step: name.clone(),
                        every_minutes,
                    }
                };
                self.set_timer(at, kind);
            }
        }
    }

    fn create_task(
        &mut self,
        step: &Step,
        candidates: Candidates,
        kind: TaskKind,
        due: Option<DateTime<Utc>>,
    ) {
        let id = TaskId {
            instance: self.inst.id,
            n: self.inst.next_task,
        };
        let title = step.title.clone().unwrap_or_else(|| step.name.clone());
        let due = self.task_due(due);
        self.emit(Event::TaskCreated {
            task: Task {
                id,
                process: self.def.name.clone(),
                step: step.name.clone(),
                title,
                kind,
                candidates,
                assignee: None,
                state: TaskState::Open,
                created_at: self.now,
                due,
                completed_by: None,
                choice: None,
            },
        });
    }

    /// A task's due time: its step's, or the deadline of a limit running over it
    /// when that comes first, so that task lists and the overdue index show the
    /// limit too.
    fn task_due(&self, step_due: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        self.inst
            .limits
            .iter()
            .map(|l| l.deadline)
            .chain(step_due)
            .min()
    }

    /// After a due time or a limit moved: each open task takes its new due time.
    pub fn refresh_task_dues(&mut self) {
        if self.refresh_branch_dues() {
            return;
        }
        // A `for each` step's tasks each keep their element's own due time.
        if self.step().is_some_and(|s| s.for_each.is_some()) {
            return;
        }
        let due = self.task_due(self.inst.due);
        let changed: Vec<TaskId> = self
            .inst
            .step_tasks()
            .filter(|t| t.due != due)
            .map(|t| t.id)
            .collect();
        for task in changed {
            self.emit(Event::TaskDue { task, due });
        }
    }

    /// Who hears a limit's reminder: whoever holds the current step's work, and the
    /// instance's starter, who answers for it to the end (the first responder of a
    /// complaint), even while someone else holds the step.
    pub fn limit_people(&self) -> Vec<String> {
        let mut out = self.task_people();
        let starter = &self.inst.starter;
        if self.ctx.directory.person(starter).is_some() && !out.contains(starter) {
            out.push(starter.clone());
            out.sort();
        }
        out
    }

    /// A person's name as people read it (the id when the directory lacks them).
    pub fn name_of(&self, id: &str) -> String {
        self.ctx
            .directory
            .person(id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    }

    /// A step is done: go where its route says.
    pub fn route(&mut self, step: &Step, choice: Option<&str>) -> Result<(), Rejection> {
        match &step.route {
            Route::Choose(cs) => {
                let c = choice.ok_or_else(|| Rejection::Stuck("a choice is needed".into()))?;
                let target = cs
                    .iter()
                    .find(|x| x.name == c)
                    .map(|x| x.target.clone())
                    .ok_or_else(|| Rejection::Stuck(format!("no choice `{c}`")))?;
                self.goto(&target)
            }
            Route::Next(ns) => {
                for (cond, target) in ns {
                    if self.holds(cond.as_ref())? {
                        return self.goto(target);
                    }
                }
                Err(Rejection::Stuck(format!(
                    "no `next` of step `{}` applies",
                    step.name
                )))
            }
            // `choice` is the end the child reached.
            Route::ByOutcome(arms) => {
                let outcome = choice.unwrap_or(baton_dsl::model::CANCELLED);
                let target = arms
                    .iter()
                    .find(|a| a.end.as_deref() == Some(outcome))
                    .or_else(|| arms.iter().find(|a| a.end.is_none()))
                    .map(|a| a.target.clone())
                    .ok_or_else(|| {
                        Rejection::Stuck(format!("no outcome `{outcome}` at step `{}`", step.name))
                    })?;
                self.goto(&target)
            }
            Route::ByRules => Ok(()),
        }
    }

    /// Run the actions of an overdue step or a breached limit.
    pub fn timed_actions(
        &mut self,
        actions: &[TimedAction],
        kind: MessageKind,
        what: &str,
    ) -> Result<(), Rejection> {
        for a in actions {
            match a {
                TimedAction::Notify(who, text) => {
                    let to = assign::recipients(who, &self.inst, self.ctx);
                    let text = match text {
                        Some(t) => self.render(t),
                        None => what.to_string(),
                    };
                    self.message(kind, to, text, None);
                }
                TimedAction::Escalate(who) => {
                    let open: Vec<TaskId> = self.inst.step_tasks().map(|t| t.id).collect();
                    // A decision escalated is still not the starter's to make.
                    let starter = self.step().and_then(|s| self.undecided_by(s, who));
                    let also: Vec<&str> = starter.iter().map(String::as_str).collect();
                    let to = match assign::resolve_leaving_out(who, &also, &self.inst, self.ctx)? {
                        Resolved::One(c) => c,
                        Resolved::Each(people) => Candidates {
                            people,
                            roles: vec![],
                        },
                    };
                    let people = self.people_of(&to);
                    let signed = |p: &String| self.inst.signatures.iter().any(|s| &s.by == p);
                    // A signature cannot go to people who have all signed this step
                    // already: such a place stays with its signer.
                    let to_signed_only = !people.is_empty() && people.iter().all(signed);
                    let open: Vec<TaskId> = open
                        .into_iter()
                        .filter(|id| {
                            !(to_signed_only
                                && self
                                    .inst
                                    .task(*id)
                                    .is_some_and(|t| t.kind == TaskKind::Sign))
                        })
                        .collect();
                    for task in &open {
                        self.emit(Event::TaskReassigned {
                            task: *task,
                            to: to.clone(),
                            escalated: true,
                        });
                    }
                    let text = self.text(crate::messages::Text::Escalated { what });
                    self.message(MessageKind::Escalation, people, text, open.first().copied());
                }
                TimedAction::Goto(target) => {
                    let target = target.clone();
                    return self.goto(&target);
                }
            }
        }
        Ok(())
    }

    /// The people a task's candidates stand for (roles expanded).
    pub fn people_of(&self, c: &Candidates) -> Vec<String> {
        let mut out = c.people.clone();
        for r in &c.roles {
            out.extend(self.ctx.directory.with_role(r).map(|p| p.id.clone()));
        }
        out.sort();
        out.dedup();
        out
    }

    /// Who should hear about the current step's work: assignees, else candidates.
    pub fn task_people(&self) -> Vec<String> {
        let mut out = Vec::new();
        for t in self.inst.step_tasks() {
            match &t.assignee {
                Some(a) => out.push(a.clone()),
                None => out.extend(self.people_of(&t.candidates)),
            }
        }
        out.sort();
        out.dedup();
        out
    }
}
