//! Time across daylight-saving changes (New York and Berlin, spring and autumn):
//! hours and minutes are elapsed time, days keep the wall-clock time, a local time
//! the clocks skip is the end of the gap; and working time at run time, extensions
//! included, is counted on the business calendar.

mod common;

use baton_engine::core::{Command, InstanceId, Rejection, TimerKind};
use baton_engine::store::Options;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use chrono_tz::{America::New_York, Europe::Berlin};
use common::*;
use serde_json::json;

const AGENT: &str = "wang_fang";

const CLOCKS: &str = r#"process clocks "時鐘" {
  started by agent
  data {
    customer text "客戶"
    meet_on date "見面日"
  }
  step call "回電" {
    task for starter
    due 2h when customer == "hours"
    due 1 day when customer == "day"
    due 2 working hours when customer == "working"
    due 1 working day when customer == "working day"
    next visit
  }
  step visit "拜訪" {
    wait until meet_on at 02:30
    task for starter
    next done
  }
  end done
}
"#;

const SETTLE: &str = r#"process settle "處理" {
  started by agent
  data {
    customer text "客戶"
  }
  step settle "處理" {
    task for starter
    due 1h
    extend up to 2 working days
    next done
  }
  end done
}
"#;

/// A wall-clock time in `zone` that exists once.
fn at(zone: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    zone.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("an unambiguous local time")
        .with_timezone(&Utc)
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn harness(zone: Tz, start: DateTime<Utc>) -> Harness {
    let h = Harness::with(
        start,
        Options {
            zone,
            ..Default::default()
        },
    );
    for (file, src) in [("clocks.flow", CLOCKS), ("settle.flow", SETTLE)] {
        h.engine.store.deploy(file, src, start).expect("deploys");
    }
    h
}

/// The due time of the first step, for a process started at `start` in `zone`.
fn due(zone: Tz, start: DateTime<Utc>, kind: &str) -> DateTime<Utc> {
    let h = harness(zone, start);
    let id = h
        .start(
            "clocks",
            json!({"customer": kind, "meet_on": "2026-12-01"}),
            AGENT,
        )
        .instance
        .id;
    h.inst(id).due.expect("a due time")
}

#[test]
fn two_hours_are_two_hours_of_elapsed_time_across_every_change() {
    // Started an hour before each change of 2026, and half an hour before the
    // spring ones, where wall-clock arithmetic lands in the gap.
    for start in [
        // New York: 8 March 02:00 EST -> 03:00 EDT; 1 November 02:00 EDT -> 01:00 EST.
        at(New_York, 2026, 3, 8, 1, 0),
        at(New_York, 2026, 3, 8, 0, 30),
        utc(2026, 11, 1, 5, 0), // 01:00 EDT, the first of the two
        // Berlin: 29 March 02:00 CET -> 03:00 CEST; 25 October 03:00 CEST -> 02:00 CET.
        at(Berlin, 2026, 3, 29, 1, 0),
        at(Berlin, 2026, 3, 29, 0, 30),
        utc(2026, 10, 25, 0, 0), // 02:00 CEST, the first of the two
    ] {
        for zone in [New_York, Berlin] {
            assert_eq!(
                due(zone, start, "hours") - start,
                hours(2),
                "due 2h from {start} in {zone}"
            );
        }
    }
}

#[test]
fn a_day_keeps_the_wall_clock_time_and_a_skipped_time_moves_to_the_end_of_the_gap() {
    for (zone, from, to) in [
        // 09:00 the day before spring forward is 09:00 the next day: 23 hours.
        (
            New_York,
            at(New_York, 2026, 3, 7, 9, 0),
            at(New_York, 2026, 3, 8, 9, 0),
        ),
        (
            Berlin,
            at(Berlin, 2026, 3, 28, 9, 0),
            at(Berlin, 2026, 3, 29, 9, 0),
        ),
        // And before fall back: 25 hours.
        (
            New_York,
            at(New_York, 2026, 10, 31, 9, 0),
            at(New_York, 2026, 11, 1, 9, 0),
        ),
        (
            Berlin,
            at(Berlin, 2026, 10, 24, 9, 0),
            at(Berlin, 2026, 10, 25, 9, 0),
        ),
        // 02:30 the next day does not exist: the clocks go on at 03:00.
        (
            New_York,
            at(New_York, 2026, 3, 7, 2, 30),
            at(New_York, 2026, 3, 8, 3, 0),
        ),
        (
            Berlin,
            at(Berlin, 2026, 3, 28, 2, 30),
            at(Berlin, 2026, 3, 29, 3, 0),
        ),
        // 01:30 the next day happens twice: the first.
        (
            New_York,
            at(New_York, 2026, 10, 31, 1, 30),
            utc(2026, 11, 1, 5, 30),
        ),
        (
            Berlin,
            at(Berlin, 2026, 10, 24, 2, 30),
            utc(2026, 10, 25, 0, 30),
        ),
    ] {
        assert_eq!(
            due(zone, from, "day"),
            to,
            "due 1 day from {from} in {zone}"
        );
    }
}

#[test]
fn a_wait_until_a_time_in_the_gap_ends_when_the_gap_does() {
    for (zone, day, end) in [
        (New_York, "2026-03-08", at(New_York, 2026, 3, 8, 3, 0)),
        (Berlin, "2026-03-29", at(Berlin, 2026, 3, 29, 3, 0)),
    ] {
        let start = end - chrono::Duration::days(2);
        let h = harness(zone, start);
        let id = h
            .start(
                "clocks",
                json!({"customer": "hours", "meet_on": day}),
                AGENT,
            )
            .instance
            .id;
        h.act(id, "call", AGENT, None, json!({}));
        let waits: Vec<DateTime<Utc>> = h
            .timers(id)
            .into_iter()
            .filter(|(_, k)| matches!(k, TimerKind::Wait { .. }))
            .map(|(t, _)| t)
            .collect();
        assert_eq!(waits, [end], "wait until {day} at 02:30 in {zone}");
        h.fire_at(end - minutes(1));
        assert_eq!(h.inst(id).active_tasks().count(), 0, "still waiting");
        h.fire_at(end);
        assert_eq!(h.inst(id).active_tasks().count(), 1, "the wait is over");
    }
}

#[test]
fn working_time_counts_working_hours_across_the_change() {
    for (zone, friday, monday) in [
        (New_York, (2026, 3, 6), (2026, 3, 9)),
        (New_York, (2026, 10, 30), (2026, 11, 2)),
        (Berlin, (2026, 3, 27), (2026, 3, 30)),
        (Berlin, (2026, 10, 23), (2026, 10, 26)),
    ] {
        let (fy, fm, fd) = friday;
        let (my, mm, md) = monday;
        // One hour on Friday, one on Monday from 09:00.
        assert_eq!(
            due(zone, at(zone, fy, fm, fd, 17, 0), "working"),
            at(zone, my, mm, md, 10, 0),
            "2 working hours in {zone}"
        );
        assert_eq!(
            due(zone, at(zone, fy, fm, fd, 10, 0), "working day"),
            at(zone, my, mm, md, 10, 0),
            "1 working day in {zone}"
        );
    }
}

fn extend(h: &Harness, id: InstanceId, minutes: i64) -> Result<(), Rejection> {
    match h.engine.act(
        id,
        Command::Extend {
            limit: None,
            minutes,
            data: obj(json!({})),
        },
        AGENT,
        None,
    ) {
        Ok(_) => Ok(()),
        Err(e) => Err(rejection::<()>(Err(e))),
    }
}

#[test]
fn an_extension_up_to_two_working_days_reaches_over_the_weekend_and_no_further() {
    // Friday 6 March 2026, 16:00 in Shanghai: due at 17:00; two working days later
    // is Tuesday 17:00, four days of wall-clock time, not 2 x 8 hours.
    let start = sh(2026, 3, 6, 16, 0);
    let h = Harness::at(start);
    h.engine
        .store
        .deploy("settle.flow", SETTLE, start)
        .expect("deploys");
    let id = h
        .start("settle", json!({"customer": "張三"}), AGENT)
        .instance
        .id;
    let cap = sh(2026, 3, 10, 17, 0);
    assert_eq!(h.inst(id).due, Some(sh(2026, 3, 6, 17, 0)));
    // A day first (more than 16 hours), then the rest up to Tuesday 17:00 exactly.
    extend(&h, id, 24 * 60).expect("a day is within two working days");
    extend(&h, id, 3 * 24 * 60).expect("up to Tuesday 17:00");
    assert_eq!(h.inst(id).due, Some(cap));
    // One minute more is past the cap.
    match extend(&h, id, 1) {
        Err(Rejection::Forbidden(m)) => {
            assert!(m.contains("2026-03-10 17:00"), "{m}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(h.inst(id).due, Some(cap));
}

const TRIAGE: &str = r#"process triage "分流" {
  started by agent
  data {
    customer text "客戶"
    promised duration "承諾時限"
  }
  step call "回電" {
    task for starter
    due 2h when promised <= 1 working day
    due 1 day when promised > 1 working day
    next done
  }
  end done
}
"#;

#[test]
fn durations_compare_on_the_business_calendar_at_run_time() {
    // From Friday 17:00 one working day ends on Monday 17:00: 20 hours is shorter,
    // though it is more than an 8-hour working day.
    let start = sh(2026, 3, 6, 17, 0);
    let h = Harness::at(start);
    h.engine
        .store
        .deploy("triage.flow", TRIAGE, start)
        .expect("deploys");
    let id = h
        .start(
            "triage",
            json!({"customer": "張三", "promised": "20h"}),
            AGENT,
        )
        .instance
        .id;
    assert_eq!(h.inst(id).due, Some(start + hours(2)));
}

const CHASE: &str = r#"process chase "催辦" {
  started by agent
  data {
    customer text "客戶"
  }
  step call "回電" {
    task for starter
    due 1h
    remind every 1 working day after due
    remind every 1 working day after due to supervisor of starter "「{customer}」仍未回電"
    next done
  }
  end done
}
"#;

#[test]
fn a_reminder_every_working_day_repeats_on_working_days() {
    // Due Thursday 5 March 17:00: reminded Friday 17:00, then Monday 17:00 (not
    // Sunday: three days was the first interval only because of the calendar).
    let start = sh(2026, 3, 5, 16, 0);
    let h = Harness::at(start);
    h.engine
        .store
        .deploy("chase.flow", CHASE, start)
        .expect("deploys");
    let id = h
        .start("chase", json!({"customer": "張三"}), AGENT)
        .instance
        .id;
    let repeats = |h: &Harness| -> Vec<DateTime<Utc>> {
        h.timers(id)
            .into_iter()
            .filter(|(_, k)| {
                matches!(
                    k,
                    TimerKind::RemindEvery { .. }
                        | TimerKind::StepReminder {
                            every_minutes: Some(_),
                            ..
                        }
                )
            })
            .map(|(t, _)| t)
            .collect()
    };
    let friday = sh(2026, 3, 6, 17, 0);
    assert_eq!(repeats(&h), [friday, friday]);
    h.fire_at(friday);
    let monday = sh(2026, 3, 9, 17, 0);
    assert_eq!(repeats(&h), [monday, monday]);
    h.fire_at(monday);
    let tuesday = sh(2026, 3, 10, 17, 0);
    assert_eq!(repeats(&h), [tuesday, tuesday]);
}
