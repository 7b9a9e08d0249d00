//! Older layouts are moved to this release's when a database is opened: layout 2
//! (one sled tree per kind of record) into the spaces of one tree (layout 3), and
//! layout 3's values into their versioned envelopes (layout 4, see `records`).

use super::records::{self, Kind};
use super::{deploy, encode, keys, StoreError, Trees, SPACES};
use crate::core::{Incident, Instance, Record, Task};
use crate::staff::Directory;
use crate::tokens::TokenRecord;
use sled::Transactional;
use std::ops::Bound;
use std::path::Path;

/// Layout versions, as `schema_version` holds them.
const LAYOUT_3: u32 = 3;
const LAYOUT_4: u32 = 4;

/// Move a database of layout version 2 (a tree per kind of record) into the spaces
/// of one tree. The copy is finished when the new schema version is written; until
/// then a crash leaves the old trees whole, and the next open copies again.
pub(super) fn migrate(db: &sled::Db, t: &Trees, path: &Path) -> Result<(), StoreError> {
    let names = db.tree_names();
    let has = |name: &str| names.iter().any(|n| n.as_ref() == name.as_bytes());
    if !has("meta") {
        return Ok(());
    }
    if t.meta.get("schema_version")?.is_none() {
        let old_meta = db.open_tree("meta")?;
        let found = old_meta.get("schema_version")?.map_or(0, |v| {
            u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4]))
        });
        if found != 2 {
            return Err(StoreError::Schema {
                path: path.display().to_string(),
                found,
            });
        }
        for ((name, _), space) in SPACES.iter().zip(t.all()) {
            if !has(name) || ["tasks", "tasks_by_state"].contains(name) {
                continue;
            }
            let mut b = sled::Batch::default();
            let mut n = 0;
            for kv in db.open_tree(name)?.iter() {
                let (k, v) = kv?;
                space.put(&mut b, k, v);
                n += 1;
                if n % 10_000 == 0 {
                    t.apply(std::mem::take(&mut b))?;
                }
            }
            t.apply(b)?;
        }
        if has("tasks") {
            rebuild_task_spaces(t, &db.open_tree("tasks")?)?;
        }
        // Layout 3 exactly as the release that introduced it wrote it; the move to
        // layout 4 follows when the database opens.
        t.meta.insert("schema_version", &LAYOUT_3.to_be_bytes())?;
        db.flush()?;
    }
    for (name, _) in SPACES {
        db.drop_tree(name)?;
    }
    db.drop_tree("tasks_by_due")?;
    db.flush()?;
    Ok(())
}

/// The finished and active task entries of layout version 3, from version 2's
/// task tree (tasks that had left their instance) and the tasks in the instances.
fn rebuild_task_spaces(t: &Trees, old_tasks: &sled::Tree) -> Result<(), StoreError> {
    let mut b = sled::Batch::default();
    let mut n = 0;
    let mut put = |b: &mut sled::Batch, task: &crate::core::Task| -> Result<(), StoreError> {
        if task.state.is_active() {
            t.active
                .put(b, keys::active_task(task.state, task.due, task.id), &[]);
        } else {
            t.tasks.put(
                b,
                keys::state_task(task.state, task.id),
                records::task_in_layout_3(task),
            );
        }
        n += 1;
        if n % 10_000 == 0 {
            t.apply(std::mem::take(b))?;
        }
        Ok(())
    };
    let corrupt = |e: String| StoreError::Storage(format!("corrupt record: {e}"));
    for kv in old_tasks.iter() {
        let (_, v) = kv?;
        put(&mut b, &records::read_layout_3(&v).map_err(corrupt)?)?;
    }
    for kv in t.instances.iter() {
        let (_, v) = kv?;
        let inst: Instance = records::read_layout_3(&v).map_err(corrupt)?;
        for task in &inst.tasks {
            put(&mut b, task)?;
        }
    }
    t.apply(b)
}

/// Where a move to layout 4 has come to, in `meta`: the position in `SPACES` of the
/// space being moved, then the last key moved in it. Present from the moment the
/// tokens are moved until the move is finished.
const PROGRESS: &[u8] = b"moving to layout 4";

/// Values moved per write.
const CHUNK: usize = 10_000;

