//! Walkthroughs of the service-quality processes (第二章 第三節 五 服務質量考核, 三.3
//! 信息聯絡專員) on the manual clock in Shanghai time: a quality evaluation and its
//! review, the evaluator's daily report and weekly satisfaction analysis (started as
//! the scheduler would), the service rectification notice from draft to closing, and
//! the information liaison of substandard scenic-area service.

mod common;

use baton_dsl::eval::Value;
use baton_engine::core::{InstanceId, MessageKind, Rejection, TimerKind, SYSTEM};
use baton_engine::store::{Outcome, StoreError};
use common::*;
use serde_json::json;

/// 唐欣, the quality evaluator; her supervisor 郭鵬 is the quality supervisor.
const EVALUATOR: &str = "tang_xin";
const QUALITY_SUPERVISOR: &str = "guo_peng";
/// 李明, the CS manager: the leader who signs rectification notices.
const CS_MANAGER: &str = "li_ming";
/// 黃敏, a scenic-area agent who is also the information-liaison agent; 林濤 is the
/// scenic-area supervisor.
const LIAISON: &str = "huang_min";
const SCENIC_SUPERVISOR: &str = "lin_tao";

/// Monday 2 March 2026, 10:00 Shanghai: a working day.
fn monday() -> chrono::DateTime<chrono::Utc> {
    sh(2026, 3, 2, 10, 0)
}

/// The requirement a refused `check` gives back, by its message alone.
fn refused_with(r: Result<Outcome, StoreError>) -> String {
    match rejection(r) {
        Rejection::Requirement { message, .. } => message,
        other => panic!("expected a requirement, got {other:?}"),
    }
}

/// The texts sent to `person` after `mark`.
fn texts_to(h: &Harness, mark: u64, person: &str) -> Vec<String> {
    h.outbox_after(mark)
        .into_iter()
        .filter(|s| s.to() == [person])
        .map(|s| s.text().to_string())
        .collect()
}

// ---- quality_evaluation ---------------------------------------------------------------

fn evaluation(h: &Harness, data: serde_json::Value) -> InstanceId {
    h.start("quality_evaluation", data, EVALUATOR).instance.id
}

fn hotline_check(h: &Harness) -> InstanceId {
    evaluation(
        h,
        json!({
            "scope": "hotline",
            "target": "熱線話務組",
            "sample": "3月1日錄音10通",
            "staff": "wang_fang",
        }),
    )
}

#[test]
fn evaluation_returned_once_then_confirmed_and_told_to_the_agent() {
    let h = Harness::at(monday());
    // Only a quality evaluator spot-checks.
    assert!(matches!(
        rejection(h.try_start(
            "quality_evaluation",
            json!({"scope": "hotline", "target": "x", "sample": "y"}),
            "wang_fang"
        )),
        Rejection::Forbidden(_)
    ));
    let id = hotline_check(&h);
    let evaluate = h.task(id, "evaluate");
    assert_eq!(evaluate.candidates.people, [EVALUATOR]);
    // One working day: Tuesday 10:00.
    assert_eq!(evaluate.due, Some(sh(2026, 3, 3, 10, 0)));
    // At least one rating, each 1 to 5.
    assert!(matches!(
        rejection(h.try_complete(
            evaluate.id,
            EVALUATOR,
            None,
            json!({"ratings": [{"item": "開篇用語", "score": 6}], "grade": "good", "findings": "良好"}),
        )),
        Rejection::Invalid(_)
    ));
    let inst = h.act(
        id,
        "evaluate",
        EVALUATOR,
        None,
        json!({
            "ratings": [
                {"item": "開篇用語", "score": 5},
                {"item": "投訴處理", "score": 3, "comment": "未告知等待時間"},
            ],
            "grade": "good",
            "findings": "整體良好，投訴處理須告知等待時間",
        }),
    );
    assert_at(&inst, "review");
    let review = h.task(id, "review");
    assert_eq!(review.candidates.roles, ["quality_supervisor"]);
    assert_eq!(h.list(QUALITY_SUPERVISOR), [review.id]);
    assert_eq!(review.due, Some(sh(2026, 3, 3, 10, 0)));
    // Not reviewed in time: the CS manager is told.
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(sh(2026, 3, 3, 10, 0)), 1);
    assert_eq!(
        texts_to(&h, mark, CS_MANAGER),
        ["服務質量測評「熱線話務組」待考核主管審核，已逾期"]
    );
    // Returned: the evaluator does it again, and it comes back to the supervisor.
    let inst = h.act(
        id,
        "review",
        QUALITY_SUPERVISOR,
        Some("return"),
        json!({"review_notes": "樣本不足，請加抽5通"}),
    );
    assert_at(&inst, "evaluate");
    let inst = h.act(
        id,
        "evaluate",
        EVALUATOR,
        None,
        json!({
            "ratings": [{"item": "投訴處理", "score": 3}],
            "grade": "pass",
            "findings": "加抽5通，合格",
        }),
    );
    assert_at(&inst, "review");
    let mark = h.outbox_mark();
    let inst = h.act(id, "review", QUALITY_SUPERVISOR, Some("confirm"), json!({}));
    assert_ended(&inst, "done");
    // The agent evaluated is told the result, by the grade's label; no notice follows.
    assert_eq!(
        texts_to(&h, mark, "wang_fang"),
        ["服務質量測評結果（熱線話務組）：合格；加抽5通，合格"]
    );
    assert!(h.instances("rectification", "running").is_empty());
}

