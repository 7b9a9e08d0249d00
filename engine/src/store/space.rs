//! Every kind of record lives in one sled tree, each kind under a one-byte tag of
//! its own (a "space"). sled makes a batch on one tree atomic without reading each
//! key first, which its multi-tree transactions do for every write; a command
//! writes about a dozen keys, so that read was a fifth of its cost.

use sled::IVec;
use std::ops::{Bound, RangeBounds};

/// One kind of record: keys under `tag` in the shared tree. Keys go in and come out
/// without the tag, so callers see a tree of their own.
#[derive(Clone)]
pub(crate) struct Space {
    tree: sled::Tree,
    tag: u8,
}

/// Key-value pairs as sled's iterators give them.
pub(crate) type Entry = sled::Result<(IVec, IVec)>;

impl Space {
    pub fn new(tree: sled::Tree, tag: u8) -> Space {
        Space { tree, tag }
    }

    /// The key as stored: the tag, then the key.
    pub fn key(&self, k: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(k.len() + 1);
        v.push(self.tag);
        v.extend_from_slice(k);
        v
    }

    pub fn get(&self, k: impl AsRef<[u8]>) -> sled::Result<Option<IVec>> {
        self.tree.get(self.key(k.as_ref()))
    }

    pub fn insert(&self, k: impl AsRef<[u8]>, v: impl Into<IVec>) -> sled::Result<Option<IVec>> {
        self.tree.insert(self.key(k.as_ref()), v)
    }

    pub fn remove(&self, k: impl AsRef<[u8]>) -> sled::Result<Option<IVec>> {
        self.tree.remove(self.key(k.as_ref()))
    }

    /// Add an insert to a batch on the shared tree (see `Trees::apply`).
    pub fn put(&self, b: &mut sled::Batch, k: impl AsRef<[u8]>, v: impl Into<IVec>) {
        b.insert(self.key(k.as_ref()), v.into());
    }

    /// Add a removal to a batch on the shared tree.
    pub fn del(&self, b: &mut sled::Batch, k: impl AsRef<[u8]>) {
        b.remove(self.key(k.as_ref()));
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
        self.tree
            .range::<Vec<u8>, _>((start, end))
            .map(|kv| self.strip(kv))
    }

    pub fn scan_prefix(&self, p: impl AsRef<[u8]>) -> impl DoubleEndedIterator<Item = Entry> + '_ {
        self.tree
            .scan_prefix(self.key(p.as_ref()))
            .map(|kv| self.strip(kv))
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Entry> + '_ {
        self.scan_prefix([])
    }

    pub fn first(&self) -> sled::Result<Option<(IVec, IVec)>> {
        self.iter().next().transpose()
    }

    pub fn last(&self) -> sled::Result<Option<(IVec, IVec)>> {
        self.iter().next_back().transpose()
    }

    /// Counts by walking the space, as sled's own `len` does for a tree.
    pub fn len(&self) -> usize {
        self.iter().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_do_not_see_each_other() {
        let db = sled::Config::new().temporary(true).open().expect("open");
        let tree = db.open_tree("t").expect("tree");
        let a = Space::new(tree.clone(), 1);
        let b = Space::new(tree, 2);
        a.insert([9u8], &[1u8]).expect("insert");
        a.insert([0xffu8, 0xff], &[2u8]).expect("insert");
        b.insert([0u8], &[3u8]).expect("insert");
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
            Space::new(db.open_tree("t").expect("tree"), 3)
                .first()
                .expect("first"),
            None
        );
    }

    #[test]
    fn a_batch_writes_keys_of_several_spaces_at_once() {
        let db = sled::Config::new().temporary(true).open().expect("open");
        let tree = db.open_tree("t").expect("tree");
        let a = Space::new(tree.clone(), 1);
        let b = Space::new(tree.clone(), 2);
        a.insert(b"gone", &[]).expect("insert");
        let mut batch = sled::Batch::default();
        a.put(&mut batch, b"x", &[1u8]);
        b.put(&mut batch, b"x", &[2u8]);
        a.del(&mut batch, b"gone");
        tree.apply_batch(batch).expect("apply");
        assert_eq!(a.get(b"x").expect("get").as_deref(), Some(&[1u8][..]));
        assert_eq!(b.get(b"x").expect("get").as_deref(), Some(&[2u8][..]));
        assert_eq!(a.get(b"gone").expect("get"), None);
    }
}
