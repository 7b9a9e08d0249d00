//! Older layouts are moved to this release's when a database is opened: layout 2
//! (one sled tree per kind of record) into the spaces of one tree (layout 3), and
//! layout 3's values into their versioned envelopes (layout 4, see `records`).

use super::kind::Kind;
use super::records::{self, RecordKind};
use super::space::{WriteBatch, Writer};
use super::{deploy, encode, keys, StoreError, Trees};
use crate::core::{Incident, Instance, Record, Task};
use crate::staff::Directory;
use crate::tokens::TokenRecord;
use std::ops::Bound;
use std::path::Path;

/// Layout versions, as `schema_version` holds them.
const LAYOUT_3: u32 = 3;
const LAYOUT_4: u32 = 4;

/// Move a database of layout version 2 (a tree per kind of record) into the spaces
/// of one tree. The copy is finished when the new schema version is written; until
/// then a crash leaves the old trees whole, and the next open copies again.
pub(super) fn migrate(db: &sled::Db, t: &Trees, path: &Path) -> Result<(), StoreError> {
    let w = t.alone()?;
    let names = db.tree_names();
    let has = |name: &str| names.iter().any(|n| n.as_ref() == name.as_bytes());
    if !has("meta") {
        return Ok(());
    }
    if t[Kind::Meta].get("schema_version")?.is_none() {
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
        for (kind, space) in Kind::ALL.iter().zip(t.all()) {
            let name = kind.layout2_tree();
            if !has(name) || ["tasks", "tasks_by_state"].contains(&name) {
                continue;
            }
            let mut b = WriteBatch::default();
            let mut n = 0;
            for kv in db.open_tree(name)?.iter() {
                let (k, v) = kv?;
                space.put(&mut b, k, v);
                n += 1;
                if n % 10_000 == 0 {
                    t.apply_alone(&w, std::mem::take(&mut b))?;
                }
            }
            t.apply_alone(&w, b)?;
        }
        if has("tasks") {
            rebuild_task_spaces(t, &w, &db.open_tree("tasks")?)?;
        }
        // Layout 3 exactly as the release that introduced it wrote it; the move to
        // layout 4 follows when the database opens.
        t[Kind::Meta].insert(&w, "schema_version", &LAYOUT_3.to_be_bytes())?;
        db.flush()?;
    }
    for kind in Kind::ALL {
        db.drop_tree(kind.layout2_tree())?;
    }
    db.drop_tree("tasks_by_due")?;
    db.flush()?;
    Ok(())
}

/// Layout version 3 kept the API's tokens in a tree of their own: move them, as
/// they are, into their space, where the move to layout 4 puts them in envelopes
/// with the rest. The tree is dropped once the copy is durable; a crash before that
/// copies again (the same keys and values).
fn move_tokens(db: &sled::Db, t: &Trees, w: &Writer<'_>) -> Result<(), StoreError> {
    let name = Kind::Tokens.layout2_tree();
    if !db
        .tree_names()
        .iter()
        .any(|n| n.as_ref() == name.as_bytes())
    {
        return Ok(());
    }
    let mut b = WriteBatch::default();
    for kv in db.open_tree(Kind::Tokens.layout2_tree())?.iter() {
        let (k, v) = kv?;
        t[Kind::Tokens].put(&mut b, k, v);
    }
    t.apply_alone(w, b)?;
    db.flush()?;
    db.drop_tree(Kind::Tokens.layout2_tree())?;
    db.flush()?;
    Ok(())
}

