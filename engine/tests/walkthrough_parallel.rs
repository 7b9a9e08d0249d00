//! Walkthroughs of parallel branches on the manual clock, along every path of a join:
//! all (the default), any (the others withdrawn, their tasks cancelled and recorded),
//! 2 of 3, a branch that may end the instance, a loop inside a branch, a deadline
//! with its reminder and escalation inside a branch, a restart in the middle, and a
//! cancelled instance. The definitions are a drill deployed beside the company's
//! processes: three people each do their part side by side.

mod common;

use baton_engine::core::{
    BranchStatus, Command, Event, Instance, InstanceId, MessageKind, Rejection, TaskId, TaskState,
    TimerKind,
};
use common::*;
use serde_json::json;

/// 王芳 and 張偉 (agents, supervised by 陳靜) and 劉洋 (scenic agent) each have a
/// branch; 陳靜 files the drill.
const WANG: &str = "wang_fang";
const ZHANG: &str = "zhang_wei";
const LIU: &str = "liu_yang";
const CHEN: &str = "chen_jing";

fn drill(name: &str, join: &str) -> String {
    format!(
        r#"process {name} "並行演練" {{
  started by cs_center_supervisor
  data {{
    topic text "主題"
  }}
  step fan "分頭處理" {{
    parallel {{
      branch a "甲線" {{
        step a1 "甲辦理" {{
          task for person wang_fang
          due 2h
          remind 30m before due
          on overdue escalate to person zhang_wei
          fill a_note: text
          next join
        }}
      }}
      branch b "乙線" {{
        step b1 "乙辦理" {{
          task for person zhang_wei
          choose {{
            ok "完成" -> join
            again "重做" -> b2
          }}
        }}
        step b2 "乙重做" {{
          task for person zhang_wei
          next b1
        }}
      }}
      branch c "丙線" may end {{
        step c1 "丙辦理" {{
          task for person liu_yang
          choose {{
            ok "完成" -> join
            stop "叫停" -> stopped
          }}
        }}
      }}
    }}
    join {join}
    next after
  }}
  step after "彙總" {{
    task for starter
    next done
  }}
  end done "完成"
  end stopped "叫停"
}}
"#
    )
}

/// The company's processes, and the drill with each kind of join.
fn harness() -> Harness {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, join) in [
        ("drill_all", "all"),
        ("drill_any", "any"),
        ("drill_two", "2"),
    ] {
        std::fs::write(dir.path().join(format!("{name}.flow")), drill(name, join)).expect("write");
    }
    std::fs::write(dir.path().join("drill_wait.flow"), DRILL_WAIT).expect("write");
    // A limit over the whole parallel step, which may be extended.
    let limited = drill("drill_limit", "all").replace(
        "  step fan",
        "  limit whole from fan to after {\n    within 4h\n    extend up to 2h\n  }\n  step fan",
    );
    std::fs::write(dir.path().join("drill_limit.flow"), limited).expect("write");
    std::fs::write(dir.path().join("drill_sign.flow"), DRILL_SIGN).expect("write");
    // 甲's deadline may be extended; 乙 has a deadline of its own.
    let extend = drill("drill_extend", "all")
        .replace(
            "          due 2h\n",
            "          due 2h\n          extend up to 1h\n",
        )
        .replace(
            "          task for person zhang_wei\n          choose",
            "          task for person zhang_wei\n          due 3h\n          choose",
        );
    std::fs::write(dir.path().join("drill_extend.flow"), extend).expect("write");
    for r in h.engine.deploy_definitions(dir.path()).expect("deploy") {
        r.result.unwrap_or_else(|e| panic!("{}: {e}", r.file));
    }
    h
}

fn start(h: &Harness, process: &str) -> InstanceId {
    h.start(process, json!({"topic": "春季演練"}), CHEN)
        .instance
        .id
}

/// The open task of `step` (one of the branches' tasks).
fn task_at(inst: &Instance, step: &str) -> TaskId {
    let ts: Vec<TaskId> = inst
        .active_tasks()
        .filter(|t| t.step == step)
        .map(|t| t.id)
        .collect();
    assert_eq!(ts.len(), 1, "one open task at {step}: {:#?}", inst.tasks);
    ts[0]
}

