//! The stuck example deadlocks and the watchdog reports it: on the timeline, the findings are
//! instants, and each deadlocked thread's track shows how long it was blocked, ending when
//! the report was written (at least as long after the start as the threads had waited).

mod common;

use common::{lockcheck, record};
use serde_json::Value;

#[test]
fn timeline_shows_a_deadlock_as_instants_and_blocked_threads() {
    let traces = record("stuck", &[("LOCKCHECK_WATCHDOG_MS", "300")]);
    let run = lockcheck(&["timeline", traces.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let events = doc["traceEvents"].as_array().unwrap();
    let instants: Vec<&Value> = events.iter().filter(|e| e["ph"] == "i").collect();
    let deadlock = instants.iter().find(|e| e["name"] == "DEADLOCK").expect("the watchdog's report is an instant");
    assert!(deadlock["args"]["summary"].as_str().unwrap().contains("wait for each other"), "{deadlock}");
    assert!(instants.iter().any(|e| e["name"] == "POTENTIAL DEADLOCK"), "the cycle is an instant too");

    let blocked: Vec<&Value> = events.iter().filter(|e| e["cat"] == "watchdog").collect();
    assert_eq!(blocked.len(), 2, "both threads are blocked: {blocked:?}");
    let report = deadlock["ts"].as_f64().unwrap();
    for slice in blocked {
        let (ts, dur) = (slice["ts"].as_f64().unwrap(), slice["dur"].as_f64().unwrap());
        assert!(dur >= 300_000.0, "blocked at least the watchdog's 300 ms: {slice}");
        assert!((ts + dur - report).abs() < 1.0, "ends at the report: {slice}");
        assert!(["blocked on left", "blocked on right"].contains(&slice["name"].as_str().unwrap()), "{slice}");
    }
}
