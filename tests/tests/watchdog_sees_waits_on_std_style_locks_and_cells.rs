//! The watchdog sees waits on `lockcheck::sync`'s locks, and a thread waiting for another
//! thread's `OnceLock` initialiser: one thread initialises `config` and, in its initialiser,
//! waits for `accounts`; the other holds `accounts` and waits for `config`. A real deadlock,
//! which the watchdog reports as a wait-for cycle and aborts (in a child process).

use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use lockcheck::sync::{Mutex, OnceLock};
use lockcheck_tests::child;

static ACCOUNTS: Mutex<u32> = Mutex::named("w-accounts", 0);
static CONFIG: OnceLock<u32> = OnceLock::named("w-config");

fn scenario() {
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        thread::Builder::new()
            .name("initialiser".into())
            .spawn_scoped(s, || {
                CONFIG.get_or_init(|| {
                    barrier.wait();
                    *ACCOUNTS.lock().unwrap()
                });
            })
            .unwrap();
        thread::Builder::new()
            .name("reader".into())
            .spawn_scoped(s, || {
                let _accounts = ACCOUNTS.lock().unwrap();
                barrier.wait();
                child::blocking_now();
                CONFIG.get_or_init(|| 0);
            })
            .unwrap();
    });
}

#[test]
fn watchdog_sees_waits_on_std_style_locks_and_cells() {
    if child::is_child() {
        return scenario();
    }
    let out = child::run("watchdog_sees_waits_on_std_style_locks_and_cells", &[], Duration::from_secs(20));
    out.check(out.aborted(), "the child aborts");
    let report = out.stderr.split("lockcheck: DEADLOCK\n").nth(1).unwrap_or_default();
    for needle in ["`initialiser`", "`reader`", "waits to lock `w-accounts`", "waits to lock `w-config`"] {
        out.check(report.contains(needle), &format!("the report names {needle}"));
    }
}
