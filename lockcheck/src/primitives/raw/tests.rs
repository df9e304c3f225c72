//! The raw locks through lock_api, instrumented or not: small enough for Miri (`.ci/run`
//! runs them under it), which checks the unsafe code of the acquisition protocol, the held
//! stack and the owner hints along the way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{RawMutex, RawRwLock};

type Mutex<T> = lock_api::Mutex<RawMutex, T>;
type RwLock<T> = lock_api::RwLock<RawRwLock, T>;

#[test]
fn a_mutex_serialises_two_threads() {
    let counter = Mutex::new(0u64);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..20 {
                    *counter.lock() += 1;
                }
            });
        }
    });
    assert_eq!(*counter.lock(), 40);
}

#[test]
fn try_lock_and_timed_lock_fail_while_held_and_succeed_after() {
    let lock = Mutex::new(());
    let held = lock.lock();
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(lock.try_lock().is_none());
            assert!(lock.try_lock_for(Duration::from_millis(1)).is_none());
        });
    });
    drop(held);
    assert!(lock.try_lock().is_some());
    assert!(lock.try_lock_for(Duration::from_millis(1)).is_some());
}

#[test]
fn readers_share_a_writer_excludes_and_an_upgrade_round_trips() {
    let lock = RwLock::new(0u64);
    // A second read on the same thread is recursive: a plain one would be a finding.
    let (a, b) = (lock.read(), lock.read_recursive());
    assert!(lock.try_write().is_none());
    drop((a, b));
    *lock.write() += 1;
    let upgradable = lock.upgradable_read();
    assert!(lock.try_upgradable_read().is_none());
    let mut writer = lock_api::RwLockUpgradableReadGuard::upgrade(upgradable);
    *writer += 1;
    let reader = lock_api::RwLockWriteGuard::downgrade(writer);
    assert_eq!(*reader, 2);
    drop(reader);
    let seen = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| seen.fetch_add(*lock.read(), Ordering::Relaxed));
        }
    });
    assert_eq!(seen.into_inner(), 4);
}