#[test]
fn substandard_service_of_an_agent_starts_a_rectification_notice_naming_them() {
    let h = Harness::at(monday());
    let id = hotline_check(&h);
    h.act(
        id,
        "evaluate",
        EVALUATOR,
        None,
        json!({
            "ratings": [{"item": "投訴處理", "score": 1, "comment": "與客戶爭辯"}],
            "grade": "substandard",
            "findings": "投訴處理與客戶爭辯",
        }),
    );
    let inst = h.act(id, "review", QUALITY_SUPERVISOR, Some("confirm"), json!({}));
    assert_at(&inst, "notice");
    let notice = h.task(id, "notice");
    assert_eq!(notice.candidates.roles, ["quality_supervisor"]);
    // 王芳 is of the CS department: the notice goes there, not to HR.
    assert_eq!(
        refused_with(h.try_complete(
            notice.id,
            QUALITY_SUPERVISOR,
            None,
            json!({"responsible_dept": "hr"}),
        )),
        "被測評專員須屬於責任部門"
    );
    let o = h.complete(
        notice.id,
        QUALITY_SUPERVISOR,
        None,
        json!({"responsible_dept": "cs"}),
    );
    assert_ended(&o.instance, "rectified");
    assert_eq!(o.children.len(), 1);
    let child = o.children[0];
    let c = h.inst(child);
    assert_eq!(c.process, "rectification");
    assert_at(&c, "draft");
    assert_eq!(
        c.data.get("issue"),
        Some(&Value::Text("投訴處理與客戶爭辯".into()))
    );
    assert_eq!(
        c.data.get("responsible_dept"),
        Some(&Value::Department("cs".into()))
    );
    assert_eq!(
        c.data.get("owner"),
        Some(&Value::Person("wang_fang".into()))
    );
    assert_eq!(
        c.data.get("basis"),
        Some(&Value::Text("服務質量測評：熱線話務組".into()))
    );
    assert_eq!(
        h.task(child, "draft").candidates.roles,
        ["quality_supervisor"]
    );
    // The notice goes its way: drafted, signed, and the head of the CS department
    // confirms the agent named as the one responsible.
    h.act(
        child,
        "draft",
        QUALITY_SUPERVISOR,
        Some("submit"),
        json!({"requirement": "參加投訴處理培訓並複測", "deadline": "2026-03-06"}),
    );
    h.act(child, "signoff", CS_MANAGER, Some("approve"), json!({}));
    let accept = h.task(child, "accept");
    assert_eq!(accept.candidates.people, [CS_MANAGER]);
    let c = h.act(child, "accept", CS_MANAGER, None, json!({}));
    assert_at(&c, "rectify");
    let rectify = h.task(child, "rectify");
    assert_eq!(rectify.candidates.people, ["wang_fang"]);
    assert_eq!(rectify.due, Some(sh(2026, 3, 6, 18, 0)));
}

