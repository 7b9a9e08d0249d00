//! Walkthroughs of the call-back and member-care processes, along each of their
//! paths, with the manual clock in Shanghai time: the satisfaction call-back
//! (callback, with the complaint it may open), routine member call-backs by grade
//! (member_care), yearly anniversary care (member_anniversary) and member-activity
//! proposals (member_activity).

mod common;

use baton_dsl::eval::Value;
use baton_engine::core::{Command, InstanceId, MessageKind, Rejection, Status, TimerKind};
use common::*;
use serde_json::json;

/// 馬駿, the satisfaction call-back agent; 郭鵬, the service-quality supervisor over him.
const CALLER: &str = "ma_jun";
const QUALITY_SUPERVISOR: &str = "guo_peng";
/// 徐麗, the member-care agent; 何芸, the customer-relationship supervisor over her.
const CARER: &str = "xu_li";
const RELATIONSHIP_SUPERVISOR: &str = "he_yun";
const CS_MANAGER: &str = "li_ming";
const ADMIN: &str = "jiang_hui";

fn wait_timer(step: &str) -> TimerKind {
    TimerKind::Wait { step: step.into() }
}

fn choice(v: &str) -> Value {
    Value::Choice(v.into())
}

// ---- callback ---------------------------------------------------------------------------

fn callback(h: &Harness) -> InstanceId {
    h.start(
        "callback",
        json!({"customer": "李四", "phone": "13900000000", "order": "張家界三日遊"}),
        CALLER,
    )
    .instance
    .id
}

fn questionnaire(complaint: bool) -> serde_json::Value {
    json!({
        "source": "friend",
        "motive": "family",
        "rate_consult": 5,
        "rate_trip": 4,
        "rate_scenic": 3,
        "rate_overall": 4,
        "suggestions": "景區索道排隊時間長",
        "complaint_raised": complaint,
    })
}

#[test]
fn callback_questionnaire_without_complaint_is_done() {
    // Monday 2026-03-02 09:00.
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    // Only call-back agents make satisfaction call-backs.
    assert!(matches!(
        rejection(h.try_start(
            "callback",
            json!({"customer": "李四", "phone": "13900000000"}),
            "wang_fang"
        )),
        Rejection::Forbidden(_)
    ));
    let id = callback(&h);
    let call = h.task(id, "call");
    assert_eq!(call.candidates.people, [CALLER]);
    assert_eq!(h.list(CALLER), [call.id]);
    let due = call.due.expect("due 1 working day");
    assert_eq!(due, sh(2026, 3, 3, 9, 0));
    let inst = h.act(id, "call", CALLER, Some("answered"), json!({}));
    assert_at(&inst, "survey");

    // The questionnaire must be filled: a rating missing is refused.
    let survey = h.task(id, "survey");
    let mut partial = questionnaire(false);
    partial
        .as_object_mut()
        .expect("an object")
        .remove("rate_overall");
    let errors = field_errors(rejection(h.try_complete(survey.id, CALLER, None, partial)));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "rate_overall");
    // A rating is 1 to 5.
    let mut wrong = questionnaire(false);
    wrong["rate_scenic"] = json!(6);
    let errors = field_errors(rejection(h.try_complete(survey.id, CALLER, None, wrong)));
    assert_eq!(errors[0].0, "rate_scenic");

    // The hotel is left unrated: the customer did not stay in one.
    let inst = h
        .complete(survey.id, CALLER, None, questionnaire(false))
        .instance;
    assert_ended(&inst, "done");
    assert_eq!(inst.data.get("source"), Some(&choice("friend")));
    assert_eq!(inst.data.get("rate_scenic"), Some(&Value::Int(3)));
    assert_eq!(inst.data.get("rate_hotel"), None);
    assert!(h.instances("complaint", "running").is_empty());
    assert!(h.sent_by(id).is_empty(), "{:?}", h.sent_by(id));
}

#[test]
fn callback_late_tells_the_quality_supervisor() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = callback(&h);
    let due = h.task(id, "call").due.expect("due");
    // Two working hours before: Monday 16:00 (working hours end at 18:00).
    assert_eq!(h.fire_at(sh(2026, 3, 2, 16, 0)), 1);
    assert_eq!(h.fire_at(due), 1);
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [CALLER]);
    assert_eq!(sent[1].kind(), MessageKind::Overdue);
    assert_eq!(sent[1].to(), [QUALITY_SUPERVISOR]);
    assert_eq!(sent[1].text(), "客戶李四的滿意度回訪已逾期");
    // The call stays the agent's.
    let inst = h.act(id, "call", CALLER, Some("answered"), json!({}));
    assert_at(&inst, "survey");
}

