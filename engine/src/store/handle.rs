//! The open sled database, as the store holds it: closed and opened again while the
//! process runs when the store recovers from a failed write (see `recover`), since
//! sled refuses every write after a failed one until it is opened again.

use arc_swap::ArcSwapOption;
use std::sync::Arc;

/// A sled handle (`sled::Db` or `sled::Tree`) shared by every part of the store that
/// uses it, replaced in one place when the database is opened again. Every read and
/// write of the store goes through it, so it is read without a lock or a reference
/// count shared between threads (`arc_swap`): a lock here cost the engine a tenth of
/// its throughput with many callers.
pub(crate) struct Handle<T>(Arc<ArcSwapOption<T>>);

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Handle(self.0.clone())
    }
}

impl<T: Clone> Handle<T> {
    pub fn new(t: T) -> Handle<T> {
        Handle(Arc::new(ArcSwapOption::from_pointee(t)))
    }

    /// A handle to nothing: the database is not sled's (see `pg`).
    pub fn empty() -> Handle<T> {
        Handle(Arc::new(ArcSwapOption::empty()))
    }

    /// `f` on the handle as it is now open; an error while the database is closed.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> sled::Result<R>) -> sled::Result<R> {
        match self.0.load().as_deref() {
            Some(t) => f(t),
            None => Err(closed()),
        }
    }

    /// The handle as it is now open; an error while the database is closed (between
    /// a failed recovery and the next one). The clone is one reference count: an
    /// operation runs on it without holding the lock.
    pub fn get(&self) -> sled::Result<T> {
        self.with(|t| Ok(t.clone()))
    }

    /// Let go of the handle, so that the database can close.
    pub fn close(&self) {
        drop(self.0.swap(None));
    }

    pub fn set(&self, t: T) {
        self.0.store(Some(Arc::new(t)));
    }
}

fn closed() -> sled::Error {
    sled::Error::Io(std::io::Error::other(
        "the database is closed, to be opened again",
    ))
}
