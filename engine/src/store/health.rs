//! The store's one health state. A failed write or flush leaves sled's memory and
//! its disk out of step (or half a batch written, its journal waiting to be
//! replayed), so from the first failure on every write is refused until the
//! database is opened again. Every part of the store that can fail that way
//! (the batch write, the write pipeline, the group flush) marks it here, so that
//! the server can say so in `/healthz` and `/metrics` instead of looking well.

use std::sync::OnceLock;

#[derive(Default)]
pub struct Health {
    /// Why the store stopped writing: the first failure. Set once, never cleared.
    broken: OnceLock<String>,
}

impl Health {
    /// Mark the store broken. Only the first failure is kept and logged: the ones
    /// after it are its consequences.
    pub fn fail(&self, why: impl Into<String>) {
        let why = why.into();
        if self.broken.set(why.clone()).is_ok() {
            tracing::error!(
                reason = %why,
                "the store refuses every write from now on; check the disk (free space, errors), then restart the server"
            );
        }
    }

    /// Why writes are refused, or None while the store is healthy.
    pub(super) fn broken(&self) -> Option<&str> {
        self.broken.get().map(String::as_str)
    }
}

/// Why a write is refused once the store is broken, and what to do.
pub fn refused(why: &str) -> super::StoreError {
    super::StoreError::Broken(why.to_string())
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failure_is_kept() {
        let h = Health::default();
        assert_eq!(h.broken(), None);
        h.fail("disk full");
        h.fail("not written, as an earlier write failed");
        assert_eq!(h.broken(), Some("disk full"));
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
