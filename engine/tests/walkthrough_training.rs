//! Walkthroughs of case-based team training (第三章 第三節 四 客服人員團隊協作培訓 1.:
//! 以案例的形式，以周/月/季度為周期做定期培訓) on the manual clock in Shanghai time:
//! the calendar opens each supervisor's weekly, monthly and quarterly session; the
//! supervisor records the cases, the attendees and the outcome; every attendee signs;
//! someone listed who was not there refuses and the list is corrected; late sessions
//! and late signatures are chased; a supervisor trains their team by hand.

mod common;

use baton_dsl::eval::Value;
use baton_engine::core::{
    Command, Event, InstanceId, MessageKind, Rejection, Task, TaskKind, TaskState, TimerKind,
    SYSTEM,
};
use baton_engine::store::{Outcome, StoreError};
use common::*;
use serde_json::json;

/// 林濤, the scenic-area supervisor, trains his team: 劉洋 and 黃敏.
const ORGANISER: &str = "lin_tao";
const TRAINEE: &str = "liu_yang";
const OTHER_TRAINEE: &str = "huang_min";
/// 李明, the CS manager: every supervisor's leader.
const CS_MANAGER: &str = "li_ming";
/// The four supervisors, one per team, in the directory's order.
const SUPERVISORS: [&str; 4] = ["chen_jing", "lin_tao", "he_yun", "guo_peng"];

/// The session of `organiser` among the case trainings `ids`.
fn session_of(h: &Harness, ids: &[InstanceId], organiser: &str) -> InstanceId {
    *ids.iter()
        .find(|id| h.data(**id, "organiser") == Some(Value::Person(organiser.into())))
        .unwrap_or_else(|| panic!("no session of {organiser} among {ids:?}"))
}

/// The open sign-off of `person` in the instance.
fn signature_of(h: &Harness, id: InstanceId, person: &str) -> Task {
    h.inst(id)
        .active_tasks()
        .find(|t| t.kind == TaskKind::Sign && t.candidates.people == [person])
        .cloned()
        .unwrap_or_else(|| panic!("no signature of {person}"))
}

fn record(attendees: &[&str]) -> serde_json::Value {
    let attendees: Vec<serde_json::Value> =
        attendees.iter().map(|p| json!({"trainee": p})).collect();
    json!({
        "held_on": "2026-03-11",
        "topic": "景區投訴處理案例",
        "cases": [
            {"kind": "complaint", "title": "索道排隊投訴", "analysis": "先致歉，告知等候時間，安排引導分流"},
            {"kind": "feedback", "title": "遊客反映取票處難找", "analysis": "報信息聯絡專員與景區溝通增設指示牌"},
        ],
        "attendees": attendees,
        "outcomes": "掌握排隊投訴的處理步驟",
    })
}

/// The CS manager's notices of the instance after `mark`.
fn to_manager(h: &Harness, id: InstanceId, mark: u64) -> Vec<String> {
    sent_for(h, id, mark)
        .into_iter()
        .filter(|(_, to, _)| to == &[CS_MANAGER])
        .map(|(_, _, text)| text)
        .collect()
}

