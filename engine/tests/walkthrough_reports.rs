//! Walkthroughs of the routine reports on the manual clock in Shanghai time, started by
//! the calendar as the daemon starts them: the daily report of every post the
//! regulation asks one of (二.2 8); 三.2 6); 四.2 6); 四.3 7); 五.1 12)), the weekly reports
//! (四.2 6); 四.3 7)), and the supervisors' weekly, monthly and yearly summaries and plans
//! for the CS manager (四.1 4); 五.1 4)).

mod common;

use baton_dsl::eval::Value;
use baton_engine::core::{Instance, InstanceId, MessageKind, SYSTEM};
use chrono::{DateTime, Utc};
use common::*;
use serde_json::json;

const CS_MANAGER: &str = "li_ming";
const CENTER_SUPERVISOR: &str = "chen_jing";
const SCENIC_SUPERVISOR: &str = "lin_tao";
/// 何芸, the customer-relationship supervisor (維護主管).
const RELATIONSHIP_SUPERVISOR: &str = "he_yun";
/// 郭鵬, the service-quality supervisor (考核主管).
const QUALITY_SUPERVISOR: &str = "guo_peng";
/// 徐麗, a member-care agent; 宋佳, the information-management agent.
const MEMBER_CARE: &str = "xu_li";
const INFO_AGENT: &str = "song_jia";

/// The instances of `process` the calendar starts at `at`, run as the daemon runs
/// them: the schedules are first seen a minute before, then run at `at`.
fn scheduled(h: &Harness, process: &str, at: DateTime<Utc>) -> Vec<Instance> {
    h.clock.set(at - minutes(1));
    h.engine.run_schedules().expect("schedules seen");
    h.clock.set(at);
    h.engine.run_schedules().expect("schedules run");
    let mut v = h.instances(process, "running");
    v.sort_by_key(|i| i.id);
    v
}

fn subject(inst: &Instance) -> String {
    match inst.data.get("subject") {
        Some(Value::Person(p)) => p.clone(),
        other => panic!("subject: {other:?}"),
    }
}

/// The instance of `person` among `all`.
fn of(all: &[Instance], person: &str) -> InstanceId {
    all.iter()
        .find(|i| subject(i) == person)
        .unwrap_or_else(|| panic!("no instance for {person}"))
        .id
}

/// The roles a process is started for by the calendar, in the order written.
fn roles(h: &Harness, process: &str) -> Vec<String> {
    let (_, def) = h.engine.store.latest(process).expect("deployed");
    def.schedules
        .iter()
        .map(|s| s.for_each_role.clone().expect("for each person"))
        .collect()
}

/// The texts sent to exactly `to` after `mark`.
fn texts_to(h: &Harness, mark: u64, to: &[&str]) -> Vec<String> {
    h.outbox_after(mark)
        .into_iter()
        .filter(|s| s.to() == to)
        .map(|s| s.text().to_string())
        .collect()
}

/// The messages of instance `id` after `mark`.
fn sent_after(h: &Harness, mark: u64, id: InstanceId) -> Vec<Sent> {
    h.outbox_after(mark)
        .into_iter()
        .filter(|s| s.instance == id)
        .collect()
}

// ---- daily_report ---------------------------------------------------------------------

