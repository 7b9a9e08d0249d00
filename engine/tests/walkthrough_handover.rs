//! Walkthroughs of a complaint handed over (移交): to another department of the
//! company, whose head receives it, or to the scenic area's contact, who is reached by
//! SMS. The agent who received the complaint keeps it (首問負責制): what the receiver
//! answers comes back to them, and the customer is answered within the complaint's
//! limit. The manual clock runs in Shanghai time.

mod common;

use baton_dsl::eval::Value;
use baton_engine::core::{Command, Event, InstanceId, MessageKind, Rejection, TimerKind};
use common::*;
use serde_json::json;

/// 王芳, a hotline agent; her supervisor is 陳靜.
const AGENT: &str = "wang_fang";
const SUPERVISOR: &str = "chen_jing";
/// 周傑 heads the product department; 鄭凱 the technology department, where 曹磊 works.
const PRODUCT_HEAD: &str = "zhou_jie";
const TECH_HEAD: &str = "zheng_kai";
const ENGINEER: &str = "cao_lei";
/// 劉洋, a scenic-area agent; 林濤 the scenic-area supervisor.
const SCENIC_AGENT: &str = "liu_yang";
const SCENIC_SUPERVISOR: &str = "lin_tao";

fn complaint(h: &Harness, agent: &str, severity: &str) -> InstanceId {
    let data = json!({
        "customer": "張三", "contact": "13800000000", "channel": "hotline", "severity": severity
    });
    h.start("complaint", data, agent).instance.id
}

/// Accept the complaint and, having understood it, choose to hand it over.
fn accept_and_hand_over(h: &Harness, id: InstanceId, agent: &str, how: &str) {
    h.act(
        id,
        "accept",
        agent,
        None,
        json!({"summary": "門票重複扣款"}),
    );
    let inst = h.act(id, "explain", agent, Some(how), json!({}));
    assert_at(&inst, how);
}

fn steps_entered(h: &Harness, id: InstanceId) -> Vec<String> {
    h.history(id)
        .into_iter()
        .filter_map(|r| match r.event {
            Event::StepEntered { step, .. } => Some(step),
            _ => None,
        })
        .collect()
}

fn breached(h: &Harness, id: InstanceId) -> bool {
    h.history(id)
        .iter()
        .any(|r| matches!(r.event, Event::LimitBreached { .. }))
}

