//! Who takes part in each instance, kept as an index so that deciding whether
//! someone may read an instance costs the same at 10 or 10,000 history entries:
//! (instance, `p` + person) for everyone who acted on it, was offered, claimed,
//! completed or was handed a task of it, signed it or was sent a message about it;
//! (instance, `r` + role) for every role a task of it was offered to. Its starter is
//! not kept: the instance names them, and leaving them out spares every start a
//! write.
//! Commands add entries as their events happen (see `txn::write`); nothing removes
//! them, as the history they come from is never removed either.

use super::kind::Kind;
use super::space::WriteBatch;
use super::{keys, Store, StoreError};
use crate::core::{Candidates, Event, Instance, InstanceId, Record, SYSTEM};
use crate::team::Party;
use std::collections::BTreeSet;

const PERSON: u8 = b'p';
const ROLE: u8 = b'r';

/// The meta key set once every instance's entries are in place (databases written
/// before the index have them built at open).
pub(super) const BUILT: &str = "index:participants";

fn key(id: InstanceId, what: u8, name: &str) -> Vec<u8> {
    let mut k = keys::instance(id).to_vec();
    k.push(what);
    k.extend_from_slice(name.as_bytes());
    k
}

/// Who one event (by `actor`) makes take part: (`PERSON` or `ROLE`, name).
fn of_event<'a>(actor: &'a str, e: &'a Event, out: &mut Vec<(u8, &'a str)>) {
    let offered = |out: &mut Vec<(u8, &'a str)>, c: &'a Candidates| {
        out.extend(c.people.iter().map(|p| (PERSON, p.as_str())));
        out.extend(c.roles.iter().map(|r| (ROLE, r.as_str())));
    };
    if actor != SYSTEM {
        out.push((PERSON, actor));
    }
    match e {
        Event::TaskCreated { task } => {
            offered(out, &task.candidates);
            for p in task.assignee.iter().chain(&task.completed_by) {
                out.push((PERSON, p));
            }
        }
        Event::TaskClaimed { by, .. }
        | Event::TaskCompleted { by, .. }
        | Event::Signed { by, .. } => out.push((PERSON, by)),
        Event::TaskReassigned { to, .. } => offered(out, to),
        Event::MessageQueued { message } if message.channel.is_none() => {
            out.extend(message.to.iter().map(|p| (PERSON, p.as_str())));
        }
        _ => {}
    }
}

/// The keys a history (or one command's records) gives its instance started by
/// `starter`, who is left out (see the module's documentation), in key order.
/// Every command runs this: names are gathered as borrowed pairs and made keys
/// only once each (building a set of keys per event cost about a tenth of a
/// command's CPU).
pub(super) fn of_history(id: InstanceId, starter: &str, history: &[Record]) -> Vec<Vec<u8>> {
    let mut names: Vec<(u8, &str)> = Vec::with_capacity(8);
    for r in history {
        of_event(&r.actor, &r.event, &mut names);
    }
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter(|&(what, name)| !(what == PERSON && name == starter))
        .map(|(what, name)| key(id, what, name))
        .collect()
}

/// Who started the instance whose whole history this is.
fn starter_of(history: &[Record]) -> &str {
    history
        .iter()
        .find_map(|r| match &r.event {
            Event::Started { starter, .. } => Some(starter.as_str()),
            _ => None,
        })
        .unwrap_or_default()
}

impl Store {
    /// Whether someone of the party takes part in the instance (see the module's
    /// documentation): the instance itself, then its entries in the index.
    pub(super) fn takes_part(&self, party: &Party, inst: &Instance) -> Result<bool, StoreError> {
        if party.is_empty() {
            return Ok(false);
        }
        if party.people.contains(&inst.starter) || inst.tasks.iter().any(|t| party.takes_part(t)) {
            return Ok(true);
        }
        let prefix = keys::instance(inst.id);
        for kv in self.t[Kind::Participants].scan_prefix(prefix) {
            let (k, _) = kv?;
            let Some((what, name)) = k[prefix.len()..].split_first() else {
                continue;
            };
            let name = String::from_utf8_lossy(name);
            let found = match *what {
                PERSON => party.people.contains(name.as_ref()),
                ROLE => party.roles.contains(name.as_ref()),
                _ => false,
            };
            if found {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Who takes part in an instance besides its starter, as the index has it:
    /// people, then roles.
    pub(super) fn participants(
        &self,
        id: InstanceId,
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let prefix = keys::instance(id);
        let (mut people, mut roles) = (Vec::new(), Vec::new());
        for kv in self.t[Kind::Participants].scan_prefix(prefix) {
            let (k, _) = kv?;
            if let Some((what, name)) = k[prefix.len()..].split_first() {
                let name = String::from_utf8_lossy(name).into_owned();
                match *what {
                    PERSON => people.push(name),
                    ROLE => roles.push(name),
                    _ => {}
                }
            }
        }
        Ok((people, roles))
    }

    /// Differences between the index and the histories, for `verify`.
    pub(super) fn verify_participants(&self) -> Result<Vec<String>, StoreError> {
        let mut expect = BTreeSet::new();
        for kv in self.t[Kind::Instances].iter() {
            let (k, _) = kv?;
            let Some(id) = k.get(..8).and_then(|b| b.try_into().ok()) else {
                continue;
            };
            let id = u64::from_be_bytes(id);
            let history = self.history(id)?;
            expect.extend(of_history(id, starter_of(&history), &history));
        }
        let mut got = BTreeSet::new();
        for kv in self.t[Kind::Participants].iter() {
            got.insert(kv?.0.to_vec());
        }
        let mut problems = Vec::new();
        let shown = |k: &Vec<u8>| {
            let id = k
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes);
            format!("{:?} {}", id, String::from_utf8_lossy(&k[8.min(k.len())..]))
        };
        for k in expect.difference(&got) {
            problems.push(format!("participants: missing {}", shown(k)));
        }
        for k in got.difference(&expect) {
            problems.push(format!("participants: extra {}", shown(k)));
        }
        Ok(problems)
    }
}

/// Build the index from the histories, if this database was written before it was
/// kept: once, at open, before anything else runs.
pub(super) fn build(store: &Store) -> Result<(), StoreError> {
    if store.t[Kind::Meta].get(BUILT)?.is_some() {
        return Ok(());
    }
    let w = store.t.alone()?;
    let mut b = WriteBatch::default();
    let mut n = 0;
    super::each_history(store, |id, history| {
        for k in of_history(id, starter_of(history), history) {
            store.t[Kind::Participants].put(&mut b, k, &[]);
            n += 1;
        }
        if n >= 10_000 {
            store.t.apply_alone(&w, std::mem::take(&mut b))?;
            n = 0;
        }
        Ok(())
    })?;
    store.t[Kind::Meta].put(&mut b, BUILT, &[1u8]);
    store.t.apply_alone(&w, b)?;
    store.t.shared().flush()?;
    Ok(())
}
