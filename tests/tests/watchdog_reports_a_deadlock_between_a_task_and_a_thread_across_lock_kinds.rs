//! A real deadlock across lock kinds: a task holds a tokio mutex and blocks its worker on a
//! sync mutex; a plain thread holds that sync mutex and waits for the tokio one
//! (`blocking_lock`). The worker's wait carries the async lock its task holds, the thread's
//! async wait carries the sync lock it holds, and the watchdog closes the cycle and aborts.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use lockcheck_tests::child;

static SETTINGS: lockcheck::Mutex<u32> = lockcheck::Mutex::named("tk-kinds-settings", 0);
static SESSIONS: lockcheck::tokio::Mutex<u32> = lockcheck::tokio::Mutex::named("tk-kinds-sessions", 0);

fn scenario() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let b = Arc::clone(&barrier);
    let thread = std::thread::Builder::new()
        .name("settings-writer".into())
        .spawn(move || {
            let _settings = SETTINGS.lock();
            b.wait();
            child::expect_site(file!(), line!() + 1);
            *SESSIONS.blocking_lock() += 1;
        })
        .unwrap();
    runtime.block_on(async move {
        tokio::spawn(async move {
            let _sessions = SESSIONS.lock().await;
            barrier.wait();
            child::blocking_now();
            child::expect_site(file!(), line!() + 1);
            *SETTINGS.lock() += 1;
        })
        .await
        .unwrap();
    });
    thread.join().unwrap();
}

#[test]
fn watchdog_reports_a_deadlock_between_a_task_and_a_thread_across_lock_kinds() {
    if child::is_child() {
        return scenario();
    }
    let out = child::run(
        "watchdog_reports_a_deadlock_between_a_task_and_a_thread_across_lock_kinds",
        &[],
        Duration::from_secs(20),
    );
    out.check(out.aborted(), "the child aborts");
    let report = out.stderr.split("lockcheck: DEADLOCK").nth(1).unwrap_or_default();
    for needle in ["`tk-kinds-settings`", "`tk-kinds-sessions`", "settings-writer"] {
        out.check(report.contains(needle), &format!("the deadlock report names {needle}"));
    }
    for site in out.expected_sites() {
        out.check(report.contains(&site), &format!("the report names the wait at {site}"));
    }
}
