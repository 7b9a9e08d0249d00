//! `baton token`: bearer tokens for the HTTP API. With `--server` (or BATON_SERVER)
//! through a running `baton serve`, as an admin (BATON_TOKEN: the first one is in
//! `<db>/admin.token`); otherwise on the database of `--db` (while no server owns
//! it). A token is printed once; the database keeps only its hash.

use crate::client::{encode, Client};
use crate::cmd::staff::{failure, open, Common};
use crate::exit::Code;

#[derive(clap::Subcommand, Clone)]
pub enum TokenCommand {
    /// Issue a token for a person of the staff directory and print it (only now:
    /// it cannot be shown again). They keep it in BATON_TOKEN or
    /// ~/.config/baton/token.
    Issue { person: String },
    /// Revoke a token (given as the token; only on the database) or every token of a
    /// person (given as their id).
    Revoke { person_or_token: String },
}

pub fn run(cmd: TokenCommand, c: &Common) -> Code {
    let result = match c.server.as_deref() {
        Some(url) => remote(cmd, url),
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

fn issued(person: &str, token: &str) {
    outln!("{token}");
    eprintln!("token for {person}: shown once, keep it safe");
}

fn revoked(n: usize) -> Result<(), (Code, String)> {
    if n == 0 {
        return Err((
            Code::NotFound,
            "no such token, or nobody by that id holds one".into(),
        ));
    }
    outln!("revoked {n} token{}", if n == 1 { "" } else { "s" });
    Ok(())
}

fn local(cmd: TokenCommand, c: &Common) -> Result<(), (Code, String)> {
    let engine = open(c)?;
    match cmd {
        TokenCommand::Issue { person } => {
            let token = baton_engine::tokens::issue(&*engine.store, &person, engine.clock.now())
                .map_err(failure)?;
            issued(&person, &token);
        }
        TokenCommand::Revoke { person_or_token } => {
            let n =
                baton_engine::tokens::revoke(&*engine.store, &person_or_token).map_err(failure)?;
            revoked(n)?;
        }
    }
    Ok(())
}

fn remote(cmd: TokenCommand, url: &str) -> Result<(), (Code, String)> {
    match cmd {
        TokenCommand::Issue { person } => {
            let client = Client::new(url)?;
            let body = serde_json::json!({ "person": person });
            let t: baton_server::Issued = client.post("/tokens", &body, None)?;
            issued(&t.person, &t.token);
        }
        TokenCommand::Revoke { person_or_token } => {
            if person_or_token.starts_with(baton_engine::tokens::PREFIX) {
                return Err((
                    Code::Usage,
                    "through a server, revoke by person id (every token of theirs): a token \
                     does not belong in a URL; a single token is revoked on the database"
                        .into(),
                ));
            }
            let client = Client::new(url)?;
            let r: baton_server::Revoked =
                client.delete(&format!("/tokens/{}", encode(&person_or_token)))?;
            revoked(r.revoked)?;
        }
    }
    Ok(())
}

/// `baton invite PERSON`: print the one-time link.
pub fn invite(person: &str, base: &str, c: &Common) -> Code {
    let result = match c.server.as_deref() {
        Some(url) => Client::new(url).and_then(|client| {
            let body = serde_json::json!({ "person": person });
            let i: baton_server::Invited = client.post("/invites", &body, None)?;
            Ok(i.link)
        }),
        None => open(c).and_then(|engine| {
            let now = engine.clock.now();
            let secret =
                baton_engine::logins::invite(&*engine.store, person, now).map_err(failure)?;
            Ok(format!("{}/welcome/{secret}", base.trim_end_matches('/')))
        }),
    };
    match result {
        Ok(link) => {
            outln!("{link}");
            eprintln!(
                "a one-time link for {person} to set their password, valid for {} days: \
                 hand it to them only",
                baton_engine::logins::INVITE_VALID.num_days()
            );
            Code::Ok
        }
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            code
        }
    }
}
