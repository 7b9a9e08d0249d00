//! The rules around the walkthroughs: sign-off rules, every kind of rejection (and
//! that a rejected command changes nothing), and reopening the database.

mod common;

use baton_engine::core::{
    Command, Instance, InstanceId, Record, Rejection, Status, TaskId, TaskState,
};
use baton_engine::store::Deployed;
use common::*;
use serde_json::json;

/// Everything a rejected command must leave as it was.
#[derive(Debug, PartialEq)]
struct Snapshot {
    instances: Vec<Instance>,
    histories: Vec<Vec<Record>>,
    outbox: Vec<Sent>,
    timers: usize,
    lists: Vec<Vec<TaskId>>,
}

const EVERYONE: [&str; 8] = [
    "wang_fang",
    "zhang_wei",
    "chen_jing",
    "li_ming",
    "sun_li",
    "qian_yu",
    "zhao_guoqiang",
    "guo_peng",
];

fn snapshot(h: &Harness, ids: &[InstanceId]) -> Snapshot {
    Snapshot {
        instances: ids.iter().map(|id| h.inst(*id)).collect(),
        histories: ids.iter().map(|id| h.history(*id)).collect(),
        outbox: h.outbox(),
        timers: h.engine.store.timer_count(),
        lists: EVERYONE.iter().map(|p| h.list(p)).collect(),
    }
}

/// An application by 張偉, walked to the sign-offs (average 85: normal).
fn probation_at_signoffs(h: &Harness, employee: &str) -> InstanceId {
    let id = h
        .start(
            "probation",
            json!({"employee": employee, "hired_on": "2026-01-05"}),
            employee,
        )
        .instance
        .id;
    walk_probation_to_signoffs(h, id);
    id
}

fn walk_probation_to_signoffs(h: &Harness, id: InstanceId) {
    let employee = match h.data(id, "employee") {
        Some(baton_dsl::eval::Value::Person(p)) => p,
        other => panic!("{other:?}"),
    };
    let supervisor = h
        .engine
        .store
        .directory()
        .person(&employee)
        .and_then(|p| p.supervisor.clone())
        .unwrap();
    h.act(id, "apply", &employee, None, json!({"self_review": "…"}));
    h.act(
        id,
        "evaluate",
        &supervisor,
        None,
        json!({"opinion": "良好", "proposed_date": "2026-04-05", "salary": 6000, "daily_score": 85}),
    );
    h.act(id, "test", "guo_peng", None, json!({"test_score": 85}));
    let inst = h.act(
        id,
        "interview",
        "li_ming",
        None,
        json!({"interview_score": 85}),
    );
    assert_at(&inst, "signoffs");
}

// ---- sign-off rules -------------------------------------------------------------------

#[test]
fn the_same_person_cannot_sign_twice() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    let id = probation_at_signoffs(&h, "zhang_wei");
    h.sign(id, "chen_jing", true);
    // The CS manager hands his signature on to the supervisor, who already signed.
    let t = h.task(id, "signoffs");
    h.engine.claim(t.id, "li_ming").unwrap();
    h.engine
        .act(
            id,
            Command::Reassign {
                task: t.id,
                to: "chen_jing".into(),
            },
            "li_ming",
            None,
        )
        .unwrap();
    assert_eq!(h.list("chen_jing"), [t.id]);
    let before = snapshot(&h, &[id]);
    for choice in ["approve", "refuse"] {
        assert_eq!(
            rejection(h.try_complete(t.id, "chen_jing", Some(choice), json!({}))),
            Rejection::Forbidden("陳靜 has already signed this step".into())
        );
    }
    assert_eq!(snapshot(&h, &[id]), before);
    // She hands it back; the manager signs and the chain goes on.
    h.engine.claim(t.id, "chen_jing").unwrap();
    h.engine
        .act(
            id,
            Command::Reassign {
                task: t.id,
                to: "li_ming".into(),
            },
            "chen_jing",
            None,
        )
        .unwrap();
    let inst = h.sign(id, "li_ming", true);
    assert_eq!(inst.signatures.len(), 2);
    assert_eq!(h.task(id, "signoffs").candidates.roles, ["hr_officer"]);
}

