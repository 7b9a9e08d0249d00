//! Bearer tokens for the HTTP API. A token is shown once, when it is issued; the
//! database keeps only its SHA-256 hash, so a copy of the database gives nobody a
//! way in. Tokens are 256 random bits, so a plain (unsalted, fast) hash is enough:
//! there is nothing to guess that a slow hash would protect.
//!
//! The store keeps each token's record by hash and by person (see
//! `store::tokens`).

use crate::core::Rejection;
use crate::staff::Directory;
use crate::store::prelude::*;
use crate::store::StoreError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Every token starts with this, so that `revoke` tells a token from a person id
/// and a leaked token is easy to recognise in logs and secret scanners.
pub const PREFIX: &str = "baton_";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub person: String,
    #[serde(with = "baton_dsl::zone")]
    pub issued_at: DateTime<Utc>,
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Issue a new token for a person of the staff directory. The returned string is the
/// only copy of the token: print it once.
pub fn issue(
    store: &(impl TokenWrite + DirectoryRead + ?Sized),
    person: &str,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    // The directory refuses this id too; a token for it would act as Baton itself.
    if person == crate::core::SYSTEM {
        return Err(
            Rejection::Forbidden(format!("`{person}` is Baton itself and gets no token")).into(),
        );
    }
    // Asked again by the store as it keeps the token, against a directory changing
    // meanwhile (see `TokenWrite::put_token`).
    if store.directory().person(person).is_none() {
        return Err(
            Rejection::NotFound(format!("no person `{person}` in the staff directory")).into(),
        );
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| StoreError::Storage(format!("random: {e}")))?;
    let token = format!("{PREFIX}{}", hex(&secret));
    let h = hash(&token);
    let rec = TokenRecord {
        person: person.to_string(),
        issued_at: now,
    };
    store.put_token(&h, &rec)?;
    Ok(token)
}

/// The person a token belongs to, or `None` for an unknown or revoked token.
pub fn verify(
    store: &(impl TokenRead + ?Sized),
    token: &str,
) -> Result<Option<TokenRecord>, StoreError> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    store.token(&hash(token))
}

/// True when no token has ever been issued, or every one has been revoked: the
/// moment `baton serve` issues the first one for an admin.
pub fn none_issued(store: &(impl TokenRead + ?Sized)) -> Result<bool, StoreError> {
    store.no_tokens()
}

/// The first token of a database that has none: for the first person with `role`.
/// `None` when a token exists already or nobody has the role. With several nodes
/// starting at once on an empty database, one of them issues it.
pub fn issue_first(
    store: &crate::store::Store,
    role: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, String)>, StoreError> {
    let _first = store.first_token_lock()?;
    if !none_issued(store)? {
        return Ok(None);
    }
    let Some(person) = first_with_role(store, role) else {
        return Ok(None);
    };
    let token = issue(store, &person, now)?;
    Ok(Some((person, token)))
}

/// The first person of the staff directory, in its order, who holds `role`.
pub fn first_with_role(store: &(impl DirectoryRead + ?Sized), role: &str) -> Option<String> {
    store
        .directory()
        .people
        .iter()
        .find(|p| p.roles.iter().any(|r| r == role))
        .map(|p| p.id.clone())
}

/// Revoke one token (given as the token itself) or every token of a person (given
/// as their id). Returns how many tokens were revoked.
/// Revoking a person's tokens also signs their browsers out of the web pages.
pub fn revoke(
    store: &(impl TokenRead + TokenWrite + LoginWrite + ?Sized),
    token_or_person: &str,
) -> Result<usize, StoreError> {
    let hashes: Vec<(String, [u8; 32])> = if token_or_person.starts_with(PREFIX) {
        let h = hash(token_or_person);
        match verify(store, token_or_person)? {
            Some(rec) => vec![(rec.person, h)],
            None => vec![],
        }
    } else {
        store
            .tokens_of(token_or_person)?
            .into_iter()
            .map(|h| (token_or_person.to_string(), h))
            .collect()
    };
    store.remove_tokens(&hashes)?;
    if !token_or_person.starts_with(PREFIX) {
        store.remove_sessions_of(token_or_person)?;
    }
    Ok(hashes.len())
}

