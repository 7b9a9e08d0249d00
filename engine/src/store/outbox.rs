//! The outbox after the fact: handing messages to people's inboxes, and the state of
//! each delivery (pending, sent, failed with its reason).

use super::kind::Kind;
use super::space::WriteBatch;
use super::txn::{Delivery, OutboxRecord};
use super::{decode, encode, keys, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A webhook delivery waiting for its next attempt (or leased for one: see `attempts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub message: u64,
    /// Which of the message's webhooks.
    pub slot: u32,
    pub url: String,
    pub attempts: u32,
    #[serde(with = "crate::core::time")]
    pub due: DateTime<Utc>,
}

pub(super) fn retry_key(due: DateTime<Utc>, message: u64, slot: u32) -> [u8; 20] {
    let mut k = [0u8; 20];
    k[..8].copy_from_slice(&keys::millis(due));
    k[8..16].copy_from_slice(&message.to_be_bytes());
    k[16..].copy_from_slice(&slot.to_be_bytes());
    k
}

impl Store {
    /// Messages not yet handed on, after the delivery cursor.
    ///
    /// Read while no batch is being written: a batch's messages reach sled one by
    /// one, in no particular order, and handing on a later one would move the
    /// cursor past an earlier one not yet there.
    pub(super) fn undelivered(&self, limit: usize) -> Result<Vec<OutboxRecord>, StoreError> {
        let _w = self.t.outside_batch()?;
        let cursor = match self.t[Kind::Meta].get("delivery_cursor")? {
            Some(b) => u64::from_be_bytes(b.as_ref().try_into().unwrap_or([0; 8])),
            None => 0,
        };
        self.outbox(cursor, limit)
    }

    /// Hand a message on: into each recipient's inbox, and for webhooks into the retry
    /// queue, and move the cursor past it, all in one atomic batch.
    pub(super) fn hand_on(
        &self,
        rec: &OutboxRecord,
        webhooks: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // Every node hands messages on: one at a time, and a message another node
        // handed on already (the cursor is past it) is left as it is.
        let _cluster = match &self.pg {
            Some(pg) => {
                let locked = pg.lock(super::pg::locks::DELIVERIES)?;
                if let Some(b) = self.t[Kind::Meta].get("delivery_cursor")? {
                    if u64::from_be_bytes(b.as_ref().try_into().unwrap_or([0; 8])) >= rec.id {
                        return Ok(());
                    }
                }
                Some(locked)
            }
            None => None,
        };
        let mut b = WriteBatch::default();
        let dir = self.directory();
        for p in &rec.message.to {
            if dir.person(p).is_some() {
                let mut k = keys::name_prefix(p);
                k.extend_from_slice(&rec.id.to_be_bytes());
                self.t[Kind::Inbox].put(&mut b, k, &[]);
            }
        }
        let mut updated = rec.clone();
        updated.webhooks = webhooks
            .iter()
            .map(|url| super::txn::WebhookDelivery {
                url: url.clone(),
                state: Delivery::Pending,
                attempts: 0,
            })
            .collect();
        updated.state = if webhooks.is_empty() {
            Delivery::Sent
        } else {
            Delivery::Pending
        };
        self.t[Kind::Outbox].put(&mut b, rec.id.to_be_bytes(), encode(&updated));
        for (slot, url) in webhooks.iter().enumerate() {
            let a = Attempt {
                message: rec.id,
                slot: slot as u32,
                url: url.clone(),
                attempts: 0,
                due: now,
            };
            self.t[Kind::Retries].put(&mut b, retry_key(now, rec.id, slot as u32), encode(&a));
        }
        self.t[Kind::Meta].put(&mut b, "delivery_cursor", &rec.id.to_be_bytes());
        self.t.apply(b)
    }

    pub(super) fn message(&self, id: u64) -> Result<Option<OutboxRecord>, StoreError> {
        match self.t[Kind::Outbox].get(id.to_be_bytes())? {
            Some(b) => Ok(Some(decode(&b)?)),
            None => Ok(None),
        }
    }

    pub(super) fn next_attempt(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(match self.t[Kind::Retries].first()? {
            Some((k, _)) => keys::millis_from(&k),
            None => None,
        })
    }

    /// A person's notifications, newest last, after message id `after`.
    pub(super) fn inbox(
        &self,
        person: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut start = keys::name_prefix(person);
        start.extend_from_slice(&(after + 1).to_be_bytes());
        let mut end = keys::name_prefix(person);
        end.extend_from_slice(&[0xff; 8]);
        let mut out = Vec::new();
        for kv in self.t[Kind::Inbox].range(start..=end) {
            let (k, _) = kv?;
            let id = u64::from_be_bytes(k[k.len() - 8..].try_into().unwrap_or([0; 8]));
            if let Some(m) = self.message(id)? {
                out.push(m);
            }
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }
}

/// Failed if any webhook failed for good, pending while any is still trying, else sent.
pub(super) fn overall(rec: &OutboxRecord) -> Delivery {
    if let Some(f) = rec
        .webhooks
        .iter()
        .find(|w| matches!(w.state, Delivery::Failed(_)))
    {
        f.state.clone()
    } else if rec.webhooks.iter().any(|w| w.state == Delivery::Pending) {
        Delivery::Pending
    } else {
        Delivery::Sent
    }
}
