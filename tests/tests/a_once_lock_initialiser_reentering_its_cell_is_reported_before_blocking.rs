//! An initialiser that reaches its own `OnceLock` (or `LazyLock`) again waits for itself: a
//! self-deadlock, reported before it blocks. With `LOCKCHECK_ON_CYCLE=panic` the panic comes
//! instead of the hang; with the default `warn` the thread hangs as std's does, and the
//! watchdog reports the thread waiting for itself (in a child process, which it aborts).

use std::panic::catch_unwind;
use std::time::Duration;

use lockcheck::sync::{LazyLock, OnceLock};
use lockcheck::OnCycle;
use lockcheck_tests::{child, held, self_deadlocks};

static SETTINGS: OnceLock<u32> = OnceLock::named("once-settings");

fn settings() -> u32 {
    *SETTINGS.get_or_init(|| settings() + 1)
}

#[test]
fn a_re_entrant_get_or_init_panics_before_blocking() {
    if child::is_child() {
        return;
    }
    lockcheck::set_on_cycle(OnCycle::Panic);
    let outcome = catch_unwind(settings);
    let message = *outcome.expect_err("the inner get_or_init must panic, not hang").downcast::<String>().unwrap();
    assert!(message.contains("DEADLOCK: LOCK ACQUIRED TWICE") && message.contains("once-settings"), "{message}");
    assert!(self_deadlocks("once-settings")[0].certain);
    assert!(held().is_empty(), "the unwinding initialiser released the cell: {:?}", held());
    assert_eq!(SETTINGS.get(), None, "as in std, a panicking initialiser leaves the cell empty");
    assert_eq!(*SETTINGS.get_or_init(|| 7), 7);
}

static TABLE: LazyLock<Vec<u8>> = LazyLock::named("once-table", || TABLE.iter().map(|b| b + 1).collect());

#[test]
fn a_re_entrant_lazy_lock_panics_before_blocking_and_stays_poisoned() {
    if child::is_child() {
        return;
    }
    lockcheck::set_on_cycle(OnCycle::Panic);
    let outcome = catch_unwind(|| TABLE.len());
    assert!(outcome.is_err(), "the inner deref must panic, not hang");
    assert_eq!(self_deadlocks("once-table").len(), 1);
    let again = catch_unwind(|| TABLE.len());
    let message = *again.expect_err("std's LazyLock stays poisoned").downcast::<&str>().unwrap();
    assert_eq!(message, "LazyLock instance has previously been poisoned");
}

static SESSION: OnceLock<u32> = OnceLock::named("once-session");

/// Both calls, the outer and the re-entrant one, start on the announced line.
fn session() -> u32 {
    child::expect_site(file!(), line!() + 1);
    *SESSION.get_or_init(|| {
        child::blocking_now();
        session() + 1
    })
}

#[test]
fn with_warn_a_re_entrant_initialiser_hangs_and_the_watchdog_reports_it() {
    if child::is_child() {
        std::thread::Builder::new().name("initialiser".into()).spawn(session).unwrap().join().unwrap();
        return;
    }
    let test = "with_warn_a_re_entrant_initialiser_hangs_and_the_watchdog_reports_it";
    let out = child::run(test, &[("LOCKCHECK_ON_CYCLE", "warn")], Duration::from_secs(20));
    out.check(out.aborted(), "the child hangs, then the watchdog aborts it");
    let before = out.stderr.split("lockcheck: DEADLOCK\n").next().unwrap_or_default();
    out.check(before.contains("DEADLOCK: LOCK ACQUIRED TWICE") && before.contains("once-session"), "reported first");
    let report = out.stderr.split("lockcheck: DEADLOCK\n").nth(1).unwrap_or_default();
    out.check(report.contains("`initialiser` => `initialiser`"), "the thread waits for itself");
    for site in out.expected_sites() {
        out.check(report.contains(&site), &format!("the report names the site {site}"));
    }
}
