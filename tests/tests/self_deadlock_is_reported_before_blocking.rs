//! SCENARIOS.md A1, A5, B6: a thread taking a lock it already holds is reported before it
//! blocks; with `LOCKCHECK_ON_CYCLE=panic` the panic comes instead of the hang. Every test
//! here runs in panic mode (the setting is per process).

use std::panic::{catch_unwind, AssertUnwindSafe};

use lockcheck::{Mutex, OnCycle, ReentrantMutex, RwLock};
use lockcheck_tests::{held, self_deadlocks};

#[test]
fn a1_locking_a_held_mutex_panics_before_blocking() {
    lockcheck::set_on_cycle(OnCycle::Panic);
    let m = Mutex::named("a1-m", ());
    let _first = m.lock();
    let outcome = catch_unwind(AssertUnwindSafe(|| drop(m.lock())));
    let message = *outcome.expect_err("the second lock must panic, not hang").downcast::<String>().unwrap();
    assert!(message.contains("DEADLOCK: LOCK ACQUIRED TWICE") && message.contains("a1-m"), "{message}");
    let found = self_deadlocks("a1-m");
    assert_eq!(found.len(), 1);
    assert!(found[0].certain);
    assert_eq!(held(), ["a1-m:lock"], "the panic left the first acquisition held, nothing more");
}

#[test]
fn a5_reentrant_mutex_twice_is_clean() {
    let r = ReentrantMutex::named("a5-r", ());
    let _first = r.lock();
    let _second = r.lock();
    assert_eq!(held(), ["a5-r:lock"], "only the outermost acquisition counts");
    assert!(self_deadlocks("a5-r").is_empty());
}

#[test]
fn b6_write_after_read_in_one_thread_panics_before_blocking() {
    lockcheck::set_on_cycle(OnCycle::Panic);
    let x = RwLock::named("b6-x", ());
    let _read = x.read();
    let outcome = catch_unwind(AssertUnwindSafe(|| drop(x.write())));
    assert!(outcome.is_err(), "the write must panic, not hang");
    assert!(self_deadlocks("b6-x")[0].certain);
}

#[test]
fn a1_timed_relock_is_reported_then_times_out() {
    lockcheck::set_on_cycle(OnCycle::Panic);
    let m = Mutex::named("a1t-m", ());
    let _first = m.lock();
    let outcome = catch_unwind(AssertUnwindSafe(|| m.try_lock_for(std::time::Duration::from_millis(10)).is_none()));
    assert!(outcome.is_err(), "a timed lock can block too: checked before it waits");
    assert_eq!(self_deadlocks("a1t-m").len(), 1);
}

#[test]
fn a1_relocking_one_of_several_locks_of_a_class_is_still_caught() {
    lockcheck::set_on_cycle(OnCycle::Panic);
    // One creation site: one class. "a1 under a0" must not make "a1 under a1" a known context.
    let locks: Vec<Mutex<()>> = (0..3).map(|_| Mutex::named("a1c-account", ())).collect();
    {
        let _a0 = locks[0].lock();
        let _a1 = locks[1].lock();
    }
    let _a1 = locks[1].lock();
    let outcome = catch_unwind(AssertUnwindSafe(|| drop(locks[1].lock())));
    assert!(outcome.is_err(), "the second lock of the same instance must panic, not hang");
    assert_eq!(self_deadlocks("a1c-account").len(), 1);
}

#[test]
fn a_guard_relocking_never_panics_out_of_a_valid_guard() {
    lockcheck::set_on_cycle(OnCycle::Panic);
    let (m, n) = (Mutex::named("relock-m", ()), Mutex::named("relock-n", ()));
    let mut g = m.lock();
    let _n = n.lock(); // m -> n
                       // The re-acquisition of m, with n held, closes m -> n -> m: reported, but printed, not
                       // panicked, since the guard must come back holding m.
    lockcheck::MutexGuard::unlocked(&mut g, || ());
    assert!(m.is_locked(), "the guard holds its lock again");
    assert_eq!(lockcheck_tests::cycles(&["relock-m", "relock-n"]).len(), 1);
}
