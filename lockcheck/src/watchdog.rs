//! The watchdog: a real deadlock or a long stall becomes a report with every involved thread's
//! stack, instead of a hung process.
//!
//! Three parts, each on the path where it costs least:
//!
//! - **Ownership** (every acquisition): a lock records its exclusive owner and where that
//!   owner took it, in two relaxed stores into the lock's own [`LockMeta`], a cache line the
//!   lock's own compare-and-swap has just written. A reader or a permit holder records itself
//!   as the *last* one seen; a semaphore also counts its permits out. This is only needed for
//!   stalls, whose holder is often not waiting for anything lockcheck sees (H5: it waits on a
//!   channel) and so publishes nothing of its own.
//! - **Wait slots** (contended acquisitions only): a thread about to block publishes, in its
//!   own slot, the lock it waits for, how, since when, from where, and a copy of the locks it
//!   holds (it cannot release them while blocked, so the copy stays true for the whole wait).
//!   It blocks in two steps: once half the threshold has passed it wakes, captures its own
//!   stack (the cost lands on a thread that is stuck anyway; the watchdog never unwinds another
//!   thread), publishes it, and goes back to waiting. The stack is taken without symbols, in
//!   microseconds; the watchdog symbolises it only if the thread ends up in a report.
//! - **The watchdog thread** (started at the first contended wait while `LOCKCHECK_WATCHDOG_MS`
//!   is not 0): every quarter threshold it copies the slots, finds the waiters that can never
//!   proceed ([`waitfor`](crate::waitfor)), and reports a deadlock once they have all waited
//!   past the threshold; a wait past the threshold that is not part of one is a stall.
//!
//! A deadlock is only claimed from waits seen unchanged by two consecutive scans: each such
//! thread was blocked, with the holdings it published, for the whole time between them, so
//! the facts the analysis combines were true at one same instant.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::panic::Location;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use parking_lot::Mutex as RawLock;

use crate::config::{self, OnDeadlock};
use crate::held::{self, Acquire, Held};
use crate::registry::{self, LockMeta};
use crate::report::{Finding, Hang, HeldLock, Mode, Site, ThreadState};
use crate::waitfor::{self, Waiter};
use crate::{check, graph, stack};

/// Who holds a lock, as far as the acquisition path can afford to say; lives in the lock's
/// [`LockMeta`].
///
/// Every field is written with relaxed stores: the lock's own release (unlock) and acquire
/// (lock) order one owner's stores before the next owner's, and the watchdog reads them as
/// hints only (a deadlock is never derived from them).
#[derive(Debug)]
pub(crate) struct Owner {
    /// The thread holding the lock exclusively or upgradable, [`UPGRADABLE`] marking the
    /// latter; 0 when none.
    tid: AtomicU32,
    /// Where it acquired the lock.
    site: AtomicPtr<Location<'static>>,
    /// The last thread seen taking a read or a permit (readers are not tracked one by one).
    last_sharer: AtomicU32,
    /// Where it took it.
    last_sharer_site: AtomicPtr<Location<'static>>,
    /// Permits out, for a semaphore.
    permits: AtomicU32,
}

impl Owner {
    /// No owner.
    pub(crate) const fn new() -> Owner {
        Owner {
            tid: AtomicU32::new(0),
            site: AtomicPtr::new(ptr::null_mut()),
            last_sharer: AtomicU32::new(0),
            last_sharer_site: AtomicPtr::new(ptr::null_mut()),
            permits: AtomicU32::new(0),
        }
    }

    fn read(&self) -> OwnerSeen {
        // Relaxed: hints (see `Owner`); the tid is read on both sides of the site so that a
        // site belonging to another owner is noticed and dropped.
        let word = self.tid.load(Ordering::Relaxed);
        let site = load_site(&self.site);
        let steady = word != 0 && self.tid.load(Ordering::Relaxed) == word;
        let mode = if word & UPGRADABLE != 0 { Mode::Upgradable } else { Mode::Exclusive };
        // Relaxed: hints, as above.
        let sharer = self.last_sharer.load(Ordering::Relaxed);
        let sharer_site = load_site(&self.last_sharer_site);
        OwnerSeen {
            exclusive: site.filter(|_| steady).map(|site| (word & !UPGRADABLE, mode, site)),
            last_sharer: (sharer != 0).then_some(sharer).zip(sharer_site),
            // Relaxed: a count read as a hint.
            permits: self.permits.load(Ordering::Relaxed),
        }
    }
}

