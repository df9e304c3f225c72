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

#[test]
fn held_assertions_exist_in_both_modes() {
    let (m, rw, re, sem) = (Mutex::new(()), RwLock::new(()), ReentrantMutex::new(()), Semaphore::new(1));
    lockcheck::assert_no_locks_held();
    m.assert_not_held();
    rw.assert_not_held();
    re.assert_not_held();
    sem.assert_not_held();
    let (_m, _re, _p) = (m.lock(), re.lock(), sem.acquire());
    m.assert_held();
    re.assert_held();
    sem.assert_held();
    {
        let _r = rw.read();
        rw.assert_held();
        rw.assert_held_read();
    }
    let _w = rw.write();
    rw.assert_held_write();
}

mod std_sync {
    //! The `lockcheck::sync` family: code written against `std::sync` with only the `use` line
    //! changed.

    use std::thread;
    use std::time::Duration;

    use lockcheck::sync::{
        atomic, mpsc, Arc, Barrier, Condvar, LazyLock, LockResult, Mutex, MutexGuard, OnceLock, PoisonError, RwLock,
        RwLockReadGuard, RwLockWriteGuard, TryLockError, TryLockResult, WaitTimeoutResult, Weak,
    };

    static COUNTER: Mutex<u32> = Mutex::new(0);
    static NAMED: Mutex<u32> = Mutex::named("api-sync-named", 0);
    static RANKED: RwLock<u32> = RwLock::ranked("api-sync-ranked", 5, 0);
    static CELL: OnceLock<String> = OnceLock::new();
    static NAMED_CELL: OnceLock<u8> = OnceLock::ranked("api-sync-cell", 6);
    static LAZY: LazyLock<Vec<u8>> = LazyLock::new(|| vec![1, 2]);
    static NAMED_LAZY: LazyLock<u8> = LazyLock::named("api-sync-lazy", || 3);

    #[test]
    fn mutex_api() {
        let mut m = Mutex::new(1);
        *m.get_mut().unwrap() += 1;
        {
            let g: LockResult<MutexGuard<'_, i32>> = m.lock();
            let g = g.unwrap();
            assert_eq!(format!("{g:?} {g}"), "2 2");
            let busy: TryLockResult<MutexGuard<'_, i32>> = m.try_lock();
            assert!(matches!(busy, Err(TryLockError::WouldBlock)));
        }
        assert!(m.try_lock().is_ok());
        assert!(!m.is_poisoned());
        m.clear_poison();
        assert_eq!(format!("{m:?}"), "Mutex { data: 2, poisoned: false, .. }");
        assert_eq!(m.into_inner().unwrap(), 2);
        *COUNTER.lock().unwrap() += 1;
        *NAMED.lock().unwrap() += 1;
        let _ = Mutex::<Vec<u8>>::default();
        let _ = Mutex::from(5u8);
    }

    #[test]
    fn poisoning_is_std_s() {
        let m = Mutex::new(0);
        let outcome = thread::scope(|s| {
            s.spawn(|| {
                let _g = m.lock().unwrap();
                panic!("poisons the mutex");
            })
            .join()
        });
        assert!(outcome.is_err());
        assert!(m.is_poisoned());
        let g = m.lock().unwrap_err().into_inner();
        drop(g);
        assert!(matches!(m.try_lock(), Err(TryLockError::Poisoned(_))));
        m.clear_poison();
        assert!(m.lock().is_ok());
        let err: PoisonError<u8> = PoisonError::new(1);
        assert_eq!(err.into_inner(), 1);
    }

