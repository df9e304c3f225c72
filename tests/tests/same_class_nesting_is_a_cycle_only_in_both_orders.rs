//! SCENARIOS.md A2–A4, E1–E3: identity by instance and by class.

use lockcheck::{Graph, Mutex, ReentrantMutex};
use lockcheck_tests::{cycles, cycles_touching, the_deadlock};

struct Account {
    id: u32,
    balance: Mutex<i64>,
}

fn accounts(prefix: &'static str, n: u32) -> Vec<Account> {
    // One creation site, so one class; the name makes the test's locks its own.
    (0..n).map(|id| Account { id, balance: Mutex::named(prefix, 100) }).collect()
}

fn transfer(from: &Account, to: &Account, amount: i64) {
    let mut a = from.balance.lock();
    let mut b = to.balance.lock();
    *a -= amount;
    *b += amount;
}

fn transfer_ordered(from: &Account, to: &Account, amount: i64) {
    let (first, second) = if from.id < to.id { (from, to) } else { (to, from) };
    let mut a = first.balance.lock();
    let mut b = second.balance.lock();
    if from.id < to.id {
        *a -= amount;
        *b += amount;
    } else {
        *b -= amount;
        *a += amount;
    }
}

#[test]
fn a2_two_instances_of_one_class_in_one_order_are_clean() {
    let acc = accounts("a2-account", 2);
    transfer(&acc[0], &acc[1], 5);
    transfer(&acc[0], &acc[1], 5);
    assert!(cycles_touching("a2-").is_empty());
}

#[test]
fn a3_e2_instances_of_one_class_in_both_orders_deadlock() {
    let acc = accounts("a3-account", 2);
    transfer(&acc[0], &acc[1], 5);
    transfer(&acc[1], &acc[0], 5);
    let cycle = the_deadlock(&["a3-account"], Graph::Instance);
    assert!(cycle.notes.iter().any(|n| n.contains("share a class")), "{:?}", cycle.notes);
    assert_ne!(cycle.edges[0].from.instance, cycle.edges[0].to.instance);
}

#[test]
fn e3_lower_id_first_is_clean() {
    let acc = accounts("e3-account", 3);
    transfer_ordered(&acc[0], &acc[1], 5);
    transfer_ordered(&acc[1], &acc[0], 5);
    transfer_ordered(&acc[2], &acc[0], 5);
    assert!(cycles_touching("e3-").is_empty());
}

#[test]
fn a4_reentrant_mutex_takes_part_in_cycles() {
    let (r, b) = (ReentrantMutex::named("a4-r", ()), Mutex::named("a4-b", ()));
    {
        let _r1 = r.lock();
        let _r2 = r.lock();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        let _r = r.lock();
    }
    let cycle = the_deadlock(&["a4-r", "a4-b"], Graph::Instance);
    let sites: Vec<u32> = cycle.edges.iter().map(|e| e.to_site.line).collect();
    assert!(
        cycle.edges.iter().all(|e| e.to_site.file.ends_with("same_class_nesting_is_a_cycle_only_in_both_orders.rs")),
        "user sites, not lock_api's: {sites:?}"
    );
}

fn pair() -> (Mutex<u32>, Mutex<u32>) {
    (Mutex::named("e1-first", 0), Mutex::named("e1-second", 0))
}

#[test]
fn e1_new_locks_in_the_memory_of_dropped_ones_are_new_instances() {
    for _ in 0..100 {
        let (a, b) = pair();
        let _a = a.lock();
        let _b = b.lock();
    }
    assert!(cycles(&["e1-first", "e1-second"]).is_empty());
}

#[test]
fn class_cycle_without_an_instance_cycle_is_found_by_class() {
    let (a1, b1) = (Mutex::named("cls-a", ()), Mutex::named("cls-b", ()));
    let (a2, b2) = (Mutex::named("cls-a", ()), Mutex::named("cls-b", ()));
    {
        let _a = a1.lock();
        let _b = b1.lock();
    }
    {
        let _b = b2.lock();
        let _a = a2.lock();
    }
    let cycle = the_deadlock(&["cls-a", "cls-b"], Graph::Class);
    assert!(cycle.edges.iter().all(|e| e.from.instance.is_none()));
}

#[test]
fn a3_an_inversion_after_other_pairs_of_the_class_is_still_seen() {
    let acc = accounts("a3x-account", 3);
    transfer(&acc[0], &acc[1], 1);
    transfer(&acc[2], &acc[1], 1);
    transfer(&acc[1], &acc[2], 1);
    the_deadlock(&["a3x-account"], Graph::Instance);
}