#[test]
fn the_requester_cannot_approve_their_own_request() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let src = "process expense {\n  started by cs_center_supervisor\n  step signoffs {\n    sign any of person chen_jing, cs_manager\n    on refuse -> refused\n    next done\n  }\n  end done\n  end refused\n}\n";
    h.engine
        .store
        .deploy("expense.flow", src, sh(2026, 3, 2, 9, 0))
        .unwrap();
    let id = h.start("expense", json!({}), "chen_jing").instance.id;
    let before = snapshot(&h, &[id]);
    let mine: Vec<_> = h
        .list("chen_jing")
        .into_iter()
        .filter(|t| t.instance == id)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        rejection(h.try_complete(mine[0], "chen_jing", Some("approve"), json!({}))),
        Rejection::Forbidden("the requester cannot approve their own request".into())
    );
    assert_eq!(snapshot(&h, &[id]), before);
    // Refusing one's own request is allowed; the other signer can still approve.
    h.try_complete(mine[0], "chen_jing", Some("refuse"), json!({}))
        .unwrap();
    let inst = h.sign(id, "li_ming", true);
    assert_ended(&inst, "done");
}

#[test]
fn a_probation_opened_by_onboarding_has_no_requester_of_its_own() {
    // The child carries the hiring requester (陳靜) as its starter; she is also the new
    // employee's supervisor and first signer, and may approve.
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let hired = hire(&h, "chen_jing", "zhang_wei", "2026-04-01");
    onboard(&h, hired.onboarding, "wang_fang");
    h.fire_at(sh(2026, 7, 2, 9, 0));
    let running = h.instances("probation", "running");
    assert_eq!(running.len(), 1);
    let id = running[0].id;
    assert_eq!(running[0].starter, "chen_jing");
    walk_probation_to_signoffs(&h, id);
    let t = h.task(id, "signoffs");
    assert_eq!(t.candidates.people, ["chen_jing"]);
    let inst = h.sign(id, "chen_jing", true);
    assert_eq!(inst.signatures.len(), 1);
    assert_eq!(inst.status, baton_engine::core::Status::Running);
}

// ---- every kind of rejection ----------------------------------------------------------

