//! One task holds a sync mutex while it awaits a tokio mutex (sync -> async: a `!Send` future,
//! so a local task); another holds the tokio mutex while it takes the sync one (async ->
//! sync). Run one after the other, so nothing hangs: both orders are edges of one graph, and
//! the cycle is reported.
// What the lint warns about, on purpose: lockcheck must see it too.
#![allow(clippy::await_holding_lock)]

use std::sync::Arc;

use lockcheck::Graph;
use lockcheck_tests::the_deadlock;

async fn invert(sync_name: &'static str, async_name: &'static str) {
    let sync = Arc::new(lockcheck::Mutex::named(sync_name, 0));
    let tasks = Arc::new(lockcheck::tokio::Mutex::named(async_name, 0));
    let (s, t) = (Arc::clone(&sync), Arc::clone(&tasks));
    let local = tokio::task::LocalSet::new();
    let in_a_local_task = async move {
        let mut held = s.lock();
        // A sync guard held across the await: clippy's `await_holding_lock`, observed.
        *held += *t.lock().await;
    };
    local.run_until(async move { tokio::task::spawn_local(in_a_local_task).await.unwrap() }).await;
    tokio::spawn(async move {
        let held = tasks.lock().await;
        tokio::task::yield_now().await;
        *sync.lock() += *held;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_multi_thread_runtime() {
    invert("tk-mix-mt-sync", "tk-mix-mt-async").await;
    let cycle = the_deadlock(&["tk-mix-mt-sync", "tk-mix-mt-async"], Graph::Instance);
    assert!(!cycle.single_thread, "two tasks took the two orders:\n{cycle:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn on_the_current_thread_runtime() {
    invert("tk-mix-ct-sync", "tk-mix-ct-async").await;
    the_deadlock(&["tk-mix-ct-sync", "tk-mix-ct-async"], Graph::Instance);
}

#[tokio::test(flavor = "current_thread")]
async fn in_the_body_of_block_on_the_thread_is_the_holder() {
    let sync = lockcheck::Mutex::named("tk-mix-bo-sync", 0);
    let tasks = lockcheck::tokio::Mutex::named("tk-mix-bo-async", 0);
    {
        let _sync = sync.lock();
        drop(tasks.lock().await);
    }
    {
        let _async = tasks.lock().await;
        assert_eq!(lockcheck_tests::held(), ["tk-mix-bo-async:lock"], "held by the body's holder");
        drop(sync.lock());
    }
    let cycle = the_deadlock(&["tk-mix-bo-sync", "tk-mix-bo-async"], Graph::Instance);
    assert!(cycle.edges.iter().any(|e| e.thread.ends_with("(block_on)")), "{cycle:?}");
}
