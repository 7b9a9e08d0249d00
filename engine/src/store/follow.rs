//! With PostgreSQL, several nodes share the database: each follows what the others
//! change. A connection of its own listens on `pg::CHANNEL`; other nodes notify it
//! when they commit commands (`change`, or `timer` when a command set a timer, so
//! that this node's scheduler looks again for the earliest one), deploy a definition
//! (`deploy`) or change the staff (`directory`). A notification can be missed while
//! the connection is down, so the caches are also compared with the database after
//! every reconnection and every few seconds.

use super::kind::Kind;
use super::{decode, Store, StoreError};
use crate::staff::Directory;
use postgres::fallible_iterator::FallibleIterator;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often the caches are compared with the database without a notification.
const CHECK: Duration = Duration::from_secs(5);

impl Store {
    /// Follow the other nodes (PostgreSQL only; nothing to do for sled). `wake` is
    /// the scheduler's. The thread ends once the store is dropped.
    pub fn follow_others(self: &Arc<Self>, wake: Arc<tokio::sync::Notify>) {
        let Some(pg) = self.pg.clone() else {
            return;
        };
        let store = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("baton-follow".into())
            .spawn(move || loop {
                let mut client = match pg.listener() {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!("cannot listen to the other nodes: {e}");
                        std::thread::sleep(Duration::from_secs(1));
                        if store.strong_count() == 0 {
                            return;
                        }
                        continue;
                    }
                };
                // What was missed while not listening.
                if !refresh(&store) {
                    return;
                }
                wake.notify_one();
                loop {
                    let mut heard = Vec::new();
                    let mut broken = false;
                    {
                        // Wait for the first, then take what else has come, and act
                        // on them together: under load they never stop coming.
                        let mut n = client.notifications();
                        match n.timeout_iter(CHECK).next() {
                            Ok(Some(m)) => heard.push(m.payload().to_string()),
                            Ok(None) => {}
                            Err(_) => broken = true,
                        }
                        let mut more = n.iter();
                        while let Ok(Some(m)) = more.next() {
                            heard.push(m.payload().to_string());
                        }
                    }
                    let Some(s) = store.upgrade() else {
                        return;
                    };
                    if heard.is_empty() || heard.iter().any(|h| h == "deploy" || h == "directory") {
                        if let Err(e) = s.refresh_caches() {
                            tracing::warn!("cannot read what other nodes changed: {e}");
                        }
                    }
                    if heard.iter().any(|h| h == "timer") {
                        wake.notify_one();
                    }
                    if heard.iter().any(|h| h == "timer" || h == "change") {
                        s.changed.send_modify(|n| *n += 1);
                    }
                    drop(s);
                    if broken || client.is_closed() {
                        break;
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the thread that follows other nodes: {e}");
        }
    }

    /// Read again the newest version of each process and the staff directory.
    pub(crate) fn refresh_caches(&self) -> Result<(), StoreError> {
        let mut latest = BTreeMap::new();
        for kv in self.t[Kind::Meta].scan_prefix(b"latest\0") {
            let (k, v) = kv?;
            let name = String::from_utf8_lossy(&k[7..]).into_owned();
            latest.insert(
                name,
                u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4])),
            );
        }
        let changed = *self.latest.read().unwrap_or_else(|e| e.into_inner()) != latest;
        if changed {
            *self.latest.write().unwrap_or_else(|e| e.into_inner()) = latest;
        }
        if let Some(b) = self.t[Kind::Meta].get("directory")? {
            let dir: Directory = decode(&b)?;
            if *self.directory() != dir {
                *self.directory.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(dir);
            }
        }
        Ok(())
    }
}

/// `refresh_caches` on the store if it still lives; false once it is gone.
fn refresh(store: &Weak<Store>) -> bool {
    let Some(s) = store.upgrade() else {
        return false;
    };
    if let Err(e) = s.refresh_caches() {
        tracing::warn!("cannot read what other nodes changed: {e}");
    }
    true
}
