//! Walkthroughs of the customer requests that are not complaints (咨詢、購買、售後、
//! 便民): answered on the spot, after asking a colleague, by a leader when beyond the
//! agent's authority, or turned into a complaint; and a booking checked with the
//! customer. The manual clock runs in Shanghai time.

mod common;

use baton_dsl::eval::Value;
use baton_engine::core::{Command, InstanceId, MessageKind, Rejection, Status};
use common::*;
use serde_json::json;

/// 王芳 and 張偉, hotline agents; their supervisor 陳靜; the CS manager 李明.
const AGENT: &str = "wang_fang";
const COLLEAGUE: &str = "zhang_wei";
const SUPERVISOR: &str = "chen_jing";
const CS_MANAGER: &str = "li_ming";

fn request(h: &Harness, agent: &str, kind: &str, what: &str) -> InstanceId {
    let data = json!({
        "customer": "李四", "contact": "13900000000", "channel": "hotline",
        "request_type": kind, "request": what
    });
    let inst = h.start("service_request", data, agent).instance;
    assert_at(&inst, "handle");
    assert_eq!(h.task(inst.id, "handle").candidates.people, [agent]);
    inst.id
}

#[test]
fn a_consultation_answered_on_the_spot() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = request(&h, AGENT, "consultation", "西湖景區門票價格");
    // On the spot, the answer is recorded.
    let task = h.task(id, "handle");
    let bare = h.try_complete(task.id, AGENT, None, json!({"handling": "on_spot"}));
    match rejection(bare) {
        Rejection::Requirement { message, fields } => {
            assert_eq!(message, "當場答復或辦理的，請填寫答復或辦理結果");
            assert_eq!(fields, ["answer", "handling"]);
        }
        other => panic!("expected the check, got {other:?}"),
    }
    let inst = h.act(
        id,
        "handle",
        AGENT,
        None,
        json!({"handling": "on_spot", "answer": "成人票80元，學生半價"}),
    );
    assert_ended(&inst, "done");
    assert!(h.sent_by(id).is_empty());
}

#[test]
fn a_purchase_is_checked_with_the_customer_and_confirmed_their_way() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = request(&h, AGENT, "purchase", "預訂西湖一日遊兩人");
    let inst = h.act(
        id,
        "handle",
        AGENT,
        None,
        json!({"handling": "on_spot", "answer": "已預訂3月8日西湖一日遊兩人"}),
    );
    assert_at(&inst, "confirm_booking");
    let task = h.task(id, "confirm_booking");
    assert_eq!(task.title, "核對預訂信息與確認方式");
    // The booking must be read back to the customer before it is done.
    let unchecked = h.try_complete(
        task.id,
        AGENT,
        None,
        json!({"order_no": "XH20260308-017", "confirm_via": "sms", "booking_checked": false}),
    );
    match rejection(unchecked) {
        Rejection::Requirement { message, .. } => {
            assert_eq!(message, "預訂完成後，須與客人再次核對預訂信息");
        }
        other => panic!("expected the check, got {other:?}"),
    }
    let inst = h.act(
        id,
        "confirm_booking",
        AGENT,
        None,
        json!({
            "order_no": "XH20260308-017",
            "confirm_via": "phone_sms",
            "booking_checked": true,
            "more_offered": true
        }),
    );
    assert_ended(&inst, "done");
    assert_eq!(
        inst.data.get("confirm_via"),
        Some(&Value::Choice("phone_sms".into()))
    );
}

#[test]
fn an_after_sales_question_is_answered_after_asking_a_colleague() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let id = request(&h, AGENT, "after_sales", "退票手續費");
    let inst = h.act(
        id,
        "handle",
        AGENT,
        None,
        json!({"handling": "ask_colleague"}),
    );
    assert_at(&inst, "consult");
    let task = h.task(id, "consult");
    assert_eq!(task.candidates.people, [AGENT]);
    assert_eq!(task.due, Some(t0 + hours(2)));

    // Reminded half an hour before; late, her supervisor hears of it.
    assert_eq!(h.fire_at(t0 + minutes(90)), 1);
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(t0 + hours(2)), 1);
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].kind(), MessageKind::Overdue);
    assert_eq!(sent[0].to(), [SUPERVISOR]);
    assert_eq!(
        sent[0].text(),
        "客戶李四的售後需求「退票手續費」超過2小時尚未答復"
    );

    // 必要時可請相關人員代答: she hands the task to the colleague who knows.
    h.engine.claim(task.id, AGENT).expect("claim");
    h.engine
        .act(
            id,
            Command::Reassign {
                task: task.id,
                to: COLLEAGUE.into(),
            },
            AGENT,
            None,
        )
        .expect("hand on");
    let inst = h.act(
        id,
        "consult",
        COLLEAGUE,
        None,
        json!({"answer": "出發前3天退票免手續費"}),
    );
    assert_ended(&inst, "done");
}