    #[test]
    fn rwlock_api() {
        let mut rw = RwLock::named("api-sync-rw", 1);
        *rw.get_mut().unwrap() += 1;
        {
            let r: RwLockReadGuard<'_, i32> = rw.read().unwrap();
            assert_eq!(*r, 2);
            assert!(matches!(rw.try_write(), Err(TryLockError::WouldBlock)));
            rw.assert_held_read();
        }
        {
            let mut w: RwLockWriteGuard<'_, i32> = rw.write().unwrap();
            *w += 1;
            rw.assert_held_write();
        }
        assert!(rw.try_read().is_ok() && rw.try_write().is_ok());
        assert!(!rw.is_poisoned());
        rw.clear_poison();
        assert_eq!(format!("{rw:?}"), "RwLock { data: 3, poisoned: false, .. }");
        assert_eq!(rw.into_inner().unwrap(), 3);
        *RANKED.write().unwrap() += 1;
        let _ = RwLock::<u8>::default();
        let _ = RwLock::from(1u8);
    }

    #[test]
    fn condvar_api() {
        static CV: Condvar = Condvar::new();
        let pair = (Mutex::new(false), Condvar::new());
        let g = pair.0.lock().unwrap();
        let (g, r): (MutexGuard<'_, bool>, WaitTimeoutResult) = CV.wait_timeout(g, Duration::from_millis(1)).unwrap();
        assert!(r.timed_out());
        let (mut g, r) = pair.1.wait_timeout_while(g, Duration::from_millis(1), |ready| !*ready).unwrap();
        assert!(r.timed_out());
        *g = true;
        let g = pair.1.wait_while(g, |ready| !*ready).unwrap();
        drop(g);
        let (tx, rx) = mpsc::channel();
        thread::scope(|s| {
            s.spawn(|| {
                let mut ready = pair.0.lock().unwrap();
                tx.send(()).unwrap();
                while *ready {
                    ready = pair.1.wait(ready).unwrap();
                }
            });
            rx.recv().unwrap();
            *pair.0.lock().unwrap() = false;
            pair.1.notify_one();
            pair.1.notify_all();
        });
        CV.notify_all();
        let _ = Condvar::default();
    }

    #[test]
    fn once_and_lazy_api() {
        assert_eq!(CELL.get_or_init(|| "a".to_owned()), "a");
        assert_eq!(CELL.set("b".to_owned()), Err("b".to_owned()));
        assert_eq!(CELL.get().map(String::as_str), Some("a"));
        assert_eq!(*NAMED_CELL.get_or_init(|| 1), 1);
        let mut local: OnceLock<u8> = OnceLock::named("api-sync-local");
        assert_eq!(format!("{local:?}"), "OnceLock(<uninit>)");
        assert!(local.set(4).is_ok());
        assert_eq!(format!("{local:?}"), "OnceLock(4)");
        *local.get_mut().unwrap() += 1;
        assert_eq!(local.clone(), OnceLock::from(5));
        assert_eq!(local.take(), Some(5));
        assert_eq!(OnceLock::<u8>::default().into_inner(), None);
        assert_eq!(LAZY.len(), 2);
        assert_eq!(*LazyLock::force(&NAMED_LAZY), 3);
        let lazy = LazyLock::ranked("api-sync-lazy-local", 7, || 9);
        assert_eq!(format!("{lazy:?}"), "LazyLock(<uninit>)");
        assert_eq!(*lazy, 9);
        assert_eq!(format!("{lazy:?}"), "LazyLock(9)");
        assert_eq!(*LazyLock::<u8>::default(), 0);
    }

    #[test]
    fn std_s_other_sync_items_come_along() {
        let shared = Arc::new(Mutex::new(atomic::AtomicU32::new(1)));
        let weak: Weak<Mutex<atomic::AtomicU32>> = Arc::downgrade(&shared);
        let barrier = Barrier::new(1);
        assert!(barrier.wait().is_leader());
        let (tx, rx) = mpsc::channel();
        tx.send(weak.upgrade().unwrap().lock().unwrap().load(atomic::Ordering::Relaxed)).unwrap();
        assert_eq!(rx.recv().unwrap(), 1);
    }

    #[test]
    fn held_assertions_exist_in_both_modes() {
        let (m, rw) = (Mutex::new(()), RwLock::new(()));
        m.assert_not_held();
        let _g = m.lock().unwrap();
        m.assert_held();
        let _r = rw.read().unwrap();
        rw.assert_held();
        rw.assert_held_read();
    }
}
