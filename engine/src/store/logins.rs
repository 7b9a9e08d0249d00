//! The web pages' sign-in records, in the `logins` space:
//! - `w` + person -> the person's password hash;
//! - `i` + hash of an invitation -> whose it is and until when;
//! - `s` + hash of a session -> the signed-in person, and `q` + person + 0 + hash ->
//!   nothing, so that ending a person's sessions reads a key range;
//! - `m` + person + 0 -> the id up to which the person has read their notifications
//!   (8 bytes), and `n` + person + 0 + id -> nothing for each one read above it.
//!
//! Like tokens, invitations and sessions are kept by the SHA-256 of their secret
//! only: a copy of the database signs nobody in.

use super::kind::Kind;
use super::space::WriteBatch;
use super::{Store, StoreError};
use crate::core::Rejection;
use crate::logins::{InviteRecord, PasswordRecord, SessionRecord};
use std::sync::Mutex;

fn password_key(person: &str) -> Vec<u8> {
    let mut k = vec![b'w'];
    k.extend_from_slice(person.as_bytes());
    k
}

fn hashed(tag: u8, h: &[u8; 32]) -> Vec<u8> {
    let mut k = Vec::with_capacity(33);
    k.push(tag);
    k.extend_from_slice(h);
    k
}

fn sessions_prefix(person: &str) -> Vec<u8> {
    let mut k = vec![b'q'];
    k.extend_from_slice(person.as_bytes());
    k.push(0);
    k
}

fn session_person_key(person: &str, h: &[u8; 32]) -> Vec<u8> {
    let mut k = sessions_prefix(person);
    k.extend_from_slice(h);
    k
}

fn read_up_to_key(person: &str) -> Vec<u8> {
    let mut k = vec![b'm'];
    k.extend_from_slice(person.as_bytes());
    k.push(0);
    k
}

fn read_prefix(person: &str) -> Vec<u8> {
    let mut k = vec![b'n'];
    k.extend_from_slice(person.as_bytes());
    k.push(0);
    k
}

/// Taking an invitation reads it and removes it: two browsers using one link at
/// once must not both set a password with it.
static TAKING: Mutex<()> = Mutex::new(());

impl Store {
    fn apply_durably(&self, b: WriteBatch) -> Result<(), StoreError> {
        // Read before the write: a reopening of the store after it may have lost it.
        let epoch = self.epoch();
        self.t.apply(b)?;
        self.durable_since(epoch)
    }

    fn in_directory(&self, person: &str) -> Result<(), StoreError> {
        if self.directory().person(person).is_none() {
            return Err(Rejection::NotFound(format!(
                "no person `{person}` in the staff directory"
            ))
            .into());
        }
        Ok(())
    }

    pub(super) fn password(&self, person: &str) -> Result<Option<PasswordRecord>, StoreError> {
        self.t[Kind::Logins]
            .get(password_key(person))?
            .map(|b| super::decode::<PasswordRecord>(&b))
            .transpose()
    }

    /// Refused when the person is not in the directory, asked where directory
    /// changes cannot interleave (see `put_token`).
    pub(super) fn put_password(
        &self,
        person: &str,
        rec: &PasswordRecord,
    ) -> Result<(), StoreError> {
        let _staff = self.staff_lock();
        self.in_directory(person)?;
        let mut b = WriteBatch::default();
        self.t[Kind::Logins].put(&mut b, password_key(person), super::encode(rec));
        self.apply_durably(b)
    }

    pub(super) fn remove_password(&self, person: &str) -> Result<(), StoreError> {
        let mut b = WriteBatch::default();
        self.t[Kind::Logins].del(&mut b, password_key(person));
        self.apply_durably(b)
    }

    pub(super) fn put_invite(&self, h: &[u8; 32], rec: &InviteRecord) -> Result<(), StoreError> {
        let _staff = self.staff_lock();
        self.in_directory(&rec.person)?;
        let mut b = WriteBatch::default();
        self.t[Kind::Logins].put(&mut b, hashed(b'i', h), super::encode(rec));
        self.apply_durably(b)
    }

