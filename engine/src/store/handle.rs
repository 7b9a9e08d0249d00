//! The open sled database, as the store holds it: closed and opened again while the
//! process runs when the store recovers from a failed write (see `recover`), since
//! sled refuses every write after a failed one until it is opened again.

use std::sync::{Arc, RwLock};

/// A sled handle (`sled::Db` or `sled::Tree`) shared by every part of the store that
/// uses it, replaced in one place when the database is opened again.
pub(crate) struct Handle<T>(Arc<RwLock<Option<T>>>);

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Handle(self.0.clone())
    }
}

impl<T: Clone> Handle<T> {
    pub fn new(t: T) -> Handle<T> {
        Handle(Arc::new(RwLock::new(Some(t))))
    }

    /// The handle as it is now open; an error while the database is closed (between
    /// a failed recovery and the next one). The clone is one reference count: an
    /// operation runs on it without holding the lock.
    pub fn get(&self) -> sled::Result<T> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| {
                sled::Error::Io(std::io::Error::other(
                    "the database is closed, to be opened again",
                ))
            })
    }

    /// Let go of the handle, so that the database can close.
    pub fn close(&self) {
        let old = self.0.write().unwrap_or_else(|e| e.into_inner()).take();
        drop(old);
    }

    pub fn set(&self, t: T) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(t);
    }
}
