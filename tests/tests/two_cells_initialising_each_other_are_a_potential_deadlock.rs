//! Two `OnceLock`s whose initialisers reach for each other deadlock when two threads start
//! them at once. Run one after the other, each thread finishes: the orders "x, then y" and
//! "y, then x" between the cells' classes are still a cycle, reported without a hang.

use std::thread;

use lockcheck::sync::{Mutex, OnceLock};
use lockcheck::Graph;
use lockcheck_tests::{held, the_deadlock};

/// A pair of cells of the classes `cells-x` and `cells-y`.
fn pair() -> (OnceLock<u32>, OnceLock<u32>) {
    (OnceLock::named("cells-x"), OnceLock::named("cells-y"))
}

#[test]
fn two_cells_initialising_each_other_across_threads_are_a_potential_deadlock() {
    thread::spawn(|| {
        let (x, y) = pair();
        assert_eq!(*x.get_or_init(|| y.get_or_init(|| 1) + 1), 2);
    })
    .join()
    .unwrap();
    thread::spawn(|| {
        let (x, y) = pair();
        assert_eq!(*y.get_or_init(|| x.get_or_init(|| 1) + 1), 2);
    })
    .join()
    .unwrap();
    let cycle = the_deadlock(&["cells-x", "cells-y"], Graph::Class);
    assert!(!cycle.single_thread, "each order was taken by its own thread");
}

#[test]
fn a_lock_held_around_an_initialisation_and_taken_inside_another_is_an_order() {
    static REGISTRY: Mutex<Vec<&str>> = Mutex::named("cells-registry", Vec::new());
    static PLUGINS: OnceLock<usize> = OnceLock::named("cells-plugins");
    {
        // registry, then plugins.
        let mut registry = REGISTRY.lock().unwrap();
        registry.push("boot");
        assert_eq!(*PLUGINS.get_or_init(|| 3), 3);
        assert_eq!(held(), ["cells-registry:lock"], "the cell is held only while it initialises");
    }
    // plugins, then registry: in an initialiser of another cell of the same class.
    let other = OnceLock::named("cells-plugins");
    other.get_or_init(|| REGISTRY.lock().unwrap().len());
    // An initialised cell is not acquired again: no order, and nothing held.
    PLUGINS.get_or_init(|| unreachable!());
    the_deadlock(&["cells-registry", "cells-plugins"], Graph::Class);
}
