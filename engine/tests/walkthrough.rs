//! Walkthroughs of the customer-service processes in `processes/` that people drive
//! step by step: complaint (with its time limit) and coordination, along each of
//! their paths, with the manual clock in Shanghai time. The calendar-driven ones are
//! in `walkthrough_timed.rs`, the people processes in `walkthrough_people.rs`, the
//! rejections and reopening in `walkthrough_rules.rs`.

mod common;

use baton_dsl::eval::Value;
use baton_engine::core::{
    ActiveLimit, Candidates, Command, Event, InstanceId, MessageKind, Rejection, TaskKind,
    TaskState, TimerKind,
};
use common::*;
use serde_json::json;

// ---- complaint ------------------------------------------------------------------------

/// 王芳, a hotline agent; her supervisor is 陳靜, whose manager is 李明.
const AGENT: &str = "wang_fang";
const SUPERVISOR: &str = "chen_jing";
const CS_MANAGER: &str = "li_ming";

fn complaint(h: &Harness, agent: &str, severity: Option<&str>) -> InstanceId {
    let mut data = json!({"customer": "張三", "contact": "13800000000", "channel": "hotline"});
    if let Some(s) = severity {
        data["severity"] = json!(s);
    }
    h.start("complaint", data, agent).instance.id
}

fn settle_timers(
    start: chrono::DateTime<chrono::Utc>,
    within: chrono::Duration,
) -> Vec<(chrono::DateTime<chrono::Utc>, TimerKind)> {
    vec![
        (
            start + within - minutes(10),
            TimerKind::LimitRemind {
                limit: "settle".into(),
            },
        ),
        (
            start + within,
            TimerKind::LimitBreach {
                limit: "settle".into(),
            },
        ),
    ]
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

#[test]
fn complaint_general_settled_within_authority() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let id = complaint(&h, AGENT, None);
    let inst = h.inst(id);
    assert_at(&inst, "accept");
    assert_eq!(inst.starter, AGENT);
    assert_eq!(
        inst.data.get("severity"),
        Some(&Value::Choice("general".into()))
    );
    assert_eq!(
        inst.data.get("customer_consents"),
        Some(&Value::Bool(false))
    );
    // The limit over accept..follow_up: 1 hour for a general complaint.
    assert_eq!(
        inst.limits,
        [ActiveLimit {
            name: "settle".into(),
            started_at: t0,
            deadline: t0 + hours(1),
            extended_minutes: 0,
            breached: false,
        }]
    );
    assert_eq!(h.timers(id), settle_timers(t0, hours(1)));
    // 首問負責: every task is the starter's.
    let accept = h.task(id, "accept");
    assert_eq!(accept.title, "接受投訴");
    assert_eq!(accept.kind, TaskKind::Work);
    assert_eq!(
        accept.candidates,
        Candidates {
            people: vec![AGENT.into()],
            roles: vec![]
        }
    );
    assert_eq!(h.list(AGENT), [accept.id]);
    assert!(h.list("zhang_wei").is_empty());

    h.clock.advance(minutes(5));
    let inst = h.act(
        id,
        "accept",
        AGENT,
        None,
        json!({"summary": "導遊遲到兩小時"}),
    );
    assert_at(&inst, "explain");
    h.act(id, "explain", AGENT, Some("needs_solution"), json!({}));
    let inst = h.act(
        id,
        "propose",
        AGENT,
        None,
        json!({"solution": "退還導遊服務費", "within_authority": true}),
    );
    // Within the agent's authority: straight to the follow-up call.
    assert_at(&inst, "follow_up");
    assert_eq!(h.task(id, "follow_up").candidates.people, [AGENT]);
    let inst = h.act(id, "follow_up", AGENT, None, json!({"satisfaction": 5}));
    assert_ended(&inst, "done");
    assert_eq!(inst.data.get("satisfaction"), Some(&Value::Int(5)));
    assert_eq!(
        inst.data.get("solution"),
        Some(&Value::Text("退還導遊服務費".into()))
    );
    assert_eq!(
        steps_entered(&h, id),
        ["accept", "explain", "propose", "follow_up"]
    );
    // The limit stopped with the follow-up: no reminder, no breach, no timer left.
    let history = h.history(id);
    assert!(history.iter().any(|r| r.event
        == Event::LimitStopped {
            name: "settle".into()
        }));
    assert!(!history
        .iter()
        .any(|r| matches!(r.event, Event::LimitBreached { .. })));
    assert_eq!(h.engine.store.timer_count(), 0);
    assert_eq!(h.fire_at(t0 + hours(48)), 0);
    assert!(h.sent_by(id).is_empty());
    assert!(h.list(AGENT).is_empty());
    assert_eq!(h.instances("complaint", "completed").len(), 1);
}

