//! SCENARIOS.md family F: a cycle whose every edge was taken under one common exclusive
//! holding is guarded, whatever primitive excludes; a shared holding guards nothing.

use lockcheck::{Mutex, ReentrantMutex, RwLock, Semaphore};
use lockcheck_tests::cycles;

/// Takes `first` then `second` under `gate`, on a thread of its own, and then the reverse.
fn both_orders_under(gate: impl Fn() -> Box<dyn std::any::Any> + Sync, a: &Mutex<()>, b: &Mutex<()>) {
    let gate = &gate;
    std::thread::scope(|s| {
        for flip in [false, true] {
            s.spawn(move || {
                let _g = gate();
                let (x, y) = if flip { (b, a) } else { (a, b) };
                let _x = x.lock();
                let _y = y.lock();
            })
            .join()
            .unwrap();
        }
    });
}

fn guard_of(prefix: &str) -> Option<String> {
    let found = cycles(&[&format!("{prefix}-a"), &format!("{prefix}-b")]);
    assert_eq!(found.len(), 1, "one cycle: {found:?}");
    found[0].guarded_by.as_ref().map(|g| g.class.clone())
}

fn pair(prefix: &str) -> (Mutex<()>, Mutex<()>) {
    (Mutex::named(format!("{prefix}-a").leak(), ()), Mutex::named(format!("{prefix}-b").leak(), ()))
}

#[test]
fn a_reentrant_mutex_is_a_gate() {
    static GATE: ReentrantMutex<()> = ReentrantMutex::named("gx-re-g", ());
    let (a, b) = pair("gx-re");
    both_orders_under(|| Box::new(GATE.lock()), &a, &b);
    assert_eq!(guard_of("gx-re").as_deref(), Some("gx-re-g"));
}

#[test]
fn a_write_held_rwlock_is_a_gate() {
    static GATE: RwLock<()> = RwLock::named("gx-w-g", ());
    let (a, b) = pair("gx-w");
    both_orders_under(|| Box::new(GATE.write()), &a, &b);
    assert_eq!(guard_of("gx-w").as_deref(), Some("gx-w-g"));
}

#[test]
fn a_one_permit_semaphore_is_a_gate() {
    static GATE: Semaphore = Semaphore::named("gx-s1-g", 1);
    let (a, b) = pair("gx-s1");
    both_orders_under(|| Box::new(GATE.acquire()), &a, &b);
    assert_eq!(guard_of("gx-s1").as_deref(), Some("gx-s1-g"));
}

#[test]
fn a_semaphore_of_two_permits_is_no_gate() {
    static GATE: Semaphore = Semaphore::named("gx-s2-g", 2);
    let (a, b) = pair("gx-s2");
    both_orders_under(|| Box::new(GATE.acquire()), &a, &b);
    assert_eq!(guard_of("gx-s2"), None);
}

#[test]
fn a_one_permit_semaphore_given_more_permits_is_no_gate() {
    static GATE: Semaphore = Semaphore::named("gx-sa-g", 1);
    GATE.add_permits(1);
    let (a, b) = pair("gx-sa");
    both_orders_under(|| Box::new(GATE.acquire()), &a, &b);
    assert_eq!(guard_of("gx-sa"), None);
}

#[test]
fn a_one_permit_semaphore_given_more_permits_between_the_orders_is_no_gate() {
    static GATE: Semaphore = Semaphore::named("gx-sb-g", 1);
    let (a, b) = pair("gx-sb");
    {
        let _g = GATE.acquire();
        let _a = a.lock();
        let _b = b.lock();
    }
    GATE.add_permits(1);
    {
        let _g = GATE.acquire();
        let _b = b.lock();
        let _a = a.lock();
    }
    assert_eq!(guard_of("gx-sb"), None);
}

#[test]
fn a_semaphore_whose_permit_was_forgotten_is_no_gate() {
    static GATE: Semaphore = Semaphore::named("gx-sf-g", 2);
    GATE.acquire().forget();
    let (a, b) = pair("gx-sf");
    both_orders_under(|| Box::new(GATE.acquire()), &a, &b);
    assert_eq!(guard_of("gx-sf"), None);
}

#[test]
fn a_read_held_rwlock_is_no_gate() {
    static GATE: RwLock<()> = RwLock::named("gx-r-g", ());
    let (a, b) = pair("gx-r");
    both_orders_under(|| Box::new(GATE.read()), &a, &b);
    assert_eq!(guard_of("gx-r"), None);
}

#[test]
fn a_read_recursive_held_rwlock_is_no_gate() {
    static GATE: RwLock<()> = RwLock::named("gx-rr-g", ());
    let (a, b) = pair("gx-rr");
    both_orders_under(|| Box::new(GATE.read_recursive()), &a, &b);
    assert_eq!(guard_of("gx-rr"), None);
}
