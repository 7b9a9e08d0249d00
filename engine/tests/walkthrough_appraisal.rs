//! Walkthroughs of the monthly appraisal (第五章 績效考核; 二.1 客戶服務中心主管職責 5)、6);
//! 三.1 景區客服主管職責 11)) and of the CS manager's targets (一 客服部經理崗位職責 4)) on
//! the manual clock in Shanghai time, started by the calendar as the daemon starts them.

mod common;

use baton_dsl::eval::Value;
use baton_engine::core::{Instance, InstanceId, MessageKind, Rejection, SYSTEM};
use chrono::{DateTime, Utc};
use common::*;
use serde_json::json;

/// 李明, the CS manager, who signs the appraisals and sets the targets.
const CS_MANAGER: &str = "li_ming";
/// 陳靜 supervises the agents 王芳 and 張偉; 林濤 the scenic-area agents.
const CENTER_SUPERVISOR: &str = "chen_jing";
const SCENIC_SUPERVISOR: &str = "lin_tao";
const AGENT: &str = "wang_fang";
/// 孫莉 and 錢宇 hold the HR officer role: they reckon the month's pay.
const HR_OFFICERS: [&str; 2] = ["sun_li", "qian_yu"];

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

/// The texts sent to exactly `to` after `mark`.
fn texts_to(h: &Harness, mark: u64, to: &[&str]) -> Vec<String> {
    h.outbox_after(mark)
        .into_iter()
        .filter(|s| s.to() == to)
        .map(|s| s.text().to_string())
        .collect()
}

/// The messages of instance `id` after `mark` (the calendar starts other processes at
/// the same times, whose timers fire alongside).
fn sent_after(h: &Harness, mark: u64, id: InstanceId) -> Vec<Sent> {
    h.outbox_after(mark)
        .into_iter()
        .filter(|s| s.instance == id)
        .collect()
}

// ---- appraisal ------------------------------------------------------------------------

/// Wednesday 1 April 2026, 09:00: March is appraised.
fn april_first() -> DateTime<Utc> {
    sh(2026, 4, 1, 9, 0)
}

/// 王芳's appraisal of March, started by the calendar with the others.
fn wang_fangs(h: &Harness) -> InstanceId {
    let all = scheduled(h, "appraisal", april_first());
    all.iter()
        .find(|i| subject(i) == AGENT)
        .expect("王芳's appraisal")
        .id
}

/// The scores of an agent's month: 18 + 17 + 16 + 19 + 18 = 88, 良好.
fn scores() -> serde_json::Value {
    json!({
        "workload": 1260,
        "complaint_speed": 18,
        "satisfaction": 17,
        "retention": 16,
        "feedback_speed": 19,
        "cooperation": 18,
        "comments": "投訴處理及時，回訪記錄完整",
    })
}

const SCORES_TOLD: &str = "您2026年3月的月度考核評分：投訴解決速度18、客戶滿意度17、客戶流失率控制16、客戶信息反饋速度19、部門協作滿意度18（每項20分），總分88，等級良好（90分以上優秀、80–89分良好、60–79分合格、60分以下不合格）；本月工作量1260件。主管評語：投訴處理及時，回訪記錄完整。請於2個工作日內確認或提出異議，逾期未確認視為確認。";

