//! Parallel branches at run time.
//!
//! An instance has one main position (`Instance::step` and the per-step state beside
//! it). While a parallel step runs, each of its branches has a position of its own in
//! `Instance::branches`. The code that moves through steps works on the main position
//! only; to work in a branch, the branch's position is swapped in (`InBranch`), the
//! ordinary code runs, and it is swapped back (`InBranch` with no branch). Every
//! command that touches a branch ends swapped back, so a stored instance always has
//! the parallel step as its main position.
//!
//! Tasks and timers of a branch are told apart by their step: step names are unique
//! in a definition, and a step belongs to one branch only (the checker sees to it).

use super::flow::Run;
use super::*;
use baton_dsl::model::{Action, Parallel, Step, JOIN};

/// A position in the definition: a step and what the engine keeps while it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub step: Option<String>,
    #[serde(with = "time::option")]
    pub step_started_at: Option<DateTime<Utc>>,
    pub waiting: bool,
    #[serde(with = "time::option")]
    pub due: Option<DateTime<Utc>>,
    pub due_extended_minutes: i64,
    pub awaiting_child: bool,
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BranchStatus {
    Running,
    /// It reached `join` (or, where allowed, an end).
    Finished,
    /// Withdrawn: the join was met without it, or the instance left the step.
    Cancelled,
}

impl BranchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BranchStatus::Running => "running",
            BranchStatus::Finished => "finished",
            BranchStatus::Cancelled => "cancelled",
        }
    }
}

/// A branch of the parallel step the instance is at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchState {
    pub name: String,
    pub status: BranchStatus,
    /// Where the branch is. While `focused`, it holds the main position instead and
    /// the branch's own is in the instance's fields (within one command only).
    pub position: Position,
    pub focused: bool,
}

impl Instance {
    /// The branch whose position is swapped in, within a command.
    pub fn focused_branch(&self) -> Option<&str> {
        self.branches
            .iter()
            .find(|b| b.focused)
            .map(|b| b.name.as_str())
    }

    /// The open tasks of the position being worked on: in a branch, that branch's
    /// step's; otherwise all of them (without branches, every open task is the
    /// current step's).
    pub fn step_tasks(&self) -> impl Iterator<Item = &Task> {
        let only = self.focused_branch().and(self.step.as_deref());
        self.active_tasks()
            .filter(move |t| only.is_none_or(|s| t.step == s))
    }

    /// Where a branch is: its step (none once it finished or was cancelled).
    pub fn branch_step<'a>(&'a self, b: &'a BranchState) -> Option<&'a str> {
        if b.focused {
            self.step.as_deref()
        } else {
            b.position.step.as_deref()
        }
    }
}

fn swap(inst: &mut Instance, i: usize) {
    let p = &mut inst.branches[i].position;
    std::mem::swap(&mut inst.step, &mut p.step);
    std::mem::swap(&mut inst.step_started_at, &mut p.step_started_at);
    std::mem::swap(&mut inst.waiting, &mut p.waiting);
    std::mem::swap(&mut inst.due, &mut p.due);
    std::mem::swap(&mut inst.due_extended_minutes, &mut p.due_extended_minutes);
    std::mem::swap(&mut inst.awaiting_child, &mut p.awaiting_child);
    std::mem::swap(&mut inst.signatures, &mut p.signatures);
    inst.branches[i].focused = !inst.branches[i].focused;
}

fn unfocus(inst: &mut Instance) {
    if let Some(i) = inst.branches.iter().position(|b| b.focused) {
        swap(inst, i);
    }
}

/// The current steps of the branches other than the one swapped in: while a branch
/// enters a step, their finished tasks are still of their current steps (a
/// sign-off's signatures so far).
pub(super) fn other_steps(inst: &Instance) -> Vec<String> {
    inst.branches
        .iter()
        .filter(|b| !b.focused && b.status == BranchStatus::Running)
        .filter_map(|b| b.position.step.clone())
        .collect()
}