#[test]
fn every_kind_of_rejection_changes_nothing() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    let complaint = h
        .start(
            "complaint",
            json!({"customer": "張三", "contact": "138", "channel": "app"}),
            "wang_fang",
        )
        .instance
        .id;
    let hiring = h
        .start(
            "hiring",
            json!({"position": "質檢專員", "requirements": "細心"}),
            "guo_peng",
        )
        .instance
        .id;
    h.act(
        hiring,
        "manager_review",
        "li_ming",
        Some("approve"),
        json!({}),
    );
    let done = h
        .start(
            "coordination",
            json!({"partner": "hr", "request": "培訓場地", "needed_by": "2026-03-20T12:00:00+08:00"}),
            "wang_fang",
        )
        .instance
        .id;
    h.act(done, "own_head", "li_ming", Some("return"), json!({}));
    let ids = [complaint, hiring, done];
    let accept = h.task(complaint, "accept");
    let hr_review = h.task(hiring, "hr_review");
    h.engine.claim(hr_review.id, "sun_li").unwrap();
    let before = snapshot(&h, &ids);
    let processes = |h: &Harness| -> Vec<usize> {
        ["complaint", "hiring", "coordination", "probation"]
            .iter()
            .flat_map(|p| {
                ["running", "completed", "cancelled"]
                    .iter()
                    .map(|s| h.instances(p, s).len())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let counts = processes(&h);

    // NotFound: an unknown instance, task or process.
    assert_eq!(
        rejection(h.engine.claim(
            TaskId {
                instance: 999,
                n: 1
            },
            "wang_fang"
        )),
        Rejection::NotFound("no instance 999".into())
    );
    let ghost = TaskId {
        instance: complaint,
        n: 99,
    };
    assert!(matches!(
        rejection(h.try_complete(ghost, "wang_fang", None, json!({}))),
        Rejection::NotFound(_)
    ));
    assert!(matches!(
        rejection(h.engine.claim(ghost, "wang_fang")),
        Rejection::NotFound(_)
    ));
    assert!(matches!(
        rejection(h.try_start("refund", json!({}), "wang_fang")),
        Rejection::NotFound(m) if m.contains("refund")
    ));
    assert!(matches!(
        rejection(h.engine.store.history(999)),
        Rejection::NotFound(_)
    ));

    // Conflict: a task claimed by someone else; an instance that has ended.
    assert_eq!(
        rejection(h.try_complete(hr_review.id, "qian_yu", Some("approve"), json!({}))),
        Rejection::Conflict(format!("task {} is claimed by 孫莉", hr_review.id))
    );
    assert!(matches!(
        rejection(h.engine.claim(hr_review.id, "qian_yu")),
        Rejection::Conflict(_)
    ));
    assert_eq!(
        rejection(h.engine.act(
            done,
            Command::Cancel { reason: "x".into() },
            "wang_fang",
            None
        )),
        Rejection::Conflict(format!("instance {done} is completed"))
    );

    // Forbidden: not a candidate; a start without the started-by role; a cancel by a
    // stranger.
    assert_eq!(
        rejection(h.try_complete(accept.id, "zhang_wei", None, json!({}))),
        Rejection::Forbidden(format!("task {} is not for 張偉", accept.id))
    );
    assert_eq!(
        rejection(h.try_start(
            "hiring",
            json!({"position": "x", "requirements": "y"}),
            "wang_fang"
        )),
        Rejection::Forbidden(
            "`wang_fang` may not start hiring: it is started by cs_center_supervisor, \
             scenic_supervisor, relationship_supervisor, quality_supervisor"
                .into()
        )
    );
    assert!(matches!(
        rejection(h.engine.act(
            complaint,
            Command::Cancel { reason: "x".into() },
            "zhang_wei",
            None
        )),
        Rejection::Forbidden(_)
    ));

    // Invalid: one error per bad field, each with its own message.
    let errs = field_errors(rejection(h.try_start(
        "complaint",
        json!({"customr": "張三", "contact": "138", "channel": "fax", "customer_consents": "yes"}),
        "wang_fang",
    )));
    assert_eq!(
        errs,
        [
            (
                "channel".to_string(),
                "\"fax\" is not one of hotline, app, onsite".to_string()
            ),
            ("customer".into(), "missing required field".into()),
            (
                "customer_consents".into(),
                "expected true or false, found \"yes\"".into()
            ),
            (
                "customr".into(),
                "unknown field; did you mean `customer`?".into()
            ),
        ]
    );
    let errs = field_errors(rejection(h.try_start(
        "probation",
        json!({"employee": "nobody", "hired_on": "2026-13-01", "leave_count": 61, "late_count": "many"}),
        "zhang_wei",
    )));
    assert_eq!(
        errs,
        [
            (
                "employee".to_string(),
                "no person `nobody` in the staff directory".to_string()
            ),
            (
                "hired_on".into(),
                "expected a date like 2026-12-31, found \"2026-13-01\"".into()
            ),
            (
                "late_count".into(),
                "expected a whole number, found \"many\"".into()
            ),
            ("leave_count".into(), "61 is out of range 0..60".into()),
        ]
    );
    // At a task: a wrong type, an unknown field, a missing field, a field of another
    // step, an unknown choice; and a value out of range.
    let errs = field_errors(rejection(h.try_complete(
        accept.id,
        "wang_fang",
        Some("ok"),
        json!({"severity": "huge", "summry": "x", "contact": "139"}),
    )));
    assert_eq!(
        errs,
        [
            (
                "choice".to_string(),
                "this task has no choices (got `ok`)".to_string()
            ),
            ("contact".into(), "cannot be set here".into()),
            (
                "severity".into(),
                "\"huge\" is not one of general, major".into()
            ),
            ("summary".into(), "missing required field".into()),
            (
                "summry".into(),
                "unknown field; did you mean `summary`?".into()
            ),
        ]
    );

    // Requirement: a probation application on the 16th.
    h.clock.set(sh(2026, 3, 16, 10, 0));
    assert_eq!(
        rejection(h.try_start(
            "probation",
            json!({"employee": "zhang_wei", "hired_on": "2026-01-05"}),
            "zhang_wei"
        )),
        Rejection::Requirement {
            message: "申請須於每月15日（含）前提交".into(),
            fields: vec![],
        }
    );
    h.clock.set(sh(2026, 3, 10, 10, 0));

    // None of it changed anything.
    assert_eq!(snapshot(&h, &ids), before);
    assert_eq!(processes(&h), counts);
    assert_eq!(h.engine.store.task(accept.id).unwrap(), accept);
}

#[test]
fn completing_a_task_twice_is_a_conflict() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    let id = h
        .start(
            "complaint",
            json!({"customer": "張三", "contact": "138", "channel": "onsite"}),
            "wang_fang",
        )
        .instance
        .id;
    let accept = h.task(id, "accept");
    h.complete(accept.id, "wang_fang", None, json!({"summary": "x"}));
    // The instance moved on to `explain`, which has a task of its own.
    let before = snapshot(&h, &[id]);
    for r in [
        h.try_complete(accept.id, "wang_fang", None, json!({"summary": "x"})),
        h.engine.claim(accept.id, "wang_fang"),
    ] {
        assert!(matches!(rejection(r), Rejection::Conflict(_)));
    }
    assert_eq!(snapshot(&h, &[id]), before);
    let rec = h.engine.store.task(accept.id).unwrap();
    assert_eq!(rec.state, TaskState::Completed);
    assert_eq!(rec.completed_by.as_deref(), Some("wang_fang"));

    // And once the instance has ended.
    h.act(id, "explain", "wang_fang", Some("resolved"), json!({}));
    let last = h.task(id, "follow_up");
    h.complete(last.id, "wang_fang", None, json!({"satisfaction": 4}));
    assert!(matches!(
        rejection(h.try_complete(last.id, "wang_fang", None, json!({"satisfaction": 4}))),
        Rejection::Conflict(_)
    ));
}

#[test]
fn out_of_range_and_missing_fields_at_a_task() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    let id = h
        .start(
            "complaint",
            json!({"customer": "張三", "contact": "138", "channel": "hotline"}),
            "wang_fang",
        )
        .instance
        .id;
    h.act(id, "accept", "wang_fang", None, json!({"summary": "x"}));
    let explain = h.task(id, "explain");
    assert_eq!(
        field_errors(rejection(h.try_complete(
            explain.id,
            "wang_fang",
            None,
            json!({})
        ))),
        [(
            "choice".to_string(),
            "choose one of resolved, needs_solution, to_department, to_scenic".to_string()
        )]
    );
    h.act(
        id,
        "explain",
        "wang_fang",
        Some("needs_solution"),
        json!({}),
    );
    let propose = h.task(id, "propose");
    assert_eq!(
        field_errors(rejection(h.try_complete(
            propose.id,
            "wang_fang",
            None,
            json!({"within_authority": "maybe"})
        ))),
        [
            ("solution".to_string(), "missing required field".to_string()),
            (
                "within_authority".into(),
                "expected true or false, found \"maybe\"".into()
            ),
        ]
    );
    h.act(
        id,
        "propose",
        "wang_fang",
        None,
        json!({"solution": "補償", "within_authority": true}),
    );
    let follow = h.task(id, "follow_up");
    let before = snapshot(&h, &[id]);
    for (v, msg) in [
        (json!(6), "6 is out of range 1..5"),
        (json!(0), "0 is out of range 1..5"),
        (json!(2.5), "expected a whole number, found the number 2.5"),
        // Text is not a number in JSON; the command line converts by the field's type.
        (json!("5"), "expected a whole number, found \"5\""),
    ] {
        assert_eq!(
            field_errors(rejection(h.try_complete(
                follow.id,
                "wang_fang",
                None,
                json!({"satisfaction": v})
            ))),
            [("satisfaction".to_string(), msg.to_string())]
        );
    }
    assert_eq!(snapshot(&h, &[id]), before);
    let inst = h.act(
        id,
        "follow_up",
        "wang_fang",
        None,
        // The shape the API answers with is taken as input too.
        json!({"satisfaction": {"Int": 5}}),
    );
    assert_ended(&inst, "done");
}