#[test]
fn callback_unreachable_is_tried_again_each_working_day_and_ends_after_three() {
    // Thursday 2026-03-05 10:00: the retries cross the weekend.
    let h = Harness::at(sh(2026, 3, 5, 10, 0));
    let id = callback(&h);
    let inst = h.act(id, "call", CALLER, Some("unreachable"), json!({}));
    assert_at(&inst, "retry");
    assert!(inst.waiting);
    assert_eq!(inst.data.get("missed_calls"), Some(&Value::Int(1)));
    // One working day later: Friday 10:00.
    let friday = sh(2026, 3, 6, 10, 0);
    assert_eq!(h.timers(id), [(friday, wait_timer("retry"))]);
    assert_eq!(h.fire_at(friday - minutes(1)), 0);
    assert_eq!(h.fire_at(friday), 1);
    let call = h.task(id, "call");
    assert_eq!(call.created_at, friday);
    let inst = h.act(id, "call", CALLER, Some("unreachable"), json!({}));
    assert_eq!(inst.data.get("missed_calls"), Some(&Value::Int(2)));
    // Over the weekend to Monday 10:00.
    let monday = sh(2026, 3, 9, 10, 0);
    assert_eq!(h.timers(id), [(monday, wait_timer("retry"))]);
    assert_eq!(h.fire_at(monday), 1);
    let inst = h.act(id, "call", CALLER, Some("unreachable"), json!({}));
    assert_ended(&inst, "unreachable");
    assert_eq!(inst.data.get("missed_calls"), Some(&Value::Int(3)));

    // Reached on a second try: the questionnaire as usual.
    let id = callback(&h);
    h.act(id, "call", CALLER, Some("unreachable"), json!({}));
    h.fire_at(sh(2026, 3, 10, 10, 0));
    h.act(id, "call", CALLER, Some("answered"), json!({}));
    let inst = h.act(id, "survey", CALLER, None, questionnaire(false));
    assert_ended(&inst, "done");
    assert_eq!(inst.data.get("missed_calls"), Some(&Value::Int(1)));
}

/// A call-back that turns up a complaint: recorded, the responsible department's
/// head told, and the complaint opened with the call-back agent as first responder.
fn callback_with_complaint(h: &Harness) -> (InstanceId, InstanceId) {
    let id = callback(h);
    h.act(id, "call", CALLER, Some("answered"), json!({}));
    let inst = h.act(id, "survey", CALLER, None, questionnaire(true));
    assert_at(&inst, "record_complaint");
    let record = h.task(id, "record_complaint");
    let o = h.complete(
        record.id,
        CALLER,
        None,
        json!({"complaint_summary": "導遊途中強制購物", "complaint_severity": "major", "responsible": "product"}),
    );
    assert_eq!(o.children.len(), 1, "the complaint is opened");
    let child = o.children[0];
    assert_at(&o.instance, "hand_over");
    assert!(o.instance.awaiting_child);
    (id, child)
}

#[test]
fn callback_complaint_goes_to_the_complaint_process_and_the_department_head() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let (id, child) = callback_with_complaint(&h);
    // The product department's head, 周傑, is told.
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].kind(), MessageKind::Notify);
    assert_eq!(sent[0].to(), ["zhou_jie"]);
    assert_eq!(
        sent[0].text(),
        "回訪中客戶李四提出投訴（重大）：導遊途中強制購物。已轉投訴處理，請及時配合處理。"
    );
    // The complaint: the customer's data carried over, the agent who heard it owns it.
    let c = h.inst(child);
    assert_eq!(c.process, "complaint");
    assert_eq!(c.parent, Some(id));
    assert_eq!(c.starter, CALLER);
    assert_eq!(c.data.get("customer"), Some(&Value::Text("李四".into())));
    assert_eq!(
        c.data.get("contact"),
        Some(&Value::Text("13900000000".into()))
    );
    assert_eq!(c.data.get("channel"), Some(&choice("hotline")));
    assert_eq!(c.data.get("severity"), Some(&choice("major")));
    assert_eq!(
        c.data.get("summary"),
        Some(&Value::Text("導遊途中強制購物".into()))
    );
    let accept = h.task(child, "accept");
    assert_eq!(accept.candidates.people, [CALLER]);

    // Settled: explained, called back; the call-back ends with it.
    h.act(child, "accept", CALLER, None, json!({}));
    h.act(child, "explain", CALLER, Some("resolved"), json!({}));
    let c = h.act(child, "follow_up", CALLER, None, json!({"satisfaction": 4}));
    assert_ended(&c, "done");
    let inst = h.inst(id);
    assert_ended(&inst, "settled");
}

