//! Parallel branches in the checked model: a step whose action is `Parallel` runs its
//! branches side by side and goes on by its own route once enough of them finish.
//!
//! A branch's steps are ordinary steps of the definition (step names are unique in a
//! definition), listed in the branch; a branch step finishes the branch by routing to
//! [`JOIN`].

use crate::model::{Action, Definition, Step};
use serde::{Deserialize, Serialize};

/// The route target that finishes a branch (`next join`, `-> join`).
pub const JOIN: &str = "join";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parallel {
    pub branches: Vec<Branch>,
    pub join: Join,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    pub name: String,
    pub title: Option<String>,
    /// Its steps may go to an end of the process (`may end`), ending the instance.
    pub may_end: bool,
    /// The branch's steps in source order; the first is where it begins.
    pub steps: Vec<String>,
}

impl Branch {
    pub fn first(&self) -> Option<&str> {
        self.steps.first().map(String::as_str)
    }
    /// The name people read: its title, else its name.
    pub fn label(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }
}

/// How many branches must finish before the parallel step goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Join {
    All,
    /// The first to finish; the others are cancelled.
    Any,
    /// That many; the others are cancelled.
    Count(u32),
}

impl Join {
    /// The number of finished branches that completes the join, of `total`.
    pub fn needed(self, total: usize) -> usize {
        match self {
            Join::All => total,
            Join::Any => 1,
            Join::Count(n) => n as usize,
        }
    }
}

impl std::fmt::Display for Join {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Join::All => write!(f, "all"),
            Join::Any => write!(f, "any"),
            Join::Count(n) => write!(f, "{n}"),
        }
    }
}

impl Definition {
    /// The parallel step and branch a step belongs to, if it is in a branch.
    pub fn branch_of(&self, step: &str) -> Option<(&Step, &Branch)> {
        self.steps.iter().find_map(|s| match &s.action {
            Action::Parallel(p) => p
                .branches
                .iter()
                .find(|b| b.steps.iter().any(|x| x == step))
                .map(|b| (s, b)),
            _ => None,
        })
    }
}
