//! Nothing Baton does on its own is dropped: a timer, a child start or the route
//! after a task that is refused makes its instance an incident, with the reason and
//! the attempt in its history, a message to the admins and the process's owner, and
//! its timers kept; an admin retries, sets data and retries, moves or cancels it.

mod common;

use baton_engine::core::{
    Attempt, Command, Event, MessageKind, Rejection, Resolution, Status, TimerKind, SYSTEM,
};
use common::*;
use serde_json::json;

const ADMIN: &str = "jiang_hui";
const HR: &str = "sun_li";
const SUPERVISOR: &str = "chen_jing";
const MENTOR: &str = "wang_fang";

/// The company's processes, with owners: HR owns onboarding, the customer-service
/// manager the test processes below.
fn harness(start: chrono::DateTime<chrono::Utc>) -> Harness {
    let mut opts = options();
    opts.owners = [
        ("onboarding".to_string(), "hr_officer".to_string()),
        ("fix".to_string(), "cs_manager".to_string()),
        ("fix_now".to_string(), "cs_manager".to_string()),
    ]
    .into();
    let h = Harness::with(start, opts);
    for (file, src) in [("fix.flow", FIX), ("fix_now.flow", FIX_NOW)] {
        h.engine
            .store
            .deploy(file, src, h.now())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    h
}

/// After an hour's wait, a review by the handler's supervisor: a handler without
/// one (the general manager) leaves nobody to review. A limit runs meanwhile.
const FIX: &str = r#"
process fix "修正測試" {
  started by agent
  data {
    customer text   "客戶"
    handler  person "經辦人"
  }
  limit whole from pause to close {
    within 3h
  }
  step pause "等待" {
    wait 1h
    next review
  }
  step review "主管覆核" {
    task for supervisor of handler
    fill resolution: text
    next close
  }
  step close "結案通知" {
    notify handler "{customer}：{resolution}"
    next done
  }
  end done "完成"
}
"#;

/// The same review right after the starter's intake task.
const FIX_NOW: &str = r#"
process fix_now "即時修正測試" {
  started by agent
  data {
    customer text   "客戶"
    handler  person "經辦人"
  }
  step intake "受理" {
    task for starter
    next review
  }
  step review "主管覆核" {
    task for supervisor of handler
    next done
  }
  end done "完成"
}
"#;

fn admin(h: &Harness, id: u64, cmd: Command) -> Result<baton_engine::store::Outcome, Rejection> {
    h.engine.act(id, cmd, ADMIN, None).map_err(|e| match e {
        baton_engine::store::StoreError::Rejected(r) => r,
        other => panic!("{other}"),
    })
}

fn retry(data: serde_json::Value) -> Command {
    Command::Retry {
        data: obj(data),
        attempted: None,
    }
}

fn raised(h: &Harness, id: u64) -> (String, Attempt, String) {
    h.history(id)
        .into_iter()
        .rev()
        .find_map(|r| match r.event {
            Event::IncidentRaised { reason, attempted } => Some((reason, attempted, r.actor)),
            _ => None,
        })
        .expect("an incident in the history")
}

fn resolved(h: &Harness, id: u64) -> Vec<(Resolution, String)> {
    h.history(id)
        .into_iter()
        .filter_map(|r| match r.event {
            Event::IncidentResolved { how } => Some((how, r.actor)),
            _ => None,
        })
        .collect()
}

fn open_incidents(h: &Harness) -> Vec<u64> {
    assert_eq!(
        h.engine.store.verify().expect("verify"),
        Vec::<String>::new()
    );
    let page = h.engine.store.incidents(None, 100).expect("incidents");
    page.items.iter().map(|i| i.instance).collect()
}

/// A `fix` for the general manager, who has no supervisor: after its hour's wait it
/// becomes an incident.
fn stuck_fix(h: &Harness) -> u64 {
    let id = h
        .start(
            "fix",
            json!({"customer": "張三", "handler": "zhao_guoqiang"}),
            MENTOR,
        )
        .instance
        .id;
    assert_eq!(h.fire_at(h.now() + hours(1)), 1);
    assert_eq!(h.inst(id).status, Status::Incident);
    id
}

/// Onboarding for zhang_wei up to the mentor's guidance, done at `guided`.
fn onboarding_guided(h: &Harness, guided: chrono::DateTime<chrono::Utc>) -> u64 {
    let id = h
        .start(
            "onboarding",
            json!({"employee": "zhang_wei", "hired_on": "2026-04-01"}),
            HR,
        )
        .instance
        .id;
    h.fire_at(sh(2026, 4, 1, 9, 0));
    h.act(
        id,
        "report",
        SUPERVISOR,
        None,
        json!({"offer_letter_no": "HR-1"}),
    );
    h.act(id, "introduce", SUPERVISOR, None, json!({}));
    h.act(id, "study", "zhang_wei", None, json!({}));
    h.act(
        id,
        "assign",
        SUPERVISOR,
        None,
        json!({"workstation": "A-1", "mentor": MENTOR}),
    );
    h.fire_at(guided);
    paperwork(h, id);
    h.act(id, "guide", MENTOR, None, json!({}));
    id
}

/// The application was to open at 09:00 on the 10th, but the scheduler was down
/// until the 16th: the child's `require` refuses it. Onboarding becomes an incident
/// (it neither hangs in `running` nor goes on without its child), HR and the admin
/// are told, and once applications are accepted again a retry opens it.
#[test]
fn a_timer_whose_child_is_refused_is_an_incident_until_a_retry_can_go_on() {
    let h = harness(sh(2026, 3, 20, 9, 0));
    let id = onboarding_guided(&h, sh(2026, 7, 10, 8, 0));
    assert_eq!(h.inst(id).step.as_deref(), Some("probation"));
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(sh(2026, 7, 16, 10, 0)), 1);

    let inst = h.inst(id);
    assert_eq!(inst.status, Status::Incident);
    assert_eq!(inst.step.as_deref(), Some("probation"));
    assert!(h.instances("probation", "running").is_empty());
    let (reason, attempted, actor) = raised(&h, id);
    assert!(reason.contains("申請須於每月15日（含）前提交"), "{reason}");
    assert!(reason.contains("probation cannot start"), "{reason}");
    assert!(matches!(
        attempted,
        Attempt::Timer { timer: TimerKind::Wait { ref step }, .. } if step == "probation"
    ));
    assert_eq!(actor, SYSTEM);
    // The timer is kept in the instance, out of the scheduler's queue.
    assert_eq!(inst.timers.len(), 1);
    assert!(h
        .engine
        .store
        .due_timers(sh(2027, 1, 1, 0, 0), 10)
        .expect("due")
        .is_empty());
    assert_eq!(h.fire_at(sh(2026, 7, 17, 10, 0)), 0);

    let told: Vec<Sent> = h
        .outbox_after(mark)
        .into_iter()
        .filter(|s| s.kind() == MessageKind::Incident)
        .collect();
    assert_eq!(told.len(), 1);
    let mut to = told[0].to();
    to.sort();
    assert_eq!(to, [ADMIN, "qian_yu", HR]);
    let text = told[0].text();
    for part in [
        &format!("#{id}"),
        "新員工入職",
        "新員工：張偉",
        "申請須於每月15日",
    ] {
        assert!(text.contains(part), "{part} not in {text}");
    }
    assert_eq!(open_incidents(&h), [id]);

    // Staff commands wait for the admin; only an admin resolves it.
    let update = Command::UpdateData {
        data: obj(json!({"position": "客服"})),
    };
    match rejection(h.engine.act(id, update, SUPERVISOR, None)) {
        Rejection::Conflict(m) => assert!(m.contains("incident"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        rejection(h.engine.act(id, retry(json!({})), SUPERVISOR, None)),
        Rejection::Forbidden(_)
    ));
    // Still the 17th: a retry is refused for the same reason, and changes nothing.
    match admin(&h, id, retry(json!({}))) {
        Err(Rejection::Requirement { message: m, .. }) => assert!(m.contains("15日"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.inst(id).status, Status::Incident);

    h.clock.set(sh(2026, 8, 3, 9, 30));
    admin(&h, id, retry(json!({}))).expect("retried");
    let inst = h.inst(id);
    // Onboarding waits for the application it opened.
    assert_eq!(inst.status, Status::Running);
    assert_eq!(inst.step.as_deref(), Some("probation"));
    assert!(inst.awaiting_child);
    let children = h.instances("probation", "running");
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].parent, Some(id));
    assert_eq!(resolved(&h, id), [(Resolution::Retry, ADMIN.to_string())]);
    assert!(open_incidents(&h).is_empty());
    assert_eq!(h.engine.store.incident_count(), 0);
}

/// Corrected data, then a retry: the value is recorded with the admin as actor, the
/// review goes to the new handler's supervisor, and the limit's timer, kept while
/// the incident lasted, fires once it is resolved.
#[test]
fn set_records_the_corrected_data_and_goes_on_with_the_kept_timers() {
    let h = harness(sh(2026, 7, 6, 10, 0));
    let id = stuck_fix(&h);
    let (reason, attempted, _) = raised(&h, id);
    assert!(reason.contains("no supervisor"), "{reason}");
    assert!(matches!(attempted, Attempt::Timer { .. }));
    let told = h
        .sent_by(id)
        .into_iter()
        .find(|s| s.kind() == MessageKind::Incident)
        .expect("told");
    let mut to = told.to();
    to.sort();
    assert_eq!(to, [ADMIN, "li_ming"]);
    assert!(told.text().contains("修正測試") && told.text().contains("客戶：張三"));

    // The limit's breach (3h) passes while the incident lasts: nothing fires.
    assert_eq!(h.fire_at(h.now() + hours(3)), 0);
    assert!(!h
        .history(id)
        .iter()
        .any(|r| matches!(r.event, Event::LimitBreached { .. })));

    // A value that breaks the schema is refused and changes nothing.
    assert!(matches!(
        admin(&h, id, retry(json!({"handler": "nobody_here"}))),
        Err(Rejection::Invalid(_))
    ));
    admin(&h, id, retry(json!({"handler": MENTOR}))).expect("set");
    let inst = h.inst(id);
    assert_eq!(inst.status, Status::Running);
    assert_eq!(inst.step.as_deref(), Some("review"));
    assert_eq!(h.task(id, "review").candidates.people, [SUPERVISOR]);
    let history = h.history(id);
    let set = history
        .iter()
        .find(|r| matches!(&r.event, Event::DataSet { values } if values.contains_key("handler")))
        .expect("the value in the history");
    assert_eq!(set.actor, ADMIN);
    assert_eq!(
        resolved(&h, id),
        [(
            Resolution::Set {
                fields: vec!["handler".into()]
            },
            ADMIN.to_string()
        )]
    );
    // The breach timer is back in the scheduler's queue, and overdue: it fires now.
    assert_eq!(h.fire_at(h.now()), 1);
    assert!(h
        .history(id)
        .iter()
        .any(|r| matches!(r.event, Event::LimitBreached { .. })));
}

/// A move is checked: the step must be of the definition, the data it reads there,
/// and it must be able to go on; then the instance goes on from there.
#[test]
fn move_checks_the_step_and_its_data_and_goes_there() {
    let h = harness(sh(2026, 7, 6, 10, 0));
    let id = stuck_fix(&h);
    let mv = |step: &str| Command::Move { step: step.into() };
    match admin(&h, id, mv("nowhere")) {
        Err(Rejection::Invalid(e)) => {
            assert_eq!(e[0].field, "step");
            assert!(e[0].message.contains("review"), "{}", e[0].message);
        }
        other => panic!("{other:?}"),
    }
    match admin(&h, id, mv("close")) {
        Err(Rejection::Invalid(e)) => {
            assert_eq!(e.len(), 1);
            assert_eq!(e[0].field, "resolution");
        }
        other => panic!("{other:?}"),
    }
    // The review itself still finds nobody: refused, with the reason.
    assert!(matches!(
        admin(&h, id, mv("review")),
        Err(Rejection::Stuck(_))
    ));
    assert!(matches!(
        rejection(h.engine.act(id, mv("done"), SUPERVISOR, None)),
        Rejection::Forbidden(_)
    ));
    assert_eq!(h.inst(id).status, Status::Incident);
    admin(&h, id, mv("done")).expect("moved");
    assert_ended(&h.inst(id), "done");
    assert_eq!(
        resolved(&h, id),
        [(
            Resolution::Move {
                step: "done".into()
            },
            ADMIN.to_string()
        )]
    );
    assert!(open_incidents(&h).is_empty());
    // Only an instance with an incident is moved.
    assert!(matches!(
        admin(&h, id, mv("review")),
        Err(Rejection::Conflict(_))
    ));
}

#[test]
fn cancel_resolves_an_incident_and_ends_the_instance() {
    let h = harness(sh(2026, 7, 6, 10, 0));
    let id = stuck_fix(&h);
    let cancel = Command::Cancel {
        reason: "客戶撤回".into(),
    };
    admin(&h, id, cancel).expect("cancelled");
    let inst = h.inst(id);
    assert_eq!(inst.status, Status::Cancelled);
    assert!(inst.timers.is_empty());
    assert_eq!(resolved(&h, id), [(Resolution::Cancel, ADMIN.to_string())]);
    assert!(open_incidents(&h).is_empty());
    assert_eq!(h.fire_at(h.now() + hours(10)), 0);
}

/// A task done whose next step cannot be assigned: the person who did it is not
/// refused (there is nothing she could change); the instance becomes an incident.
#[test]
fn a_completed_task_whose_next_step_cannot_start_is_kept_and_raises_an_incident() {
    let h = harness(sh(2026, 7, 6, 10, 0));
    let id = h
        .start(
            "fix_now",
            json!({"customer": "李四", "handler": "zhao_guoqiang"}),
            MENTOR,
        )
        .instance
        .id;
    let o = h.complete(h.task(id, "intake").id, MENTOR, None, json!({}));
    assert_eq!(o.instance.status, Status::Incident);
    let history = h.history(id);
    assert!(history
        .iter()
        .any(|r| matches!(r.event, Event::TaskCompleted { .. }) && r.actor == MENTOR));
    let (_, attempted, actor) = raised(&h, id);
    assert_eq!(
        attempted,
        Attempt::Route {
            step: "intake".into(),
            choice: None
        }
    );
    assert_eq!(actor, SYSTEM);
    admin(&h, id, retry(json!({"handler": "zhang_wei"}))).expect("set");
    assert_eq!(h.task(id, "review").candidates.people, [SUPERVISOR]);
}

/// Incidents are listed a page at a time, oldest instance first.
#[test]
fn incidents_are_listed_by_page() {
    let h = harness(sh(2026, 7, 6, 10, 0));
    let ids: Vec<u64> = (0..3)
        .map(|_| {
            h.start(
                "fix",
                json!({"customer": "張三", "handler": "zhao_guoqiang"}),
                MENTOR,
            )
            .instance
            .id
        })
        .collect();
    assert_eq!(h.fire_at(h.now() + hours(1)), 3);
    let first = h.engine.store.incidents(None, 2).expect("page");
    assert_eq!(
        first.items.iter().map(|i| i.instance).collect::<Vec<_>>(),
        ids[..2]
    );
    let after = first.next.expect("more").parse().expect("id");
    let second = h.engine.store.incidents(Some(after), 2).expect("page");
    assert_eq!(
        second.items.iter().map(|i| i.instance).collect::<Vec<_>>(),
        ids[2..]
    );
    assert!(second.next.is_none());
    assert_eq!(h.engine.store.incident_count(), 3);
    // They survive a restart.
    let h = h.reopen();
    assert_eq!(h.engine.store.incident_count(), 3);
    assert_eq!(h.inst(ids[0]).status, Status::Incident);
}

/// An escalation that finds nobody: the overdue task stays where it was, its person
/// cannot complete it while the incident lasts, and once the directory gives the
/// handler a supervisor, a retry escalates it to them.
#[test]
fn an_escalation_to_nobody_waits_for_a_directory_change_and_a_retry() {
    const ESC: &str = r#"
process esc "升級測試" {
  started by agent
  data {
    handler person "經辦人"
  }
  step work "處理" {
    task for starter
    due 1h
    on overdue escalate to supervisor of handler
    next done
  }
  end done "完成"
}
"#;
    let h = harness(sh(2026, 7, 6, 10, 0));
    h.engine
        .store
        .deploy("esc.flow", ESC, h.now())
        .expect("deploy");
    let id = h
        .start("esc", json!({"handler": "zhao_guoqiang"}), MENTOR)
        .instance
        .id;
    let task = h.task(id, "work").id;
    assert_eq!(h.fire_at(h.now() + hours(1)), 1);
    assert_eq!(h.inst(id).status, Status::Incident);
    let (reason, attempted, _) = raised(&h, id);
    assert!(reason.contains("no supervisor"), "{reason}");
    assert!(matches!(
        attempted,
        Attempt::Timer {
            timer: TimerKind::Due { .. },
            ..
        }
    ));
    // The task is as it was, but waits for the admin.
    assert_eq!(h.task(id, "work").candidates.people, [MENTOR]);
    assert!(matches!(
        rejection(h.try_complete(task, MENTOR, None, json!({}))),
        Rejection::Conflict(_)
    ));

    let d = h.engine.store.directory();
    let mut people = d.people.clone();
    for p in people.iter_mut().filter(|p| p.id == "zhao_guoqiang") {
        p.supervisor = Some(ADMIN.into());
    }
    h.engine
        .store
        .set_directory(baton_engine::staff::Directory::new(
            d.departments.clone(),
            people,
        ))
        .expect("directory");
    admin(&h, id, retry(json!({}))).expect("retried");
    assert_eq!(h.inst(id).status, Status::Running);
    assert_eq!(h.task(id, "work").candidates.people, [ADMIN]);
    h.complete(task, ADMIN, None, json!({}));
    assert_ended(&h.inst(id), "done");
    assert!(open_incidents(&h).is_empty());
}

/// A child that ends while its parent has an incident is recorded then, and the
/// parent goes on from it once the incident is resolved.
#[test]
fn a_child_that_ends_during_the_parents_incident_is_gone_on_from_after_the_retry() {
    const KID: &str = r#"
process kid "子流程" {
  data {
    handler person "經辦人"
  }
  step work "處理" {
    task for handler
    next done
  }
  end done "完成"
}
"#;
    const WAITER: &str = r#"
process waiter "等待子流程" {
  started by agent
  data {
    handler person "經辦人"
  }
  limit whole from wait_kid to after {
    within 1h
    on breach escalate to supervisor of handler
  }
  step wait_kid "等子流程" {
    start kid with handler = handler and wait
    next after
  }
  step after "之後" {
    task for starter
    next done
  }
  end done "完成"
}
"#;
    let h = harness(sh(2026, 7, 6, 10, 0));
    for (f, src) in [("kid.flow", KID), ("waiter.flow", WAITER)] {
        h.engine.store.deploy(f, src, h.now()).expect("deploy");
    }
    let o = h.start("waiter", json!({"handler": "zhao_guoqiang"}), MENTOR);
    let id = o.instance.id;
    let kid = o.children[0];
    assert_eq!(h.fire_at(h.now() + hours(1)), 1);
    assert_eq!(h.inst(id).status, Status::Incident);
    // The child is not held by its parent's incident; its end is recorded.
    h.act(kid, "work", "zhao_guoqiang", None, json!({}));
    assert_ended(&h.inst(kid), "done");
    let parent = h.inst(id);
    assert_eq!(parent.status, Status::Incident);
    assert_eq!(parent.step.as_deref(), Some("wait_kid"));
    assert!(!parent.awaiting_child);

    let d = h.engine.store.directory();
    let mut people = d.people.clone();
    for p in people.iter_mut().filter(|p| p.id == "zhao_guoqiang") {
        p.supervisor = Some(ADMIN.into());
    }
    h.engine
        .store
        .set_directory(baton_engine::staff::Directory::new(
            d.departments.clone(),
            people,
        ))
        .expect("directory");
    admin(&h, id, retry(json!({}))).expect("retried");
    let parent = h.inst(id);
    assert_eq!(parent.status, Status::Running);
    assert_eq!(h.task(id, "after").candidates.people, [MENTOR]);
    assert!(h
        .history(id)
        .iter()
        .any(|r| matches!(r.event, Event::LimitBreached { .. })));
    assert!(h
        .sent_by(id)
        .iter()
        .any(|s| s.kind() == MessageKind::Escalation && s.to() == [ADMIN]));
}

const KID: &str = "process kid \"子流程\" {\n  started by agent\n  step work \"辦理\" {\n    task for agent\n    choose {\n      good \"好\" -> fine\n      bad \"差\" -> poor\n    }\n  }\n  end fine \"順利\"\n  end poor \"不順\"\n}\n";
const MOM: &str = "process mom \"母流程\" {\n  started by agent\n  step wait_kid \"等候子流程\" {\n    start kid and wait\n    on outcome {\n      fine      -> happy\n      poor      -> sad\n      cancelled -> sad\n    }\n  }\n  end happy \"好結果\"\n  end sad \"壞結果\"\n}\n";

/// A child that ends while its waiting parent has an incident: once an admin
/// retries, the parent goes on by the end the child reached, not as if it had been
/// cancelled.
#[test]
fn a_child_ending_during_its_parents_incident_is_followed_by_its_own_end() {
    let h = Harness::at(sh(2026, 3, 2, 10, 0));
    h.engine
        .store
        .deploy("kid.flow", KID, h.now())
        .expect("kid");
    h.engine
        .store
        .deploy("mom.flow", MOM, h.now())
        .expect("mom");
    let o = h.start("mom", json!({}), "wang_fang");
    let mom = o.instance.id;
    let kid = *o.children.first().expect("the child started");
    // The parent becomes an incident while it waits (a timer of its that failed).
    h.engine
        .act(
            mom,
            Command::RaiseIncident {
                reason: "a test's failure".into(),
                attempted: Attempt::Timer {
                    n: 99,
                    timer: TimerKind::Due {
                        step: "wait_kid".into(),
                    },
                },
            },
            SYSTEM,
            None,
        )
        .expect("raised");
    assert_eq!(h.inst(mom).status, Status::Incident);
    let t = h.task(kid, "work");
    h.complete(t.id, "zhang_wei", Some("good"), json!({}));
    assert_eq!(h.inst(kid).outcome.as_deref(), Some("fine"));
    // Recorded, not gone on: the parent waits for the admin.
    assert_eq!(h.inst(mom).status, Status::Incident);
    let inst = h
        .engine
        .act(
            mom,
            Command::Retry {
                data: serde_json::Map::new(),
                attempted: None,
            },
            ADMIN,
            None,
        )
        .expect("retried")
        .instance;
    assert_eq!(inst.status, Status::Completed);
    assert_eq!(
        inst.outcome.as_deref(),
        Some("happy"),
        "by the child's own end"
    );
}