fn branch(inst: &Instance, name: &str) -> (BranchStatus, Option<String>) {
    let b = inst
        .branches
        .iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no branch {name}: {:?}", inst.branches));
    assert!(!b.focused, "a stored instance is on its main line");
    (b.status, b.position.step.clone())
}

fn events(h: &Harness, id: InstanceId) -> Vec<Event> {
    h.history(id).into_iter().map(|r| r.event).collect()
}

#[test]
fn all_branches_run_side_by_side_and_the_step_goes_on_when_the_last_finishes() {
    let h = harness();
    let id = start(&h, "drill_all");
    let inst = h.inst(id);
    assert_at(&inst, "fan");
    assert_eq!(
        branch(&inst, "a"),
        (BranchStatus::Running, Some("a1".into()))
    );
    assert_eq!(
        branch(&inst, "b"),
        (BranchStatus::Running, Some("b1".into()))
    );
    assert_eq!(
        branch(&inst, "c"),
        (BranchStatus::Running, Some("c1".into()))
    );
    // Each person has their branch's task in their list, at once.
    assert_eq!(h.list(WANG), [task_at(&inst, "a1")]);
    assert_eq!(h.list(ZHANG), [task_at(&inst, "b1")]);
    assert_eq!(h.list(LIU), [task_at(&inst, "c1")]);
    // The branch's due time is its own: the others have none.
    let a1 = inst.task(task_at(&inst, "a1")).cloned().expect("a1");
    assert_eq!(a1.due, Some(sh(2026, 3, 2, 11, 0)));
    assert_eq!(inst.task(task_at(&inst, "b1")).and_then(|t| t.due), None);
    assert_eq!(inst.due, None, "the parallel step itself is not due");

    // 乙 finishes first: the step waits for the others.
    let o = h.complete(task_at(&inst, "b1"), ZHANG, Some("ok"), json!({}));
    assert_at(&o.instance, "fan");
    assert_eq!(branch(&o.instance, "b"), (BranchStatus::Finished, None));
    // A completion in one branch leaves the others' tasks as they were.
    assert_eq!(h.list(WANG), [a1.id]);

    h.complete(a1.id, WANG, None, json!({"a_note": "已完成"}));
    let inst = h.inst(id);
    assert_at(&inst, "fan");
    assert_eq!(branch(&inst, "a"), (BranchStatus::Finished, None));
    // Its timers went with its step.
    assert!(h.timers(id).is_empty(), "{:?}", h.timers(id));

    let o = h.complete(task_at(&inst, "c1"), LIU, Some("ok"), json!({}));
    let inst = o.instance;
    assert_at(&inst, "after");
    assert!(inst.branches.is_empty());
    assert_eq!(
        h.data(id, "a_note"),
        Some(baton_dsl::eval::Value::Text("已完成".into()))
    );
    let ev = events(&h, id);
    let finished: Vec<&str> = ev
        .iter()
        .filter_map(|e| match e {
            Event::BranchFinished { branch } => Some(branch.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(finished, ["b", "a", "c"]);
    assert!(ev.contains(&Event::Joined {
        branches: vec!["a".into(), "b".into(), "c".into()]
    }));
    assert!(!ev
        .iter()
        .any(|e| matches!(e, Event::BranchCancelled { .. })));

    let t = h.task(id, "after");
    let o = h.complete(t.id, CHEN, None, json!({}));
    assert_ended(&o.instance, "done");
}

#[test]
fn any_goes_on_with_the_first_branch_and_withdraws_the_others_tasks() {
    let h = harness();
    let id = start(&h, "drill_any");
    let inst = h.inst(id);
    let (a1, c1) = (task_at(&inst, "a1"), task_at(&inst, "c1"));
    let o = h.complete(task_at(&inst, "b1"), ZHANG, Some("ok"), json!({}));
    assert_at(&o.instance, "after");
    // The other branches were cancelled: their tasks withdrawn from the lists, their
    // timers gone, and the history says which branch and which task.
    assert!(h.list(WANG).is_empty());
    assert!(h.list(LIU).is_empty());
    assert!(h.timers(id).is_empty(), "{:?}", h.timers(id));
    let task = |id: TaskId| h.engine.store.task(id).expect("task record");
    assert_eq!(task(a1).state, TaskState::Cancelled);
    assert_eq!(task(c1).state, TaskState::Cancelled);
    let ev = events(&h, id);
    let pos = |e: &Event| ev.iter().position(|x| x == e).expect("in the history");
    let cancelled_a = pos(&Event::BranchCancelled { branch: "a".into() });
    let cancelled_c = pos(&Event::BranchCancelled { branch: "c".into() });
    assert!(pos(&Event::TaskCancelled { task: a1 }) < cancelled_a);
    assert!(pos(&Event::TaskCancelled { task: c1 }) < cancelled_c);
    assert!(
        cancelled_c
            < pos(&Event::Joined {
                branches: vec!["b".into()]
            })
    );
    // A withdrawn task can no longer be completed.
    let r = h.try_complete(a1, WANG, None, json!({"a_note": "晚了"}));
    assert!(matches!(rejection(r), Rejection::Conflict(_)));
}

#[test]
fn two_of_three_joins_on_the_second_and_cancels_the_third() {
    let h = harness();
    let id = start(&h, "drill_two");
    let inst = h.inst(id);
    let b1 = task_at(&inst, "b1");
    h.complete(task_at(&inst, "a1"), WANG, None, json!({"a_note": "好"}));
    assert_at(&h.inst(id), "fan");
    let o = h.complete(task_at(&inst, "c1"), LIU, Some("ok"), json!({}));
    assert_at(&o.instance, "after");
    assert!(h.list(ZHANG).is_empty());
    assert_eq!(
        h.engine.store.task(b1).expect("b1").state,
        TaskState::Cancelled
    );
    let ev = events(&h, id);
    assert!(ev.contains(&Event::BranchCancelled { branch: "b".into() }));
    assert!(ev.contains(&Event::Joined {
        branches: vec!["a".into(), "c".into()]
    }));
}

#[test]
fn a_branch_that_may_end_the_instance_ends_it_and_withdraws_the_rest() {
    let h = harness();
    let id = start(&h, "drill_all");
    let inst = h.inst(id);
    let (a1, b1) = (task_at(&inst, "a1"), task_at(&inst, "b1"));
    let o = h.complete(task_at(&inst, "c1"), LIU, Some("stop"), json!({}));
    assert_ended(&o.instance, "stopped");
    assert!(h.list(WANG).is_empty() && h.list(ZHANG).is_empty());
    assert_eq!(
        h.engine.store.task(a1).expect("a1").state,
        TaskState::Cancelled
    );
    assert_eq!(
        h.engine.store.task(b1).expect("b1").state,
        TaskState::Cancelled
    );
    let ev = events(&h, id);
    assert!(ev.contains(&Event::BranchFinished { branch: "c".into() }));
    assert!(ev.contains(&Event::BranchCancelled { branch: "a".into() }));
    assert!(ev.contains(&Event::BranchCancelled { branch: "b".into() }));
    assert!(!ev.iter().any(|e| matches!(e, Event::Joined { .. })));
}

#[test]
fn a_branch_loops_within_itself_while_the_others_wait() {
    let h = harness();
    let id = start(&h, "drill_all");
    let inst = h.inst(id);
    let a1 = task_at(&inst, "a1");
    let o = h.complete(task_at(&inst, "b1"), ZHANG, Some("again"), json!({}));
    assert_eq!(
        branch(&o.instance, "b"),
        (BranchStatus::Running, Some("b2".into()))
    );
    let o = h.complete(task_at(&o.instance, "b2"), ZHANG, None, json!({}));
    assert_eq!(
        branch(&o.instance, "b"),
        (BranchStatus::Running, Some("b1".into()))
    );
    // 甲's task was not touched by 乙's steps coming and going.
    assert_eq!(h.list(WANG), [a1]);
    assert_eq!(o.instance.task(a1).map(|t| t.state), Some(TaskState::Open));
}

#[test]
fn a_deadline_inside_a_branch_reminds_and_escalates_only_that_branch() {
    let h = harness();
    let id = start(&h, "drill_all");
    let inst = h.inst(id);
    let (a1, b1, c1) = (
        task_at(&inst, "a1"),
        task_at(&inst, "b1"),
        task_at(&inst, "c1"),
    );
    assert_eq!(
        h.timers(id),
        [
            (
                sh(2026, 3, 2, 10, 30),
                TimerKind::Remind { step: "a1".into() }
            ),
            (sh(2026, 3, 2, 11, 0), TimerKind::Due { step: "a1".into() }),
        ]
    );
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(sh(2026, 3, 2, 10, 30)), 1);
    let sent = h.outbox_after(mark);
    assert_eq!(
        sent.len(),
        1,
        "{:?}",
        sent.iter().map(|s| s.text()).collect::<Vec<_>>()
    );
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    // To the person holding 甲's task only, not to those of the other branches.
    assert_eq!(sent[0].to(), [WANG]);

    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(sh(2026, 3, 2, 11, 0)), 1);
    let inst = h.inst(id);
    // Escalated: 甲's task goes to 張偉; 乙's and 丙's stay with their people.
    assert_eq!(
        inst.task(a1).map(|t| t.candidates.people.clone()),
        Some(vec![ZHANG.to_string()])
    );
    assert_eq!(
        inst.task(b1).map(|t| t.candidates.people.clone()),
        Some(vec![ZHANG.to_string()])
    );
    assert_eq!(
        inst.task(c1).map(|t| t.candidates.people.clone()),
        Some(vec![LIU.to_string()])
    );
    let sent = h.outbox_after(mark);
    assert!(
        sent.iter()
            .any(|s| s.kind() == MessageKind::Escalation && s.to() == [ZHANG]),
        "{:?}",
        sent.iter().map(|s| (s.kind(), s.to())).collect::<Vec<_>>()
    );
    // 張偉 now does 甲's part too; the branch finishes as usual.
    h.complete(a1, ZHANG, None, json!({"a_note": "代辦"}));
    assert_eq!(branch(&h.inst(id), "a"), (BranchStatus::Finished, None));
    assert_eq!(branch(&h.inst(id), "b").0, BranchStatus::Running);
}

#[test]
fn branches_survive_a_restart_in_the_middle() {
    let h = harness();
    let id = start(&h, "drill_all");
    let inst = h.inst(id);
    h.complete(task_at(&inst, "a1"), WANG, None, json!({"a_note": "好"}));
    let before = h.inst(id);
    let h = h.reopen();
    let after = h.inst(id);
    assert_eq!(after, before);
    assert_eq!(branch(&after, "a"), (BranchStatus::Finished, None));
    h.complete(task_at(&after, "b1"), ZHANG, Some("ok"), json!({}));
    let o = h.complete(task_at(&after, "c1"), LIU, Some("ok"), json!({}));
    assert_at(&o.instance, "after");
}

#[test]
fn cancelling_the_instance_cancels_its_branches() {
    let h = harness();
    let id = start(&h, "drill_all");
    let o = h
        .engine
        .act(
            id,
            Command::Cancel {
                reason: "演練取消".into(),
            },
            CHEN,
            None,
        )
        .expect("cancel");
    assert_eq!(o.instance.active_tasks().count(), 0);
    assert!(o
        .instance
        .branches
        .iter()
        .all(|b| b.status == BranchStatus::Cancelled));
    assert!(h.list(WANG).is_empty() && h.list(ZHANG).is_empty() && h.list(LIU).is_empty());
}

// ---- the company's processes -------------------------------------------------------------

/// A coordination request of 王芳's to the technology department (head 鄭凱) and,
/// with `also`, a second department.
fn coordination(h: &Harness, also: Option<&str>) -> InstanceId {
    let mut data = json!({
        "partner": "technology",
        "request": "協助排查App登錄故障",
        "needed_by": "2026-03-05T18:00:00+08:00",
    });
    if let Some(a) = also {
        data["also"] = json!(a);
    }
    let id = h.start("coordination", data, WANG).instance.id;
    h.act(id, "own_head", "li_ming", Some("approve"), json!({}));
    id
}

#[test]
fn coordination_with_two_partner_departments_is_signed_by_both_heads_at_once() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    // The product department (head 周傑) must cooperate too.
    let id = coordination(&h, Some("product"));
    let inst = h.inst(id);
    assert_at(&inst, "partners");
    let tech = task_at(&inst, "partner_head");
    let product = task_at(&inst, "other_head");
    assert_eq!(h.list("zheng_kai"), [tech]);
    assert_eq!(h.list("zhou_jie"), [product]);
    // Each head's deadline and its overdue notice are their own.
    let due = inst.task(product).and_then(|t| t.due).expect("due");
    assert_eq!(inst.task(tech).and_then(|t| t.due), Some(due));
    h.complete(
        product,
        "zhou_jie",
        Some("approve"),
        json!({"other_opinion": "同意"}),
    );
    let inst = h.inst(id);
    assert_at(&inst, "partners");
    assert_eq!(branch(&inst, "second"), (BranchStatus::Finished, None));
    // 鄭凱 is late: the requester's head hears of the technology department only.
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(due), 1);
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Overdue);
    assert_eq!(sent[0].to(), ["li_ming"]);
    assert_eq!(
        sent[0].text(),
        "部門協調單「協助排查App登錄故障」待技術部領導簽字，已逾期"
    );
    let o = h.complete(tech, "zheng_kai", Some("approve"), json!({}));
    assert_at(&o.instance, "assign");
    assert!(events(&h, id).contains(&Event::Joined {
        branches: vec!["first".into(), "second".into()]
    }));
}

