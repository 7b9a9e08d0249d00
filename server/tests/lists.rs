//! A list field over HTTP: sent as a JSON array of objects, each bad element field
//! a 422 error of its own named by its place (`action_items[1].owner`), and a good
//! list stored and fanned out to its owners' tasks.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn a_list_is_an_array_and_each_bad_element_field_is_named_by_its_place() {
    let api = Api::at(sh(2026, 3, 6, 15, 0));
    // The calendar starts the weekly meeting; an admin may start it by hand.
    let a = api
        .post(
            "/instances",
            ADMIN,
            json!({"process": "weekly_hotspots", "data": {}}),
        )
        .await;
    assert_eq!(a.status.as_u16(), 201, "{}", a.text);
    let id = a.json()["instance"]["id"].as_u64().expect("id");
    let task = api.open_task(id);
    let complete = format!("/tasks/{task}/complete");

    let p = api
        .post(
            &complete,
            "chen_jing",
            json!({"data": {
                "hotspots": "退款時效",
                "measures": "退款加急通道",
                "action_items": [
                    {"item": "上線", "owner": "wang_fang", "deadline": "2026-03-10"},
                    {"item": "培訓", "owner": "nobody", "deadline": "2026-03-10"},
                    {"item": 7, "owner": "zhang_wei"},
                ]
            }}),
        )
        .await
        .problem(422);
    assert_eq!(p["type"], "urn:baton:problem:invalid-data");
    let mut fields: Vec<&str> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "action_items[1].owner",
            "action_items[2].deadline",
            "action_items[2].item"
        ],
        "{p}"
    );
    assert_eq!(api.open_task(id), task, "nothing changed");

    let a = api
        .post(
            &complete,
            "chen_jing",
            json!({"data": {
                "hotspots": "退款時效",
                "measures": "退款加急通道",
                "action_items": [
                    {"item": "上線", "owner": "wang_fang", "deadline": "2026-03-10"},
                    {"item": "培訓", "owner": "zhang_wei", "deadline": "2026-03-11"},
                ]
            }}),
        )
        .await;
    assert_eq!(a.status.as_u16(), 200, "{}", a.text);
    let summary = api.open_task(id);
    let a = api
        .post(
            &format!("/tasks/{summary}/complete"),
            "chen_jing",
            json!({"data": {"summary": "本週投訴下降10%"}}),
        )
        .await;
    assert_eq!(a.status.as_u16(), 200, "{}", a.text);
    let inst = api.engine.store.instance(id).expect("instance");
    assert_eq!(inst.step.as_deref(), Some("follow_up"));
    let owners: Vec<&str> = inst
        .active_tasks()
        .map(|t| t.candidates.people[0].as_str())
        .collect();
    assert_eq!(owners, ["wang_fang", "zhang_wei"]);
    // The stored list comes back in the answer, as the API writes values.
    let got = api.get(&format!("/instances/{id}"), "chen_jing").await.ok();
    let items = &got["data"]["action_items"];
    assert_eq!(
        items["List"][1]["owner"],
        json!({"Person": "zhang_wei"}),
        "{got}"
    );
}
