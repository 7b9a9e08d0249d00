//! What `Options::fsync` syncs after each flush, beyond sled's own flush, which
//! writes its log with `sync_file_range` (neither the file's metadata nor the
//! disk's write cache): the data file, with `fdatasync`.
//!
//! sled 0.34 keeps a log entry larger than its blob threshold (a quarter of its
//! 512 KiB segment, less headers: 131,020 bytes), be it one value or a node of its
//! tree (up to about 17 keys with their values), in a file of its own under
//! `blobs/`, and only names the file in its log, which it also writes by itself
//! between flushes. The copy of sled this workspace builds (`vendor/sled`) syncs each
//! such file and the folder naming it when it writes the file, before the entry
//! naming it is in the log's buffer: whenever a log naming a blob file is on disk,
//! so is the file. Nothing is left for this module to do about them.

use super::Store;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub(super) struct Fsync {
    /// sled's data file, kept open; opened again with the database (see `recover`).
    data: Mutex<File>,
    /// The database's folder.
    path: PathBuf,
}

impl Fsync {
    pub fn open(db: &Path) -> io::Result<Fsync> {
        Ok(Fsync {
            data: Mutex::new(File::open(db.join("db"))?),
            path: db.to_path_buf(),
        })
    }

    /// Call after sled's flush: sync the data file.
    pub fn sync(&self) -> io::Result<()> {
        self.data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sync_data()
    }

    /// sled opened the database again: open its data file again.
    pub fn reopened(&self) -> io::Result<()> {
        let data = File::open(self.path.join("db"))?;
        *self.data.lock().unwrap_or_else(|e| e.into_inner()) = data;
        Ok(())
    }
}

impl Store {
    /// One flush to disk, as the group commit runs it: the mark of what it
    /// acknowledges (see `ack`), sled's flush, then what `fsync` asks for, then the
    /// record of the mark.
    pub(super) fn flush_to_disk(&self) -> Result<(), String> {
        if self.t.take_fault(super::Fault::Flush) {
            return Err("an injected flush failure".into());
        }
        let Some(acks) = &self.acks else {
            return Ok(());
        };
        let mark = acks.mark(&self.t)?;
        self.db
            .get()
            .and_then(|db| db.flush())
            .map_err(|e| e.to_string())?;
        if let Some(f) = &self.fsync {
            f.sync().map_err(|e| e.to_string())?;
        }
        acks.record(mark)
    }
}
