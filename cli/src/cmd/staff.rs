//! Staff commands: deploy, start, tasks, claim, release, complete, show, history,
//! cancel, inbox. With `--server` (or BATON_SERVER) they go to a running
//! `baton serve` over HTTP; otherwise they open the database of `--db` directly
//! (single user, offline). Both ways print the same tables and the same JSON.

use super::render::{
    history_table, inbox_table, instance_text, shown_text, tasks_table, FetchLabels, Show,
};
use crate::client::Client;
use crate::exit::Code;
use baton_engine::config::Config;
use baton_engine::core::{Command, InstanceId, Record, Rejection, Task, TaskId, TaskState};
use baton_engine::display::{Labels, Names};
use baton_engine::store::prelude::*;
use baton_engine::store::{Deployed, Outcome, StoreError};
use baton_engine::view::{self, Shown};
use baton_engine::{clock::SystemClock, Engine};
use baton_server::Notification;
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
    /// Show times in this zone (IANA name, like Asia/Taipei). Default: the
    /// company's, from the server or from processes/baton.ron (else this machine's).
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

/// Where commands on a database find the company's configuration: where `baton
/// serve` reads it by default.
const COMPANY_CONFIG: &str = "processes/baton.ron";

/// The company's configuration (zone, calendar, language) for commands on a
/// database. Without `processes/baton.ron`, the zone is `--zone`'s or this
/// machine's, as it always was.
fn company_config(c: &Common) -> Result<Config, (Code, String)> {
    let path = Path::new(COMPANY_CONFIG);
    if !path.exists() {
        return Ok(Config {
            zone: Some(
                zone(c.zone.as_deref())
                    .map_err(|e| (Code::Usage, e))?
                    .name()
                    .to_string(),
            ),
            ..Config::default()
        });
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| (Code::Usage, format!("{COMPANY_CONFIG}: {e}")))?;
    Config::from_ron(&text).map_err(|e| (Code::Usage, format!("{COMPANY_CONFIG}: {e}")))
}

pub(crate) fn open(c: &Common) -> Result<Engine, (Code, String)> {
    let options = company_config(c)?
        .options()
        .map_err(|e| (Code::Usage, format!("{COMPANY_CONFIG}: {e}")))?;
    Engine::open(&c.db, options, Arc::new(SystemClock))
        .map_err(|e| (Code::Storage, storage_message(&c.db, &e)))
}

/// The company's configuration, as commands on a database read it (see
/// `company_config`), without a `--zone` of their own.
pub(crate) fn company_options() -> Result<Config, (Code, String)> {
    let path = Path::new(COMPANY_CONFIG);
    if !path.exists() {
        return Ok(Config::default());
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| (Code::Usage, format!("{COMPANY_CONFIG}: {e}")))?;
    Config::from_ron(&text).map_err(|e| (Code::Usage, format!("{COMPANY_CONFIG}: {e}")))
}

/// A database as people read it: its folder, or its PostgreSQL address without the
/// password.
pub(crate) fn shown(db: &Path) -> String {
    let s = db.display().to_string();
    if !baton_engine::store::is_postgres(&s) {
        return s;
    }
    match s.split_once("://").and_then(|(scheme, rest)| {
        let (user, host) = rest.split_once('@')?;
        let (name, _) = user.split_once(':')?;
        Some(format!("{scheme}://{name}:…@{host}"))
    }) {
        Some(hidden) => hidden,
        None => s,
    }
}

/// Why the database at `db` could not be opened, for a person.
pub(crate) fn storage_message(db: &Path, e: &StoreError) -> String {
    // It names the folder already, and says what to do.
    if let StoreError::Damaged { .. } = e {
        return e.to_string();
    }
    let msg = e.to_string();
    if msg.contains("lock")
        || msg.contains("WouldBlock")
        || msg.contains("Resource temporarily unavailable")
    {
        format!(
            "{}: the database is in use (is `baton serve` running? use `--server`)",
            shown(db)
        )
    } else {
        format!("{}: {msg}", shown(db))
    }
}

/// Open the database of `--db` for a command that only uses one: only `deploy` (and
/// `serve`) make a database, so a typo in `--db` is an error, not an empty answer.
pub(crate) fn open_existing(c: &Common) -> Result<Engine, (Code, String)> {
    let postgres = c.db.to_str().is_some_and(baton_engine::store::is_postgres);
    if !postgres && !c.db.exists() {
        return Err((
            Code::Storage,
            format!(
                "{}: no database here; `baton deploy` makes one, `baton serve` too (or use --server)",
                c.db.display()
            ),
        ));
    }
    open(c)
}

