//! A full consistency check of the database: every index entry agrees with the record
//! it points to, every record has its index entries, every instance's history
//! replays to its stored state, the timer tree holds exactly the instances' timers,
//! and each pending webhook delivery has its attempt queued. It reads everything, so
//! it is for tests and `baton verify`, not for serving requests; batches wait while
//! it reads, so that it never sees half of one.

use super::kind::Kind;
use super::txn::index_keys;
use super::{decode, keys, Store, StoreError};
use crate::core::fold::replay;
use crate::core::{Incident, Instance, Status, Task};
use std::collections::BTreeSet;

impl Store {
    pub fn verify(&self) -> Result<Vec<String>, StoreError> {
        // Before the guard below: settling an attempt takes its lock, then the guard.
        let mut problems = self.verify_deliveries()?;
        let _w = self.t.outside_batch()?;
        // Expected entries per index tree, in the order of `txn::INDEXES`.
        let mut expect: [BTreeSet<Vec<u8>>; 4] = Default::default();
        for kv in self.t[Kind::Tasks].iter() {
            let (_, v) = kv?;
            let t: Task = decode(&v)?;
            if t.state.is_active() {
                problems.push(format!("task {}: open but among finished tasks", t.id));
            }
            for (tree, keys) in expect.iter_mut().zip(index_keys(&t)) {
                tree.extend(keys);
            }
            // An instance may still hold a task that finished in its current step:
            // both copies must agree.
            if let Some(b) = self.t[Kind::Instances].get(keys::instance(t.id.instance))? {
                let inst: Instance = decode(&b)?;
                if inst.task(t.id).is_some_and(|mine| *mine != t) {
                    problems.push(format!(
                        "task {}: its instance and the finished tasks disagree",
                        t.id
                    ));
                }
            }
        }
        let mut expect_timers = BTreeSet::new();
        let mut expect_process = BTreeSet::new();
        let mut expect_incidents = BTreeSet::new();
        // The person and role entries carry a copy of the task: it must be current.
        for tree in [&self.t[Kind::ByPerson], &self.t[Kind::ByRole]] {
            for kv in tree.iter() {
                let (k, v) = kv?;
                let copy: Task = decode(&v)?;
                match keys::task_from(&k).map(|id| self.task(id)) {
                    Some(Ok(rec)) if rec == copy => {}
                    _ => problems.push(format!("task {}: an index holds a stale copy", copy.id)),
                }
            }
        }
        for kv in self.t[Kind::Instances].iter() {
            let (_, v) = kv?;
            let inst: Instance = decode(&v)?;
            for t in &inst.tasks {
                for (tree, keys) in expect.iter_mut().zip(index_keys(t)) {
                    tree.extend(keys);
                }
            }
            let mut ids: Vec<_> = inst.tasks.iter().map(|t| t.id).collect();
            ids.sort();
            ids.dedup();
            if ids.len() != inst.tasks.len() {
                problems.push(format!("instance {}: a task appears twice", inst.id));
            }
            // An instance with an incident keeps its timers out of the timer tree
            // until it is resolved, and has its entry among the incidents.
            if inst.status == Status::Incident {
                expect_incidents.insert(keys::instance(inst.id).to_vec());
            } else {
                for t in &inst.timers {
                    expect_timers.insert(keys::timer(t.due, inst.id, t.n).to_vec());
                }
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
            // An incident may hold the tasks of the step it stopped at.
            if inst.tasks.iter().any(|t| t.state.is_active())
                && !matches!(inst.status, Status::Running | Status::Incident)
            {
                problems.push(format!(
                    "instance {} has open tasks but is {}",
                    inst.id,
                    inst.status.as_str()
                ));
            }
        }
        let actual = |tree: &super::space::Space| -> Result<BTreeSet<Vec<u8>>, StoreError> {
            tree.iter().map(|kv| kv.map(|(k, _)| k.to_vec())).collect()
        };
        let trees = [
            ("tasks_by_person", &self.t[Kind::ByPerson]),
            ("tasks_by_role", &self.t[Kind::ByRole]),
            ("active tasks", &self.t[Kind::Active]),
            ("finished tasks", &self.t[Kind::Tasks]),
        ];
        for ((name, tree), expect) in trees.into_iter().zip(&expect) {
            let got = actual(tree)?;
            if &got != expect {
                let tasks = |keys: Vec<&Vec<u8>>| -> String {
                    keys.iter()
                        .take(3)
                        .filter_map(|k| keys::task_from(k))
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let extra: Vec<&Vec<u8>> = got.difference(expect).collect();
                let missing: Vec<&Vec<u8>> = expect.difference(&got).collect();
                problems.push(format!(
                    "{name}: {} entries without a record ({}), {} records without an entry ({})",
                    extra.len(),
                    tasks(extra.clone()),
                    missing.len(),
                    tasks(missing.clone()),
                ));
            }
        }
        if actual(&self.t[Kind::Timers])? != expect_timers {
            problems.push("timers: the timer tree and the instances' timers differ".into());
        }
        if actual(&self.t[Kind::ByProcess])? != expect_process {
            problems.push("instances_by_process: differs from the instances".into());
        }
        if actual(&self.t[Kind::Incidents])? != expect_incidents {
            problems.push("incidents: differ from the instances with an incident".into());
        }
        for kv in self.t[Kind::Incidents].iter() {
            let (k, v) = kv?;
            let inc: Incident = decode(&v)?;
            if keys::instance(inc.instance)[..] != k[..] {
                problems.push(format!("incident of {}: under another key", inc.instance));
            }
        }
        problems.extend(self.verify_participants()?);
        problems.extend(self.verify_signatures()?);
        problems.extend(self.verify_figures()?);
        Ok(problems)
    }
}