#[test]
fn every_post_asked_a_daily_report_gets_one_for_its_direct_supervisor() {
    // Monday 2 March 2026, 17:30.
    let t0 = sh(2026, 3, 2, 17, 30);
    let h = Harness::at(t0 - hours(1));
    assert_eq!(
        roles(&h, "daily_report"),
        [
            "agent",
            "scenic_agent",
            "member_care_agent",
            "info_agent",
            "quality_supervisor"
        ]
    );
    // Every role used has someone in the directory.
    for role in roles(&h, "daily_report") {
        assert!(!h.people(&role).is_empty(), "{role}");
    }
    let all = scheduled(&h, "daily_report", t0);
    let subjects: Vec<String> = all.iter().map(subject).collect();
    assert_eq!(
        subjects,
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
    for inst in &all {
        assert_eq!(inst.starter, SYSTEM);
        let write = h.task(inst.id, "write");
        assert_eq!(write.candidates.people, [subject(inst)]);
        assert_eq!(write.due, Some(t0 + hours(2)));
    }
    // 徐麗 and 宋佳 report to the customer-relationship supervisor; 郭鵬, the quality
    // supervisor, to the CS manager, with what needs the manager's help.
    let mark = h.outbox_mark();
    let inst = h.act(
        of(&all, MEMBER_CARE),
        "write",
        MEMBER_CARE,
        None,
        json!({"report": "回訪會員18位"}),
    );
    assert_ended(&inst, "done");
    h.act(
        of(&all, INFO_AGENT),
        "write",
        INFO_AGENT,
        None,
        json!({"report": "更新客戶資料卡40張", "problems": "商家信息來源不一致，建議統一由渠道部提供"}),
    );
    h.act(
        of(&all, QUALITY_SUPERVISOR),
        "write",
        QUALITY_SUPERVISOR,
        None,
        json!({"report": "審核滿意度評定結果3份", "problems": "酒店整改需產品部配合"}),
    );
    assert_eq!(
        texts_to(&h, mark, &[RELATIONSHIP_SUPERVISOR]),
        [
            "徐麗的工作日報：回訪會員18位",
            "宋佳的工作日報：更新客戶資料卡40張；問題與整改意見：商家信息來源不一致，建議統一由渠道部提供",
        ]
    );
    assert_eq!(
        texts_to(&h, mark, &[CS_MANAGER]),
        ["郭鵬的工作日報：審核滿意度評定結果3份；問題與整改意見：酒店整改需產品部配合"]
    );
    // The others are reminded at 19:00 and reported to their supervisors at 19:30.
    // (The quality evaluator's own daily report, started at 17:30 too, is left out.)
    let ours = |mark: u64| -> Vec<Sent> {
        h.outbox_after(mark)
            .into_iter()
            .filter(|s| all.iter().any(|i| i.id == s.instance))
            .collect()
    };
    let mark = h.outbox_mark();
    h.fire_at(t0 + minutes(90));
    let reminders = ours(mark);
    assert_eq!(reminders.len(), 4);
    assert!(reminders.iter().all(|s| s.kind() == MessageKind::Reminder));
    let mark = h.outbox_mark();
    h.fire_at(t0 + hours(2));
    let late = ours(mark);
    let mut late: Vec<(Vec<&str>, String)> = late
        .iter()
        .map(|s| (s.to(), s.text().to_string()))
        .collect();
    late.sort();
    assert_eq!(
        late,
        [
            (vec![CENTER_SUPERVISOR], "張偉今日的工作日報尚未提交".into()),
            (vec![CENTER_SUPERVISOR], "王芳今日的工作日報尚未提交".into()),
            (vec![SCENIC_SUPERVISOR], "劉洋今日的工作日報尚未提交".into()),
            (vec![SCENIC_SUPERVISOR], "黃敏今日的工作日報尚未提交".into()),
        ]
    );
}

#[test]
fn a_late_quality_supervisor_is_reported_to_the_cs_manager() {
    let t0 = sh(2026, 3, 3, 17, 30);
    let h = Harness::at(t0 - hours(1));
    let all = scheduled(&h, "daily_report", t0);
    let id = of(&all, QUALITY_SUPERVISOR);
    let mark = h.outbox_mark();
    h.fire_at(t0 + minutes(90));
    h.fire_at(t0 + hours(2));
    let sent = sent_after(&h, mark, id);
    let kinds: Vec<(MessageKind, Vec<&str>)> = sent.iter().map(|s| (s.kind(), s.to())).collect();
    assert_eq!(
        kinds,
        [
            (MessageKind::Reminder, vec![QUALITY_SUPERVISOR]),
            (MessageKind::Overdue, vec![CS_MANAGER]),
        ]
    );
    assert_eq!(sent[0].at, t0 + minutes(90));
    assert_eq!(sent[1].text(), "郭鵬今日的工作日報尚未提交");
}

// ---- weekly_report --------------------------------------------------------------------

/// Friday 6 March 2026, 16:00.
fn friday() -> DateTime<Utc> {
    sh(2026, 3, 6, 16, 0)
}

fn week() -> serde_json::Value {
    json!({"summary": "回訪會員86位，紀念日關懷12位", "next_plan": "推介春季會員活動"})
}

#[test]
fn weekly_reports_of_the_information_and_member_care_agents_go_to_their_supervisor() {
    let h = Harness::at(friday() - hours(1));
    assert_eq!(
        roles(&h, "weekly_report"),
        ["member_care_agent", "info_agent"]
    );
    let all = scheduled(&h, "weekly_report", friday());
    let subjects: Vec<String> = all.iter().map(subject).collect();
    // The scenic service center's weekly report is scenic_weekly's, not one per agent.
    assert_eq!(subjects, ["xu_li", "song_jia"]);
    // Due by the end of the working day, 18:00; reminded at 17:30.
    for inst in &all {
        let write = h.task(inst.id, "write");
        assert_eq!(write.candidates.people, [subject(inst)]);
        assert_eq!(write.due, Some(sh(2026, 3, 6, 18, 0)));
    }
    let mark = h.outbox_mark();
    let inst = h.act(of(&all, MEMBER_CARE), "write", MEMBER_CARE, None, week());
    assert_ended(&inst, "done");
    assert_eq!(
        texts_to(&h, mark, &[RELATIONSHIP_SUPERVISOR]),
        ["徐麗的工作週報：本週工作：回訪會員86位，紀念日關懷12位；問題與建議：無；下週計劃：推介春季會員活動"]
    );
    // 宋佳 is late: reminded at 17:30, her supervisor told at 18:00; she sends it after.
    let info = of(&all, INFO_AGENT);
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 6, 17, 30));
    h.fire_at(sh(2026, 3, 6, 18, 0));
    let sent = sent_after(&h, mark, info);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [INFO_AGENT]);
    assert_eq!(sent[0].at, sh(2026, 3, 6, 17, 30));
    assert_eq!(sent[1].kind(), MessageKind::Overdue);
    assert_eq!(sent[1].to(), [RELATIONSHIP_SUPERVISOR]);
    assert_eq!(
        sent[1].text(),
        "宋佳本週的工作週報尚未提交（每週五下班前報送）"
    );
    let mark = h.outbox_mark();
    let inst = h.act(
        info,
        "write",
        INFO_AGENT,
        None,
        json!({"summary": "新建客戶資料卡120張", "issues": "部分商家未分級", "next_plan": "完成商家分級評定"}),
    );
    assert_ended(&inst, "done");
    assert_eq!(
        texts_to(&h, mark, &[RELATIONSHIP_SUPERVISOR]),
        ["宋佳的工作週報：本週工作：新建客戶資料卡120張；問題與建議：部分商家未分級；下週計劃：完成商家分級評定"]
    );
}

