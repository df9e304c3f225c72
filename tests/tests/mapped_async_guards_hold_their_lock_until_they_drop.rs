//! tokio's guard methods on `lockcheck::tokio`'s guards: `map` and `try_map` narrow a guard
//! to a part of the data and keep the lock, and the task's hold of it, until the mapped guard
//! drops — the lock cannot be taken meanwhile, lockcheck's held set still has it, and a lock
//! taken under a mapped guard is ordered after it. A `try_map` that finds nothing gives the
//! guard back, still locked; `mutex` and `rwlock` name the lock a guard holds.

use std::sync::Arc;

use lockcheck::tokio::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, OwnedRwLockMappedWriteGuard,
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
use lockcheck::Graph;
use lockcheck_tests::{held, the_deadlock};

#[derive(Debug, Default)]
struct Account {
    balance: u64,
    history: Vec<u64>,
}

#[tokio::test(flavor = "current_thread")]
async fn a_mapped_mutex_guard_holds_the_mutex() {
    let lock = Mutex::named("tk-map-mutex", Account::default());
    let guard = lock.lock().await;
    assert!(std::ptr::eq(MutexGuard::mutex(&guard), &lock));
    let mut balance: MappedMutexGuard<'_, u64> = MutexGuard::map(guard, |a| &mut a.balance);
    *balance += 5;
    assert!(lock.try_lock().is_err(), "the mapped guard still holds the mutex");
    assert_eq!(held(), ["tk-map-mutex:lock"]);
    let mut same = MappedMutexGuard::map(balance, |b| b);
    *same *= 2;
    let same = MappedMutexGuard::try_map(same, |_| None::<&mut u8>).expect_err("nothing to map to");
    assert_eq!(*same, 10);
    assert!(lock.try_lock().is_err(), "a failed try_map gives the guard back, locked");
    drop(same);
    assert!(held().is_empty());
    let guard = lock.try_lock().expect("free once the mapped guard dropped");
    let guard = MutexGuard::try_map(guard, |_| None::<&mut u8>).expect_err("nothing to map to");
    assert_eq!(guard.balance, 10);
    let history = MutexGuard::try_map(guard, |a| Some(&mut a.history)).unwrap();
    assert_eq!(format!("{history:?}"), "[]");
    assert_eq!(held(), ["tk-map-mutex:lock"]);
    drop(history);
    assert!(lock.try_lock().is_ok());
}

#[tokio::test(flavor = "current_thread")]
async fn a_mapped_owned_mutex_guard_holds_the_mutex() {
    let lock = Arc::new(Mutex::named("tk-map-owned-mutex", Account::default()));
    let guard: OwnedMutexGuard<Account> = Arc::clone(&lock).lock_owned().await;
    assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&guard), &lock));
    let mut balance: OwnedMappedMutexGuard<Account, u64> = OwnedMutexGuard::map(guard, |a| &mut a.balance);
    *balance = 7;
    assert!(lock.try_lock().is_err());
    assert_eq!(held(), ["tk-map-owned-mutex:lock"]);
    let balance = OwnedMappedMutexGuard::try_map(balance, |_| None::<&mut u8>).expect_err("nothing to map to");
    let balance = OwnedMappedMutexGuard::map(balance, |b| b);
    assert_eq!(format!("{balance} {balance:?}"), "7 7");
    drop(balance);
    assert!(held().is_empty());
    let guard = Arc::clone(&lock).try_lock_owned().unwrap();
    let guard = OwnedMutexGuard::try_map(guard, |_| None::<&mut u8>).expect_err("nothing to map to");
    let history = OwnedMutexGuard::try_map(guard, |a| Some(&mut a.history)).unwrap();
    let history = OwnedMappedMutexGuard::try_map(history, |h| Some(h)).unwrap();
    assert!(history.is_empty() && lock.try_lock().is_err());
    drop(history);
    assert_eq!(lock.try_lock().unwrap().balance, 7);
}

#[tokio::test(flavor = "current_thread")]
async fn a_mapped_read_guard_keeps_writers_out() {
    let lock = Arc::new(RwLock::named("tk-map-read", Account { balance: 3, history: vec![1] }));
    let balance: RwLockReadGuard<'_, u64> = RwLockReadGuard::map(lock.read().await, |a| &a.balance);
    assert_eq!(*balance, 3);
    assert!(lock.try_write().is_err(), "the mapped read guard still reads");
    assert!(lock.try_read().is_ok(), "other readers come in");
    assert_eq!(held(), ["tk-map-read:read"]);
    let balance = RwLockReadGuard::try_map(balance, |_| None::<&u8>).expect_err("nothing to map to");
    drop(balance);
    assert!(held().is_empty() && lock.try_write().is_ok());

    let owned: OwnedRwLockReadGuard<Account> = Arc::clone(&lock).read_owned().await;
    assert!(Arc::ptr_eq(OwnedRwLockReadGuard::rwlock(&owned), &lock));
    let history: OwnedRwLockReadGuard<Account, Vec<u64>> = OwnedRwLockReadGuard::map(owned, |a| &a.history);
    let first = OwnedRwLockReadGuard::try_map(history, |h| h.first()).unwrap();
    assert_eq!(*first, 1);
    assert!(lock.try_write().is_err());
    assert_eq!(held(), ["tk-map-read:read"]);
    let first = OwnedRwLockReadGuard::try_map(first, |_| None::<&u8>).expect_err("nothing to map to");
    drop(first);
    assert!(held().is_empty());
    let reader = Arc::clone(&lock).try_read_owned().unwrap();
    assert!(Arc::clone(&lock).try_write_owned().is_err());
    drop(reader);
    assert!(Arc::clone(&lock).try_write_owned().is_ok());
}