#[test]
fn a_complaint_handed_to_another_department_is_answered_within_its_limit() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let id = complaint(&h, AGENT, "general");
    h.clock.advance(minutes(5));
    accept_and_hand_over(&h, id, AGENT, "to_department");

    // Not to her own department: what is beyond her authority goes to her supervisor.
    h.clock.advance(minutes(5));
    let task = h.task(id, "to_department");
    let own = h.try_complete(
        task.id,
        AGENT,
        None,
        json!({"handover_department": "cs", "handover_note": "請核查"}),
    );
    match rejection(own) {
        Rejection::Requirement { message, fields } => {
            assert!(message.contains("請移交給公司其他部門"), "{message}");
            assert!(fields.contains(&"handover_department".to_string()));
        }
        other => panic!("expected the check, got {other:?}"),
    }
    assert_at(&h.inst(id), "to_department");

    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "to_department",
        AGENT,
        None,
        json!({"handover_department": "product", "handover_note": "門票系統重複扣款，請核實並退款"}),
    );
    assert_at(&inst, "department_handles");
    // The receiver: the product department's head, with half the hour to answer.
    let handed = t0 + minutes(10);
    assert_eq!(
        inst.data.get("reply_by"),
        Some(&Value::DateTime(handed + minutes(30)))
    );
    assert_eq!(
        inst.data.get("handover_by"),
        Some(&Value::Person(AGENT.into()))
    );
    let task = h.task(id, "department_handles");
    assert_eq!(task.candidates.people, [PRODUCT_HEAD]);
    assert_eq!(task.due, Some(handed + minutes(30)));
    assert_eq!(h.list(PRODUCT_HEAD), [task.id]);
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].to(), [PRODUCT_HEAD]);
    assert_eq!(
        sent[0].text(),
        "客服部移交投訴「張三」：門票重複扣款。門票系統重複扣款，請核實並退款。請於2026-03-02 09:40 +08:00前回覆處理結果"
    );
    // The agent cannot answer for the receiver.
    assert!(matches!(
        rejection(h.try_complete(
            task.id,
            AGENT,
            Some("handled"),
            json!({"handover_reply": "x"})
        )),
        Rejection::Forbidden(_)
    ));

    // The reminder ten minutes before the reply-by time reaches the receiver.
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(handed + minutes(20)), 1);
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [PRODUCT_HEAD]);

    // What comes back: the result, told to the agent, who calls the customer back.
    h.clock.advance(minutes(5));
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "department_handles",
        PRODUCT_HEAD,
        Some("handled"),
        json!({"handover_reply": "已核實，重複扣款已原路退回"}),
    );
    assert_at(&inst, "follow_up");
    assert_eq!(h.task(id, "follow_up").candidates.people, [AGENT]);
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].to(), [AGENT]);
    assert_eq!(
        sent[0].text(),
        "投訴「張三」的移交已有回覆：已核實，重複扣款已原路退回。請於處理時限內回訪客戶"
    );
    h.clock.advance(minutes(10));
    let inst = h.act(id, "follow_up", AGENT, None, json!({"satisfaction": 5}));
    assert_ended(&inst, "done");
    assert!(!breached(&h, id));
    assert_eq!(
        steps_entered(&h, id),
        [
            "accept",
            "explain",
            "to_department",
            "department_reply_by",
            "department_handles",
            "handed_back",
            "follow_up"
        ]
    );
    assert!(h.list(PRODUCT_HEAD).is_empty());
}

#[test]
fn a_late_receiver_is_chased_and_the_agent_keeps_the_customer_informed() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let id = complaint(&h, AGENT, "general");
    h.clock.advance(minutes(10));
    accept_and_hand_over(&h, id, AGENT, "to_department");
    h.act(
        id,
        "to_department",
        AGENT,
        None,
        json!({"handover_department": "technology", "handover_note": "App 下單頁面無法付款"}),
    );
    // The head takes the task and hands it on to one of his people, who now holds it.
    let task = h.task(id, "department_handles");
    assert_eq!(task.candidates.people, [TECH_HEAD]);
    h.engine.claim(task.id, TECH_HEAD).expect("claim");
    h.engine
        .act(
            id,
            Command::Reassign {
                task: task.id,
                to: ENGINEER.into(),
            },
            TECH_HEAD,
            None,
        )
        .expect("reassign");
    assert_eq!(h.list(ENGINEER), [task.id]);

    // 09:30 reminded, 09:40 due: nobody answered. The agent is told to keep the
    // customer informed, and her supervisor to coordinate.
    assert_eq!(h.fire_at(t0 + minutes(30)), 1);
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(t0 + minutes(40)), 1);
    let sent = h.outbox_after(mark);
    let texts: Vec<(Vec<&str>, &str)> = sent.iter().map(|s| (s.to(), s.text())).collect();
    assert_eq!(
        texts,
        [
            (
                vec![AGENT],
                "技術部未於2026-03-02 09:40 +08:00前回覆投訴「張三」：請先向客戶說明處理進度；如需延時，須征得客戶同意"
            ),
            (
                vec![SUPERVISOR],
                "移交技術部的投訴「張三」逾期未回覆，請協調"
            ),
        ]
    );
    // The complaint's own limit: its reminder at 09:50 reaches the one who holds the
    // task and the agent who answers for the complaint.
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(t0 + minutes(50)), 1);
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [ENGINEER, AGENT]);

    // The customer agrees to wait an hour more: recorded with the extension.
    let extend = Command::Extend {
        limit: Some("settle".into()),
        minutes: 60,
        data: obj(json!({"customer_consents": true})),
    };
    let o = h.engine.act(id, extend, AGENT, None).expect("extension");
    assert_eq!(o.instance.limits[0].deadline, t0 + hours(2));
    h.clock.set(t0 + minutes(75));
    let inst = h.act(
        id,
        "department_handles",
        ENGINEER,
        Some("handled"),
        json!({"handover_reply": "支付接口已修復，客戶可重新下單"}),
    );
    assert_at(&inst, "follow_up");
    h.clock.set(t0 + minutes(90));
    let inst = h.act(id, "follow_up", AGENT, None, json!({"satisfaction": 4}));
    assert_ended(&inst, "done");
    assert!(!breached(&h, id), "answered within the extended limit");
}

