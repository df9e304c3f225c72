//! `lockcheck run -- <command>`: traces into a fresh directory, then the check's verdict; a
//! failed command fails the run unless the watchdog's abort already explains it.

mod common;

use common::{example, lockcheck, lockcheck_in, temp_dir};

#[test]
fn run_reports_the_bank_cycle_and_fails() {
    let bank = example("bank");
    let run = lockcheck(&["run", "--", bank.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("SUMMARY: potential deadlock"), "{}", run.stdout);
    assert!(run.stderr.contains("lockcheck: traces kept in "), "{}", run.stderr);
}

#[test]
fn run_of_a_clean_program_passes_into_the_given_directory() {
    let dir = temp_dir("run").join("traces");
    let svg = dir.with_file_name("contention.svg");
    let (dir_arg, svg_arg, hotspot) = (dir.to_str().unwrap(), svg.to_str().unwrap(), example("hotspot"));
    let run = lockcheck(&["run", "--trace-dir", dir_arg, "--flamegraph", svg_arg, "--", hotspot.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("lockcheck: no findings"), "{}", run.stdout);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("record_sample"));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "one process, one trace");

    let again = lockcheck(&["run", "--trace-dir", dir.to_str().unwrap(), "--", "true"]);
    assert_eq!(again.code, Some(2), "stale traces would mix into the verdict: {again:?}");
}

#[test]
fn a_watchdog_abort_is_the_deadlock_finding_not_a_command_failure() {
    let stuck = example("stuck");
    let run = lockcheck_in(None, &["run", "--", stuck.to_str().unwrap()], &[("LOCKCHECK_WATCHDOG_MS", "300")]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("lockcheck: DEADLOCK"), "{}", run.stdout);
    assert!(!run.stderr.contains("the command failed"), "{}", run.stderr);
    assert!(!run.stdout.contains("warning"), "an abort after the report is not damage: {}", run.stdout);
}

#[test]
fn a_command_without_traces_or_that_cannot_start_is_exit_2() {
    let run = lockcheck(&["run", "--", "true"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("the command wrote no trace"), "{}", run.stderr);
    let run = lockcheck(&["run", "--", "/nonexistent/program"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("cannot run"), "{}", run.stderr);
}
