//! tokio's `blocking_lock` takes an async mutex from synchronous code (a plain thread,
//! `spawn_blocking`): the thread is the holder, and the sync locks it holds are edges into
//! the async one, as for an `.await`. Here against a task taking the two in the other order.

use std::sync::Arc;

use lockcheck::Graph;
use lockcheck_tests::{held, the_deadlock};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_lock_under_a_sync_lock_closes_a_cycle_with_a_task() {
    let config = Arc::new(lockcheck::Mutex::named("tk-blocking-config", 0));
    let queue = Arc::new(lockcheck::tokio::Mutex::named("tk-blocking-queue", 0));
    let (c, q) = (Arc::clone(&config), Arc::clone(&queue));
    std::thread::spawn(move || {
        let _config = c.lock();
        *q.blocking_lock() += 1;
        assert_eq!(held(), ["tk-blocking-config:lock"], "the async lock went back at the end of the statement");
    })
    .join()
    .unwrap();
    tokio::spawn(async move {
        let _queue = queue.lock().await;
        *config.lock() += 1;
    })
    .await
    .unwrap();
    the_deadlock(&["tk-blocking-config", "tk-blocking-queue"], Graph::Instance);
}