#[test]
fn coordination_declined_by_the_second_department_withdraws_the_first_heads_task() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = coordination(&h, Some("product"));
    let inst = h.inst(id);
    let tech = task_at(&inst, "partner_head");
    let o = h.complete(
        task_at(&inst, "other_head"),
        "zhou_jie",
        Some("decline"),
        json!({"other_opinion": "本月無人手"}),
    );
    assert_ended(&o.instance, "declined");
    assert!(h.list("zheng_kai").is_empty());
    assert_eq!(
        h.engine.store.task(tech).expect("task").state,
        TaskState::Cancelled
    );
    let ev = events(&h, id);
    assert!(ev.contains(&Event::TaskCancelled { task: tech }));
    assert!(ev.contains(&Event::BranchCancelled {
        branch: "first".into()
    }));
    // The requester hears that the request was declined.
    let sent = h.sent_by(id);
    assert!(
        sent.iter()
            .any(|s| s.to() == [WANG] && s.text().contains("不予配合")),
        "{:?}",
        sent.iter().map(|s| s.text()).collect::<Vec<_>>()
    );
}

#[test]
fn onboarding_paperwork_runs_beside_the_guidance_with_its_own_deadline() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = h
        .start(
            "onboarding",
            json!({"employee": "zhang_wei", "hired_on": "2026-03-02"}),
            "sun_li",
        )
        .instance
        .id;
    h.act(
        id,
        "report",
        CHEN,
        None,
        json!({"offer_letter_no": "HR-2026-017"}),
    );
    h.act(id, "introduce", CHEN, None, json!({}));
    h.act(id, "study", ZHANG, None, json!({}));
    let inst = h.act(
        id,
        "assign",
        CHEN,
        None,
        json!({"workstation": "A-12", "mentor": WANG}),
    );
    assert_at(&inst, "settle_in");
    let papers = task_at(&inst, "paperwork");
    let guide = task_at(&inst, "guide");
    // HR's deadline (2 working days) and the mentor's (5) each have their timers.
    let papers_due = inst.task(papers).and_then(|t| t.due).expect("due");
    let guide_due = inst.task(guide).and_then(|t| t.due).expect("due");
    assert!(papers_due < guide_due);
    let kinds: Vec<TimerKind> = h.timers(id).into_iter().map(|(_, k)| k).collect();
    assert!(kinds.contains(&TimerKind::Remind {
        step: "paperwork".into()
    }));
    assert!(kinds.contains(&TimerKind::Due {
        step: "guide".into()
    }));
    // The reminder 4 hours before HR's deadline goes to the HR officers only.
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(papers_due - hours(4)), 1);
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    let mut hr = h.people("hr_officer");
    hr.sort();
    assert_eq!(
        sent[0].to(),
        hr.iter().map(String::as_str).collect::<Vec<_>>()
    );
    // HR finishes; the mentor has not guided yet: the probation application waits.
    let inst = paperwork(&h, id);
    assert_at(&inst, "settle_in");
    assert_eq!(branch(&inst, "paperwork"), (BranchStatus::Finished, None));
    let inst = h.act(id, "guide", WANG, None, json!({}));
    assert_at(&inst, "probation");
    assert!(inst.branches.is_empty());
}

