//! SCENARIOS H1: a real ABBA deadlock, forced with a barrier. The cycle is reported as a
//! potential deadlock before the second thread blocks, then the watchdog finds the wait-for
//! cycle and aborts the process with both threads' stacks, after writing it to the trace.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use lockcheck::Mutex;
use lockcheck_tests::child::{self, THRESHOLD_MS};

static ACCOUNTS: Mutex<u32> = Mutex::named("accounts", 0);
static LEDGER: Mutex<u32> = Mutex::named("ledger", 0);

fn scenario() {
    let barrier = Arc::new(Barrier::new(2));
    let b = Arc::clone(&barrier);
    let one = thread::Builder::new()
        .name("worker-1".into())
        .spawn(move || {
            let _accounts = ACCOUNTS.lock();
            b.wait();
            child::expect_site(file!(), line!() + 1);
            let _ledger = LEDGER.lock();
        })
        .unwrap();
    let two = thread::Builder::new()
        .name("worker-2".into())
        .spawn(move || {
            let _ledger = LEDGER.lock();
            barrier.wait();
            child::blocking_now();
            child::expect_site(file!(), line!() + 1);
            let _accounts = ACCOUNTS.lock();
        })
        .unwrap();
    one.join().unwrap();
    two.join().unwrap();
}

#[test]
fn watchdog_aborts_a_real_abba_deadlock() {
    if child::is_child() {
        return scenario();
    }
    let trace = lockcheck_tests::traces::temp_dir("abba").join("abba.lctrace");
    let trace_env = trace.to_str().expect("a UTF-8 temp path");
    let out =
        child::run("watchdog_aborts_a_real_abba_deadlock", &[("LOCKCHECK_TRACE", trace_env)], Duration::from_secs(20));
    out.check(out.aborted(), "the child aborts");
    for needle in [
        "POTENTIAL DEADLOCK",
        "lockcheck: DEADLOCK",
        "`worker-1`",
        "`worker-2`",
        "`accounts`",
        "`ledger`",
        "SUMMARY: deadlock",
    ] {
        out.check(out.stderr.contains(needle), &format!("the report names {needle}"));
    }
    for site in out.expected_sites() {
        out.check(out.stderr.contains(&site), &format!("the report names the site {site}"));
    }
    out.check(
        out.stderr.contains("watchdog_aborts_a_real_abba_deadlock::scenario"),
        "the stacks reach the user's code",
    );
    let data = lockcheck::trace::TraceData::load(&trace).expect("the aborted child left a readable trace");
    let deadlock = data.findings.iter().find(|f| matches!(f, lockcheck::Finding::ActualDeadlock(_)));
    out.check(deadlock.is_some(), "the trace holds the deadlock finding");
    let latency = out.latency_ms.expect("the child said when it blocked");
    let detected = out.detected_after_ms().expect("the report says how long the threads waited");
    eprintln!("threshold {THRESHOLD_MS} ms: deadlock reported {detected} ms after it formed; {latency} ms from the last lock call to the end of the process");
    out.check(latency < THRESHOLD_MS + 4_000, "the child ends within a few seconds of the threshold");
}
