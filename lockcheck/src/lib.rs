//! Drop-in [`parking_lot`] locks that find deadlocks before they happen.
//!
//! Swap `use parking_lot::{Mutex, RwLock, …}` for `use lockcheck::{Mutex, RwLock, …}`. Without
//! the `instrument` feature every primitive *is* parking_lot's, at its size and speed. With it
//! (turn it on for tests only), every acquisition is checked and recorded:
//!
//! - a lock acquired twice by one thread is reported **before the thread blocks**;
//! - ranks (`Mutex::ranked`) must strictly increase along the locks a thread holds;
//! - every order "B taken while holding A" goes into a lock-order graph, by instance and by
//!   class (name, or creation site), and a cycle is reported the first time it closes, with
//!   the sites of every edge, even though this run never deadlocked;
//! - a watchdog thread turns a real hang into a report: threads waiting for each other get the
//!   wait-for cycle with every involved thread's held locks and stack, then the process aborts
//!   (`LOCKCHECK_ON_DEADLOCK`); a wait past the threshold with no cycle is a stall warning.
//!
//! ```
//! use lockcheck::Mutex;
//!
//! static ACCOUNTS: Mutex<u64> = Mutex::named("accounts", 100);
//! static LEDGER: Mutex<Vec<u64>> = Mutex::named("ledger", Vec::new());
//!
//! fn deposit(amount: u64) {
//!     let mut balance = ACCOUNTS.lock();
//!     *balance += amount;
//!     LEDGER.lock().push(amount); // accounts -> ledger
//! }
//!
//! deposit(5);
//! // Nothing found: one order only. Taking `ledger` then `accounts` anywhere would be a cycle.
//! lockcheck::assert_no_deadlocks();
//! ```
//!
//! Code written against `std::sync` switches to [`sync`] with its `use` line: std's `Mutex`,
//! `RwLock`, `Condvar`, `OnceLock` and `LazyLock`, poisoning included, in the same graph.
//! Every lock has `assert_held` and `assert_not_held`, and [`assert_no_locks_held`] checks a
//! thread holds nothing: lockdep's held-lock assertions, reported as findings.
//!
//! # Features
//!
//! - `instrument`: checks and recording. Put it on the dev-dependency only:
//!   `[dev-dependencies] lockcheck = { version = "0.1", features = ["instrument"] }`.
//! - `tokio`: `lockcheck::tokio`, tokio's async `Mutex`, `RwLock` and `Semaphore` with tokio's
//!   API, held by the task (tokio's own types without `instrument`).
//!
//! # Environment (read once, at first use; a bad value warns and keeps the default)
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `LOCKCHECK` | `1` | `0` switches instrumentation off at run time |
//! | `LOCKCHECK_ON_CYCLE` | `warn` | `warn`, `panic` or `ignore` a new finding |
//! | `LOCKCHECK_SUPPRESSIONS` | nearest `lockcheck.toml` | accepted findings, each with a reason (see [`suppress`]) |
//! | `LOCKCHECK_STACKS` | `1` | capture a stack for each new order between classes |
//! | `LOCKCHECK_TRACE` | unset | record a trace into this file, or into `<program>-<pid>.lctrace` in this directory (see [`trace`]) |
//! | `LOCKCHECK_WAIT_STACKS_US` | `20` | with a trace, record where a thread waited (a stack) when a contended wait lasted at least this many µs (taken by the waiting thread while it still waits, so it costs the wait, never the hold); `0` = never (`LOCKCHECK_STACKS=0` also turns it off) |
//! | `LOCKCHECK_HOLD_SAMPLE` | `64` | time one uncontended hold in N (`1`: all, `0`: none) |
//! | `LOCKCHECK_RING` | `524288` | records (8 bytes each; one per lock and unlock with nothing recorded in between; memory committed as a thread writes it) per thread buffer; a full buffer drops (and counts) events |
//! | `LOCKCHECK_WATCHDOG_MS` | `10000` | report threads waiting longer than this (a deadlock, or a stall once the holder has also gone this long without waiting on a lockcheck primitive); `0` = no watchdog |
//! | `LOCKCHECK_ON_DEADLOCK` | `abort` | after reporting a real deadlock, `abort` the process or `warn` once and keep going |
//! | `LOCKCHECK_STRESS` | unset | stress mode with this seed: delays injected at acquisitions and releases to make rare interleavings likely, reproducibly (see [`stress`]) |
//!
//! # Overhead
//!
//! A thread caches every acquisition context (its held lock classes plus the new one) it has checked;
//! a known context costs a hash and a thread-local lookup, and writes no shared memory. See the
//! README for the benchmark figures against parking_lot.

