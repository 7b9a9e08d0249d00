//! Databases of layout version 2 (one sled tree per kind of record) are moved into
//! the spaces of one tree when they are opened.

use super::kind::Kind;
use super::space::{WriteBatch, Writer};
use super::{decode, encode, keys, StoreError, Trees, SCHEMA_VERSION};
use crate::core::Instance;
use std::path::Path;

/// Move a database of layout version 2 (a tree per kind of record) into the spaces
/// of one tree. The copy is finished when the new schema version is written; until
/// then a crash leaves the old trees whole, and the next open copies again.
pub(super) fn migrate(db: &sled::Db, t: &Trees, path: &Path) -> Result<(), StoreError> {
    let w = t.alone()?;
    let names = db.tree_names();
    let has = |name: &str| names.iter().any(|n| n.as_ref() == name.as_bytes());
    if !has("meta") {
        return move_tokens(db, t, &w, has("tokens"));
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
        t[Kind::Meta].insert(&w, "schema_version", &SCHEMA_VERSION.to_be_bytes())?;
        db.flush()?;
    }
    for kind in Kind::ALL {
        db.drop_tree(kind.layout2_tree())?;
    }
    db.drop_tree("tasks_by_due")?;
    db.flush()?;
    Ok(())
}

/// Layout version 3 kept the API's tokens in a tree of their own: move them into
/// their space. The tree is dropped once the copy is durable; a crash before that
/// copies again (the same keys and values).
fn move_tokens(db: &sled::Db, t: &Trees, w: &Writer<'_>, has: bool) -> Result<(), StoreError> {
    if !has {
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
            t[Kind::Tasks].put(b, keys::state_task(task.state, task.id), encode(task));
        }
        n += 1;
        if n % 10_000 == 0 {
            t.apply_alone(w, std::mem::take(b))?;
        }
        Ok(())
    };
    for kv in old_tasks.iter() {
        let (_, v) = kv?;
        put(&mut b, &decode(&v)?)?;
    }
    for kv in t[Kind::Instances].iter() {
        let (_, v) = kv?;
        let inst: Instance = decode(&v)?;
        for task in &inst.tasks {
            put(&mut b, task)?;
        }
    }
    t.apply_alone(w, b)
}
