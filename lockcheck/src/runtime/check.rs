//! The acquisition protocol every instrumented raw lock follows, and the findings it raises.
//!
//! ```text
//! (stress mode: maybe a delay, before any of this and after a release)
//! begin ─ off? ─────────────────────────────► plain parking_lot
//!   │ on
//! before_blocking: context cached? ── yes ──► (count a hit if it is part of a finding)
//!   │ no (cold): self-deadlock, rank, lock-order graph → findings → LOCKCHECK_ON_CYCLE
//! try the fast path ── contended ──► wait (timed; the watchdog can see it; the holder
//!   │                                  noted; a long wait's stack captured for the trace)
//!   │
//! acquired: push onto the held stack
//! ```
//!
//! Nothing here allocates, locks or reads the clock unless a context is new or the lock
//! is contended.
//!
//! Here: the protocol. The finding path (judge a new context, record, act as
//! `LOCKCHECK_ON_CYCLE` says, unless suppressed) is in `check/finding.rs`; the calling
//! thread's held locks (`held_locks()`) and those a thread leaves held when it exits, in
//! `check/held_locks.rs`.

mod finding;
mod held_locks;

use std::cell::Cell;
use std::panic::Location;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use crate::analysis::report::LockKind;
use crate::analysis::report::Mode;
use crate::config;
use crate::record::ring::{self, Waited};
use crate::runtime::held::{self, Acquire, Verdict};
use crate::runtime::registry::LockMeta;
use crate::runtime::stress::{self, Point};
use crate::runtime::{graph, watchdog};
use finding::examine;
pub use finding::panics_at_caller;
#[cfg(feature = "tokio")]
pub(crate) use finding::{act_on, judge, record};
pub(crate) use finding::{findings, held_lock, note, raise, recorded, set_on_cycle, suppressions};
pub(crate) use held_locks::{held_locks, thread_exit};

/// 0 = not read yet, 1 = on, 2 = off (`LOCKCHECK=0`).
static ENABLED: AtomicU8 = AtomicU8::new(0);

#[inline]
pub(crate) fn enabled() -> bool {
    // Relaxed: the flag is derived from the environment, the same value whoever stores it.
    match ENABLED.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => init_enabled(),
    }
}

#[cold]
fn init_enabled() -> bool {
    let on = config::get().enabled;
    // Relaxed: see `enabled`.
    ENABLED.store(if on { 1 } else { 2 }, Ordering::Relaxed);
    on
}

thread_local! {
    /// Set while one of the primitives' own blocking methods (`Mutex::lock`, `RwLock::write`,
    /// …) runs (see [`FreshCall`]). An acquisition outside one is a guard re-acquiring its lock
    /// (lock_api's `MutexGuard::unlocked`, a condvar wake-up, an upgrade): a panic there would
    /// leave the guard over a lock it no longer holds, so `LOCKCHECK_ON_CYCLE=panic` prints
    /// instead. Two plain stores per call; read only when there is something to report.
    static FRESH: Cell<bool> = const { Cell::new(false) };
    /// The user's call site for a reentrant lock, whose lock_api wrapper loses it.
    static SITE_HINT: Cell<Option<&'static Location<'static>>> = const { Cell::new(None) };
}

/// Whether a blocking acquisition is a fresh call from user code (see [`FreshCall`]), told by
/// the raw lock's caller where it knows: that saves the thread-local marker's two stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fresh {
    /// One of the primitives' own blocking methods.
    Call,
    /// Fresh if a [`FreshCall`] is under way: a guard re-acquiring its lock otherwise.
    Unknown,
}

/// A blocking call from user code, for as long as it lives (cleared on unwind too).
pub struct FreshCall(());

impl FreshCall {
    /// Marks this thread as inside a fresh call.
    #[inline]
    pub fn begin() -> FreshCall {
        FRESH.set(true);
        FreshCall(())
    }
}

impl Drop for FreshCall {
    #[inline]
    fn drop(&mut self) {
        FRESH.set(false);
    }
}

/// Passes the user's call site to the next reentrant acquisition on this thread.
#[inline]
pub fn hint_site(site: &'static Location<'static>) {
    let _ = SITE_HINT.try_with(|h| h.set(Some(site)));
}

/// A synchronization point: before an acquisition, after a release. Stress mode may inject a
/// delay here; off, it costs one relaxed load and a branch not taken.
#[inline(always)]
pub(crate) fn sync_point(at: Point) {
    if stress::active() {
        stress::point(at);
    }
}

