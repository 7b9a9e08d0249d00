//! Who may start what by hand: the roles a definition's `started by` names; nobody for
//! a process that names none (the calendar or another process starts it); an admin
//! anything, recorded as such in the history.

mod common;

use baton_engine::core::{Event, Rejection, SYSTEM};
use common::*;
use serde_json::json;

const ADMIN: &str = "jiang_hui";

#[test]
fn a_process_without_started_by_is_not_started_by_hand() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    // weekly_hotspots names no role: the calendar starts it.
    match rejection(h.try_start("weekly_hotspots", json!({}), "wang_fang")) {
        Rejection::Forbidden(m) => assert!(m.contains("calendar or by another process"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Nor does a refused start leave anything behind.
    assert!(h.instances("weekly_hotspots", "running").is_empty());
    // The calendar may.
    let o = h.start("weekly_hotspots", json!({}), SYSTEM);
    assert!(!h
        .history(o.instance.id)
        .iter()
        .any(|r| matches!(r.event, Event::Commented { .. })));
}

#[test]
fn an_admin_starts_anything_and_the_history_says_so() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    let o = h.start("weekly_hotspots", json!({}), ADMIN);
    let notes: Vec<String> = h
        .history(o.instance.id)
        .into_iter()
        .filter_map(|r| match r.event {
            Event::Commented { text } => Some(format!("{}: {text}", r.actor)),
            _ => None,
        })
        .collect();
    assert_eq!(
        notes,
        // Recorded in the company's language, the admin by name.
        [format!(
            "{ADMIN}: 由江輝以管理員身分發起（不在發起角色之列）"
        )]
    );
    // A role `started by` names needs no note.
    let c = h.start(
        "complaint",
        json!({"customer": "張三", "contact": "138", "channel": "hotline"}),
        "wang_fang",
    );
    assert!(!h
        .history(c.instance.id)
        .iter()
        .any(|r| matches!(r.event, Event::Commented { .. })));
}

// ---- who may name whom: probation's `employee` ------------------------------------------

fn apply_for(
    h: &Harness,
    employee: &str,
    by: &str,
) -> Result<baton_engine::store::Outcome, baton_engine::store::StoreError> {
    h.try_start(
        "probation",
        json!({"employee": employee, "hired_on": "2026-01-05"}),
        by,
    )
}

#[test]
fn an_employee_applies_for_themselves_and_their_supervisor_for_them() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    // 王芳, an agent, for herself; 陳靜, her supervisor, for 張偉 of her team.
    let own = apply_for(&h, "wang_fang", "wang_fang").expect("for herself");
    assert_eq!(own.instance.starter, "wang_fang");
    let team = apply_for(&h, "zhang_wei", "chen_jing").expect("for her team");
    assert_eq!(team.instance.starter, "chen_jing");
    assert_eq!(h.instances("probation", "running").len(), 2);
}

#[test]
fn nobody_else_names_an_employee() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    let message = "只能為本人或本人直屬下屬申請轉正";
    for (employee, by) in [
        // A colleague of the same team.
        ("wang_fang", "zhang_wei"),
        // A supervisor, for someone of another team.
        ("liu_yang", "chen_jing"),
        // An admin is asked too.
        ("wang_fang", ADMIN),
    ] {
        assert_eq!(
            rejection(apply_for(&h, employee, by)),
            // The condition reads `employee` (and `starter`, who is no field).
            Rejection::Requirement {
                message: message.into(),
                fields: vec!["employee".into()],
            },
            "{by} for {employee}"
        );
    }
    assert!(h.instances("probation", "running").is_empty());
}

#[test]
fn a_supervisor_who_applied_signs_for_their_own_opinion() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    let id = apply_for(&h, "zhang_wei", "chen_jing")
        .expect("for her team")
        .instance
        .id;
    h.act(
        id,
        "apply",
        "zhang_wei",
        None,
        json!({"self_review": "按時完成工作"}),
    );
    h.act(
        id,
        "evaluate",
        "chen_jing",
        None,
        json!({"opinion": "表現良好", "proposed_date": "2026-04-05", "salary": 6500, "daily_score": 90}),
    );
    h.act(id, "test", "guo_peng", None, json!({"test_score": 90}));
    h.act(
        id,
        "interview",
        "li_ming",
        None,
        json!({"interview_score": 90}),
    );
    // She started it, and still signs first (`allow self approval`).
    h.sign(id, "chen_jing", true);
    assert_eq!(h.inst(id).step.as_deref(), Some("signoffs"));
    assert!(h
        .task(id, "signoffs")
        .candidates
        .roles
        .contains(&"cs_manager".to_string()));
}