#[test]
fn every_supervisors_weekly_session_opens_and_one_is_held_signed_and_reported() {
    // The daemon runs from 08:00 on Monday 9 March 2026.
    let h = calendar_from(sh(2026, 3, 9, 8, 0));
    let (_, def) = h.engine.store.latest("training_weekly").unwrap();
    let roles: Vec<&str> = def
        .schedules
        .iter()
        .map(|s| s.for_each_role.as_deref().expect("for each supervisor"))
        .collect();
    assert_eq!(
        roles,
        [
            "cs_center_supervisor",
            "scenic_supervisor",
            "relationship_supervisor",
            "quality_supervisor"
        ]
    );
    assert!(def
        .schedules
        .iter()
        .all(|s| s.phrase == "every monday at 09:00"));
    let sessions_before = ids_of(&h, "case_training");
    let openers = run_calendar(&h, "training_weekly", sh(2026, 3, 9, 9, 0));
    assert_eq!(openers.len(), 4);
    // Each opener starts its supervisor's session and is done.
    let sessions: Vec<InstanceId> = ids_of(&h, "case_training")
        .into_iter()
        .filter(|id| !sessions_before.contains(id))
        .collect();
    assert_eq!(sessions.len(), 4);
    for opener in &openers {
        assert_ended(&h.inst(*opener), "done");
    }
    let mut organisers: Vec<String> = Vec::new();
    for s in &sessions {
        let inst = h.inst(*s);
        assert_eq!(inst.starter, SYSTEM);
        assert!(openers.contains(&inst.parent.expect("started by an opener")));
        assert_eq!(
            inst.data.get("cycle"),
            Some(&Value::Choice("weekly".into()))
        );
        match inst.data.get("organiser") {
            Some(Value::Person(p)) => organisers.push(p.clone()),
            other => panic!("organiser: {other:?}"),
        }
    }
    organisers.sort();
    let mut expected = SUPERVISORS.map(String::from).to_vec();
    expected.sort();
    assert_eq!(organisers, expected);
    // Nothing more that Monday.
    assert!(run_calendar(&h, "training_weekly", sh(2026, 3, 9, 9, 0)).is_empty());

    // 林濤's session: his to hold and record within the working week.
    let id = session_of(&h, &sessions, ORGANISER);
    let rec = h.task(id, "record");
    assert_eq!(rec.candidates.people, [ORGANISER]);
    assert!(h.list(ORGANISER).contains(&rec.id));
    assert!(!h.list(TRAINEE).contains(&rec.id));
    assert_eq!(rec.due, Some(sh(2026, 3, 16, 9, 0)));
    // A record before the session is held is refused.
    h.clock.set(sh(2026, 3, 10, 16, 0));
    let rejected = h.try_complete(rec.id, ORGANISER, None, record(&[TRAINEE, OTHER_TRAINEE]));
    assert_eq!(refused(rejected), "培訓日期不能晚於今天：培訓舉行後再記錄");
    // At least one case, of the kinds the regulation names.
    let mut bad = record(&[TRAINEE]);
    bad["cases"] = json!([{"kind": "gossip", "title": "x", "analysis": "y"}]);
    h.clock.set(sh(2026, 3, 11, 16, 0));
    assert!(matches!(
        rejection(h.try_complete(rec.id, ORGANISER, None, bad)),
        Rejection::Invalid(_)
    ));
    let inst = h.act(
        id,
        "record",
        ORGANISER,
        None,
        record(&[TRAINEE, OTHER_TRAINEE]),
    );
    assert_at(&inst, "attend");
    // Each attendee signs the record, within two working days.
    let signs: Vec<Task> = inst.active_tasks().cloned().collect();
    assert!(signs.iter().all(|t| t.kind == TaskKind::Sign));
    let who: Vec<&str> = signs
        .iter()
        .map(|t| t.candidates.people[0].as_str())
        .collect();
    assert_eq!(who, [TRAINEE, OTHER_TRAINEE]);
    let titles: Vec<&str> = signs.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["參訓簽到確認：劉洋", "參訓簽到確認：黃敏"]);
    assert!(signs.iter().all(|t| t.due == Some(sh(2026, 3, 13, 16, 0))));
    // (The week's scenic service report, started the same Monday, is in 劉洋's list too.)
    assert!(h.list(TRAINEE).contains(&signs[0].id));
    assert!(!h.list(TRAINEE).contains(&signs[1].id));
    // Only the attendee signs their own place.
    assert!(matches!(
        rejection(h.try_complete(signs[0].id, OTHER_TRAINEE, Some("approve"), json!({}))),
        Rejection::Forbidden(_)
    ));
    h.complete(signs[0].id, TRAINEE, Some("approve"), json!({}));
    let mark = h.outbox_mark();
    let inst = h
        .complete(signs[1].id, OTHER_TRAINEE, Some("approve"), json!({}))
        .instance;
    assert_ended(&inst, "done");
    assert_eq!(inst.data.get("case_count"), Some(&Value::Int(2)));
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Notify,
            to(&[CS_MANAGER]),
            "林濤的每週案例培訓（2026-03-11，景區投訴處理案例）已完成：案例2個，參訓2人均已簽到確認。培訓成效：掌握排隊投訴的處理步驟；後續改進：無".to_string()
        )]
    );
}

/// The requirement a refused `check` or `require` gives back, by its message alone.
fn refused(r: Result<Outcome, StoreError>) -> String {
    match rejection(r) {
        Rejection::Requirement { message, .. } => message,
        other => panic!("expected a requirement, got {other:?}"),
    }
}

/// A weekly session of 林濤's as the opener starts it, on Monday 9 March 2026.
fn weekly_session(h: &Harness) -> InstanceId {
    h.start(
        "case_training",
        json!({"organiser": ORGANISER, "cycle": "weekly"}),
        SYSTEM,
    )
    .instance
    .id
}

