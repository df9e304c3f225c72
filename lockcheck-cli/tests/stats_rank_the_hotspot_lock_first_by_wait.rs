//! `stats` on the hotspot example: `stats` is the lock threads waited for most.

mod common;

use common::{lockcheck, record};
use serde_json::Value;

#[test]
fn stats_rank_the_hotspot_lock_first_by_wait() {
    let traces = record("hotspot", &[]);
    let run = lockcheck(&["stats", traces.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let mut lines = run.stdout.lines();
    assert!(lines.next().unwrap().starts_with("lock "), "a header row");
    assert!(lines.next().unwrap().starts_with("stats "), "{}", run.stdout);
    assert!(run.stdout.contains("waited at examples/src/bin/hotspot.rs:"), "{}", run.stdout);

    let json =
        lockcheck(&["stats", "--format", "json", "--sort", "acquisitions", "--top", "1", traces.to_str().unwrap()]);
    let value: Value = serde_json::from_str(&json.stdout).unwrap();
    let rows = value["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    // 4 workers × 2000 samples, and main's final read of the batch.
    assert_eq!(rows[0]["class"], "stats");
    assert_eq!(rows[0]["acquisitions"], 8001);
    assert!(rows[0]["contended"].as_u64().unwrap() > 0);
}