#[test]
fn callback_complaint_cancelled_ends_the_call_back_too() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let (id, child) = callback_with_complaint(&h);
    h.engine
        .act(
            child,
            Command::Cancel {
                reason: "客戶撤回投訴".into(),
            },
            ADMIN,
            None,
        )
        .expect("cancelled");
    assert_eq!(h.inst(child).status, Status::Cancelled);
    let inst = h.inst(id);
    assert_ended(&inst, "complaint_cancelled");
}

// ---- member_care ------------------------------------------------------------------------

fn member(h: &Harness, grade: &str) -> InstanceId {
    h.start(
        "member_care",
        json!({"member": "王五", "phone": "13700000000", "grade": grade}),
        CARER,
    )
    .instance
    .id
}

#[test]
fn member_care_calls_by_grade_and_follows_a_new_grade() {
    // Monday 2026-03-02 09:00.
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    assert!(matches!(
        rejection(h.try_start(
            "member_care",
            json!({"member": "王五", "phone": "13700000000", "grade": "group"}),
            CALLER
        )),
        Rejection::Forbidden(_)
    ));
    // 集團客戶: every month, done within one working day.
    let id = member(&h, "group");
    let inst = h.inst(id);
    assert_at(&inst, "call");
    assert!(inst.waiting);
    assert_eq!(
        inst.data.get("next_call"),
        Some(&Value::Date(date(2026, 4, 2)))
    );
    let first = sh(2026, 4, 2, 10, 0);
    assert_eq!(h.timers(id), [(first, wait_timer("call"))]);
    assert!(h.list(CARER).is_empty());
    assert_eq!(h.fire_at(first), 1);
    let call = h.task(id, "call");
    assert_eq!(call.candidates.people, [CARER]);
    assert_eq!(call.due, Some(sh(2026, 4, 3, 10, 0)));
    let inst = h.act(id, "call", CARER, Some("reached"), json!({}));
    assert_at(&inst, "record");
    // Graded down to 忠實客戶: the next call is two months on.
    let inst = h.act(
        id,
        "record",
        CARER,
        None,
        json!({"opinions": "希望增加親子線路", "grade": "loyal"}),
    );
    assert_at(&inst, "call");
    assert_eq!(
        inst.data.get("next_call"),
        Some(&Value::Date(date(2026, 6, 2)))
    );
    let second = sh(2026, 6, 2, 10, 0);
    assert_eq!(h.timers(id), [(second, wait_timer("call"))]);
    assert_eq!(h.fire_at(second), 1);
    // 忠實客戶: within two working days (Tuesday to Thursday).
    let call = h.task(id, "call");
    assert_eq!(call.due, Some(sh(2026, 6, 4, 10, 0)));

    // Not reached: tried again the next working day, same grade, same time allowed.
    let inst = h.act(id, "call", CARER, Some("unreachable"), json!({}));
    assert_at(&inst, "retry");
    let retry = sh(2026, 6, 3, 10, 0);
    assert_eq!(h.timers(id), [(retry, wait_timer("retry"))]);
    assert_eq!(h.fire_at(retry), 1);
    let call = h.task(id, "call");
    assert_eq!(call.created_at, retry);
    assert_eq!(call.due, Some(sh(2026, 6, 5, 10, 0)));

    // Late: the relationship supervisor is told; the call stays the agent's.
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 6, 5, 10, 0));
    let late: Vec<Sent> = h
        .outbox_after(mark)
        .into_iter()
        .filter(|s| s.kind() == MessageKind::Overdue)
        .collect();
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0].to(), [RELATIONSHIP_SUPERVISOR]);
    assert_eq!(late[0].text(), "會員王五（忠實客戶）的定期回訪已逾期");
    assert_eq!(h.task(id, "call").candidates.people, [CARER]);

    // Care stopped: the supervisor is told.
    let mark = h.outbox_mark();
    let inst = h.act(id, "call", CARER, Some("stop"), json!({}));
    assert_ended(&inst, "stopped");
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to(), [RELATIONSHIP_SUPERVISOR]);
    assert_eq!(sent[0].text(), "會員王五（忠實客戶）已停止定期回訪維護");
}

