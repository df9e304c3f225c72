use lockcheck_tests::traces::{acquisitions, load, run_child};

#[test]
fn trace_is_complete_after_a_panic_in_main() {
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["panic", "500"], &[]);
    assert_eq!(run.output.status.code(), Some(101));
    assert!(
        String::from_utf8_lossy(&run.output.stderr).contains("the child panics in main"),
        "the previous hook still runs"
    );
    let (data, events) = load(&run.path);
    assert!(data.warning.is_none());
    assert!(data.complete);
    assert_eq!(acquisitions(&data, "child-outer"), 500);
    assert_eq!(events.len(), 2000);
}

#[test]
fn trace_is_complete_after_a_panic_with_panic_abort_semantics() {
    // An abort after the panic hook skips the exit hook: the panic hook's flush alone must
    // leave every event on disk.
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["panic", "500"], &[("LOCKCHECK_TEST_ABORT", "1")]);
    assert!(!run.output.status.success());
    let (data, events) = load(&run.path);
    assert!(data.warning.is_none());
    assert_eq!(acquisitions(&data, "child-outer"), 500);
    assert_eq!(events.len(), 2000);
}
