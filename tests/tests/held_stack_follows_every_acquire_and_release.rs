//! The held stack is right after every kind of acquisition and release, for every primitive.

use std::time::{Duration, Instant};

use lockcheck::{
    Condvar, Mutex, MutexGuard, ReentrantMutex, RwLock, RwLockUpgradableReadGuard, RwLockWriteGuard, Semaphore,
};
use lockcheck_tests::{cycles_touching, held};

#[test]
fn mutex() {
    let (a, b) = (Mutex::named("hs-m-a", 1), Mutex::named("hs-m-b", 2));
    let ga = a.lock();
    let gb = b.try_lock().unwrap();
    assert_eq!(held(), ["hs-m-a:lock", "hs-m-b:lock"]);
    drop(ga); // out of order
    assert_eq!(held(), ["hs-m-b:lock"]);
    drop(gb);
    assert!(held().is_empty());

    let ga = a.try_lock_for(Duration::from_millis(5)).unwrap();
    let gb = b.try_lock_until(Instant::now() + Duration::from_millis(5)).unwrap();
    assert_eq!(held(), ["hs-m-a:lock", "hs-m-b:lock"]);
    drop((gb, ga));

    let mut ga = a.lock();
    MutexGuard::unlocked(&mut ga, || assert!(held().is_empty(), "released inside unlocked()"));
    assert_eq!(held(), ["hs-m-a:lock"]);
    let mapped = MutexGuard::map(ga, |v| v);
    assert_eq!(held(), ["hs-m-a:lock"]);
    drop(mapped);
    assert!(held().is_empty());

    std::thread::scope(|s| {
        let _gb = b.lock();
        let tried = s.spawn(|| b.try_lock().is_none() && held().is_empty());
        assert!(tried.join().unwrap(), "a failed try holds nothing");
    });
    assert!(held().is_empty());
}

#[test]
fn rwlock() {
    let x = RwLock::named("hs-rw", 0);
    let r = x.read();
    assert_eq!(held(), ["hs-rw:read"]);
    drop(r);
    let r = x.read_recursive();
    assert_eq!(held(), ["hs-rw:read_recursive"]);
    drop(r);
    let w = x.write();
    assert_eq!(held(), ["hs-rw:lock"]);
    let r = RwLockWriteGuard::downgrade(w);
    assert_eq!(held(), ["hs-rw:read"]);
    drop(r);

    let u = x.upgradable_read();
    assert_eq!(held(), ["hs-rw:upgradable_read"]);
    let w = RwLockUpgradableReadGuard::upgrade(u);
    assert_eq!(held(), ["hs-rw:lock"]);
    let u = RwLockWriteGuard::downgrade_to_upgradable(w);
    assert_eq!(held(), ["hs-rw:upgradable_read"]);
    let w = RwLockUpgradableReadGuard::try_upgrade(u).unwrap();
    assert_eq!(held(), ["hs-rw:lock"]);
    drop(w);

    let u = x.try_upgradable_read().unwrap();
    let r = RwLockUpgradableReadGuard::downgrade(u);
    assert_eq!(held(), ["hs-rw:read"]);
    drop(r);
    let w = x.try_write_for(Duration::from_millis(5)).unwrap();
    assert_eq!(held(), ["hs-rw:lock"]);
    drop(w);
    let r = x.try_read().unwrap();
    assert_eq!(held(), ["hs-rw:read"]);
    drop(r);
    assert!(held().is_empty());
}

#[test]
fn upgrading_while_holding_another_lock_is_checked_as_a_write() {
    let (x, y) = (RwLock::named("hs-up-x", ()), Mutex::named("hs-up-y", ()));
    {
        let u = x.upgradable_read();
        let _y = y.lock();
        let _w = RwLockUpgradableReadGuard::upgrade(u);
        assert_eq!(held(), ["hs-up-y:lock", "hs-up-x:lock"]);
    }
    assert!(cycles_touching("hs-up-").len() == 1, "y held while x upgraded is y -> x(write) against x -> y");
}