// ---- incidents inside a branch -------------------------------------------------------------

/// A branch that waits an hour, then gives work to the supervisor of `helper`: the
/// general manager (趙國強) has none, so that branch becomes an incident.
const DRILL_WAIT: &str = r#"process drill_wait "並行等待演練" {
  started by cs_center_supervisor
  data {
    helper person "協辦人"
  }
  step fan "分頭處理" {
    parallel {
      branch a "甲線" {
        step a1 "甲協辦" {
          wait 1h
          task for supervisor of helper
          next join
        }
      }
      branch b "乙線" {
        step b1 "乙辦理" {
          task for person zhang_wei
          next join
        }
      }
    }
    next after
  }
  step after "彙總" {
    task for starter
    next done
  }
  end done "完成"
}
"#;

const ADMIN: &str = "jiang_hui";

fn admin(h: &Harness, id: InstanceId, cmd: Command) -> Result<Instance, Rejection> {
    h.engine
        .act(id, cmd, ADMIN, None)
        .map(|o| o.instance)
        .map_err(|e| match e {
            baton_engine::store::StoreError::Rejected(r) => r,
            other => panic!("{other}"),
        })
}

fn stuck_branch(h: &Harness) -> InstanceId {
    let id = h
        .start("drill_wait", json!({"helper": "zhao_guoqiang"}), CHEN)
        .instance
        .id;
    let inst = h.inst(id);
    assert_eq!(
        branch(&inst, "a"),
        (BranchStatus::Running, Some("a1".into()))
    );
    assert!(inst.branches[0].position.waiting);
    assert_eq!(h.fire_at(sh(2026, 3, 2, 10, 0)), 1);
    let inst = h.inst(id);
    assert_eq!(inst.status, baton_engine::core::Status::Incident);
    id
}

