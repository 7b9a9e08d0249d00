//! `baton token`: bearer tokens for the HTTP API, on the database of `--db` (stop
//! `baton serve` first: it owns the database while it runs). A token is printed
//! once; the database keeps only its hash.

use crate::cmd::staff::{failure, open, Common};
use crate::exit::Code;

#[derive(clap::Subcommand, Clone)]
pub enum TokenCommand {
    /// Issue a token for a person of the staff directory and print it (only now:
    /// it cannot be shown again). They keep it in BATON_TOKEN or
    /// ~/.config/baton/token.
    Issue { person: String },
    /// Revoke a token (given as the token) or every token of a person (given as
    /// their id).
    Revoke { person_or_token: String },
}

pub fn run(cmd: TokenCommand, c: &Common) -> Code {
    match run_inner(cmd, c) {
        Ok(()) => Code::Ok,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            code
        }
    }
}

fn run_inner(cmd: TokenCommand, c: &Common) -> Result<(), (Code, String)> {
    let engine = open(c)?;
    match cmd {
        TokenCommand::Issue { person } => {
            let token = baton_engine::tokens::issue(&engine.store, &person, engine.clock.now())
                .map_err(failure)?;
            println!("{token}");
            eprintln!("token for {person}: shown once, keep it safe");
        }
        TokenCommand::Revoke { person_or_token } => {
            let n =
                baton_engine::tokens::revoke(&engine.store, &person_or_token).map_err(failure)?;
            if n == 0 {
                return Err((
                    Code::NotFound,
                    "no such token, or nobody by that id holds one".into(),
                ));
            }
            println!("revoked {n} token{}", if n == 1 { "" } else { "s" });
        }
    }
    Ok(())
}
