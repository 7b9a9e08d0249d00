//! `baton instances`: instances by process and state, or those of the people one
//! leads (`--team`), on the database of `--db` or through a running server.

use super::render::Show;
use super::staff::{failure, local_show, open_existing, remote_show, Common};
use crate::client::{encode, Client};
use crate::exit::Code;
use crate::table;
use baton_engine::core::Instance;
use baton_engine::store::prelude::*;
use baton_engine::team::Party;

#[derive(clap::Args, Clone)]
pub struct InstancesArgs {
    /// Only this process (default: every process).
    #[arg(long)]
    process: Option<String>,
    /// `running` (default), `completed`, `cancelled` or `incident`.
    #[arg(long, default_value = "running")]
    state: String,
    /// Only instances started by this person.
    #[arg(long)]
    starter: Option<String>,
    /// The instances of the people you lead (whom you supervise, directly or not, and
    /// the people of a department you head) instead of your own.
    #[arg(long)]
    team: bool,
}

/// How many instances one process gives at most, read 500 at a time.
const MAX: usize = 100_000;

pub fn run(args: InstancesArgs, c: &Common) -> Code {
    match run_inner(args, c) {
        Ok(()) => Code::Ok,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            code
        }
    }
}

fn run_inner(a: InstancesArgs, c: &Common) -> Result<(), (Code, String)> {
    if !["running", "completed", "cancelled", "incident"].contains(&a.state.as_str()) {
        return Err((
            Code::Usage,
            format!(
                "unknown state `{}`: one of running, completed, cancelled, incident",
                a.state
            ),
        ));
    }
    match c.server.as_deref() {
        Some(url) => {
            let client = Client::new(url)?;
            let show = remote_show(c, &client, url)?;
            print(&remote(&a, &client)?, c, &show);
        }
        None => {
            let (items, engine) = offline(&a, c)?;
            print(&items, c, &local_show(c, &engine)?);
        }
    }
    Ok(())
}

fn print(items: &[Instance], c: &Common, show: &Show) {
    if c.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(items).unwrap_or_default()
        );
    } else {
        out!("{}", instances_table(items, show));
    }
}

fn remote(a: &InstancesArgs, client: &Client) -> Result<Vec<Instance>, (Code, String)> {
    let mut query = vec![format!("state={}", encode(&a.state))];
    if let Some(p) = &a.process {
        query.push(format!("process={}", encode(p)));
    }
    if let Some(s) = &a.starter {
        query.push(format!("starter={}", encode(s)));
    }
    if a.team {
        query.push("team=true".into());
    }
    client.get_all(&format!("/instances?{}", query.join("&")))
}

/// On the database directly every instance is there to read; `--team` keeps those
/// that the people `--as` leads take part in.
fn offline(
    a: &InstancesArgs,
    c: &Common,
) -> Result<(Vec<Instance>, baton_engine::Engine), (Code, String)> {
    let engine = open_existing(c)?;
    let team = match (a.team, c.actor.as_deref()) {
        (false, _) => None,
        (true, None) => {
            return Err((
                Code::Usage,
                "--team needs to know whose team: --as PERSON (or BATON_AS)".into(),
            ))
        }
        (true, Some(who)) => {
            let dir = engine.store.directory();
            if dir.person(who).is_none() {
                return Err((
                    Code::NotFound,
                    format!("no person `{who}` in the staff directory"),
                ));
            }
            Some(Party::team(&dir, who))
        }
    };
    let items = list(&engine, a, team.as_ref())?;
    Ok((items, engine))
}

fn list(
    engine: &baton_engine::Engine,
    a: &InstancesArgs,
    team: Option<&Party>,
) -> Result<Vec<Instance>, (Code, String)> {
    let store = &engine.store;
    let processes: Vec<String> = match &a.process {
        Some(p) => vec![p.clone()],
        None => store.process_names().into_iter().map(|(n, _)| n).collect(),
    };
    let mut out = Vec::new();
    for p in processes {
        let mut after = None;
        let mut seen = 0;
        loop {
            let page = store.instances(&p, &a.state, after, 500).map_err(failure)?;
            for inst in page.items {
                after = Some(inst.id);
                seen += 1;
                let starter = a.starter.as_ref().is_none_or(|s| inst.starter == *s);
                let led = match team {
                    Some(t) => store.takes_part(t, &inst).map_err(failure)?,
                    None => true,
                };
                if starter && led {
                    out.push(inst);
                }
            }
            if page.next.is_none() || seen >= MAX {
                break;
            }
        }
    }
    Ok(out)
}

pub fn instances_table(items: &[Instance], show: &Show) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            let labels = show.labels(&i.process, Some(i.version));
            vec![
                i.id.to_string(),
                labels.title.clone(),
                i.step
                    .as_deref()
                    .map_or_else(|| "-".into(), |s| labels.step(s).to_string()),
                show.person(&i.starter),
                show.when(Some(i.started_at)),
                i.status.as_str().to_string(),
            ]
        })
        .collect();
    table::render(
        &["ID", "PROCESS", "STEP", "STARTER", "STARTED", "STATUS"],
        &rows,
    )
}
