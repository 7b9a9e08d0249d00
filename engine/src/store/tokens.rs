//! The tokens' records: `h` + hash -> the token's record, and `p` + person + 0 +
//! hash -> nothing, so that revoking a person's tokens reads a key range instead
//! of every token. Both keys of a token are written and removed together.

use super::kind::Kind;
use super::space::WriteBatch;
use super::{Store, StoreError};
use crate::core::Rejection;
use crate::tokens::TokenRecord;

fn hash_key(h: &[u8; 32]) -> Vec<u8> {
    let mut k = Vec::with_capacity(33);
    k.push(b'h');
    k.extend_from_slice(h);
    k
}

fn person_prefix(person: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(person.len() + 2);
    k.push(b'p');
    k.extend_from_slice(person.as_bytes());
    k.push(0);
    k
}

fn person_key(person: &str, h: &[u8; 32]) -> Vec<u8> {
    let mut k = person_prefix(person);
    k.extend_from_slice(h);
    k
}

impl Store {
    /// Keep a token's record under its hash, durably, if its person is in the staff
    /// directory: asked while the directory cannot change, so that no token is kept
    /// for a person a new directory is removing (see `set_directory`).
    pub(super) fn put_token(&self, h: &[u8; 32], rec: &TokenRecord) -> Result<(), StoreError> {
        let _staff = self.staff_lock();
        // With several nodes, the directory is read again under every node's lock:
        // another node may have just removed the person.
        let _cluster = match &self.pg {
            Some(pg) => {
                let locked = pg.lock(super::pg::locks::STAFF)?;
                self.refresh_caches()?;
                Some(locked)
            }
            None => None,
        };
        if self.directory().person(&rec.person).is_none() {
            return Err(Rejection::NotFound(format!(
                "no person `{}` in the staff directory",
                rec.person
            ))
            .into());
        }
        let bytes = super::encode(rec);
        let mut b = WriteBatch::default();
        let space = &self.t[Kind::Tokens];
        space.put(&mut b, hash_key(h), bytes);
        space.put(&mut b, person_key(&rec.person, h), &[]);
        // Read before the write: a reopening of the store after it may have lost it.
        let epoch = self.epoch();
        self.t.apply(b)?;
        self.durable_since(epoch)
    }

    /// The record of the token with hash `h`, if it is issued and not revoked.
    pub(super) fn token(&self, h: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.t[Kind::Tokens]
            .get(hash_key(h))?
            .map(|b| super::decode::<TokenRecord>(&b))
            .transpose()
    }

    /// The hashes of a person's tokens.
    pub(super) fn tokens_of(&self, person: &str) -> Result<Vec<[u8; 32]>, StoreError> {
        let prefix = person_prefix(person);
        let mut v = Vec::new();
        for kv in self.t[Kind::Tokens].scan_prefix(&prefix) {
            let (k, _) = kv?;
            if let Ok(h) = <[u8; 32]>::try_from(&k[prefix.len()..]) {
                v.push(h);
            }
        }
        Ok(v)
    }

    /// Every token's person and hash.
    pub(super) fn token_holders(&self) -> Result<Vec<(String, [u8; 32])>, StoreError> {
        let mut out = Vec::new();
        for kv in self.t[Kind::Tokens].scan_prefix([b'p']) {
            let (k, _) = kv?;
            // `p` + person + 0 + hash.
            let Some(split) = k.len().checked_sub(33).filter(|&i| i >= 1) else {
                continue;
            };
            let (Ok(person), Ok(h)) = (
                std::str::from_utf8(&k[1..split]),
                <[u8; 32]>::try_from(&k[split + 1..]),
            ) else {
                continue;
            };
            out.push((person.to_string(), h));
        }
        Ok(out)
    }

    /// Remove tokens (person, hash), both keys of each, all or nothing, durably.
    pub(super) fn remove_tokens(&self, tokens: &[(String, [u8; 32])]) -> Result<(), StoreError> {
        if tokens.is_empty() {
            return Ok(());
        }
        let mut b = WriteBatch::default();
        let space = &self.t[Kind::Tokens];
        for (person, h) in tokens {
            space.del(&mut b, hash_key(h));
            space.del(&mut b, person_key(person, h));
        }
        // Read before the write: a reopening of the store after it may have lost it.
        let epoch = self.epoch();
        self.t.apply(b)?;
        self.durable_since(epoch)
    }

    /// True when no token is issued (none ever, or all revoked).
    pub(super) fn no_tokens(&self) -> Result<bool, StoreError> {
        Ok(self.t[Kind::Tokens].first()?.is_none())
    }
}
