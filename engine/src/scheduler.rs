//! The daemon: fires due timers, starts scheduled instances, and hands messages on
//! (inboxes, log, webhooks). It sleeps until the earliest thing it has to do, or
//! until a command creates something earlier; time comes only from the clock.
//!
//! Exactly once: a timer is removed in the transaction that applies it, and a
//! scheduled start carries an idempotency key made of its schedule and occurrence,
//! so neither a crash nor a restart can do the same thing twice.

use crate::config::DeliveryConfig;
use crate::core::{Command, SYSTEM};
use crate::store::prelude::*;
use crate::store::{Attempt, Ended, Lease, StoreError};
use crate::Engine;
use baton_dsl::model::CatchUp;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A scheduled start found late by more than this counts as missed (downtime), and
/// follows the schedule's catch-up policy.
const GRACE: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tick {
    pub fired: usize,
    pub started: usize,
    pub handed_on: usize,
    /// When there is next something to do (a timer, a schedule, a retry).
    pub next: Option<DateTime<Utc>>,
}

impl Engine {
    /// Start the scheduled instances that are due, following each schedule's
    /// catch-up policy for occurrences missed while the daemon was down. Returns
    /// the number of instances started and the next occurrence of any schedule.
    pub fn run_schedules(&self) -> Result<(usize, Option<DateTime<Utc>>), StoreError> {
        let now = self.clock.now();
        let mut started = 0;
        let mut next: Option<DateTime<Utc>> = None;
        for (name, version) in self.store.process_names() {
            let def = self.store.definition(&name, version)?;
            for (i, s) in def.schedules.iter().enumerate() {
                let Ok(cron) = cron::Schedule::from_str(&s.cron) else {
                    continue;
                };
                let zone: chrono_tz::Tz = s
                    .zone
                    .as_deref()
                    .and_then(|z| z.parse().ok())
                    .unwrap_or(self.store.zone);
                let Some(mark) = self.store.watermark(&name, i)? else {
                    // First sight of this schedule: it starts counting now, with no
                    // catch-up for times before it was deployed.
                    self.store.set_watermark(&name, i, now)?;
                    next = min_opt(
                        next,
                        cron.after(&now.with_timezone(&zone))
                            .next()
                            .map(|t| t.with_timezone(&Utc)),
                    );
                    continue;
                };
                let due: Vec<DateTime<Utc>> = cron
                    .after(&mark.with_timezone(&zone))
                    .map(|t| t.with_timezone(&Utc))
                    .take_while(|t| *t <= now)
                    .take(10_000)
                    .collect();
                let chosen: Vec<DateTime<Utc>> = match s.catch_up {
                    CatchUp::All => due.clone(),
                    CatchUp::Once => due.last().copied().into_iter().collect(),
                    CatchUp::Skip => due.iter().copied().filter(|t| now - *t <= GRACE).collect(),
                };
                for occ in &chosen {
                    started += self.start_occurrence(&name, i, *occ, s.for_each_role.as_deref())?;
                }
                if let Some(last) = due.last() {
                    self.store.durable()?;
                    self.store.set_watermark(&name, i, *last)?;
                }
                let from = due.last().copied().unwrap_or(mark).max(mark);
                next = min_opt(
                    next,
                    cron.after(&from.with_timezone(&zone))
                        .next()
                        .map(|t| t.with_timezone(&Utc)),
                );
            }
        }
        if started > 0 {
            self.store.durable()?;
        }
        Ok((started, next))
    }