/// The acquisition about to happen, or `None` when instrumentation is switched off.
#[inline]
fn begin(meta: &LockMeta, mode: Mode, site: &'static Location<'static>) -> Option<Acquire> {
    begin_at(meta, mode, user_site(meta, site))
}

/// [`begin`] with the user's site already resolved.
#[inline]
fn begin_at(meta: &LockMeta, mode: Mode, site: &'static Location<'static>) -> Option<Acquire> {
    if !enabled() {
        return None;
    }
    let (id, class_word) = meta.ids(site);
    Some(Acquire::new(id, class_word, mode, meta.kind, site))
}

/// The user's call site: `site`, or for a reentrant lock the one its wrapper left (see
/// [`hint_site`]).
#[inline(always)]
fn user_site(meta: &LockMeta, site: &'static Location<'static>) -> &'static Location<'static> {
    if meta.kind == LockKind::Reentrant {
        return SITE_HINT.try_with(Cell::take).ok().flatten().unwrap_or(site);
    }
    site
}

/// This thread's lockcheck id (0 when switched off or during teardown).
pub(crate) fn current_tid() -> u32 {
    if !enabled() {
        return 0;
    }
    held::with(|t| t.tid()).unwrap_or(0)
}

/// A semaphore permit going back, possibly from another thread than its owner's.
pub(crate) fn release_permit(meta: &LockMeta, owner: u32) {
    let Some(id) = meta.registered_id() else { return };
    watchdog::permit_released(meta);
    // On the owner's own thread the entry is popped (or was never tracked: past the held
    // stack's depth); only another thread hands it back through the pending list.
    let on_owner = held::with(|t| {
        let on_owner = t.tid == owner;
        if on_owner {
            t.pop(id);
        }
        on_owner
    });
    if on_owner == Some(false) && owner != 0 {
        held::release_remote(owner, id);
    }
}

/// A blocking acquisition: checked before it can block. `block` waits for good;
/// `block_until` waits until an instant (the watchdog splits long waits).
#[inline(always)]
#[track_caller]
pub(crate) fn lock(
    meta: &LockMeta,
    mode: Mode,
    site: &'static Location<'static>,
    fresh: Fresh,
    try_fast: impl Fn() -> bool,
    block: impl FnOnce(),
    block_until: impl FnMut(Instant) -> bool,
) {
    sync_point(Point::Acquire);
    // The common case, a registered lock in a known context and free, costs one thread-local
    // access: the fast path runs inside it (a CAS, which never calls back into lockcheck). A
    // registered lock means instrumentation is on: locks register only when it is.
    let site = user_site(meta, site);
    // With async locks held by some task, the running task's may be edges into this lock:
    // the slow path looks (`before_blocking`). Compiled out without the `tokio` feature.
    #[cfg(feature = "tokio")]
    if crate::runtime::task::any_held() {
        return lock_slow(meta, mode, site, fresh, try_fast, block, block_until);
    }
    if let Some((id, class_word)) = meta.registered() {
        let acq = Acquire::new(id, class_word, mode, meta.kind, site);
        let fast = held::with_leaf(
            #[inline(always)]
            |t| t.acquire_known(&acq, &try_fast).then_some(t.tid),
        );
        if let Some(Some(tid)) = fast {
            return hooks_acquired(meta, tid, &acq);
        }
    }
    // Everything else starts over, from arguments that fit in registers: the fast path keeps
    // nothing alive for it.
    lock_slow(meta, mode, site, fresh, try_fast, block, block_until)
}

/// [`lock`] for a new context, a contended lock, a lock's first acquisition, a thread in
/// teardown, or with instrumentation switched off.
#[cold]
#[inline(never)]
#[track_caller]
fn lock_slow(
    meta: &LockMeta,
    mode: Mode,
    site: &'static Location<'static>,
    fresh: Fresh,
    try_fast: impl Fn() -> bool,
    block: impl FnOnce(),
    block_until: impl FnMut(Instant) -> bool,
) {
    let Some(acq) = begin_at(meta, mode, site) else {
        if !try_fast() {
            block();
        }
        return;
    };
    // Checked before it can block: a new context is examined here (a known one, whose lock
    // was busy, is only looked up again).
    before_blocking(&acq, fresh);
    if try_fast() {
        acquired(meta, &acq, true);
    } else {
        let block = || {
            block();
            true
        };
        acquired_after_wait(meta, &acq, wait(meta, &acq, None, block, block_until).1);
    }
}

