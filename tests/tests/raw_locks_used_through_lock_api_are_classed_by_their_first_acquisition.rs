//! A raw lock used through lock_api directly (`lock_api::Mutex<lockcheck::RawMutex, T>`, as
//! futures-intrusive does) is built by lock_api's `INIT`, with neither a name nor a creation
//! site: its class is the site of its first acquisition, so two such locks first taken in
//! different places are two classes and their lock-order cycle reads as one.

use lockcheck::{Graph, RawMutex};
use lockcheck_tests::cycles_touching;

type Mutex<T> = lock_api::Mutex<RawMutex, T>;

#[test]
fn two_raw_locks_taken_in_both_orders_are_a_cycle_between_two_classes() {
    let (accounts, ledger) = (Mutex::new(0u64), Mutex::new(0u64));
    let first_accounts = line!() + 1;
    *accounts.lock() += 1;
    let first_ledger = line!() + 1;
    *ledger.lock() += 1;
    std::thread::scope(|s| {
        s.spawn(|| {
            let _a = accounts.lock();
            let _l = ledger.lock();
        })
        .join()
        .unwrap();
        s.spawn(|| {
            let _l = ledger.lock();
            let _a = accounts.lock();
        })
        .join()
        .unwrap();
    });
    let here = file!();
    let label = |line: u32| format!("first locked at {here}:{line}:");
    let found = cycles_touching("first locked at tests/tests/raw_locks_used_through_lock_api");
    assert_eq!(found.len(), 1, "{found:?}");
    let classes: Vec<&str> = found[0].edges.iter().map(|e| e.from.class.as_str()).collect();
    assert!(classes.iter().any(|c| c.starts_with(&label(first_accounts))), "{classes:?}");
    assert!(classes.iter().any(|c| c.starts_with(&label(first_ledger))), "{classes:?}");
    assert_eq!(found[0].graph, Graph::Instance, "these very locks were taken in both orders");
}
