//! Giving a step or a running limit more time, where its definition allows
//! (`extend up to 24h when customer_consents`), with the data its condition reads
//! recorded at that moment.

use super::apply::{fields_read, invalid, is_admin, reading, running};
use super::flow::Run;
use super::validate::check_input;
use super::*;

pub(super) fn extend(
    run: &mut Run,
    limit: Option<&str>,
    minutes: i64,
    input: &serde_json::Map<String, serde_json::Value>,
    actor: &str,
) -> Result<(), Rejection> {
    running(run)?;
    if minutes <= 0 {
        return Err(invalid("minutes", "an extension must be longer than zero"));
    }
    let may = match limit {
        Some(_) => super::may::extend_limit,
        None => super::may::extend,
    };
    if !may(run.ctx.directory, run.ctx.admin_role, &run.inst, actor) {
        return Err(Rejection::Forbidden(format!(
            "{} has no task in instance {}",
            run.name_of(actor),
            run.inst.id
        )));
    }
    let (extension, current, already) = match limit {
        Some(name) => {
            let def_limit = run
                .def
                .limits
                .iter()
                .find(|l| l.name == name)
                .ok_or_else(|| Rejection::NotFound(format!("no limit `{name}`")))?;
            let active = run
                .inst
                .limits
                .iter()
                .find(|l| l.name == name)
                .ok_or_else(|| Rejection::Conflict(format!("limit `{name}` is not running")))?;
            (
                def_limit.extend.clone(),
                active.deadline,
                active.extended_minutes,
            )
        }
        None => {
            let step = run
                .step()
                .ok_or_else(|| Rejection::Conflict("no current step".into()))?;
            // A task's due time may be a limit's deadline: name the limit to extend.
            let due = run.inst.due.ok_or_else(|| {
                let limits: Vec<String> = run
                    .inst
                    .limits
                    .iter()
                    .map(|l| format!("`{}`", l.name))
                    .collect();
                Rejection::Conflict(if limits.is_empty() {
                    "the current step has no due time".into()
                } else {
                    format!(
                        "the current step has no due time of its own; its tasks are due by the limit {}: extend that",
                        limits.join(", ")
                    )
                })
            })?;
            (step.extend.clone(), due, run.inst.due_extended_minutes)
        }
    };
    let ext = extension.ok_or_else(|| {
        Rejection::Forbidden("the definition does not allow extending this deadline".into())
    })?;
    // The data given with the request (for example the customer's consent) counts
    // for the condition; it is recorded only if the extension is granted. Only the
    // fields the condition reads may be given this way (any field by an admin).
    let allowed: Option<Vec<String>> = if is_admin(run, actor) {
        None
    } else {
        let mut read = Vec::new();
        if let Some(c) = &ext.when {
            fields_read(c, &mut read);
        }
        Some(read)
    };
    let values = check_input(
        run.def,
        input,
        allowed.as_deref(),
        &reading(run.ctx, run.now),
    )
    .map_err(Rejection::Invalid)?;
    if !values.is_empty() {
        run.emit(Event::DataSet { values });
    }
    if !run.holds(ext.when.as_ref())? {
        let cond = ext.when.as_ref().map(|c| c.to_string()).unwrap_or_default();
        return Err(Rejection::Forbidden(format!(
            "extension refused: `{cond}` does not hold"
        )));
    }
    // The cap is a moment: `up to 2 working days` from the deadline as first set,
    // counted on the business calendar (over a weekend, say), not as a fixed number
    // of minutes.
    let first = current - chrono::Duration::minutes(already);
    let latest = run.after(first, &ext.up_to);
    let due = current + chrono::Duration::minutes(minutes);
    if due > latest {
        return Err(Rejection::Forbidden(format!(
            "extension refused: at most {} in all, until {}",
            ext.up_to,
            crate::display::time(latest, run.ctx.zone)
        )));
    }
    run.emit(Event::DeadlineExtended {
        limit: limit.map(str::to_string),
        minutes,
        due,
    });
    // Move the timers: drop the old ones and set them again from the new deadline.
    match limit {
        Some(name) => {
            run.cancel_limit_timers(name);
            run.limit_timers(name, due);
        }
        None => {
            let step = run
                .step()
                .ok_or_else(|| Rejection::Stuck("no step".into()))?;
            let old: Vec<u32> = run
                .inst
                .timers
                .iter()
                // The step's own (a parallel step's other branches have theirs).
                .filter(|t| match &t.kind {
                    TimerKind::Due { step: s }
                    | TimerKind::Remind { step: s }
                    | TimerKind::RemindEvery { step: s, .. }
                    | TimerKind::StepReminder { step: s, .. } => *s == step.name,
                    _ => false,
                })
                .map(|t| t.n)
                .collect();
            for n in old {
                run.emit(Event::TimerCancelled { n });
            }
            run.due_timers(step, Some(due));
        }
    }
    run.refresh_task_dues();
    Ok(())
}