#[test]
fn a_hand_over_late_in_the_limit_is_due_by_the_limit() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let id = complaint(&h, AGENT, "general");
    h.clock.advance(minutes(40));
    accept_and_hand_over(&h, id, AGENT, "to_department");
    h.clock.advance(minutes(5));
    let inst = h.act(
        id,
        "to_department",
        AGENT,
        None,
        json!({"handover_department": "product", "handover_note": "請核實"}),
    );
    // Half an hour from 09:45 would be 10:15; the complaint must be settled by 10:00.
    assert_eq!(
        inst.data.get("reply_by"),
        Some(&Value::DateTime(t0 + minutes(75)))
    );
    let task = h.task(id, "department_handles");
    assert_eq!(task.due, Some(t0 + hours(1)));
    // The limit's reminder at 09:50 goes to the receiver and to the agent.
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(t0 + minutes(50)), 1);
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [AGENT, PRODUCT_HEAD]);
}

#[test]
fn a_major_complaint_handed_to_the_scenic_areas_contact() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let id = complaint(&h, SCENIC_AGENT, "major");
    h.clock.advance(minutes(30));
    accept_and_hand_over(&h, id, SCENIC_AGENT, "to_scenic");
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "to_scenic",
        SCENIC_AGENT,
        None,
        json!({
            "scenic_area": "西湖景區",
            "scenic_contact": "趙經理",
            "scenic_phone": "13900000000",
            "handover_note": "客戶持票被拒入園，請核查閘機記錄"
        }),
    );
    assert_at(&inst, "scenic_handles");
    // A major complaint: twelve hours for the scenic area to answer.
    let reply_by = t0 + minutes(30) + hours(12);
    assert_eq!(inst.data.get("reply_by"), Some(&Value::DateTime(reply_by)));
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].to(), ["13900000000"]);
    assert_eq!(sent[0].message.channel.as_deref(), Some("sms"));
    assert_eq!(
        sent[0].text(),
        "趙經理您好：客戶張三投訴「門票重複扣款」，移交西湖景區處理：客戶持票被拒入園，請核查閘機記錄。請於2026-03-02 21:30 +08:00前回覆客服專員劉洋。"
    );
    // The contact is not in the directory: the agent records what they answer.
    let task = h.task(id, "scenic_handles");
    assert_eq!(task.candidates.people, [SCENIC_AGENT]);
    assert_eq!(task.due, Some(reply_by));
    assert_eq!(
        h.timers(id)
            .into_iter()
            .filter(|(_, k)| matches!(k, TimerKind::Due { .. } | TimerKind::Remind { .. }))
            .map(|(at, _)| at)
            .collect::<Vec<_>>(),
        [reply_by - minutes(10), reply_by]
    );

    // No answer by then: the scenic supervisor is told, to take it up with the area.
    assert_eq!(h.fire_at(reply_by - minutes(10)), 1);
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(reply_by), 1);
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].to(), [SCENIC_SUPERVISOR]);
    assert_eq!(
        sent[0].text(),
        "西湖景區未於2026-03-02 21:30 +08:00前回覆移交的投訴「張三」，請協助與景區負責人溝通"
    );

    h.clock.set(reply_by + hours(1));
    let inst = h.act(
        id,
        "scenic_handles",
        SCENIC_AGENT,
        Some("handled"),
        json!({"handover_reply": "閘機故障，景區已補發入園憑證並致歉"}),
    );
    assert_at(&inst, "follow_up");
    let inst = h.act(
        id,
        "follow_up",
        SCENIC_AGENT,
        None,
        json!({"satisfaction": 4}),
    );
    assert_ended(&inst, "done");
    assert!(
        !breached(&h, id),
        "within the 24 hours of a major complaint"
    );
}

