//! The engine's own texts come from one catalogue, in traditional Chinese (the
//! default) or English as `baton.ron` says, and name the instance they are about
//! the way people know it: title, number, first given value, people by name.

mod common;

use baton_engine::core::{Command, MessageKind};
use baton_engine::messages::{instance_name, Language, Text};
use baton_engine::store::Options;
use common::*;
use serde_json::json;

const ADMIN: &str = "jiang_hui";
const AGENT: &str = "wang_fang";

#[test]
fn every_text_of_the_catalogue_in_both_languages() {
    let i = "客戶投訴處理 #3（張三）";
    let cases: Vec<(Text, &str, &str)> = vec![
        (
            Text::DueSoon {
                instance: i,
                step: "回訪",
            },
            "提醒：客戶投訴處理 #3（張三）的「回訪」即將到期",
            "reminder: \"回訪\" of 客戶投訴處理 #3（張三） is due soon",
        ),
        (
            Text::StillOverdue {
                instance: i,
                step: "回訪",
            },
            "提醒：客戶投訴處理 #3（張三）的「回訪」已逾期",
            "reminder: \"回訪\" of 客戶投訴處理 #3（張三） is overdue",
        ),
        (
            Text::Overdue {
                instance: i,
                step: "回訪",
            },
            "客戶投訴處理 #3（張三）的「回訪」已逾期",
            "\"回訪\" of 客戶投訴處理 #3（張三） is overdue",
        ),
        (
            Text::LimitNear {
                instance: i,
                limit: "接受投訴→回訪",
            },
            "提醒：客戶投訴處理 #3（張三）的時限「接受投訴→回訪」即將屆滿",
            "reminder: time limit \"接受投訴→回訪\" of 客戶投訴處理 #3（張三） is near",
        ),
        (
            Text::LimitBreached {
                instance: i,
                limit: "接受投訴→回訪",
            },
            "客戶投訴處理 #3（張三）已超過時限「接受投訴→回訪」",
            "客戶投訴處理 #3（張三） has exceeded time limit \"接受投訴→回訪\"",
        ),
        (
            Text::LimitStillExceeded {
                instance: i,
                limit: "接受投訴→回訪",
            },
            "提醒：客戶投訴處理 #3（張三）仍超過時限「接受投訴→回訪」",
            "reminder: 客戶投訴處理 #3（張三） is still past time limit \"接受投訴→回訪\"",
        ),
        (
            Text::Escalated { what: "逾期" },
            "逾期，已升級由你處理",
            "逾期: escalated to you",
        ),
        (
            Text::HandedOn {
                instance: i,
                task: "回訪",
                by: "王芳",
            },
            "王芳將客戶投訴處理 #3（張三）的「回訪」轉交給你",
            "\"回訪\" of 客戶投訴處理 #3（張三）: handed to you by 王芳",
        ),
        (
            Text::StartedAsAdmin { by: "江輝" },
            "由江輝以管理員身分發起（不在發起角色之列）",
            "started by 江輝 as an admin, outside `started by`",
        ),
        (
            Text::Incident {
                instance: "「工作日報」#12（王芳）",
                attempted: "「填寫工作日報」完成後繼續",
                reason: "沒有人可以指派",
            },
            "「工作日報」#12（王芳）無法繼續，已轉為事故：「填寫工作日報」完成後繼續未能完成，原因：沒有人可以指派。請管理員處理（retry、set、move 或 cancel）",
            "「工作日報」#12（王芳） cannot go on and is now an incident: 「填寫工作日報」完成後繼續 failed: 沒有人可以指派. An admin resolves it (retry, set, move or cancel)",
        ),
        (
            Text::Refused {
                instance: "試用期轉正申請 #4（張偉）",
                step: "簽字確認",
                by: "李明",
                reason: Some("考勤待核實"),
            },
            "李明拒絕簽署試用期轉正申請 #4（張偉）的「簽字確認」，原因：考勤待核實",
            "李明 refused to sign \"簽字確認\" of 試用期轉正申請 #4（張偉） (reason: 考勤待核實)",
        ),
        (
            Text::Decided {
                instance: "部門協調單 #7（技術部）",
                step: "審核",
                by: "鄭凱",
                choice: "不予配合",
                reason: None,
            },
            "鄭凱在部門協調單 #7（技術部）的「審核」選擇了「不予配合」",
            "鄭凱 chose \"不予配合\" at \"審核\" of 部門協調單 #7（技術部）",
        ),
    ];
    for (text, zh, en) in cases {
        assert_eq!(text.render(Language::ZhHant), zh);
        assert_eq!(text.render(Language::En), en);
    }
    assert_eq!(
        instance_name("工作日報", 7, Some("王芳"), Language::En),
        "工作日報 #7 (王芳)"
    );
    assert_eq!(instance_name("週會", 2, None, Language::ZhHant), "週會 #2");
}

