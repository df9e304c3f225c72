//! A tokio guard held across an `.await` belongs to the task: when the task resumes on another
//! worker thread it still holds the lock there (and the thread it left does not), and the
//! locks it takes after the move are ordered after it.

use std::sync::Arc;
use std::thread::{self, ThreadId};
use std::time::Duration;

use lockcheck::tokio::Mutex;
use lockcheck::Graph;
use lockcheck_tests::{held, the_deadlock};

/// Parks the current worker on a blocking sleep while this task yields, so another worker
/// steals the task. Returns the thread the task resumed on.
async fn move_off(from: ThreadId) -> ThreadId {
    for _ in 0..50 {
        tokio::spawn(async { thread::sleep(Duration::from_millis(50)) });
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
        if thread::current().id() != from {
            break;
        }
    }
    thread::current().id()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_moves_with_its_task() {
    let outer = Arc::new(Mutex::named("tk-move-outer", 0));
    let inner = Arc::new(Mutex::named("tk-move-inner", 0));
    let (o, i) = (Arc::clone(&outer), Arc::clone(&inner));
    let moved = tokio::spawn(async move {
        let started_on = thread::current().id();
        let _outer = o.lock().await;
        let resumed_on = move_off(started_on).await;
        assert_ne!(started_on, resumed_on, "the task moved to the other worker");
        assert_eq!(held(), ["tk-move-outer:lock"], "still the task's on the new thread");
        let on_new_thread = thread::spawn(held).join().unwrap();
        assert!(on_new_thread.is_empty(), "a plain thread holds nothing");
        *i.lock().await += 1; // outer -> inner, after the move
        started_on
    })
    .await
    .unwrap();
    let _ = moved;
    // The other order, in another task: closes the cycle only if outer -> inner was seen.
    tokio::spawn(async move {
        let _inner = inner.lock().await;
        *outer.lock().await += 1;
    })
    .await
    .unwrap();
    the_deadlock(&["tk-move-outer", "tk-move-inner"], Graph::Instance);
}
