//! Every kind of record lives in one sled tree, each kind under a one-byte tag of
//! its own (a "space"; the kinds and their tags are in `kind`). sled makes a batch
//! on one tree atomic without reading each key first, which its multi-tree
//! transactions do for every write; a command writes about a dozen keys, so that
//! read was a fifth of its cost.
//!
//! Every write takes a `Writer`: proof that the caller holds the store's write
//! rule (see `Trees::writing`). A write without one does not compile.

use super::handle::Handle;
use super::kind::Kind;
use super::pg::{Pg, PgScan};
use super::StoreError;
use sled::IVec;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;
use std::sync::{RwLockReadGuard, RwLockWriteGuard};

/// The right to write now, held for as long as the writer lives. Made only by
/// `Trees`: `outside_batch` (shared with other such writers, never during a batch's
/// write) and the batch writer or an opening of the database (alone).
pub(crate) struct Writer<'a> {
    _held: Held<'a>,
}

enum Held<'a> {
    /// Shared with other writers outside a batch: only kinds commands never read.
    Outside(#[allow(dead_code)] RwLockReadGuard<'a, ()>),
    /// Alone: a batch being written, a migration at open.
    Alone(#[allow(dead_code)] RwLockWriteGuard<'a, ()>),
    /// The group flush's mark (see `ack`), and nothing else: see `Writer::mark`.
    Mark,
}

impl<'a> Writer<'a> {
    pub(super) fn outside(g: RwLockReadGuard<'a, ()>) -> Writer<'a> {
        Writer {
            _held: Held::Outside(g),
        }
    }

    pub(super) fn alone(g: RwLockWriteGuard<'a, ()>) -> Writer<'a> {
        Writer {
            _held: Held::Alone(g),
        }
    }

    /// The right to write the group flush's mark into `meta`, without waiting for
    /// the write rule. The mark's key is written by the flush alone, never by a
    /// batch nor through the journal, so no replay can undo it; and with `fsync` a
    /// batch being written, which holds the rule alone, waits for a flush before it
    /// removes its journal (see `journal`): a flush that waited for the rule would
    /// wait for itself.
    pub(super) fn mark() -> Writer<'static> {
        Writer { _held: Held::Mark }
    }

    /// May this writer write `kind`? Writers alone may write anything; those outside
    /// a batch only what commands never read (see `kind::ByCommands`); the flush's
    /// mark only `meta`.
    fn may_write(&self, kind: Option<Kind>) -> Result<(), StoreError> {
        match (&self._held, kind) {
            (Held::Alone(_), _) => Ok(()),
            (Held::Outside(_), Some(k)) if k.outside_writable() => Ok(()),
            (Held::Mark, Some(Kind::Meta)) => Ok(()),
            (_, k) => Err(StoreError::Storage(format!(
                "a write to {k:?} outside a batch of commands, which read it"
            ))),
        }
    }
}

/// The one tree every space lives in: sled's, or PostgreSQL's table of records
/// (see `pg`). Reads are free; writes take a `Writer`. Every space holds the same
/// handle, replaced in one place when the store opens its database again (see
/// `recover`).
#[derive(Clone)]
pub(crate) struct Shared(Backing);

#[derive(Clone)]
enum Backing {
    Sled(Handle<sled::Tree>),
    Pg(Arc<Pg>),
}

impl Shared {
    pub fn new(tree: sled::Tree) -> Shared {
        Shared(Backing::Sled(Handle::new(tree)))
    }

    pub fn postgres(pg: Arc<Pg>) -> Shared {
        Shared(Backing::Pg(pg))
    }

    /// Let go of the tree, so that the database can close (see `recover`).
    pub fn close(&self) {
        if let Backing::Sled(h) = &self.0 {
            h.close()
        }
    }

    /// The tree of the database opened again.
    pub fn set(&self, tree: sled::Tree) {
        if let Backing::Sled(h) = &self.0 {
            h.set(tree)
        }
    }

    pub fn get(&self, k: impl AsRef<[u8]>) -> Result<Option<IVec>, StoreError> {
        match &self.0 {
            Backing::Sled(h) => Ok(h.with(|t| t.get(k))?),
            Backing::Pg(pg) => Ok(pg.get(k.as_ref().to_vec())?.map(IVec::from)),
        }
    }

    /// Write a stored key (its space's tag first). Only the journal writes so: it
    /// carries changes of every space.
    pub fn insert(
        &self,
        _w: &Writer<'_>,
        k: impl AsRef<[u8]>,
        v: impl Into<IVec>,
    ) -> Result<Option<IVec>, StoreError> {
        match &self.0 {
            Backing::Sled(h) => Ok(h.with(|t| t.insert(k.as_ref(), v))?),
            Backing::Pg(pg) => {
                let k = k.as_ref().to_vec();
                let old = pg.get(k.clone())?.map(IVec::from);
                pg.write(&[(k, Some(v.into().to_vec()))])?;
                Ok(old)
            }
        }
    }

    pub fn remove(&self, _w: &Writer<'_>, k: impl AsRef<[u8]>) -> Result<Option<IVec>, StoreError> {
        match &self.0 {
            Backing::Sled(h) => Ok(h.with(|t| t.remove(k.as_ref()))?),
            Backing::Pg(pg) => {
                let k = k.as_ref().to_vec();
                let old = pg.get(k.clone())?.map(IVec::from);
                pg.write(&[(k, None)])?;
                Ok(old)
            }
        }
    }

    pub fn flush(&self) -> Result<usize, StoreError> {
        match &self.0 {
            Backing::Sled(h) => Ok(h.with(|t| t.flush())?),
            // A transaction is durable once it commits.
            Backing::Pg(_) => Ok(0),
        }
    }

    /// The PostgreSQL database, if the tree is its.
    pub fn pg(&self) -> Option<&Arc<Pg>> {
        match &self.0 {
            Backing::Pg(pg) => Some(pg),
            Backing::Sled(_) => None,
        }
    }

    /// Remove every key: tests that lay a database out as an older layout had it.
    #[cfg(test)]
    pub fn clear(&self, _w: &Writer<'_>) -> sled::Result<()> {
        match &self.0 {
            Backing::Sled(h) => h.with(|t| t.clear()),
            Backing::Pg(_) => Ok(()),
        }
    }
}

/// A scan of the tree, or the one error of a closed database. Not boxed: the small
/// variant is rare, and a box would cost an allocation per scan.
#[allow(clippy::large_enum_variant)]
enum Scan {
    Open(sled::Iter),
    Pg(PgScan),
    Closed(Option<StoreError>),
}

impl Scan {
    fn of(tree: &Shared, lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) -> Scan {
        match &tree.0 {
            Backing::Sled(h) => match h.with(|t| Ok(t.range::<Vec<u8>, _>((lo, hi)))) {
                Ok(i) => Scan::Open(i),
                Err(e) => Scan::Closed(Some(e.into())),
            },
            Backing::Pg(pg) => Scan::Pg(PgScan::new(pg.clone(), lo, hi)),
        }
    }
}

fn row(r: Result<(Vec<u8>, Vec<u8>), StoreError>) -> Entry {
    r.map(|(k, v)| (IVec::from(k), IVec::from(v)))
}

impl Iterator for Scan {
    type Item = Entry;
    fn next(&mut self) -> Option<Entry> {
        match self {
            Scan::Open(i) => i.next().map(|e| e.map_err(StoreError::from)),
            Scan::Pg(p) => p.next_front().map(row),
            Scan::Closed(e) => e.take().map(Err),
        }
    }
}

impl DoubleEndedIterator for Scan {
    fn next_back(&mut self) -> Option<Entry> {
        match self {
            Scan::Open(i) => i.next_back().map(|e| e.map_err(StoreError::from)),
            Scan::Pg(p) => p.next_back().map(row),
            Scan::Closed(e) => e.take().map(Err),
        }
    }
}

/// A batch of writes outside the batches of commands, written all or nothing by
/// `Trees::apply` (through the journal: sled's own `apply_batch` would put every
/// later write of the process under a global lock).
#[derive(Default)]
pub(crate) struct WriteBatch {
    pub(super) changes: Vec<(Option<Kind>, Vec<u8>, Option<IVec>)>,
}

/// One kind of record: keys under `tag` in the shared tree. Keys go in and come out
/// without the tag, so callers see a tree of their own.
#[derive(Clone)]
pub(crate) struct Space {
    tree: Shared,
    tag: u8,
    /// `None` for the journal, which only writers alone write.
    kind: Option<Kind>,
}

/// Key-value pairs as sled's iterators give them.
pub(crate) type Entry = Result<(IVec, IVec), StoreError>;

impl Space {
    pub fn new(tree: Shared, kind: Kind) -> Space {
        Space {
            tree,
            tag: kind.tag(),
            kind: Some(kind),
        }
    }

    /// The journal's space (see `kind::JOURNAL_TAG`).
    pub fn journal(tree: Shared) -> Space {
        Space {
            tree,
            tag: super::kind::JOURNAL_TAG,
            kind: None,
        }
    }

    /// The key as stored: the tag, then the key.
    pub fn key(&self, k: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(k.len() + 1);
        v.push(self.tag);
        v.extend_from_slice(k);
        v
    }

    pub fn get(&self, k: impl AsRef<[u8]>) -> Result<Option<IVec>, StoreError> {
        self.tree.get(self.key(k.as_ref()))
    }

    pub fn insert(
        &self,
        w: &Writer<'_>,
        k: impl AsRef<[u8]>,
        v: impl Into<IVec>,
    ) -> Result<Option<IVec>, StoreError> {
        w.may_write(self.kind)?;
        self.tree.insert(w, self.key(k.as_ref()), v)
    }

    pub fn remove(&self, w: &Writer<'_>, k: impl AsRef<[u8]>) -> Result<Option<IVec>, StoreError> {
        w.may_write(self.kind)?;
        self.tree.remove(w, self.key(k.as_ref()))
    }

    /// Add an insert to a batch written later by `Trees::apply`.
    pub fn put(&self, b: &mut WriteBatch, k: impl AsRef<[u8]>, v: impl Into<IVec>) {
        b.changes
            .push((self.kind, self.key(k.as_ref()), Some(v.into())));
    }

    /// Add a removal to such a batch.
    pub fn del(&self, b: &mut WriteBatch, k: impl AsRef<[u8]>) {
        b.changes.push((self.kind, self.key(k.as_ref()), None));
    }

    fn strip(&self, kv: Entry) -> Entry {
        kv.map(|(k, v)| (IVec::from(&k[1..]), v))
    }

    pub fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(
        &self,
        r: R,
    ) -> impl DoubleEndedIterator<Item = Entry> + '_ {
        let start = match r.start_bound() {
            Bound::Included(k) => Bound::Included(self.key(k.as_ref())),
            Bound::Excluded(k) => Bound::Excluded(self.key(k.as_ref())),
            Bound::Unbounded => Bound::Included(vec![self.tag]),
        };
        let end = match r.end_bound() {
            Bound::Included(k) => Bound::Included(self.key(k.as_ref())),
            Bound::Excluded(k) => Bound::Excluded(self.key(k.as_ref())),
            // Tags stop below 0xff, so the next tag always exists.
            Bound::Unbounded => Bound::Excluded(vec![self.tag + 1]),
        };
        Scan::of(&self.tree, start, end).map(|kv| self.strip(kv))
    }

    pub fn scan_prefix(&self, p: impl AsRef<[u8]>) -> impl DoubleEndedIterator<Item = Entry> + '_ {
        let prefix = self.key(p.as_ref());
        let end = match after_prefix(&prefix) {
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        Scan::of(&self.tree, Bound::Included(prefix), end).map(|kv| self.strip(kv))
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Entry> + '_ {
        self.scan_prefix([])
    }

    pub fn first(&self) -> Result<Option<(IVec, IVec)>, StoreError> {
        self.iter().next().transpose()
    }

    pub fn last(&self) -> Result<Option<(IVec, IVec)>, StoreError> {
        self.iter().next_back().transpose()
    }

    /// Counts by walking the space, as sled's own `len` does for a tree.
    pub fn len(&self) -> usize {
        self.iter().count()
    }
}

/// The first key after every key that starts with `prefix`, if there is one.
fn after_prefix(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::RwLock;

    fn shared(db: &sled::Db) -> Shared {
        Shared::new(db.open_tree("t").expect("tree"))
    }

    #[test]
    fn spaces_do_not_see_each_other() {
        let db = sled::Config::new().temporary(true).open().expect("open");
        let lock = RwLock::new(());
        let w = Writer::alone(lock.write().expect("lock"));
        let a = Space::new(shared(&db), Kind::Meta);
        let b = Space::new(shared(&db), Kind::Definitions);
        a.insert(&w, [9u8], &[1u8]).expect("insert");
        a.insert(&w, [0xffu8, 0xff], &[2u8]).expect("insert");
        b.insert(&w, [0u8], &[3u8]).expect("insert");
        assert_eq!(a.len(), 2);
        assert_eq!(b.len(), 1);
        assert_eq!(a.get([0u8]).expect("get"), None);
        assert_eq!(b.get([0u8]).expect("get").as_deref(), Some(&[3u8][..]));
        let keys: Vec<Vec<u8>> = a.iter().map(|kv| kv.expect("entry").0.to_vec()).collect();
        assert_eq!(keys, vec![vec![9u8], vec![0xff, 0xff]]);
        assert_eq!(
            a.last().expect("last").map(|kv| kv.0.to_vec()),
            Some(vec![0xff, 0xff])
        );
        assert_eq!(
            b.first().expect("first").map(|kv| kv.0.to_vec()),
            Some(vec![0u8])
        );
        let below: Vec<_> = a.range(..vec![10u8]).collect();
        assert_eq!(below.len(), 1);
        let from: Vec<_> = a.range(vec![10u8]..).collect();
        assert_eq!(from.len(), 1);
        assert_eq!(
            Space::new(shared(&db), Kind::Instances)
                .first()
                .expect("first"),
            None
        );
    }

    /// Outside a batch, only kinds that commands never read can be written.
    #[test]
    fn a_writer_outside_a_batch_cannot_write_what_commands_read() {
        let db = sled::Config::new().temporary(true).open().expect("open");
        let lock = RwLock::new(());
        let w = Writer::outside(lock.read().expect("lock"));
        for kind in Kind::ALL {
            let res = Space::new(shared(&db), kind).insert(&w, b"k", &b"v"[..]);
            assert_eq!(res.is_ok(), kind.outside_writable(), "{kind:?}");
        }
        assert!(Space::journal(shared(&db))
            .insert(&w, b"k", &b"v"[..])
            .is_err());
        assert!(Space::new(shared(&db), Kind::Instances)
            .get(b"k")
            .expect("get")
            .is_none());
    }
}
