//! `assert_held`, `assert_held_read`, `assert_held_write`, `assert_not_held` and
//! `lockcheck::assert_no_locks_held`: quiet while true; a failed one is a finding of its own
//! kind, acted on as `LOCKCHECK_ON_CYCLE` says. Every test here runs in panic mode (the
//! setting is per process) and uses its own lock names.

use std::panic::{catch_unwind, AssertUnwindSafe};

use lockcheck::{Assertion, Finding, Mutex, OnCycle, ReentrantMutex, RwLock, Semaphore};
use lockcheck_tests::findings_touching;

/// Runs `f`, which must panic with a failed-assertion report; returns the panic text.
#[track_caller]
fn fails(f: impl FnOnce()) -> String {
    lockcheck::set_on_cycle(OnCycle::Panic);
    let outcome = catch_unwind(AssertUnwindSafe(f));
    let message = *outcome.expect_err("the assertion must fail").downcast::<String>().unwrap();
    assert!(message.contains("lockcheck: HELD-LOCK ASSERTION FAILED"), "{message}");
    message
}

/// The failed assertions that name a lock starting with `prefix`.
fn failed(prefix: &str) -> Vec<Assertion> {
    findings_touching(prefix)
        .into_iter()
        .filter_map(|f| match f {
            Finding::FailedAssertion(a) => Some(a.assertion),
            _ => None,
        })
        .collect()
}

#[test]
fn mutex_assertions_follow_the_guard() {
    lockcheck::set_on_cycle(OnCycle::Panic);
    let m = Mutex::named("assert-m", 0);
    m.assert_not_held();
    let guard = m.lock();
    m.assert_held();
    drop(guard);
    m.assert_not_held();
    assert!(failed("assert-m").is_empty(), "true assertions stay quiet");
    let message = fails(|| m.assert_held());
    assert!(message.contains("that it holds `assert-m` (assert_held)\nbut it holds no lock"), "{message}");
    let _guard = m.lock();
    fails(|| m.assert_not_held());
    assert_eq!(failed("assert-m"), [Assertion::Held, Assertion::NotHeld]);
    let finding = findings_touching("assert-m").remove(0);
    assert!(finding.is_failure(), "a failed assertion fails `lockcheck check`");
}

#[test]
fn rwlock_assertions_check_the_mode() {
    lockcheck::set_on_cycle(OnCycle::Panic);
    let rw = RwLock::named("assert-rw", 0);
    {
        let _read = rw.read();
        rw.assert_held();
        rw.assert_held_read();
        fails(|| rw.assert_held_write());
    }
    {
        let _upgradable = rw.upgradable_read();
        rw.assert_held_read();
    }
    {
        let _write = rw.write();
        rw.assert_held();
        rw.assert_held_write();
        fails(|| rw.assert_held_read());
    }
    rw.assert_not_held();
    assert_eq!(failed("assert-rw"), [Assertion::HeldWrite, Assertion::HeldRead]);
}

#[test]
fn reentrant_mutex_and_semaphore_assertions_follow_their_holds() {
    lockcheck::set_on_cycle(OnCycle::Panic);
    let re = ReentrantMutex::named("assert-re", ());
    {
        let _outer = re.lock();
        let _inner = re.lock();
        re.assert_held();
    }
    re.assert_not_held();
    let sem = Semaphore::named("assert-sem", 2);
    sem.assert_not_held();
    let permit = sem.acquire();
    sem.assert_held();
    drop(permit);
    fails(|| sem.assert_held());
    assert!(failed("assert-re").is_empty());
    assert_eq!(failed("assert-sem"), [Assertion::Held]);
}

#[test]
fn assert_no_locks_held_lists_what_is_held() {
    lockcheck::set_on_cycle(OnCycle::Panic);
    let (a, b) = (Mutex::named("assert-none-a", ()), RwLock::named("assert-none-b", ()));
    lockcheck::assert_no_locks_held();
    let _a = a.lock();
    let _b = b.read();
    let message = fails(lockcheck::assert_no_locks_held);
    assert!(message.contains("that it holds no lock (assert_no_locks_held)\nbut it holds:\n"), "{message}");
    assert!(message.contains("assert-none-a  lock") && message.contains("assert-none-b  read"), "{message}");
    assert_eq!(failed("assert-none-a"), [Assertion::NoLocksHeld]);
}

#[test]
fn a_failed_assertion_is_reported_once_per_site_and_counted() {
    let m = Mutex::named("assert-count", ());
    let assert_here = || m.assert_held();
    fails(assert_here);
    // The same failure at the same site again: counted, not reported (nor panicked) again.
    assert_here();
    assert_here();
    let found = findings_touching("assert-count");
    let [Finding::FailedAssertion(a)] = found.as_slice() else { panic!("{found:?}") };
    assert_eq!(a.count, 3);
}

#[test]
fn std_style_lock_assertions_follow_their_guards_poisoned_or_not() {
    lockcheck::set_on_cycle(OnCycle::Panic);
    let (m, rw) =
        (lockcheck::sync::Mutex::named("assert-sync-m", 0), lockcheck::sync::RwLock::named("assert-sync-rw", 0));
    m.assert_not_held();
    let poisoned = catch_unwind(AssertUnwindSafe(|| {
        let _g = m.lock().unwrap();
        m.assert_held();
        panic!("poisons m");
    }));
    assert!(poisoned.is_err() && m.is_poisoned());
    m.assert_not_held();
    let guard = m.lock().unwrap_err().into_inner();
    m.assert_held();
    fails(|| m.assert_not_held());
    drop(guard);
    {
        let _r = rw.read().unwrap();
        rw.assert_held_read();
        fails(|| rw.assert_held_write());
    }
    fails(|| rw.assert_held());
    assert_eq!(failed("assert-sync-m"), [Assertion::NotHeld]);
    assert_eq!(failed("assert-sync-rw"), [Assertion::HeldWrite, Assertion::Held]);
}
