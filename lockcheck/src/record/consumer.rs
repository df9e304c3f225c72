//! The recorder's link to whoever drains its rings (the collector, in `runtime/`).
//!
//! The recorder sits below the runtime, so it never names it: what it needs from above — a
//! thread's id, and where a sampled hold's start goes — is handed to it once, by
//! [`attach`], when the collector starts. Until then no thread records; the runtime attaches
//! before it hands out the first lock id (see `registry.rs`), so every event finds it attached.
//! Waking goes the other way round: the consumer parks in [`park`], and a filling ring calls
//! [`wake`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::thread::Thread;
use std::time::Duration;

/// What the recorder asks of the layer above it. Both are called on cold paths only: once per
/// thread, and once per sampled hold.
pub(crate) struct Consumer {
    /// The calling thread's lockcheck id, registering the thread if need be; 0 when it cannot
    /// be had (thread teardown).
    pub thread_id: fn() -> u32,
    /// Marks the calling thread's hold of `lock`, if it is the innermost, as timed from
    /// `start` (a reading of `clock::now`): its release then records a hold sample.
    pub time_hold: fn(lock: u32, start: u64),
}

static CONSUMER: OnceLock<Consumer> = OnceLock::new();

/// Connects the consumer; from now on threads record. Later calls change nothing.
#[cold]
pub(crate) fn attach(consumer: Consumer) {
    let _ = CONSUMER.set(consumer);
}

/// The attached consumer, if recording is on.
#[inline]
pub(crate) fn attached() -> Option<&'static Consumer> {
    CONSUMER.get()
}

/// The consumer's thread, to unpark it early. Park/unpark keeps a token, so an unpark that
/// comes before the consumer parks is not lost.
static THREAD: OnceLock<Thread> = OnceLock::new();
/// Set while a wake-up is pending, so a full ring does not unpark on every push.
static WOKEN: AtomicBool = AtomicBool::new(false);

/// Asks the consumer to drain now (a ring is filling up, or a thread exited).
#[cold]
pub(crate) fn wake() {
    // Relaxed: only rate-limits wake-ups; the unpark token carries the signal itself. The
    // plain load first keeps a ring that stays full from writing the shared flag per push.
    if !WOKEN.load(Ordering::Relaxed) && !WOKEN.swap(true, Ordering::Relaxed) {
        if let Some(thread) = THREAD.get() {
            thread.unpark();
        }
    }
}

/// Called by the consumer's thread between drains: returns when woken, or after `period`.
pub(crate) fn park(period: Duration) {
    THREAD.get_or_init(std::thread::current);
    // Relaxed: see `wake`. A wake-up between this load and the park leaves the token.
    if !WOKEN.load(Ordering::Relaxed) {
        std::thread::park_timeout(period);
    }
    // Cleared before draining: a ring filling up during the drain asks for another.
    WOKEN.store(false, Ordering::Relaxed);
}
