//! Walkthroughs of the scenic-area supervisor's routine (第二章 第三節 三.1 景區客服主管
//! 職責 5)、6)、10)) on the manual clock in Shanghai time, started by the calendar as
//! the daemon starts them: the daily review of today's and tomorrow's orders, with the
//! agents' reminders, the evening check of receptions, the callbacks of customers not
//! received and the problems handed on; and the weekly service report, written by the
//! scenic service center, analysed by the liaison agent, reviewed by the supervisor
//! and read by the CS manager.

mod common;

use baton_dsl::eval::Value;
use baton_engine::core::{InstanceId, MessageKind, Rejection, Task, TimerKind, SYSTEM};
use baton_engine::store::{Outcome, StoreError};
use common::*;
use serde_json::json;

/// 林濤, the scenic-area supervisor; 李明, the CS manager he answers to.
const SUPERVISOR: &str = "lin_tao";
const CS_MANAGER: &str = "li_ming";
/// 劉洋, a scenic-area agent; 黃敏, a scenic-area agent who is also the
/// information-liaison agent.
const AGENT: &str = "liu_yang";
const LIAISON: &str = "huang_min";

/// The requirement a refused `check` gives back, by its message alone.
fn refused_with(r: Result<Outcome, StoreError>) -> String {
    match rejection(r) {
        Rejection::Requirement { message, .. } => message,
        other => panic!("expected a requirement, got {other:?}"),
    }
}

/// The open tasks of the instance's step `step`, in the order they were created.
fn open_at(h: &Harness, id: InstanceId, step: &str) -> Vec<Task> {
    h.inst(id)
        .active_tasks()
        .filter(|t| t.step == step)
        .cloned()
        .collect()
}

// ---- scenic_orders --------------------------------------------------------------------