#[test]
fn substandard_service_of_a_merchant_starts_a_notice_without_a_person() {
    let h = Harness::at(monday());
    let id = evaluation(
        &h,
        json!({"scope": "hotel", "target": "山景酒店", "sample": "現場暗訪", "basis": "回訪問卷12份"}),
    );
    let mark = h.outbox_mark();
    h.act(
        id,
        "evaluate",
        EVALUATOR,
        None,
        json!({
            "ratings": [{"item": "入住辦理", "score": 2}, {"item": "衛生", "score": 1}],
            "grade": "substandard",
            "findings": "客房衛生不達標",
        }),
    );
    h.act(id, "review", QUALITY_SUPERVISOR, Some("confirm"), json!({}));
    // Nobody was evaluated by name: nobody is told the result.
    assert!(h
        .outbox_after(mark)
        .iter()
        .all(|s| s.kind() != MessageKind::Notify));
    let o = h.complete(
        h.task(id, "notice").id,
        QUALITY_SUPERVISOR,
        None,
        json!({"responsible_dept": "channel"}),
    );
    assert_ended(&o.instance, "rectified");
    let [child] = o.children[..] else {
        panic!("one notice: {:?}", o.children)
    };
    assert_eq!(h.data(child, "owner"), None);
    assert_eq!(
        h.data(child, "responsible_dept"),
        Some(Value::Department("channel".into()))
    );
}

// ---- quality_daily --------------------------------------------------------------------

#[test]
fn daily_report_of_each_evaluator_goes_to_the_quality_supervisor() {
    let t0 = sh(2026, 3, 2, 17, 30);
    let h = Harness::at(t0);
    let (_, def) = h.engine.store.latest("quality_daily").unwrap();
    let roles: Vec<&str> = def
        .schedules
        .iter()
        .map(|s| s.for_each_role.as_deref().expect("for each person"))
        .collect();
    assert_eq!(roles, ["quality_evaluator"]);
    assert_eq!(def.schedules[0].phrase, "every day at 17:30");
    // What the scheduler does at 17:30.
    let evaluators = h.people("quality_evaluator");
    assert_eq!(evaluators, [EVALUATOR]);
    let o = h.start("quality_daily", json!({"subject": EVALUATOR}), SYSTEM);
    let id = o.instance.id;
    let write = h.task(id, "write");
    assert_eq!(write.candidates.people, [EVALUATOR]);
    assert_eq!(write.due, Some(t0 + hours(2)));
    assert_eq!(
        h.timers(id),
        [
            (
                t0 + minutes(90),
                TimerKind::Remind {
                    step: "write".into()
                }
            ),
            (
                t0 + hours(2),
                TimerKind::Due {
                    step: "write".into()
                }
            ),
        ]
    );
    assert_eq!(h.fire_at(t0 + minutes(90)), 1);
    assert_eq!(h.fire_at(t0 + hours(2)), 1);
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [EVALUATOR]);
    assert_eq!(sent[1].kind(), MessageKind::Overdue);
    assert_eq!(sent[1].to(), [QUALITY_SUPERVISOR]);
    assert_eq!(sent[1].text(), "唐欣今日的測評日報尚未提交");
    // Late, it still goes through; nothing substandard today.
    let inst = h.act(
        id,
        "write",
        EVALUATOR,
        None,
        json!({"evaluated": 12, "report": "抽查熱線錄音12通"}),
    );
    assert_ended(&inst, "done");
    let last = h.sent_by(id).pop().expect("the report");
    assert_eq!(last.kind(), MessageKind::Notify);
    assert_eq!(last.to(), [QUALITY_SUPERVISOR]);
    assert_eq!(
        last.text(),
        "唐欣的測評日報：今日測評12項。抽查熱線錄音12通；不達標：無"
    );

    // The next day's, with something substandard, in time.
    let o = h.start("quality_daily", json!({"subject": EVALUATOR}), SYSTEM);
    let inst = h.act(
        o.instance.id,
        "write",
        EVALUATOR,
        None,
        json!({"evaluated": 8, "report": "暗訪酒店2家", "substandard": "山景酒店衛生"}),
    );
    assert_ended(&inst, "done");
    let sent = h.sent_by(o.instance.id);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].text(),
        "唐欣的測評日報：今日測評8項。暗訪酒店2家；不達標：山景酒店衛生"
    );
}

