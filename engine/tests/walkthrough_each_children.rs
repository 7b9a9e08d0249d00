//! Walkthroughs of a child process per element: a joint promotion whose partner
//! departments each prepare their part in a process of their own, on the manual
//! clock. All children end (at different ends); one element's child cannot start
//! (an incident, and a retry with corrected data); no partners at all; a child an
//! admin cancels.

mod common;

use baton_engine::core::{Command, Event, Instance, InstanceId, Rejection, Status};
use common::*;
use serde_json::json;

const ADMIN: &str = "jiang_hui";

const LAUNCH: &str = r#"process launch "聯合推廣" {
  started by cs_center_supervisor
  data {
    topic    text "活動"
    partners list 0..5 of {
      department department     "協作部門"
      budget     0..1000000     "預算"
    }
  }
  step confirm "確認方案" {
    task for starter
    next prepare
  }
  step prepare "各部門準備" {
    for each p in partners
    start prep with topic = topic, department = p.department, budget = p.budget and wait
    next review
  }
  step review "彙總" {
    task for starter
    next done
  }
  end done "完成"
}
"#;

const PREP: &str = r#"process prep "部門準備" {
  data {
    topic      text
    department department
    budget     0..1000000
  }
  require budget <= 100000 "單個部門預算不得超過十萬"
  step work "準備：{topic}" {
    task for head of department
    choose {
      ready   "已就緒" -> ready
      dropped "退出"   -> dropped
    }
  }
  end ready "就緒"
  end dropped "退出"
}
"#;

/// The company's processes, the launch and the part each partner prepares.
fn harness() -> Harness {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("launch.flow"), LAUNCH).expect("write");
    std::fs::write(dir.path().join("prep.flow"), PREP).expect("write");
    // The same launch that does not wait for the partners.
    let no_wait = LAUNCH
        .replace("process launch ", "process launch_now ")
        .replace(" and wait\n", "\n");
    std::fs::write(dir.path().join("launch_now.flow"), no_wait).expect("write");
    for r in h.engine.deploy_definitions(dir.path()).expect("deploy") {
        r.result.unwrap_or_else(|e| panic!("{}: {e}", r.file));
    }
    h
}

/// A launch by 陳靜 with these partners (department, budget), confirmed.
fn launch(h: &Harness, partners: &[(&str, u32)]) -> Instance {
    let partners: Vec<serde_json::Value> = partners
        .iter()
        .map(|(d, b)| json!({"department": d, "budget": b}))
        .collect();
    let id = h
        .start(
            "launch",
            json!({"topic": "暑期聯合推廣", "partners": partners}),
            "chen_jing",
        )
        .instance
        .id;
    h.act(id, "confirm", "chen_jing", None, json!({}))
}

/// The running children of `parent`, oldest first.
fn children(h: &Harness, parent: InstanceId) -> Vec<Instance> {
    let mut out: Vec<Instance> = h
        .instances("prep", "running")
        .into_iter()
        .filter(|i| i.parent == Some(parent))
        .collect();
    out.sort_by_key(|i| i.id);
    out
}

fn admin(h: &Harness, id: InstanceId, cmd: Command) -> Result<Instance, Rejection> {
    h.engine
        .act(id, cmd, ADMIN, None)
        .map(|o| o.instance)
        .map_err(|e| match e {
            baton_engine::store::StoreError::Rejected(r) => r,
            other => panic!("{other}"),
        })
}