#[test]
fn member_care_complaint_is_opened_and_the_calls_go_on() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    // 一般會員: every quarter, done within three working days.
    let id = member(&h, "ordinary");
    let first = sh(2026, 6, 2, 10, 0);
    assert_eq!(h.timers(id), [(first, wait_timer("call"))]);
    h.fire_at(first);
    let call = h.task(id, "call");
    assert_eq!(call.due, Some(sh(2026, 6, 5, 10, 0)));
    let inst = h.act(id, "call", CARER, Some("complaint"), json!({}));
    assert_at(&inst, "record_complaint");
    let record = h.task(id, "record_complaint");
    let o = h.complete(
        record.id,
        CARER,
        None,
        json!({"complaint_summary": "積分未到賬", "complaint_severity": "general"}),
    );
    // The complaint runs on its own, with the member-care agent as first responder ...
    assert_eq!(o.children.len(), 1);
    let c = h.inst(o.children[0]);
    assert_eq!(c.process, "complaint");
    assert_eq!(c.parent, Some(id));
    assert_eq!(c.starter, CARER);
    assert_eq!(c.data.get("customer"), Some(&Value::Text("王五".into())));
    assert_eq!(c.data.get("severity"), Some(&choice("general")));
    assert_eq!(h.task(c.id, "accept").candidates.people, [CARER]);
    // ... and the member's next call is already planned, a quarter on.
    assert_at(&o.instance, "call");
    assert!(!o.instance.awaiting_child);
    assert_eq!(h.timers(id), [(sh(2026, 9, 2, 10, 0), wait_timer("call"))]);
}

#[test]
fn member_care_first_call_on_a_day_the_agent_names() {
    // Monday 2026-03-02 09:00.
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let start = |next_call: &str| {
        h.start(
            "member_care",
            json!({"member": "王五", "phone": "13700000000", "grade": "ordinary", "next_call": next_call}),
            CARER,
        )
        .instance
        .id
    };
    // A welcome call on Wednesday, then every quarter from that call.
    let id = start("2026-03-04");
    let welcome = sh(2026, 3, 4, 10, 0);
    assert_eq!(h.timers(id), [(welcome, wait_timer("call"))]);
    h.fire_at(welcome);
    h.act(id, "call", CARER, Some("reached"), json!({}));
    let inst = h.act(id, "record", CARER, None, json!({}));
    assert_eq!(
        inst.data.get("next_call"),
        Some(&Value::Date(date(2026, 6, 4)))
    );
    // Today, with 10:00 come: the call is offered at once.
    let id = start("2026-03-04");
    let call = h.task(id, "call");
    assert_eq!(call.created_at, welcome);
    let inst = h.act(id, "call", CARER, Some("stop"), json!({}));
    assert_ended(&inst, "stopped");
    // A day already past is not a day to call: planned by grade.
    let id = start("2026-03-01");
    assert_eq!(h.timers(id), [(sh(2026, 6, 4, 10, 0), wait_timer("call"))]);
}

// ---- member_anniversary -----------------------------------------------------------------

fn anniversary(h: &Harness, memorial: &str) -> InstanceId {
    h.start(
        "member_anniversary",
        json!({"member": "王五", "phone": "13700000000", "occasion": "birthday", "memorial": memorial}),
        CARER,
    )
    .instance
    .id
}