#[test]
fn the_days_orders_are_reviewed_reminded_and_checked_without_problems() {
    // Monday 2 March 2026: the daemon runs from 07:00.
    let h = calendar_from(sh(2026, 3, 2, 7, 0));
    let (_, def) = h.engine.store.latest("scenic_orders").unwrap();
    assert_eq!(def.schedules.len(), 1);
    assert_eq!(def.schedules[0].phrase, "every day at 08:00");
    assert_eq!(def.schedules[0].for_each_role, None);
    // 08:00: the day's review starts, once, by Baton.
    let started = run_calendar(&h, "scenic_orders", sh(2026, 3, 2, 8, 0));
    let [id] = started[..] else {
        panic!("one review a day: {started:?}")
    };
    assert!(run_calendar(&h, "scenic_orders", sh(2026, 3, 2, 8, 0)).is_empty());
    let inst = h.inst(id);
    assert_eq!(inst.starter, SYSTEM);
    assert_at(&inst, "orders");
    assert_eq!(
        inst.data.get("review_date"),
        Some(&Value::Date(date(2026, 3, 2)))
    );
    assert_eq!(
        inst.data.get("reconcile_at"),
        Some(&Value::DateTime(sh(2026, 3, 2, 17, 0)))
    );
    let orders = h.task(id, "orders");
    assert_eq!(orders.candidates.roles, ["scenic_supervisor"]);
    assert_eq!(h.list(SUPERVISOR), [orders.id]);
    assert_eq!(orders.due, Some(sh(2026, 3, 2, 9, 0)));
    assert_eq!(
        h.timers(id),
        [
            (
                sh(2026, 3, 2, 8, 45),
                TimerKind::Remind {
                    step: "orders".into()
                }
            ),
            (
                sh(2026, 3, 2, 9, 0),
                TimerKind::Due {
                    step: "orders".into()
                }
            ),
        ]
    );
    // 08:45: the supervisor is reminded.
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(sh(2026, 3, 2, 8, 45)), 1);
    let sent = sent_for(&h, id, mark);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, MessageKind::Reminder);
    assert_eq!(sent[0].1, to(&[SUPERVISOR]));

    // Confirmed orders and nobody to remind the customers: refused.
    h.clock.set(sh(2026, 3, 2, 8, 50));
    assert_eq!(
        refused_with(h.try_complete(
            orders.id,
            SUPERVISOR,
            None,
            json!({"today_orders": 12, "tomorrow_orders": 30}),
        )),
        "有確認訂單時須安排服務專員提醒用戶"
    );
    let inst = h.act(
        id,
        "orders",
        SUPERVISOR,
        None,
        json!({
            "today_orders": 12,
            "tomorrow_orders": 30,
            "reminders": [
                {"agent": AGENT, "customers": "張三等12位當日遊客"},
                {"agent": LIAISON, "customers": "李四等30位次日遊客"},
            ],
        }),
    );
    assert_at(&inst, "day");
    // Each agent has their own reminder to make, due two hours on.
    let reminders = open_at(&h, id, "remind_customers");
    let who: Vec<&str> = reminders
        .iter()
        .map(|t| t.candidates.people[0].as_str())
        .collect();
    assert_eq!(who, [AGENT, LIAISON]);
    let titles: Vec<&str> = reminders.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "提醒用戶：張三等12位當日遊客",
            "提醒用戶：李四等30位次日遊客"
        ]
    );
    assert!(reminders
        .iter()
        .all(|t| t.due == Some(sh(2026, 3, 2, 10, 50))));
    assert_eq!(h.list(AGENT), [reminders[0].id]);
    // The evening check waits for 17:00 beside them.
    assert!(h.timers(id).contains(&(
        sh(2026, 3, 2, 17, 0),
        TimerKind::Wait {
            step: "reconcile".into()
        }
    )));

    // 劉洋 reminds his customers in time; 黃敏 is late.
    h.clock.set(sh(2026, 3, 2, 9, 30));
    h.complete(reminders[0].id, AGENT, None, json!({}));
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 2, 10, 20));
    let sent = sent_for(&h, id, mark);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, MessageKind::Reminder);
    assert_eq!(sent[0].1, to(&[LIAISON]));
    assert!(sent[0].2.contains("李四等30位次日遊客"), "{}", sent[0].2);
    // At the due time she is told it is late; an hour on the supervisor, who
    // arranged it, hears of it.
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 2, 10, 50));
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Overdue,
            to(&[LIAISON]),
            format!("景區每日訂單核對 #{id}（2026-03-02）的「提醒用戶：李四等30位次日遊客」已逾期")
        )]
    );
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 2, 11, 50));
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Reminder,
            to(&[SUPERVISOR]),
            "黃敏尚未完成用戶提醒：李四等30位次日遊客".to_string()
        )]
    );
    h.clock.set(sh(2026, 3, 2, 12, 0));
    h.complete(reminders[1].id, LIAISON, None, json!({}));
    // Only the evening check is left to wait for.
    assert_eq!(
        h.timers(id),
        [(
            sh(2026, 3, 2, 17, 0),
            TimerKind::Wait {
                step: "reconcile".into()
            }
        )]
    );

    // 17:00: the check of the day's receptions against the system.
    assert_eq!(h.fire_at(sh(2026, 3, 2, 17, 0)), 1);
    let reconcile = h.task(id, "reconcile");
    assert_eq!(reconcile.candidates.roles, ["scenic_supervisor"]);
    assert_eq!(reconcile.due, Some(sh(2026, 3, 2, 18, 0)));
    h.clock.set(sh(2026, 3, 2, 17, 20));
    assert_eq!(
        refused_with(h.try_complete(
            reconcile.id,
            SUPERVISOR,
            None,
            json!({"system_orders": 12, "received_orders": 13}),
        )),
        "已接待訂單數不能多於系統確認訂單數"
    );
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "reconcile",
        SUPERVISOR,
        None,
        json!({"system_orders": 12, "received_orders": 12}),
    );
    // Every customer received, nothing wrong: nobody else is told anything.
    assert_ended(&inst, "done");
    assert_eq!(sent_for(&h, id, mark), []);
    assert_eq!(inst.data.get("no_shows"), Some(&Value::List(vec![])));
}

