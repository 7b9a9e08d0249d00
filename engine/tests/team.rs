//! Handing a task on along the org chart: whoever leads the person holding it (their
//! supervisor, the supervisor's supervisor, the head of their department) may, and,
//! for a task nobody has claimed, whoever leads someone it is offered to; nobody else.

mod common;

use baton_engine::core::{Command, Rejection};
use common::*;
use serde_json::json;

fn complaint(h: &Harness, by: &str) -> baton_engine::core::InstanceId {
    h.start(
        "complaint",
        json!({"customer": "張三", "contact": "138", "channel": "app"}),
        by,
    )
    .instance
    .id
}

fn reassign(
    h: &Harness,
    id: baton_engine::core::InstanceId,
    by: &str,
    to: &str,
) -> Result<baton_engine::store::Outcome, baton_engine::store::StoreError> {
    let task = h.task(id, "accept").id;
    let cmd = Command::Reassign {
        task,
        to: to.to_string(),
    };
    h.engine.act(id, cmd, by, None)
}

#[test]
fn those_who_lead_the_holder_hand_a_task_on_and_nobody_else() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    // 劉洋 (a scenic agent) under 林濤, under 李明, head of 客服部, under 趙國強.
    for lead in ["lin_tao", "li_ming", "zhao_guoqiang"] {
        let id = complaint(&h, "liu_yang");
        // Not claimed: offered to 劉洋 (the starter).
        reassign(&h, id, lead, "huang_min").unwrap_or_else(|e| panic!("{lead}: {e}"));
        assert_eq!(h.task(id, "accept").candidates.people, ["huang_min"]);
        // Claimed by 劉洋: the same people lead her.
        let id = complaint(&h, "liu_yang");
        let task = h.task(id, "accept").id;
        h.engine.claim(task, "liu_yang").expect("claim");
        reassign(&h, id, lead, "huang_min").unwrap_or_else(|e| panic!("{lead}: {e}"));
    }
    // 陳靜 leads the hotline agents, not 劉洋; 孫莉 heads another department; 黃敏 is
    // a colleague.
    for other in ["chen_jing", "sun_li", "huang_min"] {
        let id = complaint(&h, "liu_yang");
        match rejection(reassign(&h, id, other, "huang_min")) {
            Rejection::Forbidden(m) => assert!(m.contains("leads"), "{m}"),
            e => panic!("{other}: {e:?}"),
        }
    }
}

/// Who may read an instance is decided from an index of who takes part, not from its
/// history: a person who had a task of it long ago is still found, the index grows
/// with the people and roles involved, not with the history, and `verify` agrees
/// with the history.
#[test]
fn taking_part_is_indexed_once_per_person_whatever_the_history() {
    use baton_engine::team::Party;
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    let id = complaint(&h, "liu_yang");
    reassign(&h, id, "lin_tao", "huang_min").expect("handed on");
    let task = h.task(id, "accept").id;
    h.engine.claim(task, "huang_min").expect("claim");
    h.complete(task, "huang_min", None, json!({"summary": "排隊太久"}));
    let before = h.engine.store.participants(id).expect("participants");
    for i in 0..300 {
        let cmd = Command::Comment {
            text: format!("第 {i} 次跟進"),
        };
        h.engine.act(id, cmd, "liu_yang", None).expect("comment");
    }
    assert!(h.history(id).len() > 300);
    let (people, roles) = h.engine.store.participants(id).expect("participants");
    assert_eq!((people.clone(), roles.clone()), before);
    // Besides 劉洋, who started it (the instance names her).
    assert_eq!(people, ["huang_min", "lin_tao"]);
    assert!(roles.is_empty(), "{roles:?}");
    let dir = h.engine.store.directory();
    let inst = h.inst(id);
    // 黃敏's task is finished and gone from the instance: the index still has her.
    assert!(inst
        .tasks
        .iter()
        .all(|t| t.completed_by.as_deref() != Some("huang_min")));
    for (who, sees) in [("huang_min", true), ("lin_tao", true), ("zhang_wei", false)] {
        let party = Party::person(&dir, who);
        assert_eq!(
            h.engine.store.takes_part(&party, &inst).expect("asked"),
            sees,
            "{who}"
        );
    }
    assert_eq!(
        h.engine.store.verify().expect("verify"),
        Vec::<String>::new()
    );
}