#![warn(missing_docs)]

mod analysis;
mod config;
mod primitives;
#[cfg(feature = "instrument")]
mod record;
mod runtime;
pub mod trace;

pub use analysis::report::{
    Assertion, Cycle, Edge, FailedAssertion, Finding, Graph, Hang, HeldLock, LockKind, LockRef, Misuse, Mode,
    RankViolation, Report, SelfDeadlock, Site, ThreadState,
};
pub use analysis::{frames, merge, suppress};
pub use config::{OnCycle, OnDeadlock};
pub use primitives::condvar::{Condvar, WaitTimeoutResult};
pub use primitives::mutex::{MappedMutexGuard, Mutex, MutexGuard};
pub use primitives::raw::{RawMutex, RawRwLock};
pub use primitives::remutex::{MappedReentrantMutexGuard, ReentrantMutex, ReentrantMutexGuard};
pub use primitives::rwlock::{
    MappedRwLockReadGuard, MappedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
};
pub use primitives::semaphore::{Semaphore, SemaphorePermit};
pub use primitives::stress;
pub use primitives::sync;
#[cfg(feature = "tokio")]
pub use primitives::tokio;

/// Whether this build has the `instrument` feature.
pub const INSTRUMENTED: bool = cfg!(feature = "instrument");

/// Everything found so far in this process (empty without the `instrument` feature), less the
/// findings a [suppression](suppress) accepts. Traces keep every finding: the CLI applies its
/// own suppressions.
///
/// Stacks come with every frame's file and line, read from the debug info on the calling
/// thread (its first call in a debug build: a fifth of a second and tens of MiB). Findings
/// printed as they are found (`LOCKCHECK_ON_CYCLE=warn`) name each frame's function only, from
/// the symbol table, so that printing costs the process next to nothing.
pub fn report() -> Report {
    #[cfg(feature = "instrument")]
    {
        let report = Report { findings: runtime::check::findings(), events_lost: record::ring::events_lost() };
        runtime::check::suppressions().apply(report).0
    }
    #[cfg(not(feature = "instrument"))]
    {
        Report::default()
    }
}

/// Writes everything recorded so far to the trace (`LOCKCHECK_TRACE`), now. Traces are also
/// flushed periodically, at exit and after a panic; this is for a program that wants a
/// complete trace at a point of its choosing. Does nothing when no trace is recorded.
pub fn flush() {
    #[cfg(feature = "instrument")]
    runtime::collector::flush();
}

/// Panics with the report if anything that fails a check was found.
#[track_caller]
pub fn assert_no_deadlocks() {
    let report = report();
    if report.has_failures() {
        panic!("lockcheck found problems:\n{report}");
    }
}

/// Overrides `LOCKCHECK_ON_CYCLE` for the rest of the process (a test harness that wants
/// every finding to panic, say). Without the `instrument` feature it does nothing.
pub fn set_on_cycle(on_cycle: OnCycle) {
    #[cfg(feature = "instrument")]
    runtime::check::set_on_cycle(on_cycle);
    #[cfg(not(feature = "instrument"))]
    let _ = on_cycle;
}

/// Checks that the calling thread holds no lock at all (before a blocking call, say: a
/// channel receive, a join, a request). If it holds one, that is a
/// [`FailedAssertion`] finding listing what it holds, acted on like any other
/// (`LOCKCHECK_ON_CYCLE`) and failing `lockcheck check`. Without the `instrument` feature it
/// does nothing. Each lock has its own `assert_held` and `assert_not_held`.
#[inline]
#[track_caller]
pub fn assert_no_locks_held() {
    primitives::assertion::no_locks(std::panic::Location::caller());
}

/// The locks the calling thread holds now, oldest first (empty without the `instrument`
/// feature); with the `tokio` feature, the async locks of the task running on it (or of its
/// `block_on`) come first. Useful in a debugger or a failing test: lockdep's "held locks" list.
pub fn held_locks() -> Vec<HeldLock> {
    #[cfg(feature = "instrument")]
    {
        runtime::check::held_locks()
    }
    #[cfg(not(feature = "instrument"))]
    {
        Vec::new()
    }
}