#[test]
fn an_attendee_who_was_not_there_refuses_and_the_corrected_list_is_signed_again() {
    let h = Harness::at(sh(2026, 3, 9, 9, 0));
    let id = weekly_session(&h);
    h.clock.set(sh(2026, 3, 11, 16, 0));
    h.act(
        id,
        "record",
        ORGANISER,
        None,
        record(&[TRAINEE, OTHER_TRAINEE]),
    );
    let mine = signature_of(&h, id, TRAINEE);
    let theirs = signature_of(&h, id, OTHER_TRAINEE);
    // 黃敏 was off that day and says so.
    h.clock.set(sh(2026, 3, 12, 10, 0));
    let mark = h.outbox_mark();
    let o = h
        .engine
        .act(
            id,
            Command::CompleteWithReason {
                task: theirs.id,
                choice: Some("refuse".into()),
                data: obj(json!({})),
                reason: "當天輪休，未參加".into(),
            },
            OTHER_TRAINEE,
            None,
        )
        .expect("refusal");
    assert_at(&o.instance, "correct");
    assert!(o.records.iter().any(|r| r.event
        == Event::Reasoned {
            task: theirs.id,
            reason: "當天輪休，未參加".into()
        }));
    // 劉洋's signature still open is withdrawn; the list goes back to the organiser.
    assert_eq!(
        h.engine.store.task(mine.id).unwrap().state,
        TaskState::Cancelled
    );
    assert!(h.list(TRAINEE).is_empty());
    let correct = h.task(id, "correct");
    assert_eq!(correct.candidates.people, [ORGANISER]);
    assert_eq!(correct.due, Some(sh(2026, 3, 13, 10, 0)));
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Notify,
            to(&[ORGANISER]),
            "有參訓人員不確認參加2026-03-11的案例培訓（理由見記錄），請更正參訓名單後重新簽到"
                .to_string()
        )]
    );
    // What was corrected must be said.
    assert!(matches!(
        rejection(h.try_complete(
            correct.id,
            ORGANISER,
            None,
            json!({"attendees": [{"trainee": TRAINEE}]})
        )),
        Rejection::Invalid(_)
    ));
    let inst = h.act(
        id,
        "correct",
        ORGANISER,
        None,
        json!({"attendees": [{"trainee": TRAINEE}], "correction": "黃敏當天輪休，已從名單刪除"}),
    );
    // Signed afresh by whoever is listed now.
    assert_at(&inst, "attend");
    assert_eq!(inst.signatures, []);
    let again = signature_of(&h, id, TRAINEE);
    assert_ne!(again.id, mine.id);
    assert_eq!(inst.active_tasks().count(), 1);
    let mark = h.outbox_mark();
    let inst = h
        .complete(again.id, TRAINEE, Some("approve"), json!({}))
        .instance;
    assert_ended(&inst, "done");
    let told = to_manager(&h, id, mark);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("參訓1人均已簽到確認"), "{}", told[0]);
}

#[test]
fn a_session_not_held_in_time_and_signatures_not_given_are_chased() {
    let h = Harness::at(sh(2026, 3, 9, 9, 0));
    let id = weekly_session(&h);
    // Reminded a working day before it is due, on Friday.
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 13, 9, 0));
    let sent = sent_for(&h, id, mark);
    assert_eq!(
        (sent.len(), sent[0].0, &sent[0].1),
        (1, MessageKind::Reminder, &to(&[ORGANISER]))
    );
    // Due on Monday: his leader, the CS manager, is told.
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 16, 9, 0));
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Overdue,
            to(&[CS_MANAGER]),
            "林濤的每週案例培訓尚未舉行並記錄".to_string()
        )]
    );
    // And he is reminded each working day after: Tuesday, not over the weekend.
    assert!(h
        .timers(id)
        .iter()
        .any(|(at, k)| *at == sh(2026, 3, 17, 9, 0) && matches!(k, TimerKind::RemindEvery { .. })));
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 17, 9, 0));
    let sent = sent_for(&h, id, mark);
    assert_eq!(
        (sent.len(), sent[0].0, &sent[0].1),
        (1, MessageKind::Reminder, &to(&[ORGANISER]))
    );

    // Held late, on Tuesday.
    h.clock.set(sh(2026, 3, 17, 14, 0));
    let mut late = record(&[TRAINEE]);
    late["held_on"] = json!("2026-03-17");
    let inst = h.act(id, "record", ORGANISER, None, late);
    assert_at(&inst, "attend");
    let sign = signature_of(&h, id, TRAINEE);
    assert_eq!(sign.due, Some(sh(2026, 3, 19, 14, 0)));
    // The attendee is reminded four working hours before (Thursday 09:00, the lunch
    // hour not counted); late, the organiser hears of it each working day.
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 19, 9, 0));
    let sent = sent_for(&h, id, mark);
    assert_eq!(
        (sent.len(), sent[0].0, &sent[0].1),
        (1, MessageKind::Reminder, &to(&[TRAINEE]))
    );
    h.fire_at(sh(2026, 3, 19, 14, 0));
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 20, 14, 0));
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Reminder,
            to(&[ORGANISER]),
            "劉洋尚未確認參加2026-03-17的案例培訓".to_string()
        )]
    );
    h.clock.set(sh(2026, 3, 20, 15, 0));
    let inst = h
        .complete(sign.id, TRAINEE, Some("approve"), json!({}))
        .instance;
    assert_ended(&inst, "done");
}