#[test]
fn complaint_resolved_by_explanation_goes_to_follow_up() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = complaint(&h, "liu_yang", Some("major"));
    h.act(
        id,
        "accept",
        "liu_yang",
        None,
        json!({"summary": "景區排隊過長"}),
    );
    let inst = h.act(id, "explain", "liu_yang", Some("resolved"), json!({}));
    assert_at(&inst, "follow_up");
    let inst = h.act(
        id,
        "follow_up",
        "liu_yang",
        None,
        json!({"satisfaction": 4}),
    );
    assert_ended(&inst, "done");
    assert_eq!(steps_entered(&h, id), ["accept", "explain", "follow_up"]);
    assert!(!inst.data.contains_key("solution"));
}

#[test]
fn complaint_beyond_authority_rejected_then_approved() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = complaint(&h, AGENT, Some("major"));
    h.act(
        id,
        "accept",
        AGENT,
        None,
        json!({"summary": "酒店房型與訂單不符"}),
    );
    h.act(id, "explain", AGENT, Some("needs_solution"), json!({}));
    let inst = h.act(
        id,
        "propose",
        AGENT,
        None,
        json!({"solution": "全額退款並賠償", "within_authority": false}),
    );
    // Beyond authority: reported up to the starter's supervisor, due in 30 minutes.
    assert_at(&inst, "approve");
    let approve = h.task(id, "approve");
    assert_eq!(approve.candidates.people, [SUPERVISOR]);
    assert_eq!(approve.due, Some(h.now() + minutes(30)));
    assert_eq!(inst.due, Some(h.now() + minutes(30)));
    assert_eq!(h.list(SUPERVISOR), [approve.id]);
    assert!(h.list(AGENT).is_empty());
    // The agent cannot approve their own proposal.
    assert!(matches!(
        rejection(h.try_complete(approve.id, AGENT, Some("approved"), json!({}))),
        Rejection::Forbidden(_)
    ));

    // Rejected: back to propose, for the agent again.
    let inst = h.act(id, "approve", SUPERVISOR, Some("rejected"), json!({}));
    assert_at(&inst, "propose");
    assert_eq!(inst.data.get("sent_back"), Some(&Value::Bool(true)));
    let propose = h.task(id, "propose");
    assert_eq!(propose.candidates.people, [AGENT]);
    // A solution the supervisor sent back is not settled within authority: it goes
    // to the supervisor again.
    assert_eq!(
        rejection(h.try_complete(
            propose.id,
            AGENT,
            None,
            json!({"solution": "退款50%", "within_authority": true})
        )),
        Rejection::Requirement {
            message: "主管退回的方案須再經主管審批，不能標記為權限內".into(),
            fields: vec!["sent_back".into(), "within_authority".into()],
        }
    );
    // The approval's due timer went with the step.
    assert!(!h
        .timers(id)
        .iter()
        .any(|(_, k)| matches!(k, TimerKind::Due { .. })));
    let inst = h.act(
        id,
        "propose",
        AGENT,
        None,
        json!({"solution": "退款50%", "within_authority": false}),
    );
    assert_at(&inst, "approve");
    let inst = h.act(id, "approve", SUPERVISOR, Some("approved"), json!({}));
    assert_at(&inst, "follow_up");
    let inst = h.act(id, "follow_up", AGENT, None, json!({"satisfaction": 3}));
    assert_ended(&inst, "done");
    assert_eq!(
        inst.data.get("solution"),
        Some(&Value::Text("退款50%".into()))
    );
    assert_eq!(
        steps_entered(&h, id),
        [
            "accept",
            "explain",
            "propose",
            "approve",
            "returned",
            "propose",
            "approve",
            "follow_up"
        ]
    );
    // Who decided what, in the history.
    let choices: Vec<(String, Option<String>)> = h
        .history(id)
        .into_iter()
        .filter_map(|r| match r.event {
            Event::TaskCompleted { by, choice, .. } => Some((by, choice)),
            _ => None,
        })
        .collect();
    assert_eq!(
        choices,
        [
            (AGENT.into(), None),
            (AGENT.into(), Some("needs_solution".into())),
            (AGENT.into(), None),
            (SUPERVISOR.into(), Some("rejected".into())),
            (AGENT.into(), None),
            (SUPERVISOR.into(), Some("approved".into())),
            (AGENT.into(), None),
        ]
    );
}

