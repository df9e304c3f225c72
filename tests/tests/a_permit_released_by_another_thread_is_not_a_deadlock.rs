//! SCENARIOS H4: a permit acquired in one thread and released in another, while a third
//! waits for it under the watchdog: nothing is reported, no misuse, and the process ends
//! normally.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lockcheck::{Finding, Semaphore, SemaphorePermit};
use lockcheck_tests::child::{self, THRESHOLD_MS};

static POOL: Semaphore = Semaphore::named("pool", 1);

fn scenario() {
    let (hand, take) = mpsc::channel::<SemaphorePermit<'static>>();
    thread::Builder::new()
        .name("producer".into())
        .spawn(move || hand.send(POOL.acquire()).unwrap())
        .unwrap()
        .join()
        .unwrap();
    let consumer = thread::Builder::new()
        .name("consumer".into())
        .spawn(move || {
            let permit = take.recv().unwrap();
            thread::sleep(Duration::from_millis(THRESHOLD_MS / 2));
            drop(permit);
        })
        .unwrap();
    // Contended: this wait is published, and the watchdog scans it.
    let again = POOL.acquire();
    drop(again);
    consumer.join().unwrap();
    thread::sleep(Duration::from_millis(THRESHOLD_MS));
    let report = lockcheck::report();
    assert!(report.findings.is_empty(), "nothing to report:\n{report}");
    assert!(!report.findings.iter().any(|f| matches!(f, Finding::Misuse(_))));
}

#[test]
fn a_permit_released_by_another_thread_is_not_a_deadlock() {
    if child::is_child() {
        return scenario();
    }
    let out = child::run("a_permit_released_by_another_thread_is_not_a_deadlock", &[], Duration::from_secs(20));
    out.check(out.succeeded(), "the child ends normally");
    out.check(!out.stderr.contains("lockcheck:"), "nothing is reported");
}
