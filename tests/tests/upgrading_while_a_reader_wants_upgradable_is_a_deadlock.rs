//! SCENARIOS B7: one thread holds an upgradable read and upgrades, while another holds a
//! plain read and asks for the upgradable read. The upgrade waits for the reader, the reader
//! waits for the upgradable read to go: a real deadlock the watchdog reports.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use lockcheck::{RwLock, RwLockUpgradableReadGuard};
use lockcheck_tests::child;

static INDEX: RwLock<u32> = RwLock::named("index", 0);

fn scenario() {
    let barrier = Arc::new(Barrier::new(2));
    let b = Arc::clone(&barrier);
    let upgrader = thread::Builder::new()
        .name("upgrader".into())
        .spawn(move || {
            let read = INDEX.upgradable_read();
            b.wait();
            child::expect_site(file!(), line!() + 1);
            let mut write = RwLockUpgradableReadGuard::upgrade(read);
            *write += 1;
        })
        .unwrap();
    let reader = thread::Builder::new()
        .name("reader".into())
        .spawn(move || {
            let _read = INDEX.read();
            barrier.wait();
            // Let the upgrade start waiting first.
            thread::sleep(Duration::from_millis(50));
            child::blocking_now();
            child::expect_site(file!(), line!() + 1);
            let _upgradable = INDEX.upgradable_read();
        })
        .unwrap();
    upgrader.join().unwrap();
    reader.join().unwrap();
}

#[test]
fn upgrading_while_a_reader_wants_upgradable_is_a_deadlock() {
    if child::is_child() {
        return scenario();
    }
    let out = child::run("upgrading_while_a_reader_wants_upgradable_is_a_deadlock", &[], Duration::from_secs(20));
    out.check(out.aborted(), "the child aborts");
    let report = out.stderr.split("lockcheck: DEADLOCK").nth(1).unwrap_or_default();
    for needle in ["thread `upgrader` waits to lock `index`", "thread `reader` waits to upgradable_read `index`"] {
        out.check(report.contains(needle), &format!("the deadlock report says {needle}"));
    }
    for site in out.expected_sites() {
        out.check(report.contains(&site), &format!("the report names the site {site}"));
    }
}