/// How long a timed acquisition may wait: parking_lot's `_for` and `_until` forms.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Timeout {
    /// Give up after this long.
    For(Duration),
    /// Give up at this instant.
    Until(Instant),
}

impl Timeout {
    /// The instant the wait gives up, for a wait that starts `now` (`None`: never).
    fn deadline(self, now: Instant) -> Option<Instant> {
        match self {
            Timeout::For(timeout) => now.checked_add(timeout),
            Timeout::Until(deadline) => Some(deadline),
        }
    }
}

/// A timed acquisition: it may block, so it is checked like a blocking one. `block` waits as
/// the caller asked; `block_until` waits until an instant.
#[inline]
// The acquisition's description plus the raw lock's three ways to take it: grouping them
// would only move the same eight values into a struct at every call site.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub(crate) fn lock_timed(
    meta: &LockMeta,
    mode: Mode,
    site: &'static Location<'static>,
    fresh: Fresh,
    timeout: Timeout,
    try_fast: impl FnOnce() -> bool,
    block: impl FnOnce() -> bool,
    block_until: impl FnMut(Instant) -> bool,
) -> bool {
    sync_point(Point::Acquire);
    let Some(acq) = begin(meta, mode, site) else {
        return try_fast() || block();
    };
    before_blocking(&acq, fresh);
    if try_fast() {
        acquired(meta, &acq, true);
        return true;
    }
    let (ok, waited) = wait(meta, &acq, Some(timeout), block, block_until);
    if ok {
        acquired_after_wait(meta, &acq, waited);
    } else {
        ring::timed_out(acq.id, acq.mode, acq.site, waited);
    }
    ok
}

/// The contended path: the thread is about to block anyway, so this is where clocks are
/// read, the wait is published for the watchdog, the holder is noted and, for a long wait, a
/// stack is captured. Returns whether the wait acquired the lock, and what it waited.
#[inline(never)]
fn wait(
    meta: &LockMeta,
    acq: &Acquire,
    timeout: Option<Timeout>,
    block: impl FnOnce() -> bool,
    block_until: impl FnMut(Instant) -> bool,
) -> (bool, Waited) {
    // Read before blocking: once the wait ends, the holder is gone. Readers and permit holders
    // are not tracked one by one (see `owner.rs`), so only an exclusive or upgradable owner is
    // a holder; not this thread itself, upgrading its own upgradable read.
    let me = held::with(|t| t.tid());
    let holder = meta.owner.read().exclusive.filter(|&(tid, ..)| Some(tid) != me).map(|(tid, _, site)| (tid, site));
    let started = Instant::now();
    let deadline = timeout.and_then(|t| t.deadline(started));
    let stack_at = ring::wait_stack_after().and_then(|after| started.checked_add(after));
    let stepped = watchdog::wait(meta, acq, started, deadline, stack_at, block, block_until);
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    // A stack taken for the watchdog alone (the trace wanted none) stays out of the trace.
    let stack = stepped.stack.filter(|_| stack_at.is_some());
    if stack.is_some() {
        ring::own_wait_stack(stepped.stack_ns);
    }
    (stepped.acquired, Waited { nanos, holder, stack })
}

/// A `try_lock`: never blocks, so it is not checked and adds no edge into the lock; once
/// held, it is an edge source like any other.
#[inline]
pub(crate) fn try_lock(
    meta: &LockMeta,
    mode: Mode,
    site: &'static Location<'static>,
    try_fast: impl FnOnce() -> bool,
) -> bool {
    sync_point(Point::Acquire);
    let ok = try_fast();
    if let Some(acq) = begin(meta, mode, site) {
        if ok {
            acquired(meta, &acq, false);
        } else {
            ring::try_failed(acq.id, acq.mode, acq.site);
        }
    }
    ok
}

/// A release of a hold in `mode`, in whatever order guards drop; `unlock` releases the
/// raw lock.
///
/// Only the owner hint has to go before the raw unlock (after it, the next owner's would be
/// cleared); the held stack and the ring follow it, so the unlock's atomic instruction does
/// not wait for their stores and nothing else needs keeping across it.
#[inline(always)]
pub(crate) fn unlock(meta: &LockMeta, mode: Mode, unlock: impl FnOnce()) {
    let Some(id) = meta.registered_id() else { return unlock() };
    watchdog::released(meta, mode);
    unlock();
    if let Some(Some(released)) = held::with_leaf(|t| t.release(id)) {
        ring::released(released.id, released.mode, released.hold_start);
    }
    sync_point(Point::Other);
}

