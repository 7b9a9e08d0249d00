//! What the staff commands print for people: tasks, an instance, its history, an
//! inbox. People by name, departments by name, fields, steps and choices by their
//! labels, numbers without float noise, every time in one zone and one format
//! (`2026-12-05 18:00 +08:00`). The same on a database and through a server: only
//! where the names, labels and zone come from differs (see `Show`).

use crate::table;
use baton_engine::core::{Candidates, Event, Instance, Record, Task, TaskId};
use baton_engine::display::{self, Labels, Names};
use baton_engine::view::{Shown, WaitingFor};
use baton_server::Notification;
use chrono::{DateTime, Utc};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Labels of a process at a version (`None`: its latest), when it can be found.
pub type FetchLabels<'a> = Box<dyn Fn(&str, Option<u32>) -> Option<Labels> + 'a>;

/// Labels fetched so far, by process and version.
type Cache = RefCell<BTreeMap<(String, Option<u32>), Rc<Labels>>>;

/// Where names and labels come from, and the zone times are shown in.
pub struct Show<'a> {
    pub zone: chrono_tz::Tz,
    pub names: Names,
    fetch: FetchLabels<'a>,
    cache: Cache,
}

impl<'a> Show<'a> {
    pub fn new(zone: chrono_tz::Tz, names: Names, fetch: FetchLabels<'a>) -> Show<'a> {
        Show {
            zone,
            names,
            fetch,
            cache: RefCell::new(BTreeMap::new()),
        }
    }

    /// A process's labels at `version` (its latest for `None`); a process that
    /// cannot be found shows its names.
    pub fn labels(&self, process: &str, version: Option<u32>) -> Rc<Labels> {
        let key = (process.to_string(), version);
        if let Some(l) = self.cache.borrow().get(&key) {
            return l.clone();
        }
        let l = Rc::new((self.fetch)(process, version).unwrap_or_else(|| Labels {
            title: process.to_string(),
            ..Labels::default()
        }));
        self.cache.borrow_mut().insert(key, l.clone());
        l
    }

    pub fn when(&self, t: Option<DateTime<Utc>>) -> String {
        t.map(|t| display::time(t, self.zone))
            .unwrap_or_else(|| "-".into())
    }

    pub fn person(&self, id: &str) -> String {
        display::person(id, &self.names)
    }

    fn people(&self, ids: &[String]) -> String {
        ids.iter()
            .map(|p| self.person(p))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Who a task is for: named people by name, roles by title as `@客服專員`.
    fn candidates(&self, c: &Candidates) -> String {
        let mut v: Vec<String> = c.people.iter().map(|p| self.person(p)).collect();
        v.extend(
            c.roles
                .iter()
                .map(|r| format!("@{}", display::role(r, &self.names))),
        );
        v.join(", ")
    }
}

pub fn tasks_table(tasks: &[Task], s: &Show) -> String {
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|t| {
            let who = match &t.assignee {
                Some(a) => s.person(a),
                None => s.candidates(&t.candidates),
            };
            vec![
                t.id.to_string(),
                s.labels(&t.process, None).title.clone(),
                t.title.clone(),
                t.state.as_str().to_string(),
                who,
                s.when(t.due),
            ]
        })
        .collect();
    table::render(&["TASK", "PROCESS", "TITLE", "STATE", "FOR", "DUE"], &rows)
}

/// What a step waits for, as a person reads it: `until 2026-12-01 10:00 +08:00`,
/// `for its 新員工入職 to end`.
fn waiting_text(w: &WaitingFor, s: &Show) -> String {
    match w {
        WaitingFor::Time { until } => format!("until {}", s.when(Some(*until))),
        WaitingFor::Child { process } => {
            format!("for its {} to end", s.labels(process, None).title)
        }
    }
}

/// `baton show`: the instance, then every sign-off of its history.
pub fn shown_text(sh: &Shown, s: &Show) -> String {
    let mut out = instance_text(&sh.instance, sh.waiting_for.as_ref(), s);
    if let Some(inc) = &sh.incident {
        out.push_str(&format!(
            "\nincident since {}: {}\nattempted: {}\nresolve with: baton retry|set|move|cancel {}\n",
            s.when(Some(inc.at)),
            inc.reason,
            inc.attempted,
            inc.instance
        ));
    }
    let labels = s.labels(&sh.instance.process, Some(sh.instance.version));
    let rows: Vec<Vec<String>> = sh
        .signoffs
        .iter()
        .flat_map(|o| {
            let labels = labels.clone();
            o.signatures.iter().map(move |g| {
                vec![
                    labels.step(&o.step).to_string(),
                    s.person(&g.by),
                    {
                        let signed = if g.approve { "approved" } else { "refused" };
                        match &g.reason {
                            Some(r) => format!("{signed}: {r}"),
                            None => signed.to_string(),
                        }
                    },
                    s.when(Some(g.at)),
                ]
            })
        })
        .collect();
    if !rows.is_empty() {
        out.push('\n');
        out.push_str(&table::render(&["SIGN-OFF", "BY", "SIGNED", "AT"], &rows));
    }
    out
}

pub fn instance_text(i: &Instance, waiting: Option<&WaitingFor>, s: &Show) -> String {
    let labels = s.labels(&i.process, Some(i.version));
    let mut out = format!(
        "instance {}  {} ({} v{})  {}{}\nstarted by {} at {}\n",
        i.id,
        labels.title,
        i.process,
        i.version,
        i.status.as_str(),
        i.outcome
            .as_ref()
            .map(|o| format!(" ({})", labels.step(o)))
            .unwrap_or_default(),
        s.person(&i.starter),
        s.when(Some(i.started_at)),
    );
    if let Some(step) = &i.step {
        let waits = match waiting {
            Some(w) => format!(" (waiting {})", waiting_text(w, s)),
            None if i.waiting => " (waiting)".to_string(),
            None => String::new(),
        };
        out.push_str(&format!(
            "step {}{waits}  due {}\n",
            labels.step(step),
            s.when(i.due)
        ));
    }
    // A parallel step: where each branch is.
    for b in &i.branches {
        let at = match (b.status, &b.position.step) {
            (baton_engine::core::BranchStatus::Running, Some(step)) => format!(
                "at {}{}  due {}",
                labels.step(step),
                if b.position.waiting { " (waiting)" } else { "" },
                s.when(b.position.due)
            ),
            (status, _) => status.as_str().to_string(),
        };
        out.push_str(&format!(
            "  branch {}: {at}
",
            labels.branch(&b.name)
        ));
    }
    // Every running limit with its deadline: its tasks are due by it too.
    for l in &i.limits {
        let mut state = Vec::new();
        if l.extended_minutes > 0 {
            state.push(format!("extended by {} min", l.extended_minutes));
        }
        if l.breached {
            state.push("breached".to_string());
        }
        let state = if state.is_empty() {
            String::new()
        } else {
            format!(" ({})", state.join(", "))
        };
        out.push_str(&format!(
            "limit {}  deadline {}{state}\n",
            labels.limit(&l.name),
            s.when(Some(l.deadline))
        ));
    }
    // Fields given at the start first, as the definition writes them; then the rest.
    let mut fields: Vec<(&String, &baton_dsl::eval::Value)> = i.data.iter().collect();
    fields.sort_by_key(|(k, _)| {
        labels
            .start_fields
            .iter()
            .position(|f| f == *k)
            .unwrap_or(usize::MAX)
    });
    let rows: Vec<Vec<String>> = fields
        .into_iter()
        .map(|(k, v)| {
            vec![
                labels.field(k).to_string(),
                labels.value(k, v, &s.names, s.zone),
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&table::render(&["FIELD", "VALUE"], &rows));
    let open: Vec<Task> = i.active_tasks().cloned().collect();
    if !open.is_empty() {
        out.push('\n');
        out.push_str(&tasks_table(&open, s));
    }
    out
}

/// `label=value, ...` of some data, for people.
fn values(data: &baton_engine::core::Data, labels: &Labels, s: &Show) -> String {
    data.iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                labels.field(k),
                labels.value(k, v, &s.names, s.zone)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One event of a history for people. `steps` knows each task's step (from the
/// history's `TaskCreated`), for the labels of its choices.
fn describe(e: &Event, labels: &Labels, steps: &BTreeMap<TaskId, String>, s: &Show) -> String {
    match e {
        Event::Started { .. } => format!("started {}", labels.title),
        Event::StepEntered { step, waiting } => format!(
            "entered {}{}",
            labels.step(step),
            if *waiting { " (waiting)" } else { "" }
        ),
        Event::WaitEnded => "wait over".into(),
        Event::DueSet { due } => format!("due {}", s.when(*due)),
        Event::DataSet { values: v } => format!("set {}", values(v, labels, s)),
        Event::TaskCreated { task } => format!("task {} created: {}", task.id, task.title),
        Event::TaskClaimed { task, by } => format!("task {task} claimed by {}", s.person(by)),
        Event::TaskReleased { task } => format!("task {task} released"),
        Event::TaskCompleted {
            task, choice, data, ..
        } => {
            let mut out = format!("task {task} completed");
            if let Some(c) = choice {
                let step = steps.get(task).map(String::as_str).unwrap_or("");
                out.push_str(&format!(": {}", labels.step_choice(step, c)));
            }
            if !data.is_empty() {
                out.push_str(&format!(" ({})", values(data, labels, s)));
            }
            out
        }
        Event::TaskReassigned {
            task,
            to,
            escalated,
        } => format!(
            "task {task} {} to {}",
            if *escalated {
                "escalated"
            } else {
                "reassigned"
            },
            s.candidates(to)
        ),
        Event::TaskCancelled { task } => format!("task {task} cancelled"),
        Event::Signed { by, approve } => format!(
            "{} {}",
            s.person(by),
            if *approve { "approved" } else { "refused" }
        ),
        Event::TimerSet { timer } => {
            format!("timer {} set for {}", timer.n, s.when(Some(timer.due)))
        }
        Event::TimerCancelled { n } => format!("timer {n} cancelled"),
        Event::TimerFired { n } => format!("timer {n} fired"),
        Event::LimitStarted { limit } => format!(
            "limit {} until {}",
            labels.limit(&limit.name),
            s.when(Some(limit.deadline))
        ),
        Event::LimitBreached { name } => format!("limit {} breached", labels.limit(name)),
        Event::LimitStopped { name } => format!("limit {} stopped", labels.limit(name)),
        Event::DeadlineExtended {
            limit,
            minutes,
            due,
            ..
        } => format!(
            "{} extended by {minutes} min, until {}",
            limit.as_deref().map_or("due time", |l| labels.limit(l)),
            s.when(Some(*due))
        ),
        Event::MessageQueued { message } => {
            // Addresses (with a channel) are not people.
            let to = if message.channel.is_some() {
                message.to.join(", ")
            } else {
                s.people(&message.to)
            };
            format!("message to {to}: {}", message.text)
        }
        Event::ChildStarted { process, wait } => format!(
            "started {}{}",
            s.labels(process, None).title,
            if *wait { " (waiting)" } else { "" }
        ),
        Event::ChildFinished { child, outcome } => format!("child {child} ended: {outcome}"),
        Event::Commented { text } => format!("comment: {text}"),
        Event::Completed { outcome } => format!("completed: {}", labels.step(outcome)),
        Event::Cancelled { reason } => format!("cancelled: {reason}"),
        Event::IncidentRaised { reason, attempted } => {
            format!("incident: {reason} (attempted: {attempted})")
        }
        Event::IncidentResolved { how } => format!("incident resolved: {how}"),
        Event::TaskDue { task, due } => format!("task {task} due {}", s.when(*due)),
        Event::Reasoned { task, reason } => format!("task {task} reason: {reason}"),
        Event::BranchStarted { branch } => format!("branch {} started", labels.branch(branch)),
        Event::InBranch { branch: Some(b) } => format!("in branch {}", labels.branch(b)),
        Event::InBranch { branch: None } => "back on the main line".into(),
        Event::BranchFinished { branch } => format!("branch {} finished", labels.branch(branch)),
        Event::BranchCancelled { branch } => {
            format!("branch {} cancelled", labels.branch(branch))
        }
        Event::Joined { branches } => {
            let names: Vec<&str> = branches.iter().map(|b| labels.branch(b)).collect();
            format!("joined: {}", names.join(", "))
        }
    }
}

pub fn history_table(records: &[Record], s: &Show) -> String {
    // The first record starts the instance and names its process and version.
    let labels = records
        .iter()
        .find_map(|r| match &r.event {
            Event::Started {
                process, version, ..
            } => Some(s.labels(process, Some(*version))),
            _ => None,
        })
        .unwrap_or_default();
    let mut steps: BTreeMap<TaskId, String> = BTreeMap::new();
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            if let Event::TaskCreated { task } = &r.event {
                steps.insert(task.id, task.step.clone());
            }
            vec![
                r.seq.to_string(),
                s.when(Some(r.at)),
                s.person(&r.actor),
                describe(&r.event, &labels, &steps, s),
            ]
        })
        .collect();
    table::render(&["#", "AT", "BY", "WHAT"], &rows)
}

pub fn inbox_table(items: &[Notification], s: &Show) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|n| {
            vec![
                n.id.to_string(),
                s.when(Some(n.at)),
                serde_json::to_value(n.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                n.instance.to_string(),
                n.task.clone().unwrap_or_else(|| "-".into()),
                n.text.clone(),
            ]
        })
        .collect();
    table::render(&["#", "AT", "KIND", "INSTANCE", "TASK", "TEXT"], &rows)
}