/// A daily report for 王芳, started by an admin, with its reminder due.
fn report_reminder(h: &Harness) -> (u64, String) {
    let t0 = h.now();
    let id = h
        .start("daily_report", json!({"subject": AGENT}), ADMIN)
        .instance
        .id;
    // `due 2h`, `remind 30m before due`.
    assert_eq!(h.fire_at(t0 + minutes(90)), 1);
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), [AGENT]);
    (id, sent[0].text().to_string())
}

#[test]
fn a_reminder_names_the_instance_and_its_person_by_name() {
    let h = Harness::at(sh(2026, 3, 2, 17, 30));
    let (id, text) = report_reminder(&h);
    assert_eq!(
        text,
        format!("提醒：工作日報 #{id}（王芳）的「填寫工作日報」即將到期")
    );
    // The definition's own overdue text shows the person by name too.
    let due = h.task(id, "write").due.expect("due");
    assert_eq!(h.fire_at(due), 1);
    let sent = h.sent_by(id);
    assert_eq!(
        sent.last().map(|s| s.text()),
        Some("王芳今日的工作日報尚未提交")
    );
}

#[test]
fn english_when_baton_ron_says_so() {
    let opts = Options {
        language: Language::En,
        ..options()
    };
    let h = Harness::with(sh(2026, 3, 2, 17, 30), opts);
    let (id, text) = report_reminder(&h);
    assert_eq!(
        text,
        format!("reminder: \"填寫工作日報\" of 工作日報 #{id} (王芳) is due soon")
    );
    // An admin outside `started by` is recorded by name.
    let started = h.history(id).into_iter().find_map(|r| match r.event {
        baton_engine::core::Event::Commented { text } => Some(text),
        _ => None,
    });
    assert_eq!(
        started.as_deref(),
        Some("started by 江輝 as an admin, outside `started by`")
    );
}

#[test]
fn a_task_handed_on_says_by_whom_and_of_which_instance() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = h
        .start(
            "complaint",
            json!({"customer": "張三", "contact": "138", "channel": "app"}),
            AGENT,
        )
        .instance
        .id;
    let task = h.task(id, "accept").id;
    h.engine.claim(task, AGENT).expect("claim");
    let mark = h.outbox_mark();
    h.engine
        .act(
            id,
            Command::Reassign {
                task,
                to: "zhang_wei".into(),
            },
            AGENT,
            None,
        )
        .expect("hand on");
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to(), ["zhang_wei"]);
    assert_eq!(
        sent[0].text(),
        format!("王芳將客戶投訴處理 #{id}（張三）的「接受投訴」轉交給你")
    );
}

#[test]
fn an_escalation_says_what_was_overdue() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    let id = h
        .start(
            "complaint",
            json!({"customer": "張三", "contact": "138", "channel": "app", "severity": "major"}),
            AGENT,
        )
        .instance
        .id;
    h.act(
        id,
        "accept",
        AGENT,
        None,
        json!({"summary": "退票", "severity": "major"}),
    );
    h.act(id, "explain", AGENT, Some("needs_solution"), json!({}));
    h.act(
        id,
        "propose",
        AGENT,
        None,
        json!({"solution": "全額退款", "within_authority": false}),
    );
    let due = h.task(id, "approve").due.expect("due");
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(due), 1);
    let sent = h.outbox_after(mark);
    let esc: Vec<_> = sent
        .iter()
        .filter(|s| s.kind() == MessageKind::Escalation)
        .collect();
    assert_eq!(esc.len(), 1, "{sent:?}");
    assert_eq!(
        esc[0].text(),
        format!("客戶投訴處理 #{id}（張三）的「主管審批」已逾期，已升級由你處理")
    );
}