// ---- weekly_summary -------------------------------------------------------------------

/// Monday 9 March 2026, 09:00.
fn monday() -> DateTime<Utc> {
    sh(2026, 3, 9, 9, 0)
}

fn summary() -> serde_json::Value {
    json!({
        "summary": "完成會員活動提案1份",
        "indicators": "會員回訪覆蓋率95%",
        "plan": "集團客戶回訪率提升至100%",
    })
}

#[test]
fn supervisors_send_their_weekly_summary_and_plan_to_the_cs_manager() {
    let h = Harness::at(monday() - hours(1));
    assert_eq!(
        roles(&h, "weekly_summary"),
        ["relationship_supervisor", "quality_supervisor"]
    );
    let all = scheduled(&h, "weekly_summary", monday());
    let subjects: Vec<String> = all.iter().map(subject).collect();
    // Not the CS center supervisor nor the scenic-area supervisor: theirs are the
    // Sunday summary of the hot-spot meeting and the scenic weekly service report.
    assert_eq!(subjects, ["he_yun", "guo_peng"]);
    let due = sh(2026, 3, 10, 9, 0);
    for inst in &all {
        let write = h.task(inst.id, "write");
        assert_eq!(write.candidates.people, [subject(inst)]);
        assert_eq!(write.due, Some(due), "by Tuesday 09:00");
    }
    assert!(!h.instances("weekly_summary", "running").iter().any(|i| [
        CENTER_SUPERVISOR,
        SCENIC_SUPERVISOR
    ]
    .contains(&subject(i).as_str())));
    let mark = h.outbox_mark();
    let inst = h.act(
        of(&all, RELATIONSHIP_SUPERVISOR),
        "write",
        RELATIONSHIP_SUPERVISOR,
        None,
        summary(),
    );
    assert_ended(&inst, "done");
    assert_eq!(
        texts_to(&h, mark, &[CS_MANAGER]),
        ["何芸的週工作總結與計劃——上週工作：完成會員活動提案1份；指標完成情況：會員回訪覆蓋率95%；本週計劃：集團客戶回訪率提升至100%；需協調：無"]
    );
    // 郭鵬 is late: reminded two working hours before (Monday 16:00), the CS manager
    // told at Tuesday 09:00, and reminded again every working day.
    let quality = of(&all, QUALITY_SUPERVISOR);
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 9, 16, 0));
    h.fire_at(due);
    h.fire_at(sh(2026, 3, 11, 9, 0));
    let sent = sent_after(&h, mark, quality);
    let seen: Vec<(MessageKind, Vec<&str>, DateTime<Utc>)> =
        sent.iter().map(|s| (s.kind(), s.to(), s.at)).collect();
    assert_eq!(
        seen,
        [
            (
                MessageKind::Reminder,
                vec![QUALITY_SUPERVISOR],
                sh(2026, 3, 9, 16, 0)
            ),
            (MessageKind::Overdue, vec![CS_MANAGER], due),
            (
                MessageKind::Reminder,
                vec![QUALITY_SUPERVISOR],
                sh(2026, 3, 11, 9, 0)
            ),
        ]
    );
    assert_eq!(
        sent[1].text(),
        "郭鵬的週工作總結與計劃尚未提交（每週一起1個工作日內報送）"
    );
}

