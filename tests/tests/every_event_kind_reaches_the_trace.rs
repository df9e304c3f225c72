use lockcheck::trace::EventKind;
use lockcheck_tests::traces::{load, run_child};

#[test]
fn every_event_kind_reaches_the_trace() {
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["kinds"], &[("LOCKCHECK_HOLD_SAMPLE", "1")]);
    assert!(run.output.status.success(), "{}", String::from_utf8_lossy(&run.output.stderr));
    let (data, events) = load(&run.path);
    assert!(data.complete && data.warning.is_none());
    assert_eq!(data.header.as_ref().unwrap().hold_sample, 1);
    let has = |f: &dyn Fn(&EventKind) -> bool| events.iter().any(|e| f(&e.kind));
    assert!(has(&|k| matches!(k, EventKind::Acquired { wait_ns: None, .. })));
    assert!(
        has(&|k| matches!(k, EventKind::Acquired { wait_ns: Some(w), .. } if *w >= 10_000_000)),
        "the contended wait"
    );
    assert!(has(&|k| matches!(k, EventKind::TryFailed { .. })));
    assert!(has(&|k| matches!(k, EventKind::TimedOut { wait_ns, .. } if *wait_ns >= 4_000_000)));
    assert!(
        has(&|k| matches!(k, EventKind::Released { hold_ns: Some(h) } if *h >= 10_000_000)),
        "the long hold, timed"
    );
    assert!(!has(&|k| matches!(k, EventKind::Released { hold_ns: None })), "every hold is timed at rate 1");
    let outer = events.iter().find(|e| data.class_of(e.lock).is_some_and(|c| c.label == "child-outer")).unwrap().lock;
    let counters = data.counters[&outer];
    assert_eq!((counters.acquisitions, counters.contended), (3, 1));
    for e in &events {
        if let EventKind::Acquired { site, .. } | EventKind::TryFailed { site } | EventKind::TimedOut { site, .. } =
            e.kind
        {
            assert!(data.sites.contains_key(&site));
        }
        assert!(data.threads.contains_key(&e.thread) && data.locks.contains_key(&e.lock));
    }
}
