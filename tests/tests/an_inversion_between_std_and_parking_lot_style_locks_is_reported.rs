//! `lockcheck::sync`'s locks and the parking_lot-style ones share one lock-order graph: an
//! order between a std-style lock and a parking_lot-style lock is an edge like any other.

use std::thread;

use lockcheck::{sync, Graph, Mutex, RwLock};
use lockcheck_tests::the_deadlock;

#[test]
fn a_std_mutex_and_a_parking_lot_mutex_taken_in_both_orders_are_a_potential_deadlock() {
    let (accounts, ledger) = (sync::Mutex::named("mix-accounts", 0), Mutex::named("mix-ledger", 0));
    thread::scope(|s| {
        s.spawn(|| {
            let mut a = accounts.lock().unwrap();
            *ledger.lock() += 1;
            *a += 1;
        })
        .join()
        .unwrap();
        s.spawn(|| {
            let mut l = ledger.lock();
            *accounts.lock().unwrap() += 1;
            *l += 1;
        })
        .join()
        .unwrap();
    });
    let cycle = the_deadlock(&["mix-accounts", "mix-ledger"], Graph::Instance);
    assert_eq!(cycle.edges.len(), 2);
}

#[test]
fn a_std_rwlock_read_read_cycle_needs_a_queued_writer_as_parking_lot_s_does() {
    let (config, cache) = (sync::RwLock::named("mix-config", ()), RwLock::named("mix-cache", ()));
    {
        let _config = config.read().unwrap();
        let _cache = cache.read();
    }
    {
        let _cache = cache.read();
        let _config = config.read().unwrap();
    }
    let cycle = the_deadlock(&["mix-config", "mix-cache"], Graph::Instance);
    assert!(cycle.notes.iter().any(|n| n.contains("writer queues")), "{:?}", cycle.notes);
}
