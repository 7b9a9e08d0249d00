//! Commands that run in one batch: each is applied against the changes of those
//! before it, a refused one changes nothing, and the rest keep their changes. Also
//! many callers at once, racing for the same tasks.

mod common;

use baton_engine::core::{Command, Rejection, TaskState};
use baton_engine::store::{Request, StoreError};
use common::*;
use serde_json::json;
use std::sync::Barrier;

const AGENT: &str = "wang_fang";

fn complaint(h: &Harness) -> u64 {
    h.start(
        "complaint",
        json!({"customer": "張三", "contact": "13800000000", "channel": "hotline"}),
        AGENT,
    )
    .instance
    .id
}

fn request(h: &Harness, target: Option<u64>, command: Command, actor: &str) -> Request {
    Request {
        target,
        command,
        actor: actor.to_string(),
        now: h.now(),
        idempotency_key: None,
    }
}

fn accept(task: baton_engine::core::TaskId) -> Command {
    Command::Complete {
        task,
        choice: None,
        data: obj(json!({"summary": "導遊遲到兩小時"})),
    }
}

#[test]
fn a_refused_command_in_a_batch_changes_nothing_and_the_others_keep_theirs() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let (a, b, c) = (complaint(&h), complaint(&h), complaint(&h));
    let (ta, tb, tc) = (
        h.task(a, "accept").id,
        h.task(b, "accept").id,
        h.task(c, "accept").id,
    );
    let history_b = h.history(b).len();
    let results = h.engine.store.execute_many(vec![
        request(&h, Some(a), accept(ta), AGENT),
        // The same task again, in the same batch: it sees the first completion.
        request(&h, Some(a), accept(ta), AGENT),
        // Missing required data.
        request(
            &h,
            None,
            Command::Start {
                process: "complaint".into(),
                data: obj(json!({"customer": "李四"})),
            },
            AGENT,
        ),
        // Not a candidate of the task.
        request(&h, Some(b), accept(tb), "zhang_wei"),
        request(&h, Some(c), accept(tc), AGENT),
    ]);
    assert_eq!(results.len(), 5);
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(matches!(
        results[1],
        Err(StoreError::Rejected(Rejection::Conflict(_)))
    ));
    assert!(matches!(
        results[2],
        Err(StoreError::Rejected(Rejection::Invalid(_)))
    ));
    assert!(matches!(
        results[3],
        Err(StoreError::Rejected(Rejection::Forbidden(_)))
    ));
    assert!(results[4].is_ok(), "{:?}", results[4]);

    assert_eq!(h.inst(a).step.as_deref(), Some("explain"));
    assert_eq!(h.inst(c).step.as_deref(), Some("explain"));
    assert_eq!(h.inst(b).step.as_deref(), Some("accept"));
    assert_eq!(h.history(b).len(), history_b);
    // The finished tasks left their instances and are still found, completed.
    assert_eq!(
        h.engine.store.task(ta).expect("task").state,
        TaskState::Completed
    );
    assert_eq!(
        h.engine.store.verify().expect("verify"),
        Vec::<String>::new()
    );
}

#[test]
fn many_callers_racing_for_the_same_tasks_get_one_success_each() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let ids: Vec<u64> = (0..8).map(|_| complaint(&h)).collect();
    let tasks: Vec<_> = ids.iter().map(|id| h.task(*id, "accept").id).collect();
    let callers = 16;
    let barrier = Barrier::new(callers);
    let wins: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..callers)
            .map(|_| {
                let (h, ids, tasks, barrier) = (&h, &ids, &tasks, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let mut wins = 0;
                    for (id, task) in ids.iter().zip(tasks) {
                        match h.engine.store.execute(
                            Some(*id),
                            &accept(*task),
                            AGENT,
                            h.now(),
                            None,
                        ) {
                            Ok(_) => wins += 1,
                            Err(StoreError::Rejected(Rejection::Conflict(_))) => {}
                            Err(e) => panic!("unexpected: {e}"),
                        }
                    }
                    wins
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|t| t.join().expect("caller"))
            .collect()
    });
    // Every task was completed exactly once, by one of the callers.
    assert_eq!(wins.iter().sum::<usize>(), tasks.len());
    for id in &ids {
        assert_eq!(h.inst(*id).step.as_deref(), Some("explain"));
        let completions = h
            .history(*id)
            .iter()
            .filter(|r| matches!(r.event, baton_engine::core::Event::TaskCompleted { .. }))
            .count();
        assert_eq!(completions, 1);
    }
    assert_eq!(
        h.engine.store.verify().expect("verify"),
        Vec::<String>::new()
    );
}