#[test]
fn an_incident_in_a_branch_is_retried_in_that_branch() {
    let h = harness();
    let id = stuck_branch(&h);
    // 乙's work waits with the rest of the instance.
    let b1 = task_at(&h.inst(id), "b1");
    assert!(matches!(
        rejection(h.try_complete(b1, ZHANG, None, json!({}))),
        Rejection::Conflict(_)
    ));
    // The admin names a helper who has a supervisor: 甲's wait ends in its branch.
    let inst = admin(
        &h,
        id,
        Command::Retry {
            data: obj(json!({"helper": WANG})),
            attempted: None,
        },
    )
    .expect("retried");
    assert_at(&inst, "fan");
    assert_eq!(inst.status, baton_engine::core::Status::Running);
    let a1 = task_at(&inst, "a1");
    assert_eq!(
        inst.task(a1).map(|t| t.candidates.people.clone()),
        Some(vec![CHEN.to_string()])
    );
    assert!(!inst.branches[0].position.waiting);
    h.complete(b1, ZHANG, None, json!({}));
    let o = h.complete(a1, CHEN, None, json!({}));
    assert_at(&o.instance, "after");
}

#[test]
fn an_admin_moves_an_instance_out_of_its_parallel_step_but_not_into_a_branch() {
    let h = harness();
    let id = stuck_branch(&h);
    let b1 = task_at(&h.inst(id), "b1");
    let r = admin(&h, id, Command::Move { step: "b1".into() });
    assert!(matches!(r, Err(Rejection::Conflict(_))), "{r:?}");
    let inst = admin(
        &h,
        id,
        Command::Move {
            step: "after".into(),
        },
    )
    .expect("moved");
    assert_at(&inst, "after");
    // The branches were withdrawn on the way out, with their tasks and timers.
    assert!(inst.branches.is_empty(), "{:?}", inst.branches);
    assert_eq!(
        h.engine.store.task(b1).expect("b1").state,
        TaskState::Cancelled
    );
    let ev = events(&h, id);
    assert!(ev.contains(&Event::BranchCancelled { branch: "a".into() }));
    assert!(ev.contains(&Event::BranchCancelled { branch: "b".into() }));
    assert_eq!(h.list(CHEN), [task_at(&inst, "after")]);
}