#[tokio::test(flavor = "current_thread")]
async fn a_mapped_write_guard_keeps_everyone_out() {
    let lock = Arc::new(RwLock::named("tk-map-write", Account::default()));
    let mut balance: RwLockMappedWriteGuard<'_, u64> = RwLockWriteGuard::map(lock.write().await, |a| &mut a.balance);
    *balance = 4;
    assert!(lock.try_read().is_err() && lock.try_write().is_err());
    assert_eq!(held(), ["tk-map-write:lock"]);
    let balance = RwLockMappedWriteGuard::try_map(balance, |_| None::<&mut u8>).expect_err("nothing to map to");
    let mut balance = RwLockMappedWriteGuard::map(balance, |b| b);
    *balance += 1;
    drop(balance);
    assert!(held().is_empty());
    let whole: RwLockMappedWriteGuard<'_, Account> = RwLockWriteGuard::into_mapped(lock.try_write().unwrap());
    let whole = RwLockMappedWriteGuard::try_map(whole, |a| Some(&mut a.history)).unwrap();
    assert!(lock.try_read().is_err());
    drop(whole);
    let guard = RwLockWriteGuard::try_map(lock.write().await, |_| None::<&mut u8>).expect_err("nothing to map to");
    assert_eq!(guard.balance, 5);
    let history = RwLockWriteGuard::try_map(guard, |a| Some(&mut a.history)).unwrap();
    assert!(lock.try_read().is_err());
    drop(history);

    let owned: OwnedRwLockWriteGuard<Account> = Arc::clone(&lock).write_owned().await;
    assert!(Arc::ptr_eq(OwnedRwLockWriteGuard::rwlock(&owned), &lock));
    let owned = OwnedRwLockWriteGuard::try_map(owned, |_| None::<&mut u8>).expect_err("nothing to map to");
    let mut balance: OwnedRwLockMappedWriteGuard<Account, u64> = OwnedRwLockWriteGuard::map(owned, |a| &mut a.balance);
    *balance *= 10;
    assert!(Arc::ptr_eq(OwnedRwLockMappedWriteGuard::rwlock(&balance), &lock));
    assert!(lock.try_read().is_err());
    assert_eq!(held(), ["tk-map-write:lock"]);
    let balance = OwnedRwLockMappedWriteGuard::try_map(balance, |_| None::<&mut u8>).expect_err("nothing to map to");
    let balance = OwnedRwLockMappedWriteGuard::map(balance, |b| b);
    let balance = OwnedRwLockMappedWriteGuard::try_map(balance, |b| Some(b)).unwrap();
    assert_eq!(*balance, 50);
    drop(balance);
    let whole: OwnedRwLockMappedWriteGuard<Account> =
        OwnedRwLockWriteGuard::into_mapped(Arc::clone(&lock).try_write_owned().unwrap());
    assert!(lock.try_read().is_err() && whole.history.is_empty());
    drop(whole);
    assert!(held().is_empty() && lock.try_write().is_ok());
}

/// Two tasks, one after the other: the first holds `first` through a mapped guard while it
/// takes `second`, the second the other way round. Only if the mapped guard still counts as
/// held is that a cycle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_taken_under_a_mapped_guard_is_ordered_after_it() {
    let first = Arc::new(Mutex::named("tk-map-order-a", Account::default()));
    let second = Arc::new(RwLock::named("tk-map-order-b", 0_u64));
    let (f, s) = (Arc::clone(&first), Arc::clone(&second));
    tokio::spawn(async move {
        let mut balance = MutexGuard::map(f.lock().await, |a| &mut a.balance);
        tokio::task::yield_now().await;
        *balance += *s.read().await;
    })
    .await
    .unwrap();
    tokio::spawn(async move {
        let mut count = RwLockWriteGuard::map(second.write().await, |n| n);
        *count += 1;
        first.lock().await.history.push(*count);
    })
    .await
    .unwrap();
    let cycle = the_deadlock(&["tk-map-order-a", "tk-map-order-b"], Graph::Instance);
    assert_ne!(cycle.edges[0].thread, cycle.edges[1].thread);
}
