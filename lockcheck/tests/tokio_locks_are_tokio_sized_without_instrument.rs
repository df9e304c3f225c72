//! Without the `instrument` feature every `lockcheck::tokio` lock is tokio's own, at its size,
//! and its guards and permits are tokio's types.
#![cfg(all(feature = "tokio", not(feature = "instrument")))]

use std::any::TypeId;
use std::mem::size_of;

#[test]
fn sizes_match_tokio() {
    assert_eq!(size_of::<lockcheck::tokio::Mutex<u64>>(), size_of::<tokio::sync::Mutex<u64>>());
    assert_eq!(size_of::<lockcheck::tokio::Mutex<()>>(), size_of::<tokio::sync::Mutex<()>>());
    assert_eq!(size_of::<lockcheck::tokio::RwLock<u64>>(), size_of::<tokio::sync::RwLock<u64>>());
    assert_eq!(size_of::<lockcheck::tokio::Semaphore>(), size_of::<tokio::sync::Semaphore>());
}

#[test]
fn guards_and_permits_are_tokios() {
    assert_eq!(
        TypeId::of::<lockcheck::tokio::MutexGuard<'static, u64>>(),
        TypeId::of::<tokio::sync::MutexGuard<'static, u64>>()
    );
    assert_eq!(
        TypeId::of::<lockcheck::tokio::OwnedMutexGuard<u64>>(),
        TypeId::of::<tokio::sync::OwnedMutexGuard<u64>>()
    );
    assert_eq!(
        TypeId::of::<lockcheck::tokio::RwLockWriteGuard<'static, u64>>(),
        TypeId::of::<tokio::sync::RwLockWriteGuard<'static, u64>>()
    );
    assert_eq!(
        TypeId::of::<lockcheck::tokio::SemaphorePermit<'static>>(),
        TypeId::of::<tokio::sync::SemaphorePermit<'static>>()
    );
}

#[test]
fn mapped_and_owned_guards_are_tokios() {
    assert_eq!(
        TypeId::of::<lockcheck::tokio::MappedMutexGuard<'static, u64>>(),
        TypeId::of::<tokio::sync::MappedMutexGuard<'static, u64>>()
    );
    assert_eq!(
        TypeId::of::<lockcheck::tokio::OwnedMappedMutexGuard<Vec<u64>, u64>>(),
        TypeId::of::<tokio::sync::OwnedMappedMutexGuard<Vec<u64>, u64>>()
    );
    assert_eq!(
        TypeId::of::<lockcheck::tokio::RwLockReadGuard<'static, u64>>(),
        TypeId::of::<tokio::sync::RwLockReadGuard<'static, u64>>()
    );
    assert_eq!(
        TypeId::of::<lockcheck::tokio::RwLockMappedWriteGuard<'static, u64>>(),
        TypeId::of::<tokio::sync::RwLockMappedWriteGuard<'static, u64>>()
    );
    assert_eq!(
        TypeId::of::<lockcheck::tokio::OwnedRwLockReadGuard<Vec<u64>, u64>>(),
        TypeId::of::<tokio::sync::OwnedRwLockReadGuard<Vec<u64>, u64>>()
    );
    assert_eq!(
        TypeId::of::<lockcheck::tokio::OwnedRwLockWriteGuard<u64>>(),
        TypeId::of::<tokio::sync::OwnedRwLockWriteGuard<u64>>()
    );
    assert_eq!(
        TypeId::of::<lockcheck::tokio::OwnedRwLockMappedWriteGuard<Vec<u64>, u64>>(),
        TypeId::of::<tokio::sync::OwnedRwLockMappedWriteGuard<Vec<u64>, u64>>()
    );
    assert_eq!(
        TypeId::of::<lockcheck::tokio::OwnedSemaphorePermit>(),
        TypeId::of::<tokio::sync::OwnedSemaphorePermit>()
    );
}