// ---- quality_weekly -------------------------------------------------------------------

/// Friday 6 March 2026, 16:00: when the calendar starts the weekly analysis.
fn friday() -> chrono::DateTime<chrono::Utc> {
    sh(2026, 3, 6, 16, 0)
}

fn weekly(h: &Harness) -> InstanceId {
    let (_, def) = h.engine.store.latest("quality_weekly").unwrap();
    assert_eq!(def.schedules.len(), 1);
    assert_eq!(
        def.schedules[0].for_each_role.as_deref(),
        Some("quality_evaluator")
    );
    h.start("quality_weekly", json!({"subject": EVALUATOR}), SYSTEM)
        .instance
        .id
}

fn plan() -> serde_json::Value {
    json!([
        {"issue": "熱線等候超過30秒", "responsible_dept": "cs", "measure": "高峰增開坐席", "deadline": "2026-03-20"},
        {"issue": "App在線回覆慢", "responsible_dept": "technology", "measure": "優化分配規則", "deadline": "2026-03-27"},
    ])
}

#[test]
fn weekly_analysis_returned_then_every_point_of_the_plan_becomes_a_notice() {
    let h = Harness::at(friday());
    let id = weekly(&h);
    let analyse = h.task(id, "analyse");
    assert_eq!(analyse.candidates.people, [EVALUATOR]);
    // One working day from Friday 16:00 is Monday 16:00, reminded two hours before.
    let due = sh(2026, 3, 9, 16, 0);
    assert_eq!(analyse.due, Some(due));
    assert_eq!(h.fire_at(due - hours(2)), 1);
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(due), 1);
    assert_eq!(
        texts_to(&h, mark, QUALITY_SUPERVISOR),
        ["唐欣本週的滿意度分析尚未上報"]
    );
    let inst = h.act(
        id,
        "analyse",
        EVALUATOR,
        None,
        json!({
            "evaluations": 46,
            "satisfaction": 87.5,
            "analysis": "等候時長是主要不滿",
            "plan": plan(),
        }),
    );
    assert_at(&inst, "review");
    let review = h.task(id, "review");
    assert_eq!(review.candidates.roles, ["quality_supervisor"]);
    // Sent back, the evaluator revises it (what was filled is kept).
    let inst = h.act(
        id,
        "review",
        QUALITY_SUPERVISOR,
        Some("return"),
        json!({"review_notes": "請補充忠誠度分析"}),
    );
    assert_at(&inst, "analyse");
    h.act(
        id,
        "analyse",
        EVALUATOR,
        None,
        json!({"loyalty": "回頭客佔三成"}),
    );
    let mark = h.outbox_mark();
    let o = h.complete(
        h.task(id, "review").id,
        QUALITY_SUPERVISOR,
        Some("issue"),
        json!({"review_notes": "同意，逐項下發"}),
    );
    assert_ended(&o.instance, "done");
    assert_eq!(
        texts_to(&h, mark, EVALUATOR),
        ["本週滿意度分析已審核：同意，逐項下發"]
    );
    // One rectification notice per point, each waiting for the supervisor's draft with
    // the measure and deadline of the plan.
    assert_eq!(o.children.len(), 2);
    let expected = [
        ("熱線等候超過30秒", "cs", "高峰增開坐席", date(2026, 3, 20)),
        (
            "App在線回覆慢",
            "technology",
            "優化分配規則",
            date(2026, 3, 27),
        ),
    ];
    for (child, (issue, dept, measure, deadline)) in o.children.iter().zip(expected) {
        let c = h.inst(*child);
        assert_eq!(c.process, "rectification");
        assert_at(&c, "draft");
        assert_eq!(c.data.get("issue"), Some(&Value::Text(issue.into())));
        assert_eq!(
            c.data.get("responsible_dept"),
            Some(&Value::Department(dept.into()))
        );
        assert_eq!(
            c.data.get("requirement"),
            Some(&Value::Text(measure.into()))
        );
        assert_eq!(c.data.get("deadline"), Some(&Value::Date(deadline)));
    }
}