// ---- reopening the database -----------------------------------------------------------

#[test]
fn reopening_the_database_gives_the_same_state() {
    let t0 = sh(2026, 3, 2, 9, 0);
    let h = Harness::at(t0);
    // A mix: a complaint under its limit, a requisition waiting for onboarding, a trip
    // waiting for its day, a report offered to a role, and a finished instance.
    let complaint = h
        .start(
            "complaint",
            json!({"customer": "張三", "contact": "138", "channel": "hotline"}),
            "wang_fang",
        )
        .instance
        .id;
    h.act(
        complaint,
        "accept",
        "wang_fang",
        None,
        json!({"summary": "x"}),
    );
    let hired = hire(&h, "lin_tao", "huang_min", "2026-04-01");
    let trip = h
        .start(
            "trip_care",
            json!({"customer": "李四", "phone": "139", "trip_date": "2026-03-10", "agent": "liu_yang"}),
            "liu_yang",
        )
        .instance
        .id;
    let weekly = h
        .start("weekly_hotspots", json!({}), baton_engine::core::SYSTEM)
        .instance
        .id;
    let finished = h
        .start(
            "coordination",
            json!({"partner": "hr", "request": "r", "needed_by": "2026-03-20T12:00:00+08:00"}),
            "wang_fang",
        )
        .instance
        .id;
    h.act(finished, "own_head", "li_ming", Some("return"), json!({}));
    let ids = [
        complaint,
        hired.hiring,
        hired.onboarding,
        trip,
        weekly,
        finished,
    ];
    h.fire_at(t0 + minutes(50));

    let people: Vec<String> = h
        .engine
        .store
        .directory()
        .people
        .iter()
        .map(|p| p.id.clone())
        .collect();
    let state = |h: &Harness| {
        let instances: Vec<Instance> = h
            .engine
            .store
            .process_names()
            .iter()
            .flat_map(|(p, _)| {
                ["running", "completed", "cancelled"]
                    .iter()
                    .flat_map(|s| h.instances(p, s))
                    .collect::<Vec<_>>()
            })
            .collect();
        let tasks: Vec<Vec<baton_engine::core::Task>> = people
            .iter()
            .map(|p| h.engine.store.tasks_for(p).unwrap())
            .collect();
        let histories: Vec<Vec<Record>> = ids.iter().map(|id| h.history(*id)).collect();
        let timers = h
            .engine
            .store
            .due_timers(t0 + hours(24 * 365), 1000)
            .unwrap();
        (instances, tasks, histories, h.outbox(), timers)
    };
    let before = state(&h);
    assert_eq!(before.0.len(), 6);
    assert!(before.1.iter().any(|t| !t.is_empty()));
    assert!(!before.4.is_empty());

    let h = h.reopen();
    assert_eq!(state(&h), before);
    let flows = std::fs::read_dir(processes_dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "flow"))
        })
        .count();
    assert!(flows >= 17, "the company's processes: {flows}");
    assert_eq!(
        h.engine.store.process_names().len(),
        flows,
        "definitions are still deployed"
    );
    // Deploying the same folder again changes no version.
    for r in h.engine.deploy_dir(&processes_dir()).unwrap() {
        assert!(
            matches!(r.result, Ok((_, Deployed::Unchanged { version: 1 }))),
            "{}",
            r.file
        );
    }

    // And it goes on where it was: the complaint's limit breaches, tasks complete.
    assert_eq!(h.fire_at(t0 + hours(1)), 1);
    let breach = h.outbox().pop().unwrap();
    assert_eq!(breach.instance, complaint);
    assert_eq!(breach.to(), ["chen_jing"]);
    let inst = h.act(
        complaint,
        "explain",
        "wang_fang",
        Some("resolved"),
        json!({}),
    );
    assert_at(&inst, "follow_up");
    let inst = h.act(
        weekly,
        "meeting",
        "chen_jing",
        None,
        json!({"hotspots": "a", "measures": "b"}),
    );
    assert_at(&inst, "summary");
    // New instances do not reuse ids.
    let next = h
        .start(
            "complaint",
            json!({"customer": "王五", "contact": "137", "channel": "app"}),
            "zhang_wei",
        )
        .instance
        .id;
    assert!(ids.iter().all(|id| *id != next));
    assert_eq!(h.inst(hired.hiring).status, Status::Running);
}
