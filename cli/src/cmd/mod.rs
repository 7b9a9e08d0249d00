//! The subcommands. Help text comes from the doc comments.

mod act;
mod check;
mod docs;
mod fmt;
mod graph;
mod http;
mod incidents;
mod instances;
mod outbox;
mod render;
mod serve;
pub mod staff;
mod token;

use crate::exit::Code;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Baton: processes that people carry out, written as definitions and run durably.
///
/// Exit codes: 0 success; 1 problems found (check errors, unformatted files, a
/// definition not deployed); 2 bad usage or an unreadable file; 3 not found;
/// 4 conflict (already completed, claimed by someone else); 5 forbidden; 6 invalid
/// data; 7 refused by a `require` condition; 8 the process cannot go on; 9 storage.
#[derive(Parser)]
#[command(name = "baton", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    common: staff::Common,
}

#[derive(Subcommand)]
enum Command {
    /// Check definitions and report every problem with its line and column.
    Check {
        /// Files or folders of `.flow` files (default: processes/).
        paths: Vec<PathBuf>,
        /// Also check roles, people and departments against this staff directory.
        #[arg(long)]
        staff: Option<PathBuf>,
        /// `text` for people, `json` for editors and CI.
        #[arg(long, default_value = "text")]
        format: check::Format,
    },
    /// Rewrite definitions in the one canonical layout (comments and line breaks kept).
    Fmt {
        /// Files or folders of `.flow` files (default: processes/).
        paths: Vec<PathBuf>,
        /// Change nothing; exit 1 if a file is not formatted.
        #[arg(long)]
        check: bool,
    },
    #[command(flatten)]
    Staff(staff::StaffCommand),
    #[command(flatten)]
    Act(act::ActCommand),
    #[command(flatten)]
    Incident(incidents::IncidentCommand),
    /// Instances by process and state (`--state running` by default); `--team`: those
    /// of the people you lead.
    Instances(instances::InstancesArgs),
    /// Run Baton: the HTTP API and the scheduler on the database, with the
    /// definitions of `--dir` deployed and watched.
    Serve(serve::ServeArgs),
    /// Notifications and their delivery state (pending, sent, failed with the
    /// reason): through a running server with `--server` (admins), or on the
    /// database of `--db` while no server owns it.
    Outbox {
        /// Only failed deliveries.
        #[arg(long)]
        failed: bool,
        /// Start after this message id.
        #[arg(long, default_value_t = 0)]
        after: u64,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Issue or revoke bearer tokens for the HTTP API: through a running server with
    /// `--server` and an admin's BATON_TOKEN (the first is in `<db>/admin.token`), or
    /// on the database of `--db` while no server owns it.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Invite a person to the web pages, or reset their password: prints a one-time
    /// link (valid 7 days) with which they set a new one; an old password stops
    /// working at once. Through a running server with `--server` (the link is on its
    /// address), or on the database of `--db` while no server owns it (the link is
    /// on `--base`).
    Invite {
        person: String,
        /// Where `baton serve` is reached, for a link made on the database.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base: String,
    },
    /// Go on with a database refused as damaged, with what it holds: the changes it
    /// lacks, though acknowledged, are given up for good (restoring the folder from a
    /// backup keeps them). Says what was given up. Only while no server owns it.
    AcceptLoss,
    /// Copy a whole database into an empty one: an embedded folder into PostgreSQL
    /// (to run several nodes) or back. Every instance, task, history entry, timer,
    /// message, webhook attempt, token and definition; then the copy is checked
    /// (records of each kind counted on both sides, and `verify` on the copy). Stop
    /// every `baton serve` on either database first.
    Copy {
        /// The database to copy: a folder, or postgres://USER@HOST/DB.
        #[arg(long)]
        from: PathBuf,
        /// The empty database to copy into.
        #[arg(long)]
        to: PathBuf,
    },
    /// Check the whole database: every index against its records, every history
    /// against its instance, timers, deliveries, who takes part and signatures. Exit 1
    /// with each problem found. Only while no server owns it.
    Verify,
    /// Draw a process: its steps, transitions, timers, escalations and ends.
    /// The company's page on its processes (docs/processes.md): each process's
    /// section of the regulation, who takes part, its time limits and the decisions
    /// its comments mark `# 決定：` or `# 規定未明…`, from the definitions.
    Docs {
        /// Files or folders of `.flow` files (default: processes/).
        paths: Vec<PathBuf>,
        /// The staff directory, for what roles, people and departments are called.
        #[arg(long, default_value = "processes/staff.ron")]
        staff: PathBuf,
        /// Write the page here instead of to standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Change nothing; exit 1 if `--out` is not the page the definitions give.
        #[arg(long)]
        check: bool,
    },
    Graph {
        /// A `.flow` file, or the name of a process in `--dir`.
        target: String,
        #[arg(long, default_value = "mermaid")]
        format: graph::Format,
        /// Where to look for a process given by name.
        #[arg(long, default_value = "processes")]
        dir: PathBuf,
    },
}

pub fn run(cli: Cli) -> Code {
    match cli.command {
        Command::Check {
            paths,
            staff,
            format,
        } => check::run(&default_paths(paths), staff.as_deref(), format),
        Command::Fmt { paths, check } => fmt::run(&default_paths(paths), check),
        Command::Staff(cmd) => staff::run(cmd, &cli.common),
        Command::Act(cmd) => act::run(cmd, &cli.common),
        Command::Incident(cmd) => incidents::run(cmd, &cli.common),
        Command::Instances(args) => instances::run(args, &cli.common),
        Command::Token(cmd) => token::run(cmd, &cli.common),
        Command::Invite { person, base } => token::invite(&person, &base, &cli.common),
        Command::Serve(args) => serve::run(args, &cli.common.db),
        Command::Outbox {
            failed,
            after,
            limit,
        } => outbox::run(&cli.common, failed, after, limit),
        Command::AcceptLoss => accept_loss(&cli.common.db),
        Command::Verify => verify(&cli.common),
        Command::Copy { from, to } => copy(&from, &to),
        Command::Docs {
            paths,
            staff,
            out,
            check,
        } => docs::run(&default_paths(paths), &staff, out.as_deref(), check),
        Command::Graph {
            target,
            format,
            dir,
        } => graph::run(&target, &dir, format),
    }
}

fn copy(from: &std::path::Path, to: &std::path::Path) -> Code {
    let is_db = |p: &std::path::Path| {
        p.exists() || p.to_str().is_some_and(baton_engine::store::is_postgres)
    };
    if !is_db(from) {
        eprintln!("error: {}: no database here", staff::shown(from));
        return Code::Storage;
    }
    let config = match staff::company_options() {
        Ok(o) => o,
        Err((code, m)) => {
            eprintln!("error: {m}");
            return code;
        }
    };
    match baton_engine::store::copy(from, to, || config.options().unwrap_or_default()) {
        Ok(c) => {
            for (kind, n) in &c.kinds {
                outln!("{kind:>14}  {n}");
            }
            if c.problems.is_empty() {
                outln!(
                    "copied {} records from {} to {}; the copy checks clean",
                    c.total(),
                    staff::shown(from),
                    staff::shown(to)
                );
                Code::Ok
            } else {
                for p in &c.problems {
                    eprintln!("{p}");
                }
                eprintln!(
                    "{}: the copy has {} problems",
                    staff::shown(to),
                    c.problems.len()
                );
                Code::Storage
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            Code::Storage
        }
    }
}

fn accept_loss(db: &std::path::Path) -> Code {
    match baton_engine::store::accept_loss(db) {
        Ok(lost) => {
            outln!("{}: accepted as it is; given up: {lost}", db.display());
            Code::Ok
        }
        Err(e) => {
            eprintln!("error: {}", staff::storage_message(db, &e));
            Code::Storage
        }
    }
}

fn verify(c: &staff::Common) -> Code {
    let engine = match staff::open_existing(c) {
        Ok(e) => e,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            return code;
        }
    };
    match engine.store.verify() {
        Ok(problems) if problems.is_empty() => {
            outln!("{}: consistent", c.db.display());
            Code::Ok
        }
        Ok(problems) => {
            for p in &problems {
                outln!("{p}");
            }
            eprintln!("{}: {} problems", c.db.display(), problems.len());
            Code::Problems
        }
        Err(e) => {
            eprintln!("error: {}", staff::storage_message(&c.db, &e));
            Code::Storage
        }
    }
}

fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("processes")]
    } else {
        paths
    }
}