#[test]
fn weekly_analysis_approved_without_notices_or_with_nothing_to_correct() {
    let h = Harness::at(friday());
    // Approved as it is: nothing is issued, whatever the plan holds.
    let id = weekly(&h);
    h.act(
        id,
        "analyse",
        EVALUATOR,
        None,
        json!({"evaluations": 40, "satisfaction": 92, "analysis": "平穩", "plan": plan()}),
    );
    let o = h.complete(
        h.task(id, "review").id,
        QUALITY_SUPERVISOR,
        Some("approve"),
        json!({}),
    );
    assert_ended(&o.instance, "done");
    assert!(o.children.is_empty());
    assert_eq!(
        h.sent_by(id).last().expect("told").text(),
        "本週滿意度分析已審核：同意"
    );
    // An empty plan with notices asked for: nothing to issue, done at once.
    let id = weekly(&h);
    h.act(
        id,
        "analyse",
        EVALUATOR,
        None,
        json!({"evaluations": 0, "satisfaction": 100, "analysis": "本週無測評", "plan": []}),
    );
    let o = h.complete(
        h.task(id, "review").id,
        QUALITY_SUPERVISOR,
        Some("issue"),
        json!({}),
    );
    assert_ended(&o.instance, "done");
    assert!(o.children.is_empty());
    assert!(h.instances("rectification", "running").is_empty());
}

// ---- rectification --------------------------------------------------------------------

fn notice(h: &Harness) -> InstanceId {
    h.start(
        "rectification",
        json!({"issue": "App在線客服回覆超時", "responsible_dept": "technology"}),
        QUALITY_SUPERVISOR,
    )
    .instance
    .id
}

