//! A `!Send` sync guard can cross an `.await` in a `LocalSet` (or on a current-thread
//! runtime): its task is suspended with the lock held while other tasks run on the thread.
//! When another task acquires a lock there while that sync lock, held through the first task's
//! async code, is still held, it is reported with both sites: clippy's `await_holding_lock`,
//! observed. A guard dropped before the task suspends is not.

// What the lint warns about, on purpose: lockcheck must see it too.
#![allow(clippy::await_holding_lock)]

use lockcheck::{Finding, Misuse};
use tokio::task::{spawn_local, LocalSet};

fn misuses(lock: &str) -> Vec<Misuse> {
    lockcheck::report()
        .findings
        .into_iter()
        .filter_map(|f| match f {
            Finding::Misuse(m) if m.held.lock.class == lock => Some(m),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn a_guard_held_while_its_task_is_suspended_is_reported() {
    static CONFIG: lockcheck::Mutex<u32> = lockcheck::Mutex::named("tk-cross-config", 0);
    static JOBS: lockcheck::tokio::Mutex<u32> = lockcheck::tokio::Mutex::named("tk-cross-jobs", 0);
    static OTHER: lockcheck::tokio::Mutex<u32> = lockcheck::tokio::Mutex::named("tk-cross-other", 0);
    LocalSet::new()
        .run_until(async {
            let one = spawn_local(async {
                let config = CONFIG.lock();
                *JOBS.lock().await += *config;
                tokio::task::yield_now().await; // the guard crosses this await
                drop(config);
            });
            let two = spawn_local(async { *OTHER.lock().await += 1 });
            one.await.unwrap();
            two.await.unwrap();
        })
        .await;
    let found = misuses("tk-cross-config");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].what.contains("`tk-cross-other` at tests/tests/"), "the other task's site: {}", found[0].what);
    assert!(found[0].held.site.file.ends_with(file!()), "where the guard was taken: {:?}", found[0].held.site);
}

#[tokio::test(flavor = "current_thread")]
async fn a_guard_dropped_before_its_task_suspends_is_not() {
    static CONFIG: lockcheck::Mutex<u32> = lockcheck::Mutex::named("tk-nocross-config", 0);
    static JOBS: lockcheck::tokio::Mutex<u32> = lockcheck::tokio::Mutex::named("tk-nocross-jobs", 0);
    static OTHER: lockcheck::tokio::Mutex<u32> = lockcheck::tokio::Mutex::named("tk-nocross-other", 0);
    LocalSet::new()
        .run_until(async {
            let one = spawn_local(async {
                let config = CONFIG.lock();
                *JOBS.lock().await += *config;
                drop(config);
                tokio::task::yield_now().await;
            });
            let two = spawn_local(async { *OTHER.lock().await += 1 });
            one.await.unwrap();
            two.await.unwrap();
        })
        .await;
    assert!(misuses("tk-nocross-config").is_empty());
}
