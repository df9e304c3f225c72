//! `sync::Condvar::wait` (std's API, guard by value) releases the mutex and re-acquires it
//! as a blocking acquisition: the re-acquisition makes an edge from every other lock held.

use std::thread;

use lockcheck::sync::{Condvar, Mutex};
use lockcheck::Graph;
use lockcheck_tests::{held, the_deadlock};

#[test]
fn a_std_condvar_wait_reacquires_as_a_blocking_acquisition() {
    let (outer, queue) = (Mutex::named("cv-outer", ()), Mutex::named("cv-queue", false));
    let ready = Condvar::new();
    thread::scope(|s| {
        let _outer = outer.lock().unwrap();
        // Taken before the order outer -> queue exists only through the condvar: `try_lock`
        // adds no edge into the lock it takes.
        let mut full = queue.try_lock().unwrap();
        s.spawn(|| {
            *queue.lock().unwrap() = true;
            ready.notify_one();
        });
        assert_eq!(held(), ["cv-outer:lock", "cv-queue:lock"]);
        while !*full {
            full = ready.wait(full).unwrap();
        }
        assert_eq!(held(), ["cv-outer:lock", "cv-queue:lock"], "re-acquired after the wait");
    });
    // The re-acquisition was outer -> queue; this closes the cycle.
    let _queue = queue.lock().unwrap();
    let _outer = outer.lock().unwrap();
    the_deadlock(&["cv-outer", "cv-queue"], Graph::Instance);
}