#[test]
fn a_request_beyond_the_agents_authority_goes_to_a_leader() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let id = request(&h, AGENT, "after_sales", "要求改期並免收差價");
    let inst = h.act(id, "handle", AGENT, None, json!({"handling": "leader"}));
    assert_at(&inst, "escalate");
    let task = h.task(id, "escalate");
    assert_eq!(task.candidates.people, [SUPERVISOR]);
    assert_eq!(task.due, Some(t0 + hours(2)));
    // Not settled in two hours: the CS manager takes it.
    assert_eq!(h.fire_at(t0 + hours(2)), 1);
    let task = h.task(id, "escalate");
    assert_eq!(task.candidates.roles, ["cs_manager"]);
    assert_eq!(h.people("cs_manager"), [CS_MANAGER]);
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "escalate",
        CS_MANAGER,
        None,
        json!({"answer": "同意改期，差價減半"}),
    );
    assert_ended(&inst, "done");
    // The agent who took the request learns what was agreed.
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].to(), [AGENT]);
    assert_eq!(
        sent[0].text(),
        "客戶李四的售後需求「要求改期並免收差價」已由領導協商：同意改期，差價減半"
    );
}

#[test]
fn a_request_that_turns_into_a_complaint_is_the_agents_complaint() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = request(&h, "liu_yang", "convenience", "景區停車場收費不合理");
    let o = h
        .try_complete(
            h.task(id, "handle").id,
            "liu_yang",
            None,
            json!({"handling": "complaint"}),
        )
        .expect("complete");
    assert_ended(&o.instance, "complained");
    assert_eq!(o.children.len(), 1);
    let complaint = h.inst(o.children[0]);
    assert_eq!(complaint.process, "complaint");
    assert_eq!(complaint.status, Status::Running);
    // 首問負責制: the same agent receives and owns the complaint.
    assert_eq!(complaint.starter, "liu_yang");
    assert_at(&complaint, "accept");
    assert_eq!(
        h.task(complaint.id, "accept").candidates.people,
        ["liu_yang"]
    );
    for (field, value) in [
        ("customer", "李四"),
        ("contact", "13900000000"),
        ("summary", "景區停車場收費不合理"),
    ] {
        assert_eq!(
            complaint.data.get(field),
            Some(&Value::Text(value.into())),
            "{field}"
        );
    }
    assert_eq!(
        complaint.data.get("channel"),
        Some(&Value::Choice("hotline".into()))
    );
    assert_eq!(complaint.limits.len(), 1, "the complaint's own time limit");
}

#[test]
fn only_front_line_agents_take_requests() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let data = json!({
        "customer": "李四", "contact": "139", "channel": "app",
        "request_type": "consultation", "request": "x"
    });
    assert!(matches!(
        rejection(h.try_start("service_request", data.clone(), "xu_li")),
        Rejection::Forbidden(_)
    ));
    // The type of request is the customer's, given when it is taken.
    let mut untyped = data;
    untyped
        .as_object_mut()
        .expect("object")
        .remove("request_type");
    assert_eq!(
        field_errors(rejection(h.try_start("service_request", untyped, AGENT))),
        [(
            "request_type".to_string(),
            "missing required field".to_string()
        )]
    );
}

/// A complaint's type: given when it is recorded, or, not yet clear then, at the
/// follow-up call; the agent may correct it there too.
#[test]
fn a_complaints_type_is_given_when_recorded_or_at_the_follow_up_call() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let start = || {
        h.start(
            "complaint",
            json!({"customer": "張三", "contact": "138", "channel": "app"}),
            AGENT,
        )
        .instance
        .id
    };
    let known = start();
    let inst = h.act(
        known,
        "accept",
        AGENT,
        None,
        json!({"summary": "酒店房間與預訂不符", "complaint_type": "lodging"}),
    );
    assert_eq!(
        inst.data.get("complaint_type"),
        Some(&Value::Choice("lodging".into()))
    );
    h.act(known, "explain", AGENT, Some("resolved"), json!({}));
    let inst = h.act(
        known,
        "follow_up",
        AGENT,
        None,
        json!({"satisfaction": 4, "complaint_type": "booking"}),
    );
    assert_ended(&inst, "done");
    assert_eq!(
        inst.data.get("complaint_type"),
        Some(&Value::Choice("booking".into()))
    );

    let unclear = start();
    let inst = h.act(
        unclear,
        "accept",
        AGENT,
        None,
        json!({"summary": "行程糟糕"}),
    );
    assert_eq!(inst.data.get("complaint_type"), None);
    h.act(unclear, "explain", AGENT, Some("resolved"), json!({}));
    let task = h.task(unclear, "follow_up");
    assert_eq!(
        field_errors(rejection(h.try_complete(
            task.id,
            AGENT,
            None,
            json!({"satisfaction": 3, "complaint_type": "weather"})
        )))[0]
            .0,
        "complaint_type"
    );
    let inst = h.act(
        unclear,
        "follow_up",
        AGENT,
        None,
        json!({"satisfaction": 3, "complaint_type": "transport"}),
    );
    assert_ended(&inst, "done");
}
