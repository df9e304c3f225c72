//! SCENARIOS H5: the holder of a lock blocks on a channel while another thread waits for the
//! lock. Not a lock cycle: a stall report naming the holder, where it took the lock, and that
//! it is blocked on something lockcheck does not see. A stall is a warning: nothing aborts.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lockcheck::{Finding, Mutex};
use lockcheck_tests::child::{self, THRESHOLD_MS};

static CONFIG: Mutex<u32> = Mutex::named("config", 0);

fn scenario() {
    let (go, wait_for_go) = mpsc::channel::<()>();
    let (held, is_held) = mpsc::channel::<()>();
    let holder = thread::Builder::new()
        .name("holder".into())
        .spawn(move || {
            child::expect_site(file!(), line!() + 1);
            let _config = CONFIG.lock();
            held.send(()).unwrap();
            wait_for_go.recv().unwrap();
        })
        .unwrap();
    is_held.recv().unwrap();
    let waiter = thread::Builder::new()
        .name("waiter".into())
        .spawn(|| {
            child::expect_site(file!(), line!() + 1);
            *CONFIG.lock() += 1;
        })
        .unwrap();
    thread::sleep(Duration::from_millis(THRESHOLD_MS * 3));
    go.send(()).unwrap();
    holder.join().unwrap();
    waiter.join().unwrap();
    // The watchdog symbolises the stacks before it reports: allow it the time.
    let stalled = || lockcheck::report().findings.iter().any(|f| matches!(f, Finding::Stall(_)));
    for _ in 0..100 {
        if stalled() {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let report = lockcheck::report();
    assert!(report.findings.iter().any(|f| matches!(f, Finding::Stall(_))), "a stall:\n{report}");
    assert!(!report.findings.iter().any(|f| matches!(f, Finding::ActualDeadlock(_))), "no deadlock:\n{report}");
    assert!(!report.has_failures(), "a stall is a warning:\n{report}");
}

#[test]
fn a_lock_holder_blocked_on_a_channel_is_a_stall_naming_it() {
    if child::is_child() {
        return scenario();
    }
    let out = child::run("a_lock_holder_blocked_on_a_channel_is_a_stall_naming_it", &[], Duration::from_secs(20));
    out.check(out.succeeded(), "the child ends normally");
    out.check(!out.stderr.contains("lockcheck: DEADLOCK"), "not a deadlock");
    let report = out.stderr.split("lockcheck: STALL").nth(1).unwrap_or_default();
    for needle in [
        "thread `waiter` waits to lock `config`",
        "held by thread `holder`",
        "thread `holder` is not waiting for any lock lockcheck knows",
    ] {
        out.check(report.contains(needle), &format!("the stall report says {needle}"));
    }
    for site in out.expected_sites() {
        out.check(report.contains(&site), &format!("the report names the site {site}"));
    }
    out.check(out.stderr.matches("lockcheck: STALL").count() == 1, "one report per stalled wait");
}
