use lockcheck_tests::traces::{acquisitions, load, run_child};

/// A lock taken in a thread-local destructor, after the thread's recorder is gone, is not
/// written as an event, but it is counted: as an acquisition, and its events (lock and
/// unlock) as dropped events.
#[test]
fn locks_in_thread_local_destructors_are_counted() {
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["tls", "100"], &[]);
    assert!(run.output.status.success(), "{}", String::from_utf8_lossy(&run.output.stderr));
    let (data, events) = load(&run.path);
    assert!(data.complete && data.warning.is_none());
    assert_eq!(acquisitions(&data, "child-private"), 100);
    assert_eq!(acquisitions(&data, "child-late"), 10);
    let late_written =
        events.iter().filter(|e| data.class_of(e.lock).is_some_and(|c| c.label == "child-late")).count() as u64;
    let late_dropped = data.dropped.get(&0).copied().unwrap_or(0);
    println!("late acquisitions: {late_written} written, {late_dropped} dropped");
    // Ten acquisitions and ten releases: every event is either written or counted.
    assert_eq!(late_written + late_dropped, 20, "each late event written or counted as dropped");
}