#[test]
fn the_first_of_the_month_opens_one_appraisal_per_front_line_agent_for_their_supervisor() {
    let h = Harness::at(april_first() - hours(1));
    let (_, def) = h.engine.store.latest("appraisal").unwrap();
    let starts: Vec<(&str, Option<&str>)> = def
        .schedules
        .iter()
        .map(|s| (s.phrase.as_str(), s.for_each_role.as_deref()))
        .collect();
    assert_eq!(
        starts,
        [
            ("on day 1 of every month at 09:00", Some("agent")),
            ("on day 1 of every month at 09:00", Some("scenic_agent")),
        ]
    );
    let all = scheduled(&h, "appraisal", april_first());
    let subjects: Vec<String> = all.iter().map(subject).collect();
    // 黃敏, the information-liaison agent, is a scenic-area agent: one appraisal.
    assert_eq!(
        subjects,
        ["wang_fang", "zhang_wei", "liu_yang", "huang_min"]
    );
    // Scored by each one's own supervisor within 3 working days (Monday 6 April 09:00).
    let due = sh(2026, 4, 6, 9, 0);
    for (inst, supervisor) in all.iter().zip([
        CENTER_SUPERVISOR,
        CENTER_SUPERVISOR,
        SCENIC_SUPERVISOR,
        SCENIC_SUPERVISOR,
    ]) {
        assert_eq!(inst.starter, SYSTEM);
        assert_eq!(h.data(inst.id, "year_of"), Some(Value::Int(2026)));
        assert_eq!(h.data(inst.id, "month_of"), Some(Value::Int(3)));
        let score = h.task(inst.id, "score");
        assert_eq!(score.candidates.people, [supervisor]);
        assert_eq!(score.due, Some(due));
    }
    // (The quarter's case training opens the same morning for every supervisor.)
    let appraisals = |person: &str| {
        h.engine
            .store
            .tasks_for(person)
            .expect("tasks")
            .into_iter()
            .filter(|t| t.process == "appraisal")
            .count()
    };
    assert_eq!(appraisals(CENTER_SUPERVISOR), 2);
    assert_eq!(appraisals(SCENIC_SUPERVISOR), 2);
    assert!(h.list(AGENT).is_empty(), "the agent does not score herself");
    let wang = all[0].id;
    assert!(matches!(
        rejection(h.try_complete(h.task(wang, "score").id, AGENT, None, scores())),
        Rejection::Forbidden(_)
    ));
    // A score above its 20 points is refused.
    let mut too_high = scores();
    too_high["retention"] = json!(21);
    assert!(matches!(
        rejection(h.try_complete(h.task(wang, "score").id, CENTER_SUPERVISOR, None, too_high)),
        Rejection::Invalid(_)
    ));
    // The next month, one more each.
    let may = scheduled(&h, "appraisal", sh(2026, 5, 1, 9, 0));
    assert_eq!(may.len(), 8);
    assert_eq!(h.data(may[7].id, "month_of"), Some(Value::Int(4)));
}

#[test]
fn confirmed_and_signed_the_result_is_told_to_the_agent_the_supervisor_and_hr() {
    let h = Harness::at(april_first() - hours(1));
    let id = wang_fangs(&h);
    let mark = h.outbox_mark();
    let inst = h.act(id, "score", CENTER_SUPERVISOR, None, scores());
    assert_at(&inst, "confirm");
    assert_eq!(h.data(id, "total"), Some(Value::Int(88)));
    assert_eq!(h.data(id, "grade"), Some(Value::Choice("good".into())));
    // She sees every score, the bands and the deadline, and confirms in her list.
    assert_eq!(texts_to(&h, mark, &[AGENT]), [SCORES_TOLD]);
    let confirm = h.task(id, "confirm");
    assert_eq!(confirm.candidates.people, [AGENT]);
    assert_eq!(h.list(AGENT), [confirm.id]);
    let inst = h.act(id, "confirm", AGENT, Some("confirm"), json!({}));
    assert_at(&inst, "sign_off");
    let sign = h.task(id, "sign_off");
    assert_eq!(sign.candidates.roles, ["cs_manager"]);
    assert_eq!(h.list(CS_MANAGER), [sign.id]);
    // Nobody but the manager signs it.
    assert!(matches!(
        rejection(h.try_complete(sign.id, CENTER_SUPERVISOR, Some("approve"), json!({}))),
        Rejection::Forbidden(_)
    ));
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "sign_off",
        CS_MANAGER,
        Some("approve"),
        json!({"manager_notes": "繼續保持"}),
    );
    assert_ended(&inst, "done");
    assert_eq!(
        texts_to(&h, mark, &[AGENT]),
        ["您2026年3月的月度考核已經客服經理簽字確認：總分88，等級良好（本人確認）。客服經理意見：繼續保持"]
    );
    assert_eq!(
        texts_to(&h, mark, &[CENTER_SUPERVISOR]),
        ["王芳2026年3月的月度考核已簽字確認：總分88，良好"]
    );
    // HR by role: both HR officers are told, to reckon her pay.
    let to_hr: Vec<_> = h
        .outbox_after(mark)
        .into_iter()
        .filter(|s| s.to() != [AGENT] && s.to() != [CENTER_SUPERVISOR])
        .collect();
    assert_eq!(to_hr.len(), 1, "{to_hr:?}");
    let mut hr = to_hr[0].to();
    hr.sort();
    let mut expected = HR_OFFICERS.to_vec();
    expected.sort();
    assert_eq!(hr, expected);
    assert_eq!(
        to_hr[0].text(),
        "王芳2026年3月的月度績效考核結果：總分88，良好，工作量1260件，已經客服經理簽字確認，請據此核算本月績效工資"
    );
}

