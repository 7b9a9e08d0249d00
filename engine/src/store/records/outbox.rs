//! What a command leaves for later: messages in the outbox (`RecordKind::Message`),
//! webhook deliveries waiting to be tried again (`RecordKind::Retry`), and the answer kept
//! for a retry with the same idempotency key (`RecordKind::Answer`).

use super::field::{b, own, time, Seq};
use super::history::{MessageV1, RecordV1};
use super::instance::InstanceV1;
use super::{RecordKind, Stored};
use crate::core::Record;
use crate::store::txn::{Delivery, OutboxRecord, Outcome, WebhookDelivery};
use crate::store::Attempt;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Serialize, Deserialize)]
pub(crate) struct OutboxRecordV1<'a> {
    pub id: u64,
    pub instance: u64,
    #[serde(with = "time")]
    pub at: DateTime<Utc>,
    pub message: MessageV1<'a>,
    pub state: DeliveryV1<'a>,
    pub webhooks: Seq<'a, WebhookDelivery, WebhookDeliveryV1<'static>>,
}

impl<'a> From<&'a OutboxRecord> for OutboxRecordV1<'a> {
    fn from(r: &'a OutboxRecord) -> Self {
        OutboxRecordV1 {
            id: r.id,
            instance: r.instance,
            at: r.at,
            message: (&r.message).into(),
            state: (&r.state).into(),
            webhooks: Seq::of(&r.webhooks),
        }
    }
}

impl From<OutboxRecordV1<'_>> for OutboxRecord {
    fn from(r: OutboxRecordV1<'_>) -> Self {
        OutboxRecord {
            id: r.id,
            instance: r.instance,
            at: r.at,
            message: r.message.into(),
            state: r.state.into(),
            webhooks: r.webhooks.into(),
        }
    }
}

form!(OutboxRecordV1, OutboxRecord);

impl Stored for OutboxRecord {
    const KIND: RecordKind = RecordKind::Message;
    const VERSION: u8 = 1;
    type Current = OutboxRecordV1<'static>;
}

#[derive(Serialize, Deserialize)]
pub(crate) enum DeliveryV1<'a> {
    Pending,
    Sent,
    Failed(Cow<'a, str>),
}

impl<'a> From<&'a Delivery> for DeliveryV1<'a> {
    fn from(d: &'a Delivery) -> Self {
        match d {
            Delivery::Pending => DeliveryV1::Pending,
            Delivery::Sent => DeliveryV1::Sent,
            Delivery::Failed(why) => DeliveryV1::Failed(b(why)),
        }
    }
}

impl From<DeliveryV1<'_>> for Delivery {
    fn from(d: DeliveryV1<'_>) -> Self {
        match d {
            DeliveryV1::Pending => Delivery::Pending,
            DeliveryV1::Sent => Delivery::Sent,
            DeliveryV1::Failed(why) => Delivery::Failed(own(why)),
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct WebhookDeliveryV1<'a> {
    pub url: Cow<'a, str>,
    pub state: DeliveryV1<'a>,
    pub attempts: u32,
}

impl<'a> From<&'a WebhookDelivery> for WebhookDeliveryV1<'a> {
    fn from(w: &'a WebhookDelivery) -> Self {
        WebhookDeliveryV1 {
            url: b(&w.url),
            state: (&w.state).into(),
            attempts: w.attempts,
        }
    }
}

impl From<WebhookDeliveryV1<'_>> for WebhookDelivery {
    fn from(w: WebhookDeliveryV1<'_>) -> Self {
        WebhookDelivery {
            url: own(w.url),
            state: w.state.into(),
            attempts: w.attempts,
        }
    }
}

form!(WebhookDeliveryV1, WebhookDelivery);

/// A webhook delivery waiting for its next attempt (`store::Attempt`).
#[derive(Serialize, Deserialize)]
pub(crate) struct RetryV1<'a> {
    pub message: u64,
    pub slot: u32,
    pub url: Cow<'a, str>,
    pub attempts: u32,
    #[serde(with = "time")]
    pub due: DateTime<Utc>,
}

impl<'a> From<&'a Attempt> for RetryV1<'a> {
    fn from(a: &'a Attempt) -> Self {
        RetryV1 {
            message: a.message,
            slot: a.slot,
            url: b(&a.url),
            attempts: a.attempts,
            due: a.due,
        }
    }
}

impl From<RetryV1<'_>> for Attempt {
    fn from(a: RetryV1<'_>) -> Self {
        Attempt {
            message: a.message,
            slot: a.slot,
            url: own(a.url),
            attempts: a.attempts,
            due: a.due,
        }
    }
}

form!(RetryV1, Attempt);

impl Stored for Attempt {
    const KIND: RecordKind = RecordKind::Retry;
    const VERSION: u8 = 1;
    type Current = RetryV1<'static>;
}

/// The answer to a command, kept under its idempotency key (`store::Outcome`).
#[derive(Serialize, Deserialize)]
pub(crate) struct AnswerV1<'a> {
    pub instance: InstanceV1<'a>,
    pub records: Seq<'a, Record, RecordV1<'static>>,
    pub children: Cow<'a, [u64]>,
    pub replayed: bool,
}

impl<'a> From<&'a Outcome> for AnswerV1<'a> {
    fn from(o: &'a Outcome) -> Self {
        AnswerV1 {
            instance: (&o.instance).into(),
            records: Seq::of(&o.records),
            children: Cow::Borrowed(&o.children),
            replayed: o.replayed,
        }
    }
}

impl From<AnswerV1<'_>> for Outcome {
    fn from(o: AnswerV1<'_>) -> Self {
        Outcome {
            instance: o.instance.into(),
            records: o.records.into(),
            children: o.children.into_owned(),
            replayed: o.replayed,
        }
    }
}

form!(AnswerV1, Outcome);

// Version 1 of answers; version 2 (see `branches`) holds a version-2 instance.
