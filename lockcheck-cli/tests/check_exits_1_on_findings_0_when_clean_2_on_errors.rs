//! The verdict of `check` (and `report`) on the examples' real traces, and on inputs that
//! are not traces.

mod common;

use common::{lockcheck, record, temp_dir};

#[test]
fn the_bank_example_fails_the_check() {
    let traces = record("bank", &[]);
    let run = lockcheck(&["check", traces.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("cycle: ledger => account => ledger"), "{}", run.stdout);
    assert!(run.stdout.contains("SUMMARY: potential deadlock"), "{}", run.stdout);
    assert_eq!(lockcheck(&["report", traces.to_str().unwrap()]).code, Some(1));
}

#[test]
fn a_clean_run_passes_the_check() {
    let traces = record("hotspot", &[]);
    let run = lockcheck(&["check", traces.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("lockcheck: no findings"), "{}", run.stdout);
}

#[test]
fn a_file_that_is_not_a_trace_is_one_line_naming_it_and_exit_2() {
    let dir = temp_dir("not-a-trace");
    let path = dir.join("notes.lctrace");
    std::fs::write(&path, "hello, world\n").unwrap();
    let run = lockcheck(&["check", path.to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with(&format!("lockcheck: error: {}: not a lockcheck trace", path.display())));
}

#[test]
fn a_directory_without_traces_is_exit_2() {
    let dir = temp_dir("empty");
    let run = lockcheck(&["report", dir.to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("no lockcheck traces"), "{}", run.stderr);
}

#[test]
fn a_missing_path_and_bad_arguments_are_exit_2() {
    assert_eq!(lockcheck(&["check", "/nonexistent/traces"]).code, Some(2));
    assert_eq!(lockcheck(&["check"]).code, Some(2));
    assert_eq!(lockcheck(&["stats", ".", "--sort", "colour"]).code, Some(2));
}