#[test]
fn member_anniversary_comes_back_every_year_until_stopped() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = anniversary(&h, "1990-05-12");
    let inst = h.inst(id);
    assert_at(&inst, "care");
    assert_eq!(inst.data.get("years"), Some(&Value::Int(36)));
    let day = sh(2026, 5, 12, 9, 0);
    assert_eq!(h.timers(id), [(day, wait_timer("care"))]);
    assert_eq!(h.fire_at(day - minutes(1)), 0);
    assert_eq!(h.fire_at(day), 1);
    // On the day at 09:00: an SMS to the member, and the call for the agent by 18:00.
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message.channel.as_deref(), Some("sms"));
    assert_eq!(sent[0].to(), ["13700000000"]);
    assert_eq!(
        sent[0].text(),
        "王五您好，今天是您的生日，我們祝您快樂安康，感謝您一直以來的支持！"
    );
    let care = h.task(id, "care");
    assert_eq!(care.candidates.people, [CARER]);
    assert_eq!(care.due, Some(sh(2026, 5, 12, 18, 0)));
    // Reminded at 16:00, the supervisor told at 18:00.
    assert_eq!(h.fire_at(sh(2026, 5, 12, 18, 0)), 2);
    let sent = h.sent_by(id);
    assert_eq!(sent[1].kind(), MessageKind::Reminder);
    assert_eq!(sent[1].at, sh(2026, 5, 12, 18, 0));
    assert_eq!(sent[2].kind(), MessageKind::Overdue);
    assert_eq!(sent[2].to(), [RELATIONSHIP_SUPERVISOR]);
    assert_eq!(sent[2].text(), "會員王五的生日關懷問候尚未完成");

    // Cared for: next year's day.
    let inst = h.act(
        id,
        "care",
        CARER,
        Some("cared"),
        json!({"care_notes": "已電話問候，客戶很高興"}),
    );
    assert_at(&inst, "care");
    assert_eq!(inst.data.get("years"), Some(&Value::Int(37)));
    let next = sh(2027, 5, 12, 9, 0);
    assert_eq!(h.timers(id), [(next, wait_timer("care"))]);
    assert_eq!(h.fire_at(next), 1);
    let inst = h.act(id, "care", CARER, Some("stop"), json!({}));
    assert_ended(&inst, "stopped");
}

#[test]
fn member_anniversary_already_past_this_year_waits_for_next_and_keeps_29_february() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    // 29 February: 28 February in 2027, 29 February again in 2028.
    let id = anniversary(&h, "1992-02-29");
    assert_eq!(h.data(id, "years"), Some(Value::Int(35)));
    let first = sh(2027, 2, 28, 9, 0);
    assert_eq!(h.timers(id), [(first, wait_timer("care"))]);
    h.fire_at(first);
    h.act(id, "care", CARER, Some("cared"), json!({}));
    assert_eq!(h.timers(id), [(sh(2028, 2, 29, 9, 0), wait_timer("care"))]);
    // Started on the day itself, before 09:00: cared for today.
    let h = Harness::at(sh(2026, 3, 2, 8, 0));
    let today = anniversary(&h, "2000-03-02");
    assert_eq!(h.data(today, "years"), Some(Value::Int(26)));
    assert_eq!(
        h.timers(today),
        [(sh(2026, 3, 2, 9, 0), wait_timer("care"))]
    );
}

// ---- member_activity --------------------------------------------------------------------

fn proposal(h: &Harness) -> InstanceId {
    h.start(
        "member_activity",
        json!({
            "activity": "五一親子遊",
            "starts_on": "2026-05-01",
            "ends_on": "2026-05-05",
            "target": "loyal",
            "hotspots": "親子線路咨詢增多",
            "plan": "忠實客戶親子線路八折",
            "budget": 20000,
        }),
        CARER,
    )
    .instance
    .id
}

#[test]
fn member_activity_approved_by_the_supervisor_then_the_manager() {
    // Monday 2026-03-02 09:00.
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = proposal(&h);
    let review = h.task(id, "supervisor_review");
    assert_eq!(review.candidates.roles, ["relationship_supervisor"]);
    assert_eq!(h.list(RELATIONSHIP_SUPERVISOR), [review.id]);
    assert_eq!(review.due, Some(sh(2026, 3, 4, 9, 0)));
    let inst = h.act(
        id,
        "supervisor_review",
        RELATIONSHIP_SUPERVISOR,
        Some("approve"),
        json!({}),
    );
    assert_at(&inst, "manager_review");
    let review = h.task(id, "manager_review");
    assert_eq!(review.candidates.roles, ["cs_manager"]);
    // Two working days: Monday 09:00 to Wednesday 09:00; reminded before, told when
    // late, and reminded again every working day after.
    let due = review.due.expect("due");
    assert_eq!(due, sh(2026, 3, 4, 9, 0));
    assert_eq!(h.fire_at(due), 2);
    let kinds = |mark: u64| -> Vec<(MessageKind, Vec<String>)> {
        h.outbox_after(mark)
            .iter()
            .map(|s| (s.kind(), s.to().iter().map(|p| p.to_string()).collect()))
            .collect()
    };
    let manager = vec![CS_MANAGER.to_string()];
    assert_eq!(
        kinds(0),
        [
            (MessageKind::Reminder, manager.clone()),
            (MessageKind::Overdue, manager.clone())
        ]
    );
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(due + hours(24) - minutes(1)), 0);
    assert_eq!(h.fire_at(due + hours(24)), 1);
    assert_eq!(kinds(mark), [(MessageKind::Reminder, manager)]);
    let mark = h.outbox_mark();
    let inst = h.act(id, "manager_review", CS_MANAGER, Some("approve"), json!({}));
    assert_ended(&inst, "approved");
    // Every member-care agent is told, to recommend it; and the supervisor.
    let sent = h.outbox_after(mark);
    let told: Vec<(Vec<&str>, &str)> = sent.iter().map(|s| (s.to(), s.text())).collect();
    assert!(
        told.contains(&(
            vec![CARER],
            "會員活動「五一親子遊」已批准（2026-05-01至2026-05-05，忠實客戶），請向會員推介"
        )),
        "{told:?}"
    );
    assert!(
        told.contains(&(
            vec![RELATIONSHIP_SUPERVISOR],
            "會員活動「五一親子遊」已獲客服經理批准"
        )),
        "{told:?}"
    );
}

