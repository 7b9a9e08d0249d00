//! Staff commands: deploy, start, tasks, claim, release, complete, show, history,
//! cancel, inbox. With `--server` (or BATON_SERVER) they go to a running
//! `baton serve` over HTTP; otherwise they open the database of `--db` directly
//! (single user, offline). Both ways print the same tables and the same JSON.

use crate::client::Client;
use crate::exit::Code;
use crate::table;
use baton_engine::core::{Command, Event, Instance, Record, Rejection, Task, TaskId, TaskState};
use baton_engine::store::{Deployed, Options, Outcome, StoreError};
use baton_engine::view::{self, Shown, WaitingFor};
use baton_engine::{clock::SystemClock, Engine};
use baton_server::Notification;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Options every staff command shares.
#[derive(clap::Args, Clone)]
pub struct Common {
    /// The database folder.
    #[arg(long, global = true, default_value = "baton-data", env = "BATON_DB")]
    pub db: PathBuf,
    /// Who is acting (a person id from the staff directory).
    #[arg(long = "as", global = true, env = "BATON_AS")]
    pub actor: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// The company's time zone (IANA name); default: this machine's.
    #[arg(long, global = true, env = "BATON_ZONE")]
    pub zone: Option<String>,
    /// Work through a running `baton serve` at this address (like
    /// http://127.0.0.1:8080) instead of opening the database. The token comes from
    /// BATON_TOKEN or ~/.config/baton/token; the server knows who you are, so `--as`
    /// is not needed.
    #[arg(long, global = true, env = "BATON_SERVER")]
    pub server: Option<String>,
}

pub fn zone(name: Option<&str>) -> Result<chrono_tz::Tz, String> {
    let name = match name {
        Some(n) => n.to_string(),
        None => iana_time_zone::get_timezone().unwrap_or_else(|_| "UTC".into()),
    };
    name.parse()
        .map_err(|_| format!("unknown time zone `{name}`"))
}

pub(crate) fn open(c: &Common) -> Result<Engine, (Code, String)> {
    let zone = zone(c.zone.as_deref()).map_err(|e| (Code::Usage, e))?;
    Engine::open(
        &c.db,
        Options {
            zone,
            ..Default::default()
        },
        Arc::new(SystemClock),
    )
    .map_err(|e| {
        let msg = e.to_string();
        if msg.contains("lock")
            || msg.contains("WouldBlock")
            || msg.contains("Resource temporarily unavailable")
        {
            (
                Code::Storage,
                format!(
                    "{}: the database is in use (is `baton serve` running? use `--server`)",
                    c.db.display()
                ),
            )
        } else {
            (Code::Storage, format!("{}: {msg}", c.db.display()))
        }
    })
}

fn actor(c: &Common) -> Result<String, (Code, String)> {
    c.actor.clone().ok_or_else(|| {
        (
            Code::Usage,
            "say who is acting: --as PERSON (or BATON_AS)".into(),
        )
    })
}

/// The exit code and message for a failed command.
pub fn failure(e: StoreError) -> (Code, String) {
    match e {
        StoreError::Rejected(r) => {
            let code = match &r {
                Rejection::NotFound(_) => Code::NotFound,
                Rejection::Conflict(_) => Code::Conflict,
                Rejection::Forbidden(_) => Code::Forbidden,
                Rejection::Invalid(_) => Code::Invalid,
                Rejection::Requirement(_) => Code::Requirement,
                Rejection::Stuck(_) => Code::Stuck,
                // The same key for another request: a mistake of the caller's.
                Rejection::KeyReused(_) => Code::Usage,
            };
            let msg = match &r {
                Rejection::Invalid(errs) => {
                    let lines: Vec<String> = errs.iter().map(|e| format!("  {e}")).collect();
                    format!("invalid data:\n{}", lines.join("\n"))
                }
                other => other.to_string(),
            };
            (code, msg)
        }
        StoreError::Definition(diags) => (
            Code::Problems,
            diags
                .iter()
                .map(|d| d.render(""))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        other => (Code::Storage, other.to_string()),
    }
}

/// `--set k=v`: a JSON value when it parses as one (numbers, true/false), else text.
pub fn parse_sets(
    sets: &[String],
    file: Option<&Path>,
) -> Result<serde_json::Map<String, serde_json::Value>, (Code, String)> {
    let mut map = match file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| (Code::Usage, format!("{}: {e}", f.display())))?;
            match serde_json::from_str(&text) {
                Ok(serde_json::Value::Object(m)) => m,
                _ => {
                    return Err((
                        Code::Usage,
                        format!("{}: expected a JSON object", f.display()),
                    ))
                }
            }
        }
        None => serde_json::Map::new(),
    };
    for s in sets {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| (Code::Usage, format!("`--set {s}`: write field=value")))?;
        let value = match serde_json::from_str::<serde_json::Value>(v) {
            Ok(j @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => j,
            _ => serde_json::Value::String(v.to_string()),
        };
        map.insert(k.trim().to_string(), value);
    }
    Ok(map)
}

