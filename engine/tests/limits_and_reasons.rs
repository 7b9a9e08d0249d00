//! Limits people can see (a running limit's deadline is its tasks' due time, in the
//! task lists and the overdue index), who hears a limit's reminder, and reasons given
//! with a refusal or a choice: recorded in the history and told to the starter.

mod common;

use baton_engine::core::{Command, Event, InstanceId, MessageKind, TaskId};
use common::*;
use serde_json::json;

const AGENT: &str = "wang_fang";
const COLLEAGUE: &str = "zhang_wei";

fn complaint(h: &Harness, severity: &str) -> InstanceId {
    h.start(
        "complaint",
        json!({"customer": "張三", "contact": "13800000000", "channel": "hotline", "severity": severity}),
        AGENT,
    )
    .instance
    .id
}

fn overdue(h: &Harness) -> Vec<TaskId> {
    h.engine
        .store
        .overdue(h.now(), 100)
        .expect("overdue")
        .into_iter()
        .map(|t| t.id)
        .collect()
}

#[test]
fn a_running_limit_is_its_tasks_due_time_and_a_breach_is_overdue() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let general = complaint(&h, "general");
    let major = complaint(&h, "major");
    // No step of the complaint has a due time of its own: the limit's deadline is it.
    assert_eq!(h.task(general, "accept").due, Some(t0 + hours(1)));
    assert_eq!(h.task(major, "accept").due, Some(t0 + hours(24)));
    let listed = h.engine.store.tasks_for(AGENT).expect("tasks");
    assert_eq!(
        listed.iter().map(|t| t.due).collect::<Vec<_>>(),
        [Some(t0 + hours(1)), Some(t0 + hours(24))],
        "soonest due first"
    );
    assert!(overdue(&h).is_empty());

    // The next step's task carries the same deadline; one with an earlier due time
    // of its own (approve, 30 minutes) keeps that.
    h.act(general, "accept", AGENT, None, json!({"summary": "退票"}));
    h.act(general, "explain", AGENT, Some("needs_solution"), json!({}));
    h.clock.advance(minutes(20));
    h.act(
        general,
        "propose",
        AGENT,
        None,
        json!({"solution": "全額退款", "within_authority": false}),
    );
    assert_eq!(h.task(general, "approve").due, Some(t0 + minutes(50)));
    h.act(general, "approve", "chen_jing", Some("approved"), json!({}));
    let follow_up = h.task(general, "follow_up");
    assert_eq!(follow_up.due, Some(t0 + hours(1)));

    // Past the deadline the breached complaint is overdue, as `--overdue` lists it.
    h.fire_at(t0 + hours(1) + minutes(1));
    assert_eq!(overdue(&h), [follow_up.id]);

    // With the customer's consent the deadline moves, and the task's due time with it:
    // no longer overdue.
    let o = h
        .engine
        .act(
            general,
            Command::Extend {
                limit: Some("settle".into()),
                minutes: 120,
                data: obj(json!({"customer_consents": true})),
            },
            AGENT,
            None,
        )
        .expect("extension with consent");
    let due = t0 + hours(3);
    assert_eq!(o.instance.limits[0].deadline, due);
    assert_eq!(h.task(general, "follow_up").due, Some(due));
    assert!(o.records.iter().any(|r| r.event
        == Event::TaskDue {
            task: follow_up.id,
            due: Some(due)
        }));
    assert!(overdue(&h).is_empty());
    let listed = h.engine.store.tasks_for(AGENT).expect("tasks");
    assert_eq!(listed[0].id, follow_up.id);
    assert_eq!(listed[0].due, Some(due));
    // The history replays to the stored instance, task due times included.
    let replayed = baton_engine::core::fold::replay(general, &h.history(general));
    assert_eq!(replayed.as_ref(), Some(&h.inst(general)));
}

#[test]
fn a_limits_reminder_reaches_the_starter_and_whoever_holds_the_step() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let id = complaint(&h, "general");
    // The first responder hands the step to a colleague; she still answers for it.
    let accept = h.task(id, "accept");
    h.engine.claim(accept.id, AGENT).expect("claim");
    h.engine
        .act(
            id,
            Command::Reassign {
                task: accept.id,
                to: COLLEAGUE.into(),
            },
            AGENT,
            None,
        )
        .expect("reassign");
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(t0 + minutes(50)), 1);
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [AGENT, COLLEAGUE]);
}