/// An upgrade (upgradable read → write): blocks until readers leave, so it is checked as a
/// write acquisition against every other lock held. `timeout` is `None` for an untimed one.
#[inline]
#[track_caller]
pub(crate) fn upgrade(
    meta: &LockMeta,
    site: &'static Location<'static>,
    timeout: Option<Timeout>,
    try_fast: impl FnOnce() -> bool,
    block: impl FnOnce() -> bool,
    block_until: impl FnMut(Instant) -> bool,
) -> bool {
    sync_point(Point::Acquire);
    let Some(acq) = begin(meta, Mode::Exclusive, site) else {
        return try_fast() || block();
    };
    // Checked as a write with the upgradable hold set aside: any other hold of the same lock
    // (a read taken since) is this thread waiting for itself.
    let was = held::with(|t| t.take_upgradable(acq.id)).flatten();
    before_blocking(&acq, Fresh::Unknown);
    let (ok, waited) = if try_fast() {
        (true, None)
    } else {
        // The upgradable read stays held while the upgrade waits: the watchdog must see it.
        if let Some(was) = was {
            held::with(|t| t.push(&Acquire { mode: was.mode, site: was.site, ..acq }, was.blocking));
        }
        let (ok, waited) = wait(meta, &acq, timeout, block, block_until);
        held::with(|t| t.pop(acq.id));
        (ok, Some(waited))
    };
    match (ok, was) {
        (true, _) => match waited {
            None => acquired(meta, &acq, true),
            Some(waited) => acquired_after_wait(meta, &acq, waited),
        },
        (false, Some(was)) => {
            held::with(|t| t.push(&Acquire { mode: was.mode, site: was.site, ..acq }, was.blocking)).unwrap_or(())
        }
        (false, None) => {}
    }
    ok
}

/// Changes how a held lock is held (downgrades).
#[inline]
pub(crate) fn set_mode(meta: &LockMeta, mode: Mode) {
    let Some(id) = meta.registered_id() else { return };
    let Some(Some((tid, was))) = held::with(|t| t.set_mode(id, mode).map(|was| (t.tid, was))) else { return };
    // The watchdog's owner hint follows: the hold ends in its old mode, starts in the new.
    watchdog::released(meta, was.mode);
    let acq = Acquire::new(id, was.class_word, mode, meta.kind, was.site);
    watchdog::acquired(meta, tid, &acq);
}

/// An acquisition that did not wait: onto the held stack, then the hooks.
#[inline]
fn acquired(meta: &LockMeta, acq: &Acquire, blocking: bool) {
    let tid = push_held(acq, blocking);
    hooks_acquired(meta, tid, acq);
}

/// An acquisition after a contended wait: as [`acquired`], with what the wait saw.
#[cold]
fn acquired_after_wait(meta: &LockMeta, acq: &Acquire, waited: Waited) {
    let tid = push_held(acq, true);
    watchdog::acquired(meta, tid, acq);
    ring::acquired_after_wait(acq.id, acq.mode, acq.site, waited);
}

/// Pushes `acq` onto the held stack; returns this thread's id (0 during teardown).
#[inline]
fn push_held(acq: &Acquire, blocking: bool) -> u32 {
    held::with(|t| {
        t.push(acq, blocking);
        t.tid()
    })
    .unwrap_or(0)
}

/// What follows every uncontended acquisition once it is on the held stack.
#[inline(always)]
fn hooks_acquired(meta: &LockMeta, tid: u32, acq: &Acquire) {
    watchdog::acquired(meta, tid, acq);
    ring::acquired(acq.id, acq.mode, acq.site);
}

/// Checks a blocking acquisition before it blocks.
#[inline]
#[track_caller]
fn before_blocking(acq: &Acquire, fresh: Fresh) {
    let verdict = held::with(|t| t.check(acq));
    match verdict {
        None | Some(Verdict::Known) => {}
        Some(Verdict::KnownFinding(key)) => graph::hit(key),
        Some(Verdict::New(key)) => examine(acq, key, fresh),
    }
    #[cfg(feature = "tokio")]
    if crate::runtime::task::any_held() {
        crate::runtime::async_lock::sync_under_task(acq, fresh);
    }
}
