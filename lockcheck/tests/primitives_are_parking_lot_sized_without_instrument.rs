//! Without the `instrument` feature every primitive is parking_lot's, at its size.
#![cfg(not(feature = "instrument"))]

use std::mem::size_of;

#[test]
fn sizes_match_parking_lot() {
    assert_eq!(size_of::<lockcheck::Mutex<u64>>(), size_of::<parking_lot::Mutex<u64>>());
    assert_eq!(size_of::<lockcheck::Mutex<()>>(), size_of::<parking_lot::Mutex<()>>());
    assert_eq!(size_of::<lockcheck::RwLock<u64>>(), size_of::<parking_lot::RwLock<u64>>());
    assert_eq!(size_of::<lockcheck::ReentrantMutex<u64>>(), size_of::<parking_lot::ReentrantMutex<u64>>());
    assert_eq!(size_of::<lockcheck::Condvar>(), size_of::<parking_lot::Condvar>());
    assert_eq!(size_of::<lockcheck::MutexGuard<'_, u64>>(), size_of::<parking_lot::MutexGuard<'_, u64>>());
}

#[test]
fn guards_are_parking_lots_own_types() {
    fn takes_parking_lot_guard(_: parking_lot::MutexGuard<'_, u8>) {}
    let m = lockcheck::Mutex::new(0u8);
    takes_parking_lot_guard(m.lock());
    let cv = parking_lot::Condvar::new();
    let _: &lockcheck::Condvar = &cv;
}

#[test]
fn the_sync_family_is_std_sized() {
    use lockcheck::sync;
    assert_eq!(size_of::<sync::Mutex<u64>>(), size_of::<std::sync::Mutex<u64>>());
    assert_eq!(size_of::<sync::Mutex<()>>(), size_of::<std::sync::Mutex<()>>());
    assert_eq!(size_of::<sync::RwLock<u64>>(), size_of::<std::sync::RwLock<u64>>());
    assert_eq!(size_of::<sync::Condvar>(), size_of::<std::sync::Condvar>());
    assert_eq!(size_of::<sync::OnceLock<u64>>(), size_of::<std::sync::OnceLock<u64>>());
    assert_eq!(size_of::<sync::LazyLock<u64>>(), size_of::<std::sync::LazyLock<u64>>());
    assert_eq!(size_of::<sync::MutexGuard<'_, u64>>(), size_of::<std::sync::MutexGuard<'_, u64>>());
}

#[test]
fn the_sync_family_s_guards_and_condvar_are_std_s_own() {
    fn takes_std_guard(_: std::sync::MutexGuard<'_, u8>) {}
    fn takes_std_read_guard(_: std::sync::RwLockReadGuard<'_, u8>) {}
    let m = lockcheck::sync::Mutex::new(0u8);
    takes_std_guard(m.lock().unwrap());
    let rw = lockcheck::sync::RwLock::new(0u8);
    takes_std_read_guard(rw.read().unwrap());
    let cv = std::sync::Condvar::new();
    let _: &lockcheck::sync::Condvar = &cv;
}
