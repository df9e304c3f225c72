//! The wait slots: where a thread about to block publishes what it waits for, and where the
//! watchdog reads it.
//!
//! Written by the waiting thread on the contended path (it is about to block anyway), read
//! by the watchdog, each under the slot's own lock. A slot also says when its thread last
//! waited on a lockcheck primitive (a lock, a permit, a condition variable): a holder that
//! keeps waiting on them is making progress through lockcheck, or is part of a cycle still
//! forming, and the watchdog does not call the waits behind it a stall (see [`Activity`]).
//! Only waits write it: the uncontended path writes nothing here.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex as RawLock;

use crate::record::stack::RawStack;
use crate::runtime::held::{self, Acquire, Held};
use crate::runtime::owner::OwnerSeen;
use crate::runtime::registry::LockMeta;

/// One thread's wait slot (or, for an async wait or a wait during thread teardown, one
/// wait's).
#[derive(Default)]
pub(super) struct Slot {
    state: RawLock<SlotState>,
}

#[derive(Default)]
struct SlotState {
    tid: u32,
    /// The current or last wait's number, unique in the process: an unchanged value between
    /// two scans means one unbroken wait.
    seq: u64,
    /// The current wait; `None` when not waiting.
    wait: Option<Wait>,
    /// The locks held when the wait began.
    held: Vec<Held>,
    /// Whether the thread has taken its stack during this wait.
    stack_taken: bool,
    /// That stack (`None` when stacks are off).
    stack: Option<RawStack>,
    /// Since when the thread waits on a condition variable, if it does.
    parked: Option<Instant>,
    /// When its last wait on a lock or condition variable ended.
    ended: Option<Instant>,
}

struct Wait {
    lock: LockPtr,
    acq: Acquire,
    since: Instant,
    /// Whether the wait has a timeout of its own.
    timed: bool,
}

/// The lock a thread waits for.
struct LockPtr(NonNull<LockMeta>);

// SAFETY: a `LockMeta` is `Sync` (atomics and immutable data). The pointer is only
// dereferenced under the slot's lock while the slot says its thread waits for that lock, and
// the waiting thread borrows the lock for the whole wait and clears the slot, under the same
// lock, before that borrow ends. An async wait's slot is cleared by its `AsyncWait`, which
// lives in the lock future, and the future borrows (or owns an `Arc` of) the lock.
unsafe impl Send for LockPtr {}

impl Slot {
    pub(super) fn publish_stack(&self, stack: Option<RawStack>) {
        let mut state = self.state.lock();
        state.stack = stack;
        state.stack_taken = true;
    }
}

/// Unpublishes a wait when it ends (acquired, timed out or unwound).
pub(super) struct Published<'a>(pub(super) &'a Slot);

impl Drop for Published<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state.lock();
        state.wait = None;
        state.ended = Some(Instant::now());
    }
}

/// An async wait (cargo feature `tokio`), published for as long as it lives: the lock
/// future owns it, so a future dropped while it waits (`timeout`, `select!`) leaves no wait
/// behind. The slot is the future's own; the watchdog prunes it once this is gone.
#[cfg(feature = "tokio")]
pub(crate) struct AsyncWait(Arc<Slot>);

#[cfg(feature = "tokio")]
impl Drop for AsyncWait {
    fn drop(&mut self) {
        let mut state = self.0.state.lock();
        state.wait = None;
        state.ended = Some(Instant::now());
    }
}

/// Publishes that holder `tid` (a task) starts waiting for `meta` while holding `held`;
/// `None` when the watchdog is off.
///
/// A suspended task has no stack to take: the report gives where it waits (the lock
/// future's call site) and where it took what it holds.
#[cfg(feature = "tokio")]
#[cold]
pub(crate) fn publish_async(meta: &LockMeta, acq: &Acquire, tid: u32, held: Vec<Held>) -> Option<AsyncWait> {
    super::threshold()?;
    super::start();
    let slot = Arc::new(Slot::default());
    {
        let mut state = slot.state.lock();
        state.tid = tid;
        state.seq = next_wait();
        state.held = held;
        state.stack_taken = true;
        let since = Instant::now();
        state.wait = Some(Wait { lock: LockPtr(NonNull::from(meta)), acq: *acq, since, timed: false });
    }
    SLOTS.lock().push(Arc::clone(&slot));
    super::wake();
    Some(AsyncWait(slot))
}

/// Every thread's wait slot; a slot whose thread is gone (only this list holds it) is pruned
/// by the watchdog.
static SLOTS: RawLock<Vec<Arc<Slot>>> = RawLock::new(Vec::new());

thread_local! {
    static SLOT: OnceCell<Arc<Slot>> = const { OnceCell::new() };
}

/// Waits are numbered process-wide: one task can wait in several futures at once (`join!`),
/// and a thread in its teardown waits in slots of one wait each, so (thread or task, number)
/// must tell every wait apart.
fn next_wait() -> u64 {
    static NEXT_WAIT: AtomicU64 = AtomicU64::new(1);
    // Relaxed: only unique numbers are needed.
    NEXT_WAIT.fetch_add(1, Ordering::Relaxed)
}

/// This thread's slot; during its teardown, once its own slot is gone (a thread-local
/// destructor that runs after lockcheck's), a slot for one wait, dropped with it.
fn this_thread() -> Arc<Slot> {
    SLOT.try_with(|s| Arc::clone(s.get_or_init(register))).unwrap_or_else(|_| register())
}

