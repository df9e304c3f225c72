//! Two tasks take two tokio mutexes in opposite orders, one after the other (so nothing
//! hangs): the held locks are the tasks', the orders meet in the lock-order graph, and the
//! cycle is reported as a potential deadlock naming both tasks. On tokio's multi-thread and
//! current-thread runtimes.

use std::sync::Arc;

use lockcheck::tokio::Mutex;
use lockcheck::Graph;
use lockcheck_tests::the_deadlock;

async fn invert(a: &'static str, b: &'static str) {
    let first = Arc::new(Mutex::named(a, 0));
    let second = Arc::new(Mutex::named(b, 0));
    let (f, s) = (Arc::clone(&first), Arc::clone(&second));
    tokio::spawn(async move {
        let _first = f.lock().await;
        tokio::task::yield_now().await;
        *s.lock().await += 1;
    })
    .await
    .unwrap();
    tokio::spawn(async move {
        let _second = second.lock().await;
        tokio::task::yield_now().await;
        *first.lock().await += 1;
    })
    .await
    .unwrap();
}

fn check(a: &str, b: &str) {
    let cycle = the_deadlock(&[a, b], Graph::Instance);
    assert_eq!(cycle.edges.len(), 2);
    for edge in &cycle.edges {
        assert!(edge.thread.starts_with("task "), "the holder is the task, not a worker: {}", edge.thread);
    }
    assert_ne!(cycle.edges[0].thread, cycle.edges[1].thread, "two tasks took the two orders");
    assert!(!cycle.single_thread);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_multi_thread_runtime() {
    invert("tk-abba-mt-a", "tk-abba-mt-b").await;
    check("tk-abba-mt-a", "tk-abba-mt-b");
}

#[tokio::test(flavor = "current_thread")]
async fn on_the_current_thread_runtime() {
    invert("tk-abba-ct-a", "tk-abba-ct-b").await;
    check("tk-abba-ct-a", "tk-abba-ct-b");
}