/// Revoke the tokens of everyone `dir` does not list (before it replaces the
/// directory: see `Store::set_directory`). Returns how many tokens were revoked.
pub(crate) fn revoke_absent(
    store: &(impl TokenRead + TokenWrite + ?Sized),
    dir: &Directory,
) -> Result<usize, StoreError> {
    let absent: Vec<(String, [u8; 32])> = store
        .token_holders()?
        .into_iter()
        .filter(|(person, _)| dir.person(person).is_none())
        .collect();
    store.remove_tokens(&absent)?;
    Ok(absent.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::{Department, Person};
    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), Default::default()).expect("open");
        let person = |id: &str| Person {
            id: id.into(),
            name: id.into(),
            department: "d".into(),
            roles: vec![],
            supervisor: None,
        };
        store
            .set_directory(Directory::new(
                vec![Department {
                    id: "d".into(),
                    name: "D".into(),
                    head: "ann".into(),
                }],
                vec![person("ann"), person("bob")],
            ))
            .expect("directory");
        (dir, store)
    }

    #[test]
    fn issued_tokens_verify_and_only_their_hash_is_kept() {
        let (dir, store) = store();
        let now = Utc::now();
        let t = issue(&store, "ann", now).expect("issue");
        assert!(t.starts_with(PREFIX) && t.len() == PREFIX.len() + 64, "{t}");
        assert_eq!(
            verify(&store, &t).expect("verify").map(|r| r.person),
            Some("ann".into())
        );
        assert_eq!(verify(&store, "baton_nope").expect("verify"), None);
        assert_eq!(verify(&store, "").expect("verify"), None);
        drop(store);
        // The secret part of the token appears nowhere on disk.
        let secret = t.as_bytes()[PREFIX.len()..].to_vec();
        for f in walk(dir.path()) {
            let bytes = std::fs::read(&f).unwrap_or_default();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_slice()),
                "{} holds the token",
                f.display()
            );
        }
    }

    fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn revoke_by_token_or_by_person() {
        let (_dir, store) = store();
        let now = Utc::now();
        let a1 = issue(&store, "ann", now).expect("issue");
        let a2 = issue(&store, "ann", now).expect("issue");
        let b = issue(&store, "bob", now).expect("issue");
        assert_eq!(revoke(&store, &a1).expect("revoke"), 1);
        assert_eq!(verify(&store, &a1).expect("verify"), None);
        assert!(verify(&store, &a2).expect("verify").is_some());
        assert_eq!(revoke(&store, "ann").expect("revoke"), 1);
        assert_eq!(verify(&store, &a2).expect("verify"), None);
        assert!(verify(&store, &b).expect("verify").is_some());
        assert_eq!(revoke(&store, "ann").expect("revoke"), 0);
    }

    #[test]
    fn none_issued_until_the_first_and_again_after_the_last_is_revoked() {
        let (_dir, store) = store();
        assert!(none_issued(&store).expect("empty"));
        let t = issue(&store, "bob", Utc::now()).expect("issue");
        assert!(!none_issued(&store).expect("one"));
        revoke(&store, &t).expect("revoke");
        assert!(none_issued(&store).expect("none again"));
        assert_eq!(first_with_role(&store, "admin"), None);
        let mut dir = (*store.directory()).clone();
        for p in &mut dir.people {
            p.roles = vec!["admin".into()];
        }
        store
            .set_directory(Directory::new(dir.departments, dir.people))
            .expect("directory");
        assert_eq!(first_with_role(&store, "admin"), Some("ann".into()));
    }

    #[test]
    fn removing_a_person_revokes_their_tokens_for_good() {
        let (_dir, store) = store();
        let now = Utc::now();
        let a = issue(&store, "ann", now).expect("issue");
        let b = issue(&store, "bob", now).expect("issue");
        let full = (*store.directory()).clone();
        let without_bob: Vec<Person> = full
            .people
            .iter()
            .filter(|p| p.id != "bob")
            .cloned()
            .collect();
        store
            .set_directory(Directory::new(full.departments.clone(), without_bob))
            .expect("directory");
        assert_eq!(verify(&store, &b).expect("verify"), None);
        store
            .set_directory(Directory::new(full.departments, full.people))
            .expect("directory");
        assert_eq!(verify(&store, &b).expect("verify"), None);
        assert!(verify(&store, &a).expect("verify").is_some());
    }

    #[test]
    fn baton_itself_gets_no_token() {
        let (_dir, store) = store();
        let mut dir = (*store.directory()).clone();
        let mut me = dir.people[0].clone();
        me.id = crate::core::SYSTEM.into();
        dir.people.push(me);
        // Past the directory's own check, as a directory built in code would be.
        store
            .set_directory(Directory::new(dir.departments, dir.people))
            .expect("directory");
        assert!(matches!(
            issue(&store, crate::core::SYSTEM, Utc::now()),
            Err(StoreError::Rejected(Rejection::Forbidden(_)))
        ));
    }

    #[test]
    fn only_people_of_the_directory_get_tokens() {
        let (_dir, store) = store();
        assert!(matches!(
            issue(&store, "ghost", Utc::now()),
            Err(StoreError::Rejected(Rejection::NotFound(_)))
        ));
    }
}
