use lockcheck_tests::traces::{acquisitions, load, run_child, thread};

/// A 16-event ring cannot keep up with a tight loop: events are dropped, never blocked on,
/// and the trace and `report()` say exactly how many.
#[test]
fn full_ring_drops_are_counted_exactly() {
    let ops = 20_000u64;
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["burst", &ops.to_string()], &[("LOCKCHECK_RING", "16")]);
    assert!(run.output.status.success(), "{}", String::from_utf8_lossy(&run.output.stderr));
    let (data, events) = load(&run.path);
    assert!(data.complete && data.warning.is_none());
    assert_eq!(data.header.as_ref().unwrap().ring_capacity, 16);
    let main = thread(&data, "main");
    let written = events.iter().filter(|e| e.thread == main).count() as u64;
    let dropped = data.dropped.get(&main).copied().unwrap_or(0);
    assert!(dropped > 0, "a 16-slot ring overflows");
    assert_eq!(written + dropped, 2 * ops, "written {written} + dropped {dropped}");
    assert_eq!(run.stdout().trim(), format!("events_lost={}", data.events_lost()));
    assert_eq!(acquisitions(&data, "child-private"), ops, "counters stay exact");
}