#[test]
fn rectification_signed_issued_late_sent_back_and_closed() {
    let h = Harness::at(monday());
    assert!(matches!(
        rejection(h.try_start(
            "rectification",
            json!({"issue": "x", "responsible_dept": "cs"}),
            CS_MANAGER
        )),
        Rejection::Forbidden(_)
    ));
    let id = notice(&h);
    let draft = h.task(id, "draft");
    assert_eq!(draft.candidates.roles, ["quality_supervisor"]);
    assert_eq!(draft.due, Some(sh(2026, 3, 3, 10, 0)));
    // A deadline already passed is refused.
    assert_eq!(
        refused_with(h.try_complete(
            draft.id,
            QUALITY_SUPERVISOR,
            Some("submit"),
            json!({"requirement": "回覆時限縮短至30秒", "deadline": "2026-03-01"}),
        )),
        "整改期限須晚於今天"
    );
    // The supervisor who started it drafts it and sends it for signature.
    let inst = h.act(
        id,
        "draft",
        QUALITY_SUPERVISOR,
        Some("submit"),
        json!({"requirement": "回覆時限縮短至30秒", "deadline": "2026-03-13"}),
    );
    assert_at(&inst, "signoff");
    let sign = h.task(id, "signoff");
    assert_eq!(sign.candidates.roles, ["cs_manager"]);
    // The leader refuses: back to the draft, the supervisor told.
    let mark = h.outbox_mark();
    let o = h.complete(sign.id, CS_MANAGER, Some("refuse"), json!({}));
    assert_at(&o.instance, "draft");
    let told = texts_to(&h, mark, QUALITY_SUPERVISOR);
    assert_eq!(told.len(), 1, "the refusal is told: {told:?}");
    assert!(told[0].contains("李明拒絕簽署"), "{}", told[0]);
    // Revised and signed: issued to the head of the technology department.
    h.act(
        id,
        "draft",
        QUALITY_SUPERVISOR,
        Some("submit"),
        json!({"deadline": "2026-03-13"}),
    );
    let mark = h.outbox_mark();
    let inst = h.act(id, "signoff", CS_MANAGER, Some("approve"), json!({}));
    assert_at(&inst, "accept");
    assert_eq!(
        texts_to(&h, mark, "zheng_kai"),
        ["服務整改通知已下發：App在線客服回覆超時；整改要求：回覆時限縮短至30秒；整改期限：2026-03-13"]
    );
    let accept = h.task(id, "accept");
    assert_eq!(accept.candidates.people, ["zheng_kai"]);
    // 落實到具體責任人: someone of that department.
    assert_eq!(
        refused_with(h.try_complete(accept.id, "zheng_kai", None, json!({"owner": "wang_fang"}),)),
        "責任人須為責任部門的人員"
    );
    let mark = h.outbox_mark();
    let inst = h.act(id, "accept", "zheng_kai", None, json!({"owner": "cao_lei"}));
    assert_at(&inst, "rectify");
    assert_eq!(
        texts_to(&h, mark, "cao_lei"),
        ["請於2026-03-13前完成服務整改：App在線客服回覆超時；整改要求：回覆時限縮短至30秒"]
    );
    let rectify = h.task(id, "rectify");
    assert_eq!(rectify.candidates.people, ["cao_lei"]);
    let due = sh(2026, 3, 13, 18, 0);
    assert_eq!(rectify.due, Some(due));
    // The day before at 18:00 a reminder; after the deadline (Friday 18:00, the end
    // of the working day) one every working day, the first on Tuesday 09:00, a
    // working day after Monday's opening.
    assert_eq!(
        h.timers(id),
        [
            (
                due - hours(24),
                TimerKind::Remind {
                    step: "rectify".into()
                }
            ),
            (
                due,
                TimerKind::Due {
                    step: "rectify".into()
                }
            ),
            (
                sh(2026, 3, 17, 9, 0),
                TimerKind::RemindEvery {
                    step: "rectify".into(),
                    every_minutes: 5220
                }
            ),
        ]
    );
    // Reminded the day before; past the deadline the supervisor and the head are told.
    assert_eq!(h.fire_at(due - hours(24)), 1);
    let mark = h.outbox_mark();
    h.fire_at(due);
    let late = "服務整改「App在線客服回覆超時」已超過整改期限，責任人曹磊";
    assert_eq!(texts_to(&h, mark, QUALITY_SUPERVISOR), [late]);
    assert_eq!(texts_to(&h, mark, "zheng_kai"), [late]);
    // Then reminded every working day: nothing over the weekend.
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(sh(2026, 3, 17, 8, 59)), 0);
    assert_eq!(h.fire_at(sh(2026, 3, 17, 9, 0)), 1);
    let reminded = h.outbox_after(mark);
    assert_eq!(reminded.len(), 1);
    assert_eq!(reminded[0].kind(), MessageKind::Reminder);
    assert_eq!(reminded[0].to(), ["cao_lei"]);

    let inst = h.act(
        id,
        "rectify",
        "cao_lei",
        None,
        json!({"result": "已調整分配規則"}),
    );
    assert_at(&inst, "verify");
    assert_eq!(
        h.task(id, "verify").candidates.roles,
        ["quality_supervisor"]
    );
    // Not good enough: a new deadline, which must be later than today.
    let inst = h.act(
        id,
        "verify",
        QUALITY_SUPERVISOR,
        Some("not_done"),
        json!({"verify_notes": "高峰仍超時"}),
    );
    assert_at(&inst, "redo");
    let redo = h.task(id, "redo");
    assert_eq!(
        refused_with(h.try_complete(
            redo.id,
            QUALITY_SUPERVISOR,
            None,
            json!({"deadline": "2026-03-13"}),
        )),
        "新的整改期限須晚於今天"
    );
    let mark = h.outbox_mark();
    h.complete(
        redo.id,
        QUALITY_SUPERVISOR,
        None,
        json!({"deadline": "2026-03-20"}),
    );
    assert_eq!(
        texts_to(&h, mark, "cao_lei"),
        ["請於2026-03-20前完成服務整改：App在線客服回覆超時；整改要求：回覆時限縮短至30秒"]
    );
    assert_eq!(h.task(id, "rectify").due, Some(sh(2026, 3, 20, 18, 0)));
    h.act(
        id,
        "rectify",
        "cao_lei",
        None,
        json!({"result": "高峰增開人工坐席"}),
    );
    let mark = h.outbox_mark();
    let inst = h.act(id, "verify", QUALITY_SUPERVISOR, Some("closed"), json!({}));
    assert_ended(&inst, "closed");
    assert_eq!(
        texts_to(&h, mark, CS_MANAGER),
        ["服務整改通知「App在線客服回覆超時」已整改結案：高峰增開人工坐席"]
    );
    assert_eq!(
        texts_to(&h, mark, "zheng_kai"),
        ["服務整改通知「App在線客服回覆超時」已整改結案"]
    );
}

