use lockcheck_tests::traces::{load, run_child, thread};

#[test]
fn trace_keeps_events_of_exited_threads() {
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["threads", "2000"], &[]);
    assert!(run.output.status.success(), "{}", String::from_utf8_lossy(&run.output.stderr));
    let (data, events) = load(&run.path);
    assert!(data.complete && data.warning.is_none());
    for i in 0..4 {
        let tid = thread(&data, &format!("worker-{i}"));
        let mine: Vec<_> = events.iter().filter(|e| e.thread == tid).collect();
        assert_eq!(mine.len(), 4000, "worker-{i}: every acquisition and release");
        let lock = mine[0].lock;
        assert_eq!(data.counters[&lock].acquisitions, 2000);
        assert_eq!(data.class_of(lock).unwrap().label, "child-private");
    }
    assert_eq!(data.events_lost(), 0);
}