/// The finished and active task entries of layout version 3, from version 2's
/// task tree (tasks that had left their instance) and the tasks in the instances.
fn rebuild_task_spaces(
    t: &Trees,
    w: &Writer<'_>,
    old_tasks: &sled::Tree,
) -> Result<(), StoreError> {
    let mut b = WriteBatch::default();
    let mut n = 0;
    let mut put = |b: &mut WriteBatch, task: &crate::core::Task| -> Result<(), StoreError> {
        if task.state.is_active() {
            t[Kind::Active].put(b, keys::active_task(task.state, task.due, task.id), &[]);
        } else {
            t[Kind::Tasks].put(
                b,
                keys::state_task(task.state, task.id),
                records::task_in_layout_3(task),
            );
        }
        n += 1;
        if n % 10_000 == 0 {
            t.apply_alone(w, std::mem::take(b))?;
        }
        Ok(())
    };
    let corrupt = |e: String| StoreError::Storage(format!("corrupt record: {e}"));
    for kv in old_tasks.iter() {
        let (_, v) = kv?;
        put(&mut b, &records::read_layout_3(&v).map_err(corrupt)?)?;
    }
    for kv in t[Kind::Instances].iter() {
        let (_, v) = kv?;
        let inst: Instance = records::read_layout_3(&v).map_err(corrupt)?;
        for task in &inst.tasks {
            put(&mut b, task)?;
        }
    }
    t.apply_alone(w, b)
}

/// Where a move to layout 4 has come to, in `meta`: the place (`Kind::slot`) of the
/// space being moved, then the last key moved in it. Present from the move's first write until it is finished.
const PROGRESS: &[u8] = b"moving to layout 4";

/// Values moved per write.
const CHUNK: usize = 10_000;

/// Move a database of layout 3 to layout 4: every value in its envelope, and
/// definitions without their compiled model.
///
/// A crash part-way must neither leave a value unmoved nor move one twice (a value
/// of layout 3 can look like one in an envelope, so they cannot be told apart by
/// their bytes). Each write of moved values also writes how far the move has come
/// (`PROGRESS`), all or nothing (through the journal, as every write outside a batch
/// of commands), and the next open goes on from there. The tokens are in their
/// space already (see `move_tokens`). Nothing is held in memory beyond one write's
/// worth, however large the database.
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
    let version = t[Kind::Meta]
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
    let w = t.alone()?;
    let progress = match t[Kind::Meta].get(PROGRESS)? {
        Some(p) => p.to_vec(),
        None => {
            latest_definitions_compile(t)?;
            tracing::info!(path = %path.display(), "moving the database to layout version 4");
            if !spend() {
                return Ok(());
            }
            move_tokens(db, t, &w)?;
            vec![0]
        }
    };
    let (&from, after) = progress
        .split_first()
        .ok_or_else(|| StoreError::Storage("the progress of a move to layout 4 is empty".into()))?;
    for (i, (kind, space)) in Kind::ALL.iter().zip(t.all()).enumerate() {
        let name = kind.layout2_tree();
        if i < from as usize {
            continue;
        }
        let start = match i == from as usize {
            true => Bound::Excluded(after.to_vec()),
            false => Bound::Unbounded,
        };
        let mut b = WriteBatch::default();
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
                t[Kind::Meta].put(&mut b, PROGRESS, at);
                if !spend() {
                    return Ok(());
                }
                t.apply_alone(&w, std::mem::take(&mut b))?;
            }
        }
        // The next space, from its beginning (an empty key is never written).
        t[Kind::Meta].put(&mut b, PROGRESS, vec![i as u8 + 1]);
        if !spend() {
            return Ok(());
        }
        t.apply_alone(&w, b)?;
    }
    let mut b = WriteBatch::default();
    t[Kind::Meta].put(&mut b, "schema_version", &LAYOUT_4.to_be_bytes());
    t[Kind::Meta].del(&mut b, PROGRESS);
    if !spend() {
        return Ok(());
    }
    t.apply_alone(&w, b)?;
    db.flush()?;
    Ok(())
}

/// The kind of record a value of layout 3 is, from its space and key; `None` for
/// one that stays as it is (raw numbers, empty index values: see `records`).
fn kind_of(space: &str, key: &[u8]) -> Option<RecordKind> {
    Some(match space {
        // `h` + hash -> a token's record; `p` + person + 0 + hash -> nothing.
        "tokens" if key.first() == Some(&b'h') => RecordKind::Token,
        "meta" if key == b"directory" => RecordKind::Directory,
        "definitions" => RecordKind::Definition,
        "instances" => RecordKind::Instance,
        "events" => RecordKind::History,
        "tasks" | "tasks_by_person" | "tasks_by_role" => RecordKind::Task,
        "outbox" => RecordKind::Message,
        // An answer's key is UTF-8; its fingerprint's ends in 0xFF and stays raw.
        "idempotency" if key.last() != Some(&0xff) => RecordKind::Answer,
        "delivery_retries" => RecordKind::Retry,
        "incidents" => RecordKind::Incident,
        _ => return None,
    })
}