#[test]
fn complaint_overdue_approval_escalates_to_cs_manager() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = complaint(&h, AGENT, Some("major"));
    h.act(id, "accept", AGENT, None, json!({"summary": "退款未到賬"}));
    h.act(id, "explain", AGENT, Some("needs_solution"), json!({}));
    h.act(
        id,
        "propose",
        AGENT,
        None,
        json!({"solution": "加急退款", "within_authority": false}),
    );
    let approve = h.task(id, "approve");
    let due = approve.due.expect("due");
    h.engine.claim(approve.id, SUPERVISOR).unwrap();
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(due - chrono::Duration::seconds(1)), 0);
    assert_eq!(h.fire_at(due), 1);
    // The task is offered to the CS manager now, unclaimed.
    let t = h.task(id, "approve");
    assert_eq!(t.id, approve.id);
    assert_eq!(
        t.candidates,
        Candidates {
            people: vec![],
            roles: vec!["cs_manager".into()]
        }
    );
    assert_eq!(t.assignee, None);
    assert_eq!(t.state, TaskState::Open);
    assert_eq!(h.list(CS_MANAGER), [t.id]);
    assert!(h.list(SUPERVISOR).is_empty());
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Escalation);
    assert_eq!(sent[0].to(), [CS_MANAGER]);
    assert_eq!(sent[0].at, due);
    assert_eq!(sent[0].message.task, Some(t.id));
    assert!(sent[0].text().contains("主管審批"), "{}", sent[0].text());
    // The supervisor no longer holds it.
    assert!(matches!(
        rejection(h.try_complete(t.id, SUPERVISOR, Some("approved"), json!({}))),
        Rejection::Forbidden(_)
    ));
    let inst = h.act(id, "approve", CS_MANAGER, Some("approved"), json!({}));
    assert_at(&inst, "follow_up");
}

