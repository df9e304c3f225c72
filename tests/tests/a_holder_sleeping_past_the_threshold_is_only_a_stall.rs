//! SCENARIOS F4: a lock holder sleeps past the watchdog threshold, then releases. No
//! deadlock: a stall warning only, and the program carries on and ends normally.

use std::thread;
use std::time::Duration;

use lockcheck::{Finding, Mutex};
use lockcheck_tests::child::{self, THRESHOLD_MS};

static CACHE: Mutex<u32> = Mutex::named("cache", 0);

fn scenario() {
    let guard = CACHE.lock();
    let waiter = thread::Builder::new().name("reader".into()).spawn(|| *CACHE.lock() + 1).unwrap();
    thread::sleep(Duration::from_millis(THRESHOLD_MS * 2));
    drop(guard);
    assert_eq!(waiter.join().unwrap(), 1);
    // The watchdog symbolises the waiter's stack before it reports: allow it the time.
    let stalled = || lockcheck::report().findings.iter().any(|f| matches!(f, Finding::Stall(_)));
    for _ in 0..100 {
        if stalled() {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let report = lockcheck::report();
    assert!(report.findings.iter().any(|f| matches!(f, Finding::Stall(_))), "a stall:\n{report}");
    assert!(!report.has_failures(), "only a warning:\n{report}");
    println!("carried on");
}

#[test]
fn a_holder_sleeping_past_the_threshold_is_only_a_stall() {
    if child::is_child() {
        return scenario();
    }
    let out = child::run("a_holder_sleeping_past_the_threshold_is_only_a_stall", &[], Duration::from_secs(20));
    out.check(out.succeeded() && out.stdout.contains("carried on"), "the child carries on and ends normally");
    out.check(out.stderr.contains("lockcheck: STALL"), "a stall warning");
    out.check(!out.stderr.contains("lockcheck: DEADLOCK"), "no deadlock");
}
