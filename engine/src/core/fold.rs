//! Folding events into an instance. The only place state changes; `apply` uses the
//! same function on its working copy, so replaying the history always gives the
//! stored state (a property test holds it to that).

use super::*;

/// The instance an instance's `Started` event creates.
pub fn started(id: InstanceId, at: DateTime<Utc>, ev: &Event) -> Option<Instance> {
    let Event::Started {
        process,
        version,
        starter,
        data,
        parent,
    } = ev
    else {
        return None;
    };
    Some(Instance {
        id,
        process: process.clone(),
        version: *version,
        status: Status::Running,
        outcome: None,
        starter: starter.clone(),
        started_at: at,
        updated_at: at,
        data: data.clone(),
        parent: *parent,
        step: None,
        step_started_at: None,
        waiting: false,
        due: None,
        due_extended_minutes: 0,
        awaiting_child: false,
        children: vec![],
        tasks: vec![],
        signatures: vec![],
        timers: vec![],
        limits: vec![],
        seq: 1,
        next_task: 1,
        next_timer: 1,
        branches: vec![],
        child_outcome: None,
        children_awaited: 0,
    })
}

/// Replay a whole history.
pub fn replay(id: InstanceId, records: &[Record]) -> Option<Instance> {
    let (first, rest) = records.split_first()?;
    let mut inst = started(id, first.at, &first.event)?;
    for r in rest {
        fold(&mut inst, &r.event, r.at);
    }
    Some(inst)
}

fn task_mut(inst: &mut Instance, id: TaskId) -> Option<&mut Task> {
    inst.tasks.iter_mut().find(|t| t.id == id)
}

pub fn fold(inst: &mut Instance, ev: &Event, at: DateTime<Utc>) {
    inst.seq += 1;
    inst.updated_at = at;
    match ev {
        Event::Started { .. } => {}
        Event::StepEntered { step, waiting } => {
            inst.step = Some(step.clone());
            inst.step_started_at = Some(at);
            inst.waiting = *waiting;
            inst.due = None;
            inst.due_extended_minutes = 0;
            // A step left while it waited for a child (a limit's `goto`, an admin's
            // move) waits for it no more.
            inst.awaiting_child = false;
            inst.children_awaited = 0;
            inst.signatures.clear();
            // Finished tasks of earlier steps live on in the task records and the
            // history; the instance keeps only what the current step needs.
            // (In a branch, the other branches' steps are current too.)
            let others = super::branches::other_steps(inst);
            inst.tasks
                .retain(|t| t.state.is_active() || others.contains(&t.step));
            // A step entered on the main line ends any parallel step before it: its
            // branches were joined or cancelled on the way out.
            if inst.focused_branch().is_none() {
                inst.branches.clear();
            }
        }
        Event::WaitEnded => inst.waiting = false,
        Event::DueSet { due } => inst.due = *due,
        Event::DataSet { values } => {
            for (k, v) in values {
                inst.data.insert(k.clone(), v.clone());
            }
        }
        Event::TaskCreated { task } => {
            inst.next_task = inst.next_task.max(task.id.n + 1);
            inst.tasks.push(task.clone());
        }
        Event::TaskClaimed { task, .. }
        | Event::TaskDue { task, .. }
        | Event::TaskReleased { task }
        | Event::TaskReassigned { task, .. }
        | Event::TaskCancelled { task } => {
            if let Some(t) = task_mut(inst, *task) {
                fold_task(t, ev);
            }
        }
        Event::TaskCompleted { task, data, .. } => {
            if let Some(t) = task_mut(inst, *task) {
                fold_task(t, ev);
            }
            for (k, v) in data {
                inst.data.insert(k.clone(), v.clone());
            }
        }
        Event::Signed { by, approve } => inst.signatures.push(Signature {
            by: by.clone(),
            approve: *approve,
        }),
        Event::TimerSet { timer } => {
            inst.next_timer = inst.next_timer.max(timer.n + 1);
            inst.timers.push(timer.clone());
        }
        Event::TimerCancelled { n } | Event::TimerFired { n } => {
            inst.timers.retain(|t| t.n != *n);
        }
        Event::LimitStarted { limit } => inst.limits.push(limit.clone()),
        Event::LimitBreached { name } => {
            if let Some(l) = inst.limits.iter_mut().find(|l| &l.name == name) {
                l.breached = true;
            }
        }
        Event::LimitStopped { name } => inst.limits.retain(|l| &l.name != name),
        Event::DeadlineExtended {
            limit,
            minutes,
            due,
        } => match limit {
            Some(name) => {
                if let Some(l) = inst.limits.iter_mut().find(|l| &l.name == name) {
                    l.extended_minutes += minutes;
                    l.deadline = *due;
                    l.breached = false;
                }
            }
            None => {
                inst.due_extended_minutes += minutes;
                inst.due = Some(*due);
                for t in inst.tasks.iter_mut() {
                    fold_task(t, ev);
                }
            }
        },
        Event::MessageQueued { .. } | Event::Commented { .. } | Event::Reasoned { .. } => {}
        Event::ChildStarted { wait, .. } => {
            if *wait {
                inst.children_awaited += 1;
            }
            inst.awaiting_child = inst.children_awaited > 0;
            inst.child_outcome = None;
        }
        Event::ChildFinished { child, outcome } => {
            // An instance stored before the count (0 here) waited for one child.
            inst.children_awaited = inst.children_awaited.saturating_sub(1);
            inst.awaiting_child = inst.children_awaited > 0;
            inst.children.push(*child);
            inst.child_outcome = Some(outcome.clone());
        }
        Event::Completed { outcome } => {
            inst.status = Status::Completed;
            inst.outcome = Some(outcome.clone());
            inst.step = None;
            inst.waiting = false;
            inst.due = None;
        }
        Event::Cancelled { .. } => {
            inst.status = Status::Cancelled;
            inst.waiting = false;
        }
        Event::IncidentRaised { .. } => inst.status = Status::Incident,
        Event::IncidentResolved { .. } => inst.status = Status::Running,
        Event::BranchStarted { .. }
        | Event::InBranch { .. }
        | Event::BranchFinished { .. }
        | Event::BranchCancelled { .. }
        | Event::Joined { .. } => super::branches::fold(inst, ev),
    }
}

/// A task record's share of an event. The store keeps task records (and their
/// indexes) apart from the instance, and updates them with this same function.
pub fn fold_task(t: &mut Task, ev: &Event) {
    match ev {
        Event::TaskClaimed { task, by } if *task == t.id => {
            t.state = TaskState::Claimed;
            t.assignee = Some(by.clone());
        }
        Event::TaskReleased { task } if *task == t.id => {
            t.state = TaskState::Open;
            t.assignee = None;
        }
        Event::TaskCompleted {
            task, by, choice, ..
        } if *task == t.id => {
            t.state = TaskState::Completed;
            t.completed_by = Some(by.clone());
            t.assignee = Some(by.clone());
            t.choice = choice.clone();
        }
        Event::TaskReassigned { task, to, .. } if *task == t.id => {
            t.candidates = to.clone();
            t.assignee = None;
            t.state = TaskState::Open;
        }
        Event::TaskCancelled { task } if *task == t.id => t.state = TaskState::Cancelled,
        Event::TaskDue { task, due } if *task == t.id => t.due = *due,
        Event::DeadlineExtended {
            limit: None, due, ..
        } if t.state.is_active() => t.due = Some(*due),
        _ => {}
    }
}
