//! The store's health. A failed write or flush leaves sled's memory and its disk out
//! of step (and sled itself refuses every write after a failed one, until it is
//! opened again), or half a batch written, its journal waiting to be replayed. So
//! from the first failure on every write is refused, until the store has opened its
//! database again and replayed that journal (see `recover`). Every part of the store
//! that can fail that way (the batch write, the write pipeline, the group flush)
//! marks it here, so that the server can say so in `/healthz` and `/metrics`
//! instead of looking well.
//!
//! Each reopening starts a new epoch: a write made in an earlier one may or may not
//! have reached the disk, so it is never acknowledged after it (see `durability`,
//! `batch::Pipeline`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// A reason is cut to this many bytes: a refusal repeats it, and a long one (an
/// error wrapping others) would make every refusal and log line as long.
const MAX_REASON: usize = 200;

#[derive(Default)]
pub struct Health {
    /// Why the store stopped writing: the first failure since it last wrote.
    reason: Mutex<Option<String>>,
    /// Whether `reason` is set, read on every write without the lock.
    broken: AtomicBool,
    epoch: AtomicU64,
    /// Held while the store recovers, so that one recovery runs at a time.
    pub(super) recovering: Mutex<()>,
}

impl Health {
    /// Mark the store broken. Only the first failure is kept and logged: the ones
    /// after it are its consequences. A refusal (`StoreError::Broken`) is no failure
    /// of its own: callers pass on only other errors, so that reasons never nest.
    pub fn fail(&self, why: impl Into<String>) {
        let mut reason = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        if reason.is_some() {
            return;
        }
        let why = short(why.into());
        tracing::error!(
            reason = %why,
            "the store refuses every write until the disk works again; check it (free space, errors)"
        );
        *reason = Some(why);
        self.broken.store(true, Ordering::SeqCst);
    }

    /// Why writes are refused, or None while the store is healthy.
    pub(super) fn broken(&self) -> Option<String> {
        if !self.broken.load(Ordering::SeqCst) {
            return None;
        }
        self.reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The store opened its database again: a new epoch, and writes go through.
    pub fn recovered(&self, replayed: usize) {
        let mut reason = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        // The new epoch first: whoever sees the store healthy sees it too.
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.broken.store(false, Ordering::SeqCst);
        if let Some(why) = reason.take() {
            tracing::warn!(
                after = %why,
                replayed,
                "the store writes again: it opened its database again"
            );
        }
    }

    /// How many times the store opened its database again.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }
}

/// `why`, at most `MAX_REASON` bytes of its first line.
fn short(why: String) -> String {
    let line = why.lines().next().unwrap_or_default();
    if line.len() <= MAX_REASON && line.len() == why.len() {
        return why;
    }
    let mut end = line.len().min(MAX_REASON);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

/// Why a write is refused once the store is broken, and what to do.
pub fn refused(why: &str) -> super::StoreError {
    super::StoreError::Broken(why.to_string())
}

/// Pass an error on to `Health::fail`, unless it is a refusal (see `fail`).
pub fn cause(e: &super::StoreError) -> Option<String> {
    match e {
        super::StoreError::Broken(_) => None,
        e => Some(e.to_string()),
    }
}

/// Failures a test can ask the store to have, to see how it behaves on a full or
/// failing disk (see `Store::inject_failure`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The next write of a batch of commands fails before it writes anything.
    Write,
    /// The next flush to disk fails.
    Flush,
    /// The next write of a batch of commands fails after this many writes to sled
    /// (its journal's records, then its changes).
    WriteAfter(usize),
    /// The disk is full: every write of a batch, every flush and every attempt to
    /// recover fails, until `Store::clear_failure`.
    Full,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reason is short and one line, however long the error it comes from.
    #[test]
    fn reasons_are_short() {
        let h = Health::default();
        h.fail(format!("{}\nand more", "磁碟已滿".repeat(200)));
        let why = h.broken().expect("broken");
        assert!(why.len() <= MAX_REASON + 3, "{}", why.len());
        assert!(!why.contains('\n'));
    }

    /// Recovering clears the reason and starts a new epoch; the next failure has
    /// its own reason.
    #[test]
    fn a_recovery_starts_a_new_epoch() {
        let h = Health::default();
        h.fail("disk full");
        assert_eq!(h.epoch(), 0);
        h.recovered(1);
        assert_eq!(h.broken(), None);
        assert_eq!(h.epoch(), 1);
        h.fail("a disk error");
        assert_eq!(h.broken().as_deref(), Some("a disk error"));
    }

    #[test]
    fn the_first_failure_is_kept() {
        let h = Health::default();
        assert_eq!(h.broken(), None);
        h.fail("disk full");
        h.fail("not written, as an earlier write failed");
        assert_eq!(h.broken().as_deref(), Some("disk full"));
    }

    /// Counts the events at error level.
    struct Errors(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl tracing::Subscriber for Errors {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, e: &tracing::Event<'_>) {
            if *e.metadata().level() == tracing::Level::ERROR {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    /// The log says it once, at error level, when the store turns unhealthy; the
    /// refusals after it are not logged again.
    #[test]
    fn turning_unhealthy_is_logged_once_at_error_level() {
        let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        tracing::subscriber::with_default(Errors(n.clone()), || {
            let h = Health::default();
            h.fail("a flush to disk failed: No space left on device");
            h.fail("a write failed");
            h.fail("a write failed");
        });
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
