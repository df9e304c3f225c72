//! A thread-local destructor that deadlocks with another thread is watched like any other
//! code: the watchdog reports the deadlock and aborts. The destructor's thread waited on a
//! lock before (so lockcheck's own per-thread wait record was made after the user's
//! thread-local, and is destroyed before its destructor runs).

use std::cell::RefCell;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use lockcheck::Mutex;
use lockcheck_tests::child;

static POOL: Mutex<u32> = Mutex::named("pool", 0);
static LEDGER: Mutex<u32> = Mutex::named("ledger", 0);

/// Returns a connection to the pool at thread exit, noting it in the ledger.
struct ReturnsToPool {
    go: Receiver<()>,
    pool_held: Sender<()>,
}

impl Drop for ReturnsToPool {
    fn drop(&mut self) {
        self.go.recv().unwrap();
        let _pool = POOL.lock();
        self.pool_held.send(()).unwrap();
        *LEDGER.lock() += 1;
    }
}

thread_local! {
    static CONNECTION: RefCell<Option<ReturnsToPool>> = const { RefCell::new(None) };
}

fn scenario() {
    let (go, wait_for_go) = mpsc::channel();
    let (pool_held, is_pool_held) = mpsc::channel();
    let (waited, has_waited) = mpsc::channel();
    let ledger = LEDGER.lock();
    let user = thread::Builder::new()
        .name("pool-user".into())
        .spawn(move || {
            CONNECTION.with(|c| *c.borrow_mut() = Some(ReturnsToPool { go: wait_for_go, pool_held }));
            // A contended wait: the thread's wait record is made now, after the connection.
            *LEDGER.lock() += 1;
            waited.send(()).unwrap();
        })
        .unwrap();
    thread::sleep(Duration::from_millis(50));
    drop(ledger);
    has_waited.recv().unwrap();
    let _ledger = LEDGER.lock();
    go.send(()).unwrap();
    is_pool_held.recv().unwrap();
    child::blocking_now();
    *POOL.lock() += 1;
    drop(user);
}

#[test]
fn a_deadlock_inside_a_thread_local_destructor_is_reported() {
    if child::is_child() {
        return scenario();
    }
    let out = child::run("a_deadlock_inside_a_thread_local_destructor_is_reported", &[], Duration::from_secs(20));
    out.check(out.aborted(), "the watchdog aborts the child");
    let report = out.stderr.split("lockcheck: DEADLOCK").nth(1).unwrap_or_default();
    out.check(report.contains("`pool-user`"), "the deadlock names the destructor's thread");
    out.check(report.contains("`pool`") && report.contains("`ledger`"), "and both locks");
}