/// Publishes a wait that is starting; `None` if the thread's state is busy (a wait from
/// inside lockcheck's own slow path: not watched).
#[cold]
#[inline(never)]
pub(super) fn publish(meta: &LockMeta, acq: &Acquire, since: Instant, timed: bool) -> Option<Arc<Slot>> {
    super::start();
    let slot = this_thread();
    {
        let mut state = slot.state.lock();
        let state = &mut *state;
        held::with(|t| {
            state.tid = t.tid();
            state.held.clear();
            state.held.extend_from_slice(t.stack());
        })?;
        // Async locks the running task holds are held through this wait too (see `task.rs`).
        #[cfg(feature = "tokio")]
        if crate::runtime::task::any_held() {
            if let Some(task) = crate::runtime::task::current_holding() {
                state.held.extend(task.entries());
            }
        }
        state.seq = next_wait();
        state.stack = None;
        state.stack_taken = false;
        state.wait = Some(Wait { lock: LockPtr(NonNull::from(meta)), acq: *acq, since, timed });
    }
    Some(slot)
}

/// A thread's wait on a condition variable, published for as long as it lives.
pub(crate) struct Parked(Arc<Slot>);

impl Drop for Parked {
    fn drop(&mut self) {
        let mut state = self.0.state.lock();
        state.parked = None;
        state.ended = Some(Instant::now());
    }
}

/// Publishes that this thread starts waiting on a condition variable; `None` when the
/// watchdog is off. Such a wait is no lock wait (nothing to put in a wait-for cycle), but a
/// holder in it is waiting on a lockcheck primitive.
#[cold]
pub(crate) fn park() -> Option<Parked> {
    super::threshold()?;
    let slot = this_thread();
    {
        let mut state = slot.state.lock();
        if let Some(tid) = held::with(|t| t.tid()) {
            state.tid = tid;
        }
        state.parked = Some(Instant::now());
    }
    Some(Parked(slot))
}

#[cold]
fn register() -> Arc<Slot> {
    let slot = Arc::new(Slot::default());
    SLOTS.lock().push(Arc::clone(&slot));
    super::wake();
    slot
}

/// Whether no thread has a wait slot (the watchdog then idles).
pub(super) fn none() -> bool {
    SLOTS.lock().is_empty()
}

/// A wait as one scan copied it.
pub(super) struct Seen {
    pub tid: u32,
    pub seq: u64,
    pub acq: Acquire,
    pub since: Instant,
    pub timed: bool,
    pub held: Vec<Held>,
    pub stack_taken: bool,
    pub stack: Option<RawStack>,
    pub owner: OwnerSeen,
}

/// What a thread (or task) was last seen doing on lockcheck's primitives: what tells a holder
/// that is stuck outside lockcheck from one still taking locks.
#[derive(Clone, Copy, Default)]
pub(super) struct Activity {
    /// Whether it waits for a lock now.
    waiting: bool,
    /// Since when it waits on a condition variable, if it does.
    parked: Option<Instant>,
    /// When its last wait ended.
    ended: Option<Instant>,
}

impl Activity {
    /// Whether the thread has waited on a lockcheck primitive within the last `period`, or
    /// waits for a lock now. A lock wait in progress is judged on its own (its holder's
    /// stall, or a deadlock), so the waits behind it are not a stall of their own; a wait on
    /// a condition variable that has lasted a full period counts as quiet (a notification
    /// that never comes is a hang like a channel's).
    pub(super) fn within(&self, period: Duration, now: Instant) -> bool {
        let recent = |at: Option<Instant>| at.is_some_and(|at| now.saturating_duration_since(at) < period);
        self.waiting || recent(self.parked) || recent(self.ended)
    }

    fn add(&mut self, state: &SlotState) {
        self.waiting |= state.wait.is_some();
        self.parked = self.parked.max(state.parked);
        self.ended = self.ended.max(state.ended);
    }
}

/// Every thread's wait as it is now, and each thread's (or task's) activity, by id.
pub(super) struct Snapshot {
    pub waits: Vec<Seen>,
    pub activity: HashMap<u32, Activity>,
}

/// Copies every slot, pruning slots whose thread has exited (or whose one wait ended).
pub(super) fn copy() -> Snapshot {
    let mut slots = SLOTS.lock();
    slots.retain(|slot| Arc::strong_count(slot) > 1);
    let mut snapshot = Snapshot { waits: Vec::new(), activity: HashMap::new() };
    for slot in slots.iter() {
        let state = slot.state.lock();
        snapshot.activity.entry(state.tid).or_default().add(&state);
        let Some(wait) = state.wait.as_ref() else { continue };
        // SAFETY: the slot says its thread waits for this lock, and we hold the slot's
        // lock: the thread borrows the lock until it clears the slot (see `LockPtr`).
        let meta = unsafe { wait.lock.0.as_ref() };
        snapshot.waits.push(Seen {
            tid: state.tid,
            seq: state.seq,
            acq: wait.acq,
            since: wait.since,
            timed: wait.timed,
            held: state.held.clone(),
            stack_taken: state.stack_taken,
            stack: state.stack,
            owner: meta.owner.read(),
        });
    }
    snapshot
}
