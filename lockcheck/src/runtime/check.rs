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

use std::cell::Cell;
use std::panic::Location;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parking_lot::Mutex as RawLock;

use crate::analysis::report::LockKind;
use crate::analysis::report::{Finding, HeldLock, Misuse, Mode, RankViolation, SelfDeadlock, Site};
use crate::analysis::suppress::Suppressions;
use crate::config::{self, OnCycle};
use crate::record::ring::{self, Waited};
use crate::runtime::held::{self, Acquire, Held, Reacquire, Verdict};
use crate::runtime::registry::{self, LockMeta};
use crate::runtime::stress::{self, Point};
use crate::runtime::{graph, reporter, watchdog};

/// 0 = not read yet, 1 = on, 2 = off (`LOCKCHECK=0`).
static ENABLED: AtomicU8 = AtomicU8::new(0);

/// `LOCKCHECK_ON_CYCLE`, overridable at run time: 0 = from the environment.
static ON_CYCLE: AtomicU8 = AtomicU8::new(0);

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

/// Overrides `LOCKCHECK_ON_CYCLE` for the rest of the process.
pub fn set_on_cycle(on_cycle: OnCycle) {
    let code = match on_cycle {
        OnCycle::Warn => 1,
        OnCycle::Panic => 2,
        OnCycle::Ignore => 3,
    };
    // Relaxed: a plain setting; no other memory is published with it.
    ON_CYCLE.store(code, Ordering::Relaxed);
}

fn on_cycle() -> OnCycle {
    // Relaxed: see `set_on_cycle`.
    match ON_CYCLE.load(Ordering::Relaxed) {
        1 => OnCycle::Warn,
        2 => OnCycle::Panic,
        3 => OnCycle::Ignore,
        _ => config::get().on_cycle,
    }
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

/// The first sight of an acquisition context: every check, then the findings acted on.
#[cold]
#[inline(never)]
#[track_caller]
fn examine(acq: &Acquire, key: u64, fresh_call: Fresh) {
    let Some(findings) = held::with(|t| judge(t, acq, key)) else {
        return;
    };
    // lock_api's reentrant lock reaches its raw lock through a closure of its own, where the
    // caller's location is lost: its panic is relayed (see `panics_at_caller`).
    act_on(findings, fresh_call, acq.kind == LockKind::Reentrant);
}

/// Every check of an acquisition whose context `key` the held set `t` has never seen:
/// self-deadlock, rank, the lock-order graph. Returns what it found, recorded but not acted
/// on (the caller acts once it has let go of `t`).
#[cold]
pub(crate) fn judge(t: &mut held::Thread, acq: &Acquire, key: u64) -> Vec<Finding> {
    let tid = t.tid();
    let mut found = Vec::new();
    if let Some(held) = t.find(acq.id) {
        if let Some(how) = held::reacquire(acq.kind, held.mode, acq.mode) {
            found.push(self_deadlock(tid, held, acq, how));
        }
    }
    if held::rank_offenders(t.stack(), acq) {
        found.push(rank_violation(tid, t.stack(), acq));
    }
    let observed = graph::observe(tid, key, t.stack(), acq);
    // A context with a self or rank problem is never cached: each pass is counted.
    if found.is_empty() {
        t.remember(key, observed.in_finding);
    }
    found.extend(observed.findings);
    found.into_iter().filter_map(record).collect()
}

/// Acts on findings [`judge`] returned, as `LOCKCHECK_ON_CYCLE` says; `fresh_call` as for
/// [`Fresh`]; `relayed`: a panic goes through [`panics_at_caller`]. Called with no lockcheck
/// state borrowed.
#[track_caller]
pub(crate) fn act_on(findings: Vec<Finding>, fresh_call: Fresh, relayed: bool) {
    act(&findings, fresh_call == Fresh::Call || FRESH.get(), relayed);
}

/// A panic on a finding, on its way to the user's call (see [`panics_at_caller`]).
struct RelayedPanic(String);

/// Runs a lock_api call that may panic on a finding where `#[track_caller]` does not reach
/// (lock_api's reentrant lock calls its raw lock from a closure), and panics again here, at
/// the caller's location: the default hook then prints the user's line, which is what
/// `LOCKCHECK_ON_CYCLE=panic` must point at. Every other panic passes through untouched.
#[inline(always)]
#[track_caller]
pub fn panics_at_caller<R>(call: impl FnOnce() -> R) -> R {
    // AssertUnwindSafe: a relayed panic unwinds before the raw lock is touched (it is raised
    // before blocking), and any other panic is resumed as it came.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
        Ok(done) => done,
        Err(payload) => match payload.downcast::<RelayedPanic>() {
            Ok(relayed) => panic!("{}", relayed.0),
            Err(other) => std::panic::resume_unwind(other),
        },
    }
}

