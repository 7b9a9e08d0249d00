//! Walkthroughs of the processes driven by the calendar and the clock: trip_care
//! (waits until moments computed from the data), daily_report and weekly_hotspots
//! (started as the scheduler would), with the manual clock in Shanghai time.

mod common;

use baton_dsl::eval::Value;
use baton_engine::core::{
    Command, InstanceId, MessageKind, Rejection, TaskId, TaskState, TimerKind, SYSTEM,
};
use common::*;
use serde_json::json;

/// 陳靜, the CS-centre supervisor of the hotline agents; 李明, the CS manager.
const SUPERVISOR: &str = "chen_jing";
const CS_MANAGER: &str = "li_ming";
// ---- trip_care ------------------------------------------------------------------------

fn trip(h: &Harness) -> InstanceId {
    h.start(
        "trip_care",
        json!({
            "customer": "李四",
            "phone": "13900000000",
            "trip_date": "2026-03-10",
            "route": "張家界三日遊",
            "agent": "liu_yang",
        }),
        "lin_tao",
    )
    .instance
    .id
}

#[test]
fn trip_care_waits_for_two_days_before_and_the_departure_day() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = trip(&h);
    // Waiting until two days before the trip at 10:00 Shanghai (02:00 UTC).
    let confirm_at = sh(2026, 3, 8, 10, 0);
    assert_eq!(
        confirm_at,
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 8, 2, 0, 0).unwrap()
    );
    let inst = h.inst(id);
    assert_at(&inst, "confirm");
    assert!(inst.waiting);
    assert_eq!(inst.active_tasks().count(), 0);
    assert_eq!(
        h.timers(id),
        [(
            confirm_at,
            TimerKind::Wait {
                step: "confirm".into()
            }
        )]
    );
    assert!(h.list("liu_yang").is_empty());
    assert_eq!(h.fire_at(confirm_at - chrono::Duration::seconds(1)), 0);
    assert!(h.inst(id).waiting);

    assert_eq!(h.fire_at(confirm_at), 1);
    let inst = h.inst(id);
    assert!(!inst.waiting);
    // `agent` is the field (劉洋), not the role of that name.
    let confirm = h.task(id, "confirm");
    assert_eq!(confirm.candidates.people, ["liu_yang"]);
    assert_eq!(confirm.created_at, confirm_at);
    assert_eq!(confirm.due, Some(confirm_at + hours(4)));
    assert_eq!(h.list("liu_yang"), [confirm.id]);
    assert_eq!(
        h.timers(id),
        [
            (
                confirm_at + hours(3),
                TimerKind::Remind {
                    step: "confirm".into()
                }
            ),
            (
                confirm_at + hours(4),
                TimerKind::Due {
                    step: "confirm".into()
                }
            ),
        ]
    );
    // Late: a reminder to the agent, then the agent's supervisor is told.
    assert_eq!(h.fire_at(confirm_at + hours(4)), 2);
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), ["liu_yang"]);
    assert_eq!(sent[1].kind(), MessageKind::Overdue);
    assert_eq!(sent[1].to(), ["lin_tao"]);
    assert_eq!(sent[1].text(), "客戶李四的行前確認已逾期");

    let inst = h.act(
        id,
        "confirm",
        "liu_yang",
        None,
        json!({"arrival_time": "15:00"}),
    );
    // Waiting again, for the departure day at 08:00 Shanghai.
    let depart_at = sh(2026, 3, 10, 8, 0);
    assert_at(&inst, "depart");
    assert!(inst.waiting);
    assert_eq!(
        h.timers(id),
        [(
            depart_at,
            TimerKind::Wait {
                step: "depart".into()
            }
        )]
    );
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(depart_at - minutes(1)), 0);
    assert_eq!(h.fire_at(depart_at), 1);
    // The SMS to the customer's phone.
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Notify);
    assert_eq!(sent[0].message.channel.as_deref(), Some("sms"));
    assert_eq!(sent[0].to(), ["13900000000"]);
    assert_eq!(sent[0].at, depart_at);
    assert_eq!(
        sent[0].text(),
        "李四您好，祝您旅途愉快！旅遊全程我們都將為您提供咨詢服務，如有需要請隨時來電。"
    );
    let depart = h.task(id, "depart");
    assert_eq!(depart.due, Some(depart_at + hours(12)));
    let inst = h.act(
        id,
        "depart",
        "liu_yang",
        Some("received"),
        json!({"tracking_notes": "已到酒店"}),
    );
    assert_ended(&inst, "done");
}