#[test]
fn reentrant_mutex() {
    let r = ReentrantMutex::named("hs-re", ());
    let g1 = r.lock();
    let g2 = r.lock();
    let g3 = r.try_lock().unwrap();
    assert_eq!(held(), ["hs-re:lock"]);
    drop(g1);
    assert_eq!(held(), ["hs-re:lock"], "still held by the inner guards");
    drop((g2, g3));
    assert!(held().is_empty());
}

#[test]
fn condvar_wait_releases_then_reacquires() {
    let m = Mutex::named("hs-cv", 0u32);
    let cv = Condvar::new();
    std::thread::scope(|s| {
        let mut g = m.lock();
        s.spawn(|| {
            let mut g = m.lock();
            *g = 1;
            cv.notify_all();
        });
        cv.wait_while(&mut g, |v| *v == 0);
        assert_eq!(held(), ["hs-cv:lock"]);
        let timed = cv.wait_for(&mut g, Duration::from_millis(5));
        assert!(timed.timed_out());
        assert_eq!(held(), ["hs-cv:lock"]);
    });
    assert!(held().is_empty());
}

#[test]
fn semaphore_permits() {
    let sem = Semaphore::named("hs-sem", 3);
    let one = sem.acquire();
    let two = sem.acquire_many(2);
    assert_eq!(held(), ["hs-sem:acquire", "hs-sem:acquire"]);
    assert!(sem.try_acquire().is_none());
    drop(one);
    let again = sem.try_acquire_for(Duration::from_millis(5)).unwrap();
    assert_eq!(sem.available_permits(), 0);
    again.forget();
    assert_eq!(held(), ["hs-sem:acquire"]);
    drop(two);
    assert!(held().is_empty());
    assert_eq!(sem.available_permits(), 2, "the forgotten permit stays out");
}

#[test]
fn semaphore_permit_released_by_another_thread() {
    let sem = Semaphore::named("hs-sem-x", 1);
    let permit = sem.acquire();
    assert_eq!(held(), ["hs-sem-x:acquire"]);
    std::thread::scope(|s| {
        s.spawn(move || drop(permit));
    });
    assert!(held().is_empty(), "released on our behalf: {:?}", held());
    assert_eq!(sem.available_permits(), 1);
    assert!(lockcheck_tests::findings_touching("hs-sem-x").is_empty(), "not a misuse");
}

#[test]
fn zero_permits_are_not_an_acquisition() {
    let sem = Semaphore::named("hs-sem-0", 1);
    drop(sem.acquire_many(0));
    let none = sem.try_acquire_many(0).expect("zero permits are always there");
    assert!(held().is_empty(), "{:?}", held());
    drop(none);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn a_condvar_reacquisition_is_sited_at_the_users_wait() {
    let m = Mutex::named("hs-cv-site", false);
    let cv = Condvar::new();
    let mut g = m.lock();
    assert!(cv.wait_for(&mut g, Duration::from_millis(1)).timed_out());
    let held = lockcheck::held_locks();
    assert!(held[0].site.file.ends_with("held_stack_follows_every_acquire_and_release.rs"), "{:?}", held[0].site);
}

#[test]
fn upgrading_while_also_reading_the_same_lock_is_a_self_deadlock() {
    let x = RwLock::named("hs-up-self", ());
    let u = x.upgradable_read();
    let r = x.read_recursive();
    // Waits for our own read: reported before blocking; the timeout ends the wait.
    let upgraded = RwLockUpgradableReadGuard::try_upgrade_for(u, Duration::from_millis(20));
    let u = upgraded.expect_err("our own read keeps the upgrade waiting");
    let mut holds = held();
    holds.sort();
    assert_eq!(holds, ["hs-up-self:read_recursive", "hs-up-self:upgradable_read"], "both holds kept");
    assert_eq!(lockcheck_tests::self_deadlocks("hs-up-self").len(), 1);
    drop((r, u));
    assert!(held().is_empty());
}