pub(crate) fn when(t: Option<DateTime<Utc>>, zone: chrono_tz::Tz) -> String {
    t.map(|t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

pub fn tasks_table(tasks: &[Task], zone: chrono_tz::Tz) -> String {
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|t| {
            let who = match &t.assignee {
                Some(a) => a.clone(),
                None => {
                    let mut v = t.candidates.people.clone();
                    v.extend(t.candidates.roles.iter().map(|r| format!("@{r}")));
                    v.join(",")
                }
            };
            vec![
                t.id.to_string(),
                t.process.clone(),
                t.title.clone(),
                t.state.as_str().to_string(),
                who,
                when(t.due, zone),
            ]
        })
        .collect();
    table::render(&["TASK", "PROCESS", "TITLE", "STATE", "FOR", "DUE"], &rows)
}

/// What a step waits for, as a person reads it: `until 2026-12-01 10:00`, `for
/// its onboarding to end`.
fn waiting_text(w: &WaitingFor, zone: chrono_tz::Tz) -> String {
    match w {
        WaitingFor::Time { until } => format!("until {}", when(Some(*until), zone)),
        other => other.to_string(),
    }
}

/// `baton show`: the instance, then every sign-off of its history.
pub fn shown_text(s: &Shown, zone: chrono_tz::Tz) -> String {
    let mut out = instance_text(&s.instance, s.waiting_for.as_ref(), zone);
    let rows: Vec<Vec<String>> = s
        .signoffs
        .iter()
        .flat_map(|o| {
            o.signatures.iter().map(|g| {
                vec![
                    o.step.clone(),
                    g.by.clone(),
                    if g.approve { "approved" } else { "refused" }.to_string(),
                    when(Some(g.at), zone),
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

pub fn instance_text(i: &Instance, waiting: Option<&WaitingFor>, zone: chrono_tz::Tz) -> String {
    let mut out = format!(
        "instance {}  {} v{}  {}{}\nstarted by {} at {}\n",
        i.id,
        i.process,
        i.version,
        i.status.as_str(),
        i.outcome
            .as_ref()
            .map(|o| format!(" ({o})"))
            .unwrap_or_default(),
        i.starter,
        when(Some(i.started_at), zone),
    );
    if let Some(s) = &i.step {
        let waits = match waiting {
            Some(w) => format!(" (waiting {})", waiting_text(w, zone)),
            None if i.waiting => " (waiting)".to_string(),
            None => String::new(),
        };
        out.push_str(&format!("step {s}{waits}  due {}\n", when(i.due, zone)));
    }
    let rows: Vec<Vec<String>> = i
        .data
        .iter()
        .map(|(k, v)| vec![k.clone(), v.to_string()])
        .collect();
    out.push('\n');
    out.push_str(&table::render(&["FIELD", "VALUE"], &rows));
    let open: Vec<Task> = i.active_tasks().cloned().collect();
    if !open.is_empty() {
        out.push('\n');
        out.push_str(&tasks_table(&open, zone));
    }
    out
}

fn describe(e: &Event) -> String {
    match e {
        Event::Started { process, .. } => format!("started {process}"),
        Event::StepEntered { step, waiting } => {
            format!("entered {step}{}", if *waiting { " (waiting)" } else { "" })
        }
        Event::WaitEnded => "wait over".into(),
        Event::DueSet { due } => format!("due {}", due.map(|d| d.to_rfc3339()).unwrap_or_default()),
        Event::DataSet { values } => format!(
            "set {}",
            values
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Event::TaskCreated { task } => format!("task {} created: {}", task.id, task.title),
        Event::TaskClaimed { task, by } => format!("task {task} claimed by {by}"),
        Event::TaskReleased { task } => format!("task {task} released"),
        Event::TaskCompleted {
            task, choice, data, ..
        } => {
            let mut s = format!("task {task} completed");
            if let Some(c) = choice {
                s.push_str(&format!(": {c}"));
            }
            if !data.is_empty() {
                s.push_str(&format!(
                    " ({})",
                    data.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            s
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
            to.people
                .iter()
                .chain(to.roles.iter())
                .cloned()
                .collect::<Vec<_>>()
                .join(",")
        ),
        Event::TaskCancelled { task } => format!("task {task} cancelled"),
        Event::Signed { by, approve } => {
            format!("{by} {}", if *approve { "approved" } else { "refused" })
        }
        Event::TimerSet { timer } => {
            format!("timer {} set for {}", timer.n, timer.due.to_rfc3339())
        }
        Event::TimerCancelled { n } => format!("timer {n} cancelled"),
        Event::TimerFired { n } => format!("timer {n} fired"),
        Event::LimitStarted { limit } => {
            format!("limit {} until {}", limit.name, limit.deadline.to_rfc3339())
        }
        Event::LimitBreached { name } => format!("limit {name} breached"),
        Event::LimitStopped { name } => format!("limit {name} stopped"),
        Event::DeadlineExtended { limit, minutes, .. } => format!(
            "{} extended by {minutes} min",
            limit.clone().unwrap_or_else(|| "due time".into())
        ),
        Event::MessageQueued { message } => {
            format!("message to {}: {}", message.to.join(","), message.text)
        }
        Event::ChildStarted { process, wait } => {
            format!("started {process}{}", if *wait { " (waiting)" } else { "" })
        }
        Event::ChildFinished { child, outcome } => format!("child {child} ended: {outcome}"),
        Event::Commented { text } => format!("comment: {text}"),
        Event::Completed { outcome } => format!("completed: {outcome}"),
        Event::Cancelled { reason } => format!("cancelled: {reason}"),
    }
}

pub fn history_table(records: &[Record], zone: chrono_tz::Tz) -> String {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.seq.to_string(),
                when(Some(r.at), zone),
                r.actor.clone(),
                describe(&r.event),
            ]
        })
        .collect();
    table::render(&["#", "AT", "BY", "WHAT"], &rows)
}

fn print_outcome(o: &Outcome, c: &Common, zone: chrono_tz::Tz) {
    if c.json {
        outln!("{}", serde_json::to_string_pretty(o).unwrap_or_default());
    } else {
        let waiting = view::waiting_for(&o.instance, &o.records);
        out!("{}", instance_text(&o.instance, waiting.as_ref(), zone));
    }
}

fn print_started(o: &Outcome, c: &Common, zone: chrono_tz::Tz, quiet: bool) {
    if quiet {
        outln!("{}", o.instance.id);
    } else {
        print_outcome(o, c, zone);
    }
}

#[derive(clap::Subcommand, Clone)]
pub enum StaffCommand {
    /// Deploy the staff directory and every definition of a folder into the database.
    Deploy {
        #[arg(default_value = "processes")]
        dir: PathBuf,
    },
    /// Start an instance of a process.
    Start {
        process: String,
        /// A field's value: `--set customer=張三` (repeatable).
        #[arg(long = "set")]
        sets: Vec<String>,
        /// Field values from a JSON object file.
        #[arg(long)]
        data: Option<PathBuf>,
        /// A retry with the same key returns the first result and changes nothing.
        #[arg(long)]
        idempotency_key: Option<String>,
        /// Print only the new instance's id, for scripts: `i=$(baton start ... -q)`.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Your open and claimed tasks (yours and your roles').
    Tasks {
        /// Tasks offered to a role instead.
        #[arg(long)]
        role: Option<String>,
        /// Tasks in a state (open, claimed, completed, cancelled).
        #[arg(long)]
        state: Option<String>,
        /// Tasks past their due time.
        #[arg(long)]
        overdue: bool,
        /// The tasks of the people you lead (whom you supervise, directly or not, and
        /// the people of a department you head).
        #[arg(long, conflicts_with_all = ["role", "state", "overdue"])]
        team: bool,
    },
    /// Take a task so that nobody else works on it.
    Claim { task: String },
    /// Give a claimed task back to its candidates.
    Release { task: String },
    /// Finish a task.
    Complete {
        task: String,
        /// The choice (`approve`/`refuse` for a sign-off).
        #[arg(long = "choose")]
        choice: Option<String>,
        #[arg(long = "set")]
        sets: Vec<String>,
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Show an instance: its step, data and open tasks.
    Show { instance: u64 },
    /// An instance's history: who did what, and when.
    History { instance: u64 },
    /// Cancel an instance (its starter or an admin).
    Cancel {
        instance: u64,
        #[arg(long, default_value = "cancelled")]
        reason: String,
    },
    /// Your notifications: reminders, escalations and messages about your tasks.
    Inbox,
}

fn task_id(s: &str) -> Result<TaskId, (Code, String)> {
    s.parse().map_err(|e| (Code::Usage, e))
}

pub fn run(cmd: StaffCommand, c: &Common) -> Code {
    match run_inner(cmd, c) {
        Ok(()) => Code::Ok,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            code
        }
    }
}

fn run_inner(cmd: StaffCommand, c: &Common) -> Result<(), (Code, String)> {
    if let Some(url) = c.server.as_deref() {
        return remote(cmd, c, url);
    }
    // Only `deploy` makes a database: any other command on a folder that holds none
    // (a typo in `--db`, say) would otherwise leave an empty database behind and
    // answer as if there were simply nothing in it.
    if !matches!(cmd, StaffCommand::Deploy { .. }) && !c.db.exists() {
        return Err((
            Code::Storage,
            format!(
                "{}: no database here; `baton deploy` makes one, `baton serve` too (or use --server)",
                c.db.display()
            ),
        ));
    }
    let engine = open(c)?;
    let zone = engine.store.zone;
    match cmd {
        StaffCommand::Deploy { dir } => {
            let reports = engine.deploy_dir(&dir).map_err(failure)?;
            let mut failed = false;
            for r in reports {
                match r.result {
                    Ok((name, d)) => outln!("{}: {name}, {d}", r.file),
                    Err(StoreError::Definition(diags)) => {
                        failed = true;
                        let src = std::fs::read_to_string(&r.file).unwrap_or_default();
                        for d in diags {
                            eprintln!("{}", d.render(&src));
                        }
                        eprintln!("{}: not deployed", r.file);
                    }
                    Err(e) => return Err(failure(e)),
                }
            }
            if failed {
                return Err((Code::Problems, "some definitions were not deployed".into()));
            }
        }
        StaffCommand::Start {
            process,
            sets,
            data,
            idempotency_key,
            quiet,
        } => {
            let who = actor(c)?;
            let input = parse_sets(&sets, data.as_deref())?;
            let o = engine
                .start(&process, input, &who, idempotency_key.as_deref())
                .map_err(failure)?;
            print_started(&o, c, zone, quiet);
        }
        StaffCommand::Tasks {
            role,
            state,
            overdue,
            team,
        } => {
            let tasks = if team {
                let who = actor(c)?;
                let party = baton_engine::team::Party::team(&engine.store.directory(), &who);
                engine.store.tasks_of(&party).map_err(failure)?
            } else if overdue {
                engine
                    .store
                    .overdue(engine.clock.now(), 1000)
                    .map_err(failure)?
            } else if let Some(s) = state {
                let st = match s.as_str() {
                    "open" => TaskState::Open,
                    "claimed" => TaskState::Claimed,
                    "completed" => TaskState::Completed,
                    "cancelled" => TaskState::Cancelled,
                    other => return Err((Code::Usage, format!("unknown state `{other}`"))),
                };
                engine
                    .store
                    .tasks_in_state(st, None, 1000)
                    .map_err(failure)?
                    .items
            } else if let Some(r) = role {
                engine.store.tasks_for_role(&r).map_err(failure)?
            } else {
                engine.store.tasks_for(&actor(c)?).map_err(failure)?
            };
            if c.json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&tasks).unwrap_or_default()
                );
            } else {
                out!("{}", tasks_table(&tasks, zone));
            }
        }
        StaffCommand::Claim { task } => {
            let t = task_id(&task)?;
            let o = engine.claim(t, &actor(c)?).map_err(failure)?;
            print_outcome(&o, c, zone);
        }
        StaffCommand::Release { task } => {
            let t = task_id(&task)?;
            let o = engine
                .act(t.instance, Command::Release { task: t }, &actor(c)?, None)
                .map_err(failure)?;
            print_outcome(&o, c, zone);
        }
        StaffCommand::Complete {
            task,
            choice,
            sets,
            data,
            idempotency_key,
        } => {
            let t = task_id(&task)?;
            let input = parse_sets(&sets, data.as_deref())?;
            let cmd = Command::Complete {
                task: t,
                choice,
                data: input,
            };
            let o = engine
                .act(t.instance, cmd, &actor(c)?, idempotency_key.as_deref())
                .map_err(failure)?;
            print_outcome(&o, c, zone);
        }
        StaffCommand::Show { instance } => {
            let i = engine.store.instance(instance).map_err(failure)?;
            let history = engine.store.history(instance).map_err(failure)?;
            let shown = view::shown(i, &history);
            if c.json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&shown).unwrap_or_default()
                );
            } else {
                out!("{}", shown_text(&shown, zone));
            }
        }
        StaffCommand::History { instance } => {
            let h = engine.store.history(instance).map_err(failure)?;
            if c.json {
                outln!("{}", serde_json::to_string_pretty(&h).unwrap_or_default());
            } else {
                out!("{}", history_table(&h, zone));
            }
        }
        StaffCommand::Cancel { instance, reason } => {
            let o = engine
                .act(instance, Command::Cancel { reason }, &actor(c)?, None)
                .map_err(failure)?;
            print_outcome(&o, c, zone);
        }
        StaffCommand::Inbox => {
            let who = actor(c)?;
            let mut items = Vec::new();
            let mut after = 0;
            loop {
                let batch = engine.store.inbox(&who, after, 1000).map_err(failure)?;
                let Some(last) = batch.last() else { break };
                after = last.id;
                items.extend(batch.iter().map(Notification::from));
            }
            print_inbox(&items, c, zone);
        }
    }
    Ok(())
}

pub fn inbox_table(items: &[Notification], zone: chrono_tz::Tz) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|n| {
            vec![
                n.id.to_string(),
                when(Some(n.at), zone),
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

fn print_inbox(items: &[Notification], c: &Common, zone: chrono_tz::Tz) {
    if c.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(items).unwrap_or_default()
        );
    } else {
        out!("{}", inbox_table(items, zone));
    }
}

fn print_json<T: serde::Serialize>(v: &T) {
    outln!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// The same commands through a running server: same tables, same JSON, same exit
/// codes.
fn remote(cmd: StaffCommand, c: &Common, url: &str) -> Result<(), (Code, String)> {
    let zone = zone(c.zone.as_deref()).map_err(|e| (Code::Usage, e))?;
    let client = Client::new(url)?;
    let task_path = |task: &str, verb: &str| -> Result<String, (Code, String)> {
        Ok(format!("/tasks/{}/{verb}", task_id(task)?))
    };
    match cmd {
        StaffCommand::Deploy { dir } => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| (Code::Usage, format!("{}: {e}", dir.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "flow"))
                .collect();
            files.sort();
            if dir.join("staff.ron").exists() {
                eprintln!(
                    "note: the staff directory is not sent over HTTP; `baton serve` deploys {}",
                    dir.join("staff.ron").display()
                );
            }
            let mut failed = false;
            for f in files {
                let source = std::fs::read_to_string(&f)
                    .map_err(|e| (Code::Usage, format!("{}: {e}", f.display())))?;
                let file = f.display().to_string();
                let body = serde_json::json!({"file": file, "source": source});
                match client.post::<serde_json::Value>("/definitions", &body, None) {
                    Ok(d) => {
                        let version = d["version"]
                            .as_u64()
                            .and_then(|v| u32::try_from(v).ok())
                            .unwrap_or(0);
                        let deployed = if d["created"] == true {
                            Deployed::New { version }
                        } else {
                            Deployed::Unchanged { version }
                        };
                        outln!("{file}: {}, {deployed}", d["name"].as_str().unwrap_or(""));
                    }
                    Err((Code::Problems, msg)) => {
                        failed = true;
                        eprintln!("{msg}");
                        eprintln!("{file}: not deployed");
                    }
                    Err(e) => return Err(e),
                }
            }
            if failed {
                return Err((Code::Problems, "some definitions were not deployed".into()));
            }
        }
        StaffCommand::Start {
            process,
            sets,
            data,
            idempotency_key,
            quiet,
        } => {
            let input = parse_sets(&sets, data.as_deref())?;
            let body = serde_json::json!({"process": process, "data": input});
            let o: Outcome = client.post("/instances", &body, idempotency_key.as_deref())?;
            print_started(&o, c, zone, quiet);
        }
        StaffCommand::Tasks {
            role,
            state,
            overdue,
            team,
        } => {
            let path = if team {
                "/tasks?team=true".to_string()
            } else if overdue {
                "/tasks?overdue=true".to_string()
            } else if let Some(s) = state {
                format!("/tasks?state={}", crate::client::encode(&s))
            } else if let Some(r) = role {
                format!("/tasks?role={}", crate::client::encode(&r))
            } else {
                "/tasks".to_string()
            };
            let tasks: Vec<Task> = client.get_all(&path)?;
            if c.json {
                print_json(&tasks);
            } else {
                out!("{}", tasks_table(&tasks, zone));
            }
        }
        StaffCommand::Claim { task } => {
            let o: Outcome =
                client.post(&task_path(&task, "claim")?, &serde_json::json!({}), None)?;
            print_outcome(&o, c, zone);
        }
        StaffCommand::Release { task } => {
            let o: Outcome =
                client.post(&task_path(&task, "release")?, &serde_json::json!({}), None)?;
            print_outcome(&o, c, zone);
        }
        StaffCommand::Complete {
            task,
            choice,
            sets,
            data,
            idempotency_key,
        } => {
            let input = parse_sets(&sets, data.as_deref())?;
            let body = serde_json::json!({"choice": choice, "data": input});
            let o: Outcome = client.post(
                &task_path(&task, "complete")?,
                &body,
                idempotency_key.as_deref(),
            )?;
            print_outcome(&o, c, zone);
        }
        StaffCommand::Show { instance } => {
            let shown: Shown = client.get(&format!("/instances/{instance}"))?;
            if c.json {
                print_json(&shown);
            } else {
                out!("{}", shown_text(&shown, zone));
            }
        }
        StaffCommand::History { instance } => {
            let h: Vec<Record> = client.get_all(&format!("/instances/{instance}/history"))?;
            if c.json {
                print_json(&h);
            } else {
                out!("{}", history_table(&h, zone));
            }
        }
        StaffCommand::Cancel { instance, reason } => {
            let body = serde_json::json!({ "reason": reason });
            let o: Outcome = client.post(&format!("/instances/{instance}/cancel"), &body, None)?;
            print_outcome(&o, c, zone);
        }
        StaffCommand::Inbox => {
            let items: Vec<Notification> = client.get_all("/inbox")?;
            print_inbox(&items, c, zone);
        }
    }
    Ok(())
}