pub(crate) fn actor(c: &Common) -> Result<String, (Code, String)> {
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
                Rejection::Requirement { .. } => Code::Requirement,
                Rejection::Stuck(_) => Code::Stuck,
                // The same key for another request: a mistake of the caller's.
                Rejection::KeyReused(_) => Code::Usage,
            };
            let msg = match &r {
                Rejection::Invalid(errs) => {
                    let lines: Vec<String> = errs.iter().map(|e| format!("  {e}")).collect();
                    format!("invalid data:\n{}", lines.join("\n"))
                }
                Rejection::Requirement { message, fields } => {
                    crate::client::requirement(message, fields)
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

/// The zone times are shown in: `--zone`, else the company's.
pub(crate) fn shown_zone(
    c: &Common,
    company: chrono_tz::Tz,
) -> Result<chrono_tz::Tz, (Code, String)> {
    let z = match c.zone.as_deref() {
        Some(z) => z
            .parse()
            .map_err(|_| (Code::Usage, format!("unknown time zone `{z}`")))?,
        None => company,
    };
    // `--json` writes times with this zone's offset too.
    baton_dsl::zone::set_json_zone(z);
    Ok(z)
}

/// Names, labels and the zone from the database: how a command on it shows things.
pub(crate) fn local_show(c: &Common, engine: &Engine) -> Result<Show<'static>, (Code, String)> {
    let store = engine.store.clone();
    let fetch: FetchLabels<'static> = Box::new(move |process, version| {
        let def = match version {
            Some(v) => store.definition(process, v).ok(),
            None => store.latest(process).ok().map(|(_, d)| d),
        }?;
        Some(Labels::of(&def))
    });
    let names = Names::of(
        &engine.store.directory(),
        engine.store.zone,
        engine.store.language,
    );
    Ok(Show::new(shown_zone(c, engine.store.zone)?, names, fetch))
}

/// The server's names, zone and language; a process's labels when first needed.
pub(crate) fn remote_show<'a>(
    c: &Common,
    client: &'a Client,
    url: &str,
) -> Result<Show<'a>, (Code, String)> {
    let names: Names = client.get("/directory")?;
    let company: chrono_tz::Tz = names.zone.parse().map_err(|_| {
        (
            Code::Storage,
            format!(
                "the Baton server at {url} names an unknown zone `{}`",
                names.zone
            ),
        )
    })?;
    let fetch: FetchLabels<'a> = Box::new(move |process, version| {
        let mut path = format!("/definitions/{}/labels", crate::client::encode(process));
        if let Some(v) = version {
            path.push_str(&format!("?version={v}"));
        }
        client.get(&path).ok()
    });
    Ok(Show::new(shown_zone(c, company)?, names, fetch))
}

/// The labels of the definition version an instance runs on, to read its `--set`
/// values by their fields' types (none when it cannot be found: the engine then
/// answers for the instance).
pub(crate) fn instance_labels(
    engine: &Engine,
    show: &Show,
    instance: InstanceId,
) -> std::rc::Rc<Labels> {
    match engine.store.instance(instance) {
        Ok(i) => show.labels(&i.process, Some(i.version)),
        Err(_) => Default::default(),
    }
}

/// As `instance_labels`, through a server.
pub(crate) fn remote_instance_labels(
    client: &Client,
    show: &Show,
    instance: InstanceId,
) -> std::rc::Rc<Labels> {
    match client.get::<Shown>(&format!("/instances/{instance}")) {
        Ok(sh) => show.labels(&sh.instance.process, Some(sh.instance.version)),
        Err(_) => Default::default(),
    }
}

/// `--set k=v` as the JSON value the field's type takes: a number for `integer`
/// and `decimal` fields, true/false for `bool`, text for the rest (times, dates,
/// choices, ids: the engine reads them). A value that is not of its field's type
/// is sent as text, and refused with the field's message. For a field the labels
/// do not know, a number or true/false when it parses as one, else text.
fn typed(kind: Option<&str>, v: &str) -> serde_json::Value {
    use serde_json::Value as J;
    let parsed = serde_json::from_str::<J>(v.trim());
    match (kind, parsed) {
        (Some("integer" | "decimal"), Ok(j @ J::Number(_))) => j,
        (Some("bool"), Ok(j @ J::Bool(_))) => j,
        (None, Ok(j @ (J::Number(_) | J::Bool(_)))) => j,
        // A whole list as JSON: `--set 'action_items=[{"item": ...}]'`.
        (Some("list"), Ok(j @ J::Array(_))) => j,
        _ => J::String(v.to_string()),
    }
}

