//! Random sequences of valid and invalid commands never break an invariant: no task
//! is both open and finished, every index agrees with its records, every history
//! replays to the stored state, and a refused command changes nothing.

mod common;

use baton_dsl::model::{Route, Type};
use baton_engine::clock::ManualClock;
use baton_engine::core::{Command, Rejection, TaskId, TaskKind, TaskState};
use baton_engine::store::prelude::*;
use baton_engine::store::{Options, StoreError, TaskPosition};
use baton_engine::Engine;
use chrono::TimeZone;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Sign-offs of every kind and a fan-out, beside the company's processes.
const SIGNOFFS: &str = r#"
process signoffs "簽核" {
  data {
    amount integer 0..100000
  }
  step all_heads {
    sign all of supervisor of starter, cs_manager
    on refuse -> refused
    next any_hr
  }
  step any_hr {
    sign any of each person with role hr_officer
    on refuse -> refused
    next two_of
  }
  step two_of {
    sign 2 of person li_ming, person sun_li, person zhao_guoqiang
    on refuse -> refused
    next chain
  }
  step chain {
    sign in order by supervisor of starter, cs_manager
    on refuse -> refused
    next everyone
  }
  step everyone {
    task for each person with role agent
    due 2h
    remind every 1h after due
    next done
  }
  end done
  end refused
}
"#;

#[derive(Debug, Clone)]
enum Op {
    Start {
        process: usize,
        valid: bool,
    },
    Claim {
        task: usize,
        actor: usize,
        candidate: bool,
    },
    Release {
        task: usize,
        actor: usize,
    },
    Complete {
        task: usize,
        actor: usize,
        candidate: bool,
        choice: usize,
        valid: bool,
    },
    Cancel {
        instance: usize,
        actor: usize,
    },
    Extend {
        instance: usize,
        minutes: i64,
        consent: bool,
    },
    Wait {
        minutes: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0usize..4, prop::bool::weighted(0.8)).prop_map(|(process, valid)| Op::Start { process, valid }),
        2 => (any::<usize>(), any::<usize>(), prop::bool::weighted(0.7)).prop_map(|(task, actor, candidate)| Op::Claim { task, actor, candidate }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(task, actor)| Op::Release { task, actor }),
        6 => (any::<usize>(), any::<usize>(), prop::bool::weighted(0.8), any::<usize>(), prop::bool::weighted(0.8))
            .prop_map(|(task, actor, candidate, choice, valid)| Op::Complete { task, actor, candidate, choice, valid }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(instance, actor)| Op::Cancel { instance, actor }),
        1 => (any::<usize>(), 1i64..120, any::<bool>()).prop_map(|(instance, minutes, consent)| Op::Extend { instance, minutes, consent }),
        2 => (1i64..1500).prop_map(|minutes| Op::Wait { minutes }),
    ]
}

struct World {
    engine: Engine,
    clock: ManualClock,
    people: Vec<String>,
    _dir: tempfile::TempDir,
    /// Dropped after the engine (see `common::location`).
    _pg: Option<baton_engine::store::pg_testing::TestDb>,
}

fn world() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let (at, pg) = common::location(&dir);
    let clock = ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap());
    let engine = Engine::open(
        &at,
        Options {
            zone: chrono_tz::Asia::Shanghai,
            ..Default::default()
        },
        Arc::new(clock.clone()),
    )
    .expect("open");
    let processes = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../processes");
    for r in engine.deploy_dir(&processes).expect("deploy") {
        r.result.expect("company processes deploy");
    }
    engine
        .store
        .deploy("signoffs.flow", SIGNOFFS, clock.now_utc())
        .expect("signoffs deploys");
    let people = engine
        .store
        .directory()
        .people
        .iter()
        .map(|p| p.id.clone())
        .collect();
    World {
        engine,
        clock,
        people,
        _dir: dir,
        _pg: pg,
    }
}

trait NowUtc {
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc>;
}
impl NowUtc for ManualClock {
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc> {
        baton_engine::clock::Clock::now(self)
    }
}

