//! A full consistency check of the database: every index entry agrees with the record
//! it points to, every record has its index entries, every instance's history
//! replays to its stored state, and the timer tree holds exactly the instances'
//! timers. It reads everything, so it is for tests and `baton verify`, not for
//! serving requests.

use super::{decode, keys, Store, StoreError};
use crate::core::fold::replay;
use crate::core::{Instance, Task};
use std::collections::BTreeSet;

impl Store {
    pub fn verify(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let mut expect_person = BTreeSet::new();
        let mut expect_role = BTreeSet::new();
        let mut expect_state = BTreeSet::new();
        let mut expect_due = BTreeSet::new();
        for kv in self.t.tasks.iter() {
            let (_, v) = kv?;
            let t: Task = decode(&v)?;
            if t.state.is_active() {
                match &t.assignee {
                    Some(a) => {
                        expect_person.insert(keys::named_task(a, t.id));
                    }
                    None => {
                        for p in &t.candidates.people {
                            expect_person.insert(keys::named_task(p, t.id));
                        }
                        for r in &t.candidates.roles {
                            expect_role.insert(keys::named_task(r, t.id));
                        }
                    }
                }
                if let Some(d) = t.due {
                    expect_due.insert(keys::due_task(d, t.id).to_vec());
                }
            }
            expect_state.insert(keys::state_task(t.state, t.id).to_vec());
        }
        let actual = |tree: &sled::Tree| -> Result<BTreeSet<Vec<u8>>, StoreError> {
            tree.iter()
                .map(|kv| kv.map(|(k, _)| k.to_vec()).map_err(StoreError::from))
                .collect()
        };
        for (name, expect, tree) in [
            ("tasks_by_person", &expect_person, &self.t.by_person),
            ("tasks_by_role", &expect_role, &self.t.by_role),
            ("tasks_by_state", &expect_state, &self.t.by_state),
            ("tasks_by_due", &expect_due, &self.t.by_due),
        ] {
            let got = actual(tree)?;
            if &got != expect {
                problems.push(format!(
                    "{name}: {} entries without a record, {} records without an entry",
                    got.difference(expect).count(),
                    expect.difference(&got).count()
                ));
            }
        }
        // The person and role entries carry a copy of the task: it must be current.
        for tree in [&self.t.by_person, &self.t.by_role] {
            for kv in tree.iter() {
                let (k, v) = kv?;
                let copy: Task = decode(&v)?;
                match keys::task_from(&k).map(|id| self.task(id)) {
                    Some(Ok(rec)) if rec == copy => {}
                    _ => problems.push(format!("task {}: an index holds a stale copy", copy.id)),
                }
            }
        }
        let mut expect_timers = BTreeSet::new();
        let mut expect_process = BTreeSet::new();
        for kv in self.t.instances.iter() {
            let (_, v) = kv?;
            let inst: Instance = decode(&v)?;
            for t in &inst.timers {
                expect_timers.insert(keys::timer(t.due, inst.id, t.n).to_vec());
            }
            expect_process.insert(keys::process_status(
                &inst.process,
                inst.status.as_str(),
                inst.id,
            ));
            let history = self.history(inst.id)?;
            match replay(inst.id, &history) {
                Some(r) if r == inst => {}
                _ => problems.push(format!(
                    "instance {}: history does not replay to the stored state",
                    inst.id
                )),
            }
            for t in &inst.tasks {
                match self.task(t.id) {
                    Ok(rec) if rec.state == t.state && rec.assignee == t.assignee => {}
                    _ => problems.push(format!("task {}: record differs from its instance", t.id)),
                }
            }
            if inst.tasks.iter().any(|t| t.state.is_active())
                && inst.status != crate::core::Status::Running
            {
                problems.push(format!(
                    "instance {} has open tasks but is {}",
                    inst.id,
                    inst.status.as_str()
                ));
            }
        }
        if actual(&self.t.timers)? != expect_timers {
            problems.push("timers: the timer tree and the instances' timers differ".into());
        }
        if actual(&self.t.by_process)? != expect_process {
            problems.push("instances_by_process: differs from the instances".into());
        }
        Ok(problems)
    }
}
