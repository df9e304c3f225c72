//! SCENARIOS.md family I: condvar re-acquisition, leaked guards, panics, thread-local
//! destructors, repeated cycles.

use std::panic::{catch_unwind, AssertUnwindSafe};

use lockcheck::{Condvar, Finding, Graph, Mutex};
use lockcheck_tests::{cycles, findings_touching, held, the_deadlock};

#[test]
fn i1_condvar_reacquisition_makes_edges_from_held_locks() {
    let (n, m) = (Mutex::named("i1-n", ()), Mutex::named("i1-m", false));
    let cv = Condvar::new();
    std::thread::scope(|s| {
        let _n = n.lock();
        let mut ready = m.lock();
        s.spawn(|| {
            *m.lock() = true;
            cv.notify_one();
        });
        while !*ready {
            cv.wait(&mut ready);
        }
        assert_eq!(held(), ["i1-n:lock", "i1-m:lock"], "re-acquired after the wait");
    });
    let _m = m.lock();
    let _n = n.lock();
    the_deadlock(&["i1-n", "i1-m"], Graph::Instance);
}

#[test]
fn i2_a_leaked_guard_at_thread_exit_is_a_misuse() {
    static M: Mutex<()> = Mutex::named("i2-m", ());
    // A plain join, not a scope: it waits for the thread's thread-local destructors too.
    std::thread::spawn(|| std::mem::forget(M.lock())).join().unwrap();
    let found = findings_touching("i2-m");
    assert!(matches!(found.as_slice(), [Finding::Misuse(_)]), "{found:?}");
    assert!(!found[0].is_failure());
}

#[test]
fn i3_a_panic_unwinding_through_guards_leaves_the_stack_clean() {
    let (a, b) = (Mutex::named("i3-a", ()), Mutex::named("i3-b", ()));
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let _a = a.lock();
        let _b = b.lock();
        panic!("boom");
    }));
    assert!(outcome.is_err());
    assert!(held().is_empty(), "{:?}", held());
    assert!(!a.is_locked() && !b.is_locked());
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    assert!(cycles(&["i3-a", "i3-b"]).is_empty());
}

struct LocksOnDrop(&'static Mutex<u32>);

impl Drop for LocksOnDrop {
    fn drop(&mut self) {
        *self.0.lock() += 1;
    }
}

thread_local! {
    static TEARDOWN: std::cell::RefCell<Option<LocksOnDrop>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn i4_locking_inside_a_thread_local_destructor_works() {
    static COUNTER: Mutex<u32> = Mutex::named("i4-counter", 0);
    std::thread::spawn(|| {
        *COUNTER.lock() += 1;
        TEARDOWN.with(|t| *t.borrow_mut() = Some(LocksOnDrop(&COUNTER)));
    })
    .join()
    .expect("no panic in teardown");
    assert_eq!(*COUNTER.lock(), 2);
}

#[test]
fn i5_the_same_cycle_a_thousand_times_is_one_report_counted() {
    let (a, b) = (Mutex::named("i5-a", ()), Mutex::named("i5-b", ()));
    for _ in 0..1000 {
        {
            let _a = a.lock();
            let _b = b.lock();
        }
        let _b = b.lock();
        let _a = a.lock();
    }
    let cycle = the_deadlock(&["i5-a", "i5-b"], Graph::Instance);
    assert_eq!(cycle.count, 1000);
}