#[test]
fn member_activity_sent_back_reworked_and_withdrawn() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = proposal(&h);
    let inst = h.act(
        id,
        "supervisor_review",
        RELATIONSHIP_SUPERVISOR,
        Some("revise"),
        json!({}),
    );
    assert_at(&inst, "revise");
    let revise = h.task(id, "revise");
    assert_eq!(revise.candidates.people, [CARER]);
    // What was changed must be said.
    let errors = field_errors(rejection(h.try_complete(
        revise.id,
        CARER,
        Some("resubmit"),
        json!({"plan": "忠實客戶親子線路九折"}),
    )));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "revision_notes");
    let inst = h
        .complete(
            revise.id,
            CARER,
            Some("resubmit"),
            json!({"plan": "忠實客戶親子線路九折", "budget": 12000, "revision_notes": "折扣降低，預算減少"}),
        )
        .instance;
    // Back to the supervisor first, then the manager.
    assert_at(&inst, "supervisor_review");
    assert_eq!(
        inst.data.get("plan"),
        Some(&Value::Text("忠實客戶親子線路九折".into()))
    );
    h.act(
        id,
        "supervisor_review",
        RELATIONSHIP_SUPERVISOR,
        Some("approve"),
        json!({}),
    );
    let inst = h.act(id, "manager_review", CS_MANAGER, Some("revise"), json!({}));
    assert_at(&inst, "revise");
    let inst = h.act(
        id,
        "revise",
        CARER,
        Some("withdraw"),
        json!({"revision_notes": "檔期衝突，改為暑期提案"}),
    );
    assert_ended(&inst, "withdrawn");
}

#[test]
fn member_activity_turned_down_by_either_reviewer() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = proposal(&h);
    let inst = h.act(
        id,
        "supervisor_review",
        RELATIONSHIP_SUPERVISOR,
        Some("reject"),
        json!({}),
    );
    assert_ended(&inst, "rejected");

    let id = proposal(&h);
    h.act(
        id,
        "supervisor_review",
        RELATIONSHIP_SUPERVISOR,
        Some("approve"),
        json!({}),
    );
    let inst = h.act(id, "manager_review", CS_MANAGER, Some("reject"), json!({}));
    assert_ended(&inst, "rejected");
    // The agent who proposed it is told.
    assert!(
        h.sent_by(id).iter().any(|s| s.to() == [CARER]),
        "{:?}",
        h.sent_by(id)
    );
}

#[test]
fn member_activity_dates_must_make_sense() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let base = json!({
        "activity": "春季賞花",
        "target": "all",
        "hotspots": "賞花咨詢",
        "plan": "會員專場",
    });
    let with_dates = |starts: &str, ends: &str| {
        let mut d = base.clone();
        d["starts_on"] = json!(starts);
        d["ends_on"] = json!(ends);
        d
    };
    let backwards = rejection(h.try_start(
        "member_activity",
        with_dates("2026-04-05", "2026-04-01"),
        CARER,
    ));
    assert!(format!("{backwards:?}").contains("活動結束日期不能早於開始日期"));
    let started = rejection(h.try_start(
        "member_activity",
        with_dates("2026-03-02", "2026-03-10"),
        CARER,
    ));
    assert!(format!("{started:?}").contains("活動須在開始之前提案"));
    assert!(h.instances("member_activity", "running").is_empty());
    // A one-day activity tomorrow is fine.
    let o = h.start(
        "member_activity",
        with_dates("2026-03-03", "2026-03-03"),
        CARER,
    );
    assert_at(&o.instance, "supervisor_review");
}
