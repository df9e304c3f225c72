//! SCENARIOS A1 under the watchdog: a thread locks a mutex it already holds. The
//! self-deadlock is reported before it blocks; then the watchdog sees the thread waiting for
//! itself, a one-thread wait-for cycle, and aborts.

use std::thread;
use std::time::Duration;

use lockcheck::Mutex;
use lockcheck_tests::child;

static SESSION: Mutex<u32> = Mutex::named("session", 0);

fn scenario() {
    thread::Builder::new()
        .name("relocker".into())
        .spawn(|| {
            let _first = SESSION.lock();
            child::blocking_now();
            child::expect_site(file!(), line!() + 1);
            let _second = SESSION.lock();
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn a_thread_waiting_for_itself_is_aborted_by_the_watchdog() {
    if child::is_child() {
        return scenario();
    }
    let out = child::run("a_thread_waiting_for_itself_is_aborted_by_the_watchdog", &[], Duration::from_secs(20));
    out.check(out.aborted(), "the child aborts");
    out.check(out.stderr.contains("DEADLOCK: LOCK ACQUIRED TWICE"), "reported before blocking");
    let report = out.stderr.split("lockcheck: DEADLOCK\n").nth(1).unwrap_or_default();
    out.check(report.contains("`relocker` => `relocker`"), "the thread waits for itself");
    out.check(report.contains("held by thread `relocker`"), "and holds what it waits for");
    for site in out.expected_sites() {
        out.check(report.contains(&site), &format!("the report names the site {site}"));
    }
}