#[test]
fn each_partner_prepares_in_a_child_and_the_launch_goes_on_when_all_have_ended() {
    let h = harness();
    let inst = launch(
        &h,
        &[("product", 50_000), ("channel", 80_000), ("technology", 0)],
    );
    assert_at(&inst, "prepare");
    assert!(inst.awaiting_child);
    assert_eq!(inst.children_awaited, 3);
    // One child per partner, each given its element's values and the launch's own.
    let kids = children(&h, inst.id);
    assert_eq!(kids.len(), 3);
    let given: Vec<(String, String)> = kids
        .iter()
        .map(|k| {
            (
                k.data
                    .get("department")
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                k.data
                    .get("budget")
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        given,
        [
            ("product".to_string(), "50000".to_string()),
            ("channel".to_string(), "80000".to_string()),
            ("technology".to_string(), "0".to_string()),
        ]
    );
    assert!(kids
        .iter()
        .all(|k| k.data.get("topic").map(|v| v.to_string()) == Some("暑期聯合推廣".into())));
    // Each child's task is its department head's.
    assert_eq!(h.list("wu_hao").len(), 1);

    // The children end one by one, at different ends; the launch waits for the last.
    h.act(kids[0].id, "work", "zhou_jie", Some("ready"), json!({}));
    let inst = h.inst(inst.id);
    assert_at(&inst, "prepare");
    assert_eq!(inst.children_awaited, 2);
    h.act(kids[2].id, "work", "zheng_kai", Some("dropped"), json!({}));
    assert_at(&h.inst(inst.id), "prepare");
    h.act(kids[1].id, "work", "wu_hao", Some("ready"), json!({}));
    let inst = h.inst(inst.id);
    assert_at(&inst, "review");
    assert!(!inst.awaiting_child);
    assert_eq!(inst.children_awaited, 0);
    let mut ended = inst.children.clone();
    ended.sort();
    assert_eq!(ended, kids.iter().map(|k| k.id).collect::<Vec<_>>());
}

#[test]
fn a_child_that_cannot_start_makes_the_launch_an_incident_and_starts_none() {
    let h = harness();
    let inst = launch(&h, &[("product", 50_000), ("channel", 200_000)]);
    // The second partner's budget is over what `prep` accepts: nobody's part
    // starts, and the launch waits for an admin, its confirmation kept.
    assert_eq!(inst.status, Status::Incident);
    assert!(children(&h, inst.id).is_empty());
    assert!(h.instances("prep", "running").is_empty());
    let reason = h
        .history(inst.id)
        .into_iter()
        .find_map(|r| match r.event {
            Event::IncidentRaised { reason, .. } => Some(reason),
            _ => None,
        })
        .expect("an incident");
    assert!(reason.contains("element 2 of `partners`"), "{reason}");
    assert!(reason.contains("單個部門預算不得超過十萬"), "{reason}");

    // A retry as it is is refused again, and changes nothing.
    let retry = |data: serde_json::Value| Command::Retry {
        data: obj(data),
        attempted: None,
    };
    assert!(admin(&h, inst.id, retry(json!({}))).is_err());
    assert_eq!(h.inst(inst.id).status, Status::Incident);
    // With the budget corrected, both children start.
    let corrected = json!({"partners": [
        {"department": "product", "budget": 50_000},
        {"department": "channel", "budget": 100_000},
    ]});
    let inst = admin(&h, inst.id, retry(corrected)).expect("retried");
    assert_eq!(inst.status, Status::Running);
    assert_at(&inst, "prepare");
    let kids = children(&h, inst.id);
    assert_eq!(kids.len(), 2);
    for (k, head) in kids.iter().zip(["zhou_jie", "wu_hao"]) {
        h.act(k.id, "work", head, Some("ready"), json!({}));
    }
    assert_at(&h.inst(inst.id), "review");
}

#[test]
fn a_launch_without_partners_starts_no_child_and_goes_on_at_once() {
    let h = harness();
    let inst = launch(&h, &[]);
    assert_at(&inst, "review");
    assert!(!inst.awaiting_child);
    assert!(h.instances("prep", "running").is_empty());
    assert!(!h
        .history(inst.id)
        .iter()
        .any(|r| matches!(r.event, Event::ChildStarted { .. })));
}

#[test]
fn a_child_an_admin_cancels_counts_as_ended() {
    let h = harness();
    let inst = launch(&h, &[("product", 1), ("channel", 2)]);
    let kids = children(&h, inst.id);
    admin(
        &h,
        kids[0].id,
        Command::Cancel {
            reason: "部門不參加".into(),
        },
    )
    .expect("cancelled");
    assert_at(&h.inst(inst.id), "prepare");
    h.act(kids[1].id, "work", "wu_hao", Some("ready"), json!({}));
    let inst = h.inst(inst.id);
    assert_at(&inst, "review");
    let outcomes: Vec<String> = h
        .history(inst.id)
        .into_iter()
        .filter_map(|r| match r.event {
            Event::ChildFinished { outcome, .. } => Some(outcome),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes, ["cancelled", "ready"]);
}

#[test]
fn without_and_wait_the_children_start_and_the_launch_goes_on_at_once() {
    let h = harness();
    let id = h
        .start(
            "launch_now",
            json!({"topic": "暑期聯合推廣", "partners": [
                {"department": "product", "budget": 1},
                {"department": "channel", "budget": 2},
            ]}),
            "chen_jing",
        )
        .instance
        .id;
    let inst = h.act(id, "confirm", "chen_jing", None, json!({}));
    assert_at(&inst, "review");
    assert!(!inst.awaiting_child);
    assert_eq!(inst.children_awaited, 0);
    let kids = children(&h, id);
    assert_eq!(kids.len(), 2);
    // A child that ends later changes nothing for the launch.
    h.act(kids[0].id, "work", "zhou_jie", Some("ready"), json!({}));
    assert_at(&h.inst(id), "review");
}
