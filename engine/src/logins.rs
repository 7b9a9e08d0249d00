//! Signing in to the web pages: a person's password, set once through a one-time
//! invitation an admin issues, and the sessions of their browsers.
//!
//! Passwords are kept only as argon2id hashes (the PHC string: parameters, salt and
//! hash together). Invitations and sessions are 256-bit random secrets kept by
//! their SHA-256, as tokens are (see `tokens`): a copy of the database lets nobody
//! in. Revoking a person's tokens ends their sessions too.

use crate::core::Rejection;
use crate::store::prelude::*;
use crate::store::StoreError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// How long an invitation can be used.
pub const INVITE_VALID: Duration = Duration::days(7);
/// The shortest password taken.
pub const MIN_PASSWORD: usize = 10;
/// A session's `seen_at` is written again only when it is older than this, so that
/// every page view does not cost a durable write.
const SEEN_EVERY: Duration = Duration::minutes(1);

#[derive(Debug, Clone, PartialEq)]
pub struct PasswordRecord {
    pub phc: String,
    pub set_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InviteRecord {
    pub person: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub person: String,
    pub started_at: DateTime<Utc>,
    pub seen_at: DateTime<Utc>,
    /// The token every form of this session carries.
    pub csrf: String,
}

fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn secret() -> Result<String, StoreError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| StoreError::Storage(format!("no randomness: {e}")))?;
    Ok(b.iter().map(|b| format!("{b:02x}")).collect())
}

/// Issue a one-time invitation for `person` to set their password (a new one, when
/// an admin resets it: the old password stops working at once). Returns the secret
/// for the link; it is shown once.
pub fn invite(
    store: &(impl LoginWrite + DirectoryRead + ?Sized),
    person: &str,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    if person == crate::core::SYSTEM {
        return Err(Rejection::Forbidden(format!(
            "`{person}` is Baton itself and signs in nowhere"
        ))
        .into());
    }
    let s = secret()?;
    store.put_invite(
        &hash(&s),
        &InviteRecord {
            person: person.to_string(),
            issued_at: now,
            expires_at: now + INVITE_VALID,
        },
    )?;
    store.remove_password(person)?;
    Ok(s)
}

/// The person an invitation is for, if it can still be used (for the page that
/// asks for the new password).
pub fn invited(
    store: &(impl LoginRead + ?Sized),
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    Ok(store
        .invite(&hash(secret))?
        .filter(|i| i.expires_at > now)
        .map(|i| i.person))
}

/// Why a new password is not taken, in words for the person typing it.
pub fn weak(person: &str, password: &str) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD {
        return Some(format!("at least {MIN_PASSWORD} characters"));
    }
    if password.eq_ignore_ascii_case(person) {
        return Some("not your id".into());
    }
    None
}

/// Set the password of the invitation's person, using the invitation up. Returns
/// the person; `Rejection::NotFound` for an unknown, used or expired invitation,
/// `Rejection::Invalid` for a password too weak (the invitation is kept then).
pub fn accept(
    store: &(impl LoginRead + LoginWrite + ?Sized),
    secret: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let gone = || Rejection::NotFound("this invitation is unknown, used or expired".into());
    let Some(person) = invited(store, secret, now)? else {
        return Err(gone().into());
    };
    if let Some(why) = weak(&person, password) {
        return Err(Rejection::Invalid(vec![crate::core::FieldError::new(
            "password",
            format!("must be {why}"),
        )])
        .into());
    }
    let Some(inv) = store.take_invite(&hash(secret))? else {
        return Err(gone().into());
    };
    let phc = hash_password(password)?;
    store.put_password(&inv.person, &PasswordRecord { phc, set_at: now })?;
    Ok(inv.person)
}

fn hash_password(password: &str) -> Result<String, StoreError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| StoreError::Storage(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&b).map_err(|e| StoreError::Storage(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Storage(format!("cannot hash the password: {e}")))
}

/// A hash of nothing anyone types, verified against when the person has no
/// password, so that a sign-in for someone unknown takes as long as one for
/// someone known.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy: no one's password").unwrap_or_default())
}

/// Whether `password` is the person's. False for anyone unknown or without a
/// password, after as much work as for someone known.
pub fn check(
    store: &(impl LoginRead + DirectoryRead + ?Sized),
    person: &str,
    password: &str,
) -> Result<bool, StoreError> {
    let rec = store.password(person)?;
    let known = store.directory().person(person).is_some();
    let phc = match &rec {
        Some(r) if known => r.phc.as_str(),
        _ => decoy(),
    };
    let ok = PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false);
    Ok(ok && known && rec.is_some())
}

/// Start a session for `person` (who just signed in). Returns its secret, for the
/// cookie, and the session.
pub fn start(
    store: &(impl LoginWrite + ?Sized),
    person: &str,
    now: DateTime<Utc>,
) -> Result<(String, SessionRecord), StoreError> {
    let s = secret()?;
    let rec = SessionRecord {
        person: person.to_string(),
        started_at: now,
        seen_at: now,
        csrf: secret()?,
    };
    store.put_session(&hash(&s), &rec)?;
    Ok((s, rec))
}

