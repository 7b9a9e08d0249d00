use baton_engine::clock::ManualClock;
use baton_engine::store::Options;
use baton_engine::Engine;
use chrono::TimeZone;
use std::sync::Arc;

#[test]
fn complaint_runs() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap());
    let e = Engine::open(
        dir.path(),
        Options {
            zone: chrono_tz::Asia::Shanghai,
            ..Default::default()
        },
        Arc::new(clock.clone()),
    )
    .unwrap();
    let reps = e
        .deploy_dir(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../processes"
        )))
        .unwrap();
    for r in &reps {
        if let Err(err) = &r.result {
            panic!("{}: {err}", r.file)
        }
    }
    let staff = e.store.directory();
    let agent = staff.with_role("agent").next().unwrap().id.clone();
    let data = serde_json::json!({"customer": "張三", "contact": "138", "channel": "hotline"});
    let o = e
        .start("complaint", data.as_object().unwrap().clone(), &agent, None)
        .unwrap();
    println!("{:#?}", o.instance);
    let mine = e.store.tasks_for(&agent).unwrap();
    println!("{mine:#?}");
    assert_eq!(mine.len(), 1);
    println!("timers {}", e.store.timer_count());
}
