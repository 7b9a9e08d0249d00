//! Walkthroughs of a list filled on a form and fanned out: the weekly hot-issue
//! meeting's action items, each its owner's task with its own due time and
//! reminders, with none, with several, and with elements that are wrong.

mod common;

use baton_dsl::eval::Value;
use baton_engine::core::{InstanceId, MessageKind, Rejection, TaskId, TimerKind, SYSTEM};
use common::*;
use serde_json::json;

const SUPERVISOR: &str = "chen_jing";

/// Start this week's meeting on Friday 2026-03-06 at 15:00 and hold it with these
/// action items; then write the Sunday summary.
fn meeting_with(h: &Harness, items: serde_json::Value) -> InstanceId {
    let id = h.start("weekly_hotspots", json!({}), SYSTEM).instance.id;
    h.act(
        id,
        "meeting",
        SUPERVISOR,
        None,
        json!({"hotspots": "退款時效", "measures": "退款加急通道", "action_items": items}),
    );
    h.act(
        id,
        "summary",
        SUPERVISOR,
        None,
        json!({"summary": "本週投訴下降10%"}),
    );
    id
}

fn follow_up_tasks(h: &Harness, id: InstanceId) -> usize {
    h.history(id)
        .iter()
        .filter(|r| {
            matches!(&r.event, baton_engine::core::Event::TaskCreated { task } if task.step == "follow_up")
        })
        .count()
}

#[test]
fn a_meeting_without_action_items_ends_when_the_summary_is_sent() {
    let h = Harness::at(sh(2026, 3, 6, 15, 0));
    let id = meeting_with(&h, json!([]));
    let inst = h.inst(id);
    assert_ended(&inst, "done");
    assert_eq!(inst.data.get("action_items"), Some(&Value::List(vec![])));
    assert_eq!(follow_up_tasks(&h, id), 0);
    assert!(h.timers(id).is_empty());

    // Left out of the form, the list is empty too: a meeting may assign nothing.
    let id = h.start("weekly_hotspots", json!({}), SYSTEM).instance.id;
    h.act(
        id,
        "meeting",
        SUPERVISOR,
        None,
        json!({"hotspots": "退款時效", "measures": "退款加急通道"}),
    );
    let inst = h.act(id, "summary", SUPERVISOR, None, json!({"summary": "無"}));
    assert_ended(&inst, "done");
    assert_eq!(inst.data.get("action_items"), Some(&Value::List(vec![])));
}

#[test]
fn each_action_item_is_its_owners_task_with_its_own_due_time_and_reminders() {
    let h = Harness::at(sh(2026, 3, 6, 15, 0));
    let id = meeting_with(
        &h,
        json!([
            {"item": "退款加急通道上線", "owner": "wang_fang", "deadline": "2026-03-10"},
            {"item": "培訓新話術", "owner": "zhang_wei", "deadline": "2026-03-12"},
            {"item": "客戶預警名單", "owner": "liu_yang", "deadline": "2026-03-09"},
        ]),
    );
    let inst = h.inst(id);
    assert_at(&inst, "follow_up");
    let tasks: Vec<_> = inst.active_tasks().cloned().collect();
    assert_eq!(tasks.len(), 3);
    let owners: Vec<&str> = tasks
        .iter()
        .map(|t| t.candidates.people[0].as_str())
        .collect();
    assert_eq!(owners, ["wang_fang", "zhang_wei", "liu_yang"]);
    assert!(tasks.iter().all(|t| t.candidates.roles.is_empty()));
    // Each is due on its own day at 18:00, and titled by its item.
    let dues: Vec<_> = tasks.iter().map(|t| t.due).collect();
    assert_eq!(
        dues,
        [
            Some(sh(2026, 3, 10, 18, 0)),
            Some(sh(2026, 3, 12, 18, 0)),
            Some(sh(2026, 3, 9, 18, 0))
        ]
    );
    assert_eq!(tasks[0].title, "落實行動項：退款加急通道上線");
    assert_eq!(h.list("wang_fang"), [tasks[0].id]);
    assert_eq!(h.list("liu_yang"), [tasks[2].id]);
    // A due time, a reminder the day before and a repeating one after, per item.
    let timers = h.timers(id);
    assert_eq!(timers.len(), 9);
    assert!(timers
        .iter()
        .all(|(_, k)| matches!(k, TimerKind::ElementTimer { step, .. } if step == "follow_up")));

    // The day before the earliest deadline, its owner is reminded.
    let mark = h.outbox_mark();
    assert_eq!(h.fire_at(sh(2026, 3, 8, 18, 0)), 1);
    let sent = h.outbox_after(mark);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind(), MessageKind::Reminder);
    assert_eq!(sent[0].to(), ["liu_yang"]);
    assert!(
        sent[0].text().contains("客戶預警名單"),
        "{}",
        sent[0].text()
    );

    // Someone else's item is not theirs to complete.
    assert!(matches!(
        rejection(h.try_complete(tasks[2].id, "wang_fang", None, json!({}))),
        Rejection::Forbidden(_)
    ));
    // Done in time: its due time and reminders go, the others' stay.
    h.fire_at(sh(2026, 3, 9, 10, 0));
    let inst = h
        .complete(tasks[2].id, "liu_yang", None, json!({}))
        .instance;
    assert_at(&inst, "follow_up");
    assert_eq!(inst.active_tasks().count(), 2);
    let task_of = |k: &TimerKind| match k {
        TimerKind::ElementTimer { task, .. } => *task,
        _ => u32::MAX,
    };
    let left = h.timers(id);
    assert_eq!(left.len(), 6);
    assert!(left.iter().all(|(_, k)| task_of(k) != tasks[2].id.n));

    // Past its deadline, an item's owner hears it is overdue, and then every
    // working day in the definition's own words, until it is done.
    let mark = h.outbox_mark();
    h.fire_at(sh(2026, 3, 10, 18, 0));
    let sent = h.outbox_after(mark);
    let kinds: Vec<MessageKind> = sent.iter().map(|s| s.kind()).collect();
    assert_eq!(kinds, [MessageKind::Reminder, MessageKind::Overdue]);
    assert!(sent.iter().all(|s| s.to() == ["wang_fang"]));
    let (next, _) = h
        .timers(id)
        .into_iter()
        .find(|(_, k)| {
            task_of(k) == tasks[0].id.n
                && matches!(
                    k,
                    TimerKind::ElementTimer {
                        every_minutes: Some(_),
                        ..
                    }
                )
        })
        .expect("a repeating reminder");
    assert!(next > sh(2026, 3, 10, 18, 0));
    let mark = h.outbox_mark();
    h.fire_at(next);
    // (The next item's reminder the day before may come at the same time.)
    let sent: Vec<Sent> = h
        .outbox_after(mark)
        .into_iter()
        .filter(|s| s.to() == ["wang_fang"])
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].text(),
        "行動項「退款加急通道上線」已逾期，請盡快完成"
    );
    assert!(h
        .timers(id)
        .iter()
        .any(|(at, k)| task_of(k) == tasks[0].id.n && *at > next));

    // The step waits for the last item.
    let inst = h
        .complete(tasks[0].id, "wang_fang", None, json!({}))
        .instance;
    assert_at(&inst, "follow_up");
    let inst = h
        .complete(tasks[1].id, "zhang_wei", None, json!({}))
        .instance;
    assert_ended(&inst, "done");
    assert!(h.timers(id).is_empty());
    assert_eq!(follow_up_tasks(&h, id), 3);
}