/// Marks an upgradable owner in [`Owner::tid`] (thread ids stay far below it).
const UPGRADABLE: u32 = 1 << 31;

fn load_site(field: &AtomicPtr<Location<'static>>) -> Option<&'static Location<'static>> {
    // Relaxed: see `Owner`; the pointee is `'static` and immutable, so no ordering is needed
    // to read it.
    let site = field.load(Ordering::Relaxed);
    // SAFETY: the field only ever holds null or a pointer made from a `&'static Location`.
    unsafe { site.as_ref() }
}

#[inline]
fn site_ptr(site: &'static Location<'static>) -> *mut Location<'static> {
    ptr::from_ref(site).cast_mut()
}

/// What the watchdog read of an [`Owner`].
#[derive(Clone, Copy, Debug, Default)]
struct OwnerSeen {
    exclusive: Option<(u32, Mode, &'static Location<'static>)>,
    last_sharer: Option<(u32, &'static Location<'static>)>,
    permits: u32,
}

/// Thread `tid` now holds `acq`.
#[inline]
pub(crate) fn acquired(meta: &LockMeta, tid: u32, acq: &Acquire) {
    let owner = &meta.owner;
    match acq.mode {
        Mode::Exclusive | Mode::Upgradable => {
            let word = if acq.mode == Mode::Upgradable { tid | UPGRADABLE } else { tid };
            // Relaxed: ordered against the previous owner's stores by the lock itself (see
            // `Owner`).
            owner.tid.store(word, Ordering::Relaxed);
            owner.site.store(site_ptr(acq.site), Ordering::Relaxed);
        }
        Mode::Shared | Mode::SharedRecursive => {
            // Relaxed: a hint that readers may overwrite in any order.
            owner.last_sharer.store(tid, Ordering::Relaxed);
            owner.last_sharer_site.store(site_ptr(acq.site), Ordering::Relaxed);
        }
        Mode::Permit => permit_acquired(owner, tid, acq.site),
    }
}

/// Semaphores are not on the fast path (a permit is taken under the semaphore's mutex), so
/// they can afford a read-modify-write to count permits out.
#[cold]
fn permit_acquired(owner: &Owner, tid: u32, site: &'static Location<'static>) {
    // Relaxed: a count the watchdog reads as a hint; the semaphore's mutex orders the permits.
    owner.permits.fetch_add(1, Ordering::Relaxed);
    // Relaxed: a hint, as for readers.
    owner.last_sharer.store(tid, Ordering::Relaxed);
    owner.last_sharer_site.store(site_ptr(site), Ordering::Relaxed);
}

/// Thread `tid` released a lock it held in `mode` (a permit goes back through
/// [`permit_released`] instead).
#[inline]
pub(crate) fn released(meta: &LockMeta, tid: u32, mode: Mode) {
    let owner = &meta.owner;
    // Relaxed: the owner field is only ever ours to clear while we hold the lock, and our
    // unlock (a release) orders the clear before the next owner's store. A read lock checks
    // too: it may be a downgraded write lock.
    if mode != Mode::Permit && owner.tid.load(Ordering::Relaxed) & !UPGRADABLE == tid {
        owner.tid.store(0, Ordering::Relaxed);
    }
}

/// A permit went back, from whichever thread.
#[cold]
pub(crate) fn permit_released(meta: &LockMeta) {
    // Relaxed: see `permit_acquired`.
    meta.owner.permits.fetch_sub(1, Ordering::Relaxed);
}

/// The watchdog threshold, or `None` when it is off.
fn threshold() -> Option<Duration> {
    match config::get().watchdog_ms {
        0 => None,
        ms => Some(Duration::from_millis(ms)),
    }
}

/// Blocks on a contended lock with the wait published.
///
/// `block` waits as the caller asked (for good, or until its own timeout); `block_until`
/// waits until an instant, for the first step of a wait, and `deadline` is the caller's own
/// deadline, if any.
#[inline]
pub(crate) fn wait(
    meta: &LockMeta,
    acq: &Acquire,
    started: Instant,
    deadline: Option<Instant>,
    block: impl FnOnce() -> bool,
    mut block_until: impl FnMut(Instant) -> bool,
) -> bool {
    let Some(threshold) = threshold() else { return block() };
    let Some(slot) = publish(meta, acq, started) else { return block() };
    let _published = Published(&slot);
    let Some(first_step) = started.checked_add(threshold / 2) else { return block() };
    if let Some(deadline) = deadline.filter(|&d| d <= first_step) {
        return block_until(deadline);
    }
    if block_until(first_step) {
        return true;
    }
    slot.publish_stack(stack::capture_unresolved());
    match deadline {
        Some(deadline) => block_until(deadline),
        None => block(),
    }
}