/// 張偉's probation application at its sign-offs (his supervisor 陳靜 signs first).
fn probation_at_signoffs(h: &Harness) -> InstanceId {
    let id = h
        .start(
            "probation",
            json!({"employee": COLLEAGUE, "hired_on": "2026-01-05"}),
            COLLEAGUE,
        )
        .instance
        .id;
    h.act(
        id,
        "apply",
        COLLEAGUE,
        None,
        json!({"self_review": "按時完成"}),
    );
    h.act(
        id,
        "evaluate",
        "chen_jing",
        None,
        json!({"opinion": "良好", "proposed_date": "2026-04-05", "salary": 6500, "daily_score": 85}),
    );
    h.act(id, "test", "guo_peng", None, json!({"test_score": 85}));
    h.act(
        id,
        "interview",
        "li_ming",
        None,
        json!({"interview_score": 85}),
    );
    id
}

#[test]
fn a_refused_signoff_with_a_reason_is_recorded_and_told_to_the_starter() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    let id = probation_at_signoffs(&h);
    h.sign(id, "chen_jing", true);
    let task = h.task(id, "signoffs").id;
    let mark = h.outbox_mark();
    let refuse = |reason: &str| Command::CompleteWithReason {
        task,
        choice: Some("refuse".into()),
        data: obj(json!({})),
        reason: reason.into(),
    };
    // An empty reason is no reason.
    assert_eq!(
        field_errors(rejection(h.engine.act(id, refuse("  "), "li_ming", None))),
        [("reason".to_string(), "a reason cannot be empty".to_string())]
    );
    let o = h
        .engine
        .act(id, refuse("試用期考勤記錄待核實"), "li_ming", None)
        .expect("refusal");
    assert_ended(&o.instance, "extended");
    assert!(o.records.iter().any(|r| r.event
        == Event::Reasoned {
            task,
            reason: "試用期考勤記錄待核實".into()
        }));
    // The refusal goes to OA like any result (流程圖: 總經理簽字確認 -> OA提報), and
    // the applicant hears the outcome, and why, where the application ends.
    let (ended, sent): (Vec<_>, Vec<_>) = h
        .outbox_after(mark)
        .into_iter()
        .partition(|s| s.text().starts_with("您的轉正考核已完成"));
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert!(
        ended[0].text().contains("簽字確認未獲通過"),
        "{}",
        ended[0].text()
    );
    let (oa, sent): (Vec<_>, Vec<_>) = sent
        .into_iter()
        .partition(|s| s.text().contains("請提報OA系統"));
    assert_eq!(oa.len(), 1, "{oa:?}");
    assert!(oa[0].text().contains("延期轉正"), "{}", oa[0].text());
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].kind(), MessageKind::Notify);
    assert_eq!(sent[0].to(), [COLLEAGUE]);
    assert_eq!(sent[0].message.task, Some(task));
    assert_eq!(
        sent[0].text(),
        format!(
            "李明拒絕簽署試用期轉正申請 #{id}（張偉）的「簽字確認」，原因：試用期考勤記錄待核實"
        )
    );
    // The sign-off shows the reason beside the signature.
    let shown = h.engine.store.shown(id).expect("shown");
    let last = shown.signoffs.last().expect("a sign-off");
    assert_eq!(
        last.signatures[1].reason.as_deref(),
        Some("試用期考勤記錄待核實")
    );
    assert_eq!(last.signatures[0].reason, None);
}

#[test]
fn a_refusal_without_a_reason_is_told_too() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    let id = probation_at_signoffs(&h);
    let mark = h.outbox_mark();
    h.sign(id, "chen_jing", false);
    // The refusal goes to OA like any result (流程圖: 總經理簽字確認 -> OA提報), and
    // the applicant hears the outcome, and why, where the application ends.
    let (ended, sent): (Vec<_>, Vec<_>) = h
        .outbox_after(mark)
        .into_iter()
        .partition(|s| s.text().starts_with("您的轉正考核已完成"));
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert!(
        ended[0].text().contains("簽字確認未獲通過"),
        "{}",
        ended[0].text()
    );
    let (oa, sent): (Vec<_>, Vec<_>) = sent
        .into_iter()
        .partition(|s| s.text().contains("請提報OA系統"));
    assert_eq!(oa.len(), 1, "{oa:?}");
    assert!(oa[0].text().contains("延期轉正"), "{}", oa[0].text());
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to(), [COLLEAGUE]);
    assert_eq!(
        sent[0].text(),
        format!("陳靜拒絕簽署試用期轉正申請 #{id}（張偉）的「簽字確認」")
    );
}

