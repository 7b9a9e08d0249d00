//! Who decides: a choice offered to a role or a head is not made by the person who
//! started the request (unless the step allows self approval), and `except` leaves
//! people out of any who position. A who position left with nobody is what a who
//! that finds nobody always was: a refusal of a person's own command, an incident
//! when Baton acts on its own.

mod common;

use baton_engine::core::{Event, MessageKind, Rejection, Status};
use common::*;
use serde_json::json;

const AGENT: &str = "wang_fang";
/// HR has two officers: 孫莉 (who heads HR) and 錢宇.
const HR_HEAD: &str = "sun_li";
const HR_OFFICER: &str = "qian_yu";
/// 李明 is the only CS manager and heads CS.
const CS_MANAGER: &str = "li_ming";

/// A request HR decides; late, it goes to the CS manager.
const REQUEST: &str = r#"
process request "申請" {
  started by agent, hr_officer, cs_manager
  data {
    note text?
  }
  step decide "人事審批" {
    task for hr_officer
    notify hr_officer except starter "有新申請待審批"
    due 1h
    on overdue escalate to cs_manager
    choose {
      yes "同意"   -> done
      no "不同意" -> refused
    }
  }
  end done
  end refused
}
"#;

/// The same, where an officer may decide their own request.
const OWN: &str = r#"
process own "本人可批" {
  started by hr_officer
  step decide {
    task for hr_officer
    allow self approval
    choose {
      yes -> done
      no -> done
    }
  }
  end done
}
"#;

/// Started by another process: no requester of its own.
const OUTER: &str = r#"
process outer {
  started by hr_officer
  step go {
    start request and wait
    next done
  }
  end done
}
"#;

/// The head of the starter's department, but never the starter.
const HEAD: &str = r#"
process own_head "部門領導" {
  started by agent, cs_manager
  step first {
    task for starter
    next approve
  }
  step approve {
    task for head of department of starter except starter
    next done
  }
  end done
}
"#;

fn harness() -> Harness {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    for (file, src) in [
        ("request.flow", REQUEST),
        ("own.flow", OWN),
        ("outer.flow", OUTER),
        ("own_head.flow", HEAD),
    ] {
        h.engine
            .store
            .deploy(file, src, h.now())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    h
}

#[test]
fn a_choice_offered_to_a_role_leaves_out_the_requester() {
    let h = harness();
    // An agent's request: offered to the role, as always.
    let id = h.start("request", json!({}), AGENT).instance.id;
    let task = h.task(id, "decide");
    assert_eq!(task.candidates.roles, ["hr_officer"]);
    assert!(task.candidates.people.is_empty());
    // An HR officer's own request: the other officer decides it, and the notice
    // about it goes to her alone.
    let id = h.start("request", json!({}), HR_HEAD).instance.id;
    let task = h.task(id, "decide");
    assert_eq!(task.candidates.people, [HR_OFFICER]);
    assert!(task.candidates.roles.is_empty());
    assert!(h.list(HR_HEAD).iter().all(|t| t.instance != id));
    assert_eq!(
        h.list(HR_OFFICER)
            .iter()
            .filter(|t| t.instance == id)
            .count(),
        1
    );
    let sent = h.sent_by(id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Notify);
    assert_eq!(sent[0].to(), [HR_OFFICER]);
    assert!(matches!(
        rejection(h.try_complete(task.id, HR_HEAD, Some("yes"), json!({}))),
        Rejection::Forbidden(_)
    ));
    let inst = h.act(id, "decide", HR_OFFICER, Some("yes"), json!({}));
    assert_ended(&inst, "done");
}

#[test]
fn allow_self_approval_lets_the_requester_decide() {
    let h = harness();
    let id = h.start("own", json!({}), HR_HEAD).instance.id;
    assert_eq!(h.task(id, "decide").candidates.roles, ["hr_officer"]);
    let inst = h.act(id, "decide", HR_HEAD, Some("yes"), json!({}));
    assert_ended(&inst, "done");
}

#[test]
fn a_request_another_process_starts_has_no_requester_of_its_own() {
    let h = harness();
    let o = h.start("outer", json!({}), HR_HEAD);
    let child = o.children[0];
    assert_eq!(h.inst(child).starter, HR_HEAD);
    assert_eq!(h.task(child, "decide").candidates.roles, ["hr_officer"]);
}

#[test]
fn an_escalation_that_leaves_nobody_is_an_incident() {
    let h = harness();
    // The CS manager's own request, late: the escalation would give his own request
    // back to him, so it finds nobody, and the instance waits for an admin.
    let id = h.start("request", json!({}), CS_MANAGER).instance.id;
    let task = h.task(id, "decide");
    assert_eq!(task.candidates.roles, ["hr_officer"]);
    assert_eq!(h.fire_at(h.now() + hours(1)), 1);
    let inst = h.inst(id);
    assert_eq!(inst.status, Status::Incident);
    let reason = h
        .history(id)
        .into_iter()
        .find_map(|r| match r.event {
            Event::IncidentRaised { reason, .. } => Some(reason),
            _ => None,
        })
        .expect("an incident");
    assert!(
        reason.contains("`cs_manager` finds nobody") && reason.contains("does not decide it"),
        "{reason}"
    );
    // The task is where it was.
    assert_eq!(inst.active_tasks().next().map(|t| t.id), Some(task.id));
}

#[test]
fn except_leaves_the_starter_out_of_a_who() {
    let h = harness();
    // An agent's head signs.
    let id = h.start("own_head", json!({}), AGENT).instance.id;
    h.act(id, "first", AGENT, None, json!({}));
    assert_eq!(h.task(id, "approve").candidates.people, [CS_MANAGER]);
    // The CS manager is his own department's head: after his first task, nobody is
    // left to sign. His task is done; the instance waits for an admin.
    let id = h.start("own_head", json!({}), CS_MANAGER).instance.id;
    let first = h.task(id, "first");
    let o = h.complete(first.id, CS_MANAGER, None, json!({}));
    assert_eq!(o.instance.status, Status::Incident);
    assert!(o.records.iter().any(|r| matches!(
        &r.event,
        Event::IncidentRaised { reason, .. }
            if reason.contains("finds nobody") && reason.contains("`except` leaves them out")
    )));
    assert!(o
        .records
        .iter()
        .any(|r| matches!(r.event, Event::TaskCompleted { .. })));
}
