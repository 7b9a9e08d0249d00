//! The web pages' sign-in records (`RecordKind::Password`, `Invite`, `Session`).
//! Times are milliseconds since 1970, UTC.

use super::field::{b, own};
use super::{RecordKind, Stored};
use crate::logins::{InviteRecord, PasswordRecord, SessionRecord};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A password as an argon2id hash in the PHC string format (algorithm, parameters,
/// salt and hash in one string), so that stronger parameters later still verify
/// the hashes made before.
#[derive(Serialize, Deserialize)]
pub(crate) struct PasswordV1<'a> {
    pub phc: Cow<'a, str>,
    pub set_at: i64,
}

impl<'a> From<&'a PasswordRecord> for PasswordV1<'a> {
    fn from(p: &'a PasswordRecord) -> Self {
        PasswordV1 {
            phc: b(&p.phc),
            set_at: ms(p.set_at),
        }
    }
}

impl From<PasswordV1<'_>> for PasswordRecord {
    fn from(p: PasswordV1<'_>) -> Self {
        PasswordRecord {
            phc: own(p.phc),
            set_at: at(p.set_at),
        }
    }
}

form!(PasswordV1, PasswordRecord);

impl Stored for PasswordRecord {
    const KIND: RecordKind = RecordKind::Password;
    const VERSION: u8 = 1;
    type Current = PasswordV1<'static>;
}

#[derive(Serialize, Deserialize)]
pub(crate) struct InviteV1<'a> {
    pub person: Cow<'a, str>,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl<'a> From<&'a InviteRecord> for InviteV1<'a> {
    fn from(i: &'a InviteRecord) -> Self {
        InviteV1 {
            person: b(&i.person),
            issued_at: ms(i.issued_at),
            expires_at: ms(i.expires_at),
        }
    }
}

impl From<InviteV1<'_>> for InviteRecord {
    fn from(i: InviteV1<'_>) -> Self {
        InviteRecord {
            person: own(i.person),
            issued_at: at(i.issued_at),
            expires_at: at(i.expires_at),
        }
    }
}

form!(InviteV1, InviteRecord);

impl Stored for InviteRecord {
    const KIND: RecordKind = RecordKind::Invite;
    const VERSION: u8 = 1;
    type Current = InviteV1<'static>;
}

#[derive(Serialize, Deserialize)]
pub(crate) struct SessionV1<'a> {
    pub person: Cow<'a, str>,
    pub started_at: i64,
    pub seen_at: i64,
    pub csrf: Cow<'a, str>,
}

impl<'a> From<&'a SessionRecord> for SessionV1<'a> {
    fn from(s: &'a SessionRecord) -> Self {
        SessionV1 {
            person: b(&s.person),
            started_at: ms(s.started_at),
            seen_at: ms(s.seen_at),
            csrf: b(&s.csrf),
        }
    }
}

impl From<SessionV1<'_>> for SessionRecord {
    fn from(s: SessionV1<'_>) -> Self {
        SessionRecord {
            person: own(s.person),
            started_at: at(s.started_at),
            seen_at: at(s.seen_at),
            csrf: own(s.csrf),
        }
    }
}

form!(SessionV1, SessionRecord);

impl Stored for SessionRecord {
    const KIND: RecordKind = RecordKind::Session;
    const VERSION: u8 = 1;
    type Current = SessionV1<'static>;
}
