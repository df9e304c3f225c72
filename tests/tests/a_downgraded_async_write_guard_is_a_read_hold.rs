//! `downgrade` (and `downgrade_map`, `try_downgrade_map`) turns a tokio write guard into a
//! read guard without letting go: another reader comes in, a writer still cannot, and the
//! task's held entry for the lock becomes a read, as a sync `RwLock`'s downgrade does — so a
//! lock taken after the downgrade is ordered after a read, and a read-read cycle through it
//! needs a queued writer.

use std::sync::Arc;

use lockcheck::tokio::{Mutex, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use lockcheck::Graph;
use lockcheck_tests::{held, the_deadlock};

#[tokio::test(flavor = "current_thread")]
async fn downgrade_lets_readers_in_and_keeps_writers_out() {
    let lock = RwLock::named("tk-downgrade", (1_u32, 2_u32));
    let mut writer = lock.write().await;
    writer.0 = 10;
    assert!(lock.try_read().is_err());
    assert_eq!(held(), ["tk-downgrade:lock"]);
    let reader: RwLockReadGuard<'_, (u32, u32)> = writer.downgrade();
    assert_eq!(held(), ["tk-downgrade:read"]);
    assert_eq!(lock.try_read().expect("another reader comes in").0, 10);
    assert!(lock.try_write().is_err(), "a writer still waits");
    drop(reader);
    assert!(held().is_empty());
    assert!(lock.try_write().is_ok(), "all permits are back");

    let second = RwLockWriteGuard::downgrade_map(lock.write().await, |pair| &pair.1);
    assert_eq!((*second, held()), (2, vec!["tk-downgrade:read".to_owned()]));
    assert!(lock.try_read().is_ok() && lock.try_write().is_err());
    drop(second);
    let writer = RwLockWriteGuard::try_downgrade_map(lock.write().await, |_| None::<&u8>).expect_err("nothing");
    assert_eq!(held(), ["tk-downgrade:lock"], "a failed try_downgrade_map is still a write");
    assert!(lock.try_read().is_err());
    let first = RwLockWriteGuard::try_downgrade_map(writer, |pair| Some(&pair.0)).unwrap();
    assert_eq!((*first, held()), (10, vec!["tk-downgrade:read".to_owned()]));
    assert!(lock.try_read().is_ok() && lock.try_write().is_err());
    drop(first);
    assert!(held().is_empty() && lock.try_write().is_ok());
}

#[tokio::test(flavor = "current_thread")]
async fn an_owned_downgrade_lets_readers_in_and_keeps_writers_out() {
    let lock = Arc::new(RwLock::named("tk-downgrade-owned", (1_u32, 2_u32)));
    let writer: OwnedRwLockWriteGuard<(u32, u32)> = Arc::clone(&lock).write_owned().await;
    let reader: OwnedRwLockReadGuard<(u32, u32)> = writer.downgrade();
    assert_eq!(held(), ["tk-downgrade-owned:read"]);
    assert!(Arc::clone(&lock).try_read_owned().is_ok() && Arc::clone(&lock).try_write_owned().is_err());
    drop(reader);
    assert!(Arc::clone(&lock).try_write_owned().is_ok());

    let second = OwnedRwLockWriteGuard::downgrade_map(Arc::clone(&lock).write_owned().await, |pair| &pair.1);
    assert_eq!((*second, held()), (2, vec!["tk-downgrade-owned:read".to_owned()]));
    assert!(lock.try_read().is_ok() && lock.try_write().is_err());
    drop(second);
    let writer = OwnedRwLockWriteGuard::try_downgrade_map(Arc::clone(&lock).write_owned().await, |_| None::<&u8>)
        .expect_err("nothing");
    assert_eq!(held(), ["tk-downgrade-owned:lock"]);
    let first = OwnedRwLockWriteGuard::try_downgrade_map(writer, |pair| Some(&pair.0)).unwrap();
    assert_eq!(held(), ["tk-downgrade-owned:read"]);
    assert!(lock.try_read().is_ok() && lock.try_write().is_err());
    drop(first);
    assert!(held().is_empty() && lock.try_write().is_ok());
}

/// One task reads `x` (through a downgraded write) and then takes `y`; another takes `y`
/// and then reads `x`. Had the downgrade left the entry a write, the cycle would need no
/// queued writer; as a read, it says it does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_taken_after_a_downgrade_is_ordered_after_a_read() {
    static X: RwLock<u32> = RwLock::named("tk-downgrade-order-x", 0);
    static Y: Mutex<u32> = Mutex::named("tk-downgrade-order-y", 0);
    tokio::spawn(async {
        let x = X.write().await.downgrade();
        *Y.lock().await += *x;
    })
    .await
    .unwrap();
    tokio::spawn(async {
        let _y = Y.lock().await;
        let _x = X.read().await;
    })
    .await
    .unwrap();
    let cycle = the_deadlock(&["tk-downgrade-order-x", "tk-downgrade-order-y"], Graph::Instance);
    let from_x = cycle.edges.iter().find(|e| e.from.class == "tk-downgrade-order-x").unwrap();
    assert_eq!(from_x.from_mode, lockcheck::Mode::Shared, "held as a read after the downgrade");
    assert!(cycle.notes.iter().any(|n| n.contains("writer queues")), "{:?}", cycle.notes);
}