#[test]
fn rectification_signature_late_is_reminded_and_a_notice_may_be_withdrawn() {
    let h = Harness::at(monday());
    let id = notice(&h);
    h.act(
        id,
        "draft",
        QUALITY_SUPERVISOR,
        Some("submit"),
        json!({"requirement": "回覆時限縮短至30秒", "deadline": "2026-03-13"}),
    );
    let sign = h.task(id, "signoff");
    // Due in a working day, then the leader is reminded every working day.
    assert_eq!(sign.due, Some(sh(2026, 3, 3, 10, 0)));
    assert_eq!(h.fire_at(sh(2026, 3, 3, 10, 0)), 1);
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(sh(2026, 3, 4, 10, 0)), 1);
    let reminded = h.outbox_after(mark);
    assert_eq!(reminded.len(), 1);
    assert_eq!(reminded[0].kind(), MessageKind::Reminder);
    assert_eq!(reminded[0].to(), [CS_MANAGER]);
    // Refused, then withdrawn by the supervisor.
    h.act(id, "signoff", CS_MANAGER, Some("refuse"), json!({}));
    let inst = h.act(id, "draft", QUALITY_SUPERVISOR, Some("withdraw"), json!({}));
    assert_ended(&inst, "withdrawn");
}

// ---- liaison --------------------------------------------------------------------------

fn liaison(h: &Harness) -> InstanceId {
    h.start(
        "liaison",
        json!({
            "scenic_area": "張家界",
            "issue": "索道排隊無引導",
            "report_date": "2026-03-01",
            "reported_by": "劉洋",
        }),
        LIAISON,
    )
    .instance
    .id
}

#[test]
fn liaison_report_reaches_the_scenic_supervisor_and_is_corrected_by_the_agent() {
    let h = Harness::at(monday());
    // Only the information-liaison agent files it.
    assert!(matches!(
        rejection(h.try_start(
            "liaison",
            json!({"scenic_area": "x", "issue": "y", "report_date": "2026-03-01"}),
            "liu_yang"
        )),
        Rejection::Forbidden(_)
    ));
    let id = liaison(&h);
    assert_eq!(
        texts_to(&h, 0, SCENIC_SUPERVISOR),
        ["景區服務不達標報告（張家界，2026-03-01日報）：索道排隊無引導"]
    );
    let communicate = h.task(id, "communicate");
    assert_eq!(communicate.candidates.people, [LIAISON]);
    // Two working days, reminded four working hours before: Tuesday 15:00 (one hour
    // of Wednesday morning, three of Tuesday afternoon).
    let due = sh(2026, 3, 4, 10, 0);
    assert_eq!(communicate.due, Some(due));
    assert_eq!(
        h.timers(id),
        [
            (
                sh(2026, 3, 3, 15, 0),
                TimerKind::Remind {
                    step: "communicate".into()
                }
            ),
            (
                due,
                TimerKind::Due {
                    step: "communicate".into()
                }
            ),
        ]
    );
    assert_eq!(h.fire_at(sh(2026, 3, 3, 15, 0)), 1);
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(due), 1);
    assert_eq!(
        texts_to(&h, mark, SCENIC_SUPERVISOR),
        ["張家界服務不達標「索道排隊無引導」尚未與景區溝通整改"]
    );
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "communicate",
        LIAISON,
        Some("corrected"),
        json!({"measures": "增設排隊引導員"}),
    );
    assert_ended(&inst, "done");
    assert_eq!(
        texts_to(&h, mark, SCENIC_SUPERVISOR),
        ["張家界服務不達標「索道排隊無引導」已整改：增設排隊引導員"]
    );
}