    fn start_occurrence(
        &self,
        process: &str,
        i: usize,
        occ: DateTime<Utc>,
        role: Option<&str>,
    ) -> Result<usize, StoreError> {
        let people: Vec<Option<String>> = match role {
            Some(r) => self
                .store
                .directory()
                .with_role(r)
                .map(|p| Some(p.id.clone()))
                .collect(),
            None => vec![None],
        };
        let mut n = 0;
        for p in people {
            let mut data = serde_json::Map::new();
            if let Some(p) = &p {
                data.insert("subject".into(), serde_json::Value::String(p.clone()));
            }
            let key = format!(
                "schedule:{process}:{i}:{}:{}",
                occ.timestamp(),
                p.as_deref().unwrap_or("-")
            );
            let cmd = Command::Start {
                process: process.to_string(),
                data,
            };
            match self
                .store
                .execute_unflushed(None, &cmd, SYSTEM, self.clock.now(), Some(&key))
            {
                Ok(o) if !o.replayed => {
                    n += 1;
                    self.metrics
                        .instances_started
                        .fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                // A start its definition refuses (a `require` that fails today) is
                // not retried: log it and go on with the others.
                Err(StoreError::Rejected(r)) => {
                    tracing::warn!(process, occurrence = %occ, person = ?p, "scheduled start refused: {r}");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }

    /// Hand new outbox messages on: the log always, people's inboxes, and the retry
    /// queue of each webhook that wants the message's channel.
    pub fn hand_on_messages(
        &self,
        webhooks: &BTreeMap<String, String>,
    ) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut n = 0;
        loop {
            let batch = self.store.undelivered(512)?;
            if batch.is_empty() {
                break;
            }
            for rec in batch {
                tracing::info!(
                    message = rec.id,
                    instance = rec.instance,
                    kind = ?rec.message.kind,
                    to = ?rec.message.to,
                    channel = ?rec.message.channel,
                    "{}",
                    rec.message.text
                );
                let mut urls: Vec<String> = Vec::new();
                if let Some(c) = &rec.message.channel {
                    urls.extend(webhooks.get(c).cloned());
                }
                urls.extend(webhooks.get("*").cloned());
                self.store.hand_on(&rec, &urls, now)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Everything due now, in one pass: timers first (in due order), then scheduled
    /// starts, then messages. Returns when there is next something to do.
    pub fn tick(&self, webhooks: &BTreeMap<String, String>) -> Result<Tick, StoreError> {
        // A broken store tries to write again on each pass (every second while it is
        // broken), so that it recovers without a restart once the disk has room.
        self.store.try_recover()?;
        let fired = self.fire_due()?;
        let (started, next_schedule) = self.run_schedules()?;
        // Timers the starts created may already be due.
        let fired = fired + self.fire_due()?;
        let handed_on = self.hand_on_messages(webhooks)?;
        let next = min_opt(
            min_opt(self.store.next_timer()?, next_schedule),
            self.store.next_attempt()?,
        );
        Ok(Tick {
            fired,
            started,
            handed_on,
            next,
        })
    }
}

fn min_opt(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// The JSON a webhook receives. `id` is stable across retries, for deduplication.
#[derive(Debug, serde::Serialize)]
struct WebhookBody<'a> {
    id: u64,
    instance: u64,
    kind: &'a crate::core::MessageKind,
    to: &'a [String],
    channel: Option<&'a str>,
    text: &'a str,
    /// With the offset of the company's zone, as in the API.
    #[serde(with = "baton_dsl::zone")]
    at: DateTime<Utc>,
}

async fn post(client: &reqwest::Client, engine: &Engine, a: &Attempt) -> Result<(), String> {
    let Some(rec) = engine.store.message(a.message).map_err(|e| e.to_string())? else {
        return Ok(());
    };
    let body = WebhookBody {
        id: rec.id,
        instance: rec.instance,
        kind: &rec.message.kind,
        to: &rec.message.to,
        channel: rec.message.channel.as_deref(),
        text: &rec.message.text,
        at: rec.at,
    };
    let res = client
        .post(&a.url)
        .header("Idempotency-Key", format!("baton-message-{}", rec.id))
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", res.status()))
    }
}

/// One webhook attempt: sent, or queued again with exponential back-off, or failed
/// for good after the last attempt. Runs in its own task: a dead webhook never holds
/// up the engine or other deliveries. Its lease keeps it queued until the outcome is
/// recorded, so an attempt cut off is made again after a restart.
async fn attempt(engine: Arc<Engine>, client: reqwest::Client, cfg: DeliveryConfig, lease: Lease) {
    let a = &lease.attempt;
    let result = post(&client, &engine, a).await;
    let attempts = a.attempts + 1;
    let ended = match result {
        Ok(()) => Ended::Sent,
        Err(reason) if attempts >= cfg.max_attempts => {
            engine
                .metrics
                .deliveries_failed
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(message = a.message, url = %a.url, "delivery failed for good: {reason}");
            Ended::Failed(reason)
        }
        Err(reason) => {
            let backoff = cfg
                .first_backoff_secs
                .saturating_mul(1u64 << (attempts - 1).min(30))
                .min(cfg.max_backoff_secs);
            tracing::info!(message = a.message, url = %a.url, attempt = attempts, "delivery failed ({reason}); retry in {backoff}s");
            Ended::RetryAt(engine.clock.now() + chrono::Duration::seconds(backoff as i64))
        }
    };
    match engine.store.settle_attempt(&lease, ended) {
        Ok(true) => {}
        Ok(false) => tracing::info!(
            message = a.message,
            url = %a.url,
            "an attempt outlived its lease; the attempt that took it over records the outcome"
        ),
        Err(e) => tracing::error!("recording a delivery: {e}"),
    }
    engine.wake.notify_one();
}

/// An attempt's lease outlasts its request (`timeout_secs`) by this much: time to
/// read the message and record the outcome.
const LEASE_MARGIN: chrono::Duration = chrono::Duration::seconds(10);

/// A stop waits this long for the attempts in flight to end; those still running
/// then stay leased, and the next start makes them again.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Lease the attempts that are due, and make them durable, with everything written
/// before them (the messages they carry), before any is sent: a message a webhook
/// received is never lost, nor its id given to another message, by a crash.
fn take_due(engine: &Engine, cfg: &DeliveryConfig) -> Result<Vec<Lease>, StoreError> {
    let now = engine.clock.now();
    let until = now + chrono::Duration::seconds(cfg.timeout_secs as i64) + LEASE_MARGIN;
    // Read before the leases are written: a reopening of the store after it may
    // have lost them (see `Health::durable_since`).
    let epoch = engine.store.epoch();
    let taken = engine.store.lease_due(now, until, 256)?;
    if !taken.is_empty() {
        engine.store.durable_since(epoch)?;
    }
    Ok(taken)
}

/// Wait for the attempts in flight, at most `STOP_GRACE`; stop the others, which
/// keep their leases for the next start.
async fn finish(mut inflight: tokio::task::JoinSet<()>) {
    let all = async { while inflight.join_next().await.is_some() {} };
    if tokio::time::timeout(STOP_GRACE, all).await.is_err() {
        tracing::info!(
            attempts = inflight.len(),
            "webhook attempts still in flight stay queued for the next start"
        );
        inflight.abort_all();
        while inflight.join_next().await.is_some() {}
    }
}

pub struct SchedulerConfig {
    pub webhooks: BTreeMap<String, String>,
    pub delivery: DeliveryConfig,
}

/// Run until `shutdown` resolves. A tick in progress finishes first, so nothing is
/// left half-applied (each timer is its own transaction anyway), and webhook
/// attempts in flight get `STOP_GRACE` to end.
pub async fn run(
    engine: Arc<Engine>,
    cfg: SchedulerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send,
) {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(cfg.delivery.timeout_secs))
        .build()
        .unwrap_or_default();
    let webhooks = Arc::new(cfg.webhooks.clone());
    let mut inflight = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let e = engine.clone();
        let hooks = webhooks.clone();
        let tick = tokio::task::spawn_blocking(move || e.tick(&hooks)).await;
        let next = match tick {
            Ok(Ok(t)) => {
                if t.fired + t.started + t.handed_on > 0 {
                    tracing::info!(
                        fired = t.fired,
                        started = t.started,
                        messages = t.handed_on,
                        "scheduler tick"
                    );
                }
                t.next
            }
            Ok(Err(e)) => {
                // A broken store said why once, at error level (see `Store::broken`):
                // every pass until it recovers would only say it again.
                if engine.store.broken().is_none() {
                    tracing::error!("scheduler: {e}");
                }
                Some(engine.clock.now() + chrono::Duration::seconds(1))
            }
            Err(e) => {
                tracing::error!("scheduler task: {e}");
                Some(engine.clock.now() + chrono::Duration::seconds(1))
            }
        };
        engine.ticks.send_modify(|n| *n += 1);
        // Webhook attempts that are due go out in their own tasks.
        while inflight.try_join_next().is_some() {}
        let (e, delivery) = (engine.clone(), cfg.delivery.clone());
        match tokio::task::spawn_blocking(move || take_due(&e, &delivery)).await {
            Ok(Ok(due)) => {
                for lease in due {
                    inflight.spawn(attempt(
                        engine.clone(),
                        client.clone(),
                        cfg.delivery.clone(),
                        lease,
                    ));
                }
            }
            Ok(Err(e)) if engine.store.broken().is_none() => {
                tracing::error!("delivery queue: {e}")
            }
            Ok(Err(_)) => {}
            Err(e) => tracing::error!("delivery queue task: {e}"),
        }
        let sleep = match next {
            Some(t) => engine.clock.sleep_until(t),
            // Nothing pending: sleep until something is created.
            None => {
                tracing::info!("nothing pending; sleeping until something is created");
                Box::pin(std::future::pending())
            }
        };
        tokio::select! {
            _ = sleep => {}
            _ = engine.wake.notified() => {}
            _ = &mut shutdown => {
                finish(inflight).await;
                tracing::info!("scheduler stopped");
                return;
            }
        }
    }
}
