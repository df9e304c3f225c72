//! A panic while a `sync::Mutex` is held poisons it, as std's does; the panicking thread's
//! guard still leaves the held stack, and the guard inside the `PoisonError` a later `lock`
//! returns is a hold like any other: the graph sees no order that was not taken.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::TryLockError;
use std::thread;

use lockcheck::sync::{Mutex, RwLock};
use lockcheck_tests::{cycles_touching, held};

#[test]
fn a_poisoned_mutex_s_guards_come_and_go_from_the_held_stack() {
    let (m, n) = (Mutex::named("poison-m", 0), Mutex::named("poison-n", 0));
    let panicked = thread::scope(|s| {
        s.spawn(|| {
            let _m = m.lock().unwrap();
            let _n = n.lock().unwrap();
            panic!("poisons both");
        })
        .join()
    });
    assert!(panicked.is_err());
    assert!(m.is_poisoned() && n.is_poisoned());
    assert!(held().is_empty());
    {
        let m_guard = m.lock().expect_err("poisoned").into_inner();
        assert_eq!(held(), ["poison-m:lock"], "the guard in the error is held");
        let n_guard = n.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(held(), ["poison-m:lock", "poison-n:lock"]);
        drop((m_guard, n_guard));
    }
    assert!(held().is_empty(), "{:?}", held());
    assert!(matches!(m.try_lock(), Err(TryLockError::Poisoned(_))), "m is free, and still poisoned");
    // The same order as before the panic: still no cycle.
    assert!(cycles_touching("poison-").is_empty(), "{:?}", cycles_touching("poison-"));
}

#[test]
fn a_panic_under_a_read_guard_does_not_poison_but_under_a_write_guard_does() {
    let rw = RwLock::named("poison-rw", 0);
    let read = catch_unwind(AssertUnwindSafe(|| {
        let _r = rw.read().unwrap();
        panic!("a reader panics");
    }));
    assert!(read.is_err());
    assert!(!rw.is_poisoned(), "as in std: readers do not poison");
    let write = catch_unwind(AssertUnwindSafe(|| {
        let _w = rw.write().unwrap();
        panic!("a writer panics");
    }));
    assert!(write.is_err());
    assert!(rw.is_poisoned());
    assert!(held().is_empty(), "{:?}", held());
    let guard = rw.read().expect_err("poisoned").into_inner();
    assert_eq!(held(), ["poison-rw:read"]);
    drop(guard);
    rw.clear_poison();
    assert!(rw.write().is_ok());
}
