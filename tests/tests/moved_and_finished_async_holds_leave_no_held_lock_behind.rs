//! An async guard or permit belongs to the holder that acquired it until it drops, wherever
//! it drops: moved into another task and dropped there, it leaves the acquirer's held set;
//! a finished task leaves nothing behind for the tasks after it (tokio hands a finished
//! task's id out again), so a lock they take is not judged against locks nobody holds.

use std::sync::Arc;

use lockcheck::tokio::{Mutex, Semaphore};
use lockcheck_tests::{held, self_deadlocks};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guard_moved_to_another_task_leaves_the_acquirers_held_set() {
    let lock = Arc::new(Mutex::named("tk-moved-lock", 0));
    let permits = Arc::new(Semaphore::named("tk-moved-permits", 1));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (dropped_tx, dropped) = tokio::sync::oneshot::channel::<()>();
    let receiver = tokio::spawn(async move {
        let (guard, permit) = rx.await.unwrap();
        drop::<(lockcheck::tokio::OwnedMutexGuard<u32>, lockcheck::tokio::OwnedSemaphorePermit)>((guard, permit));
        dropped_tx.send(()).unwrap();
        assert!(held().is_empty(), "the receiver never held them: {:?}", held());
    });
    let (l, p) = (Arc::clone(&lock), Arc::clone(&permits));
    tokio::spawn(async move {
        let guard = Arc::clone(&l).lock_owned().await;
        let permit = p.acquire_owned().await.unwrap();
        assert_eq!(held(), ["tk-moved-lock:lock", "tk-moved-permits:acquire"]);
        tx.send((guard, permit)).unwrap();
        dropped.await.unwrap();
        assert!(held().is_empty(), "released by the other task: {:?}", held());
        // Checked against what it holds now: nothing, so no self-deadlock.
        *l.lock().await += 1;
    })
    .await
    .unwrap();
    receiver.await.unwrap();
    assert!(self_deadlocks("tk-moved-lock").is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn finished_tasks_leave_nothing_to_later_ones() {
    let lock = Arc::new(Mutex::named("tk-finished-lock", 0));
    for _ in 0..500 {
        let lock = Arc::clone(&lock);
        tokio::spawn(async move {
            let mut guard = lock.lock().await;
            tokio::task::yield_now().await;
            *guard += 1;
        })
        .await
        .unwrap();
    }
    for _ in 0..20 {
        let lock = Arc::clone(&lock);
        tokio::spawn(async move {
            assert!(held().is_empty(), "a new task starts holding nothing: {:?}", held());
            *lock.lock().await += 1;
        })
        .await
        .unwrap();
    }
    assert!(held().is_empty());
    assert!(self_deadlocks("tk-finished-lock").is_empty());
    assert_eq!(*lock.lock().await, 520);
}
