//! Ids for new instances and outbox messages. With sled one process owns the
//! database, so a counter in memory (restored from the last key at open) is enough
//! and keeps ids small and dense for people; a refused command gives its id back.
//! With PostgreSQL several nodes take ids at once: they come from a sequence, a few
//! at a time per node, and an id given back is used by this node's next command.

use super::pg::Pg;
use super::StoreError;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How many ids a node takes from a sequence at once.
const BLOCK: i64 = 16;

pub(crate) struct Ids {
    local: AtomicU64,
    shared: Option<Shared>,
}

struct Shared {
    pg: Arc<Pg>,
    sequence: &'static str,
    ids: Mutex<Taken>,
}

#[derive(Default)]
struct Taken {
    /// Taken from the sequence and not used yet, smallest first.
    ready: VecDeque<u64>,
    /// How many ids were handed out so far, and the last ones handed out with
    /// their number, for `give_back`.
    count: u64,
    recent: VecDeque<(u64, u64)>,
}

/// How many handed-out ids can still be given back: far more than one command
/// takes.
const RECENT: usize = 1024;

/// Where `Ids::mark` was, to give back what was taken after it.
pub(crate) enum Mark {
    Local(u64),
    Taken(u64),
}

impl Ids {
    /// The next id is `next` (sled).
    pub fn local(next: u64) -> Ids {
        Ids {
            local: AtomicU64::new(next),
            shared: None,
        }
    }

    /// Ids from the PostgreSQL sequence `sequence` ("instances" or "messages").
    pub fn shared(pg: Arc<Pg>, sequence: &'static str) -> Ids {
        Ids {
            local: AtomicU64::new(0),
            shared: Some(Shared {
                pg,
                sequence,
                ids: Mutex::default(),
            }),
        }
    }

    pub fn next(&self) -> Result<u64, StoreError> {
        let Some(s) = &self.shared else {
            return Ok(self.local.fetch_add(1, Ordering::Relaxed));
        };
        let mut t = s.ids.lock().unwrap_or_else(|e| e.into_inner());
        if t.ready.is_empty() {
            // Message ids one at a time, while the transaction holds their lock, so
            // that they follow the order of commits (see `txn::write`).
            let n = if s.sequence == "messages" { 1 } else { BLOCK };
            let fresh = s.pg.ids(s.sequence, n)?;
            t.ready.extend(fresh);
        }
        let id = t.ready.pop_front().ok_or_else(|| {
            StoreError::Storage(format!("the sequence of {} gave no id", s.sequence))
        })?;
        let n = t.count;
        t.count += 1;
        t.recent.push_back((n, id));
        if t.recent.len() > RECENT {
            t.recent.pop_front();
        }
        Ok(id)
    }

    /// Where the ids are now. One batch of commands runs at a time on a node, so
    /// nothing else takes an id between a mark and its `give_back`.
    pub fn mark(&self) -> Mark {
        match &self.shared {
            None => Mark::Local(self.local.load(Ordering::Relaxed)),
            Some(s) => Mark::Taken(s.ids.lock().map(|t| t.count).unwrap_or(0)),
        }
    }

    /// Give back the ids taken since `mark` (a refused command wrote nothing): the
    /// next command takes them again, so ids count the commands that happened.
    pub fn give_back(&self, mark: Mark) {
        match (&self.shared, mark) {
            (None, Mark::Local(n)) => self.local.store(n, Ordering::Relaxed),
            (Some(s), Mark::Taken(from)) => {
                let mut t = s.ids.lock().unwrap_or_else(|e| e.into_inner());
                while t.recent.back().is_some_and(|(n, _)| *n >= from) {
                    if let Some((_, id)) = t.recent.pop_back() {
                        t.ready.push_front(id);
                    }
                }
                t.count = from.max(t.recent.back().map_or(0, |(n, _)| n + 1));
            }
            _ => {}
        }
    }

    /// Ids only go up: after the database was opened again (sled).
    pub fn raise(&self, to: u64) {
        self.local.fetch_max(to, Ordering::SeqCst);
    }

    /// The next id (sled), for tests.
    #[cfg(test)]
    pub fn peek(&self) -> u64 {
        self.local.load(Ordering::Relaxed)
    }
}
