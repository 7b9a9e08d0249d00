//! What `Options::fsync` syncs after each flush, beyond sled's own flush, which
//! writes its log with `sync_file_range` (neither the file's metadata nor the
//! disk's write cache): the data file, and the blob files sled wrote since.
//!
//! sled 0.34 keeps a log entry larger than its blob threshold (a quarter of its
//! 512 KiB segment, less headers: 131,020 bytes), be it one value or a node of its
//! tree (up to about 17 keys with their values), in a file of its own under `blobs/`,
//! written with a plain `write` and never synced; its log only names the file. So
//! an instance of some 8 KiB, with its neighbours, is enough. After sled's flush,
//! every file its log names is there (sled writes a blob before the entry that names
//! it), so syncing the files found then, and the folder that names them, makes
//! everything a flush covered durable.
//!
//! What this cannot close, short of changing sled: sled also writes its log by
//! itself (a full buffer, its own timer), so a log naming a blob file can be on
//! disk a moment before the file is synced, until the next flush. A power cut in
//! that moment can lose the file: a batch not yet acknowledged is then written
//! again from its journal (see `journal`), but a node of sled's tree rewritten in
//! that moment may take older records beside it with it.

use super::Store;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub(super) struct Fsync {
    /// sled's data file, kept open; opened again with the database (see `recover`).
    data: Mutex<File>,
    /// The database's folder.
    path: PathBuf,
    blobs: PathBuf,
    /// The blob files synced, with the length they had then: a file listed while
    /// sled was still writing it has grown since, and is synced again.
    synced: Mutex<HashMap<OsString, u64>>,
}

impl Fsync {
    pub fn open(db: &Path) -> io::Result<Fsync> {
        Ok(Fsync {
            data: Mutex::new(File::open(db.join("db"))?),
            path: db.to_path_buf(),
            blobs: db.join("blobs"),
            synced: Mutex::default(),
        })
    }

    /// Call after sled's flush: sync the blob files not yet synced, the folder
    /// naming them, and the data file.
    pub fn sync(&self) -> io::Result<()> {
        let mut synced = self.synced.lock().unwrap_or_else(|e| e.into_inner());
        let mut now = HashMap::new();
        let mut fresh = false;
        for entry in std::fs::read_dir(&self.blobs)? {
            let name = entry?.file_name();
            let file = match File::open(self.blobs.join(&name)) {
                Ok(f) => f,
                // sled removed it meanwhile: nothing to keep.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let len = file.metadata()?.len();
            if synced.get(&name) != Some(&len) {
                file.sync_data()?;
                fresh = true;
            }
            now.insert(name, len);
        }
        if fresh {
            super::ack::sync_dir(&self.blobs)?;
        }
        *synced = now;
        drop(synced);
        self.data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sync_data()
    }

    /// sled opened the database again: open its data file again, and forget which
    /// blob files were synced, as sled may give a lost file's name to a new one.
    pub fn reopened(&self) -> io::Result<()> {
        let data = File::open(self.path.join("db"))?;
        *self.data.lock().unwrap_or_else(|e| e.into_inner()) = data;
        self.synced
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(())
    }

    /// Blob files not synced as they are now (for tests).
    pub fn unsynced(&self) -> io::Result<usize> {
        let synced = self.synced.lock().unwrap_or_else(|e| e.into_inner());
        let mut n = 0;
        for entry in std::fs::read_dir(&self.blobs)? {
            let entry = entry?;
            let len = entry.metadata()?.len();
            n += usize::from(synced.get(&entry.file_name()) != Some(&len));
        }
        Ok(n)
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
        let mark = self.acks.mark(&self.t)?;
        self.db
            .get()
            .and_then(|db| db.flush())
            .map_err(|e| e.to_string())?;
        if let Some(f) = &self.fsync {
            f.sync().map_err(|e| e.to_string())?;
        }
        self.acks.record(mark)
    }

    /// With `fsync`, how many of sled's blob files are not synced as they are now:
    /// none right after a flush (for tests).
    #[doc(hidden)]
    pub fn unsynced_blob_files(&self) -> Option<usize> {
        self.fsync.as_ref().and_then(|f| f.unsynced().ok())
    }
}
