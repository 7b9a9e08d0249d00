//! `baton outbox`: every notification with its delivery state (pending, sent, failed
//! with the reason), for whoever runs the daemon.

use crate::cmd::staff::{failure, open, shown_zone, Common};
use crate::exit::Code;
use crate::table;
use baton_engine::display;
use baton_engine::store::Delivery;

pub fn run(c: &Common, failed_only: bool, after: u64, limit: usize) -> Code {
    // The company's configuration, its zone unless `--zone` says otherwise.
    let opened = open(c).and_then(|e| Ok((shown_zone(c, e.store.zone)?, e)));
    let (zone, engine) = match opened {
        Ok(z) => z,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            return code;
        }
    };
    let dir = engine.store.directory();
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
                display::time(r.at, zone),
                format!("{:?}", r.message.kind).to_lowercase(),
                // People by name; the addresses of a channel as they are.
                match r.message.channel {
                    Some(_) => r.message.to.join(", "),
                    None => r
                        .message
                        .to
                        .iter()
                        .map(|p| display::person(p, dir.as_ref()))
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
    Code::Ok
}
