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
