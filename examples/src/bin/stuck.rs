//! A real deadlock, caught by the watchdog.
//!
//! Two threads take `left` and `right` in opposite orders and meet in the middle (a barrier
//! makes sure they do). Without lockcheck the process hangs until something kills it. With
//! it, the order check reports the potential deadlock as the second order is taken, and the
//! watchdog, a moment later, sees both threads waiting on each other: it prints the wait-for
//! cycle with both threads' stacks and aborts, so a test run fails fast and explains itself.
//!
//! Run it with `LOCKCHECK_WATCHDOG_MS=500 cargo run -p lockcheck-examples --bin stuck`.

use std::sync::Barrier;
use std::thread;

use lockcheck::Mutex;

static LEFT: Mutex<u32> = Mutex::named("left", 0);
static RIGHT: Mutex<u32> = Mutex::named("right", 0);

fn take(first: &Mutex<u32>, second: &Mutex<u32>, barrier: &Barrier) {
    let mut a = first.lock();
    barrier.wait();
    let mut b = second.lock();
    *a += 1;
    *b += 1;
}

fn main() {
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        let barrier = &barrier;
        thread::Builder::new().name("left-first".into()).spawn_scoped(s, || take(&LEFT, &RIGHT, barrier)).unwrap();
        thread::Builder::new().name("right-first".into()).spawn_scoped(s, || take(&RIGHT, &LEFT, barrier)).unwrap();
    });
    println!("unreachable: both threads finished");
}
