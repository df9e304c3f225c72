//! `lockcheck stress` on a program with nothing wrong: every run passes, nothing is found,
//! exit 0.

mod common;

use common::{example, lockcheck};

#[test]
fn stress_of_a_clean_program_exits_0() {
    let dir = common::temp_dir("stress-clean").join("traces");
    let hotspot = example("hotspot");
    let args =
        ["stress", "--runs", "2", "--seed", "5", "--trace-dir", dir.to_str().unwrap(), "--", hotspot.to_str().unwrap()];
    let run = lockcheck(&args);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("lockcheck: no findings"), "{}", run.stdout);
    assert!(run.stdout.contains("lockcheck: stress: 2 runs (seeds 5 to 6), none failed"), "{}", run.stdout);
    let traces = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "lctrace"));
    assert_eq!(traces.count(), 2, "one trace per run, in one directory");
}