#[test]
fn an_objection_reaches_the_manager_who_sends_it_back_to_be_scored_again() {
    let h = Harness::at(april_first() - hours(1));
    let id = wang_fangs(&h);
    h.act(id, "score", CENTER_SUPERVISOR, None, scores());
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "confirm",
        AGENT,
        Some("object"),
        json!({"objection": "3月有兩天系統故障，流失率不應扣分"}),
    );
    assert_at(&inst, "sign_off");
    assert_eq!(
        h.data(id, "response"),
        Some(Value::Choice("objected".into()))
    );
    assert_eq!(
        texts_to(&h, mark, &[CS_MANAGER]),
        ["王芳對2026年3月的月度考核提出異議：3月有兩天系統故障，流失率不應扣分（總分88，良好），請在簽字確認時裁定"]
    );
    // The manager sends it back; the supervisor is told why and scores again.
    let mark = h.outbox_mark();
    let inst = h.act(
        id,
        "sign_off",
        CS_MANAGER,
        Some("rescore"),
        json!({"manager_notes": "系統故障期間的流失不計"}),
    );
    assert_at(&inst, "score");
    assert_eq!(
        texts_to(&h, mark, &[CENTER_SUPERVISOR]),
        ["客服經理退回王芳2026年3月的月度考核，請重新評分：系統故障期間的流失不計"]
    );
    let again = h.task(id, "score");
    assert_eq!(again.candidates.people, [CENTER_SUPERVISOR]);
    // Three working days again, from the return (Wednesday 09:00 to Monday 09:00).
    assert_eq!(again.due, Some(sh(2026, 4, 6, 9, 0)));
    // Only the score in question changes; the rest stands. 90 is 優秀.
    let mark = h.outbox_mark();
    h.act(
        id,
        "score",
        CENTER_SUPERVISOR,
        None,
        json!({"retention": 18}),
    );
    assert_eq!(h.data(id, "total"), Some(Value::Int(90)));
    let told = texts_to(&h, mark, &[AGENT]);
    assert_eq!(told.len(), 1);
    assert!(
        told[0].contains("客戶流失率控制18") && told[0].contains("總分90，等級優秀"),
        "{told:?}"
    );
    h.act(id, "confirm", AGENT, Some("confirm"), json!({}));
    let mark = h.outbox_mark();
    let inst = h.act(id, "sign_off", CS_MANAGER, Some("approve"), json!({}));
    assert_ended(&inst, "done");
    assert_eq!(
        texts_to(&h, mark, &[AGENT]),
        ["您2026年3月的月度考核已經客服經理簽字確認：總分90，等級優秀（本人確認）。客服經理意見：系統故障期間的流失不計"]
    );
}

