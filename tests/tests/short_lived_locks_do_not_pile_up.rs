//! SCENARIOS.md E5: threads that create, lock and drop short-lived locks in a loop leave no
//! trace in lockcheck's memory: instance state goes when the lock goes, classes stay.
//! Live heap bytes are counted by this test binary's allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use lockcheck::Mutex;
use lockcheck_tests::cycles_touching;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Four threads; each creates, locks and drops locks, nested under a shared outer lock and
/// (per-account style) under another lock of their own class.
fn churn(rounds: u32) {
    static OUTER: Mutex<()> = Mutex::named("e5m-outer", ());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(move || {
                for i in 0..rounds {
                    let (a, b) = (Mutex::named("e5m-account", i), Mutex::named("e5m-account", i + 1));
                    let _outer = OUTER.lock();
                    let _a = a.lock();
                    let _b = b.lock();
                }
            });
        }
    });
}

#[test]
fn e5_churning_short_lived_locks_keeps_memory_flat() {
    churn(2_000); // warm up: thread registry, caches, the classes themselves
    let before = LIVE.load(Ordering::Relaxed);
    churn(20_000);
    let after = LIVE.load(Ordering::Relaxed);
    let growth = after - before;
    // 80,000 locks came and went; a few hundred bytes per thread of registry is all that may stay.
    assert!(growth < 64 * 1024, "{growth} bytes still live after 80,000 short-lived locks");
    assert!(cycles_touching("e5m-").is_empty());
}
