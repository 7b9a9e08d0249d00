//! Input values: local times read in the company's zone, the tagged shape the API
//! answers with read back, and one plain JSON shape per type (no numbers as text,
//! no text as numbers).

mod common;

use baton_dsl::eval::Value;
use common::*;
use serde_json::json;

fn coordination(h: &Harness, needed_by: serde_json::Value) -> Result<Value, Vec<(String, String)>> {
    match h.try_start(
        "coordination",
        json!({"partner": "hr", "request": "培訓場地", "needed_by": needed_by}),
        "wang_fang",
    ) {
        Ok(o) => Ok(o.instance.data["needed_by"].clone()),
        Err(e) => Err(field_errors(match e {
            baton_engine::store::StoreError::Rejected(r) => r,
            other => panic!("{other}"),
        })),
    }
}

#[test]
fn local_times_are_read_in_the_company_zone() {
    // 2026-03-02 09:00 in Shanghai (the harness's zone) is 01:00 UTC.
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let at = |y, mo, d, hh, mi| Ok(Value::DateTime(sh(y, mo, d, hh, mi)));
    assert_eq!(
        coordination(&h, json!("2026-12-05 18:00")),
        at(2026, 12, 5, 18, 0)
    );
    assert_eq!(
        coordination(&h, json!("2026-12-05T18:00")),
        at(2026, 12, 5, 18, 0)
    );
    // A time alone is today's.
    assert_eq!(coordination(&h, json!("18:00")), at(2026, 3, 2, 18, 0));
    // As times are shown, and RFC 3339 with any offset.
    assert_eq!(
        coordination(&h, json!("2026-12-05 18:00 +08:00")),
        at(2026, 12, 5, 18, 0)
    );
    assert_eq!(
        coordination(&h, json!("2026-12-05T10:00:00Z")),
        at(2026, 12, 5, 18, 0)
    );
    // The shape answers have.
    assert_eq!(
        coordination(&h, json!({"DateTime": "2026-12-05T18:00:00+08:00"})),
        at(2026, 12, 5, 18, 0)
    );
    let refused = coordination(&h, json!("tomorrow")).expect_err("not a time");
    assert_eq!(refused[0].0, "needed_by");
    assert!(refused[0].1.contains("Asia/Shanghai"), "{refused:?}");
}

#[test]
fn one_shape_per_type_and_the_tagged_shape_of_answers() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let start = |data| {
        h.try_start("complaint", data, "wang_fang")
            .map(|o| o.instance.data)
            .map_err(|e| match e {
                baton_engine::store::StoreError::Rejected(r) => field_errors(r),
                other => panic!("{other}"),
            })
    };
    // An answer's values sent back as they are.
    let data = start(json!({
        "customer": {"Text": "張三"},
        "contact": "138",
        "channel": {"Choice": "app"},
        "customer_consents": {"Bool": true},
    }))
    .expect("tagged values are taken");
    assert_eq!(data["channel"], Value::Choice("app".into()));
    assert_eq!(data["customer_consents"], Value::Bool(true));
    // A number for a text field, a text for true/false, a tag of another type.
    let refused = start(json!({
        "customer": 1e23,
        "contact": "138",
        "channel": {"Text": "app"},
        "customer_consents": "true",
    }))
    .expect_err("refused");
    assert_eq!(
        refused,
        [
            (
                "channel".to_string(),
                "expected a choice or {\"Choice\": ...}, found an object".to_string()
            ),
            (
                "customer".to_string(),
                "expected text, found the number 1e+23".to_string()
            ),
            (
                "customer_consents".to_string(),
                "expected true or false, found \"true\"".to_string()
            ),
        ]
    );
}
