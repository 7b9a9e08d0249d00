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
