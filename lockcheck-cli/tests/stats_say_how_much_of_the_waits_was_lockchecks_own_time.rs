//! A long wait's stack is taken by the waiting thread while it waits: lockcheck's own time,
//! inside the wait figures. The trace counts it, and `stats` says how much it was.

mod common;

use common::{lockcheck, record};
use lockcheck::trace::{EventKind, TraceData};

#[test]
fn stats_say_how_much_of_the_waits_was_lockchecks_own_time() {
    // Every contended wait of 1 µs or more takes a stack.
    let dir = record("hotspot", &[("LOCKCHECK_WAIT_STACKS_US", "1")]);
    let trace = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    let mut with_stacks = 0;
    let data = TraceData::load_with(&trace, |_, e| {
        if let EventKind::Acquired { stack: Some(_), .. } | EventKind::TimedOut { stack: Some(_), .. } = e.kind {
            with_stacks += 1;
        }
    })
    .unwrap();
    assert!(with_stacks > 0, "hotspot waits, and its waits take stacks");
    if data.events_lost() == 0 {
        assert_eq!(data.own_time.wait_stacks, with_stacks, "one count per stack a wait carries");
    }
    assert!(data.own_time.wait_stack_ns > 0);

    let stats = lockcheck(&["stats", dir.to_str().unwrap()]);
    assert_eq!(stats.code, Some(0), "{stats:?}");
    let line =
        format!("waits include lockcheck's own time: {} stacks taken while waiting, ", data.own_time.wait_stacks);
    assert!(stats.stdout.contains(&line), "{line}\nin\n{}", stats.stdout);
}
