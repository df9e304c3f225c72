//! A program that measures its own lock waits, to compare with what lockcheck reports.
//!
//! Four tellers take `account` then `ledger` with a short hold; an auditor, run after them,
//! takes `ledger` then `account` (the reverse order: lockcheck reports the cycle, though this
//! program never hangs, and each new order captures a stack). Every thread times each of its `lock()` calls
//! and the program prints the sum, in nanoseconds, as `own-wait-ns <n>`. Under lockcheck the
//! sum should stay what the program waits for itself, and `lockcheck stats` on its trace
//! should agree with it: `benches/observer_effect.rs` in `lockcheck-cli` compares them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Instant;

use lockcheck::Mutex;

static ACCOUNT: Mutex<u64> = Mutex::named("account", 0);
static LEDGER: Mutex<Vec<u64>> = Mutex::named("ledger", Vec::new());
static WAITED_NS: AtomicU64 = AtomicU64::new(0);

/// Locks `lock`, adding how long the call took to [`WAITED_NS`].
#[track_caller]
fn timed<T>(lock: &Mutex<T>) -> lockcheck::MutexGuard<'_, T> {
    let start = Instant::now();
    let guard = lock.lock();
    WAITED_NS.fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    guard
}

/// A few microseconds of work inside a critical section.
fn work(n: u64) -> u64 {
    (0..200).fold(n, |acc, i| acc.wrapping_mul(6364136223846793005).wrapping_add(i))
}

fn main() {
    thread::scope(|s| {
        for teller in 0..4u64 {
            thread::Builder::new()
                .name(format!("teller-{teller}"))
                .spawn_scoped(s, move || {
                    for i in 0..2_000 {
                        let mut account = timed(&ACCOUNT);
                        *account = work(*account + i);
                        timed(&LEDGER).push(teller);
                    }
                })
                .expect("spawn teller");
        }
    });
    thread::scope(|s| {
        thread::Builder::new()
            .name("auditor".into())
            .spawn_scoped(s, || {
                for _ in 0..500 {
                    let ledger = timed(&LEDGER);
                    let account = timed(&ACCOUNT);
                    std::hint::black_box((ledger.len(), *account));
                }
            })
            .expect("spawn auditor");
    });
    println!("own-wait-ns {}", WAITED_NS.load(Ordering::Relaxed));
}
