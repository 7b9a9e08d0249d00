//! Incidents, for admins: `baton incidents` lists the instances that cannot go on by
//! themselves (with why, and what was attempted); `retry`, `set` and `move` resolve
//! one (`cancel` too, as for any instance). With `--server` through a running
//! `baton serve`, otherwise on the database of `--db` (`--as` an admin).

use crate::client::Client;
use crate::cmd::render::Show;
use crate::cmd::staff::{
    actor, failure, instance_labels, local_show, open_existing, parse_sets, print_outcome,
    remote_instance_labels, remote_show, Common,
};
use crate::exit::Code;
use crate::table;
use baton_engine::core::{Command, Incident, InstanceId};
use baton_engine::store::prelude::*;
use baton_engine::store::Outcome;

#[derive(clap::Subcommand, Clone)]
pub enum IncidentCommand {
    /// Instances that cannot go on by themselves and wait for an admin: since when,
    /// why, and what Baton was trying to do.
    Incidents,
    /// Try again what an incident's instance could not do, once the cause is fixed
    /// (a directory change, the date). Refused with the reason if it still cannot.
    Retry { instance: InstanceId },
    /// Set corrected data on an incident's instance (`baton set 42 handler=wang_fang`)
    /// and try again what failed, all or nothing.
    Set {
        instance: InstanceId,
        /// `field=value` (at least one).
        #[arg(required = true)]
        values: Vec<String>,
    },
    /// Move an incident's instance to a step or end of its definition; refused
    /// (exit 6) while a required field that step reads has no value.
    Move { instance: InstanceId, step: String },
}

pub fn run(cmd: IncidentCommand, c: &Common) -> Code {
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

fn command(
    cmd: &IncidentCommand,
    engine: &baton_engine::Engine,
    show: &Show,
) -> Result<Option<(InstanceId, Command)>, (Code, String)> {
    Ok(match cmd {
        IncidentCommand::Incidents => None,
        IncidentCommand::Retry { instance } => Some((
            *instance,
            Command::Retry {
                data: Default::default(),
                attempted: None,
            },
        )),
        IncidentCommand::Set { instance, values } => Some((
            *instance,
            Command::Retry {
                data: parse_sets(values, None, &instance_labels(engine, show, *instance))?,
                attempted: None,
            },
        )),
        IncidentCommand::Move { instance, step } => {
            Some((*instance, Command::Move { step: step.clone() }))
        }
    })
}

fn local(cmd: IncidentCommand, c: &Common) -> Result<(), (Code, String)> {
    let engine = open_existing(c)?;
    let show = local_show(c, &engine)?;
    match command(&cmd, &engine, &show)? {
        None => {
            let mut items = Vec::new();
            let mut after = None;
            loop {
                let page = engine.store.incidents(after, 500).map_err(failure)?;
                after = page.items.last().map(|i| i.instance);
                items.extend(page.items);
                if page.next.is_none() {
                    break;
                }
            }
            print_incidents(&items, c, &show);
        }
        Some((id, command)) => {
            let o = engine.act(id, command, &actor(c)?, None).map_err(failure)?;
            print_outcome(&o, c, &show);
        }
    }
    Ok(())
}

fn remote(cmd: IncidentCommand, c: &Common, url: &str) -> Result<(), (Code, String)> {
    let client = Client::new(url)?;
    let show = remote_show(c, &client, url)?;
    let (path, body) = match &cmd {
        IncidentCommand::Incidents => {
            let items: Vec<Incident> = client.get_all("/incidents")?;
            print_incidents(&items, c, &show);
            return Ok(());
        }
        IncidentCommand::Retry { instance } => (
            format!("/instances/{instance}/retry"),
            serde_json::json!({}),
        ),
        IncidentCommand::Set { instance, values } => (
            format!("/instances/{instance}/set"),
            serde_json::json!({
                "data": parse_sets(
                    values,
                    None,
                    &remote_instance_labels(&client, &show, *instance)
                )?
            }),
        ),
        IncidentCommand::Move { instance, step } => (
            format!("/instances/{instance}/move"),
            serde_json::json!({ "step": step }),
        ),
    };
    let o: Outcome = client.post(&path, &body, None)?;
    print_outcome(&o, c, &show);
    Ok(())
}

fn print_incidents(items: &[Incident], c: &Common, show: &Show) {
    if c.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(items).unwrap_or_default()
        );
        return;
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                i.instance.to_string(),
                show.labels(&i.process, None).title.clone(),
                show.when(Some(i.at)),
                i.attempted.to_string(),
                i.reason.clone(),
            ]
        })
        .collect();
    out!(
        "{}",
        table::render(
            &["INSTANCE", "PROCESS", "SINCE", "ATTEMPTED", "REASON"],
            &rows
        )
    );
}