#[test]
fn late_scoring_goes_to_the_manager_and_silence_counts_as_confirmation() {
    let h = Harness::at(april_first() - hours(1));
    let id = wang_fangs(&h);
    // Reminded one working day before the Monday 09:00 deadline: Friday 09:00.
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 4, 3, 9, 0));
    let sent = sent_after(&h, mark, id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [CENTER_SUPERVISOR]);
    assert_eq!(sent[0].at, sh(2026, 4, 3, 9, 0));
    assert!(
        sent[0].text().contains("月度績效考核") && sent[0].text().contains("主管評分"),
        "{}",
        sent[0].text()
    );
    // Not scored by Monday 09:00: the supervisor is told and the CS manager given it.
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 4, 6, 9, 0));
    let sent = sent_after(&h, mark, id);
    let notice: Vec<_> = sent
        .iter()
        .filter(|s| s.to() == [CENTER_SUPERVISOR])
        .collect();
    assert_eq!(notice.len(), 1, "{sent:?}");
    assert_eq!(
        notice[0].text(),
        "王芳2026年3月的月度考核評分已逾期（每月1日起3個工作日內評分），已轉客服經理處理"
    );
    let escalated: Vec<_> = sent
        .iter()
        .filter(|s| s.kind() == MessageKind::Escalation)
        .collect();
    assert_eq!(escalated.len(), 1, "{sent:?}");
    assert_eq!(escalated[0].to(), [CS_MANAGER]);
    let score = h.task(id, "score");
    assert!(h.list(CS_MANAGER).contains(&score.id));
    // The manager scores it.
    let inst = h.act(id, "score", CS_MANAGER, None, scores());
    assert_at(&inst, "confirm");
    // Monday 09:00 + 2 working days: Wednesday 09:00; reminded 4 working hours before.
    let confirm = h.task(id, "confirm");
    assert_eq!(confirm.due, Some(sh(2026, 4, 8, 9, 0)));
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 4, 7, 14, 0));
    let sent = sent_after(&h, mark, id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [AGENT]);
    // Silent until Wednesday 09:00: taken as confirmed, and she is told so.
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 4, 8, 9, 0));
    assert_at(&h.inst(id), "sign_off");
    assert_eq!(h.data(id, "response"), Some(Value::Choice("deemed".into())));
    assert_eq!(
        texts_to(&h, mark, &[AGENT]),
        ["您2026年3月的月度考核逾期未確認，視為確認，已送客服經理簽字"]
    );
    // The manager's sign-off: due Friday 09:00, reminded every working day after.
    let sign = h.task(id, "sign_off");
    assert_eq!(sign.due, Some(sh(2026, 4, 10, 9, 0)));
    h.fire_at(sh(2026, 4, 10, 9, 0));
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 4, 13, 9, 0));
    let sent = sent_after(&h, mark, id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [CS_MANAGER]);
    let mark = h.outbox_mark();
    let inst = h.act(id, "sign_off", CS_MANAGER, Some("approve"), json!({}));
    assert_ended(&inst, "done");
    assert_eq!(
        texts_to(&h, mark, &[AGENT]),
        ["您2026年3月的月度考核已經客服經理簽字確認：總分88，等級良好（逾期未確認，視為確認）。客服經理意見：無"]
    );
}

#[test]
fn the_total_sets_the_grade_at_each_band_boundary() {
    let h = Harness::at(april_first() - hours(1));
    let all = scheduled(&h, "appraisal", april_first());
    assert_eq!(all.len(), 4);
    // Four instances, four totals at the edges of the bands: 90, 80, 60 and 59.
    let cases = [
        ([18, 18, 18, 18, 18], 90, "excellent", "優秀"),
        ([16, 16, 16, 16, 16], 80, "good", "良好"),
        ([12, 12, 12, 12, 12], 60, "pass", "合格"),
        ([12, 12, 12, 12, 11], 59, "fail", "不合格"),
    ];
    for (inst, (s, total, grade, label)) in all.iter().zip(cases) {
        let supervisor = h.task(inst.id, "score").candidates.people[0].clone();
        let mark = h.outbox_mark();
        h.act(
            inst.id,
            "score",
            &supervisor,
            None,
            json!({
                "workload": 900,
                "complaint_speed": s[0],
                "satisfaction": s[1],
                "retention": s[2],
                "feedback_speed": s[3],
                "cooperation": s[4],
                "comments": "—",
            }),
        );
        assert_eq!(h.data(inst.id, "total"), Some(Value::Int(total)));
        assert_eq!(h.data(inst.id, "grade"), Some(Value::Choice(grade.into())));
        let told = texts_to(&h, mark, &[&subject(inst)]);
        assert_eq!(told.len(), 1);
        assert!(
            told[0].contains(&format!("總分{total}，等級{label}（")),
            "{told:?}"
        );
    }
    // Each agent confirms their own only.
    let zhang = all[1].id;
    assert!(matches!(
        rejection(h.try_complete(
            h.task(zhang, "confirm").id,
            AGENT,
            Some("confirm"),
            json!({})
        )),
        Rejection::Forbidden(_)
    ));
}

