//! Along the org chart: whom a person leads, and what a group of people takes part in.
//!
//! A person's team is everyone they supervise, directly or through others, and
//! everyone of a department they head (and, again, whom those people lead). A
//! supervisor sees the instances and tasks of their team, and may hand on a task
//! offered to someone of it; the server and the CLI ask the questions here.

use crate::core::{Candidates, Task};
use crate::staff::Directory;
use crate::store::prelude::*;
use crate::store::{Store, StoreError};
use std::collections::{BTreeMap, BTreeSet};

/// Some people and the roles they hold: one person, or a team.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    pub people: BTreeSet<String>,
    pub roles: BTreeSet<String>,
}

impl Party {
    /// One person with their roles.
    pub fn person(dir: &Directory, id: &str) -> Party {
        Party::of(dir, std::iter::once(id.to_string()))
    }

    /// The team `lead` leads (without `lead`), with the roles its people hold.
    pub fn team(dir: &Directory, lead: &str) -> Party {
        Party::of(dir, dir.team(lead))
    }

    fn of(dir: &Directory, people: impl IntoIterator<Item = String>) -> Party {
        let people: BTreeSet<String> = people.into_iter().collect();
        let roles = people
            .iter()
            .filter_map(|p| dir.person(p))
            .flat_map(|p| p.roles.iter().cloned())
            .collect();
        Party { people, roles }
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// A task offered to someone of the party, by name or by role.
    pub fn offered(&self, to: &Candidates) -> bool {
        to.people.iter().any(|p| self.people.contains(p))
            || to.roles.iter().any(|r| self.roles.contains(r))
    }

    /// The task names someone of the party: offered to them or their roles, claimed
    /// or completed by them.
    pub fn takes_part(&self, t: &Task) -> bool {
        let named = |p: &Option<String>| p.as_ref().is_some_and(|p| self.people.contains(p));
        named(&t.assignee) || named(&t.completed_by) || self.offered(&t.candidates)
    }
}

impl Directory {
    /// Everyone `lead` leads: whom they supervise, the people of the departments they
    /// head, and in turn whom those people lead. Never `lead` themselves.
    pub fn team(&self, lead: &str) -> BTreeSet<String> {
        let mut reports: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for p in &self.people {
            if let Some(s) = &p.supervisor {
                reports.entry(s.as_str()).or_default().push(&p.id);
            }
        }
        let mut members: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for p in &self.people {
            members
                .entry(p.department.as_str())
                .or_default()
                .push(&p.id);
        }
        let mut heads: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for d in &self.departments {
            heads.entry(d.head.as_str()).or_default().push(&d.id);
        }
        let mut team = BTreeSet::new();
        let mut todo = vec![lead];
        while let Some(p) = todo.pop() {
            let led = reports.get(p).into_iter().flatten().chain(
                heads
                    .get(p)
                    .into_iter()
                    .flatten()
                    .flat_map(|d| members.get(d).into_iter().flatten()),
            );
            for &q in led {
                if q != lead && team.insert(q.to_string()) {
                    todo.push(q);
                }
            }
        }
        team
    }

    /// Whether `lead` leads `person` (see [`Directory::team`]).
    pub fn leads(&self, lead: &str, person: &str) -> bool {
        lead != person && self.team(lead).contains(person)
    }
}

impl Store {
    /// The open and claimed tasks of the party's people, as each of them would list
    /// their own (see [`Store::tasks_for`]), once each, soonest due first.
    pub fn tasks_of(&self, party: &Party) -> Result<Vec<Task>, StoreError> {
        let mut out = Vec::new();
        for p in &party.people {
            out.extend(self.tasks_for(p)?);
        }
        out.sort_by_key(|t| (t.due.is_none(), t.due, t.id));
        out.dedup_by_key(|t| t.id);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Directory {
        Directory::from_ron(include_str!("../../processes/staff.ron")).expect("staff.ron")
    }

    fn team(lead: &str) -> Vec<String> {
        dir().team(lead).into_iter().collect()
    }

    #[test]
    fn a_team_follows_supervisors_and_department_heads() {
        // 陳靜 supervises the two hotline agents.
        assert_eq!(team("chen_jing"), ["wang_fang", "zhang_wei"]);
        // 李明 heads 客服部: every one of it, through the supervisors under him.
        let cs = team("li_ming");
        assert_eq!(cs.len(), 12, "{cs:?}");
        assert!(cs.contains(&"ma_jun".to_string()));
        // 宋佳, under 何芸, is reached through her supervisor.
        assert!(cs.contains(&"song_jia".to_string()));
        assert!(!cs.contains(&"li_ming".to_string()));
        // 鄭凱 heads 技術部 and supervises its people.
        assert_eq!(team("zheng_kai"), ["cao_lei", "jiang_hui"]);
        // The general manager leads everyone else; an agent nobody.
        assert_eq!(team("zhao_guoqiang").len(), dir().people.len() - 1);
        assert!(team("wang_fang").is_empty());
        assert!(dir().leads("li_ming", "wang_fang"));
        assert!(!dir().leads("chen_jing", "liu_yang"));
    }

    #[test]
    fn a_head_leads_their_department_even_where_the_supervisor_is_elsewhere() {
        let text = r#"(departments: [(id: "a", name: "A", head: "h"), (id: "b", name: "B", head: "k")],
            people: [(id: "h", name: "H", department: "a"),
                     (id: "k", name: "K", department: "b"),
                     (id: "x", name: "X", department: "a", supervisor: Some("k")),
                     (id: "y", name: "Y", department: "b", supervisor: Some("x"))])"#;
        let d = Directory::from_ron(text).expect("valid");
        // `x` is of h's department though k supervises them; `y` reports to `x`.
        assert_eq!(d.team("h").into_iter().collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(d.team("k").into_iter().collect::<Vec<_>>(), ["x", "y"]);
        // A cycle of supervisors ends; nobody leads themselves.
        assert!(!d.leads("x", "x"));
    }
}
