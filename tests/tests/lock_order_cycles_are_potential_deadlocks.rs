//! SCENARIOS.md family C: lock-order cycles, found whether or not the run deadlocked.

use lockcheck::{Graph, Mutex};
use lockcheck_tests::{cycles, cycles_touching, the_deadlock};

fn lu2<T, U>(a: &Mutex<T>, b: &Mutex<U>) {
    let _a = a.lock();
    let _b = b.lock();
}

#[test]
fn c1_one_thread_both_orders() {
    let (a, b) = (Mutex::named("c1-a", ()), Mutex::named("c1-b", ()));
    lu2(&a, &b);
    lu2(&b, &a);
    let cycle = the_deadlock(&["c1-a", "c1-b"], Graph::Instance);
    assert_eq!(cycle.edges.len(), 2);
    assert!(cycle.single_thread, "one thread took both orders");
}

#[test]
fn c2_two_threads_one_after_the_other_are_both_named() {
    let (a, b) = (Mutex::named("c2-a", ()), Mutex::named("c2-b", ()));
    std::thread::scope(|s| {
        std::thread::Builder::new().name("c2-first".into()).spawn_scoped(s, || lu2(&a, &b)).unwrap().join().unwrap();
        std::thread::Builder::new().name("c2-second".into()).spawn_scoped(s, || lu2(&b, &a)).unwrap().join().unwrap();
    });
    let cycle = the_deadlock(&["c2-a", "c2-b"], Graph::Instance);
    let threads: Vec<&str> = cycle.edges.iter().map(|e| e.thread.as_str()).collect();
    assert!(threads.contains(&"c2-first") && threads.contains(&"c2-second"), "{threads:?}");
    assert!(!cycle.single_thread);
}

#[test]
fn c3_three_locks_three_edges_with_sites() {
    let (a, b, c) = (Mutex::named("c3-a", ()), Mutex::named("c3-b", ()), Mutex::named("c3-c", ()));
    lu2(&a, &b);
    lu2(&b, &c);
    lu2(&c, &a);
    let cycle = the_deadlock(&["c3-a", "c3-b", "c3-c"], Graph::Instance);
    assert_eq!(cycle.edges.len(), 3);
    for edge in &cycle.edges {
        assert!(edge.from_site.file.ends_with("lock_order_cycles_are_potential_deadlocks.rs"), "{edge:?}");
        assert!(edge.to_site.line > 0);
    }
    let text = lockcheck::Finding::PotentialDeadlock(cycle).to_string();
    assert!(text.contains("c3-a") && text.contains("c3-b") && text.contains("c3-c"), "{text}");
}

#[test]
fn c4_rings_of_5_20_100_locks_are_reported_whole() {
    for n in [5usize, 20, 100] {
        let names: Vec<&'static str> = (0..n).map(|i| &*format!("c4-{n}-{i}").leak()).collect();
        let locks: Vec<Mutex<()>> = names.iter().map(|&name| Mutex::named(name, ())).collect();
        for i in 0..n {
            lu2(&locks[i], &locks[(i + 1) % n]);
        }
        let cycle = the_deadlock(&names, Graph::Instance);
        assert_eq!(cycle.edges.len(), n, "the whole ring of {n}");
    }
}

#[test]
fn c5_consistent_order_is_clean() {
    let (a, b, c) = (Mutex::named("c5-a", ()), Mutex::named("c5-b", ()), Mutex::named("c5-c", ()));
    lu2(&a, &b);
    lu2(&b, &c);
    lu2(&a, &c);
    assert!(cycles_touching("c5-").is_empty());
}

#[test]
fn c6_diamond_is_clean() {
    let (a, b, c, d) =
        (Mutex::named("c6-a", ()), Mutex::named("c6-b", ()), Mutex::named("c6-c", ()), Mutex::named("c6-d", ()));
    lu2(&a, &b);
    lu2(&a, &c);
    lu2(&b, &d);
    lu2(&c, &d);
    assert!(cycles_touching("c6-").is_empty());
}

#[test]
fn c7_dining_philosophers_without_a_hang() {
    let forks: Vec<Mutex<()>> =
        ["c7-f0", "c7-f1", "c7-f2", "c7-f3", "c7-f4"].into_iter().map(|n| Mutex::named(n, ())).collect();
    std::thread::scope(|s| {
        for i in 0..5 {
            let forks = &forks;
            // One philosopher at a time: the run cannot hang, the order still cycles.
            s.spawn(move || lu2(&forks[i], &forks[(i + 1) % 5])).join().unwrap();
        }
    });
    the_deadlock(&["c7-f0", "c7-f1", "c7-f2", "c7-f3", "c7-f4"], Graph::Instance);
}

#[test]
fn c8_churn_between_the_two_orders_loses_no_history() {
    let (a, b) = (Mutex::named("c8-a", ()), Mutex::named("c8-b", ()));
    lu2(&a, &b);
    for i in 0..5_000 {
        let temp = Mutex::new(i);
        let _a = a.lock();
        *temp.lock() += 1;
    }
    lu2(&b, &a);
    the_deadlock(&["c8-a", "c8-b"], Graph::Instance);
}

#[test]
fn c9_four_threads_same_order_many_times_is_clean() {
    let (a, b) = (Mutex::named("c9-a", 0u64), Mutex::named("c9-b", 0u64));
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..100_000 {
                    let _a = a.lock();
                    *b.lock() += 1;
                }
            });
        }
    });
    assert_eq!(*b.lock(), 400_000);
    assert!(cycles(&["c9-a", "c9-b"]).is_empty());
}
