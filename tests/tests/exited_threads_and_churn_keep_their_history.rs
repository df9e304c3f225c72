//! SCENARIOS.md E4, E5: exited threads' orders still count; short-lived locks do not pile up.

use lockcheck::{Graph, Mutex};
use lockcheck_tests::{cycles_touching, the_deadlock};

#[test]
fn e4_an_exited_threads_order_closes_a_cycle_later() {
    let (a, b) = (Mutex::named("e4-a", ()), Mutex::named("e4-b", ()));
    std::thread::scope(|s| {
        s.spawn(|| {
            let _a = a.lock();
            let _b = b.lock();
        });
    });
    let _b = b.lock();
    let _a = a.lock();
    the_deadlock(&["e4-a", "e4-b"], Graph::Instance);
}

#[test]
fn e5_four_threads_churning_short_lived_locks_are_clean() {
    let outer = Mutex::named("e5-outer", ());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for i in 0..20_000u32 {
                    let temp = Mutex::named("e5-temp", i);
                    let _o = outer.lock();
                    *temp.lock() += 1;
                }
            });
        }
    });
    assert!(cycles_touching("e5-").is_empty());
}
