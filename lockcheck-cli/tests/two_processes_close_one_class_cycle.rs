//! SCENARIOS.md C10: `a → b` seen in one process and `b → a` in another is one potential
//! deadlock by class, found only when the CLI reads both traces.

mod common;

use common::{lockcheck, order_trace, temp_dir};

#[test]
fn two_processes_close_one_class_cycle() {
    let dir = temp_dir("c10");
    let one = order_trace(&dir, "test-one", "accounts", "ledger");
    let two = order_trace(&dir, "test-two", "ledger", "accounts");

    for alone in [&one, &two] {
        let run = lockcheck(&["check", alone.to_str().unwrap()]);
        assert_eq!(run.code, Some(0), "one process alone sees no cycle: {run:?}");
    }

    let run = lockcheck(&["check", one.to_str().unwrap(), two.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stdout.matches("lockcheck: POTENTIAL DEADLOCK").count(), 1, "{}", run.stdout);
    assert!(run.stdout.contains("class graph"), "{}", run.stdout);
    assert!(run.stdout.contains("closes across 2 processes"), "{}", run.stdout);

    // A directory is every trace in it.
    let run = lockcheck(&["check", "--format", "json", dir.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 1);
    assert_eq!(json["traces"], 2);
}

#[test]
fn the_same_cycle_in_many_processes_is_reported_once() {
    let dir = temp_dir("c10-dedup");
    for name in ["one", "two", "three"] {
        let path = order_trace(&dir, &format!("{name}-ab"), "a", "b");
        assert!(path.exists());
        order_trace(&dir, &format!("{name}-ba"), "b", "a");
    }
    let run = lockcheck(&["report", dir.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stdout.matches("SUMMARY:").count(), 1, "{}", run.stdout);
}
