//! Timers firing: a wait ending, a due time passing, reminders, a limit's breach.
//! Each is applied like any command, as Baton's own act.

use super::flow::Run;
use super::*;
use crate::messages::Text;

pub(super) fn fire(run: &mut Run, n: u32) -> Result<(), Rejection> {
    // A timer whose instance has moved on was cancelled with it: nothing to do.
    let Some(timer) = run.inst.timers.iter().find(|t| t.n == n).cloned() else {
        return Ok(());
    };
    // An instance with an incident keeps its timers without firing them; they are
    // set again when the incident is resolved.
    if run.inst.status != Status::Running {
        return Ok(());
    }
    let attempted = Attempt::Timer {
        n,
        timer: timer.kind.clone(),
    };
    run.or_incident(attempted, |run| fire_timer(run, &timer))
}

/// Apply a timer of the instance.
pub(super) fn fire_timer(run: &mut Run, timer: &Timer) -> Result<(), Rejection> {
    let n = timer.n;
    run.emit(Event::TimerFired { n });
    let def = run.def;
    match &timer.kind {
        TimerKind::Wait { step } => {
            if run.inst.step.as_deref() == Some(step) && run.inst.waiting {
                run.emit(Event::WaitEnded);
                let s = def
                    .step(step)
                    .ok_or_else(|| Rejection::Stuck(format!("no step `{step}`")))?;
                run.body(s)?;
            }
            Ok(())
        }
        TimerKind::Due { step } => {
            let Some(s) = def.step(step) else {
                return Ok(());
            };
            let what = run.text(Text::Overdue {
                instance: &run.instance_name(),
                step: s.title.as_deref().unwrap_or(&s.name),
            });
            if s.on_overdue.is_empty() {
                let to = run.task_people();
                run.message(MessageKind::Overdue, to, what, None);
                Ok(())
            } else {
                run.timed_actions(&s.on_overdue, MessageKind::Overdue, &what)
            }
        }
        TimerKind::Remind { step } => {
            let Some(s) = def.step(step) else {
                return Ok(());
            };
            let to = run.task_people();
            let text = run.text(Text::DueSoon {
                instance: &run.instance_name(),
                step: s.title.as_deref().unwrap_or(&s.name),
            });
            run.message(MessageKind::Reminder, to, text, None);
            Ok(())
        }
        TimerKind::RemindEvery {
            step,
            every_minutes,
        } => {
            let Some(s) = def.step(step) else {
                return Ok(());
            };
            let to = run.task_people();
            let text = run.text(Text::StillOverdue {
                instance: &run.instance_name(),
                step: s.title.as_deref().unwrap_or(&s.name),
            });
            run.message(MessageKind::Reminder, to, text, None);
            let every = plain_every(&s.reminders);
            let next = next_repeat(run, timer.due, every, *every_minutes);
            run.set_timer(
                next,
                TimerKind::RemindEvery {
                    step: step.clone(),
                    every_minutes: *every_minutes,
                },
            );
            Ok(())
        }
        TimerKind::LimitBreach { limit } => {
            let Some(l) = def.limits.iter().find(|l| &l.name == limit) else {
                return Ok(());
            };
            run.emit(Event::LimitBreached {
                name: limit.clone(),
            });
            let what = run.text(Text::LimitBreached {
                instance: &run.instance_name(),
                limit: &crate::display::limit_title(def, limit),
            });
            if l.on_breach.is_empty() {
                let to = run.task_people();
                run.message(MessageKind::Breach, to, what, None);
                Ok(())
            } else {
                run.timed_actions(&l.on_breach, MessageKind::Breach, &what)
            }
        }
        TimerKind::LimitRemind { limit } => {
            let to = run.limit_people();
            let text = run.text(Text::LimitNear {
                instance: &run.instance_name(),
                limit: &crate::display::limit_title(def, limit),
            });
            run.message(MessageKind::Reminder, to, text, None);
            Ok(())
        }
        TimerKind::StepReminder {
            step,
            index,
            every_minutes,
        } => {
            let Some(s) = def.step(step) else {
                return Ok(());
            };
            let instance = run.instance_name();
            let step_title = s.title.as_deref().unwrap_or(&s.name);
            let text = match every_minutes {
                Some(_) => run.text(Text::StillOverdue {
                    instance: &instance,
                    step: step_title,
                }),
                None => run.text(Text::DueSoon {
                    instance: &instance,
                    step: step_title,
                }),
            };
            let to = run.task_people();
            let r = s.reminders.get(*index as usize);
            told_reminder(run, timer, r, to, text, *every_minutes);
            Ok(())
        }
        TimerKind::LimitReminder {
            limit,
            index,
            every_minutes,
        } => {
            let Some(l) = def.limits.iter().find(|l| &l.name == limit) else {
                return Ok(());
            };
            let instance = run.instance_name();
            let title = crate::display::limit_title(def, limit);
            let text = match every_minutes {
                Some(_) => run.text(Text::LimitStillExceeded {
                    instance: &instance,
                    limit: &title,
                }),
                None => run.text(Text::LimitNear {
                    instance: &instance,
                    limit: &title,
                }),
            };
            let to = run.limit_people();
            let r = l.reminders.get(*index as usize);
            told_reminder(run, timer, r, to, text, *every_minutes);
            Ok(())
        }
        TimerKind::ElementTimer { .. } => super::each::fire(run, timer),
        TimerKind::LimitRemindEvery {
            limit,
            every_minutes,
        } => {
            let to = run.limit_people();
            let text = run.text(Text::LimitStillExceeded {
                instance: &run.instance_name(),
                limit: &crate::display::limit_title(def, limit),
            });
            run.message(MessageKind::Reminder, to, text, None);
            let every = def
                .limits
                .iter()
                .find(|l| &l.name == limit)
                .and_then(|l| plain_every(&l.reminders));
            let next = next_repeat(run, timer.due, every, *every_minutes);
            run.set_timer(
                next,
                TimerKind::LimitRemindEvery {
                    limit: limit.clone(),
                    every_minutes: *every_minutes,
                },
            );
            Ok(())
        }
    }
}