#[test]
fn wrong_elements_are_each_named_by_their_place_and_nothing_changes() {
    let h = Harness::at(sh(2026, 3, 6, 15, 0));
    let id = h.start("weekly_hotspots", json!({}), SYSTEM).instance.id;
    let meeting: TaskId = h.task(id, "meeting").id;
    let rej = rejection(h.try_complete(
        meeting,
        SUPERVISOR,
        None,
        json!({
            "hotspots": "退款時效",
            "measures": "退款加急通道",
            "action_items": [
                {"item": "上線", "owner": "nobody", "deadline": "2026-03-10"},
                {"item": "培訓", "deadline": "3月10日"},
                "not an element",
                {"item": "名單", "owner": "wang_fang", "deadline": "2026-03-10", "note": "x"},
            ]
        }),
    ));
    let errors = field_errors(rej);
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "action_items[0].owner",
            "action_items[1].deadline",
            "action_items[1].owner",
            "action_items[2]",
            "action_items[3].note",
        ]
    );
    assert_eq!(errors[0].1, "no person `nobody` in the staff directory");
    assert_eq!(errors[2].1, "missing required field");
    // Nothing was written: the meeting is still to be held.
    let inst = h.inst(id);
    assert_at(&inst, "meeting");
    assert!(!inst.data.contains_key("action_items"));
    // Something that is not a list at all.
    let errors = field_errors(rejection(h.try_complete(
        meeting,
        SUPERVISOR,
        None,
        json!({"hotspots": "a", "measures": "b", "action_items": "上線"}),
    )));
    assert_eq!(
        errors,
        [(
            "action_items".to_string(),
            "expected a list of elements".to_string()
        )]
    );
}

#[test]
fn a_thousand_action_items_are_a_thousand_tasks_each_its_owners() {
    let h = Harness::at(sh(2026, 3, 6, 15, 0));
    let owners = ["wang_fang", "zhang_wei", "liu_yang", "huang_min"];
    let items: Vec<serde_json::Value> = (0..1000)
        .map(|i| {
            json!({
                "item": format!("事項{i}"),
                "owner": owners[i % owners.len()],
                "deadline": "2026-03-20",
            })
        })
        .collect();
    let id = meeting_with(&h, serde_json::Value::Array(items));
    let inst = h.inst(id);
    assert_at(&inst, "follow_up");
    let tasks: Vec<_> = inst.active_tasks().cloned().collect();
    assert_eq!(tasks.len(), 1000);
    assert_eq!(tasks[999].title, "落實行動項：事項999");
    assert_eq!(tasks[999].candidates.people, ["huang_min"]);
    assert_eq!(h.list("wang_fang").len(), 250);
    // A due time, a reminder before and a repeating one after, for each.
    assert_eq!(h.timers(id).len(), 3000);
    // One done: the other 999 wait, with their timers.
    let inst = h
        .complete(tasks[0].id, "wang_fang", None, json!({}))
        .instance;
    assert_at(&inst, "follow_up");
    assert_eq!(inst.active_tasks().count(), 999);
    assert_eq!(h.timers(id).len(), 2997);
}
