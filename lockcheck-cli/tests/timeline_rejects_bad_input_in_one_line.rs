//! `timeline` with a time it cannot read, a window that ends before it starts, or a missing
//! trace: exit 2 and one line saying what is wrong.

mod common;

use common::{lockcheck, order_trace, temp_dir};

#[test]
fn timeline_rejects_bad_input_in_one_line() {
    let dir = temp_dir("timeline-bad");
    let trace = order_trace(&dir, "a", "x", "y");
    let trace = trace.to_str().unwrap();
    let missing = dir.join("missing.lctrace");
    let cases: [(&[&str], &str); 4] = [
        (&["timeline", trace, "--from", "soon"], "--from: `soon` is not a time"),
        (&["timeline", trace, "--to", "3 fortnights"], "--to: unknown unit `fortnights`"),
        (&["timeline", trace, "--from", "2s", "--to", "1s"], "--to: the window ends before it starts"),
        (&["timeline", missing.to_str().unwrap()], "missing.lctrace"),
    ];
    for (args, says) in cases {
        let run = lockcheck(args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("lockcheck: error: ") && run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
}