#[test]
fn complaint_general_limit_reminds_then_breaches_to_supervisor() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let id = complaint(&h, AGENT, None);
    h.act(
        id,
        "accept",
        AGENT,
        None,
        json!({"summary": "投訴熱線無人接聽"}),
    );

    assert_eq!(h.fire_at(t0 + minutes(49)), 0);
    assert!(h.outbox().is_empty());
    // 10 minutes before: a reminder to whoever holds the current task.
    assert_eq!(h.fire_at(t0 + minutes(50)), 1);
    let sent = h.outbox();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].instance, id);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [AGENT]);
    assert_eq!(sent[0].at, t0 + minutes(50));
    // The reminder names the instance (title, number, customer) and the limit by
    // the steps it spans, in the company's language.
    assert_eq!(
        sent[0].text(),
        format!("提醒：客戶投訴處理 #{id}（張三）的時限「接受投訴→回訪」即將屆滿")
    );

    assert_eq!(h.fire_at(t0 + hours(1) - chrono::Duration::seconds(1)), 0);
    assert_eq!(h.fire_at(t0 + hours(1)), 1);
    let sent = h.outbox_after(sent[0].id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Breach);
    assert_eq!(sent[0].to(), [SUPERVISOR]);
    assert_eq!(sent[0].at, t0 + hours(1));
    assert_eq!(sent[0].text(), "投訴「張三」已超過處理時限");
    assert_eq!(sent[0].message.channel, None);

    // The breach is recorded; the complaint goes on and can still be settled.
    let inst = h.inst(id);
    assert_at(&inst, "explain");
    assert!(inst.limits[0].breached);
    assert!(h.timers(id).is_empty());
    assert_eq!(h.fire_at(t0 + hours(30)), 0);
    h.act(id, "explain", AGENT, Some("resolved"), json!({}));
    let inst = h.act(id, "follow_up", AGENT, None, json!({"satisfaction": 2}));
    assert_ended(&inst, "done");
}

#[test]
fn complaint_major_limit_is_24_hours() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    // A scenic agent: the breach goes to the scenic supervisor, 林濤.
    let id = complaint(&h, "liu_yang", Some("major"));
    assert_eq!(h.inst(id).limits[0].deadline, t0 + hours(24));
    assert_eq!(h.timers(id), settle_timers(t0, hours(24)));

    assert_eq!(h.fire_at(t0 + hours(1)), 0);
    assert_eq!(h.fire_at(t0 + hours(24) - minutes(10)), 1);
    let reminder = h.outbox();
    assert_eq!(reminder.len(), 1);
    assert_eq!(reminder[0].kind(), MessageKind::Reminder);
    assert_eq!(reminder[0].to(), ["liu_yang"]);
    assert_eq!(reminder[0].at, t0 + hours(24) - minutes(10));

    assert_eq!(h.fire_at(t0 + hours(24)), 1);
    let breach = h.outbox_after(reminder[0].id);
    assert_eq!(breach.len(), 1);
    assert_eq!(breach[0].kind(), MessageKind::Breach);
    assert_eq!(breach[0].to(), ["lin_tao"]);
    assert_eq!(breach[0].at, t0 + hours(24));
    assert_eq!(breach[0].text(), "投訴「張三」已超過處理時限");
}

/// Severity judged at acceptance decides the limit, not the default the complaint
/// started with: marked major there, it has 24 hours from when it was received, and
/// marked general again, one.
#[test]
fn complaint_marked_major_at_acceptance_has_24_hours_from_its_start() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let id = complaint(&h, AGENT, None);
    assert_eq!(h.inst(id).limits[0].deadline, t0 + hours(1));
    h.clock.set(t0 + minutes(20));
    h.act(
        id,
        "accept",
        AGENT,
        None,
        json!({"summary": "酒店未按約定安排入住", "severity": "major"}),
    );
    let inst = h.inst(id);
    assert_eq!(inst.limits.len(), 1);
    assert_eq!(
        inst.limits[0].started_at, t0,
        "timed from when it was received"
    );
    assert_eq!(inst.limits[0].deadline, t0 + hours(24));
    assert_eq!(h.timers(id), settle_timers(t0, hours(24)));
    // The hour a general complaint would have had passes without a breach.
    assert_eq!(h.fire_at(t0 + hours(2)), 0);
    assert!(h.outbox().iter().all(|m| m.kind() != MessageKind::Breach));
    assert_eq!(h.fire_at(t0 + hours(24) - minutes(10)), 1, "the reminder");
    assert_eq!(h.fire_at(t0 + hours(24)), 1);
    assert!(h.outbox().iter().any(|m| m.kind() == MessageKind::Breach));
}

