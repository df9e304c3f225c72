//! A trace recorded in stress mode carries its seed and settings: `report` shows them, in text
//! and in JSON, with a word on the figures they affect.

mod common;

use common::{lockcheck, record};

#[test]
fn report_shows_the_stress_seed() {
    let dir = record("hotspot", &[("LOCKCHECK_STRESS", "42"), ("LOCKCHECK_STRESS_NOISE", "16")]);
    let text = lockcheck(&["report", dir.to_str().unwrap()]);
    assert_eq!(text.code, Some(0), "{text:?}");
    let line = text.stdout.lines().find(|l| l.starts_with("stress: hotspot[")).expect(&text.stdout);
    assert!(line.contains("ran with seed 42 (depth 3, noise 1 in 16)"), "{line}");
    assert!(line.ends_with("its wait and hold figures include them"), "{line}");

    let json = lockcheck(&["report", "--format", "json", dir.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let stress = &json["stress"][0];
    assert_eq!((stress["seed"].as_u64(), stress["noise_one_in"].as_u64()), (Some(42), Some(16)), "{stress}");
    assert!(stress["threads"].as_array().is_some_and(|t| !t.is_empty()), "{stress}");
}

#[test]
fn a_plain_trace_says_nothing_of_stress() {
    let dir = record("hotspot", &[]);
    let text = lockcheck(&["report", dir.to_str().unwrap()]);
    assert!(!text.stdout.contains("stress"), "{}", text.stdout);
    let json = lockcheck(&["report", "--format", "json", dir.to_str().unwrap()]);
    assert!(!json.stdout.contains("\"stress\""), "{}", json.stdout);
}