// ---- monthly_summary ------------------------------------------------------------------

fn month() -> serde_json::Value {
    json!({
        "summary": "3月會員回訪1,020次，紀念日關懷46位",
        "indicators": "4月目標：集團客戶回訪率100%（責任主管何芸）",
        "plan": "4月推介春季會員活動，集團客戶全部回訪",
        "assignments": [
            {"indicator": "集團客戶回訪率100%", "owner": MEMBER_CARE},
            {"indicator": "客戶資料卡更新率100%", "owner": INFO_AGENT},
        ],
    })
}

#[test]
fn the_monthly_summary_and_plan_goes_to_the_manager_and_each_indicator_to_its_owner() {
    // Wednesday 1 April 2026, 09:00: March summed up, April planned.
    let t0 = sh(2026, 4, 1, 9, 0);
    let h = Harness::at(t0 - hours(1));
    assert_eq!(
        roles(&h, "monthly_summary"),
        ["relationship_supervisor", "quality_supervisor"]
    );
    let mark = h.outbox_mark();
    let all = scheduled(&h, "monthly_summary", t0);
    let subjects: Vec<String> = all.iter().map(subject).collect();
    assert_eq!(subjects, ["he_yun", "guo_peng"]);
    let id = of(&all, RELATIONSHIP_SUPERVISOR);
    assert_eq!(h.data(id, "scope"), Some(Value::Choice("monthly".into())));
    assert_eq!(
        texts_to(&h, mark, &[RELATIONSHIP_SUPERVISOR]),
        ["請提交月度工作總結（至2026年3月）與計劃：對照客服部目標說明完成情況，並將計劃指標落實到責任人，3個工作日內報送客服經理（每年一月為年度總結與計劃）"]
    );
    // Three working days: Monday 6 April 09:00, reminded the Friday before.
    let write = h.task(id, "write");
    assert_eq!(write.candidates.people, [RELATIONSHIP_SUPERVISOR]);
    assert_eq!(write.due, Some(sh(2026, 4, 6, 9, 0)));
    // At least one indicator, each with the person who carries it.
    let mut none = month();
    none["assignments"] = json!([]);
    assert!(h
        .try_complete(write.id, RELATIONSHIP_SUPERVISOR, None, none)
        .is_err());
    let mark = h.outbox_mark();
    let o = h.complete(write.id, RELATIONSHIP_SUPERVISOR, None, month());
    assert_at(&o.instance, "assign");
    assert_eq!(
        texts_to(&h, mark, &[CS_MANAGER]),
        ["何芸的月度工作總結（至2026年3月）與計劃——總結：3月會員回訪1,020次，紀念日關懷46位；目標及指標完成情況：4月目標：集團客戶回訪率100%（責任主管何芸）；計劃：4月推介春季會員活動，集團客戶全部回訪"]
    );
    // 落實到具體責任人: 徐麗 and 宋佳 each confirm theirs within two working days.
    let tasks: Vec<(String, Vec<String>)> = o
        .instance
        .active_tasks()
        .map(|t| (t.title.clone(), t.candidates.people.clone()))
        .collect();
    assert_eq!(
        tasks,
        [
            (
                "確認指標：集團客戶回訪率100%".to_string(),
                vec![MEMBER_CARE.to_string()]
            ),
            (
                "確認指標：客戶資料卡更新率100%".to_string(),
                vec![INFO_AGENT.to_string()]
            ),
        ]
    );
    let due = sh(2026, 4, 3, 9, 0);
    assert!(o.instance.active_tasks().all(|t| t.due == Some(due)));
    let [xu, song] = [0, 1].map(|i| o.instance.active_tasks().nth(i).expect("task").id);
    h.complete(xu, MEMBER_CARE, None, json!({}));
    // 宋佳 forgets: reminded on Monday 09:00, a working day after the Friday due time.
    h.fire_at(due);
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 4, 6, 9, 0));
    assert_eq!(
        sent_after(&h, mark, id)
            .iter()
            .map(|s| (s.to(), s.text().to_string()))
            .collect::<Vec<_>>(),
        [(
            vec![INFO_AGENT],
            "何芸下達的指標「客戶資料卡更新率100%」尚待您確認（指標下達後2個工作日內確認）"
                .to_string()
        )]
    );
    let o = h.complete(song, INFO_AGENT, None, json!({}));
    assert_ended(&o.instance, "done");
    // 郭鵬 has not written his: the CS manager was told on Monday 09:00.
    let quality = of(&all, QUALITY_SUPERVISOR);
    let told: Vec<String> = sent_after(&h, 0, quality)
        .iter()
        .filter(|s| s.to() == [CS_MANAGER])
        .map(|s| s.text().to_string())
        .collect();
    assert_eq!(told, ["郭鵬的月度工作總結（至2026年3月）與計劃尚未提交"]);
}