#[test]
fn complaint_limit_extension_needs_the_customers_consent() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let extend = |consents: Option<bool>, minutes: i64| {
        let data = match consents {
            Some(c) => json!({"customer_consents": c}),
            None => json!({}),
        };
        Command::Extend {
            limit: Some("settle".into()),
            minutes,
            data: obj(data),
        }
    };

    let id = complaint(&h, AGENT, None);
    h.clock.advance(minutes(20));
    // Without consent: refused, and nothing changes (not even the data sent along).
    let before = (h.inst(id), h.history(id));
    for cmd in [extend(None, 60), extend(Some(false), 60)] {
        let rej = rejection(h.engine.act(id, cmd, AGENT, None));
        assert_eq!(
            rej,
            Rejection::Forbidden("extension refused: `customer_consents` does not hold".into())
        );
    }
    assert_eq!((h.inst(id), h.history(id)), before);

    // The data sent along is for the condition only: no other field changes this way.
    let sneaky = Command::Extend {
        limit: Some("settle".into()),
        minutes: 60,
        data: obj(json!({"customer_consents": true, "severity": "major", "customer": "李四"})),
    };
    assert_eq!(
        field_errors(rejection(h.engine.act(id, sneaky, AGENT, None))),
        [
            ("customer".to_string(), "cannot be set here".to_string()),
            ("severity".into(), "cannot be set here".into()),
        ]
    );
    assert_eq!((h.inst(id), h.history(id)), before);

    // With consent: the deadline moves by the minutes asked, and so do its timers.
    let o = h
        .engine
        .act(id, extend(Some(true), 90), AGENT, None)
        .expect("extension with consent");
    let l = &o.instance.limits[0];
    assert_eq!(l.deadline, t0 + hours(1) + minutes(90));
    assert_eq!(l.extended_minutes, 90);
    assert_eq!(
        o.instance.data.get("customer_consents"),
        Some(&Value::Bool(true))
    );
    assert!(o.records.iter().any(|r| r.event
        == Event::DeadlineExtended {
            limit: Some("settle".into()),
            minutes: 90,
            due: t0 + hours(1) + minutes(90),
        }));
    assert_eq!(h.timers(id), settle_timers(t0 + minutes(90), hours(1)));

    // At most 24h in all: 90 minutes used, 23h more is too much.
    let rej = rejection(h.engine.act(id, extend(Some(true), 23 * 60), AGENT, None));
    assert!(
        matches!(&rej, Rejection::Forbidden(m) if m.contains("at most")),
        "{rej:?}"
    );
    // Only someone working on the complaint may ask.
    assert!(matches!(
        rejection(h.engine.act(id, extend(Some(true), 10), "zhang_wei", None)),
        Rejection::Forbidden(_)
    ));
    assert!(matches!(
        rejection(h.engine.act(
            id,
            Command::Extend {
                limit: Some("nope".into()),
                minutes: 10,
                data: obj(json!({}))
            },
            AGENT,
            None
        )),
        Rejection::NotFound(_)
    ));

    // The old deadline passes quietly; the new one breaches.
    assert_eq!(h.fire_at(t0 + hours(1)), 0);
    assert!(h.outbox().is_empty());
    assert_eq!(h.fire_at(t0 + hours(1) + minutes(80)), 1);
    assert_eq!(h.outbox()[0].kind(), MessageKind::Reminder);
    assert_eq!(h.fire_at(t0 + hours(1) + minutes(90)), 1);
    let sent = h.outbox();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].kind(), MessageKind::Breach);
    assert_eq!(sent[1].to(), [SUPERVISOR]);
    assert_eq!(sent[1].at, t0 + hours(1) + minutes(90));
}

// ---- coordination ---------------------------------------------------------------------

/// The request goes to the technology department (head 鄭凱; engineer 曹磊).
fn coordination(h: &Harness) -> InstanceId {
    h.start(
        "coordination",
        json!({
            "partner": "technology",
            "request": "協助排查App登錄故障",
            "needed_by": "2026-03-05T18:00:00+08:00",
        }),
        AGENT,
    )
    .instance
    .id
}

