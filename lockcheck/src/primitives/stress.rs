//! Stress mode, seen from code: whether it is on, its seed, and synchronization points of the
//! program's own choosing.
//!
//! Stress mode (`LOCKCHECK_STRESS=<seed>`, with the `instrument` feature) injects yields,
//! spins and sleeps before lock acquisitions, after releases and before condvar waits (not
//! around `lockcheck::tokio`'s async locks), decided by the seed, so that
//! rare interleavings — a lock-order inversion whose window is a few instructions wide, a
//! check-then-act race between two critical sections — happen often, and happen again with the
//! same seed. `lockcheck stress -- <command>` runs a command many times with different seeds
//! and lists the seeds of the runs that failed, hung or deadlocked.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `LOCKCHECK_STRESS` | unset (off) | the seed, a decimal `u64` |
//! | `LOCKCHECK_STRESS_DEPTH` | `3` | the bug depth aimed at: each thread is set back (a 2–6 ms sleep) at `depth - 1` synchronization points drawn for it |
//! | `LOCKCHECK_STRESS_NOISE` | `8` | one synchronization point in N gets a yield, a spin or a sleep of up to 1 ms; `0`: none |
//!
//! A seed reproduces the same delays at the same synchronization points of the same threads.
//! A thread is known by its name and its index among the threads of that name in the order
//! they first reached a synchronization point (lockcheck does not see `thread::spawn`, so
//! it cannot use the spawn order): name the threads whose schedule matters. Hold and wait
//! figures of a stressed run include the injected delays; the trace records how much, and
//! `lockcheck report` and `stats` say so.
//!
//! ```
//! if lockcheck::stress::is_active() {
//!     println!("stress seed {:?}", lockcheck::stress::seed());
//! }
//! // Between a check and the action it justifies, where the program has no lock to take:
//! lockcheck::stress::point();
//! ```

/// Whether stress mode is on in this process (`LOCKCHECK_STRESS` set, instrumentation on).
/// Always `false` without the `instrument` feature.
#[inline]
pub fn is_active() -> bool {
    #[cfg(feature = "instrument")]
    {
        crate::runtime::check::enabled() && crate::runtime::stress::active()
    }
    #[cfg(not(feature = "instrument"))]
    {
        false
    }
}

/// The seed this process runs with, when stress mode is on.
pub fn seed() -> Option<u64> {
    #[cfg(feature = "instrument")]
    {
        is_active().then(|| crate::runtime::stress::settings().map(|s| s.seed)).flatten()
    }
    #[cfg(not(feature = "instrument"))]
    {
        None
    }
}

/// A synchronization point of the program's own: in stress mode, the calling thread may be
/// delayed here as at a lock acquisition (it counts as one of its points); otherwise nothing.
/// Call it where threads communicate without a lockcheck lock (an atomic flag, a channel)
/// and an interleaving there matters. Never call it while holding one of lockcheck's
/// internal locks (user code cannot): it may sleep.
#[inline]
pub fn point() {
    #[cfg(feature = "instrument")]
    crate::runtime::check::sync_point(crate::runtime::stress::Point::Other);
}