#[test]
fn liaison_beyond_authority_goes_to_the_supervisor_and_the_agent_follows_it() {
    let h = Harness::at(monday());
    let id = liaison(&h);
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "communicate",
        LIAISON,
        Some("beyond"),
        json!({"measures": "需景區增加人手"}),
    );
    assert_at(&inst, "escalate");
    assert_eq!(
        texts_to(&h, mark, LIAISON),
        ["「索道排隊無引導」已上報景區客服主管處理，請全程跟蹤"]
    );
    let escalate = h.task(id, "escalate");
    assert_eq!(escalate.candidates.roles, ["scenic_supervisor"]);
    assert!(h.list(SCENIC_SUPERVISOR).contains(&escalate.id));
    // Late, the CS manager is told.
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(sh(2026, 3, 4, 10, 0)), 1);
    assert_eq!(
        texts_to(&h, mark, CS_MANAGER),
        ["張家界服務不達標「索道排隊無引導」上報景區客服主管後逾期未處理"]
    );
    let inst = h.act(
        id,
        "escalate",
        SCENIC_SUPERVISOR,
        Some("arranged"),
        json!({"handling": "與景區負責人約定週末增派引導員"}),
    );
    assert_at(&inst, "track");
    assert_eq!(h.task(id, "track").candidates.people, [LIAISON]);
    let inst = h.act(
        id,
        "track",
        LIAISON,
        Some("verified"),
        json!({"tracking": "現場確認已有引導員"}),
    );
    assert_ended(&inst, "done");
}

#[test]
fn liaison_not_corrected_goes_back_to_the_supervisor_and_ends_with_the_manager() {
    let h = Harness::at(monday());
    let id = liaison(&h);
    h.act(
        id,
        "communicate",
        LIAISON,
        Some("beyond"),
        json!({"measures": "需景區增加人手"}),
    );
    h.act(
        id,
        "escalate",
        SCENIC_SUPERVISOR,
        Some("arranged"),
        json!({"handling": "已約定增派引導員"}),
    );
    // Still not corrected on site: back to the supervisor.
    let inst = h.act(
        id,
        "track",
        LIAISON,
        Some("not_yet"),
        json!({"tracking": "週末仍無引導員"}),
    );
    assert_at(&inst, "escalate");
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "escalate",
        SCENIC_SUPERVISOR,
        Some("refused"),
        json!({"handling": "景區稱人手不足，拒絕增派"}),
    );
    assert_ended(&inst, "unresolved");
    assert_eq!(
        texts_to(&h, mark, CS_MANAGER),
        ["張家界服務不達標「索道排隊無引導」景區拒不整改：景區稱人手不足，拒絕增派"]
    );
    // The agent is told, and (as for every choice that ends a request) who chose it.
    assert_eq!(
        texts_to(&h, mark, LIAISON),
        [
            "「索道排隊無引導」景區拒不整改，已報客服經理",
            "林濤在景區服務信息聯絡 #1（張家界）的「景區客服主管處理」選擇了「景區拒不整改」"
        ]
    );
}