#[test]
fn trip_care_no_show_is_called_back_by_the_agent_with_the_supervisor_told_when_late() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = trip(&h);
    h.fire_at(sh(2026, 3, 8, 10, 0));
    h.act(
        id,
        "confirm",
        "liu_yang",
        None,
        json!({"arrival_time": "15:00"}),
    );
    h.fire_at(sh(2026, 3, 10, 8, 0));
    let inst = h.act(id, "depart", "liu_yang", Some("no_show"), json!({}));
    assert_at(&inst, "callback");
    let callback = h.task(id, "callback");
    assert_eq!(callback.candidates.people, ["liu_yang"]);
    let due = callback.due.expect("due 1d");
    assert_eq!(due, h.now() + hours(24));
    // Overdue: the scenic supervisor is told to follow it up; the call stays the
    // agent's, who is reminded every 4 hours until it is made.
    let mark = h.outbox_mark();
    h.fire_at(due);
    let t = h.task(id, "callback");
    assert_eq!(t.candidates.people, ["liu_yang"]);
    assert!(h.list("liu_yang").contains(&t.id));
    assert!(!h.list("lin_tao").contains(&t.id));
    let sent = h.outbox_after(mark);
    let told: Vec<_> = sent.iter().filter(|m| m.to() == ["lin_tao"]).collect();
    assert_eq!(told.len(), 1, "{sent:?}");
    assert!(told[0].text().contains("劉洋"), "{}", told[0].text());
    let mark = h.outbox_mark();
    h.fire_at(due + hours(4));
    let reminded = h.outbox_after(mark);
    assert_eq!(reminded.len(), 1, "{reminded:?}");
    assert_eq!(reminded[0].kind(), MessageKind::Reminder);
    assert_eq!(reminded[0].to(), ["liu_yang"]);
    let inst = h.act(
        id,
        "callback",
        "liu_yang",
        None,
        json!({"callback_notes": "客戶改期"}),
    );
    assert_ended(&inst, "no_show");
}

// ---- daily_report ---------------------------------------------------------------------

#[test]
fn daily_report_started_for_each_agent_as_the_scheduler_would() {
    let t0 = sh(2026, 3, 2, 17, 30);
    let h = Harness::at(t0);
    let (_, def) = h.engine.store.latest("daily_report").unwrap();
    let roles: Vec<&str> = def
        .schedules
        .iter()
        .map(|s| s.for_each_role.as_deref().expect("for each person"))
        .collect();
    assert_eq!(
        roles,
        [
            "agent",
            "scenic_agent",
            "member_care_agent",
            "info_agent",
            "quality_supervisor"
        ]
    );
    // What the scheduler does at 17:30: one instance per person, `subject` set, by baton.
    let mut ids = Vec::new();
    for role in roles {
        for person in h.people(role) {
            let o = h.start("daily_report", json!({"subject": person}), SYSTEM);
            assert_eq!(o.instance.starter, SYSTEM);
            ids.push((person, o.instance.id));
        }
    }
    let people: Vec<&str> = ids.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        people,
        [
            "wang_fang",
            "zhang_wei",
            "liu_yang",
            "huang_min",
            "xu_li",
            "song_jia",
            "guo_peng"
        ]
    );
    for (person, id) in &ids {
        let t = h.task(*id, "write");
        assert_eq!(t.candidates.people, [person.as_str()]);
        assert_eq!(t.due, Some(t0 + hours(2)));
        assert_eq!(
            h.list(person),
            [t.id],
            "{person} sees only their own report"
        );
    }
    // 王芳 writes hers in time; the supervisor gets the report.
    let (_, wang) = ids[0];
    let inst = h.act(
        wang,
        "write",
        "wang_fang",
        None,
        json!({"report": "接聽52通，投訴2起"}),
    );
    assert_ended(&inst, "done");
    let sent = h.sent_by(wang);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Notify);
    assert_eq!(sent[0].to(), [SUPERVISOR]);
    assert_eq!(sent[0].text(), "王芳的工作日報：接聽52通，投訴2起");

    // The others: reminded at 19:00, their supervisors told at 19:30.
    assert_eq!(h.fire_at(t0 + minutes(90)), 6);
    let reminders = h.outbox_after(sent[0].id);
    assert_eq!(reminders.len(), 6);
    for s in &reminders {
        assert_eq!(s.kind(), MessageKind::Reminder);
        assert_eq!(s.at, t0 + minutes(90));
    }
    let mark = reminders[5].id;
    assert_eq!(h.fire_at(t0 + hours(2)), 6);
    let mut overdue: Vec<(Vec<&str>, &str)> = Vec::new();
    let late = h.outbox_after(mark);
    for s in &late {
        assert_eq!(s.kind(), MessageKind::Overdue);
        assert_eq!(s.at, t0 + hours(2));
        overdue.push((s.to(), s.text()));
    }
    overdue.sort();
    assert_eq!(
        overdue,
        [
            (vec!["chen_jing"], "張偉今日的工作日報尚未提交"),
            (vec!["he_yun"], "宋佳今日的工作日報尚未提交"),
            (vec!["he_yun"], "徐麗今日的工作日報尚未提交"),
            (vec!["li_ming"], "郭鵬今日的工作日報尚未提交"),
            (vec!["lin_tao"], "劉洋今日的工作日報尚未提交"),
            (vec!["lin_tao"], "黃敏今日的工作日報尚未提交"),
        ]
    );
    // A late report still goes through.
    let (_, liu) = ids[2];
    let inst = h.act(
        liu,
        "write",
        "liu_yang",
        None,
        json!({"report": "景區接待120人", "problems": "索道排隊"}),
    );
    assert_ended(&inst, "done");
    let report = h.sent_by(liu).pop().unwrap();
    assert_eq!(report.to(), ["lin_tao"]);
    assert_eq!(
        report.text(),
        "劉洋的工作日報：景區接待120人；問題與整改意見：索道排隊"
    );
}