/// `--set k=v` (repeatable) over the JSON object of `--data FILE`, each value typed
/// by its field in `labels`.
pub fn parse_sets(
    sets: &[String],
    file: Option<&Path>,
    labels: &Labels,
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
        let k = k.trim();
        if let Some((list, field)) = list_element(k, labels) {
            add_to_list(&mut map, list, field, v, labels)
                .map_err(|e| (Code::Usage, format!("`--add {s}`: {e}")))?;
            continue;
        }
        let kind = labels.fields.get(k).map(|f| f.kind.as_str());
        map.insert(k.to_string(), typed(kind, v));
    }
    Ok(map)
}

/// `action_items.item`: a list field and one of its elements' fields.
fn list_element<'k>(k: &'k str, labels: &Labels) -> Option<(&'k str, &'k str)> {
    let (list, field) = k.split_once('.')?;
    (labels.fields.get(list)?.kind == "list").then_some((list, field))
}

/// Put `field=v` into the list's last element, or into a new one when the last
/// already has `field` (or there is none): repeated `--add` fill the elements in
/// order.
fn add_to_list(
    map: &mut serde_json::Map<String, serde_json::Value>,
    list: &str,
    field: &str,
    v: &str,
    labels: &Labels,
) -> Result<(), String> {
    use serde_json::Value as J;
    let kind = labels
        .fields
        .get(list)
        .and_then(|f| f.elements.get(field))
        .map(String::as_str);
    let items = match map
        .entry(list.to_string())
        .or_insert_with(|| J::Array(vec![]))
    {
        J::Array(xs) => xs,
        _ => return Err(format!("`{list}` is given whole already")),
    };
    let starts_new = match items.last() {
        Some(J::Object(m)) => m.contains_key(field),
        _ => true,
    };
    if starts_new {
        items.push(J::Object(serde_json::Map::new()));
    }
    if let Some(J::Object(m)) = items.last_mut() {
        m.insert(field.to_string(), typed(kind, v));
    }
    Ok(())
}

pub(crate) fn print_outcome(o: &Outcome, c: &Common, show: &Show) {
    if c.json {
        outln!("{}", serde_json::to_string_pretty(o).unwrap_or_default());
    } else {
        let waiting = view::waiting_for(&o.instance, &o.records);
        out!("{}", instance_text(&o.instance, waiting.as_ref(), show));
        // The command went through, and what Baton then tried could not go on.
        if let Some(inc) = view::incident(&o.instance, &o.records) {
            outln!(
                "\nincident: {} (attempted: {}); an admin must resolve it",
                inc.reason,
                inc.attempted
            );
        }
    }
}

fn print_started(o: &Outcome, c: &Common, show: &Show, quiet: bool) {
    if quiet {
        outln!("{}", o.instance.id);
    } else {
        print_outcome(o, c, show);
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
        /// A field's value: `--set customer=張三` (repeatable). A list's element:
        /// `--add action_items.item=... --add action_items.owner=...`, a new element
        /// each time the last already has that field.
        #[arg(long = "set", visible_alias = "add")]
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
        /// A field's value: `--set solution=...` (repeatable). A list's element:
        /// `--add action_items.item=... --add action_items.owner=...`, a new element
        /// each time the last already has that field.
        #[arg(long = "set", visible_alias = "add")]
        sets: Vec<String>,
        #[arg(long)]
        data: Option<PathBuf>,
        /// Why (a refusal, a choice): kept in the history; a refusal's notice to
        /// the starter carries it.
        #[arg(long)]
        reason: Option<String>,
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

pub(crate) fn task_id(s: &str) -> Result<TaskId, (Code, String)> {
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
    let engine = if matches!(cmd, StaffCommand::Deploy { .. }) {
        open(c)?
    } else {
        open_existing(c)?
    };
    let show = local_show(c, &engine)?;
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
            let input = parse_sets(&sets, data.as_deref(), &show.labels(&process, None))?;
            let o = engine
                .start(&process, input, &who, idempotency_key.as_deref())
                .map_err(failure)?;
            print_started(&o, c, &show, quiet);
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
                out!("{}", tasks_table(&tasks, &show));
            }
        }
        StaffCommand::Claim { task } => {
            let t = task_id(&task)?;
            let o = engine.claim(t, &actor(c)?).map_err(failure)?;
            print_outcome(&o, c, &show);
        }
        StaffCommand::Release { task } => {
            let t = task_id(&task)?;
            let o = engine
                .act(t.instance, Command::Release { task: t }, &actor(c)?, None)
                .map_err(failure)?;
            print_outcome(&o, c, &show);
        }
        StaffCommand::Complete {
            task,
            choice,
            sets,
            data,
            reason,
            idempotency_key,
        } => {
            let t = task_id(&task)?;
            // The fields are those of the version the task's instance runs on.
            let labels = match engine.store.instance(t.instance) {
                Ok(i) => show.labels(&i.process, Some(i.version)),
                Err(_) => Default::default(),
            };
            let input = parse_sets(&sets, data.as_deref(), &labels)?;
            let cmd = match reason {
                None => Command::Complete {
                    task: t,
                    choice,
                    data: input,
                },
                Some(reason) => Command::CompleteWithReason {
                    task: t,
                    choice,
                    data: input,
                    reason,
                },
            };
            let o = engine
                .act(t.instance, cmd, &actor(c)?, idempotency_key.as_deref())
                .map_err(failure)?;
            print_outcome(&o, c, &show);
        }
        StaffCommand::Show { instance } => {
            let shown = engine.store.shown(instance).map_err(failure)?;
            if c.json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&shown).unwrap_or_default()
                );
            } else {
                out!("{}", shown_text(&shown, &show));
            }
        }
        StaffCommand::History { instance } => {
            let h = engine.store.history(instance).map_err(failure)?;
            if c.json {
                outln!("{}", serde_json::to_string_pretty(&h).unwrap_or_default());
            } else {
                out!("{}", history_table(&h, &show));
            }
        }
        StaffCommand::Cancel { instance, reason } => {
            let o = engine
                .act(instance, Command::Cancel { reason }, &actor(c)?, None)
                .map_err(failure)?;
            print_outcome(&o, c, &show);
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
            print_inbox(&items, c, &show);
        }
    }
    Ok(())
}

