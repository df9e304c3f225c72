//! `LOCKCHECK_ON_CYCLE=panic`: the panic is reported at the user's acquisition (the line the
//! default panic hook prints as `panicked at file:line:col`), not at a line inside lockcheck.
//! Each scenario runs in a child process, so the real hook prints what a user would see.

use std::time::Duration;

use lockcheck::{Mutex, ReentrantMutex, RwLock, Semaphore};
use lockcheck_tests::child::{self, expect_site};

/// Runs `scenario` in a child with `LOCKCHECK_ON_CYCLE=panic`; the child announces the line
/// it must panic at, and the panic must be reported there.
fn panics_at_the_announced_line(scenario: &str) {
    let out = child::run(scenario, &[("LOCKCHECK_ON_CYCLE", "panic")], Duration::from_secs(20));
    let sites = out.expected_sites();
    out.check(sites.len() == 1, "the child announced one site");
    let here = format!("panicked at {}", sites[0]);
    out.check(out.stderr.contains(&here), &format!("the panic is reported at `{}`", sites[0]));
    out.check(!out.stderr.contains("panicked at lockcheck/"), "no panic is reported inside lockcheck");
}

macro_rules! scenario {
    ($name:ident, $body:block) => {
        #[test]
        fn $name() {
            if child::is_child() {
                $body
            } else {
                panics_at_the_announced_line(stringify!($name));
            }
        }
    };
}

scenario!(mutex_lock, {
    let (a, b) = (Mutex::named("pl-m-a", ()), Mutex::named("pl-m-b", ()));
    drop((a.lock(), b.lock()));
    let _b = b.lock();
    expect_site(file!(), line!() + 1);
    let _a = a.lock();
});

scenario!(rwlock_write, {
    let (a, b) = (RwLock::named("pl-w-a", ()), RwLock::named("pl-w-b", ()));
    drop((a.write(), b.write()));
    let _b = b.write();
    expect_site(file!(), line!() + 1);
    let _a = a.write();
});

scenario!(rwlock_try_write_for, {
    let (a, b) = (RwLock::named("pl-t-a", ()), RwLock::named("pl-t-b", ()));
    drop((a.write(), b.write()));
    let _b = b.write();
    expect_site(file!(), line!() + 1);
    let _a = a.try_write_for(Duration::from_millis(10));
});

scenario!(reentrant_mutex_lock, {
    let (a, b) = (ReentrantMutex::named("pl-r-a", ()), ReentrantMutex::named("pl-r-b", ()));
    drop((a.lock(), b.lock()));
    let _b = b.lock();
    expect_site(file!(), line!() + 1);
    let _a = a.lock();
});

scenario!(semaphore_acquire, {
    let (a, b) = (Semaphore::named("pl-s-a", 1), Semaphore::named("pl-s-b", 1));
    drop((a.acquire(), b.acquire()));
    let _b = b.acquire();
    expect_site(file!(), line!() + 1);
    let _a = a.acquire();
});

scenario!(std_style_mutex_lock, {
    let (a, b) = (lockcheck::sync::Mutex::new(()), lockcheck::sync::Mutex::new(()));
    drop((a.lock(), b.lock()));
    let _b = b.lock();
    expect_site(file!(), line!() + 1);
    let _a = a.lock();
});

scenario!(self_deadlock, {
    let a = Mutex::named("pl-self", ());
    let _first = a.lock();
    expect_site(file!(), line!() + 1);
    let _again = a.lock();
});

scenario!(failed_assertion, {
    let a = Mutex::named("pl-assert", ());
    expect_site(file!(), line!() + 1);
    a.assert_held();
});
