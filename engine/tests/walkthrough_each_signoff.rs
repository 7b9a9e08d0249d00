//! Walkthroughs of a sign-off per element: a coordination request signed by the head
//! of each partner department in a list, on the manual clock. All sign; one refuses
//! and the others' open signatures are withdrawn; no partners at all; two partners of
//! one department; a head who filed the request.

mod common;

use baton_engine::core::{Event, Instance, MessageKind, Rejection, TaskKind, TaskState};
use common::*;
use serde_json::json;

const COSIGN: &str = r#"process cosign "協作會簽" {
  started by cs_center_supervisor, cs_manager
  data {
    topic    text "事項"
    partners list 0..5 of {
      department department "協作部門"
      reply_by   date       "回覆期限"
    }
  }
  step cosign "協作會簽：{p.department}" {
    for each p in partners
    sign all of head of p.department
    due p.reply_by at 18:00
    remind 2h before due
    on refuse -> declined
    next agreed
  }
  end agreed "已同意"
  end declined "未同意"
}
"#;

/// The company's processes and the sign-off per partner.
fn harness() -> Harness {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("cosign.flow"), COSIGN).expect("write");
    for r in h.engine.deploy_definitions(dir.path()).expect("deploy") {
        r.result.unwrap_or_else(|e| panic!("{}: {e}", r.file));
    }
    h
}

/// A request by 陳靜 with these partners, as (department, reply by).
fn request(h: &Harness, starter: &str, partners: &[(&str, &str)]) -> Instance {
    let partners: Vec<serde_json::Value> = partners
        .iter()
        .map(|(d, by)| json!({"department": d, "reply_by": by}))
        .collect();
    h.start(
        "cosign",
        json!({"topic": "暑期聯合推廣", "partners": partners}),
        starter,
    )
    .instance
}

/// The open signature of `person`.
fn signature_of(inst: &Instance, person: &str) -> baton_engine::core::TaskId {
    inst.active_tasks()
        .find(|t| t.kind == TaskKind::Sign && t.candidates.people == [person])
        .map(|t| t.id)
        .unwrap_or_else(|| panic!("no signature of {person}: {:#?}", inst.tasks))
}

fn sign(h: &Harness, inst: &Instance, person: &str, approve: bool) -> Instance {
    let choice = if approve { "approve" } else { "refuse" };
    h.complete(signature_of(inst, person), person, Some(choice), json!({}))
        .instance
}

const THREE: &[(&str, &str)] = &[
    ("product", "2026-03-04"),
    ("channel", "2026-03-05"),
    ("technology", "2026-03-06"),
];

#[test]
fn every_partners_head_signs_and_the_request_is_agreed() {
    let h = harness();
    let inst = request(&h, "chen_jing", THREE);
    assert_at(&inst, "cosign");
    // One signature per partner, for its head, titled by the department's name and
    // due on its own day.
    let tasks: Vec<_> = inst.active_tasks().cloned().collect();
    assert_eq!(tasks.len(), 3);
    assert!(tasks.iter().all(|t| t.kind == TaskKind::Sign));
    let heads: Vec<&str> = tasks
        .iter()
        .map(|t| t.candidates.people[0].as_str())
        .collect();
    assert_eq!(heads, ["zhou_jie", "wu_hao", "zheng_kai"]);
    let titles: Vec<&str> = tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(
        titles,
        ["協作會簽：產品部", "協作會簽：渠道部", "協作會簽：技術部"]
    );
    let dues: Vec<_> = tasks.iter().map(|t| t.due).collect();
    assert_eq!(
        dues,
        [
            Some(sh(2026, 3, 4, 18, 0)),
            Some(sh(2026, 3, 5, 18, 0)),
            Some(sh(2026, 3, 6, 18, 0))
        ]
    );
    assert_eq!(h.list("wu_hao"), [tasks[1].id]);
    // A due time and a reminder per element.
    assert_eq!(h.timers(inst.id).len(), 6);

    // The first partner's reminder goes to its head alone.
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 4, 16, 0));
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), ["zhou_jie"]);

    // Each signature takes its element's timers with it; the step waits for all.
    let inst = sign(&h, &inst, "zhou_jie", true);
    assert_at(&inst, "cosign");
    assert_eq!(h.timers(inst.id).len(), 4);
    // A head signs only their own department's place.
    assert!(matches!(
        rejection(h.try_complete(tasks[2].id, "wu_hao", Some("approve"), json!({}))),
        Rejection::Forbidden(_)
    ));
    let inst = sign(&h, &inst, "zheng_kai", true);
    assert_at(&inst, "cosign");
    let inst = sign(&h, &inst, "wu_hao", true);
    assert_ended(&inst, "agreed");
    assert_eq!(inst.signatures.len(), 3);
    assert!(inst.signatures.iter().all(|s| s.approve));
    assert!(h.timers(inst.id).is_empty());
}