/// A value of layout 3 as layout 4 holds it.
fn layout_4_value(kind: RecordKind, v: &[u8]) -> Result<Vec<u8>, String> {
    use records::envelop_layout_3 as envelop;
    match kind {
        RecordKind::Instance => envelop::<Instance>(v),
        RecordKind::Task => envelop::<Task>(v),
        RecordKind::History => envelop::<Vec<Record>>(v),
        RecordKind::Incident => envelop::<Incident>(v),
        RecordKind::Answer => envelop::<super::Outcome>(v),
        RecordKind::Message => envelop::<super::OutboxRecord>(v),
        RecordKind::Retry => envelop::<super::Attempt>(v),
        RecordKind::Directory => envelop::<Directory>(v),
        RecordKind::Definition => Ok(encode(&records::definition_in_layout_3(v)?)),
        RecordKind::Token => envelop::<TokenRecord>(v),
        // Kept from layout 4 on: never in a layout-3 database.
        RecordKind::Signature => Err("no signature records in layout 3".into()),
        RecordKind::Password | RecordKind::Invite | RecordKind::Session => {
            Err("no sign-in records in layout 3".into())
        }
        RecordKind::Figures => Err("no figures in layout 3".into()),
    }
}

/// The newest version of each process, the ones opening the database compiles,
/// must compile with this release before anything is moved: a database this
/// release could not open is left in the layout its own release reads, where a
/// corrected version can be deployed.
fn latest_definitions_compile(t: &Trees) -> Result<(), StoreError> {
    for kv in t[Kind::Meta].scan_prefix(b"latest\0") {
        let (k, v) = kv?;
        let name = String::from_utf8_lossy(&k[7..]).into_owned();
        let version = u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4]));
        let Some(raw) = t[Kind::Definitions].get(keys::definition(&name, version))? else {
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

/// A value of layout 4 as layout 3 held it: for tests that write older databases
/// from records of this release. Holds only while each kind but definitions is in
/// its version 1, the payload layout 3 wrote.
#[cfg(test)]
pub(super) fn layout_3_value(space: &str, key: &[u8], v: &[u8]) -> Vec<u8> {
    match kind_of(space, key) {
        None => v.to_vec(),
        Some(RecordKind::Definition) => {
            let d: deploy::Deployment = super::decode(v).expect("a definition");
            let model = deploy::compile(&d).expect("it compiles");
            // What layout 3 wrote: the source's record, then the model; its time
            // in chrono's own text.
            postcard::to_allocvec(&(d.name, d.version, d.source, d.deployed_at, model))
                .expect("serialize")
        }
        // Instances and answers have later versions (their branches, the end a
        // child reached), directories too (role titles): one without them is
        // written as version 1 was.
        Some(kind @ (RecordKind::Instance | RecordKind::Answer | RecordKind::Directory))
            if v[1] >= 2 =>
        {
            super::records::version_1_payload(kind, v)
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
        for name in ["records", Kind::Tokens.layout2_tree()] {
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
            // sled's `blobs/` is empty (and absent from a clean checkout).
            if e.path().is_file() {
                std::fs::copy(e.path(), dir.path().join(e.file_name())).expect("copy");
            }
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
        assert!(writes > Kind::COUNT + 5, "{writes} writes");
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
            let raw = t[Kind::Definitions]
                .get(&key)
                .expect("get")
                .expect("fix version 1");
            let d = records::definition_in_layout_3(&raw).expect("layout 3");
            // Layout 3's leading fields; what followed them (the model) is not read.
            let refused = (d.name, d.version, "process fix {", d.deployed_at);
            let refused = postcard::to_allocvec(&refused).expect("serialize");
            t[Kind::Definitions]
                .insert(&t.alone().expect("alone"), key, refused)
                .expect("insert");
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
