//! `lockcheck stress` with a bad `--runs`, `--seed` or `--timeout`: one line on stderr, exit 2,
//! and nothing run.

mod common;

use common::lockcheck;

#[test]
fn bad_values_are_one_line_and_exit_2() {
    for (option, value) in [
        ("--runs", "0"),
        ("--runs", "many"),
        ("--runs", "-1"),
        ("--seed", "-1"),
        ("--seed", "0x10"),
        ("--timeout", "0"),
    ] {
        let run = lockcheck(&["stress", option, value, "--", "sh", "-c", "echo ran"]);
        assert_eq!(run.code, Some(2), "{option} {value}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{option} {value}: {}", run.stderr);
        assert!(run.stderr.starts_with(&format!("lockcheck: error: {option}: ")), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "nothing ran: {}", run.stdout);
    }
}
