//! Onboarding opens the probation application on a day applications are accepted
//! (on or before the 15th), whenever the mentor finishes the guidance: her task never
//! depends on the date, and the child's start is never refused.

mod common;

use baton_engine::core::TimerKind;
use common::*;
use serde_json::json;

const HR: &str = "sun_li";
const SUPERVISOR: &str = "chen_jing";
const MENTOR: &str = "wang_fang";

/// Onboarding for zhang_wei, hired 2026-04-01, up to the mentor's guidance, which
/// she completes at `guided`. Returns the instance id.
fn guided_at(h: &Harness, guided: chrono::DateTime<chrono::Utc>) -> u64 {
    let o = h.start(
        "onboarding",
        json!({"employee": "zhang_wei", "hired_on": "2026-04-01"}),
        HR,
    );
    let id = o.instance.id;
    assert_eq!(h.fire_at(sh(2026, 4, 1, 9, 0)), 1);
    h.act(
        id,
        "report",
        SUPERVISOR,
        None,
        json!({"offer_letter_no": "HR-1"}),
    );
    h.act(id, "introduce", SUPERVISOR, None, json!({}));
    h.act(id, "study", "zhang_wei", None, json!({}));
    h.act(
        id,
        "assign",
        SUPERVISOR,
        None,
        json!({"workstation": "A-1", "mentor": MENTOR}),
    );
    h.fire_at(guided);
    // The mentor's completion is accepted whatever the date.
    paperwork(h, id);
    h.act(id, "guide", MENTOR, None, json!({}));
    id
}

fn opens(h: &Harness, id: u64) -> Vec<chrono::DateTime<chrono::Utc>> {
    h.timers(id)
        .into_iter()
        .filter(|(_, k)| matches!(k, TimerKind::Wait { step } if step == "probation"))
        .map(|(t, _)| t)
        .collect()
}

#[test]
fn guidance_finished_after_the_15th_opens_the_application_early_next_month() {
    let h = Harness::at(sh(2026, 3, 20, 9, 0));
    // The planned day (07-02) has passed, and on the 20th no application is accepted.
    let id = guided_at(&h, sh(2026, 7, 20, 10, 0));
    let day = sh(2026, 8, 1, 9, 0);
    assert_eq!(h.inst(id).step.as_deref(), Some("probation"));
    assert_eq!(opens(&h, id), [day]);
    assert_eq!(h.fire_at(day - minutes(1)), 0);
    assert_eq!(h.fire_at(day), 1);
    let running = h.instances("probation", "running");
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].parent, Some(id));
    // Onboarding waits for the application it opened.
    assert!(h.inst(id).awaiting_child);
}

#[test]
fn guidance_finished_by_the_15th_opens_the_application_at_once() {
    let h = Harness::at(sh(2026, 3, 20, 9, 0));
    let id = guided_at(&h, sh(2026, 7, 10, 10, 0));
    // 09:00 on the 10th is past: no wait, the application opens now.
    assert!(opens(&h, id).is_empty());
    assert_eq!(h.instances("probation", "running").len(), 1);
    // Onboarding waits for the application it opened.
    assert!(h.inst(id).awaiting_child);
}

/// Whatever the day the mentor finishes her guidance, her task is accepted and the
/// application opens on a day applications are accepted: the probation starts and
/// no incident is raised. Every day of a long month (after the 09:00 opening), and
/// the edges: before the opening on the 15th and 16th, the end of February.
#[test]
fn every_day_of_the_month_the_guidance_ends_and_the_application_opens() {
    use chrono::Datelike;
    let days = (1..=31)
        .map(|d| sh(2026, 7, d, 17, 0))
        .chain([sh(2026, 7, 15, 8, 0), sh(2026, 7, 16, 8, 0)])
        .chain([sh(2027, 2, 15, 23, 0), sh(2027, 2, 28, 10, 0)]);
    for guided in days {
        let h = Harness::at(sh(2026, 3, 20, 9, 0));
        let id = guided_at(&h, guided);
        // Fire each timer when it is due, as the scheduler would.
        while let Some((due, _)) = h.timers(id).first().cloned() {
            assert!(
                due - guided < chrono::Duration::days(20),
                "{guided}: waits until {due}"
            );
            h.fire_at(due);
        }
        let inst = h.inst(id);
        assert!(inst.awaiting_child, "guided {guided}: {inst:?}");
        let running = h.instances("probation", "running");
        assert_eq!(running.len(), 1, "guided {guided}");
        assert_eq!(running[0].parent, Some(id));
        let opened = h.now().with_timezone(&ZONE).date_naive();
        assert!(opened.day() <= 15, "guided {guided}: opened {opened}");
        assert_eq!(h.engine.store.incident_count(), 0, "guided {guided}");
    }
}
