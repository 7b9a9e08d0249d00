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

#[test]
fn async_tasks_and_threads_racing_together_get_one_success_each() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let ids: Vec<u64> = (0..8).map(|_| complaint(&h)).collect();
    let tasks: Vec<_> = ids.iter().map(|id| h.task(*id, "accept").id).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let store = h.engine.store.clone();
    let now = h.now();
    // Eight async callers on two runtime workers, none of which may block...
    let tasks_won = runtime.spawn({
        let (ids, tasks) = (ids.clone(), tasks.clone());
        async move {
            let callers = (0..8).map(|_| {
                let (store, ids, tasks) = (store.clone(), ids.clone(), tasks.clone());
                tokio::spawn(async move {
                    let mut wins = 0;
                    for (id, task) in ids.iter().zip(&tasks) {
                        match store
                            .execute_async(Some(*id), &accept(*task), AGENT, now, None)
                            .await
                        {
                            Ok(_) => wins += 1,
                            Err(StoreError::Rejected(Rejection::Conflict(_))) => {}
                            Err(e) => panic!("unexpected: {e}"),
                        }
                    }
                    wins
                })
            });
            let mut wins = 0;
            for c in callers.collect::<Vec<_>>() {
                wins += c.await.expect("caller");
            }
            wins
        }
    });
    // ...while eight threads race them for the same tasks.
    let thread_wins: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (h, ids, tasks) = (&h, &ids, &tasks);
                s.spawn(move || {
                    let mut wins = 0;
                    for (id, task) in ids.iter().zip(tasks) {
                        match h
                            .engine
                            .store
                            .execute(Some(*id), &accept(*task), AGENT, now, None)
                        {
                            Ok(_) => wins += 1,
                            Err(StoreError::Rejected(Rejection::Conflict(_))) => {}
                            Err(e) => panic!("unexpected: {e}"),
                        }
                    }
                    wins
                })
            })
            .collect();
        handles.into_iter().map(|t| t.join().expect("caller")).sum()
    });
    let async_wins = runtime.block_on(tasks_won).expect("async callers");
    assert_eq!(async_wins + thread_wins, tasks.len());
    for id in &ids {
        let completions = h
            .history(*id)
            .iter()
            .filter(|r| matches!(r.event, baton_engine::core::Event::TaskCompleted { .. }))
            .count();
        assert_eq!(completions, 1);
    }
    // An async caller's command is as durable as any: the database opened again
    // (once the helper threads have let go of it) has every completion.
    drop(runtime);
    let h = h.reopen();
    for id in &ids {
        assert_eq!(h.inst(*id).step.as_deref(), Some("explain"));
    }
    assert_eq!(
        h.engine.store.verify().expect("verify"),
        Vec::<String>::new()
    );
}

#[test]
fn an_async_caller_gets_its_refusal_and_changes_nothing() {
    let h = Harness::at(sh(2026, 3, 2, 9, 0));
    let id = complaint(&h);
    let task = h.task(id, "accept").id;
    let before = h.history(id).len();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let got = runtime.block_on(h.engine.store.execute_async(
        Some(id),
        &accept(task),
        "nobody_here",
        h.now(),
        None,
    ));
    assert!(
        matches!(got, Err(StoreError::Rejected(Rejection::Forbidden(_)))),
        "{got:?}"
    );
    assert_eq!(h.history(id).len(), before);
    assert_eq!(h.task(id, "accept").state, TaskState::Open);
}