#[test]
fn a_review_left_undone_goes_to_the_cs_manager_and_a_scenic_problem_to_the_liaison_agent() {
    // Tuesday 3 March 2026, as the calendar starts it.
    let h = Harness::at(sh(2026, 3, 3, 8, 0));
    let id = h.start("scenic_orders", json!({}), SYSTEM).instance.id;
    h.fire_at(sh(2026, 3, 3, 8, 45));
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(sh(2026, 3, 3, 9, 0)), 1);
    // The supervisor is told it is now the manager's, and the manager gets it.
    assert_eq!(
        sent_for(&h, id, mark),
        [
            (
                MessageKind::Overdue,
                to(&[SUPERVISOR]),
                "2026-03-03的當日及次日訂單尚未核對，已逾期，已升級客服經理處理".to_string()
            ),
            (
                MessageKind::Escalation,
                to(&[CS_MANAGER]),
                format!("景區每日訂單核對 #{id}（2026-03-03）的「掌握當日及次日確認訂單」已逾期，已升級由你處理")
            ),
        ]
    );
    let orders = h.task(id, "orders");
    assert_eq!(orders.candidates.roles, ["cs_manager"]);
    assert!(h.list(SUPERVISOR).is_empty());
    assert_eq!(h.list(CS_MANAGER), [orders.id]);
    assert!(matches!(
        rejection(h.try_complete(
            orders.id,
            SUPERVISOR,
            None,
            json!({"today_orders": 0, "tomorrow_orders": 0})
        )),
        Rejection::Forbidden(_)
    ));
    // No confirmed orders today or tomorrow: nobody to remind, that branch is done.
    h.clock.set(sh(2026, 3, 3, 9, 30));
    let inst = h.act(
        id,
        "orders",
        CS_MANAGER,
        None,
        json!({"today_orders": 0, "tomorrow_orders": 0}),
    );
    assert_at(&inst, "day");
    assert_eq!(inst.active_tasks().count(), 0);
    assert_eq!(
        h.timers(id),
        [(
            sh(2026, 3, 3, 17, 0),
            TimerKind::Wait {
                step: "reconcile".into()
            }
        )]
    );

    // The evening check goes to the supervisor again, and late, to the manager.
    h.fire_at(sh(2026, 3, 3, 17, 0));
    let reconcile = h.task(id, "reconcile");
    assert_eq!(reconcile.candidates.roles, ["scenic_supervisor"]);
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 3, 17, 45));
    let sent = sent_for(&h, id, mark);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].0, &sent[0].1),
        (MessageKind::Reminder, &to(&[SUPERVISOR]))
    );
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 3, 18, 0));
    let sent = sent_for(&h, id, mark);
    assert_eq!(
        (sent[0].0, &sent[0].1, sent[0].2.as_str()),
        (
            MessageKind::Overdue,
            &to(&[SUPERVISOR]),
            "2026-03-03的系統訂單與接待明細尚未核對，已逾期，已升級客服經理處理"
        )
    );
    assert_eq!(
        (sent[1].0, &sent[1].1),
        (MessageKind::Escalation, &to(&[CS_MANAGER]))
    );
    assert_eq!(h.task(id, "reconcile").candidates.roles, ["cs_manager"]);

    // A problem of the scenic area's own: the manager hears of it, and the
    // information-liaison agent is asked to take it up with the scenic area.
    h.clock.set(sh(2026, 3, 3, 18, 30));
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "reconcile",
        CS_MANAGER,
        None,
        json!({
            "system_orders": 3,
            "received_orders": 3,
            "scenic_issues": "天門山入口無指示牌，遊客找不到取票處",
        }),
    );
    assert_ended(&inst, "done");
    assert_eq!(
        sent_for(&h, id, mark),
        [
            (
                MessageKind::Notify,
                to(&[CS_MANAGER]),
                "2026-03-03景區接待核對：系統確認訂單3單，已接待3單。接待工作問題：無；景區服務不達標：天門山入口無指示牌，遊客找不到取票處".to_string()
            ),
            (
                MessageKind::Notify,
                to(&[LIAISON]),
                "景區客服主管2026-03-03核對接待時發現景區服務不達標：天門山入口無指示牌，遊客找不到取票處。請與景區負責人溝通整改，並報送景區服務信息聯絡".to_string()
            ),
        ]
    );
}

