//! Ending probation for a serious breach of the law (試用期內嚴重違反國家法律法規者，
//! 直接終止試用): reported by the employee's department, verified by HR, decided
//! and signed by the HR manager, recorded and told.

mod common;

use baton_engine::core::Rejection;
use baton_engine::store::StoreError;
use common::*;
use serde_json::json;

const EMPLOYEE: &str = "zhang_wei";
const SUPERVISOR: &str = "chen_jing";

fn report(h: &Harness) -> baton_engine::core::InstanceId {
    h.start(
        "probation_termination",
        json!({
            "employee": EMPLOYEE,
            "hired_on": "2026-01-05",
            "facts": "涉嫌詐騙被公安機關刑事拘留",
            "evidence": "公安機關通知書",
        }),
        SUPERVISOR,
    )
    .instance
    .id
}

#[test]
fn confirmed_and_signed_ends_probation_and_tells_the_employee_and_the_supervisor() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = report(&h);
    let verify = h.task(id, "verify");
    assert_eq!(verify.candidates.roles, ["hr_officer"]);
    h.act(
        id,
        "verify",
        "qian_yu",
        Some("confirmed"),
        json!({"findings": "經核實屬實，有公安機關通知書"}),
    );
    let decide = h.task(id, "decide");
    assert_eq!(decide.candidates.roles, ["hr_manager"]);
    assert!(h.list("sun_li").contains(&decide.id));
    let mark = h.outbox_mark();
    let inst = h.act(id, "decide", "sun_li", Some("approve"), json!({}));
    assert_ended(&inst, "terminated");
    let sent = h.outbox_after(mark);
    let to_employee: Vec<_> = sent.iter().filter(|m| m.to() == [EMPLOYEE]).collect();
    assert_eq!(to_employee.len(), 1, "{sent:?}");
    assert!(to_employee[0].text().contains("終止試用"));
    assert!(to_employee[0].text().contains("經核實屬實"));
    assert!(sent
        .iter()
        .any(|m| m.to() == [SUPERVISOR] && m.text().contains("張偉")));
    // The history records who decided, and on what.
    let signed = h.history(id).into_iter().any(|r| {
        r.actor == "sun_li"
            && matches!(
                r.event,
                baton_engine::core::Event::Signed { approve: true, .. }
            )
    });
    assert!(signed);
}

#[test]
fn unfounded_or_refused_the_probation_goes_on() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = report(&h);
    let inst = h.act(
        id,
        "verify",
        "qian_yu",
        Some("unfounded"),
        json!({"findings": "查無實據"}),
    );
    assert_ended(&inst, "unfounded");

    let id = report(&h);
    h.act(
        id,
        "verify",
        "qian_yu",
        Some("confirmed"),
        json!({"findings": "屬實"}),
    );
    let mark = h.outbox_mark();
    let inst = h.act(id, "decide", "sun_li", Some("refuse"), json!({}));
    assert_ended(&inst, "unfounded");
    assert!(h
        .outbox_after(mark)
        .iter()
        .any(|m| m.to() == [SUPERVISOR] && m.text().contains("試用繼續")));
}

#[test]
fn nobody_reports_themselves_and_staff_do_not_report() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let data = json!({"employee": SUPERVISOR, "hired_on": "2026-01-05", "facts": "x"});
    let refused = h.try_start("probation_termination", data, SUPERVISOR);
    assert!(
        matches!(
            refused,
            Err(StoreError::Rejected(Rejection::Requirement { .. }))
        ),
        "{refused:?}"
    );
    let data = json!({"employee": EMPLOYEE, "hired_on": "2026-01-05", "facts": "x"});
    assert!(h
        .try_start("probation_termination", data.clone(), "wang_fang")
        .is_err());
}