/// A `remind` line that names whom it goes to or says its own message: to them (or
/// to `default_to`), with its text (or `default_text`); a repeating one is set again.
fn told_reminder(
    run: &mut Run,
    timer: &Timer,
    reminder: Option<&baton_dsl::model::Reminder>,
    default_to: Vec<String>,
    default_text: String,
    every_minutes: Option<i64>,
) {
    let Some(r) = reminder else { return };
    let to = match r.to() {
        Some(w) => super::assign::recipients(w, &run.inst, run.ctx),
        None => default_to,
    };
    let text = r.text().map_or(default_text, |t| run.render(t));
    run.message(MessageKind::Reminder, to, text, None);
    if let Some(m) = every_minutes {
        let next = next_repeat(run, timer.due, r.every(), m);
        run.set_timer(next, timer.kind.clone());
    }
}

/// The `remind every` line without words of its own, of a step or a limit: what a
/// `RemindEvery` timer stands for (when there is exactly one such line).
fn plain_every(reminders: &[baton_dsl::model::Reminder]) -> Option<&baton_dsl::model::Duration> {
    let mut plain = reminders
        .iter()
        .filter(|r| !r.is_told())
        .filter_map(|r| r.every());
    match (plain.next(), plain.next()) {
        (Some(d), None) => Some(d),
        _ => None,
    }
}

/// The next repetition after `now`, counted from the last one by the reminder's own
/// duration, so `every 1 working day` skips the weekend and `every 1 day` keeps the
/// wall-clock time across a daylight-saving change. After a long downtime a
/// repeating reminder fires once, not once per missed interval. Without the
/// duration (a definition that no longer says it), the interval the first one came
/// after, on a fixed grid.
pub(super) fn next_repeat(
    run: &Run,
    last: DateTime<Utc>,
    every: Option<&baton_dsl::model::Duration>,
    every_minutes: i64,
) -> DateTime<Utc> {
    if let Some(d) = every {
        let mut next = run.after(last, d);
        // Bounded: a year of hourly reminders missed is still found, and a
        // duration that does not move forward falls back to the grid.
        for _ in 0..10_000 {
            if next > run.now {
                return next;
            }
            let after = run.after(next, d);
            if after <= next {
                break;
            }
            next = after;
        }
    }
    let every = chrono::Duration::minutes(every_minutes.max(1));
    let mut next = last + every;
    if next <= run.now {
        let missed = (run.now - last).num_minutes() / every_minutes.max(1);
        next = last + every * (missed as i32 + 1);
    }
    next
}
