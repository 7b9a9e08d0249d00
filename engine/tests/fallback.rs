//! `x or FALLBACK` at run time: a message shows the fallback for an empty field, and a
//! condition falls back the same way, so a definition the checker passes with
//! optional fields never stops on them.

mod common;

use common::*;
use serde_json::json;

const SOURCE: &str = r#"
process note_taking "記錄" {
  started by agent
  data {
    customer text
    note     text?
    count    integer?
  }
  step first "記錄" {
    notify starter "客戶{customer}，備註：{note or 未填}"
    task for starter
    next many when (count or 0) > 3
    next done
  }
  step many "多次" {
    task for starter
    next done
  }
  end done
}
"#;

#[test]
fn an_empty_field_falls_back_in_messages_and_conditions() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    h.engine
        .store
        .deploy("note_taking.flow", SOURCE, h.now())
        .expect("deploys");

    let empty = h.start("note_taking", json!({"customer": "張三"}), "wang_fang");
    let id = empty.instance.id;
    let texts: Vec<String> = h.sent_by(id).iter().map(|s| s.text().to_string()).collect();
    assert_eq!(texts, ["客戶張三，備註：未填"]);
    // `count` is empty: `(count or 0) > 3` is false, so the instance ends.
    let t = h.task(id, "first");
    let done = h.complete(t.id, "wang_fang", None, json!({}));
    assert_eq!(done.instance.outcome.as_deref(), Some("done"));

    let given = h.start(
        "note_taking",
        json!({"customer": "李四", "note": "已致電", "count": 5}),
        "wang_fang",
    );
    let id = given.instance.id;
    let texts: Vec<String> = h.sent_by(id).iter().map(|s| s.text().to_string()).collect();
    assert_eq!(texts, ["客戶李四，備註：已致電"]);
    let t = h.task(id, "first");
    let on = h.complete(t.id, "wang_fang", None, json!({}));
    assert_eq!(on.instance.step.as_deref(), Some("many"));
}
