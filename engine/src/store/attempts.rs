//! Webhook attempts, at least once across restarts. An attempt stays in the retry
//! space until its outcome is recorded: taking it for an attempt only leases it, by
//! moving its key to the lease's expiry with a `LEASED` mark after it, so that no
//! other pass takes it again while it runs. Its outcome (sent, failed for good, or
//! the next try) replaces the lease in the same write as the message's state.
//!
//! An attempt cut off (a crash, a stop that did not wait for it) keeps its lease:
//! one process owns the database, so every lease found when it is opened belongs to
//! a run that is over, and is put back as due at once (`release_leases`). A lease
//! that expires is taken again too, which is how several nodes sharing a database
//! would take over a dead node's attempts.
//!
//! Taking and settling attempts hold `DELIVERIES`, so that an expired lease taken
//! again and its late outcome never both write.

use super::kind::Kind;
use super::outbox::{overall, retry_key, Attempt};
use super::space::WriteBatch;
use super::txn::{Delivery, OutboxRecord};
use super::{decode, encode, keys, Store, StoreError, Trees};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// The last byte of a leased attempt's key, after (expiry, message, webhook). A due
/// attempt's key has none: both sort by time, so the first key of the space is when
/// there is next something to do, an attempt due or a lease expiring.
const LEASED: u8 = 1;

fn lease_key(until: DateTime<Utc>, message: u64, slot: u32) -> [u8; 21] {
    let mut k = [0u8; 21];
    k[..20].copy_from_slice(&retry_key(until, message, slot));
    k[20] = LEASED;
    k
}

/// One process owns a database, so a lock in memory keeps takers and outcomes
/// apart; it is shared by every store of a process, which costs a test opening
/// several stores at once nothing that matters.
static DELIVERIES: Mutex<()> = Mutex::new(());

fn deliveries() -> MutexGuard<'static, ()> {
    DELIVERIES.lock().unwrap_or_else(|e| e.into_inner())
}

impl Store {
    /// The deliveries' lock: this process's, and with PostgreSQL every node's, so
    /// that an attempt is leased by one node at a time.
    fn deliveries(
        &self,
    ) -> Result<(MutexGuard<'static, ()>, Option<super::pg::Locked<'_>>), StoreError> {
        let here = deliveries();
        let cluster = match &self.pg {
            Some(pg) => Some(pg.lock(super::pg::locks::DELIVERIES)?),
            None => None,
        };
        Ok((here, cluster))
    }
}

/// An attempt taken, with the expiry of its lease (which is part of its key).
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    /// As it was queued: `attempts` counts the attempts before this one.
    pub attempt: Attempt,
    pub until: DateTime<Utc>,
}

/// An attempt in the queue, due or leased.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub attempt: Attempt,
    /// When its lease expires, if it is leased.
    pub leased_until: Option<DateTime<Utc>>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    Sent,
    /// The last attempt failed: the delivery failed for good, with this reason.
    Failed(String),
    /// It failed; the next attempt is due then.
    RetryAt(DateTime<Utc>),
}

impl Store {
    /// Lease the attempts due by `now` (and those whose lease expired by then) until
    /// `until`, earliest first, at most `limit`.
    pub(super) fn lease_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Lease>, StoreError> {
        let _d = self.deliveries()?;
        // Every key whose time is `now` or earlier.
        let end = keys::millis(now + chrono::Duration::milliseconds(1));
        let mut b = WriteBatch::default();
        let mut out = Vec::new();
        for kv in self.t[Kind::Retries].range(..end).take(limit) {
            let (k, v) = kv?;
            let a: Attempt = decode(&v)?;
            self.t[Kind::Retries].del(&mut b, &k);
            self.t[Kind::Retries].put(&mut b, lease_key(until, a.message, a.slot), v);
            out.push(Lease { attempt: a, until });
        }
        if !out.is_empty() {
            self.t.apply(b)?;
        }
        Ok(out)
    }