#[test]
fn january_appraises_december_of_the_year_before() {
    let h = Harness::at(sh(2027, 1, 1, 8, 0));
    let all = scheduled(&h, "appraisal", sh(2027, 1, 1, 9, 0));
    assert_eq!(all.len(), 4);
    let id = all[0].id;
    assert_eq!(h.data(id, "year_of"), Some(Value::Int(2026)));
    assert_eq!(h.data(id, "month_of"), Some(Value::Int(12)));
    // 1 January 2027 is a Friday: three working days reach Wednesday 6th, 09:00.
    assert_eq!(h.task(id, "score").due, Some(sh(2027, 1, 6, 9, 0)));
    let mark = h.outbox_mark();
    h.act(id, "score", CENTER_SUPERVISOR, None, scores());
    let told = texts_to(&h, mark, &[AGENT]);
    assert!(
        told[0].starts_with("您2026年12月的月度考核評分："),
        "{told:?}"
    );
}

// ---- targets --------------------------------------------------------------------------

/// 何芸 (customer relationship) and 郭鵬 (service quality): two supervisors.
const RELATIONSHIP_SUPERVISOR: &str = "he_yun";
const QUALITY_SUPERVISOR: &str = "guo_peng";
const GENERAL_MANAGER: &str = "zhao_guoqiang";

fn goals() -> serde_json::Value {
    json!([
        {"goal": "會員回訪覆蓋率", "measure": "集團客戶回訪率100%", "owner": RELATIONSHIP_SUPERVISOR},
        {"goal": "客戶滿意度", "measure": "滿意度不低於90%", "owner": QUALITY_SUPERVISOR},
        {"goal": "投訴回訪", "measure": "重大投訴24小時內回訪", "owner": QUALITY_SUPERVISOR},
    ])
}