/// One thread's wait slot: written by its thread on the contended path, read by the
/// watchdog, each under the slot's own lock.
#[derive(Default)]
struct Slot {
    state: RawLock<SlotState>,
}

#[derive(Default)]
struct SlotState {
    tid: u32,
    /// Bumped at every wait: an unchanged value between two scans means one unbroken wait.
    seq: u64,
    /// The current wait; `None` when not waiting.
    wait: Option<Wait>,
    /// The locks held when the wait began.
    held: Vec<Held>,
    /// Whether the thread has taken its stack during this wait.
    stack_taken: bool,
    /// That stack (`None` when stacks are off).
    stack: Option<stack::Unresolved>,
}

struct Wait {
    lock: LockPtr,
    acq: Acquire,
    since: Instant,
}

/// The lock a thread waits for.
struct LockPtr(NonNull<LockMeta>);

// SAFETY: a `LockMeta` is `Sync` (atomics and immutable data). The pointer is only
// dereferenced under the slot's lock while the slot says its thread waits for that lock, and
// the waiting thread borrows the lock for the whole wait and clears the slot, under the same
// lock, before that borrow ends.
unsafe impl Send for LockPtr {}

impl Slot {
    fn publish_stack(&self, stack: Option<stack::Unresolved>) {
        let mut state = self.state.lock();
        state.stack = stack;
        state.stack_taken = true;
    }
}

/// Unpublishes a wait when it ends (acquired, timed out or unwound).
struct Published<'a>(&'a Slot);

impl Drop for Published<'_> {
    fn drop(&mut self) {
        self.0.state.lock().wait = None;
    }
}

/// Every thread's wait slot; a slot whose thread is gone (only this list holds it) is pruned
/// by the watchdog.
static SLOTS: RawLock<Vec<Arc<Slot>>> = RawLock::new(Vec::new());

thread_local! {
    static SLOT: OnceCell<Arc<Slot>> = const { OnceCell::new() };
}

/// Publishes a wait that is starting; `None` during thread teardown (not watched then).
#[cold]
#[inline(never)]
fn publish(meta: &LockMeta, acq: &Acquire, since: Instant) -> Option<Arc<Slot>> {
    start();
    let slot = SLOT.try_with(|s| Arc::clone(s.get_or_init(register))).ok()?;
    {
        let mut state = slot.state.lock();
        let state = &mut *state;
        held::with(|t| {
            state.tid = t.tid();
            state.held.clear();
            state.held.extend_from_slice(&t.stack);
        })?;
        state.seq += 1;
        state.stack = None;
        state.stack_taken = false;
        state.wait = Some(Wait { lock: LockPtr(NonNull::from(meta)), acq: *acq, since });
    }
    Some(slot)
}

#[cold]
fn register() -> Arc<Slot> {
    let slot = Arc::new(Slot::default());
    SLOTS.lock().push(Arc::clone(&slot));
    slot
}

/// Starts the watchdog thread once.
fn start() {
    static START: Once = Once::new();
    START.call_once(|| {
        if let Some(threshold) = threshold() {
            let spawned = std::thread::Builder::new()
                .name("lockcheck-watchdog".into())
                .spawn(move || Watchdog::new(threshold).run());
            if let Err(err) = spawned {
                eprintln!("lockcheck: warning: could not start the watchdog thread: {err}");
            }
        }
    });
}

/// A wait as one scan copied it.
struct Seen {
    tid: u32,
    seq: u64,
    acq: Acquire,
    since: Instant,
    held: Vec<Held>,
    stack_taken: bool,
    stack: Option<stack::Unresolved>,
    owner: OwnerSeen,
}

/// The watchdog thread's state.
struct Watchdog {
    threshold: Duration,
    /// Each waiting thread's wait sequence number at the previous scan.
    previous: HashMap<u32, u64>,
    /// Waits already reported as stalls: (thread, wait sequence number).
    stalls: HashSet<(u32, u64)>,
    /// Deadlocks already reported (warn mode): each thread with the lock and site it waits at.
    deadlocks: HashSet<Vec<(u32, u32, Site)>>,
}