    pub(super) fn invite(&self, h: &[u8; 32]) -> Result<Option<InviteRecord>, StoreError> {
        self.t[Kind::Logins]
            .get(hashed(b'i', h))?
            .map(|b| super::decode::<InviteRecord>(&b))
            .transpose()
    }

    /// The invitation, removed: it is used once.
    pub(super) fn take_invite(&self, h: &[u8; 32]) -> Result<Option<InviteRecord>, StoreError> {
        let _one = TAKING.lock().unwrap_or_else(|e| e.into_inner());
        let Some(rec) = self.invite(h)? else {
            return Ok(None);
        };
        let mut b = WriteBatch::default();
        self.t[Kind::Logins].del(&mut b, hashed(b'i', h));
        self.apply_durably(b)?;
        Ok(Some(rec))
    }

    pub(super) fn session(&self, h: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        self.t[Kind::Logins]
            .get(hashed(b's', h))?
            .map(|b| super::decode::<SessionRecord>(&b))
            .transpose()
    }

    pub(super) fn put_session(&self, h: &[u8; 32], rec: &SessionRecord) -> Result<(), StoreError> {
        let _staff = self.staff_lock();
        self.in_directory(&rec.person)?;
        let mut b = WriteBatch::default();
        let space = &self.t[Kind::Logins];
        space.put(&mut b, hashed(b's', h), super::encode(rec));
        space.put(&mut b, session_person_key(&rec.person, h), &[]);
        self.apply_durably(b)
    }

    pub(super) fn remove_session(&self, h: &[u8; 32]) -> Result<(), StoreError> {
        let Some(rec) = self.session(h)? else {
            return Ok(());
        };
        let mut b = WriteBatch::default();
        let space = &self.t[Kind::Logins];
        space.del(&mut b, hashed(b's', h));
        space.del(&mut b, session_person_key(&rec.person, h));
        self.apply_durably(b)
    }

    /// End every session of a person; how many there were.
    pub(super) fn remove_sessions_of(&self, person: &str) -> Result<usize, StoreError> {
        let prefix = sessions_prefix(person);
        let space = &self.t[Kind::Logins];
        let mut b = WriteBatch::default();
        let mut n = 0;
        for kv in space.scan_prefix(&prefix) {
            let (k, _) = kv?;
            if let Ok(h) = <[u8; 32]>::try_from(&k[prefix.len()..]) {
                space.del(&mut b, hashed(b's', &h));
                space.del(&mut b, &k);
                n += 1;
            }
        }
        if n > 0 {
            self.apply_durably(b)?;
        }
        Ok(n)
    }

    /// What the person has read of their notifications: every id up to the first,
    /// and the ids above it in the set.
    pub(super) fn read_marks(
        &self,
        person: &str,
    ) -> Result<(u64, std::collections::BTreeSet<u64>), StoreError> {
        let space = &self.t[Kind::Logins];
        let up_to = space
            .get(read_up_to_key(person))?
            .map(|v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])))
            .unwrap_or(0);
        let prefix = read_prefix(person);
        let mut above = std::collections::BTreeSet::new();
        for kv in space.scan_prefix(&prefix) {
            let (k, _) = kv?;
            if let Ok(b) = <[u8; 8]>::try_from(&k[prefix.len()..]) {
                above.insert(u64::from_be_bytes(b));
            }
        }
        Ok((up_to, above))
    }

    /// Mark one notification read, or (`all`) every one up to `id`.
    pub(super) fn mark_read(&self, person: &str, id: u64, all: bool) -> Result<(), StoreError> {
        let space = &self.t[Kind::Logins];
        let mut b = WriteBatch::default();
        if all {
            space.put(&mut b, read_up_to_key(person), id.to_be_bytes().to_vec());
            let prefix = read_prefix(person);
            for kv in space.scan_prefix(&prefix) {
                let (k, _) = kv?;
                if <[u8; 8]>::try_from(&k[prefix.len()..])
                    .is_ok_and(|b| u64::from_be_bytes(b) <= id)
                {
                    space.del(&mut b, &k);
                }
            }
        } else {
            let mut k = read_prefix(person);
            k.extend_from_slice(&id.to_be_bytes());
            space.put(&mut b, k, &[]);
        }
        self.apply_durably(b)
    }
}
