//! Commands on a task or a limit besides claiming and completing: extend a deadline
//! (with the data its condition reads, such as the customer's consent, recorded at
//! that moment), comment, hand a task on. Like the other staff commands they go to a
//! running `baton serve` with `--server`, else to the database of `--db`.

use crate::client::Client;
use crate::cmd::staff::{
    actor, failure, instance_labels, local_show, open_existing, parse_sets, print_outcome,
    remote_instance_labels, remote_show, task_id, Common,
};
use crate::exit::Code;
use baton_engine::core::{extension_minutes, Command, InstanceId, TaskId};
use baton_engine::store::Outcome;
use std::path::PathBuf;

#[derive(clap::Subcommand, Clone)]
pub enum ActCommand {
    /// Give a task's step (`42-3`) or a running limit (`42/settle`) more time,
    /// where the definition allows it.
    ///
    /// The data the definition's condition reads is given with it and recorded
    /// then: `baton extend 42/settle --by 2h --set customer_consents=true`.
    Extend {
        /// A task (`INSTANCE-N`, its step's due time) or a limit (`INSTANCE/LIMIT`).
        target: String,
        /// How much longer: `30m`, `2h`, `1d`.
        #[arg(long)]
        by: String,
        /// A field the definition's condition reads, recorded now: `--set
        /// customer_consents=true` (repeatable).
        #[arg(long = "set")]
        sets: Vec<String>,
        /// Field values from a JSON object file.
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Write a comment into a task's instance's history.
    Comment { task: String, text: String },
    /// Hand a task to someone else: the person holding it, their supervisor or an
    /// admin.
    Reassign {
        task: String,
        /// The person (directory id) to hand it to.
        #[arg(long)]
        to: String,
    },
}

/// What `extend` extends.
enum Target {
    Task(TaskId),
    Limit(InstanceId, String),
}

fn target(s: &str) -> Result<Target, (Code, String)> {
    match s.split_once('/') {
        Some((i, name)) if !name.trim().is_empty() => {
            let id = i.trim().parse().map_err(|_| {
                (
                    Code::Usage,
                    format!("`{s}`: write a limit as INSTANCE/LIMIT, like 42/settle"),
                )
            })?;
            Ok(Target::Limit(id, name.trim().to_string()))
        }
        Some(_) => Err((
            Code::Usage,
            format!("`{s}`: write a limit as INSTANCE/LIMIT, like 42/settle"),
        )),
        None => Ok(Target::Task(task_id(s)?)),
    }
}

pub fn run(cmd: ActCommand, c: &Common) -> Code {
    let result = match c.server.as_deref() {
        Some(url) => remote(cmd, c, url),
        None => local(cmd, c),
    };
    match result {
        Ok(()) => Code::Ok,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            code
        }
    }
}

fn minutes(by: &str) -> Result<i64, (Code, String)> {
    extension_minutes(by).map_err(|e| (Code::Invalid, format!("invalid data:\n  {e}")))
}

fn local(cmd: ActCommand, c: &Common) -> Result<(), (Code, String)> {
    let who = actor(c)?;
    let engine = open_existing(c)?;
    let show = local_show(c, &engine)?;
    let (instance, command, key) = match cmd {
        ActCommand::Extend {
            target: t,
            by,
            sets,
            data,
            idempotency_key,
        } => {
            let t = target(&t)?;
            let minutes = minutes(&by)?;
            let (instance, limit) = match t {
                Target::Task(task) => (task.instance, None),
                Target::Limit(id, name) => (id, Some(name)),
            };
            let labels = instance_labels(&engine, &show, instance);
            let data = parse_sets(&sets, data.as_deref(), &labels)?;
            let cmd = Command::Extend {
                limit,
                minutes,
                data,
            };
            (instance, cmd, idempotency_key)
        }
        ActCommand::Comment { task, text } => {
            (task_id(&task)?.instance, Command::Comment { text }, None)
        }
        ActCommand::Reassign { task, to } => {
            let t = task_id(&task)?;
            (t.instance, Command::Reassign { task: t, to }, None)
        }
    };
    let o = engine
        .act(instance, command, &who, key.as_deref())
        .map_err(failure)?;
    print_outcome(&o, c, &show);
    Ok(())
}

fn remote(cmd: ActCommand, c: &Common, url: &str) -> Result<(), (Code, String)> {
    let client = Client::new(url)?;
    let show = remote_show(c, &client, url)?;
    let o: Outcome = match cmd {
        ActCommand::Extend {
            target: t,
            by,
            sets,
            data,
            idempotency_key,
        } => {
            let (instance, path) = match target(&t)? {
                Target::Task(task) => (task.instance, format!("/tasks/{task}/extend")),
                Target::Limit(id, name) => (
                    id,
                    format!(
                        "/instances/{id}/limits/{}/extend",
                        crate::client::encode(&name)
                    ),
                ),
            };
            let labels = remote_instance_labels(&client, &show, instance);
            let data = parse_sets(&sets, data.as_deref(), &labels)?;
            let body = serde_json::json!({"by": by, "data": data});
            client.post(&path, &body, idempotency_key.as_deref())?
        }
        ActCommand::Comment { task, text } => client.post(
            &format!("/tasks/{}/comment", task_id(&task)?),
            &serde_json::json!({ "text": text }),
            None,
        )?,
        ActCommand::Reassign { task, to } => client.post(
            &format!("/tasks/{}/reassign", task_id(&task)?),
            &serde_json::json!({ "to": to }),
            None,
        )?,
    };
    print_outcome(&o, c, &show);
    Ok(())
}