#[test]
fn customers_not_received_are_called_back_and_a_reception_problem_goes_to_the_cs_manager() {
    // Wednesday 4 March 2026.
    let h = Harness::at(sh(2026, 3, 4, 8, 0));
    let id = h.start("scenic_orders", json!({}), SYSTEM).instance.id;
    h.clock.set(sh(2026, 3, 4, 8, 30));
    h.act(
        id,
        "orders",
        SUPERVISOR,
        None,
        json!({
            "today_orders": 20,
            "tomorrow_orders": 0,
            "reminders": [{"agent": AGENT, "customers": "王五等20位當日遊客"}],
        }),
    );
    let [remind] = &open_at(&h, id, "remind_customers")[..] else {
        panic!("one reminder")
    };
    h.complete(remind.id, AGENT, None, json!({}));
    h.fire_at(sh(2026, 3, 4, 17, 0));
    h.clock.set(sh(2026, 3, 4, 17, 30));
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "reconcile",
        SUPERVISOR,
        None,
        json!({
            "system_orders": 20,
            "received_orders": 18,
            "no_shows": [
                {"customer": "王五", "phone": "13900000001", "agent": AGENT},
                {"customer": "趙六", "agent": LIAISON},
            ],
            "reception_issues": "2單未接待：遊客改期未通知景區服務中心",
        }),
    );
    assert_at(&inst, "day");
    // The manager hears of the reception problem; it is not the scenic area's, so the
    // liaison agent is told nothing.
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Notify,
            to(&[CS_MANAGER]),
            "2026-03-04景區接待核對：系統確認訂單20單，已接待18單。接待工作問題：2單未接待：遊客改期未通知景區服務中心；景區服務不達標：無".to_string()
        )]
    );
    // Each customer not received is called back by the agent named, by 17:30 the
    // next day.
    let calls = open_at(&h, id, "callbacks");
    let titles: Vec<&str> = calls.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(
        titles,
        ["未接待用戶電話回訪：王五", "未接待用戶電話回訪：趙六"]
    );
    let who: Vec<&str> = calls
        .iter()
        .map(|t| t.candidates.people[0].as_str())
        .collect();
    assert_eq!(who, [AGENT, LIAISON]);
    assert!(calls.iter().all(|t| t.due == Some(sh(2026, 3, 5, 17, 30))));
    h.clock.set(sh(2026, 3, 5, 10, 0));
    h.complete(calls[1].id, LIAISON, None, json!({}));

    // 劉洋 is reminded two hours before, and once late the supervisor hears of it
    // every four hours (監督服務專員對未接待用戶進行電話回訪).
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 5, 15, 30));
    let sent = sent_for(&h, id, mark);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].0, &sent[0].1),
        (MessageKind::Reminder, &to(&[AGENT]))
    );
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 5, 17, 30));
    let sent = sent_for(&h, id, mark);
    assert_eq!(
        (sent.len(), sent[0].0, &sent[0].1),
        (1, MessageKind::Overdue, &to(&[AGENT]))
    );
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 5, 21, 30));
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Reminder,
            to(&[SUPERVISOR]),
            "劉洋尚未完成未接待用戶王五的電話回訪".to_string()
        )]
    );
    h.clock.set(sh(2026, 3, 5, 22, 0));
    let inst = h.complete(calls[0].id, AGENT, None, json!({})).instance;
    assert_ended(&inst, "done");
}

// ---- scenic_weekly --------------------------------------------------------------------

fn draft_data() -> serde_json::Value {
    json!({
        "consultations": 860,
        "complaints": 4,
        "handling": "咨詢均當場答復；投訴4起均已處理",
        "bookings": "門票預訂620單，酒店預訂85單",
        "reception_problems": "週六索道排隊超過一小時",
    })
}

fn analysis_data() -> serde_json::Value {
    json!({
        "recommended": "天門山、張家界",
        "audience": "親子家庭、25-35歲自由行",
        "selling_points": "索道觀景、門票酒店套餐",
    })
}