#[test]
fn moving_to_the_parallel_step_runs_its_branches_again() {
    let h = harness();
    let id = stuck_branch(&h);
    let old_b1 = task_at(&h.inst(id), "b1");
    let inst = admin(&h, id, Command::Move { step: "fan".into() }).expect("moved");
    assert_at(&inst, "fan");
    // Two fresh branches, none left over from the first time.
    let names: Vec<(&str, BranchStatus)> = inst
        .branches
        .iter()
        .map(|b| (b.name.as_str(), b.status))
        .collect();
    assert_eq!(
        names,
        [("a", BranchStatus::Running), ("b", BranchStatus::Running)]
    );
    assert_eq!(
        h.engine.store.task(old_b1).expect("old").state,
        TaskState::Cancelled
    );
    let b1 = task_at(&inst, "b1");
    assert_ne!(b1, old_b1);
    // 甲 waits its hour again, from the move.
    assert_eq!(
        h.timers(id),
        [(sh(2026, 3, 2, 11, 0), TimerKind::Wait { step: "a1".into() })]
    );
    h.complete(b1, ZHANG, None, json!({}));
    assert_eq!(branch(&h.inst(id), "b"), (BranchStatus::Finished, None));
}

#[test]
fn a_limit_over_the_parallel_step_leaves_each_branch_its_own_due_time() {
    let h = harness();
    let id = start(&h, "drill_limit");
    let inst = h.inst(id);
    let (a1, b1) = (task_at(&inst, "a1"), task_at(&inst, "b1"));
    let due = |i: &Instance, t: TaskId| i.task(t).and_then(|t| t.due);
    // 甲's own 2 hours come before the limit's 4; 乙 has only the limit.
    assert_eq!(due(&inst, a1), Some(sh(2026, 3, 2, 11, 0)));
    assert_eq!(due(&inst, b1), Some(sh(2026, 3, 2, 13, 0)));
    let inst = admin(
        &h,
        id,
        Command::Extend {
            limit: Some("whole".into()),
            minutes: 60,
            data: obj(json!({})),
        },
    )
    .expect("extended");
    // The limit moved: 乙's task with it, 甲's still by its own step.
    assert_eq!(due(&inst, b1), Some(sh(2026, 3, 2, 14, 0)));
    assert_eq!(due(&inst, a1), Some(sh(2026, 3, 2, 11, 0)));
}