fn print_inbox(items: &[Notification], c: &Common, show: &Show) {
    if c.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(items).unwrap_or_default()
        );
    } else {
        out!("{}", inbox_table(items, show));
    }
}

fn print_json<T: serde::Serialize>(v: &T) {
    outln!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// The same commands through a running server: same tables, same JSON, same exit
/// codes.
fn remote(cmd: StaffCommand, c: &Common, url: &str) -> Result<(), (Code, String)> {
    let client = Client::new(url)?;
    let show = remote_show(c, &client, url)?;
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
            let input = parse_sets(&sets, data.as_deref(), &show.labels(&process, None))?;
            let body = serde_json::json!({"process": process, "data": input});
            let o: Outcome = client.post("/instances", &body, idempotency_key.as_deref())?;
            print_started(&o, c, &show, quiet);
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
                out!("{}", tasks_table(&tasks, &show));
            }
        }
        StaffCommand::Claim { task } => {
            let o: Outcome =
                client.post(&task_path(&task, "claim")?, &serde_json::json!({}), None)?;
            print_outcome(&o, c, &show);
        }
        StaffCommand::Release { task } => {
            let o: Outcome =
                client.post(&task_path(&task, "release")?, &serde_json::json!({}), None)?;
            print_outcome(&o, c, &show);
        }
        StaffCommand::Complete {
            task,
            choice,
            sets,
            data,
            reason,
            idempotency_key,
        } => {
            // The fields are those of the version the task's instance runs on.
            let t = task_id(&task)?;
            let labels = match client.get::<Shown>(&format!("/instances/{}", t.instance)) {
                Ok(sh) => show.labels(&sh.instance.process, Some(sh.instance.version)),
                Err(_) => Default::default(),
            };
            let input = parse_sets(&sets, data.as_deref(), &labels)?;
            let mut body = serde_json::json!({"choice": choice, "data": input});
            if let Some(r) = reason {
                body["reason"] = serde_json::Value::String(r);
            }
            let o: Outcome = client.post(
                &task_path(&task, "complete")?,
                &body,
                idempotency_key.as_deref(),
            )?;
            print_outcome(&o, c, &show);
        }
        StaffCommand::Show { instance } => {
            let shown: Shown = client.get(&format!("/instances/{instance}"))?;
            if c.json {
                print_json(&shown);
            } else {
                out!("{}", shown_text(&shown, &show));
            }
        }
        StaffCommand::History { instance } => {
            let h: Vec<Record> = client.get_all(&format!("/instances/{instance}/history"))?;
            if c.json {
                print_json(&h);
            } else {
                out!("{}", history_table(&h, &show));
            }
        }
        StaffCommand::Cancel { instance, reason } => {
            let body = serde_json::json!({ "reason": reason });
            let o: Outcome = client.post(&format!("/instances/{instance}/cancel"), &body, None)?;
            print_outcome(&o, c, &show);
        }
        StaffCommand::Inbox => {
            let items: Vec<Notification> = client.get_all("/inbox")?;
            print_inbox(&items, c, &show);
        }
    }
    Ok(())
}
