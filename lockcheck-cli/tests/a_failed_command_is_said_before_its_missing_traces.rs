//! `lockcheck run -- <command>` when the command wrote no trace: a command that failed is
//! said first, with its exit status, and fails the run (exit 1, as any failed command under
//! `run`); `LOCKCHECK=0` in the environment is named as the reason instead of the
//! `instrument` feature.

mod common;

use common::lockcheck_in;

/// The `lockcheck:` lines of stderr, in order.
fn said(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("lockcheck: ") && !l.contains("tracing into")).collect()
}

#[test]
fn a_failed_command_is_said_before_its_missing_traces() {
    let run = lockcheck_in(None, &["run", "--", "false"], &[]);
    assert_eq!(run.code, Some(1), "a failed command fails the run: {run:?}");
    let lines = said(&run.stderr);
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(lines[0].contains("the command failed (exit status: 1)"), "the failure first: {}", run.stderr);
    assert!(lines[1].contains("the command wrote no trace"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "no verdict on traces that do not exist: {}", run.stdout);
}

#[test]
fn lockcheck_0_is_named_as_the_reason_for_no_trace() {
    let run = lockcheck_in(None, &["run", "--", "true"], &[("LOCKCHECK", "0")]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("LOCKCHECK=0 is set in the environment"), "{}", run.stderr);
    assert!(!run.stderr.contains("instrument"), "{}", run.stderr);

    let run = lockcheck_in(None, &["run", "--", "false"], &[("LOCKCHECK", "0")]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let lines = said(&run.stderr);
    assert!(lines[0].contains("the command failed"), "{}", run.stderr);
    assert!(lines[1].contains("LOCKCHECK=0 is set in the environment"), "{}", run.stderr);
}
