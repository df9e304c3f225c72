//! A real async deadlock: two tasks, each holding one tokio mutex, wait for the other's
//! (forced with a barrier). No thread is blocked, so nothing but lockcheck sees it: the
//! potential deadlock is reported before the second task waits, then the watchdog finds the
//! tasks' wait-for cycle and reports both tasks, both locks and where each waits within
//! twice its threshold, and aborts the process (`LOCKCHECK_ON_DEADLOCK=abort`, the default).
//! On tokio's multi-thread and current-thread runtimes.

use std::sync::Arc;
use std::time::Duration;

use lockcheck::tokio::Mutex;
use lockcheck_tests::child::{self, THRESHOLD_MS};
use tokio::sync::Barrier;

static ACCOUNTS: Mutex<u32> = Mutex::named("tk-dl-accounts", 0);
static LEDGER: Mutex<u32> = Mutex::named("tk-dl-ledger", 0);

fn scenario(runtime: tokio::runtime::Runtime) {
    runtime.block_on(async {
        let barrier = Arc::new(Barrier::new(2));
        let b = Arc::clone(&barrier);
        let one = tokio::spawn(async move {
            let _accounts = ACCOUNTS.lock().await;
            b.wait().await;
            child::expect_site(file!(), line!() + 1);
            *LEDGER.lock().await += 1;
        });
        let two = tokio::spawn(async move {
            let _ledger = LEDGER.lock().await;
            barrier.wait().await;
            child::blocking_now();
            child::expect_site(file!(), line!() + 1);
            *ACCOUNTS.lock().await += 1;
        });
        let _ = one.await;
        let _ = two.await;
    });
}

fn check(test: &str) {
    let out = child::run(test, &[], Duration::from_secs(20));
    out.check(out.aborted(), "the child aborts");
    for needle in
        ["POTENTIAL DEADLOCK", "lockcheck: DEADLOCK", "`tk-dl-accounts`", "`tk-dl-ledger`", "SUMMARY: deadlock"]
    {
        out.check(out.stderr.contains(needle), &format!("the report names {needle}"));
    }
    let report = out.stderr.split("lockcheck: DEADLOCK").nth(1).unwrap_or_default();
    out.check(report.matches("thread `task ").count() >= 2, "the deadlock report names both tasks");
    for site in out.expected_sites() {
        out.check(report.contains(&site), &format!("the report names the wait at {site}"));
    }
    let detected = out.detected_after_ms().expect("the report says how long the tasks waited");
    eprintln!("threshold {THRESHOLD_MS} ms: async deadlock reported {detected} ms after it formed");
    out.check(detected <= 2 * THRESHOLD_MS, "reported within twice the threshold");
}

#[test]
fn on_the_multi_thread_runtime() {
    if child::is_child() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        return scenario(runtime);
    }
    check("on_the_multi_thread_runtime");
}

#[test]
fn on_the_current_thread_runtime() {
    if child::is_child() {
        return scenario(tokio::runtime::Builder::new_current_thread().build().unwrap());
    }
    check("on_the_current_thread_runtime");
}
