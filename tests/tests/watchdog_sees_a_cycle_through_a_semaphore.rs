//! SCENARIOS H3: a one-permit semaphore and a mutex in a real cycle: one thread holds the
//! permit and waits for the mutex, the other holds the mutex and waits for a permit.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use lockcheck::{Mutex, Semaphore};
use lockcheck_tests::child::{self, THRESHOLD_MS};

static POOL: Semaphore = Semaphore::named("pool", 1);
static CATALOG: Mutex<()> = Mutex::named("catalog", ());

fn scenario() {
    let barrier = Arc::new(Barrier::new(2));
    let b = Arc::clone(&barrier);
    let one = thread::Builder::new()
        .name("borrower".into())
        .spawn(move || {
            let _permit = POOL.acquire();
            b.wait();
            child::expect_site(file!(), line!() + 1);
            let _catalog = CATALOG.lock();
        })
        .unwrap();
    let two = thread::Builder::new()
        .name("cataloguer".into())
        .spawn(move || {
            let _catalog = CATALOG.lock();
            barrier.wait();
            child::blocking_now();
            child::expect_site(file!(), line!() + 1);
            let _permit = POOL.acquire();
        })
        .unwrap();
    one.join().unwrap();
    two.join().unwrap();
}

#[test]
fn watchdog_sees_a_cycle_through_a_semaphore() {
    if child::is_child() {
        return scenario();
    }
    let out = child::run("watchdog_sees_a_cycle_through_a_semaphore", &[], Duration::from_secs(20));
    out.check(out.aborted(), "the child aborts");
    let report = out.stderr.split("lockcheck: DEADLOCK").nth(1).unwrap_or_default();
    for needle in ["`borrower`", "`cataloguer`", "`pool`", "`catalog`", "waits to acquire `pool`"] {
        out.check(report.contains(needle), &format!("the deadlock report names {needle}"));
    }
    for site in out.expected_sites() {
        out.check(report.contains(&site), &format!("the report names the site {site}"));
    }
    let detected = out.detected_after_ms().expect("the report says how long the threads waited");
    eprintln!("threshold {THRESHOLD_MS} ms: deadlock reported {detected} ms after it formed");
}
