//! A task that locks a tokio mutex it already holds, deeper in its call path, would wait
//! forever without a word. It is reported before the lock future first waits: with
//! `LOCKCHECK_ON_CYCLE=panic` the task panics instead of hanging (a timeout guards the test
//! all the same).

use std::time::Duration;

use lockcheck::tokio::{Mutex, RwLock};
use lockcheck::OnCycle;
use lockcheck_tests::self_deadlocks;

static CACHE: Mutex<Vec<u32>> = Mutex::named("tk-self-cache", Vec::new());

async fn refresh() {
    CACHE.lock().await.clear();
}

async fn update() {
    let mut cache = CACHE.lock().await;
    cache.push(1);
    refresh().await; // locks CACHE again
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutex_locked_again_by_its_task_panics_before_waiting() {
    lockcheck::set_on_cycle(OnCycle::Panic);
    let task = tokio::spawn(update());
    let joined = tokio::time::timeout(Duration::from_secs(10), task).await.expect("reported, not hung");
    let panic = joined.expect_err("the task panics at the second lock").into_panic();
    let message = panic.downcast::<String>().expect("a report");
    assert!(message.contains("DEADLOCK: LOCK ACQUIRED TWICE") && message.contains("tk-self-cache"), "{message}");
    let found = self_deadlocks("tk-self-cache");
    assert_eq!(found.len(), 1);
    assert!(found[0].certain);
    assert!(found[0].thread.starts_with("task "), "the task is named: {}", found[0].thread);
    assert!(CACHE.try_lock().is_ok(), "the unwinding task released its first guard");
}

#[tokio::test(flavor = "current_thread")]
async fn a_write_under_a_read_of_the_same_task_panics_before_waiting() {
    lockcheck::set_on_cycle(OnCycle::Panic);
    static CONFIG: RwLock<u32> = RwLock::named("tk-self-config", 0);
    let task = tokio::spawn(async {
        let _read = CONFIG.read().await;
        *CONFIG.write().await += 1;
    });
    let joined = tokio::time::timeout(Duration::from_secs(10), task).await.expect("reported, not hung");
    assert!(joined.unwrap_err().is_panic());
    assert!(self_deadlocks("tk-self-config")[0].certain);
}