    /// Record how a leased attempt ended, in one write: the webhook's state and
    /// attempts in its message, and the lease replaced by the next attempt or
    /// removed. False if the lease is no longer held (it expired and was taken
    /// again): the outcome is then the later attempt's to record.
    pub(super) fn settle_attempt(&self, lease: &Lease, ended: Ended) -> Result<bool, StoreError> {
        let _d = self.deliveries()?;
        let a = &lease.attempt;
        let key = lease_key(lease.until, a.message, a.slot);
        if self.t[Kind::Retries].get(key)?.is_none() {
            return Ok(false);
        }
        let mut b = WriteBatch::default();
        self.t[Kind::Retries].del(&mut b, key);
        let attempts = a.attempts + 1;
        let state = match &ended {
            Ended::Sent => Delivery::Sent,
            Ended::Failed(reason) => Delivery::Failed(reason.clone()),
            Ended::RetryAt(due) => {
                let next = Attempt {
                    attempts,
                    due: *due,
                    ..a.clone()
                };
                self.t[Kind::Retries].put(
                    &mut b,
                    retry_key(*due, a.message, a.slot),
                    encode(&next),
                );
                Delivery::Pending
            }
        };
        // A message gone (never, as messages are kept) leaves nothing to update.
        if let Some(v) = self.t[Kind::Outbox].get(a.message.to_be_bytes())? {
            let mut rec: OutboxRecord = decode(&v)?;
            if let Some(w) = rec.webhooks.get_mut(a.slot as usize) {
                w.state = state;
                w.attempts = attempts;
            }
            rec.state = overall(&rec);
            self.t[Kind::Outbox].put(&mut b, a.message.to_be_bytes(), encode(&rec));
        }
        self.t.apply(b)?;
        Ok(true)
    }

    /// Every queued attempt, earliest first, with its lease's expiry if it is leased.
    pub(super) fn queued_attempts(&self) -> Result<Vec<Queued>, StoreError> {
        let mut out = Vec::new();
        for kv in self.t[Kind::Retries].iter() {
            let (k, v) = kv?;
            let leased_until = (k.len() == 21 && k[20] == LEASED)
                .then(|| keys::millis_from(&k))
                .flatten();
            out.push(Queued {
                attempt: decode(&v)?,
                leased_until,
            });
        }
        Ok(out)
    }

    /// The webhook deliveries and the retry space agree: each pending delivery of a
    /// message handed on has exactly one attempt queued or leased, and each attempt
    /// is for a pending delivery.
    pub(super) fn verify_deliveries(&self) -> Result<Vec<String>, StoreError> {
        let _d = self.deliveries()?;
        let mut queued: BTreeMap<(u64, u32), usize> = BTreeMap::new();
        for q in self.queued_attempts()? {
            *queued
                .entry((q.attempt.message, q.attempt.slot))
                .or_default() += 1;
        }
        let mut problems = Vec::new();
        for kv in self.t[Kind::Outbox].iter() {
            let (_, v) = kv?;
            let rec: OutboxRecord = decode(&v)?;
            for (slot, w) in rec.webhooks.iter().enumerate() {
                let n = queued.remove(&(rec.id, slot as u32)).unwrap_or(0);
                let want = usize::from(w.state == Delivery::Pending);
                if n != want {
                    problems.push(format!(
                        "message {} webhook {slot}: {} but {n} attempts queued",
                        rec.id,
                        match w.state {
                            Delivery::Pending => "pending",
                            Delivery::Sent => "sent",
                            Delivery::Failed(_) => "failed",
                        }
                    ));
                }
            }
        }
        for (message, slot) in queued.keys() {
            problems.push(format!(
                "message {message} webhook {slot}: an attempt queued for no delivery"
            ));
        }
        Ok(problems)
    }
}