/// The branch events' share of `fold`.
pub(super) fn fold(inst: &mut Instance, ev: &Event) {
    match ev {
        Event::BranchStarted { branch } => inst.branches.push(BranchState {
            name: branch.clone(),
            status: BranchStatus::Running,
            position: Position::default(),
            focused: false,
        }),
        Event::InBranch { branch } => {
            unfocus(inst);
            if let Some(i) = branch
                .as_ref()
                .and_then(|b| inst.branches.iter().position(|x| &x.name == b))
            {
                swap(inst, i);
            }
        }
        Event::BranchFinished { branch } | Event::BranchCancelled { branch } => {
            unfocus(inst);
            if let Some(b) = inst.branches.iter_mut().find(|x| &x.name == branch) {
                b.status = if matches!(ev, Event::BranchFinished { .. }) {
                    BranchStatus::Finished
                } else {
                    BranchStatus::Cancelled
                };
                b.position.step = None;
                b.position.waiting = false;
                b.position.due = None;
            }
        }
        Event::Joined { .. } => {
            unfocus(inst);
            inst.branches.clear();
        }
        _ => {}
    }
}

/// The step a timer belongs to, for a step's timer.
fn timer_step(k: &TimerKind) -> Option<&str> {
    match k {
        TimerKind::Wait { step }
        | TimerKind::Due { step }
        | TimerKind::Remind { step }
        | TimerKind::RemindEvery { step, .. }
        | TimerKind::StepReminder { step, .. } => Some(step),
        _ => None,
    }
}

impl Run<'_> {
    /// Swap `branch`'s position in (or, with `None`, the main one back).
    pub fn focus(&mut self, branch: Option<&str>) {
        if self.inst.focused_branch() == branch {
            return;
        }
        self.emit(Event::InBranch {
            branch: branch.map(str::to_string),
        });
    }

    /// The running branch a step is the current step of.
    fn running_branch_at(&self, step: &str) -> Option<String> {
        self.inst
            .branches
            .iter()
            .find(|b| b.status == BranchStatus::Running && self.inst.branch_step(b) == Some(step))
            .map(|b| b.name.clone())
    }

    /// Start the branches of a parallel step, one after the other within this
    /// command. A branch that finishes at once (its steps are automatic) may meet
    /// the join; the branches not yet begun are then cancelled with the rest.
    pub(super) fn fork(&mut self, step: &Step, par: &Parallel) -> Result<(), Rejection> {
        for b in &par.branches {
            self.emit(Event::BranchStarted {
                branch: b.name.clone(),
            });
        }
        for b in &par.branches {
            let still_here = self.inst.status == Status::Running
                && self.inst.step.as_deref() == Some(step.name.as_str())
                && self
                    .inst
                    .branches
                    .iter()
                    .any(|x| x.name == b.name && x.status == BranchStatus::Running);
            if !still_here {
                break;
            }
            let first = b
                .first()
                .ok_or_else(|| Rejection::Stuck(format!("branch `{}` has no step", b.name)))?;
            self.focus(Some(&b.name));
            self.goto(first)?;
            self.focus(None);
        }
        Ok(())
    }

    /// Called by `goto` once the step was left: when a branch goes to `join` or to
    /// an end, the branch is done. `None`: an ordinary move.
    pub(super) fn branch_exit(&mut self, target: &str) -> Option<Result<(), Rejection>> {
        let branch = self.inst.focused_branch()?.to_string();
        if target == JOIN {
            self.focus(None);
            self.emit(Event::BranchFinished { branch });
            return Some(self.try_join());
        }
        self.def.end(target)?;
        // A branch that may end the instance does: the others are withdrawn.
        self.focus(None);
        self.emit(Event::BranchFinished { branch });
        self.cancel_branches();
        Some(self.goto(target))
    }

    /// Whether enough branches have finished; if so, withdraw the others and go on
    /// from the parallel step.
    fn try_join(&mut self) -> Result<(), Rejection> {
        let def = self.def;
        let step = self
            .inst
            .step
            .as_deref()
            .and_then(|s| def.step(s))
            .ok_or_else(|| Rejection::Stuck("no parallel step to join".into()))?;
        let Action::Parallel(par) = &step.action else {
            return Err(Rejection::Stuck(format!(
                "step `{}` has no branches to join",
                step.name
            )));
        };
        let finished: Vec<String> = self
            .inst
            .branches
            .iter()
            .filter(|b| b.status == BranchStatus::Finished)
            .map(|b| b.name.clone())
            .collect();
        if finished.len() < par.join.needed(par.branches.len()) {
            return Ok(());
        }
        self.cancel_branches();
        self.emit(Event::Joined { branches: finished });
        self.route(step, None)
    }

    /// At a parallel step, on its main line: each running branch's tasks take their
    /// new due time from their own step's (a limit over the parallel step moved).
    /// False elsewhere: the caller refreshes the position it is at.
    pub(super) fn refresh_branch_dues(&mut self) -> bool {
        if self.inst.focused_branch().is_some() || self.inst.branches.is_empty() {
            return false;
        }
        let running = self.running_branches();
        for branch in running {
            self.focus(Some(&branch));
            self.refresh_task_dues();
        }
        self.focus(None);
        true
    }

    /// The names of the branches still running.
    fn running_branches(&self) -> Vec<String> {
        self.inst
            .branches
            .iter()
            .filter(|b| b.status == BranchStatus::Running)
            .map(|b| b.name.clone())
            .collect()
    }

    /// Withdraw every running branch: its tasks and timers are cancelled, and the
    /// history says which branch was.
    pub(super) fn cancel_branches(&mut self) {
        let running = self.running_branches();
        for branch in running {
            self.focus(Some(&branch));
            self.leave_step();
            self.focus(None);
            self.emit(Event::BranchCancelled { branch });
        }
    }
}

