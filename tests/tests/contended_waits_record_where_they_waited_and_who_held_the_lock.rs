use lockcheck::trace::{Event, EventKind, Holder, TraceData};
use lockcheck_tests::traces::{load, run_child, thread};

/// The waiter's contended acquisitions of the ledger: (wait, stack, holder).
fn waits(data: &TraceData, events: &[Event]) -> Vec<(u64, Option<u32>, Option<Holder>)> {
    let waiter = thread(data, "waiter");
    events
        .iter()
        .filter(|e| e.thread == waiter && data.class_of(e.lock).is_some_and(|c| c.label == "child-ledger"))
        .filter_map(|e| match e.kind {
            EventKind::Acquired { wait_ns: Some(w), stack, holder, .. } => Some((w, stack, holder)),
            _ => None,
        })
        .collect()
}

#[test]
fn contended_waits_record_where_they_waited_and_who_held_the_lock() {
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["waits"], &[]);
    assert!(run.output.status.success(), "{}", String::from_utf8_lossy(&run.output.stderr));
    let holder_line: u32 = run.stdout().lines().find_map(|l| l.strip_prefix("holder-line ")?.parse().ok()).unwrap();
    let (data, events) = load(&run.path);
    assert!(data.complete && data.warning.is_none());
    let waits = waits(&data, &events);
    // The holder sleeps 2 ms with the lock: most rounds wait about that long (a round whose
    // waiter came late to the lock may not wait at all).
    let long: Vec<_> = waits.iter().filter(|(w, ..)| *w >= 1_000_000).collect();
    assert!(long.len() >= 5, "{waits:?}");

    let holder = thread(&data, "holder");
    // The waiter takes its stack while it still waits, 20 µs into the wait: a round in which
    // it was descheduled before blocking (a loaded machine) can wait long and still find the
    // lock free at that moment, and take none. Most rounds block, and take one.
    let stacked = long.iter().filter(|(_, stack, _)| stack.is_some()).count();
    assert!(stacked >= 5, "{waits:?}");
    for (_, stack, who) in &long {
        let who = who.expect("a wait for an exclusive owner names it");
        assert_eq!(who.thread, holder);
        let site = &data.sites[&who.site];
        assert!(site.file.ends_with("trace_child.rs") && site.line == holder_line, "{site:?}, line {holder_line}");

        let Some(stack) = stack else { continue };
        let frames = &data.stacks[stack];
        assert!(frames[0].contains("trace_child::wait_for_the_ledger"), "innermost first: {frames:#?}");
        assert!(frames[0].contains("trace_child.rs:"), "{frames:#?}");
        assert!(!frames.iter().any(|f| f.contains("lockcheck::")), "lockcheck's frames are trimmed: {frames:#?}");
    }
    // Every round waited at one call site: one stack, declared once.
    let mut ids: Vec<u32> = long.iter().filter_map(|(_, stack, _)| *stack).collect();
    ids.dedup();
    assert_eq!(ids.len(), 1, "identical stacks share an id: {ids:?}");
}

#[test]
fn wait_stacks_can_be_switched_off_and_holders_remain() {
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["waits"], &[("LOCKCHECK_WAIT_STACKS_US", "0")]);
    assert!(run.output.status.success(), "{}", String::from_utf8_lossy(&run.output.stderr));
    let (data, events) = load(&run.path);
    let waits = waits(&data, &events);
    assert!(data.stacks.is_empty());
    assert!(waits.iter().all(|(_, stack, _)| stack.is_none()));
    assert!(waits.iter().any(|(w, _, who)| *w >= 1_000_000 && who.is_some()), "{waits:?}");
}
