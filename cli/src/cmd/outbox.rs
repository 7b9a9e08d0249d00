//! `baton outbox`: every notification with its delivery state (pending, sent, failed
//! with the reason), for whoever runs Baton: through the running server (an admin's
//! token), or on the database while no server holds it.

use crate::client::Client;
use crate::cmd::render::Show;
use crate::cmd::staff::{failure, local_show, open_existing, remote_show, Common};
use crate::exit::Code;
use crate::table;
use baton_engine::store::prelude::*;
use baton_engine::store::{Delivery, OutboxRecord};

pub fn run(c: &Common, failed_only: bool, after: u64, limit: usize) -> Code {
    match listed(c, failed_only, after, limit) {
        Ok(()) => Code::Ok,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            code
        }
    }
}

/// The records after `after`, up to `limit`, from the server (which filters the
/// failed ones itself) or from the database, printed with names and the zone of
/// where they came from.
fn listed(c: &Common, failed_only: bool, after: u64, limit: usize) -> Result<(), (Code, String)> {
    if let Some(url) = c.server.as_deref() {
        let client = Client::new(url)?;
        let show = remote_show(c, &client, url)?;
        let mut path = String::from("/outbox");
        if failed_only {
            path.push_str("?failed=true");
        }
        let page_path = |cursor: Option<&str>| {
            let sep = if path.contains('?') { '&' } else { '?' };
            let size = limit.clamp(1, 500);
            match cursor {
                Some(c) => format!(
                    "{path}{sep}limit={size}&cursor={}",
                    crate::client::encode(c)
                ),
                // The server's cursors are opaque; the first page starts after `after`.
                None if after > 0 => format!(
                    "{path}{sep}limit={size}&cursor={}",
                    crate::client::encode(&encode_cursor(after))
                ),
                None => format!("{path}{sep}limit={size}"),
            }
        };
        let mut out: Vec<OutboxRecord> = Vec::new();
        let mut cursor: Option<String> = None;
        while out.len() < limit {
            let page: Page = client.get(&page_path(cursor.as_deref()))?;
            out.extend(page.items);
            match page.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        out.truncate(limit);
        print(c, &out, &show);
        return Ok(());
    }
    let engine = open_existing(c)?;
    let show = local_show(c, &engine)?;
    let records: Vec<OutboxRecord> = engine
        .store
        .outbox(after, limit)
        .map_err(failure)?
        .into_iter()
        .filter(|r| !failed_only || matches!(r.state, Delivery::Failed(_)))
        .collect();
    print(c, &records, &show);
    Ok(())
}

#[derive(serde::Deserialize)]
struct Page {
    items: Vec<OutboxRecord>,
    next: Option<String>,
}

/// The server's cursor for "after message `id`".
fn encode_cursor(id: u64) -> String {
    baton_server::page::encode(&format!("o:{id}"))
}

fn print(c: &Common, records: &[OutboxRecord], show: &Show) {
    if c.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(records).unwrap_or_default()
        );
        return;
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            let state = match &r.state {
                Delivery::Pending => "pending".to_string(),
                Delivery::Sent => "sent".to_string(),
                Delivery::Failed(why) => format!("failed: {why}"),
            };
            vec![
                r.id.to_string(),
                show.when(Some(r.at)),
                format!("{:?}", r.message.kind).to_lowercase(),
                // People by name; the addresses of a channel as they are.
                match r.message.channel {
                    Some(_) => r.message.to.join(", "),
                    None => r
                        .message
                        .to
                        .iter()
                        .map(|p| show.person(p))
                        .collect::<Vec<_>>()
                        .join(", "),
                },
                r.message.text.clone(),
                state,
            ]
        })
        .collect();
    out!(
        "{}",
        table::render(&["ID", "AT", "KIND", "TO", "TEXT", "DELIVERY"], &rows)
    );
}
