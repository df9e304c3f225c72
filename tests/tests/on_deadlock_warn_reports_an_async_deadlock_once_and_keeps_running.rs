//! `LOCKCHECK_ON_DEADLOCK=warn` holds for async deadlocks too: two tasks waiting for each
//! other's tokio mutexes are reported once, recorded in `report()`, and the runtime keeps
//! running its other tasks; here a timeout around one of the waits, longer than the
//! threshold, then cancels it and the process ends on its own.

use std::sync::Arc;
use std::time::Duration;

use lockcheck::tokio::Mutex;
use lockcheck::Finding;
use lockcheck_tests::child::{self, THRESHOLD_MS};
use tokio::sync::Barrier;

static NORTH: Mutex<()> = Mutex::named("tk-warn-north", ());
static SOUTH: Mutex<()> = Mutex::named("tk-warn-south", ());

async fn scenario() {
    let barrier = Arc::new(Barrier::new(2));
    let b = Arc::clone(&barrier);
    let patient = tokio::spawn(async move {
        let _north = NORTH.lock().await;
        b.wait().await;
        let _south = SOUTH.lock().await;
    });
    let impatient = tokio::spawn(async move {
        let _south = SOUTH.lock().await;
        barrier.wait().await;
        let gave_up = tokio::time::timeout(Duration::from_millis(THRESHOLD_MS * 5 + 2_000), NORTH.lock()).await;
        assert!(gave_up.is_err(), "the deadlock lasts until the timeout cancels the wait");
    });
    // Other tasks still run meanwhile.
    let ticks = tokio::spawn(async {
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(THRESHOLD_MS / 2)).await;
        }
    });
    ticks.await.unwrap();
    impatient.await.unwrap();
    patient.await.unwrap();
    let report = lockcheck::report();
    let deadlocks = report.findings.iter().filter(|f| matches!(f, Finding::ActualDeadlock(_))).count();
    assert_eq!(deadlocks, 1, "one deadlock recorded:\n{report}");
    println!("still running");
}

#[test]
fn on_deadlock_warn_reports_an_async_deadlock_once_and_keeps_running() {
    if child::is_child() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        return runtime.block_on(scenario());
    }
    let out = child::run(
        "on_deadlock_warn_reports_an_async_deadlock_once_and_keeps_running",
        &[("LOCKCHECK_ON_DEADLOCK", "warn"), ("LOCKCHECK_STACKS", "0")],
        Duration::from_secs(20),
    );
    out.check(out.succeeded() && out.stdout.contains("still running"), "the child keeps running");
    out.check(out.stderr.matches("lockcheck: DEADLOCK").count() == 1, "reported once");
    out.check(!out.stderr.contains("lockcheck: STALL"), "the deadlocked waits are not also stalls");
}
