//! A tokio guard or permit sent to another task belongs to that task once it uses it (a
//! guard's deref, a permit's `num_permits`): the hold leaves the acquirer's held set and
//! joins the user's, so a lock the user takes next is ordered after it — in the user's name —
//! and a lock the acquirer takes afterwards is not.

use std::sync::Arc;

use lockcheck::tokio::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};
use lockcheck::Graph;
use lockcheck_tests::{cycles, held, the_deadlock};
use tokio::sync::oneshot;

/// The name lockcheck gives the running task.
fn this_task() -> String {
    format!("task {}", tokio::task::id())
}

/// Closes both possible cycles through `moved`: `after_use` taken before it (a cycle only if
/// the user's order `moved -> after_use` was recorded) and `after_send` taken before it (a
/// cycle only if the acquirer's `moved -> after_send` was). Then checks that the first is a
/// cycle, its edge out of `moved` in `user`'s name, and the second is none.
async fn check(
    names: [&'static str; 3],
    moved: Arc<Mutex<u32>>,
    after_use: Arc<Mutex<u32>>,
    after_send: Arc<Mutex<u32>>,
    user: String,
) {
    let [moved_name, used, sent] = names;
    for first in [after_use, after_send] {
        let m = Arc::clone(&moved);
        tokio::spawn(async move {
            let _first = first.lock().await;
            let _moved = m.lock().await;
        })
        .await
        .unwrap();
    }
    let cycle = the_deadlock(&[moved_name, used], Graph::Instance);
    let out = cycle.edges.iter().find(|e| e.from.class == moved_name).unwrap();
    assert_eq!(out.thread, user, "the order was taken by the task that used the guard");
    assert!(cycles(&[moved_name, sent]).is_empty(), "the acquirer no longer held it:\n{}", lockcheck::report());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guard_used_by_another_task_is_that_tasks() {
    let names = ["tk-follow-guard", "tk-follow-guard-used", "tk-follow-guard-sent"];
    let moved = Arc::new(Mutex::named(names[0], 0_u32));
    let after_use = Arc::new(Mutex::named(names[1], 0_u32));
    let after_send = Arc::new(Mutex::named(names[2], 0_u32));
    let (send, receive) = oneshot::channel::<OwnedMutexGuard<u32>>();
    let (used, wait_used) = oneshot::channel();
    let (sent_taken, wait_sent_taken) = oneshot::channel();

    let l2 = Arc::clone(&after_use);
    let user = tokio::spawn(async move {
        let mut guard = receive.await.unwrap();
        *guard += 1;
        assert_eq!(held(), ["tk-follow-guard:lock"]);
        used.send(()).unwrap();
        *l2.lock().await += *guard;
        wait_sent_taken.await.unwrap();
        this_task()
    });
    let (m, l3) = (Arc::clone(&moved), Arc::clone(&after_send));
    tokio::spawn(async move {
        let guard = m.lock_owned().await;
        assert_eq!(held(), ["tk-follow-guard:lock"]);
        send.send(guard).unwrap();
        wait_used.await.unwrap();
        assert!(held().is_empty(), "the hold went with the guard: {:?}", held());
        *l3.lock().await += 1;
        sent_taken.send(()).unwrap();
    })
    .await
    .unwrap();
    let user = user.await.unwrap();
    assert!(moved.try_lock().is_ok(), "the user dropped it");
    check(names, moved, after_use, after_send, user).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permit_used_by_another_task_is_that_tasks() {
    let names = ["tk-follow-permit", "tk-follow-permit-used", "tk-follow-permit-sent"];
    let moved = Arc::new(Semaphore::named(names[0], 1));
    let after_use = Arc::new(Mutex::named(names[1], 0_u32));
    let after_send = Arc::new(Mutex::named(names[2], 0_u32));
    let (send, receive) = oneshot::channel::<OwnedSemaphorePermit>();
    let (used, wait_used) = oneshot::channel();
    let (sent_taken, wait_sent_taken) = oneshot::channel();

    let l2 = Arc::clone(&after_use);
    let user = tokio::spawn(async move {
        let permit = receive.await.unwrap();
        assert_eq!(permit.num_permits(), 1);
        assert_eq!(held(), ["tk-follow-permit:acquire"]);
        used.send(()).unwrap();
        *l2.lock().await += 1;
        wait_sent_taken.await.unwrap();
        drop(permit);
        this_task()
    });
    let (s, l3) = (Arc::clone(&moved), Arc::clone(&after_send));
    tokio::spawn(async move {
        let permit = s.acquire_owned().await.unwrap();
        send.send(permit).unwrap();
        wait_used.await.unwrap();
        assert!(held().is_empty(), "the hold went with the permit: {:?}", held());
        *l3.lock().await += 1;
        sent_taken.send(()).unwrap();
    })
    .await
    .unwrap();
    let user = user.await.unwrap();
    assert_eq!(moved.available_permits(), 1);
    check_permit(names, &moved, after_use, after_send, user).await;
}

/// [`check`] for a semaphore: the cycles are closed by acquiring a permit.
async fn check_permit(
    names: [&'static str; 3],
    moved: &Arc<Semaphore>,
    after_use: Arc<Mutex<u32>>,
    after_send: Arc<Mutex<u32>>,
    user: String,
) {
    let [moved_name, used, sent] = names;
    for first in [after_use, after_send] {
        let s = Arc::clone(moved);
        tokio::spawn(async move {
            let _first = first.lock().await;
            let _permit = s.acquire().await.unwrap();
        })
        .await
        .unwrap();
    }
    let cycle = the_deadlock(&[moved_name, used], Graph::Instance);
    let out = cycle.edges.iter().find(|e| e.from.class == moved_name).unwrap();
    assert_eq!(out.thread, user, "the order was taken by the task that used the permit");
    assert!(cycles(&[moved_name, sent]).is_empty(), "the acquirer no longer held it:\n{}", lockcheck::report());
}

/// Outside any task (a `#[tokio::test]` body, inside `block_on`), the thread is the holder:
/// a guard it sends to a task moves to that task the same way.
#[tokio::test(flavor = "current_thread")]
async fn a_guard_sent_from_block_on_to_a_task_is_the_tasks() {
    let moved = Arc::new(Mutex::named("tk-follow-block-on", 0_u32));
    let later = Mutex::named("tk-follow-block-on-later", 0_u32);
    let guard = Arc::clone(&moved).lock_owned().await;
    assert_eq!(held(), ["tk-follow-block-on:lock"]);
    let user = tokio::spawn(async move {
        let mut guard = guard;
        *guard += 1;
        assert_eq!(held(), ["tk-follow-block-on:lock"]);
        guard
    });
    let guard = user.await.unwrap();
    assert!(held().is_empty(), "the task used it last: {:?}", held());
    *later.lock().await += 1;
    assert_eq!(*guard, 1, "used here again: back in this thread's held set");
    assert_eq!(held(), ["tk-follow-block-on:lock"]);
    drop(guard);
    assert!(held().is_empty());
    let _later = later.lock().await;
    let _moved = moved.lock().await;
    assert!(cycles(&["tk-follow-block-on", "tk-follow-block-on-later"]).is_empty(), "{}", lockcheck::report());
}

/// A guard read through shared references from several threads at once moves from one to
/// the next, whole: when its task uses it again it holds it once, and its drop leaves
/// nothing behind anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guard_read_from_several_threads_at_once_moves_whole() {
    let lock = Mutex::named("tk-follow-shared", 1_u32);
    let guard = lock.lock().await;
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..1_000 {
                    assert_eq!(*guard, 1);
                }
                assert!(held().len() <= 1, "{:?}", held());
            });
        }
    });
    assert_eq!(*guard, 1);
    assert_eq!(held(), ["tk-follow-shared:lock"]);
    drop(guard);
    assert!(held().is_empty());
    assert!(lock.try_lock().is_ok());
}