/// How long the watchdog gives waiting threads to publish their stacks, past the threshold,
/// before it reports without them (a thread may be descheduled at its first step).
const STACK_GRACE: Duration = Duration::from_secs(1);

impl Watchdog {
    fn new(threshold: Duration) -> Watchdog {
        Watchdog { threshold, previous: HashMap::new(), stalls: HashSet::new(), deadlocks: HashSet::new() }
    }

    fn run(mut self) {
        let tick = (self.threshold / 4).max(Duration::from_millis(5));
        loop {
            std::thread::sleep(tick);
            self.scan();
        }
    }

    fn scan(&mut self) {
        let now = Instant::now();
        let seen = copy_slots();
        // Only waits unchanged since the previous scan are known to be unbroken.
        let steady: Vec<&Seen> = seen.iter().filter(|s| self.previous.get(&s.tid) == Some(&s.seq)).collect();
        self.previous = seen.iter().map(|s| (s.tid, s.seq)).collect();

        let waiters: Vec<Waiter> = steady.iter().map(|s| waiter(s)).collect();
        let stuck = waitfor::deadlocked(&waiters);
        let order = waitfor::cycle_order(&waiters, &stuck);
        if !order.is_empty() {
            let youngest = order.iter().map(|&(i, _)| now - steady[i].since).min().unwrap_or_default();
            let stacks_ready = order.iter().all(|&(i, _)| steady[i].stack_taken);
            if youngest >= self.threshold && (stacks_ready || youngest >= self.threshold + STACK_GRACE) {
                let threads = order
                    .iter()
                    .map(|&(i, next)| thread_state(steady[i], now, Some(registry::thread_name(steady[next].tid))))
                    .collect();
                self.deadlock(&order.iter().map(|&(i, _)| steady[i]).collect::<Vec<_>>(), threads);
            }
        }
        for (i, s) in steady.iter().enumerate() {
            let waited = now - s.since;
            let due = waited >= self.threshold && (s.stack_taken || waited >= self.threshold + STACK_GRACE);
            if !stuck[i] && due && self.stalls.insert((s.tid, s.seq)) {
                self.stall(s, &seen, now);
            }
        }
        self.stalls.retain(|(tid, seq)| self.previous.get(tid) == Some(seq));
    }

    fn deadlock(&mut self, members: &[&Seen], threads: Vec<ThreadState>) {
        let key = members.iter().map(|s| (s.tid, s.acq.id, Site::from_location(s.acq.site))).collect();
        if !self.deadlocks.insert(key) {
            return;
        }
        let finding = Finding::ActualDeadlock(Hang { threads, threshold_ms: millis(self.threshold) });
        // Rendered first: stderr is unbuffered, and the report goes out in one write.
        let text = finding.to_string();
        eprintln!("{text}");
        check::note(finding);
        if config::get().on_deadlock == OnDeadlock::Abort {
            eprintln!("lockcheck: aborting the process: it can never make progress (LOCKCHECK_ON_DEADLOCK=abort)");
            flush_trace();
            std::process::abort();
        }
    }

    fn stall(&self, waiter: &Seen, all: &[Seen], now: Instant) {
        let holder = blocker(waiter, all);
        let mut threads = vec![thread_state(waiter, now, holder.map(|(tid, _)| registry::thread_name(tid)))];
        if let Some((tid, holds)) = holder {
            let state = match all.iter().find(|s| s.tid == tid && s.tid != waiter.tid) {
                Some(holder) => {
                    let its_blocker = blocker(holder, all).map(|(tid, _)| registry::thread_name(tid));
                    thread_state(holder, now, its_blocker)
                }
                None => ThreadState {
                    thread: registry::thread_name(tid),
                    waits_for: None,
                    waiting_ms: 0,
                    blocked_by: None,
                    holds: holds.map(|(mode, site)| held_lock(waiter.acq.id, mode, site)).into_iter().collect(),
                    stack: Vec::new(),
                },
            };
            threads.push(state);
        }
        let finding = Finding::Stall(Hang { threads, threshold_ms: millis(self.threshold) });
        let text = finding.to_string();
        eprintln!("{text}");
        check::note(finding);
    }
}

