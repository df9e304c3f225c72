//! `LOCKCHECK_ON_DEADLOCK=warn`: a real deadlock is reported once, recorded in `report()`,
//! and the process keeps running (here it then exits on its own).

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use lockcheck::{Finding, Mutex};
use lockcheck_tests::child::{self, THRESHOLD_MS};

static LEFT: Mutex<()> = Mutex::named("left", ());
static RIGHT: Mutex<()> = Mutex::named("right", ());

fn scenario() {
    let barrier = Arc::new(Barrier::new(3));
    for (name, first, second) in [("east", &LEFT, &RIGHT), ("west", &RIGHT, &LEFT)] {
        let barrier = Arc::clone(&barrier);
        thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _first = first.lock();
                barrier.wait();
                let _second = second.lock();
            })
            .unwrap();
    }
    barrier.wait();
    thread::sleep(Duration::from_millis(THRESHOLD_MS * 5 + 2_000));
    let report = lockcheck::report();
    let deadlocks = report.findings.iter().filter(|f| matches!(f, Finding::ActualDeadlock(_))).count();
    assert_eq!(deadlocks, 1, "one deadlock recorded:\n{report}");
    assert!(report.has_failures());
    println!("still running");
    // The two threads can never finish: leave without joining them.
    std::process::exit(0);
}

#[test]
fn on_deadlock_warn_reports_once_and_keeps_running() {
    if child::is_child() {
        return scenario();
    }
    let out = child::run(
        "on_deadlock_warn_reports_once_and_keeps_running",
        // No stacks: symbolising the first potential-deadlock report in a debug build can take
        // longer than this test's 300 ms threshold while that thread holds a lock, which the
        // watchdog would rightly call a stall of the other thread.
        &[("LOCKCHECK_ON_DEADLOCK", "warn"), ("LOCKCHECK_STACKS", "0")],
        Duration::from_secs(20),
    );
    out.check(out.succeeded() && out.stdout.contains("still running"), "the child keeps running");
    out.check(out.stderr.matches("lockcheck: DEADLOCK").count() == 1, "reported once");
    out.check(!out.stderr.contains("lockcheck: STALL"), "the deadlocked waits are not also stalls");
}
