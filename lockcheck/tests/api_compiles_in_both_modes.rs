//! Every name and method of the public contract (DESIGN.md §3), used once. This file is built
//! with and without the `instrument` feature; the same code must compile and behave the same.

use std::time::{Duration, Instant};

use lockcheck::{
    Condvar, MappedMutexGuard, MappedRwLockReadGuard, Mutex, MutexGuard, ReentrantMutex, ReentrantMutexGuard, RwLock,
    RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard, Semaphore, SemaphorePermit, WaitTimeoutResult,
};

static STATIC_MUTEX: Mutex<u32> = Mutex::new(0);
static NAMED: Mutex<u32> = Mutex::named("api-named", 0);
static RANKED: Mutex<u32> = Mutex::ranked("api-ranked", 1, 0);
static RW: RwLock<u32> = RwLock::ranked("api-rw", 2, 0);
static RE: ReentrantMutex<u32> = ReentrantMutex::ranked("api-re", 3, 0);
static SEM: Semaphore = Semaphore::ranked("api-sem", 4, 2);
static CV: Condvar = Condvar::new();

#[test]
fn mutex_api() {
    let mut m = Mutex::new(1);
    *m.get_mut() += 1;
    {
        let g: MutexGuard<'_, i32> = m.lock();
        assert!(m.is_locked());
        let mapped: MappedMutexGuard<'_, i32> = MutexGuard::map(g, |v| v);
        assert_eq!(*mapped, 2);
    }
    assert!(m.try_lock().is_some());
    assert!(m.try_lock_for(Duration::from_millis(1)).is_some());
    assert!(m.try_lock_until(Instant::now()).is_some());
    let g = m.lock();
    let g = MutexGuard::try_map(g, |v| Some(v)).ok().unwrap();
    drop(g);
    let mut g = m.lock();
    MutexGuard::unlocked(&mut g, || ());
    std::mem::forget(g);
    // SAFETY: locked by this thread above, guard forgotten.
    unsafe { m.force_unlock() };
    assert!(!m.data_ptr().is_null());
    assert_eq!(m.into_inner(), 2);
    *STATIC_MUTEX.lock() += 1;
    *NAMED.lock() += 1;
    *RANKED.lock() += 1;
    let _ = Mutex::<Vec<u8>>::default();
    let _ = Mutex::from(5u8);
}

#[test]
fn rwlock_api() {
    let mut rw = RwLock::named("api-rw-local", 1);
    *rw.get_mut() += 1;
    {
        let r: RwLockReadGuard<'_, i32> = rw.read();
        let mapped: MappedRwLockReadGuard<'_, i32> = RwLockReadGuard::map(r, |v| v);
        assert_eq!(*mapped, 2);
    }
    drop(rw.read_recursive());
    drop(rw.try_read());
    drop(rw.try_write());
    drop(rw.try_read_for(Duration::from_millis(1)));
    drop(rw.try_write_until(Instant::now()));
    let u: RwLockUpgradableReadGuard<'_, i32> = rw.upgradable_read();
    let w: RwLockWriteGuard<'_, i32> = RwLockUpgradableReadGuard::upgrade(u);
    let r = RwLockWriteGuard::downgrade(w);
    drop(r);
    assert!(!rw.is_locked());
    assert_eq!(rw.into_inner(), 2);
    *RW.write() += 1;
}

#[test]
fn reentrant_api() {
    let re = ReentrantMutex::named("api-re-local", 7);
    let a: ReentrantMutexGuard<'_, i32> = re.lock();
    let b = re.lock();
    assert!(re.is_owned_by_current_thread());
    assert_eq!(*a + *b, 14);
    drop((a, b));
    assert!(re.try_lock_for(Duration::from_millis(1)).is_some());
    let _ = RE.lock();
}

#[test]
fn condvar_api() {
    let m = Mutex::new(false);
    let mut g = m.lock();
    let r: WaitTimeoutResult = CV.wait_for(&mut g, Duration::from_millis(1));
    assert!(r.timed_out());
    assert!(CV.wait_until(&mut g, Instant::now()).timed_out());
    assert!(CV.wait_while_for(&mut g, |ready| !*ready, Duration::from_millis(1)).timed_out());
    *g = true;
    CV.wait_while(&mut g, |ready| !*ready);
    assert!(!CV.notify_one());
    assert_eq!(CV.notify_all(), 0);
}

#[test]
fn semaphore_api() {
    let sem = Semaphore::new(3);
    let p: SemaphorePermit<'_> = sem.acquire();
    let many = sem.acquire_many(2);
    assert_eq!(many.num_permits(), 2);
    assert!(sem.try_acquire().is_none());
    assert!(sem.try_acquire_for(Duration::from_millis(1)).is_none());
    p.forget();
    drop(many);
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), 3);
    let _ = SEM.acquire();
}

#[test]
fn the_report_api_exists_in_both_modes() {
    lockcheck::set_on_cycle(lockcheck::OnCycle::Warn);
    let report = lockcheck::report();
    assert!(!report.has_failures());
    lockcheck::assert_no_deadlocks();
    assert!(lockcheck::held_locks().is_empty());
}
