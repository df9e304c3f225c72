use lockcheck::trace::EventKind;
use lockcheck_tests::traces::{acquisitions, load, run_child};

/// `process::exit` skips destructors: the exit hook still writes everything.
#[test]
fn trace_is_complete_after_process_exit() {
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["exit", "1000"], &[]);
    assert_eq!(run.output.status.code(), Some(3));
    let (data, events) = load(&run.path);
    assert!(data.complete, "ends with the exit flush: {:?}", data.warning);
    assert!(data.warning.is_none());
    let header = data.header.as_ref().unwrap();
    assert_eq!(header.program, "trace_child");
    assert!(run.path.ends_with(format!("trace_child-{}.lctrace", header.pid)));
    assert_eq!(acquisitions(&data, "child-outer"), 1000);
    assert_eq!(acquisitions(&data, "child-inner"), 1000);
    assert_eq!(data.events_lost(), 0);
    assert_eq!(events.len(), 4000, "two acquisitions and two releases per operation");
    let acquired = events.iter().filter(|e| matches!(e.kind, EventKind::Acquired { .. })).count();
    assert_eq!(acquired, 2000);
    let edge = data.edges.iter().find(|e| e.from == "child-outer").expect("the order edge");
    assert_eq!(edge.to, "child-inner");
    assert!(data.sites.values().all(|s| s.file.ends_with("trace_child.rs")));
}