/// The session behind a cookie, if it is known and was used within `idle`; an
/// idle one is ended. Its person must still be in the staff directory.
pub fn session(
    store: &(impl LoginRead + LoginWrite + DirectoryRead + ?Sized),
    secret: &str,
    now: DateTime<Utc>,
    idle: Duration,
) -> Result<Option<SessionRecord>, StoreError> {
    let h = hash(secret);
    let Some(mut rec) = store.session(&h)? else {
        return Ok(None);
    };
    if now - rec.seen_at > idle || store.directory().person(&rec.person).is_none() {
        store.remove_session(&h)?;
        return Ok(None);
    }
    if now - rec.seen_at > SEEN_EVERY {
        rec.seen_at = now;
        store.put_session(&h, &rec)?;
    }
    Ok(Some(rec))
}

/// Sign out.
pub fn end(store: &(impl LoginWrite + ?Sized), secret: &str) -> Result<(), StoreError> {
    store.remove_session(&hash(secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::{Department, Directory, Person};
    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), crate::store::Options::default()).expect("store");
        store
            .set_directory(Directory::new(
                vec![Department {
                    id: "cs".into(),
                    name: "客服部".into(),
                    head: "chen_jing".into(),
                }],
                vec![Person {
                    id: "wang_fang".into(),
                    name: "王芳".into(),
                    department: "cs".into(),
                    roles: vec!["agent".into()],
                    supervisor: None,
                }],
            ))
            .expect("directory");
        (dir, store)
    }

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default() + Duration::minutes(min)
    }

    #[test]
    fn an_invitation_sets_a_password_once_and_only_its_hash_is_kept() {
        let (dir, store) = store();
        let link = invite(&store, "wang_fang", t(0)).expect("invite");
        assert_eq!(
            invited(&store, &link, t(1)).expect("read"),
            Some("wang_fang".into())
        );
        let weak = accept(&store, &link, "short", t(1)).expect_err("too short");
        assert!(weak.to_string().contains("must be at least 10"), "{weak}");
        assert_eq!(
            accept(&store, &link, "春天的花開了很久", t(2)).ok(),
            None,
            "9 characters"
        );
        let who = accept(&store, &link, "a long enough one", t(2)).expect("accepted");
        assert_eq!(who, "wang_fang");
        assert!(
            accept(&store, &link, "a long enough one", t(3)).is_err(),
            "used up"
        );
        assert!(check(&store, "wang_fang", "a long enough one").expect("check"));
        assert!(!check(&store, "wang_fang", "a long enough two").expect("check"));
        assert!(!check(&store, "nobody", "a long enough one").expect("check"));
        drop(store);
        // The password itself is nowhere on disk.
        for f in walk(dir.path()) {
            let bytes = std::fs::read(&f).unwrap_or_default();
            assert!(
                !bytes.windows(17).any(|w| w == b"a long enough one"),
                "{f:?}"
            );
        }
    }

    fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = vec![];
        for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn an_invitation_expires_and_a_reset_stops_the_old_password() {
        let (_dir, store) = store();
        let link = invite(&store, "wang_fang", t(0)).expect("invite");
        let late = t(0) + INVITE_VALID + Duration::minutes(1);
        assert!(accept(&store, &link, "a long enough one", late).is_err());
        let link = invite(&store, "wang_fang", t(0)).expect("invite");
        accept(&store, &link, "a long enough one", t(1)).expect("accepted");
        let _reset = invite(&store, "wang_fang", t(5)).expect("reset");
        assert!(!check(&store, "wang_fang", "a long enough one").expect("check"));
        assert!(invite(&store, "nobody", t(0)).is_err());
    }

    #[test]
    fn a_session_lasts_while_used_and_ends_when_idle_or_signed_out() {
        let (_dir, store) = store();
        let idle = Duration::minutes(30);
        let (s, rec) = start(&store, "wang_fang", t(0)).expect("start");
        assert_eq!(rec.csrf.len(), 64);
        assert!(session(&store, &s, t(20), idle).expect("read").is_some());
        // Seen at 20: still alive at 45.
        assert!(session(&store, &s, t(45), idle).expect("read").is_some());
        assert!(
            session(&store, &s, t(80), idle).expect("read").is_none(),
            "idle"
        );
        assert!(
            session(&store, &s, t(81), idle).expect("read").is_none(),
            "ended"
        );
        let (s, _) = start(&store, "wang_fang", t(90)).expect("start");
        end(&store, &s).expect("end");
        assert!(session(&store, &s, t(91), idle).expect("read").is_none());
        let (a, _) = start(&store, "wang_fang", t(90)).expect("start");
        let (b, _) = start(&store, "wang_fang", t(90)).expect("start");
        assert_eq!(store.remove_sessions_of("wang_fang").expect("revoke"), 2);
        assert!(session(&store, &a, t(91), idle).expect("read").is_none());
        assert!(session(&store, &b, t(91), idle).expect("read").is_none());
    }
}