// ---- sign-offs in branches -------------------------------------------------------------

/// Two sign-offs side by side, 王芳 signing in both.
const DRILL_SIGN: &str = r#"process drill_sign "並行會簽演練" {
  started by cs_center_supervisor
  step fan "會簽" {
    parallel {
      branch a "甲會簽" {
        step a_sign "甲簽" {
          sign all of person wang_fang, person zhang_wei
          on refuse -> a_redo
          next join
        }
        step a_redo "甲重擬" {
          task for starter
          next a_sign
        }
      }
      branch b "乙會簽" {
        step b_sign "乙簽" {
          sign all of person wang_fang, person liu_yang
          on refuse -> b_redo
          next join
        }
        step b_redo "乙重擬" {
          task for starter
          next b_sign
        }
      }
    }
    next done
  }
  end done "完成"
}
"#;

/// The open signature task of `person` at `step`.
fn signature_at(inst: &Instance, step: &str, person: &str) -> TaskId {
    inst.active_tasks()
        .find(|t| t.step == step && t.candidates.people == [person])
        .map(|t| t.id)
        .unwrap_or_else(|| panic!("no signature of {person} at {step}: {:#?}", inst.tasks))
}

#[test]
fn each_branch_keeps_its_own_signatures() {
    let h = harness();
    let id = h.start("drill_sign", json!({}), CHEN).instance.id;
    let inst = h.inst(id);
    let (wa, wb) = (
        signature_at(&inst, "a_sign", WANG),
        signature_at(&inst, "b_sign", WANG),
    );
    // 王芳 signs in 甲: her signature counts there only, and she still signs in 乙.
    let o = h.complete(wa, WANG, Some("approve"), json!({}));
    assert!(o.instance.signatures.is_empty(), "the main line has none");
    let a = o
        .instance
        .branches
        .iter()
        .find(|b| b.name == "a")
        .expect("a");
    assert_eq!(a.position.signatures.len(), 1);
    h.complete(wb, WANG, Some("approve"), json!({}));
    // 劉洋 refuses in 乙: 乙 goes back to redo; 甲 is untouched.
    let inst = h.inst(id);
    let o = h.complete(
        signature_at(&inst, "b_sign", LIU),
        LIU,
        Some("refuse"),
        json!({}),
    );
    assert_eq!(
        branch(&o.instance, "b"),
        (BranchStatus::Running, Some("b_redo".into()))
    );
    assert_eq!(
        branch(&o.instance, "a"),
        (BranchStatus::Running, Some("a_sign".into()))
    );
    // 張偉 completes 甲; 乙 signs again from scratch after the redo.
    h.complete(
        signature_at(&o.instance, "a_sign", ZHANG),
        ZHANG,
        Some("approve"),
        json!({}),
    );
    assert_eq!(branch(&h.inst(id), "a"), (BranchStatus::Finished, None));
    let t = task_at(&h.inst(id), "b_redo");
    let inst = h.complete(t, CHEN, None, json!({})).instance;
    let b = inst.branches.iter().find(|b| b.name == "b").expect("b");
    assert!(b.position.signatures.is_empty(), "a new visit signs anew");
    h.complete(
        signature_at(&inst, "b_sign", WANG),
        WANG,
        Some("approve"),
        json!({}),
    );
    let inst = h.inst(id);
    let o = h.complete(
        signature_at(&inst, "b_sign", LIU),
        LIU,
        Some("approve"),
        json!({}),
    );
    assert_ended(&o.instance, "done");
}