#[test]
fn monthly_and_quarterly_sessions_open_on_the_first_and_the_quarter_takes_its_months_place() {
    // The daemon runs from Friday 27 February 2026.
    let h = calendar_from(sh(2026, 2, 27, 12, 0));
    // Sunday 1 March, 09:00: the monthly sessions, no quarterly one.
    let monthly = run_calendar(&h, "training_monthly", sh(2026, 3, 1, 9, 0));
    assert_eq!(monthly.len(), 4);
    assert!(ids_of(&h, "training_quarterly").is_empty());
    let sessions = ids_of(&h, "case_training");
    assert_eq!(sessions.len(), 4);
    let id = session_of(&h, &sessions, ORGANISER);
    assert_eq!(h.data(id, "cycle"), Some(Value::Choice("monthly".into())));
    // Ten working days from the Monday after.
    assert_eq!(h.task(id, "record").due, Some(sh(2026, 3, 16, 9, 0)));

    // Wednesday 1 April, 09:00: the quarterly sessions instead of April's monthly ones.
    let before = ids_of(&h, "case_training");
    let quarterly = run_calendar(&h, "training_quarterly", sh(2026, 4, 1, 9, 0));
    assert_eq!(quarterly.len(), 4);
    assert_eq!(ids_of(&h, "training_monthly"), monthly);
    let new: Vec<InstanceId> = ids_of(&h, "case_training")
        .into_iter()
        .filter(|i| !before.contains(i))
        .collect();
    let cycles: Vec<Value> = new
        .iter()
        .filter_map(|i| h.data(*i, "cycle"))
        .filter(|c| *c != Value::Choice("weekly".into()))
        .collect();
    assert_eq!(cycles, vec![Value::Choice("quarterly".into()); 4]);
    let quarter = *new
        .iter()
        .find(|i| {
            h.data(**i, "cycle") == Some(Value::Choice("quarterly".into()))
                && h.data(**i, "organiser") == Some(Value::Person(ORGANISER.into()))
        })
        .expect("林濤's quarterly session");
    // Three working weeks.
    assert_eq!(h.task(quarter, "record").due, Some(sh(2026, 4, 22, 9, 0)));
    // 1 May opens monthly sessions again.
    assert_eq!(
        run_calendar(&h, "training_monthly", sh(2026, 5, 1, 9, 0)).len(),
        4
    );
    assert_eq!(ids_of(&h, "training_quarterly"), quarterly);
}

#[test]
fn a_supervisor_trains_their_own_team_by_hand_and_signs_the_record_too() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    // Only a supervisor, and only for their own team.
    assert!(matches!(
        rejection(h.try_start("case_training", json!({"organiser": TRAINEE}), TRAINEE)),
        Rejection::Forbidden(_)
    ));
    assert_eq!(
        refused(h.try_start(
            "case_training",
            json!({"organiser": "chen_jing"}),
            ORGANISER
        )),
        "只能組織本人團隊的培訓"
    );
    let o = h.start("case_training", json!({"organiser": ORGANISER}), ORGANISER);
    let id = o.instance.id;
    // By hand, it is the 不定期 training of the supervisors' duties: two working weeks.
    assert_eq!(
        o.instance.data.get("cycle"),
        Some(&Value::Choice("adhoc".into()))
    );
    assert_eq!(h.task(id, "record").due, Some(sh(2026, 3, 24, 10, 0)));
    h.clock.set(sh(2026, 3, 11, 16, 0));
    let mut data = record(&[ORGANISER, TRAINEE]);
    data["improvements"] = json!("每週一晨會複盤一則投訴案例");
    h.act(id, "record", ORGANISER, None, data);
    // He trained alongside his team and signs his own place.
    h.complete(
        signature_of(&h, id, ORGANISER).id,
        ORGANISER,
        Some("approve"),
        json!({}),
    );
    let mark = h.outbox_mark();
    let inst = h
        .complete(
            signature_of(&h, id, TRAINEE).id,
            TRAINEE,
            Some("approve"),
            json!({}),
        )
        .instance;
    assert_ended(&inst, "done");
    assert_eq!(
        to_manager(&h, id, mark),
        ["林濤的不定期案例培訓（2026-03-11，景區投訴處理案例）已完成：案例2個，參訓2人均已簽到確認。培訓成效：掌握排隊投訴的處理步驟；後續改進：每週一晨會複盤一則投訴案例"]
    );
}