fn value_for(ty: &Type, valid: bool) -> Value {
    if !valid {
        return json!({"not": "a value"});
    }
    match ty {
        Type::Text => json!("文字"),
        Type::Integer { min, max } => json!(min.unwrap_or(0).max(max.unwrap_or(3).min(3))),
        Type::Decimal { min, .. } => json!(min.unwrap_or(1.0)),
        Type::Bool => json!(true),
        Type::Date => json!("2026-03-20"),
        Type::DateTime => json!("2026-03-05T10:00:00+08:00"),
        Type::Duration => json!("2h"),
        Type::Person => json!("wang_fang"),
        Type::Department => json!("technology"),
        Type::Choice(vs) => json!(vs[0].name),
        Type::List(_) => json!([]),
    }
}

fn start_data(process: &str, valid: bool) -> Map<String, Value> {
    let v = match process {
        "complaint" => json!({"customer": "張三", "contact": "138", "channel": "hotline"}),
        "coordination" => {
            json!({"partner": "technology", "request": "系統", "needed_by": "2026-03-04T18:00:00+08:00"})
        }
        "signoffs" => json!({"amount": 500}),
        _ => json!({"subject": "zhang_wei"}),
    };
    let mut m = v.as_object().cloned().unwrap_or_default();
    if !valid {
        m.insert("no_such_field".into(), json!(1));
    }
    m
}

const PROCESSES: [&str; 4] = ["complaint", "coordination", "signoffs", "daily_report"];
const STARTERS: [&str; 4] = ["wang_fang", "wang_fang", "wang_fang", "baton"];

fn active_tasks(w: &World) -> Vec<baton_engine::core::Task> {
    let mut v = w
        .engine
        .store
        .tasks_in_state(TaskState::Open, None, 10_000)
        .expect("query")
        .items;
    v.extend(
        w.engine
            .store
            .tasks_in_state(TaskState::Claimed, None, 10_000)
            .expect("query")
            .items,
    );
    v
}

fn pick_actor(w: &World, task: &baton_engine::core::Task, actor: usize, candidate: bool) -> String {
    if candidate {
        if let Some(a) = &task.assignee {
            return a.clone();
        }
        let dir = w.engine.store.directory();
        let mut c: Vec<String> = task.candidates.people.clone();
        for r in &task.candidates.roles {
            c.extend(dir.with_role(r).map(|p| p.id.clone()));
        }
        if !c.is_empty() {
            return c[actor % c.len()].clone();
        }
    }
    w.people[actor % w.people.len()].clone()
}

