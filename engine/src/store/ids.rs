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
    /// Taken from the sequence and not used yet, smallest first.
    ready: Mutex<VecDeque<u64>>,
}

/// Where `Ids::mark` was, to give back what was taken after it.
pub(crate) enum Mark {
    Local(u64),
    Taken(usize),
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
                ready: Mutex::new(VecDeque::new()),
            }),
        }
    }

    pub fn next(&self) -> Result<u64, StoreError> {
        let Some(s) = &self.shared else {
            return Ok(self.local.fetch_add(1, Ordering::Relaxed));
        };
        let mut ready = s.ready.lock().unwrap_or_else(|e| e.into_inner());
        if ready.is_empty() {
            // Message ids one at a time, while the transaction holds their lock, so
            // that they follow the order of commits (see `txn::write`).
            let n = if s.sequence == "messages" { 1 } else { BLOCK };
            ready.extend(s.pg.ids(s.sequence, n)?);
        }
        let id = ready.pop_front().ok_or_else(|| {
            StoreError::Storage(format!("the sequence of {} gave no id", s.sequence))
        })?;
        // Remembered for `give_back`.
        self.local.store(id, Ordering::Relaxed);
        Ok(id)
    }

    /// Where the ids are now. One batch of commands runs at a time on a node, so
    /// nothing else takes an id between a mark and its `give_back`.
    pub fn mark(&self) -> Mark {
        match &self.shared {
            None => Mark::Local(self.local.load(Ordering::Relaxed)),
            Some(s) => Mark::Taken(s.ready.lock().map(|r| r.len()).unwrap_or(0)),
        }
    }

    /// Give back the ids taken since `mark` (a refused command wrote nothing).
    pub fn give_back(&self, mark: Mark) {
        match (&self.shared, mark) {
            (None, Mark::Local(n)) => self.local.store(n, Ordering::Relaxed),
            (Some(s), Mark::Taken(left)) => {
                let mut ready = s.ready.lock().unwrap_or_else(|e| e.into_inner());
                // Only the last one taken is known without a list; a command takes
                // one id at a time, and the others stay unused gaps.
                if ready.len() < left {
                    ready.push_front(self.local.load(Ordering::Relaxed));
                }
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
