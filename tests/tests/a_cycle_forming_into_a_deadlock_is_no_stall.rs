//! A thread that has just closed a lock-order cycle, and is about to block on it, is part of
//! a deadlock in the making, not a stalled holder: the watchdog reports the deadlock alone,
//! with no stall before it, on stderr or in the trace. (Symbolising the cycle's stacks on
//! that thread, while it held its first lock, once made the other thread look stalled.)

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use lockcheck::{Finding, Mutex};
use lockcheck_tests::child;

static LEFT: Mutex<u32> = Mutex::named("left", 0);
static RIGHT: Mutex<u32> = Mutex::named("right", 0);

fn take(first: &Mutex<u32>, second: &Mutex<u32>, barrier: &Barrier) {
    let _first = first.lock();
    barrier.wait();
    let _second = second.lock();
}

fn scenario() {
    let barrier = Arc::new(Barrier::new(2));
    let b = Arc::clone(&barrier);
    let one = thread::Builder::new().name("left-first".into()).spawn(move || take(&LEFT, &RIGHT, &b)).unwrap();
    let two = thread::Builder::new().name("right-first".into()).spawn(move || take(&RIGHT, &LEFT, &barrier)).unwrap();
    one.join().unwrap();
    two.join().unwrap();
}

#[test]
fn a_cycle_forming_into_a_deadlock_is_no_stall() {
    if child::is_child() {
        return scenario();
    }
    let trace = lockcheck_tests::traces::temp_dir("forming").join("forming.lctrace");
    let trace_env = trace.to_str().expect("a UTF-8 temp path");
    let out = child::run(
        "a_cycle_forming_into_a_deadlock_is_no_stall",
        // Findings are printed as they are found, so a stall would show.
        &[("LOCKCHECK_TRACE", trace_env), ("LOCKCHECK_ON_CYCLE", "warn")],
        Duration::from_secs(20),
    );
    out.check(out.aborted(), "the child aborts on the deadlock");
    out.check(out.stderr.contains("lockcheck: DEADLOCK"), "the deadlock is reported");
    out.check(!out.stderr.contains("STALL"), "no stall is reported");
    let data = lockcheck::trace::TraceData::load(&trace).expect("the aborted child left a readable trace");
    out.check(data.findings.iter().any(|f| matches!(f, Finding::ActualDeadlock(_))), "the trace holds the deadlock");
    out.check(!data.findings.iter().any(|f| matches!(f, Finding::Stall(_))), "and no stall");
}
