//! The staff directory: departments with their heads, people with their roles,
//! department and supervisor. Read from RON (`processes/staff.ron`), which people
//! edit by hand, and checked as a whole when loaded.

use baton_dsl::StaffNames;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Department {
    pub id: String,
    pub name: String,
    pub head: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub department: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub supervisor: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Directory {
    /// Role -> what people call it (`"agent": "客服專員"`), shown wherever a role is
    /// read; a role without one is shown by its id.
    #[serde(default, rename = "roles")]
    pub role_titles: BTreeMap<String, String>,
    pub departments: Vec<Department>,
    pub people: Vec<Person>,
    /// Lookups by id and role, built on first use: every command asks who someone
    /// is, and a directory may list thousands of people.
    #[serde(skip)]
    index: std::sync::OnceLock<Index>,
}

#[derive(Debug, Clone, Default)]
struct Index {
    person: std::collections::HashMap<String, usize>,
    role: std::collections::HashMap<String, Vec<usize>>,
    head: std::collections::HashMap<String, usize>,
}

impl PartialEq for Directory {
    fn eq(&self, other: &Self) -> bool {
        self.departments == other.departments
            && self.people == other.people
            && self.role_titles == other.role_titles
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("{0}")]
    Syntax(String),
    #[error("staff directory: {0}")]
    Invalid(String),
}

impl Directory {
    pub fn from_ron(text: &str) -> Result<Directory, StaffError> {
        let d: Directory = ron::from_str(text).map_err(|e| StaffError::Syntax(e.to_string()))?;
        d.validate()?;
        Ok(d)
    }

    /// Every reference inside the directory must resolve, so that assignment never
    /// meets a dangling supervisor or head at run time.
    fn validate(&self) -> Result<(), StaffError> {
        let people: BTreeSet<&str> = self.people.iter().map(|p| p.id.as_str()).collect();
        let depts: BTreeSet<&str> = self.departments.iter().map(|d| d.id.as_str()).collect();
        if people.len() != self.people.len() {
            return Err(StaffError::Invalid("a person id is listed twice".into()));
        }
        for d in &self.departments {
            if !people.contains(d.head.as_str()) {
                return Err(StaffError::Invalid(format!(
                    "department `{}` has head `{}`, who is not in `people`",
                    d.id, d.head
                )));
            }
        }
        for p in &self.people {
            if p.id == crate::core::SYSTEM {
                return Err(StaffError::Invalid(format!(
                    "the person id `{}` is reserved: Baton acts under it (timers, \
                     escalations) with an admin's rights; give this person another id",
                    p.id
                )));
            }
            if !depts.contains(p.department.as_str()) {
                return Err(StaffError::Invalid(format!(
                    "`{}` is in department `{}`, which is not in `departments`",
                    p.id, p.department
                )));
            }
            if let Some(s) = &p.supervisor {
                if !people.contains(s.as_str()) {
                    return Err(StaffError::Invalid(format!(
                        "`{}` has supervisor `{s}`, who is not in `people`",
                        p.id
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn names(&self) -> StaffNames {
        StaffNames {
            roles: self
                .people
                .iter()
                .flat_map(|p| p.roles.iter().cloned())
                .collect(),
            people: self.people.iter().map(|p| p.id.clone()).collect(),
            departments: self.departments.iter().map(|d| d.id.clone()).collect(),
            shape: self
                .people
                .iter()
                .map(|p| {
                    (
                        p.id.clone(),
                        baton_dsl::PersonShape {
                            name: p.name.clone(),
                            roles: p.roles.iter().cloned().collect(),
                            department: p.department.clone(),
                            supervisor: p.supervisor.clone(),
                        },
                    )
                })
                .collect(),
            heads: self
                .departments
                .iter()
                .map(|d| (d.id.clone(), d.head.clone()))
                .collect(),
        }
    }

    pub fn new(departments: Vec<Department>, people: Vec<Person>) -> Directory {
        Directory {
            role_titles: BTreeMap::new(),
            departments,
            people,
            index: std::sync::OnceLock::new(),
        }
    }

    /// The same directory with these role titles.
    pub fn with_role_titles(mut self, titles: BTreeMap<String, String>) -> Directory {
        self.role_titles = titles;
        self
    }

    /// What people call a role: its title, else its id.
    pub fn role_title<'a>(&'a self, role: &'a str) -> &'a str {
        self.role_titles.get(role).map_or(role, String::as_str)
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut ix = Index::default();
            for (i, p) in self.people.iter().enumerate() {
                ix.person.insert(p.id.clone(), i);
                for r in &p.roles {
                    ix.role.entry(r.clone()).or_default().push(i);
                }
            }
            for (i, d) in self.departments.iter().enumerate() {
                ix.head.insert(d.id.clone(), i);
            }
            ix
        })
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.index().person.get(id).map(|&i| &self.people[i])
    }

    pub fn with_role<'a>(&'a self, role: &'a str) -> impl Iterator<Item = &'a Person> + 'a {
        self.index()
            .role
            .get(role)
            .into_iter()
            .flatten()
            .map(|&i| &self.people[i])
    }

    pub fn has_role(&self, person: &str, role: &str) -> bool {
        self.person(person)
            .is_some_and(|p| p.roles.iter().any(|r| r == role))
    }

    pub fn head_of(&self, department: &str) -> Option<&str> {
        self.index()
            .head
            .get(department)
            .map(|&i| self.departments[i].head.as_str())
    }

    /// Role -> people, for building indexes.
    pub fn roles(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut m: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for p in &self.people {
            for r in &p.roles {
                m.entry(r.as_str()).or_default().push(p.id.as_str());
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_read_by_their_titles_and_by_their_ids_without_one() {
        let text = r#"(roles: {"agent": "客服專員"},
            departments: [(id: "cs", name: "客服部", head: "a")],
            people: [(id: "a", name: "A", department: "cs", roles: ["agent", "admin"])])"#;
        let dir = Directory::from_ron(text).expect("a directory");
        assert_eq!(dir.role_title("agent"), "客服專員");
        assert_eq!(dir.role_title("admin"), "admin");
        let names = crate::display::Names::of(&dir, chrono_tz::UTC, Default::default());
        assert_eq!(crate::display::role("agent", &names), "客服專員");
        assert_eq!(crate::display::role("admin", &names), "admin");
    }

    #[test]
    fn dangling_supervisor_is_refused() {
        let text = r#"(departments: [(id: "cs", name: "客服部", head: "a")],
            people: [(id: "a", name: "A", department: "cs", roles: ["agent"], supervisor: Some("ghost"))])"#;
        let err = Directory::from_ron(text).expect_err("ghost supervisor");
        assert!(err.to_string().contains("ghost"), "{err}");
    }

    #[test]
    fn the_system_id_is_reserved() {
        let text = r#"(departments: [(id: "cs", name: "客服部", head: "a")],
            people: [(id: "a", name: "A", department: "cs"),
                     (id: "baton", name: "B", department: "cs", roles: ["agent"])])"#;
        let err = Directory::from_ron(text).expect_err("reserved id");
        assert!(err.to_string().contains("`baton` is reserved"), "{err}");
    }

    #[test]
    fn roles_and_heads_resolve() {
        let text = r#"(departments: [(id: "cs", name: "客服部", head: "a")],
            people: [(id: "a", name: "A", department: "cs", roles: ["cs_manager"]),
                     (id: "b", name: "B", department: "cs", roles: ["agent"], supervisor: Some("a"))])"#;
        let d = Directory::from_ron(text).expect("valid");
        assert_eq!(d.head_of("cs"), Some("a"));
        assert_eq!(
            d.with_role("agent")
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
        assert!(d.names().roles.contains("cs_manager"));
    }
}
