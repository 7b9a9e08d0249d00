//! An idempotency key names one request: sent again with the same request it gives
//! the first answer; with another request it is refused, and nothing changes. The
//! answers stored before requests were fingerprinted are still replayed.

mod common;

use baton_engine::core::{Command, Rejection};
use common::*;
use serde_json::json;

fn complaint(customer: &str) -> serde_json::Map<String, serde_json::Value> {
    obj(json!({"customer": customer, "contact": "138", "channel": "app"}))
}

#[test]
fn the_same_key_with_another_request_is_refused() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    let first = h
        .engine
        .start("complaint", complaint("張三"), "wang_fang", Some("k1"))
        .expect("first");
    // The same request again: the first answer, nothing new.
    let again = h
        .engine
        .start("complaint", complaint("張三"), "wang_fang", Some("k1"))
        .expect("replayed");
    assert!(again.replayed);
    assert_eq!(again.instance, first.instance);
    // Another body under the same key.
    match rejection(
        h.engine
            .start("complaint", complaint("李四"), "wang_fang", Some("k1")),
    ) {
        Rejection::KeyReused(m) => assert!(m.contains("`k1`"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Another command under the same key (claiming the task, not starting).
    let task = h.task(first.instance.id, "accept").id;
    let claim = Command::Claim { task };
    assert!(matches!(
        rejection(
            h.engine
                .act(first.instance.id, claim.clone(), "wang_fang", Some("k1"))
        ),
        Rejection::KeyReused(_)
    ));
    assert_eq!(h.instances("complaint", "running").len(), 1);
    // Members in another order are the same request.
    let a = obj(json!({"customer": "王五", "contact": "139", "channel": "hotline"}));
    let b = obj(json!({"channel": "hotline", "contact": "139", "customer": "王五"}));
    h.engine
        .start("complaint", a, "wang_fang", Some("k2"))
        .expect("first");
    let o = h
        .engine
        .start("complaint", b, "wang_fang", Some("k2"))
        .expect("same");
    assert!(o.replayed);
    // A new key is a new request.
    let o = h
        .engine
        .act(first.instance.id, claim, "wang_fang", Some("k3"))
        .expect("claimed");
    assert!(!o.replayed);
}

#[test]
fn an_answer_stored_without_a_fingerprint_is_still_replayed() {
    let h = Harness::at(sh(2026, 3, 10, 10, 0));
    let first = h
        .engine
        .start("complaint", complaint("張三"), "wang_fang", Some("old"))
        .expect("first");
    // A database written before fingerprints were kept has the answer alone: the
    // records' tree, the idempotency space's tag (13), the sender and the key; the
    // fingerprint sits at the same key followed by 0xFF.
    // Laid out so with sled itself, while Baton has the database closed.
    let Harness {
        verified,
        dir,
        clock,
        engine,
        ..
    } = h;
    drop(verified);
    drop(engine);
    {
        let db = sled::open(dir.path()).expect("sled");
        let records = db.open_tree("records").expect("records");
        let mut k = vec![13u8];
        k.extend_from_slice(b"wang_fang\0old");
        assert!(records.get(&k).expect("get").is_some(), "the answer's key");
        k.push(0xff);
        assert!(
            records.remove(&k).expect("remove").is_some(),
            "the fingerprint's key"
        );
        db.flush().expect("flush");
    }
    let engine =
        baton_engine::Engine::open(dir.path(), options(), std::sync::Arc::new(clock.clone()))
            .expect("reopen");
    let h = Harness::of(dir, clock, engine);
    let o = h
        .engine
        .start("complaint", complaint("李四"), "wang_fang", Some("old"))
        .expect("replayed as before");
    assert!(o.replayed);
    assert_eq!(o.instance.id, first.instance.id);
}