/// Run `f` for `cmd` in the position it concerns: a task's, a timer's or an
/// incident's branch when it has one. Without branches, `f` runs as it is.
pub(super) fn in_position(
    run: &mut Run,
    cmd: &Command,
    actor: &str,
    f: fn(&mut Run, &Command, &str) -> Result<(), Rejection>,
) -> Result<(), Rejection> {
    if run.inst.branches.is_empty() {
        return f(run, cmd, actor);
    }
    let step: Option<String> = match cmd {
        Command::Complete { task, .. } | Command::CompleteWithReason { task, .. } => {
            run.inst.task(*task).map(|t| t.step.clone())
        }
        Command::FireTimer { n, .. } => run
            .inst
            .timers
            .iter()
            .find(|t| t.n == *n)
            .and_then(|t| timer_step(&t.kind))
            .map(str::to_string),
        // The step of a task the person holds: its fills, its due time.
        Command::UpdateData { .. } | Command::Extend { limit: None, .. } => run
            .inst
            .active_tasks()
            .find(|t| super::apply::may_work(run, t, actor).is_ok())
            .map(|t| t.step.clone()),
        Command::Retry {
            attempted: Some(a), ..
        } => match a {
            Attempt::Route { step, .. } => Some(step.clone()),
            Attempt::Timer { timer, .. } => timer_step(timer).map(str::to_string),
            _ => None,
        },
        Command::Move { step } => {
            if let Some((p, b)) = run.def.branch_of(step) {
                return Err(Rejection::Conflict(format!(
                    "`{step}` is a step of branch `{}`: move the instance to `{}` to run its branches again, or to another step",
                    b.name, p.name
                )));
            }
            None
        }
        _ => None,
    };
    let branch = step.and_then(|s| run.running_branch_at(&s));
    if let Some(b) = &branch {
        run.focus(Some(b));
    }
    f(run, cmd, actor)?;
    run.focus(None);
    // A branch's due time extended: the extension was recorded on every open task
    // (as for a step without branches, whose open tasks are all its own); the other
    // branches' tasks take their own due times back.
    if matches!(cmd, Command::Extend { limit: None, .. }) {
        run.refresh_task_dues();
    }
    // A cancelled instance withdrew every task and timer; its branches go with them.
    if run.inst.status == Status::Cancelled {
        let running: Vec<String> = run
            .inst
            .branches
            .iter()
            .filter(|b| b.status == BranchStatus::Running)
            .map(|b| b.name.clone())
            .collect();
        for branch in running {
            run.emit(Event::BranchCancelled { branch });
        }
    }
    Ok(())
}