#[test]
fn extending_a_branch_deadline_moves_only_that_branch_timers() {
    let h = harness();
    let id = start(&h, "drill_extend");
    let inst = h.inst(id);
    let (a1, b1) = (task_at(&inst, "a1"), task_at(&inst, "b1"));
    let o = h
        .engine
        .act(
            id,
            Command::Extend {
                limit: None,
                minutes: 30,
                data: obj(json!({})),
            },
            WANG,
            None,
        )
        .expect("extended");
    let due = |t: TaskId| o.instance.task(t).and_then(|t| t.due);
    assert_eq!(due(a1), Some(sh(2026, 3, 2, 11, 30)));
    assert_eq!(due(b1), Some(sh(2026, 3, 2, 12, 0)));
    assert_eq!(o.instance.due, None, "the parallel step itself has none");
    let timers = h.timers(id);
    assert!(
        timers.contains(&(sh(2026, 3, 2, 11, 30), TimerKind::Due { step: "a1".into() })),
        "{timers:?}"
    );
    assert!(
        timers.contains(&(
            sh(2026, 3, 2, 11, 0),
            TimerKind::Remind { step: "a1".into() }
        )),
        "{timers:?}"
    );
    // 乙's deadline is as it was.
    assert!(
        timers.contains(&(sh(2026, 3, 2, 12, 0), TimerKind::Due { step: "b1".into() })),
        "{timers:?}"
    );
    assert_eq!(timers.len(), 3, "{timers:?}");
}