/// A complaint heard on a satisfaction call-back (回訪中出現的投訴，交由相關部門及時處理):
/// the department it went to sends it back, and the agent hands it to the right one.
#[test]
fn a_receiver_may_send_a_complaint_back_and_the_agent_hands_it_on() {
    let t0 = sh(2026, 3, 3, 14, 0);
    let h = Harness::at(t0);
    let caller = "ma_jun";
    let id = complaint(&h, caller, "general");
    accept_and_hand_over(&h, id, caller, "to_department");
    h.act(
        id,
        "to_department",
        caller,
        None,
        json!({"handover_department": "product", "handover_note": "行程變更未通知客戶"}),
    );
    h.clock.advance(minutes(10));
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "department_handles",
        PRODUCT_HEAD,
        Some("not_ours"),
        json!({"handover_reply": "行程通知由渠道部負責"}),
    );
    assert_at(&inst, "handover_returned");
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].to(), [caller]);
    assert_eq!(
        sent[0].text(),
        "投訴「張三」的移交被退回：行程通知由渠道部負責"
    );
    assert_eq!(h.task(id, "handover_returned").candidates.people, [caller]);

    h.act(
        id,
        "handover_returned",
        caller,
        Some("to_department"),
        json!({}),
    );
    let inst = h.act(
        id,
        "to_department",
        caller,
        None,
        json!({"handover_department": "channel", "handover_note": "行程變更未通知客戶"}),
    );
    assert_at(&inst, "department_handles");
    let task = h.task(id, "department_handles");
    assert_eq!(task.candidates.people, ["wu_hao"]);
    // A fresh half hour from the second hand-over.
    assert_eq!(task.due, Some(t0 + minutes(40)));
    h.act(
        id,
        "department_handles",
        "wu_hao",
        Some("handled"),
        json!({"handover_reply": "已補發行程變更通知並致歉"}),
    );
    let inst = h.act(id, "follow_up", caller, None, json!({"satisfaction": 3}));
    assert_ended(&inst, "done");
    assert_eq!(
        inst.data.get("handover_department"),
        Some(&Value::Department("channel".into()))
    );
}

/// Sent back, the agent may also settle it herself: a solution beyond her authority
/// goes to her supervisor as any other.
#[test]
fn a_complaint_sent_back_may_be_settled_by_the_agent() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let id = complaint(&h, AGENT, "general");
    accept_and_hand_over(&h, id, AGENT, "to_scenic");
    h.act(
        id,
        "to_scenic",
        AGENT,
        None,
        json!({
            "scenic_area": "千島湖景區",
            "scenic_contact": "錢主任",
            "scenic_phone": "13700000000",
            "handover_note": "遊船延誤"
        }),
    );
    h.act(
        id,
        "scenic_handles",
        AGENT,
        Some("not_handled"),
        json!({"handover_reply": "景區表示延誤因天氣，不予補償"}),
    );
    h.act(
        id,
        "handover_returned",
        AGENT,
        Some("needs_solution"),
        json!({}),
    );
    let inst = h.act(
        id,
        "propose",
        AGENT,
        None,
        json!({"solution": "贈送下次遊船票", "within_authority": false}),
    );
    assert_at(&inst, "approve");
    assert_eq!(h.task(id, "approve").candidates.people, [SUPERVISOR]);
    h.act(id, "approve", SUPERVISOR, Some("approved"), json!({}));
    let inst = h.act(id, "follow_up", AGENT, None, json!({"satisfaction": 4}));
    assert_ended(&inst, "done");
}