/// Move a database of layout 3 to layout 4: every value in its envelope, and
/// definitions without their compiled model.
///
/// A crash part-way must neither leave a value unmoved nor move one twice (a value
/// of layout 3 can look like one in an envelope, so they cannot be told apart by
/// their bytes). Each write of moved values also writes how far the move has come
/// (`PROGRESS`), all or nothing in one sled batch, and the next open goes on from
/// there; the tokens, in a tree of their own, move in one transaction with the
/// first progress mark. Nothing is held in memory beyond one write's worth, however
/// large the database.
pub(super) fn to_layout_4(db: &sled::Db, t: &Trees, path: &Path) -> Result<(), StoreError> {
    let mut writes = usize::MAX;
    move_to_layout_4(db, t, path, CHUNK, &mut writes)
}

/// `to_layout_4`, `chunk` values per write, stopping as a crash would once `writes`
/// writes are spent (tests stop it at every point; `to_layout_4` never does).
fn move_to_layout_4(
    db: &sled::Db,
    t: &Trees,
    path: &Path,
    chunk: usize,
    writes: &mut usize,
) -> Result<(), StoreError> {
    let version = t
        .meta
        .get("schema_version")?
        .map(|v| u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4])));
    if version != Some(LAYOUT_3) {
        return Ok(());
    }
    // Each write to sled spends one of `writes`; where none is left, the crash comes.
    let mut spend = || match writes.checked_sub(1) {
        Some(n) => {
            *writes = n;
            true
        }
        None => false,
    };
    let progress = match t.meta.get(PROGRESS)? {
        Some(p) => p.to_vec(),
        None => {
            latest_definitions_compile(t)?;
            tracing::info!(path = %path.display(), "moving the database to layout version 4");
            if !spend() {
                return Ok(());
            }
            move_tokens(db, t)?;
            vec![0]
        }
    };
    let (&from, after) = progress
        .split_first()
        .ok_or_else(|| StoreError::Storage("the progress of a move to layout 4 is empty".into()))?;
    for (i, ((name, _), space)) in SPACES.iter().zip(t.all()).enumerate() {
        if i < from as usize {
            continue;
        }
        let start = match i == from as usize {
            true => Bound::Excluded(after.to_vec()),
            false => Bound::Unbounded,
        };
        let mut b = sled::Batch::default();
        let mut n = 0;
        for kv in space.range((start, Bound::Unbounded)) {
            let (k, v) = kv?;
            let Some(kind) = kind_of(name, &k) else {
                continue;
            };
            let moved = layout_4_value(kind, &v).map_err(|e| {
                StoreError::Storage(format!(
                    "cannot move to layout 4 the value of {name} key {k:?}: {e}"
                ))
            })?;
            space.put(&mut b, &k, moved);
            n += 1;
            if n % chunk == 0 {
                let mut at = vec![i as u8];
                at.extend_from_slice(&k);
                t.meta.put(&mut b, PROGRESS, at);
                if !spend() {
                    return Ok(());
                }
                t.apply(std::mem::take(&mut b))?;
            }
        }
        // The next space, from its beginning (an empty key is never written).
        t.meta.put(&mut b, PROGRESS, vec![i as u8 + 1]);
        if !spend() {
            return Ok(());
        }
        t.apply(b)?;
    }
    let mut b = sled::Batch::default();
    t.meta
        .put(&mut b, "schema_version", &LAYOUT_4.to_be_bytes());
    t.meta.del(&mut b, PROGRESS);
    if !spend() {
        return Ok(());
    }
    t.apply(b)?;
    db.flush()?;
    Ok(())
}

/// The kind of record a value of layout 3 is, from its space and key; `None` for
/// one that stays as it is (raw numbers, empty index values: see `records`).
fn kind_of(space: &str, key: &[u8]) -> Option<Kind> {
    Some(match space {
        "meta" if key == b"directory" => Kind::Directory,
        "definitions" => Kind::Definition,
        "instances" => Kind::Instance,
        "events" => Kind::History,
        "tasks" | "tasks_by_person" | "tasks_by_role" => Kind::Task,
        "outbox" => Kind::Message,
        // An answer's key is UTF-8; its fingerprint's ends in 0xFF and stays raw.
        "idempotency" if key.last() != Some(&0xff) => Kind::Answer,
        "delivery_retries" => Kind::Retry,
        "incidents" => Kind::Incident,
        _ => return None,
    })
}