// ---- weekly_hotspots ------------------------------------------------------------------

#[test]
fn weekly_hotspots_meeting_then_sunday_summary() {
    // Friday 2026-03-06 15:00, when the calendar starts it.
    let t0 = sh(2026, 3, 6, 15, 0);
    let h = Harness::at(t0);
    let o = h.start("weekly_hotspots", json!({}), SYSTEM);
    let id = o.instance.id;
    // The Sunday of this week at 20:00, fixed on Friday.
    let sunday = sh(2026, 3, 8, 20, 0);
    assert_eq!(
        o.instance.data.get("summary_due"),
        Some(&Value::DateTime(sunday))
    );
    let meeting = h.task(id, "meeting");
    assert_eq!(meeting.candidates.roles, ["cs_center_supervisor"]);
    assert_eq!(meeting.due, Some(t0 + hours(4)));
    assert_eq!(h.list(SUPERVISOR), [meeting.id]);
    let role_list = |h: &Harness| -> Vec<TaskId> {
        h.engine
            .store
            .tasks_for_role("cs_center_supervisor")
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect()
    };
    assert_eq!(role_list(&h), [meeting.id]);
    // Only members of the role may take it.
    assert!(matches!(
        rejection(h.engine.claim(meeting.id, CS_MANAGER)),
        Rejection::Forbidden(_)
    ));
    // Claimed, it leaves the role's list and stays in the claimer's.
    let o = h.engine.claim(meeting.id, SUPERVISOR).unwrap();
    let t = o.instance.task(meeting.id).unwrap();
    assert_eq!(t.state, TaskState::Claimed);
    assert_eq!(t.assignee.as_deref(), Some(SUPERVISOR));
    assert!(role_list(&h).is_empty());
    assert_eq!(h.list(SUPERVISOR), [meeting.id]);
    // Released, it is offered to the role again.
    h.engine
        .act(id, Command::Release { task: meeting.id }, SUPERVISOR, None)
        .unwrap();
    assert_eq!(role_list(&h), [meeting.id]);
    assert_eq!(
        h.engine.store.task(meeting.id).unwrap().state,
        TaskState::Open
    );
    let inst = h.act(
        id,
        "meeting",
        SUPERVISOR,
        None,
        json!({"hotspots": "退款時效", "measures": "退款加急通道"}),
    );
    assert_at(&inst, "summary");
    let summary = h.task(id, "summary");
    assert_eq!(summary.due, Some(sunday));
    assert_eq!(
        h.timers(id),
        [
            (
                sunday - hours(2),
                TimerKind::Remind {
                    step: "summary".into()
                }
            ),
            (
                sunday,
                TimerKind::Due {
                    step: "summary".into()
                }
            ),
        ]
    );
    assert_eq!(h.fire_at(sunday - hours(2)), 1);
    assert_eq!(h.fire_at(sunday), 1);
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [SUPERVISOR]);
    assert_eq!(sent[0].at, sunday - hours(2));
    assert_eq!(sent[1].kind(), MessageKind::Overdue);
    assert_eq!(sent[1].to(), [CS_MANAGER]);
    assert_eq!(sent[1].text(), "本週投訴熱點工作總結尚未提交");
    let inst = h.act(
        id,
        "summary",
        SUPERVISOR,
        None,
        json!({"summary": "本週投訴下降10%"}),
    );
    assert_ended(&inst, "done");
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2].kind(), MessageKind::Notify);
    assert_eq!(sent[2].to(), [CS_MANAGER]);
    assert_eq!(
        sent[2].text(),
        "本週投訴熱點：退款時效；處理方法：退款加急通道；工作總結：本週投訴下降10%"
    );
}
