//! SCENARIOS.md family B: parking_lot's RwLock is task-fair, so a reader queues behind a
//! waiting writer; `read_recursive` does not.

use lockcheck::{Graph, Mutex, RwLock};
use lockcheck_tests::{cycles_touching, self_deadlocks, the_deadlock};

#[test]
fn b1_read_then_lock_against_lock_then_write() {
    let (x, y) = (RwLock::named("b1-x", ()), Mutex::named("b1-y", ()));
    {
        let _x = x.read();
        let _y = y.lock();
    }
    {
        let _y = y.lock();
        let _x = x.write();
    }
    let cycle = the_deadlock(&["b1-x", "b1-y"], Graph::Instance);
    assert!(cycle.notes.iter().all(|n| !n.contains("writer queues")), "a write against a read needs no queued writer");
}

#[test]
fn b2_write_both_ways() {
    let (x, y) = (RwLock::named("b2-x", ()), Mutex::named("b2-y", ()));
    {
        let _x = x.write();
        let _y = y.lock();
    }
    {
        let _y = y.lock();
        let _x = x.write();
    }
    the_deadlock(&["b2-x", "b2-y"], Graph::Instance);
}

#[test]
fn b3_read_read_cycle_needs_a_queued_writer_and_says_so() {
    let (x, y) = (RwLock::named("b3-x", ()), Mutex::named("b3-y", ()));
    {
        let _x = x.read();
        let _y = y.lock();
    }
    {
        let _y = y.lock();
        let _x = x.read();
    }
    let cycle = the_deadlock(&["b3-x", "b3-y"], Graph::Instance);
    assert!(cycle.notes.iter().any(|n| n.contains("writer queues")), "{:?}", cycle.notes);
}

#[test]
fn b3_recursive_reads_in_the_cycle_cannot_deadlock() {
    let (x, y) = (RwLock::named("b3r-x", ()), Mutex::named("b3r-y", ()));
    {
        let _x = x.read_recursive();
        let _y = y.lock();
    }
    {
        let _y = y.lock();
        let _x = x.read_recursive();
    }
    assert!(cycles_touching("b3r-").is_empty());
}

#[test]
fn b4_read_twice_in_one_thread_is_a_potential_deadlock() {
    let x = RwLock::named("b4-x", ());
    let _first = x.read();
    let _second = x.read();
    let found = self_deadlocks("b4-x");
    assert_eq!(found.len(), 1);
    assert!(!found[0].certain, "only hangs once a writer queues");
}

#[test]
fn b5_read_recursive_twice_is_clean() {
    let x = RwLock::named("b5-x", ());
    let _first = x.read_recursive();
    let _second = x.read_recursive();
    assert!(self_deadlocks("b5-x").is_empty());
}

#[test]
fn a_cycle_judged_harmless_is_judged_again_when_a_new_mode_appears() {
    let (r, m) = (RwLock::named("rejudge-r", ()), Mutex::named("rejudge-m", ()));
    {
        let _r = r.read_recursive();
        let _m = m.lock();
    }
    {
        let _m = m.lock();
        let _r = r.read_recursive();
    }
    assert!(cycles_touching("rejudge-").is_empty(), "recursive reads both ways cannot deadlock");
    {
        let _r = r.write();
        let _m = m.lock();
    }
    // Now a writer holding r waits for m while a thread holding m waits to read r.
    the_deadlock(&["rejudge-r", "rejudge-m"], Graph::Instance);
}