/// A value of layout 3 as layout 4 holds it.
fn layout_4_value(kind: Kind, v: &[u8]) -> Result<Vec<u8>, String> {
    use records::envelop_layout_3 as envelop;
    match kind {
        Kind::Instance => envelop::<Instance>(v),
        Kind::Task => envelop::<Task>(v),
        Kind::History => envelop::<Vec<Record>>(v),
        Kind::Incident => envelop::<Incident>(v),
        Kind::Answer => envelop::<super::Outcome>(v),
        Kind::Message => envelop::<super::OutboxRecord>(v),
        Kind::Retry => envelop::<super::Attempt>(v),
        Kind::Directory => envelop::<Directory>(v),
        Kind::Definition => Ok(encode(&records::definition_in_layout_3(v)?)),
        Kind::Token => envelop::<TokenRecord>(v),
    }
}

/// The newest version of each process, the ones opening the database compiles,
/// must compile with this release before anything is moved: a database this
/// release could not open is left in the layout its own release reads, where a
/// corrected version can be deployed.
fn latest_definitions_compile(t: &Trees) -> Result<(), StoreError> {
    for kv in t.meta.scan_prefix(b"latest\0") {
        let (k, v) = kv?;
        let name = String::from_utf8_lossy(&k[7..]).into_owned();
        let version = u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4]));
        let Some(raw) = t.defs.get(keys::definition(&name, version))? else {
            continue;
        };
        let d = records::definition_in_layout_3(&raw).map_err(|e| {
            StoreError::Storage(format!(
                "corrupt record: definition `{name}` version {version}: {e}"
            ))
        })?;
        deploy::compile(&d)?;
    }
    Ok(())
}

/// The API's tokens into their envelopes, in one transaction with the first mark
/// of the move's progress (see `to_layout_4`).
fn move_tokens(db: &sled::Db, t: &Trees) -> Result<(), StoreError> {
    let has_tokens = db
        .tree_names()
        .iter()
        .any(|n| n.as_ref() == crate::tokens::TREE.as_bytes());
    let tokens = if has_tokens {
        Some(db.open_tree(crate::tokens::TREE)?)
    } else {
        None
    };
    let mut moved = Vec::new();
    // `h` + hash -> a token's record; `p` + person + 0 + hash -> nothing.
    for kv in tokens.iter().flat_map(|tree| tree.scan_prefix(b"h")) {
        let (k, v) = kv?;
        let v = layout_4_value(Kind::Token, &v)
            .map_err(|e| StoreError::Storage(format!("cannot move a token to layout 4: {e}")))?;
        moved.push((k, v));
    }
    let mark = t.meta.key(PROGRESS);
    let first: &[u8] = &[0];
    let res = match &tokens {
        Some(tokens) => (t.shared(), tokens).transaction(|(records, tokens)| {
            for (k, v) in &moved {
                tokens.insert(k, v.as_slice())?;
            }
            records.insert(mark.as_slice(), first)?;
            Ok(())
        }),
        None => t.shared().transaction(|records| {
            records.insert(mark.as_slice(), first)?;
            Ok(())
        }),
    };
    res.map_err(|e: sled::transaction::TransactionError<()>| {
        StoreError::Storage(format!("cannot move the tokens to layout 4: {e:?}"))
    })
}

