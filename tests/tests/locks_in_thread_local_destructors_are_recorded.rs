//! Locks taken in thread-local destructors — even ones destroyed after lockcheck's own
//! thread-locals — are recorded as events like any other, and nothing is reported lost.

use lockcheck_tests::traces::{acquisitions, load, run_child};

/// Runs the `tls` scenario with `threads` threads, each taking `child-late` ten times in a
/// thread-local destructor, and checks every one of those acquisitions is in the trace.
fn every_late_lock_is_written(threads: u64) {
    let threads_arg = threads.to_string();
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["tls", "100", &threads_arg], &[]);
    assert!(run.output.status.success(), "{}", String::from_utf8_lossy(&run.output.stderr));
    let (data, events) = load(&run.path);
    assert!(data.complete && data.warning.is_none());
    assert_eq!(acquisitions(&data, "child-private"), 100 * threads);
    assert_eq!(acquisitions(&data, "child-late"), 10 * threads);
    let late_written =
        events.iter().filter(|e| data.class_of(e.lock).is_some_and(|c| c.label == "child-late")).count() as u64;
    // Ten acquisitions and ten releases per thread, each written as an event.
    assert_eq!(late_written, 20 * threads, "every late event is written");
    assert_eq!(data.events_lost(), 0, "no event is lost: {:?}", data.dropped);
}

#[test]
fn one_thread() {
    every_late_lock_is_written(1);
}

#[test]
fn eight_threads() {
    every_late_lock_is_written(8);
}

#[test]
fn thirty_two_threads() {
    every_late_lock_is_written(32);
}