#[test]
fn one_refusal_declines_the_request_and_withdraws_the_other_signatures() {
    let h = harness();
    let inst = request(&h, "chen_jing", THREE);
    let inst = sign(&h, &inst, "zhou_jie", true);
    let mark = h.outbox_mark();
    let inst = sign(&h, &inst, "wu_hao", false);
    assert_ended(&inst, "declined");
    // 鄭凱's open signature is withdrawn and recorded as cancelled, its timers too.
    let states: Vec<(String, TaskState)> = inst
        .tasks
        .iter()
        .map(|t| (t.candidates.people[0].clone(), t.state))
        .collect();
    assert_eq!(
        states,
        [
            ("zhou_jie".to_string(), TaskState::Completed),
            ("wu_hao".to_string(), TaskState::Completed),
            ("zheng_kai".to_string(), TaskState::Cancelled),
        ]
    );
    assert!(h.list("zheng_kai").is_empty());
    assert!(h.timers(inst.id).is_empty());
    let cancelled = h
        .history(inst.id)
        .iter()
        .filter(|r| matches!(r.event, Event::TaskCancelled { .. }))
        .count();
    assert_eq!(cancelled, 1);
    // The requester hears of the refusal.
    let sent = h.outbox_after(mark);
    assert!(
        sent.iter()
            .any(|s| s.to() == ["chen_jing"] && s.text().contains("吳昊")),
        "{sent:#?}"
    );
    // A withdrawn signature cannot be given any more.
    let late = inst.tasks[2].id;
    assert!(h
        .try_complete(late, "zheng_kai", Some("approve"), json!({}))
        .is_err());
}

#[test]
fn a_request_without_partners_has_nothing_to_sign_and_is_agreed_at_once() {
    let h = harness();
    let inst = request(&h, "chen_jing", &[]);
    assert_ended(&inst, "agreed");
    assert!(inst.tasks.is_empty());
    assert!(inst.signatures.is_empty());
    assert!(h.timers(inst.id).is_empty());
}

#[test]
fn two_partners_of_one_department_are_signed_once_by_its_head() {
    let h = harness();
    let inst = request(
        &h,
        "chen_jing",
        &[("product", "2026-03-04"), ("product", "2026-03-05")],
    );
    assert_eq!(inst.active_tasks().count(), 1);
    let inst = sign(&h, &inst, "zhou_jie", true);
    assert_ended(&inst, "agreed");
    assert!(h.timers(inst.id).is_empty());
}

#[test]
fn a_head_who_filed_the_request_may_refuse_their_own_place_but_not_approve_it() {
    let h = harness();
    // 李明 heads 客服部 and files a request with 客服部 among the partners.
    let inst = request(
        &h,
        "li_ming",
        &[("cs", "2026-03-04"), ("product", "2026-03-05")],
    );
    let own = signature_of(&inst, "li_ming");
    assert!(matches!(
        rejection(h.try_complete(own, "li_ming", Some("approve"), json!({}))),
        Rejection::Forbidden(_)
    ));
    assert_at(&h.inst(inst.id), "cosign");
    let inst = h
        .complete(own, "li_ming", Some("refuse"), json!({}))
        .instance;
    assert_ended(&inst, "declined");
    assert!(h.timers(inst.id).is_empty());
}