#[test]
fn coordination_signed_by_both_heads_then_assigned_and_worked() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = coordination(&h);
    // 先由部門領導簽字: the head of the starter's department (客服部: 李明).
    let own = h.task(id, "own_head");
    assert_eq!(own.candidates.people, [CS_MANAGER]);
    assert!(own.due.is_some());
    // The partner head cannot sign first.
    assert!(matches!(
        rejection(h.try_complete(own.id, "zheng_kai", Some("approve"), json!({}))),
        Rejection::Forbidden(_)
    ));
    let inst = h.act(id, "own_head", CS_MANAGER, Some("approve"), json!({}));
    // The partner heads sign side by side; with one partner department, the
    // second branch has nothing to sign and is finished at once.
    assert_at(&inst, "partners");
    let branches: Vec<(&str, Option<&str>)> = inst
        .branches
        .iter()
        .map(|b| (b.name.as_str(), b.position.step.as_deref()))
        .collect();
    assert_eq!(
        branches,
        [("first", Some("partner_head")), ("second", None)]
    );
    assert_eq!(h.task(id, "partner_head").candidates.people, ["zheng_kai"]);
    let inst = h.act(
        id,
        "partner_head",
        "zheng_kai",
        Some("approve"),
        json!({"partner_opinion": "同意，本週內處理"}),
    );
    // 落實到具體人員: the partner head names the person, who must be of the partner
    // department: someone else is refused, with the fields the check reads.
    assert_at(&inst, "assign");
    let assign = h.task(id, "assign");
    assert_eq!(assign.candidates.people, ["zheng_kai"]);
    assert_eq!(
        rejection(h.try_complete(
            assign.id,
            "zheng_kai",
            None,
            json!({"assignee": "wang_fang"})
        )),
        Rejection::Requirement {
            message: "須落實到配合部門的人員".into(),
            fields: vec!["assignee".into(), "partner".into()],
        }
    );
    assert_eq!(h.data(id, "assignee"), None);
    let inst = h.act(
        id,
        "assign",
        "zheng_kai",
        None,
        json!({"assignee": "cao_lei"}),
    );
    assert_at(&inst, "work");
    assert_eq!(
        inst.data.get("assignee"),
        Some(&Value::Person("cao_lei".into()))
    );
    let work = h.task(id, "work");
    assert_eq!(work.candidates.people, ["cao_lei"]);
    // Due at needed_by (18:00 Shanghai), reminded 2 hours before.
    let needed_by = sh(2026, 3, 5, 18, 0);
    assert_eq!(work.due, Some(needed_by));
    assert_eq!(
        h.timers(id),
        [
            (
                needed_by - hours(2),
                TimerKind::Remind {
                    step: "work".into()
                }
            ),
            (
                needed_by,
                TimerKind::Due {
                    step: "work".into()
                }
            ),
        ]
    );
    assert_eq!(h.list("cao_lei"), [work.id]);
    assert_eq!(h.fire_at(needed_by - hours(2)), 1);
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), ["cao_lei"]);

    let inst = h.act(
        id,
        "work",
        "cao_lei",
        None,
        json!({"reply": "已修復登錄接口"}),
    );
    assert_ended(&inst, "done");
    // report_back tells the requester.
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].kind(), MessageKind::Notify);
    assert_eq!(sent[1].to(), [AGENT]);
    assert_eq!(
        sent[1].text(),
        "部門協調單「協助排查App登錄故障」已辦結：已修復登錄接口"
    );
    assert_eq!(
        steps_entered(&h, id),
        [
            "own_head",
            "partners",
            "partner_head",
            "second_needed",
            "assign",
            "work",
            "report_back"
        ]
    );
    // Nothing more fires at the old due time.
    assert_eq!(h.fire_at(needed_by), 0);
}