#[test]
fn the_weekly_report_is_written_analysed_returned_once_and_read_by_the_cs_manager() {
    // The daemon runs from 08:00 on Monday 9 March 2026.
    let h = calendar_from(sh(2026, 3, 9, 8, 0));
    let started = run_calendar(&h, "scenic_weekly", sh(2026, 3, 9, 9, 0));
    let [id] = started[..] else {
        panic!("one report a week: {started:?}")
    };
    let inst = h.inst(id);
    assert_eq!(inst.starter, SYSTEM);
    // The week reported: Monday to Sunday just ended.
    assert_eq!(
        inst.data.get("week_start"),
        Some(&Value::Date(date(2026, 3, 2)))
    );
    assert_eq!(
        inst.data.get("week_end"),
        Some(&Value::Date(date(2026, 3, 8)))
    );
    // The scenic service center writes it: any of its agents, in one working day.
    let draft = h.task(id, "draft");
    assert_eq!(draft.candidates.roles, ["scenic_agent"]);
    assert!(h.list(AGENT).contains(&draft.id));
    assert!(h.list(LIAISON).contains(&draft.id));
    assert_eq!(draft.due, Some(sh(2026, 3, 10, 9, 0)));
    assert_eq!(
        h.timers(id),
        [
            (
                sh(2026, 3, 9, 16, 0),
                TimerKind::Remind {
                    step: "draft".into()
                }
            ),
            (
                sh(2026, 3, 10, 9, 0),
                TimerKind::Due {
                    step: "draft".into()
                }
            ),
        ]
    );
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 9, 16, 0));
    let sent = sent_for(&h, id, mark);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].0, &sent[0].1),
        (MessageKind::Reminder, &to(&[LIAISON, AGENT]))
    );
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 10, 9, 0));
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Overdue,
            to(&[SUPERVISOR]),
            "2026-03-02至2026-03-08的景區服務周報尚未提交".to_string()
        )]
    );
    // Late, it is still written.
    h.clock.set(sh(2026, 3, 10, 10, 0));
    let inst = h.act(id, "draft", AGENT, None, draft_data());
    assert_at(&inst, "analysis");
    let analysis = h.task(id, "analysis");
    assert_eq!(analysis.candidates.roles, ["liaison_agent"]);
    assert_eq!(h.people("liaison_agent"), [LIAISON]);
    assert_eq!(analysis.due, Some(sh(2026, 3, 11, 10, 0)));
    h.clock.set(sh(2026, 3, 10, 15, 0));
    let inst = h.act(id, "analysis", LIAISON, None, analysis_data());
    assert_at(&inst, "review");
    let review = h.task(id, "review");
    assert_eq!(review.candidates.roles, ["scenic_supervisor"]);
    assert_eq!(review.due, Some(sh(2026, 3, 11, 15, 0)));
    // At least one scenic area rated.
    assert!(matches!(
        rejection(h.try_complete(
            review.id,
            SUPERVISOR,
            Some("submit"),
            json!({"ratings": [], "market_analysis": "x"}),
        )),
        Rejection::Invalid(_)
    ));
    // Returned: the center revises it, and the analysis made from it is confirmed again.
    let inst = h.act(
        id,
        "review",
        SUPERVISOR,
        Some("return"),
        json!({
            "ratings": [{"area": "天門山", "grade": "pass"}],
            "market_analysis": "待補",
            "review_notes": "投訴處理情況請逐件寫明",
        }),
    );
    assert_at(&inst, "draft");
    assert_eq!(h.task(id, "draft").candidates.roles, ["scenic_agent"]);
    h.clock.set(sh(2026, 3, 10, 17, 0));
    h.act(
        id,
        "draft",
        AGENT,
        None,
        json!({"handling": "投訴4起：索道排隊2起、退票1起、導覽1起，均已處理"}),
    );
    let inst = h.act(id, "analysis", LIAISON, None, json!({}));
    assert_eq!(
        inst.data.get("handling"),
        Some(&Value::Text(
            "投訴4起：索道排隊2起、退票1起、導覽1起，均已處理".into()
        ))
    );
    assert_eq!(
        inst.data.get("recommended"),
        Some(&Value::Text("天門山、張家界".into()))
    );
    // Every area up to standard: the liaison agent is told nothing; the manager reads it.
    h.clock.set(sh(2026, 3, 11, 11, 0));
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "review",
        SUPERVISOR,
        Some("submit"),
        json!({
            "ratings": [
                {"area": "天門山", "grade": "pass"},
                {"area": "張家界", "grade": "pass", "note": "週末排隊已加派引導"},
            ],
            "market_analysis": "親子套餐預訂增長，建議加推門票酒店套餐",
        }),
    );
    assert_at(&inst, "read");
    assert_eq!(sent_for(&h, id, mark), []);
    let read = h.task(id, "read");
    assert_eq!(read.candidates.roles, ["cs_manager"]);
    assert_eq!(h.list(CS_MANAGER), [read.id]);
    // Two working days to read it; late, the manager is reminded every working day.
    assert_eq!(read.due, Some(sh(2026, 3, 13, 11, 0)));
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 13, 11, 0));
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Overdue,
            to(&[CS_MANAGER]),
            format!("景區服務周報 #{id}（2026-03-02）的「客服經理審閱」已逾期")
        )]
    );
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 16, 11, 0));
    let sent = sent_for(&h, id, mark);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].0, &sent[0].1),
        (MessageKind::Reminder, &to(&[CS_MANAGER]))
    );
    h.clock.set(sh(2026, 3, 16, 14, 0));
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "read",
        CS_MANAGER,
        None,
        json!({"instructions": "五一前加開索道排隊引導崗"}),
    );
    assert_ended(&inst, "done");
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Notify,
            to(&[SUPERVISOR]),
            "2026-03-02至2026-03-08的景區服務周報客服經理已審閱。批示：五一前加開索道排隊引導崗"
                .to_string()
        )]
    );
}