#[test]
fn a_declined_coordination_request_is_told_to_the_requester_with_the_reason() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = h
        .start(
            "coordination",
            json!({"partner": "technology", "request": "協助排查App登錄故障", "needed_by": "2026-03-05T18:00:00+08:00"}),
            AGENT,
        )
        .instance
        .id;
    h.act(id, "own_head", "li_ming", Some("approve"), json!({}));
    let task = h.task(id, "partner_head").id;
    let mark = h.outbox_mark();
    let o = h
        .engine
        .act(
            id,
            Command::CompleteWithReason {
                task,
                choice: Some("decline".into()),
                data: obj(json!({})),
                reason: "本週人手不足".into(),
            },
            "zheng_kai",
            None,
        )
        .expect("decline");
    assert_ended(&o.instance, "declined");
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to(), [AGENT]);
    assert_eq!(
        sent[0].text(),
        format!(
            "鄭凱在部門協調單 #{id}（技術部）的「配合部門領導審核簽字」選擇了「不予配合」，原因：本週人手不足"
        )
    );
    // A choice that goes on (not an end) tells nobody: the process says who hears.
    let id2 = h
        .start(
            "complaint",
            json!({"customer": "李四", "contact": "139", "channel": "app"}),
            AGENT,
        )
        .instance
        .id;
    h.act(id2, "accept", AGENT, None, json!({"summary": "退票"}));
    let mark = h.outbox_mark();
    let t = h.task(id2, "explain").id;
    h.engine
        .act(
            id2,
            Command::CompleteWithReason {
                task: t,
                choice: Some("resolved".into()),
                data: obj(json!({})),
                reason: "客戶接受".into(),
            },
            AGENT,
            None,
        )
        .expect("resolved");
    assert!(h.outbox_after(mark).is_empty());
    assert!(h.history(id2).iter().any(|r| r.event
        == Event::Reasoned {
            task: t,
            reason: "客戶接受".into()
        }));
}

const CALLBACK: &str = r#"process callback "回電" {
  started by agent
  data {
    customer text "客戶"
  }
  limit answer from call to call {
    within 1h
    remind 10m before "「{customer}」的回電還有10分鐘到期"
    remind every 30m after to supervisor of starter "「{customer}」的回電已超時"
  }
  step call "回電" {
    task for starter
    due 20m
    remind 5m before due to supervisor of starter
    next done
  }
  end done
}
"#;

#[test]
fn a_reminder_goes_to_whom_its_line_names_with_its_own_message() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    h.engine
        .store
        .deploy("callback.flow", CALLBACK, t0)
        .expect("deploys");
    let id = h
        .start("callback", json!({"customer": "張三"}), AGENT)
        .instance
        .id;
    let reminders = |h: &Harness| -> Vec<(Vec<String>, String)> {
        h.sent_by(id)
            .into_iter()
            .filter(|s| s.kind() == MessageKind::Reminder)
            .map(|s| (s.message.to.clone(), s.message.text.clone()))
            .collect()
    };
    // The step's: to the starter's supervisor, with the engine's words.
    h.fire_at(t0 + minutes(15));
    assert_eq!(
        reminders(&h),
        [(
            vec!["chen_jing".to_string()],
            "提醒：回電 #1（張三）的「回電」即將到期".to_string()
        )]
    );
    // The limit's "before": its own message, to the holder and the starter (one
    // person here).
    h.fire_at(t0 + minutes(50));
    assert_eq!(
        reminders(&h)[1],
        (
            vec![AGENT.to_string()],
            "「張三」的回電還有10分鐘到期".to_string()
        )
    );
    // The limit's "every": to the supervisor, with its message, again and again.
    h.fire_at(t0 + minutes(90));
    h.fire_at(t0 + minutes(120));
    let after = &reminders(&h)[2..];
    assert_eq!(after.len(), 2, "{after:?}");
    for r in after {
        assert_eq!(
            r,
            &(
                vec!["chen_jing".to_string()],
                "「張三」的回電已超時".to_string()
            )
        );
    }
    // Finishing the step ends the limit and its reminders.
    h.act(id, "call", AGENT, None, json!({}));
    assert!(h.inst(id).timers.is_empty());
}