/// Who keeps a stalled waiter waiting, as far as lockcheck knows: the thread, with how and
/// where it took the lock (`None` for a writer queued ahead, which holds nothing yet).
fn blocker(waiter: &Seen, all: &[Seen]) -> Option<(u32, Option<(Mode, &'static Location<'static>)>)> {
    let owner = waiter.owner;
    if let Some((tid, mode, site)) = owner.exclusive {
        return Some((tid, Some((mode, site))));
    }
    match waiter.acq.mode {
        // Blocked by readers: name the last one seen.
        Mode::Exclusive => owner.last_sharer.map(|(tid, site)| (tid, Some((Mode::Shared, site)))),
        Mode::Permit => owner.last_sharer.map(|(tid, site)| (tid, Some((Mode::Permit, site)))),
        // Not exclusively held: a writer queued ahead turns readers away (task-fair).
        Mode::Shared | Mode::Upgradable => all
            .iter()
            .find(|s| s.tid != waiter.tid && s.acq.id == waiter.acq.id && s.acq.mode == Mode::Exclusive)
            .map(|s| (s.tid, None)),
        Mode::SharedRecursive => None,
    }
}

/// Writes the trace out before the process aborts. Recording lands on another branch: this
/// is where its flush is to be called.
fn flush_trace() {}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Copies every waiting thread's slot, pruning slots whose thread has exited.
fn copy_slots() -> Vec<Seen> {
    let mut slots = SLOTS.lock();
    slots.retain(|slot| Arc::strong_count(slot) > 1);
    slots
        .iter()
        .filter_map(|slot| {
            let state = slot.state.lock();
            let wait = state.wait.as_ref()?;
            // SAFETY: the slot says its thread waits for this lock, and we hold the slot's
            // lock: the thread borrows the lock until it clears the slot (see `LockPtr`).
            let meta = unsafe { wait.lock.0.as_ref() };
            Some(Seen {
                tid: state.tid,
                seq: state.seq,
                acq: wait.acq,
                since: wait.since,
                held: state.held.clone(),
                stack_taken: state.stack_taken,
                stack: state.stack.clone(),
                owner: meta.owner.read(),
            })
        })
        .collect()
}

fn waiter(seen: &Seen) -> Waiter {
    Waiter {
        lock: seen.acq.id,
        mode: seen.acq.mode,
        held: seen.held.iter().map(|h| (h.id, h.mode)).collect(),
        permits_out: seen.owner.permits,
    }
}

fn held_lock(id: u32, mode: Mode, site: &Location<'_>) -> HeldLock {
    HeldLock { lock: graph::lock_ref(id), mode, site: Site::from_location(site) }
}

fn thread_state(seen: &Seen, now: Instant, blocked_by: Option<String>) -> ThreadState {
    ThreadState {
        thread: registry::thread_name(seen.tid),
        waits_for: Some(held_lock(seen.acq.id, seen.acq.mode, seen.acq.site)),
        waiting_ms: millis(now - seen.since),
        blocked_by,
        holds: seen.held.iter().map(|h| held_lock(h.id, h.mode, h.site)).collect(),
        // Symbolised here, on the watchdog thread, and only for threads in a report.
        stack: seen.stack.clone().map(stack::resolve).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::LockKind;

    fn acq(mode: Mode) -> Acquire {
        Acquire { id: 1, mode, kind: LockKind::RwLock, rank: None, site: Location::caller() }
    }

    #[test]
    fn the_owner_is_recorded_and_cleared_by_its_own_release_only() {
        let meta = LockMeta::new(LockKind::RwLock, None, None, None);
        acquired(&meta, 7, &acq(Mode::Upgradable));
        let seen = meta.owner.read();
        assert!(matches!(seen.exclusive, Some((7, Mode::Upgradable, _))));
        // A reader leaving does not clear the upgradable owner.
        acquired(&meta, 8, &acq(Mode::Shared));
        released(&meta, 8, Mode::Shared);
        assert!(matches!(meta.owner.read().exclusive, Some((7, Mode::Upgradable, _))));
        assert!(matches!(meta.owner.read().last_sharer, Some((8, _))));
        // Downgraded to a read, then released: still the owner's to clear.
        released(&meta, 7, Mode::Shared);
        assert!(meta.owner.read().exclusive.is_none());
    }

    #[test]
    fn permits_out_are_counted() {
        let meta = LockMeta::new(LockKind::Semaphore, None, None, None);
        acquired(&meta, 3, &acq(Mode::Permit));
        acquired(&meta, 4, &acq(Mode::Permit));
        permit_released(&meta);
        let seen = meta.owner.read();
        assert_eq!(seen.permits, 1);
        assert!(seen.exclusive.is_none());
        assert!(matches!(seen.last_sharer, Some((4, _))));
    }
}