#[test]
fn january_brings_the_yearly_summary_and_plan() {
    // Friday 1 January 2027: 2026 summed up, 2027 planned.
    let t0 = sh(2027, 1, 1, 9, 0);
    let h = Harness::at(t0 - hours(1));
    let all = scheduled(&h, "monthly_summary", t0);
    assert_eq!(all.len(), 2);
    let id = of(&all, QUALITY_SUPERVISOR);
    assert_eq!(h.data(id, "scope"), Some(Value::Choice("yearly".into())));
    assert_eq!(h.data(id, "year_of"), Some(Value::Int(2026)));
    assert_eq!(h.data(id, "month_of"), Some(Value::Int(12)));
    assert_eq!(h.task(id, "write").due, Some(sh(2027, 1, 6, 9, 0)));
    let mark = h.outbox_mark();
    h.act(
        id,
        "write",
        QUALITY_SUPERVISOR,
        None,
        json!({
            "summary": "全年測評1,800件",
            "indicators": "年度滿意度91%",
            "plan": "2027年滿意度不低於92%",
            "assignments": [{"indicator": "滿意度週分析", "owner": "tang_xin"}],
        }),
    );
    let told = texts_to(&h, mark, &[CS_MANAGER]);
    assert_eq!(told.len(), 1);
    assert!(
        told[0].starts_with("郭鵬的年度工作總結（至2026年12月）與計劃——"),
        "{told:?}"
    );
    let confirm = h.task(id, "assign");
    assert_eq!(confirm.title, "確認指標：滿意度週分析");
    assert_eq!(confirm.candidates.people, ["tang_xin"]);
}