/// The suppressions in force in-process: the file `LOCKCHECK_SUPPRESSIONS` names, else the
/// nearest `lockcheck.toml` from the current directory up. A bad file is one warning line, and
/// then no suppressions.
pub(crate) fn suppressions() -> &'static Suppressions {
    static SUPPRESSIONS: OnceLock<Suppressions> = OnceLock::new();
    SUPPRESSIONS.get_or_init(|| {
        let path = match std::env::var_os("LOCKCHECK_SUPPRESSIONS").filter(|p| !p.is_empty()) {
            Some(path) => Some(PathBuf::from(path)),
            None => std::env::current_dir().ok().and_then(|dir| Suppressions::find_upwards(&dir)),
        };
        let Some(path) = path else { return Suppressions::default() };
        Suppressions::load(&path).unwrap_or_else(|problem| {
            eprintln!("lockcheck: warning: ignoring suppressions in {}: {problem}", path.display());
            Suppressions::default()
        })
    })
}

/// Acts on new findings as `LOCKCHECK_ON_CYCLE` says, unless suppressed. Called with no
/// lockcheck state borrowed.
#[track_caller]
fn act(fresh: &[Finding], fresh_call: bool, relayed: bool) {
    let fresh: Vec<&Finding> = fresh.iter().filter(|f| suppressions().reason(f).is_none()).collect();
    if fresh.is_empty() {
        return;
    }
    match on_cycle() {
        OnCycle::Ignore => {}
        OnCycle::Panic if fresh_call => {
            // The test fails here anyway: its stacks are symbolised on the spot.
            let text: Vec<String> = fresh.into_iter().map(|f| reporter::symbolised(f.clone()).to_string()).collect();
            let text = text.join("\n");
            // `resume_unwind` skips the panic hook: `panics_at_caller` panics again with the
            // hook. Under panic=abort nothing could catch it, so the panic is raised here.
            if relayed && cfg!(panic = "unwind") {
                std::panic::resume_unwind(Box::new(RelayedPanic(text)));
            }
            panic!("{text}");
        }
        OnCycle::Warn | OnCycle::Panic => reporter::print(fresh.into_iter().cloned().collect()),
    }
}

pub(crate) fn held_lock(held: &Held) -> HeldLock {
    HeldLock {
        lock: registry::lock_ref(held.class(), Some(held.id), held.rank()),
        mode: held.mode,
        site: Site::from_location(held.site),
    }
}

fn self_deadlock(tid: u32, held: &Held, acq: &Acquire, how: Reacquire) -> Finding {
    Finding::SelfDeadlock(SelfDeadlock {
        lock: registry::lock_ref(acq.class(), Some(acq.id), acq.rank()),
        held: held_lock(held),
        mode: acq.mode,
        site: Site::from_location(acq.site),
        thread: registry::thread_name(tid),
        certain: matches!(how, Reacquire::Deadlock),
    })
}

fn rank_violation(tid: u32, stack: &[Held], acq: &Acquire) -> Finding {
    Finding::RankViolation(RankViolation {
        lock: registry::lock_ref(acq.class(), Some(acq.id), acq.rank()),
        site: Site::from_location(acq.site),
        thread: registry::thread_name(tid),
        held: stack.iter().map(held_lock).collect(),
        count: 1,
    })
}