/// Run one op; on a refusal, check that nothing changed.
fn step(w: &World, op: &Op) -> Result<(), TestCaseError> {
    let engine = &w.engine;
    let tasks = active_tasks(w);
    let (target, cmd, actor): (Option<u64>, Command, String) = match op {
        Op::Wait { minutes } => {
            w.clock.advance(chrono::Duration::minutes(*minutes));
            engine
                .fire_due()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            return Ok(());
        }
        Op::Start { process, valid } => (
            None,
            Command::Start {
                process: PROCESSES[*process].into(),
                data: start_data(PROCESSES[*process], *valid),
            },
            STARTERS[*process].into(),
        ),
        Op::Claim {
            task,
            actor,
            candidate,
        } if !tasks.is_empty() => {
            let t = &tasks[task % tasks.len()];
            (
                Some(t.id.instance),
                Command::Claim { task: t.id },
                pick_actor(w, t, *actor, *candidate),
            )
        }
        Op::Release { task, actor } if !tasks.is_empty() => {
            let t = &tasks[task % tasks.len()];
            (
                Some(t.id.instance),
                Command::Release { task: t.id },
                pick_actor(w, t, *actor, true),
            )
        }
        Op::Complete {
            task,
            actor,
            candidate,
            choice,
            valid,
        } if !tasks.is_empty() => {
            let t = &tasks[task % tasks.len()];
            let inst = engine.store.instance(t.id.instance).expect("instance");
            let def = engine
                .store
                .definition(&inst.process, inst.version)
                .expect("def");
            let s = def.step(&t.step).expect("step");
            let choice = if t.kind == TaskKind::Sign {
                Some(if choice % 4 == 0 { "refuse" } else { "approve" }.to_string())
            } else {
                match &s.route {
                    Route::Choose(cs) => Some(cs[choice % cs.len()].name.clone()),
                    _ => None,
                }
            };
            let mut data = Map::new();
            if t.kind == TaskKind::Work {
                for f in &s.fills {
                    let ty = &def.field(&f.field).expect("field").ty;
                    data.insert(f.field.clone(), value_for(ty, *valid));
                }
            }
            (
                Some(t.id.instance),
                Command::Complete {
                    task: t.id,
                    choice,
                    data,
                },
                pick_actor(w, t, *actor, *candidate),
            )
        }
        Op::Cancel { instance, actor } if !tasks.is_empty() => {
            let t = &tasks[instance % tasks.len()];
            (
                Some(t.id.instance),
                Command::Cancel {
                    reason: "test".into(),
                },
                w.people[actor % w.people.len()].clone(),
            )
        }
        Op::Extend {
            instance,
            minutes,
            consent,
        } if !tasks.is_empty() => {
            let t = &tasks[instance % tasks.len()];
            let data = json!({"customer_consents": consent})
                .as_object()
                .cloned()
                .unwrap_or_default();
            let is_complaint = t.process == "complaint";
            (
                Some(t.id.instance),
                Command::Extend {
                    limit: is_complaint.then(|| "settle".to_string()),
                    minutes: *minutes,
                    data: if is_complaint { data } else { Map::new() },
                },
                pick_actor(w, t, 0, true),
            )
        }
        _ => return Ok(()),
    };
    let before = target.map(|id| {
        (
            engine.store.instance(id).expect("instance"),
            engine.store.history(id).expect("history"),
        )
    });
    let res = engine
        .store
        .execute(target, &cmd, &actor, w.clock.now_utc(), None);
    match res {
        Ok(o) => {
            if let Some((inst, _)) = &before {
                prop_assert!(o.instance.seq >= inst.seq);
            }
        }
        Err(StoreError::Rejected(r)) => {
            if let (Some(id), Some((inst, hist))) = (target, before) {
                prop_assert_eq!(
                    engine.store.instance(id).expect("instance"),
                    inst,
                    "refused {:?} changed the instance",
                    r
                );
                prop_assert_eq!(engine.store.history(id).expect("history").len(), hist.len());
            }
            // Every refusal is one of the typed kinds, never a storage failure.
            let typed = matches!(
                r,
                Rejection::NotFound(_)
                    | Rejection::Conflict(_)
                    | Rejection::Forbidden(_)
                    | Rejection::Invalid(_)
                    | Rejection::Requirement { .. }
                    | Rejection::Stuck(_)
            );
            prop_assert!(typed, "{:?}", r);
        }
        Err(e) => return Err(TestCaseError::fail(format!("{op:?}: {e}"))),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn random_commands_keep_every_invariant(ops in prop::collection::vec(op(), 1..80)) {
        let w = world();
        for op in &ops {
            step(&w, op)?;
            let problems = w.engine.store.verify().map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(problems.is_empty(), "after {:?}: {:?}", op, problems);
        }
        // No task is both open and finished: each id has one record and one state.
        let mut seen = std::collections::BTreeSet::<TaskId>::new();
        for s in [TaskState::Open, TaskState::Claimed, TaskState::Completed, TaskState::Cancelled] {
            for t in w.engine.store.tasks_in_state(s, None, 100_000).expect("query").items {
                prop_assert!(seen.insert(t.id), "task {} in two states", t.id);
                prop_assert_eq!(t.state, s);
            }
            // A few at a time, page after page, gives the same tasks as one page.
            let store = &w.engine.store;
            let all: Vec<TaskId> = store.tasks_in_state(s, None, 100_000).expect("query").items.iter().map(|t| t.id).collect();
            let mut paged = Vec::new();
            let mut after = None;
            loop {
                let page = store.tasks_in_state(s, after, 3).expect("query");
                after = page.items.last().map(TaskPosition::of);
                paged.extend(page.items.iter().map(|t| t.id));
                if page.next.is_none() {
                    break;
                }
            }
            prop_assert_eq!(paged, all);
        }
        // Overdue: exactly the open and claimed tasks due before now, soonest first.
        let now = w.clock.now_utc();
        let mut due: Vec<(chrono::DateTime<chrono::Utc>, TaskId)> = active_tasks(&w)
            .iter()
            .filter_map(|t| t.due.filter(|d| *d < now).map(|d| (d, t.id)))
            .collect();
        due.sort();
        let overdue: Vec<_> = w.engine.store.overdue(now, 100_000).expect("query")
            .iter()
            .map(|t| (t.due.expect("a due time"), t.id))
            .collect();
        prop_assert_eq!(overdue, due);
    }
}