/// Put every lease back as due at its time before the lease: called when the
/// database is opened, when no attempt of this process can be running yet. Returns
/// how many there were.
pub(super) fn release_leases(t: &Trees) -> Result<usize, StoreError> {
    let mut b = WriteBatch::default();
    let mut n = 0;
    for kv in t[Kind::Retries].iter() {
        let (k, v) = kv?;
        if k.len() == 21 && k[20] == LEASED {
            let a: Attempt = decode(&v)?;
            t[Kind::Retries].del(&mut b, &k);
            t[Kind::Retries].put(&mut b, retry_key(a.due, a.message, a.slot), v);
            n += 1;
        }
    }
    if n > 0 {
        t.apply(b)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Options;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).expect("a time")
    }

    /// A store with one message handed on to one webhook at `at(0)`.
    fn store_with_an_attempt(path: &std::path::Path) -> Store {
        let s = Store::open(path, Options::default()).expect("open");
        let rec = OutboxRecord {
            id: 1,
            instance: 1,
            at: at(0),
            message: crate::core::Message {
                kind: crate::core::MessageKind::Notify,
                to: vec![],
                channel: None,
                text: "hi".into(),
                task: None,
            },
            state: Delivery::Pending,
            webhooks: vec![],
        };
        s.t[Kind::Outbox]
            .insert(
                &s.t.alone().expect("alone"),
                1u64.to_be_bytes(),
                encode(&rec),
            )
            .expect("insert");
        s.hand_on(&rec, &["http://hook".into()], at(0))
            .expect("hand on");
        s
    }

    #[test]
    fn a_leased_attempt_is_not_taken_again_until_its_lease_expires() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = store_with_an_attempt(dir.path());
        let taken = s.lease_due(at(0), at(30), 10).expect("lease");
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].attempt.message, 1);
        assert_eq!(s.lease_due(at(29), at(59), 10).expect("lease"), vec![]);
        assert_eq!(s.next_attempt().expect("next"), Some(at(30)));
        let queued = s.queued_attempts().expect("queued");
        assert_eq!(queued.len(), 1, "leased, still queued");
        assert_eq!(queued[0].leased_until, Some(at(30)));
        assert_eq!(s.verify_deliveries().expect("verify"), Vec::<String>::new());
        // Expired: taken again, as it was queued.
        let again = s.lease_due(at(30), at(60), 10).expect("lease");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempt, taken[0].attempt);
        // The first holder's outcome comes too late to be recorded.
        assert!(!s.settle_attempt(&taken[0], Ended::Sent).expect("settle"));
        assert!(s.settle_attempt(&again[0], Ended::Sent).expect("settle"));
        let rec = s.message(1).expect("read").expect("message");
        assert_eq!(rec.state, Delivery::Sent);
        assert_eq!(rec.webhooks[0].attempts, 1);
        assert_eq!(s.queued_attempts().expect("queued"), vec![]);
        assert_eq!(s.verify_deliveries().expect("verify"), Vec::<String>::new());
    }

    #[test]
    fn a_failed_attempt_is_queued_again_in_the_same_write_as_its_state() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = store_with_an_attempt(dir.path());
        let taken = s.lease_due(at(0), at(30), 10).expect("lease");
        assert!(s
            .settle_attempt(&taken[0], Ended::RetryAt(at(2)))
            .expect("settle"));
        let rec = s.message(1).expect("read").expect("message");
        assert_eq!(rec.state, Delivery::Pending);
        assert_eq!(rec.webhooks[0].attempts, 1);
        let queued = s.queued_attempts().expect("queued");
        assert_eq!(queued.len(), 1);
        assert_eq!(
            (queued[0].attempt.attempts, queued[0].attempt.due),
            (1, at(2))
        );
        assert_eq!(queued[0].leased_until, None, "due, not leased");
        let taken = s.lease_due(at(2), at(32), 10).expect("lease");
        assert!(s
            .settle_attempt(&taken[0], Ended::Failed("HTTP 500".into()))
            .expect("settle"));
        let rec = s.message(1).expect("read").expect("message");
        assert_eq!(rec.state, Delivery::Failed("HTTP 500".into()));
        assert_eq!(rec.webhooks[0].attempts, 2);
        assert_eq!(s.queued_attempts().expect("queued"), vec![]);
        assert_eq!(s.verify_deliveries().expect("verify"), Vec::<String>::new());
    }

    #[test]
    fn leases_left_by_the_last_run_are_due_again_when_the_store_is_opened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let taken = {
            let s = store_with_an_attempt(dir.path());
            s.lease_due(at(0), at(30), 10).expect("lease")
        };
        let s = Store::open(dir.path(), Options::default()).expect("reopen");
        let queued = s.queued_attempts().expect("queued");
        assert_eq!(
            queued,
            vec![Queued {
                attempt: taken[0].attempt.clone(),
                leased_until: None
            }]
        );
        // Due at its old time, long before the lease would have expired.
        let again = s.lease_due(at(1), at(31), 10).expect("lease");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempt, taken[0].attempt);
    }

    #[test]
    fn verify_finds_a_pending_delivery_with_no_attempt_queued() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = store_with_an_attempt(dir.path());
        let queued = s.queued_attempts().expect("queued");
        let a = &queued[0].attempt;
        s.t[Kind::Retries]
            .remove(
                &s.t.alone().expect("alone"),
                retry_key(a.due, a.message, a.slot),
            )
            .expect("remove");
        assert_eq!(
            s.verify_deliveries().expect("verify"),
            vec!["message 1 webhook 0: pending but 0 attempts queued".to_string()]
        );
    }
}
