//! A lock future dropped while it waits (`tokio::time::timeout`, `select!`) takes its wait
//! with it: the watchdog sees nothing past the threshold although the holder keeps the lock,
//! and the task that gave up holds nothing.

use std::time::Duration;

use lockcheck::tokio::Mutex;
use lockcheck_tests::child::{self, THRESHOLD_MS};
use lockcheck_tests::held;

static JOBS: Mutex<u32> = Mutex::named("tk-drop-jobs", 0);

async fn scenario() {
    let (held_tx, is_held) = tokio::sync::oneshot::channel::<()>();
    let (go, wait_for_go) = tokio::sync::oneshot::channel::<()>();
    let holder = tokio::spawn(async move {
        let _jobs = JOBS.lock().await;
        held_tx.send(()).unwrap();
        wait_for_go.await.unwrap();
    });
    is_held.await.unwrap();
    tokio::spawn(async {
        let gave_up = tokio::time::timeout(Duration::from_millis(20), JOBS.lock()).await;
        assert!(gave_up.is_err(), "the holder keeps the lock");
        tokio::select! {
            _ = JOBS.lock() => panic!("the holder keeps the lock"),
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        assert!(held().is_empty(), "nothing held after giving up: {:?}", held());
    })
    .await
    .unwrap();
    // Long enough for the watchdog to report a wait that was left behind.
    tokio::time::sleep(Duration::from_millis(THRESHOLD_MS * 4)).await;
    go.send(()).unwrap();
    holder.await.unwrap();
    let findings = lockcheck::report().findings;
    assert!(findings.is_empty(), "no stall, no deadlock: {findings:?}");
    // The lock works as before.
    *JOBS.lock().await += 1;
}

#[test]
fn a_dropped_async_lock_future_leaves_no_wait_and_no_hold() {
    if child::is_child() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        return runtime.block_on(scenario());
    }
    let out = child::run("a_dropped_async_lock_future_leaves_no_wait_and_no_hold", &[], Duration::from_secs(20));
    out.check(out.succeeded(), "the child runs to the end");
    out.check(!out.stderr.contains("lockcheck: STALL"), "no stall was reported");
}
