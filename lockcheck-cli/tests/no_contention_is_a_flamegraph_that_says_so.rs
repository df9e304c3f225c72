//! Traces in which no thread waited make a flamegraph that says there was no contention,
//! and exit 0: no contention is a result, not an error. The same for `run --flamegraph`.

mod common;

use std::path::Path;

use common::{lockcheck, lockcheck_in, temp_dir, well_formed, TraceBuilder};

/// A trace of one thread taking one lock, never waiting (and no hold timed).
fn uncontended(path: &Path) {
    let mut trace = TraceBuilder::default();
    let main = trace.thread("main");
    let lock = trace.lock("config", None);
    let site = trace.site("src/config.rs", 4);
    for _ in 0..3 {
        trace.hold(main, lock, site, None, None);
    }
    trace.write(path);
}

fn says_no_contention(svg: &str) {
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
    well_formed(svg).unwrap();
    assert!(svg.contains("no contention"), "{svg}");
}

#[test]
fn no_contention_is_a_flamegraph_that_says_so() {
    let dir = temp_dir("no-contention");
    let trace = dir.join("t.lctrace");
    uncontended(&trace);
    let out = dir.join("flame.svg");
    let run = lockcheck(&["flamegraph", trace.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{run:?}");
    says_no_contention(&std::fs::read_to_string(&out).unwrap());

    let holders = lockcheck(&["flamegraph", trace.to_str().unwrap(), "--metric", "hold"]);
    assert_eq!(holders.code, Some(0), "{holders:?}");
    says_no_contention(&holders.stdout);
}

#[test]
fn run_flamegraph_of_a_clean_uncontended_command_is_written() {
    let dir = temp_dir("run-no-contention");
    uncontended(&dir.join("recorded.lctrace"));
    // The command stands in for a test suite: it writes the trace where `run` said to.
    let command = "cp recorded.lctrace \"${LOCKCHECK_TRACE}suite.lctrace\"";
    let run = lockcheck_in(
        Some(&dir),
        &["run", "--trace-dir", "traces", "--flamegraph", "flame.svg", "--", "sh", "-c", command],
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("lockcheck: no findings"), "{}", run.stdout);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    says_no_contention(&std::fs::read_to_string(dir.join("flame.svg")).unwrap());
}