#[test]
fn a_late_review_is_told_to_the_cs_manager_and_a_substandard_area_goes_to_the_liaison_agent() {
    let h = Harness::at(sh(2026, 3, 9, 9, 0));
    let id = h.start("scenic_weekly", json!({}), SYSTEM).instance.id;
    h.act(id, "draft", AGENT, None, draft_data());
    h.act(id, "analysis", LIAISON, None, analysis_data());
    let review = h.task(id, "review");
    assert_eq!(review.due, Some(sh(2026, 3, 10, 9, 0)));
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 9, 16, 0));
    let sent = sent_for(&h, id, mark);
    assert_eq!(
        (sent.len(), sent[0].0, &sent[0].1),
        (1, MessageKind::Reminder, &to(&[SUPERVISOR]))
    );
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 10, 9, 0));
    // The manager, who waits for it, is told; the review stays the supervisor's.
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Overdue,
            to(&[CS_MANAGER]),
            "2026-03-02至2026-03-08的景區服務周報尚未報送客服經理".to_string()
        )]
    );
    assert_eq!(h.task(id, "review").candidates.roles, ["scenic_supervisor"]);
    h.clock.set(sh(2026, 3, 10, 10, 0));
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "review",
        SUPERVISOR,
        Some("submit"),
        json!({
            "ratings": [
                {"area": "張家界", "grade": "pass"},
                {"area": "天門山", "grade": "fail", "note": "索道排隊無引導"},
            ],
            "market_analysis": "天門山口碑下滑，暫緩主推",
        }),
    );
    assert_at(&inst, "read");
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Notify,
            to(&[LIAISON]),
            "2026-03-02至2026-03-08的景區服務評定有不達標景區（見景區服務周報）。請與景區負責人溝通整改，並報送景區服務信息聯絡".to_string()
        )]
    );
    let mark = h.outbox_mark();
    let inst = h.act(id, "read", CS_MANAGER, None, json!({}));
    assert_ended(&inst, "done");
    assert_eq!(
        sent_for(&h, id, mark),
        [(
            MessageKind::Notify,
            to(&[SUPERVISOR]),
            "2026-03-02至2026-03-08的景區服務周報客服經理已審閱。批示：無".to_string()
        )]
    );
}

#[test]
fn days_and_weeks_missed_while_the_daemon_was_down_are_caught_up_once() {
    // The daemon last ran on Friday 6 March and comes back on Wednesday 18 March:
    // twelve daily reviews and two weekly reports were missed.
    let h = calendar_from(sh(2026, 3, 6, 12, 0));
    let weekly = run_calendar(&h, "scenic_weekly", sh(2026, 3, 18, 10, 0));
    let [week] = weekly[..] else {
        panic!("one weekly report: {weekly:?}")
    };
    // The week before the last Monday missed, reported as on that Monday.
    assert_eq!(
        h.data(week, "week_start"),
        Some(Value::Date(date(2026, 3, 9)))
    );
    assert_eq!(
        h.data(week, "week_end"),
        Some(Value::Date(date(2026, 3, 15)))
    );
    let daily = ids_of(&h, "scenic_orders");
    let [day] = daily[..] else {
        panic!("one daily review: {daily:?}")
    };
    // Today's orders, and today's receptions checked this evening.
    assert_eq!(
        h.data(day, "review_date"),
        Some(Value::Date(date(2026, 3, 18)))
    );
    assert_eq!(
        h.data(day, "reconcile_at"),
        Some(Value::DateTime(sh(2026, 3, 18, 17, 0)))
    );
    assert_eq!(h.task(day, "orders").due, Some(sh(2026, 3, 18, 11, 0)));
}
