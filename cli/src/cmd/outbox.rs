//! `baton outbox`: every notification with its delivery state (pending, sent, failed
//! with the reason), for whoever runs the daemon.

use crate::cmd::staff::{failure, Common};
use crate::exit::Code;
use crate::table;
use baton_engine::store::{Delivery, Options};
use baton_engine::{clock::SystemClock, Engine};
use std::sync::Arc;

pub fn run(c: &Common, failed_only: bool, after: u64, limit: usize) -> Code {
    let zone = match crate::cmd::staff::zone(c.zone.as_deref()) {
        Ok(z) => z,
        Err(e) => {
            eprintln!("error: {e}");
            return Code::Usage;
        }
    };
    let engine = match Engine::open(
        &c.db,
        Options {
            zone,
            ..Default::default()
        },
        Arc::new(SystemClock),
    ) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {}: {e}", c.db.display());
            return Code::Storage;
        }
    };
    let records = match engine.store.outbox(after, limit) {
        Ok(r) => r,
        Err(e) => {
            let (code, msg) = failure(e);
            eprintln!("error: {msg}");
            return code;
        }
    };
    let records: Vec<_> = records
        .into_iter()
        .filter(|r| !failed_only || matches!(r.state, Delivery::Failed(_)))
        .collect();
    if c.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&records).unwrap_or_default()
        );
        return Code::Ok;
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
                r.at.with_timezone(&zone)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                format!("{:?}", r.message.kind).to_lowercase(),
                r.message.to.join(","),
                r.message.text.clone(),
                state,
            ]
        })
        .collect();
    out!(
        "{}",
        table::render(&["ID", "AT", "KIND", "TO", "TEXT", "DELIVERY"], &rows)
    );
    Code::Ok
}
