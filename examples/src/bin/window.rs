//! A latent deadlock with a narrow window, to measure whether lockcheck widens it.
//!
//! `left` takes `alpha`, then `beta` at once; `right` works for 300 µs, then takes `beta`,
//! then `alpha`. Plain, `left` is done with both long before `right` starts, so the program
//! (almost) never hangs. If what lockcheck does on a first acquisition took longer than the
//! window, `right` would take `beta` while `left` holds `alpha` and waits for it: a hang.
//! lockcheck reports the cycle `alpha => beta => alpha` either way; whether the process hangs
//! is the observer effect. `benches/observer_effect.rs` in `lockcheck-cli` runs it many times,
//! traced, and counts the hangs (the watchdog turns each into an abort).
//!
//! Prints `done` when it did not hang.

use std::thread;
use std::time::{Duration, Instant};

use lockcheck::Mutex;

static ALPHA: Mutex<u32> = Mutex::named("alpha", 0);
static BETA: Mutex<u32> = Mutex::named("beta", 0);

/// How long `right` works before it locks.
const WINDOW: Duration = Duration::from_micros(300);

fn main() {
    let left = thread::Builder::new().name("left".into()).spawn(|| {
        let mut alpha = ALPHA.lock();
        *BETA.lock() += 1;
        *alpha += 1;
    });
    let right = thread::Builder::new().name("right".into()).spawn(|| {
        // Works, without sleeping: a sleep's own wake-up latency would dwarf the window.
        let start = Instant::now();
        while start.elapsed() < WINDOW {
            std::hint::spin_loop();
        }
        let mut beta = BETA.lock();
        *ALPHA.lock() += 1;
        *beta += 1;
    });
    left.expect("spawn left").join().expect("left");
    right.expect("spawn right").join().expect("right");
    println!("done");
}