/// Findings other than lock-order cycles (those live in the graph), deduplicated.
static OTHERS: RawLock<Vec<Finding>> = RawLock::new(Vec::new());

/// Stores a finding; returns it when it is new (a cycle is new when the graph says so).
pub(crate) fn record(finding: Finding) -> Option<Finding> {
    if matches!(finding, Finding::PotentialDeadlock(_)) {
        return Some(finding);
    }
    let mut others = OTHERS.lock();
    let same = others.iter_mut().find(|f| same_problem(f, &finding));
    match (same, &finding) {
        (Some(Finding::RankViolation(seen)), _) => {
            seen.count += 1;
            None
        }
        (Some(Finding::FailedAssertion(seen)), _) => {
            seen.count += 1;
            None
        }
        (Some(_), _) => None,
        (None, _) => {
            others.push(finding.clone());
            Some(finding)
        }
    }
}

/// Whether two findings describe the same problem (same locks, same sites).
fn same_problem(a: &Finding, b: &Finding) -> bool {
    match (a, b) {
        (Finding::RankViolation(a), Finding::RankViolation(b)) => {
            a.site == b.site
                && a.lock.class == b.lock.class
                && a.held.len() == b.held.len()
                && a.held.iter().zip(&b.held).all(|(x, y)| x.lock.class == y.lock.class && x.site == y.site)
        }
        (Finding::SelfDeadlock(a), Finding::SelfDeadlock(b)) => a.site == b.site && a.held.site == b.held.site,
        (Finding::FailedAssertion(a), Finding::FailedAssertion(b)) => {
            a.site == b.site
                && a.assertion == b.assertion
                && a.lock.as_ref().map(|l| &l.class) == b.lock.as_ref().map(|l| &l.class)
        }
        _ => a == b,
    }
}

/// Stores a finding raised at a call from user code (a failed assertion) and, when it is
/// new, acts on it as `LOCKCHECK_ON_CYCLE` says: it may panic, there and then.
#[track_caller]
pub(crate) fn raise(finding: Finding) {
    if let Some(fresh) = record(finding) {
        act(&[fresh], true, false);
    }
}

/// Stores a finding the watchdog reports and acts on itself (it never panics there).
pub(crate) fn note(finding: Finding) {
    record(finding);
}

/// Everything found so far, most severe first, stacks symbolised: for a person to read.
pub(crate) fn findings() -> Vec<Finding> {
    recorded().into_iter().map(reporter::symbolised).collect()
}

/// Everything found so far, most severe first, as recorded: stacks by id, for the trace.
pub(crate) fn recorded() -> Vec<Finding> {
    let mut all = graph::findings();
    all.extend(OTHERS.lock().iter().cloned());
    all.sort_by_key(|f| !f.is_failure());
    all
}

/// Notes locks still held when a thread exits: their guards were leaked.
pub(crate) fn thread_exit(tid: u32, stack: &[Held]) {
    for held in stack {
        let finding = Finding::Misuse(Misuse {
            what: "lock still held when its thread exited (was its guard leaked with mem::forget?)".into(),
            thread: registry::thread_name(tid),
            held: held_lock(held),
        });
        // Not through `act`: a thread-exit note never panics in a destructor.
        if let Some(fresh) = record(finding) {
            if on_cycle() != OnCycle::Ignore {
                eprintln!("{fresh}");
            }
        }
    }
}

/// The calling thread's held locks, oldest first; with the `tokio` feature, the async locks
/// of the task running on it (or of its `block_on`) first.
pub(crate) fn held_locks() -> Vec<HeldLock> {
    #[cfg(feature = "tokio")]
    let mut all = crate::runtime::async_lock::held_by_current();
    #[cfg(not(feature = "tokio"))]
    let mut all = Vec::new();
    let thread = held::with(|t| {
        if t.permits != 0 {
            t.take_remote_releases();
        }
        t.stack().iter().map(held_lock).collect::<Vec<_>>()
    });
    all.extend(thread.unwrap_or_default());
    all
}
