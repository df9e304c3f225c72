//! A lock holder that keeps waiting on other lockcheck primitives (locks, condition
//! variables) is making progress through lockcheck, or forming a cycle: the thread waiting
//! behind it is no stall yet. Once the holder has gone a full watchdog period without such a
//! wait (here: it sleeps), the waiter's stall is reported, once (SCENARIOS F4 keeps its verdict).

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lockcheck::{Condvar, Finding, Mutex};
use lockcheck_tests::child::{self, THRESHOLD_MS};

static CATALOG: Mutex<u32> = Mutex::named("catalog", 0);
static INDEX: Mutex<u32> = Mutex::named("index", 0);
static SIGNAL: Mutex<bool> = Mutex::named("signal", false);
static RAISED: Condvar = Condvar::new();

/// How long the holder stays busy on lockcheck's primitives: several thresholds.
const BUSY_MS: u64 = THRESHOLD_MS * 4;

/// Holds `catalog` while it waits, again and again, for `index`, which another thread holds
/// for 30 ms at a time (every wait contended).
fn busy_on_locks() {
    let (taken, is_taken) = mpsc::channel();
    let (done, is_done) = mpsc::channel::<()>();
    let indexer = thread::Builder::new()
        .name("indexer".into())
        .spawn(move || {
            while let Ok(()) = is_done.recv() {
                let index = INDEX.lock();
                taken.send(()).unwrap();
                thread::sleep(Duration::from_millis(30));
                drop(index);
            }
        })
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(BUSY_MS) {
        done.send(()).unwrap();
        is_taken.recv().unwrap();
        *INDEX.lock() += 1;
    }
    drop(done);
    indexer.join().unwrap();
}

/// Holds `catalog` while it waits, again and again, on a condition variable that times out.
fn busy_on_a_condvar() {
    let start = Instant::now();
    let mut signal = SIGNAL.lock();
    while start.elapsed() < Duration::from_millis(BUSY_MS) {
        RAISED.wait_for(&mut signal, Duration::from_millis(30));
    }
}

fn scenario(busy: fn()) {
    let catalog = CATALOG.lock();
    let reader = thread::Builder::new().name("reader".into()).spawn(|| *CATALOG.lock() + 1).unwrap();
    busy();
    // Quiet now: the stall is due a threshold from here. The watchdog symbolises the reader's
    // stack before it reports: allow it the time.
    let stalled = || lockcheck::report().findings.iter().any(|f| matches!(f, Finding::Stall(_)));
    let quiet = Instant::now();
    while !stalled() && quiet.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(50));
    }
    drop(catalog);
    assert_eq!(reader.join().unwrap(), 1);
}

fn check(test: &str, waits_on: &str) {
    let out = child::run(test, &[], Duration::from_secs(30));
    out.check(out.succeeded(), "the child ends normally");
    out.check(out.stderr.matches("lockcheck: STALL").count() == 1, "one stall, once the holder went quiet");
    out.check(!out.stderr.contains("lockcheck: DEADLOCK"), "no deadlock");
    let waited = out.detected_after_ms().expect("the stall says how long the reader waited");
    out.check(waited >= BUSY_MS, &format!("not while the holder waited on {waits_on} ({waited} ms)"));
    // The holder is the child's test thread, named after the test.
    out.check(out.stderr.contains(&format!("held by thread `{test}`")), "the stall names the holder");
}

#[test]
fn a_holder_still_waiting_on_other_locks_is_no_stall() {
    if child::is_child() {
        return scenario(busy_on_locks);
    }
    check("a_holder_still_waiting_on_other_locks_is_no_stall", "a lock");
}

#[test]
fn a_holder_still_waiting_on_a_condvar_is_no_stall() {
    if child::is_child() {
        return scenario(busy_on_a_condvar);
    }
    check("a_holder_still_waiting_on_a_condvar_is_no_stall", "a condition variable");
}
