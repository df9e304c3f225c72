//! tokio's `RwLock` queues readers behind a waiting writer, as parking_lot's does, and its
//! `Semaphore` blocks like a lock but may be taken again by its holder: held by tasks, their
//! modes are judged exactly as the sync primitives' are.

use lockcheck::tokio::{Mutex, RwLock, Semaphore};
use lockcheck::{Graph, OnCycle};
use lockcheck_tests::{cycles, held, self_deadlocks, the_deadlock};

/// Runs `body` as a task of its own, to the end.
async fn task<F: std::future::Future<Output = ()> + Send + 'static>(body: F) {
    tokio::spawn(body).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_read_cycle_needs_a_queued_writer_and_says_so() {
    static X: RwLock<()> = RwLock::named("tk-sem-rr-x", ());
    static Y: Mutex<()> = Mutex::named("tk-sem-rr-y", ());
    task(async {
        let _x = X.read().await;
        let _y = Y.lock().await;
    })
    .await;
    task(async {
        let _y = Y.lock().await;
        let _x = X.read().await;
    })
    .await;
    let cycle = the_deadlock(&["tk-sem-rr-x", "tk-sem-rr-y"], Graph::Instance);
    assert!(cycle.notes.iter().any(|n| n.contains("writer queues")), "{:?}", cycle.notes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_against_a_read_needs_no_queued_writer() {
    static X: RwLock<()> = RwLock::named("tk-sem-rw-x", ());
    static Y: Mutex<()> = Mutex::named("tk-sem-rw-y", ());
    task(async {
        let _x = X.read().await;
        let _y = Y.lock().await;
    })
    .await;
    task(async {
        let _y = Y.lock().await;
        let _x = X.write().await;
    })
    .await;
    let cycle = the_deadlock(&["tk-sem-rw-x", "tk-sem-rw-y"], Graph::Instance);
    assert!(cycle.notes.iter().all(|n| !n.contains("writer queues")), "{:?}", cycle.notes);
}

#[tokio::test(flavor = "current_thread")]
async fn a_second_read_in_one_task_is_a_deadlock_only_if_a_writer_queues() {
    lockcheck::set_on_cycle(OnCycle::Ignore);
    static X: RwLock<u32> = RwLock::named("tk-sem-reread", 0);
    task(async {
        let first = X.read().await;
        let second = X.read().await;
        assert_eq!(held(), ["tk-sem-reread:read", "tk-sem-reread:read"]);
        assert_eq!(*first + *second, 0);
    })
    .await;
    let found = self_deadlocks("tk-sem-reread");
    assert_eq!(found.len(), 1);
    assert!(!found[0].certain, "only a writer queued in between makes it one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permits_take_part_in_the_order_graph_and_may_be_taken_twice() {
    static PERMITS: Semaphore = Semaphore::named("tk-sem-permits", 2);
    static STATE: Mutex<()> = Mutex::named("tk-sem-state", ());
    task(async {
        let _one = PERMITS.acquire().await.unwrap();
        let _two = PERMITS.acquire().await.unwrap();
        let _state = STATE.lock().await;
        assert_eq!(held(), ["tk-sem-permits:acquire", "tk-sem-permits:acquire", "tk-sem-state:lock"]);
    })
    .await;
    assert!(self_deadlocks("tk-sem-permits").is_empty(), "a semaphore's permits may be taken twice");
    assert!(cycles(&["tk-sem-permits", "tk-sem-state"]).is_empty());
    task(async {
        let _state = STATE.lock().await;
        let _permit = PERMITS.acquire().await.unwrap();
    })
    .await;
    the_deadlock(&["tk-sem-permits", "tk-sem-state"], Graph::Instance);
}

#[tokio::test(flavor = "current_thread")]
async fn try_acquisitions_add_no_edge_into_the_tried_lock() {
    static A: Mutex<()> = Mutex::named("tk-sem-try-a", ());
    static B: Semaphore = Semaphore::named("tk-sem-try-b", 1);
    task(async {
        let _a = A.lock().await;
        let _b = B.try_acquire().unwrap();
    })
    .await;
    task(async {
        let _b = B.acquire().await.unwrap();
        let _a = A.try_lock().unwrap();
    })
    .await;
    assert!(cycles(&["tk-sem-try-a", "tk-sem-try-b"]).is_empty());
}