#[test]
fn the_twenty_fifth_sets_next_months_targets_each_confirmed_by_its_supervisor() {
    // Wednesday 25 March 2026: the targets for April, the first month of a quarter.
    let t0 = sh(2026, 3, 25, 9, 0);
    let h = Harness::at(t0 - hours(1));
    let (_, def) = h.engine.store.latest("targets").unwrap();
    assert_eq!(def.schedules.len(), 1);
    assert_eq!(def.schedules[0].for_each_role, None);
    let all = scheduled(&h, "targets", t0);
    assert_eq!(all.len(), 1, "one for the department");
    let id = all[0].id;
    assert_eq!(h.data(id, "for_year"), Some(Value::Int(2026)));
    assert_eq!(h.data(id, "for_month"), Some(Value::Int(4)));
    assert_eq!(h.data(id, "scope"), Some(Value::Choice("quarterly".into())));
    let set = h.task(id, "set_targets");
    assert_eq!(set.candidates.roles, ["cs_manager"]);
    assert_eq!(h.list(CS_MANAGER), [set.id]);
    // Three working days: Monday 30 March 09:00; reminded Friday 09:00.
    assert_eq!(set.due, Some(sh(2026, 3, 30, 9, 0)));
    // A target must name who answers for it; at least one target.
    assert!(matches!(
        rejection(h.try_complete(set.id, CS_MANAGER, None, json!({"goals": []}))),
        Rejection::Invalid(_)
    ));
    let o = h.complete(set.id, CS_MANAGER, None, json!({"goals": goals()}));
    assert_at(&o.instance, "assign");
    // One confirmation per target, each in its supervisor's list with the target's title.
    let mut titles: Vec<(String, Vec<String>)> = o
        .instance
        .active_tasks()
        .map(|t| (t.title.clone(), t.candidates.people.clone()))
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            (
                "確認目標：客戶滿意度".to_string(),
                vec![QUALITY_SUPERVISOR.to_string()]
            ),
            (
                "確認目標：投訴回訪".to_string(),
                vec![QUALITY_SUPERVISOR.to_string()]
            ),
            (
                "確認目標：會員回訪覆蓋率".to_string(),
                vec![RELATIONSHIP_SUPERVISOR.to_string()]
            ),
        ]
    );
    assert_eq!(h.list(QUALITY_SUPERVISOR).len(), 2);
    let due = sh(2026, 3, 27, 9, 0);
    for t in o.instance.active_tasks() {
        assert_eq!(t.due, Some(due), "two working days from Wednesday 09:00");
    }
    // 何芸 confirms hers; 郭鵬's are reminded every working day after they fall due.
    let heyun = o
        .instance
        .active_tasks()
        .find(|t| t.candidates.people == [RELATIONSHIP_SUPERVISOR])
        .expect("何芸's")
        .id;
    h.complete(heyun, RELATIONSHIP_SUPERVISOR, None, json!({}));
    h.fire_at(due);
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(sh(2026, 3, 30, 9, 0)), 2);
    let mut reminded = texts_to(&h, mark, &[QUALITY_SUPERVISOR]);
    reminded.sort();
    assert_eq!(
        reminded,
        [
            "客服部2026年4月的目標「客戶滿意度」（滿意度不低於90%）尚待您確認（目標下達後2個工作日內確認）",
            "客服部2026年4月的目標「投訴回訪」（重大投訴24小時內回訪）尚待您確認（目標下達後2個工作日內確認）",
        ]
    );
    let left: Vec<_> = h.inst(id).active_tasks().map(|t| t.id).collect();
    assert_eq!(left.len(), 2);
    h.complete(left[0], QUALITY_SUPERVISOR, None, json!({}));
    let mark = h.outbox_mark();
    let o = h.complete(left[1], QUALITY_SUPERVISOR, None, json!({}));
    assert_ended(&o.instance, "done");
    assert_eq!(
        texts_to(&h, mark, &[CS_MANAGER]),
        ["客服部2026年4月的季度及月度目標已全部由責任主管確認"]
    );
}

#[test]
fn december_sets_the_years_targets_and_a_late_manager_is_reported_to_the_general_manager() {
    // Friday 25 December 2026: the targets for January 2027 are the year's too.
    let t0 = sh(2026, 12, 25, 9, 0);
    let h = Harness::at(t0 - hours(1));
    let all = scheduled(&h, "targets", t0);
    let id = all[0].id;
    assert_eq!(h.data(id, "for_year"), Some(Value::Int(2027)));
    assert_eq!(h.data(id, "for_month"), Some(Value::Int(1)));
    assert_eq!(h.data(id, "scope"), Some(Value::Choice("yearly".into())));
    // Due Wednesday 30 December 09:00; late, the general manager is told.
    let due = sh(2026, 12, 30, 9, 0);
    assert_eq!(h.task(id, "set_targets").due, Some(due));
    let mark = h.outbox_mark();
    assert_eq!(
        h.fire_at(due - hours(24)),
        1,
        "the reminder, a working day before"
    );
    assert_eq!(h.outbox_after(mark)[0].to(), [CS_MANAGER]);
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(due), 1);
    assert_eq!(
        texts_to(&h, mark, &[GENERAL_MANAGER]),
        ["客服部2027年1月的年度、第一季度及月度目標尚未制定（每月25日起3個工作日內制定下月目標）"]
    );
    // An ordinary month: May's targets, set on 25 April, are the month's only.
    let h = Harness::at(sh(2026, 4, 25, 8, 0));
    let all = scheduled(&h, "targets", sh(2026, 4, 25, 9, 0));
    assert_eq!(
        h.data(all[0].id, "scope"),
        Some(Value::Choice("monthly".into()))
    );
    assert_eq!(h.data(all[0].id, "for_month"), Some(Value::Int(5)));
}
