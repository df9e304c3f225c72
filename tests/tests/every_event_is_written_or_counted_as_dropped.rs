use lockcheck_tests::traces::{acquisitions, load, run_child, thread};

/// Two threads × 1M lock+unlock pairs with the default ring: whatever the collector could not
/// keep up with is counted, so written + dropped is exactly what was emitted.
#[test]
fn every_event_is_written_or_counted_as_dropped() {
    let ops = 1_000_000u64;
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["stress", &ops.to_string()], &[]);
    assert!(run.output.status.success(), "{}", String::from_utf8_lossy(&run.output.stderr));
    let (data, events) = load(&run.path);
    assert!(data.complete && data.warning.is_none());
    for name in ["stress-0", "stress-1"] {
        let tid = thread(&data, name);
        let written = events.iter().filter(|e| e.thread == tid).count() as u64;
        let dropped = data.dropped.get(&tid).copied().unwrap_or(0);
        assert_eq!(written + dropped, 2 * ops, "{name}: written {written} + dropped {dropped}");
    }
    assert_eq!(acquisitions(&data, "child-private"), 2 * ops);
    assert_eq!(run.stdout().trim(), format!("events_lost={}", data.events_lost()));
    let size = std::fs::metadata(&run.path).unwrap().len();
    let per_acquisition = size as f64 / (2 * ops) as f64;
    println!("trace: {size} bytes, {per_acquisition:.2} bytes per acquisition, {} dropped", data.events_lost());
}
