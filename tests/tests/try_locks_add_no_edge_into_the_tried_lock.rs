//! SCENARIOS.md family D: a successful try-lock cannot block, so no edge goes into it; once
//! held, it is an edge source. A timed lock blocks, so it counts as blocking.

use std::time::Duration;

use lockcheck::{Graph, Mutex};
use lockcheck_tests::{cycles_touching, the_deadlock};

#[test]
fn d1_try_lock_inside_a_lock_is_no_cycle() {
    let (a, b) = (Mutex::named("d1-a", ()), Mutex::named("d1-b", ()));
    {
        let _a = a.lock();
        let _b = b.try_lock().expect("free");
    }
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert!(cycles_touching("d1-").is_empty());
}

#[test]
fn d2_try_locks_both_ways_are_no_cycle() {
    let (a, b) = (Mutex::named("d2-a", ()), Mutex::named("d2-b", ()));
    {
        let _a = a.try_lock().unwrap();
        let _b = b.try_lock().unwrap();
    }
    {
        let _b = b.try_lock().unwrap();
        let _a = a.try_lock().unwrap();
    }
    assert!(cycles_touching("d2-").is_empty());
}

#[test]
fn d3_a_held_try_lock_is_an_edge_source() {
    let (a, b) = (Mutex::named("d3-a", ()), Mutex::named("d3-b", ()));
    {
        let _a = a.try_lock().unwrap();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    the_deadlock(&["d3-a", "d3-b"], Graph::Instance);
}

#[test]
fn d4_a_failed_try_lock_adds_nothing() {
    let (a, b) = (Mutex::named("d4-a", ()), Mutex::named("d4-b", ()));
    std::thread::scope(|s| {
        let held = b.lock();
        s.spawn(|| {
            let _a = a.lock();
            assert!(b.try_lock().is_none());
        })
        .join()
        .unwrap();
        drop(held);
    });
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert!(cycles_touching("d4-").is_empty());
}

#[test]
fn d5_a_timed_lock_blocks_so_it_counts() {
    let (a, b) = (Mutex::named("d5-a", ()), Mutex::named("d5-b", ()));
    {
        let _a = a.lock();
        let _b = b.try_lock_for(Duration::from_secs(1)).unwrap();
    }
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    the_deadlock(&["d5-a", "d5-b"], Graph::Instance);
}