#[test]
fn coordination_overdue_steps_notify_the_heads() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = coordination(&h);
    h.act(id, "own_head", CS_MANAGER, Some("approve"), json!({}));
    // The partner head lets it lie: the own head hears of it.
    let due = h.task(id, "partner_head").due.expect("due");
    assert_eq!(h.fire_at(due), 1);
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Overdue);
    assert_eq!(sent[0].to(), [CS_MANAGER]);
    assert_eq!(sent[0].at, due);
    assert_eq!(
        sent[0].text(),
        "部門協調單「協助排查App登錄故障」待技術部領導簽字，已逾期"
    );
    h.act(id, "partner_head", "zheng_kai", Some("approve"), json!({}));
    h.act(
        id,
        "assign",
        "zheng_kai",
        None,
        json!({"assignee": "cao_lei"}),
    );
    // The work is late: the partner head hears of it.
    let needed_by = sh(2026, 3, 5, 18, 0);
    assert_eq!(h.fire_at(needed_by), 2);
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[1].kind(), MessageKind::Reminder);
    assert_eq!(sent[2].kind(), MessageKind::Overdue);
    assert_eq!(sent[2].to(), ["zheng_kai"]);
    assert_eq!(
        sent[2].text(),
        "部門協調單「協助排查App登錄故障」已超過需完成時間"
    );
    assert_at(&h.inst(id), "work");
}

#[test]
fn coordination_declined_by_partner_head() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = coordination(&h);
    h.act(id, "own_head", CS_MANAGER, Some("approve"), json!({}));
    let inst = h.act(
        id,
        "partner_head",
        "zheng_kai",
        Some("decline"),
        json!({"partner_opinion": "人手不足"}),
    );
    assert_ended(&inst, "declined");
    assert_eq!(
        inst.data.get("partner_opinion"),
        Some(&Value::Text("人手不足".into()))
    );
    assert!(h.list("zheng_kai").is_empty());
    // The requester hears that the request was declined.
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to(), [AGENT]);
    assert_eq!(
        sent[0].text(),
        format!("鄭凱在部門協調單 #{id}（技術部）的「配合部門領導審核簽字」選擇了「不予配合」")
    );
}

#[test]
fn coordination_returned_by_own_head() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = coordination(&h);
    let inst = h.act(id, "own_head", CS_MANAGER, Some("return"), json!({}));
    assert_ended(&inst, "returned");
    assert_eq!(steps_entered(&h, id), ["own_head"]);
    assert!(h.list(CS_MANAGER).is_empty());
    assert_eq!(h.instances("coordination", "completed").len(), 1);
}

// ---- who may start -------------------------------------------------------------------

/// Every member of the CS department may file a coordination request (第六章
/// 客服部跨部門溝通), whatever their role.
#[test]
fn everyone_in_customer_service_may_file_a_coordination_request() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let cs: Vec<String> = h
        .engine
        .store
        .directory()
        .people
        .iter()
        .filter(|p| p.department == "cs")
        .map(|p| p.id.clone())
        .collect();
    assert!(cs.len() >= 10, "{cs:?}");
    for person in &cs {
        let data = json!({
            "partner": "technology",
            "request": "協助排查App登錄故障",
            "needed_by": "2026-03-05T18:00:00+08:00",
        });
        let started = h.try_start("coordination", data, person);
        assert!(started.is_ok(), "{person}: {started:?}");
    }
    // Not someone of another department without a CS role.
    let data = json!({"partner": "cs", "request": "x", "needed_by": "2026-03-05T18:00:00+08:00"});
    assert!(h.try_start("coordination", data, "cao_lei").is_err());
}

/// A complaint raised during a call-back or a member-care call is opened by the
/// agent on the call (「回訪過程中出現投訴及時解決」), who then carries it.
#[test]
fn call_back_and_member_care_agents_open_a_complaint_they_hear() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    for role in ["callback_agent", "member_care_agent"] {
        let agent = h.people(role).into_iter().next().expect("someone");
        let id = complaint(&h, &agent, Some("general"));
        let accept = h.task(id, "accept");
        assert_eq!(accept.candidates.people, [agent], "{role}");
    }
}
