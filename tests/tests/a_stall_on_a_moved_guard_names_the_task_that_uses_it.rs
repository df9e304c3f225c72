//! A task locks a tokio mutex and sends the guard to another task, which uses it and sleeps
//! holding it; a third task waits for the mutex past the watchdog's threshold. The stall
//! names the task holding the guard now — the watchdog's owner hint moved with the hold —
//! and not the task that took the lock, which is gone.

use std::sync::Arc;
use std::time::Duration;

use lockcheck::tokio::{Mutex, OwnedMutexGuard};
use lockcheck::Finding;
use lockcheck_tests::child::{self, THRESHOLD_MS};
use tokio::sync::oneshot;

async fn scenario() {
    let config = Arc::new(Mutex::named("tk-stall-moved", 0_u32));
    let (send, receive) = oneshot::channel::<OwnedMutexGuard<u32>>();
    let (used, is_used) = oneshot::channel::<String>();
    let c = Arc::clone(&config);
    let acquirer = tokio::spawn(async move {
        send.send(c.lock_owned().await).unwrap();
        format!("task {}", tokio::task::id())
    });
    let user = tokio::spawn(async move {
        let mut guard = receive.await.unwrap();
        *guard += 1;
        used.send(format!("task {}", tokio::task::id())).unwrap();
        tokio::time::sleep(Duration::from_millis(THRESHOLD_MS * 3)).await;
    });
    let acquirer = acquirer.await.unwrap();
    let user_name = is_used.await.unwrap();
    let waiter = tokio::spawn(async move {
        *config.lock().await += 1;
    });
    user.await.unwrap();
    waiter.await.unwrap();
    let report = lockcheck::report();
    let stall = report.findings.iter().find_map(|f| match f {
        Finding::Stall(hang) => Some(hang),
        _ => None,
    });
    let stall = stall.unwrap_or_else(|| panic!("a stall:\n{report}"));
    let holder = stall.threads.iter().find(|t| t.holds.iter().any(|h| h.lock.class == "tk-stall-moved"));
    let holder = holder.unwrap_or_else(|| panic!("someone holds the lock: {stall:?}"));
    assert_eq!(holder.thread, user_name, "the task using the guard holds it: {stall:?}");
    assert!(stall.threads.iter().all(|t| t.thread != acquirer), "the acquirer is out of it: {stall:?}");
}

#[test]
fn a_stall_on_a_moved_guard_names_the_task_that_uses_it() {
    if child::is_child() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        return runtime.block_on(scenario());
    }
    let out = child::run("a_stall_on_a_moved_guard_names_the_task_that_uses_it", &[], Duration::from_secs(20));
    out.check(out.succeeded(), "the child runs to the end");
    out.check(out.stderr.contains("lockcheck: STALL"), "a stall is printed");
}
