//! Group commit: a command is acknowledged only once its batch's write is on disk, and
//! the commands that finish while one flush runs share the next flush.
//!
//! The first caller to find no flush running becomes the leader and flushes; the
//! others wait. A caller's write is covered by a flush that *started* after the
//! write, so each caller waits for the first flush numbered at or after the one that
//! was next when it arrived.

use super::health::Health;
use std::sync::{Arc, Condvar, Mutex};

#[derive(Default)]
struct State {
    /// Number of the next flush to start.
    next: u64,
    /// Highest flush number known to be complete (0: none yet).
    done: u64,
    running: bool,
    /// Time spent flushing, over all flushes.
    busy: std::time::Duration,
}

pub struct GroupCommit {
    state: Mutex<State>,
    cv: Condvar,
    /// A failed flush breaks the store: what it held in memory may never reach the
    /// disk, so nothing after it can be acknowledged as durable.
    health: Arc<Health>,
}

impl GroupCommit {
    pub fn new(health: Arc<Health>) -> Self {
        GroupCommit {
            state: Mutex::new(State {
                next: 1,
                ..State::default()
            }),
            cv: Condvar::new(),
            health,
        }
    }

    /// Block until everything written before this call, in the store's `epoch`, is
    /// durable. Once a flush failed, the store is broken and this is refused with the
    /// reason (the failed flush's own callers too); so is it once the store opened
    /// its database again since `epoch`: what was written before may be lost.
    pub fn wait_durable(
        &self,
        epoch: u64,
        flush: impl Fn() -> Result<(), String>,
    ) -> Result<(), super::StoreError> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mine = st.next;
        loop {
            if self.health.epoch() != epoch {
                return Err(super::health::refused(
                    "the database was opened again before this write was on disk",
                ));
            }
            if st.done >= mine {
                return Ok(());
            }
            if let Some(why) = self.health.broken() {
                return Err(super::health::refused(&why));
            }
            if !st.running {
                // Lead: this flush covers every write made before it starts.
                st.running = true;
                let number = st.next;
                st.next += 1;
                drop(st);
                let t0 = std::time::Instant::now();
                let began = self.health.epoch();
                let res = flush();
                st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                st.busy += t0.elapsed();
                st.running = false;
                match res {
                    Ok(()) => st.done = st.done.max(number),
                    // A flush that found the database closed while the store opened
                    // it again is no new failure.
                    Err(e) if self.health.epoch() == began => {
                        self.health.fail(format!("a flush to disk failed: {e}"))
                    }
                    Err(_) => {}
                }
                self.cv.notify_all();
                continue;
            }
            st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Flushes done so far (for benchmarks: commands per flush).
    pub(super) fn flushes(&self) -> u64 {
        self.state.lock().map(|s| s.done).unwrap_or(0)
    }

    /// Time spent in flushes so far (for benchmarks).
    pub(super) fn flush_time(&self) -> std::time::Duration {
        self.state.lock().map(|s| s.busy).unwrap_or_default()
    }
}

impl super::Store {
    /// Block until every change made so far is on disk (shared with concurrent
    /// callers). sled's flush writes its log with `sync_file_range`, which survives a
    /// killed process; see the README for what it does not cover.
    pub(super) fn durable(&self) -> Result<(), super::StoreError> {
        self.durable_since(self.epoch())
    }

    /// As `durable`, for writes made since `epoch` (`Store::epoch`, read before
    /// them): refused if the store opened its database again since, as they may be
    /// lost.
    pub(super) fn durable_since(&self, epoch: u64) -> Result<(), super::StoreError> {
        if self.pg.is_some() {
            // PostgreSQL acknowledges a commit once it is durable.
            return Ok(());
        }
        self.commit.wait_durable(epoch, || self.flush_to_disk())
    }

    /// How many times the store opened its database again after a failure (see
    /// `durable_since`).
    pub(super) fn epoch(&self) -> u64 {
        self.t.health.epoch()
    }
}