/// A value of layout 4 as layout 3 held it: for tests that write older databases
/// from records of this release. Holds only while each kind but definitions is in
/// its version 1, the payload layout 3 wrote.
#[cfg(test)]
pub(super) fn layout_3_value(space: &str, key: &[u8], v: &[u8]) -> Vec<u8> {
    match kind_of(space, key) {
        None => v.to_vec(),
        Some(Kind::Definition) => {
            let d: deploy::Deployment = super::decode(v).expect("a definition");
            let model = deploy::compile(&d).expect("it compiles");
            // What layout 3 wrote: the source's record, then the model; its time
            // in chrono's own text.
            postcard::to_allocvec(&(d.name, d.version, d.source, d.deployed_at, model))
                .expect("serialize")
        }
        Some(_) => {
            assert_eq!(v[1], 1, "version 1 is layout 3's payload");
            v[2..].to_vec()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    type Dump = BTreeMap<(String, Vec<u8>), Vec<u8>>;

    /// Everything in the database: the shared tree and the tokens.
    fn dump(db: &sled::Db) -> Dump {
        let mut out = Dump::new();
        for name in ["records", crate::tokens::TREE] {
            for kv in db.open_tree(name).expect("tree").iter() {
                let (k, v) = kv.expect("entry");
                out.insert((name.to_string(), k.to_vec()), v.to_vec());
            }
        }
        out
    }

    /// The layout-3 fixture (see `tests/fixture_layout.rs`), copied.
    fn fixture() -> tempfile::TempDir {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layout-3");
        let dir = tempfile::tempdir().expect("tmp");
        for e in std::fs::read_dir(&from).expect("fixture") {
            let e = e.expect("entry");
            std::fs::copy(e.path(), dir.path().join(e.file_name())).expect("copy");
        }
        dir
    }

    /// The move, stopped after `writes` writes (as a crash would stop it), then
    /// run again to its end: a dump of the database.
    fn moved(writes: usize) -> (Dump, bool) {
        let dir = fixture();
        let opts = super::super::Options::default();
        let stopped = {
            let db = super::super::open_db(dir.path(), &opts).expect("db");
            let t = Trees::new(db.open_tree("records").expect("tree"));
            let mut left = writes;
            move_to_layout_4(&db, &t, dir.path(), 5, &mut left).expect("move");
            db.flush().expect("flush");
            left == 0
        };
        let db = super::super::open_db(dir.path(), &opts).expect("db");
        let t = Trees::new(db.open_tree("records").expect("tree"));
        to_layout_4(&db, &t, dir.path()).expect("move");
        (dump(&db), stopped)
    }

    /// However far a move got before a crash, the next open finishes it with every
    /// value in its envelope exactly once: the same database as a move never stopped.
    #[test]
    fn a_move_to_layout_4_stopped_anywhere_ends_the_same() {
        let (whole, _) = moved(usize::MAX);
        let layout_4 = u32::to_be_bytes(LAYOUT_4);
        let meta = |k: &[u8]| ("records".to_string(), [&[1u8][..], k].concat());
        assert_eq!(
            whole.get(&meta(b"schema_version")),
            Some(&layout_4.to_vec())
        );
        assert!(!whole.contains_key(&meta(PROGRESS)));
        let mut writes = 0;
        loop {
            let (dump, stopped) = moved(writes);
            assert!(dump == whole, "stopped after {writes} writes");
            if !stopped {
                break;
            }
            writes += 1;
        }
        // The tokens, each space, and some spaces in several writes of 5.
        assert!(writes > SPACES.len() + 5, "{writes} writes");
    }

    /// A layout-3 database whose newest version of a process this release cannot
    /// compile is refused before anything moves: it stays in layout 3, where the
    /// release that wrote it can deploy a corrected version.
    #[test]
    fn a_database_this_release_cannot_open_is_left_in_layout_3() {
        let dir = fixture();
        let opts = super::super::Options::default();
        let before = {
            let db = super::super::open_db(dir.path(), &opts).expect("db");
            let t = Trees::new(db.open_tree("records").expect("tree"));
            let key = keys::definition("fix", 1);
            let raw = t.defs.get(&key).expect("get").expect("fix version 1");
            let d = records::definition_in_layout_3(&raw).expect("layout 3");
            // Layout 3's leading fields; what followed them (the model) is not read.
            let refused = (d.name, d.version, "process fix {", d.deployed_at);
            let refused = postcard::to_allocvec(&refused).expect("serialize");
            t.defs.insert(key, refused).expect("insert");
            db.flush().expect("flush");
            dump(&db)
        };
        match super::super::Store::open(dir.path(), opts) {
            Err(StoreError::Outdated {
                process, version, ..
            }) => assert_eq!((process.as_str(), version), ("fix", 1)),
            other => panic!("expected `fix` version 1 refused, got {:?}", other.err()),
        }
        let db = super::super::open_db(dir.path(), &super::super::Options::default()).expect("db");
        assert!(dump(&db) == before, "the database changed");
    }
}
