//! The acquisition protocol of async locks (cargo feature `tokio`): `check.rs`'s, with the
//! held set of the running task (`task.rs`) in place of the thread's stack.
//!
//! ```text
//! lock future, first poll ─ off? ─────────────► tokio's semaphore, unchecked
//!   │ on
//! begin: the running task's held set, the sync locks this thread holds now
//! check_and_take: context cached? ── yes, and the permit free ──► pushed, in the same visit
//!   │ no (cold): self-deadlock, rank, lock-order graph → findings → LOCKCHECK_ON_CYCLE
//!   │          (all before the first `.await`: a task re-locking what it holds is reported
//!   │           before it hangs)
//! waiting: published for the watchdog in a slot the future owns; the holder noted
//!   │ (the future dropped here: the slot goes with it, nothing was pushed)
//! acquired: onto the task's held set, owner hint, record in this thread's ring
//! guard touched (deref, a guard method) by another task or thread than its holder: the
//!   entry moves to that one's held set (cold; the check is one compare)
//! guard drop (any task, any thread): owner hint cleared, permit back, entry out of the
//!   held set it is in
//! ```

use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex as RawLock;

use crate::analysis::report::{Finding, HeldLock, Mode};
use crate::record::ring::{self, Waited};
use crate::runtime::check::{self, Fresh};
use crate::runtime::held::{self, Acquire, Held, Verdict};
use crate::runtime::registry::LockMeta;
use crate::runtime::task::{self, TaskHeld};
use crate::runtime::{crossing, graph, watchdog};

/// An async acquisition about to take its permit.
pub(crate) struct Pending {
    acq: Acquire,
    holder: Arc<TaskHeld>,
    /// The sync locks the thread held when the acquisition began: they are held through any
    /// wait it makes (taken since the task last awaited).
    thread: Vec<Held>,
}

/// An async acquisition about to start (`lock`, `read`, `write`, `acquire` and their `try_`
/// forms); `None` when instrumentation is off. Call it from inside the lock future (its first
/// poll), where the running task is the one that will hold the lock; a blocking acquisition
/// then goes through [`Pending::check_and_take`] before it can wait.
#[inline]
pub(crate) fn begin(meta: &LockMeta, mode: Mode, site: &'static Location<'static>) -> Option<Pending> {
    if !check::enabled() {
        return None;
    }
    let holder = task::current()?;
    let (id, class_word) = meta.ids(site);
    let pending = Pending { acq: Acquire::new(id, class_word, mode, meta.kind, site), holder, thread: thread_held() };
    if let Some(crossed) = crossing::check(pending.holder.tid, &pending.thread, &pending.acq) {
        check::act_on(vec![crossed], Fresh::Call, false);
    }
    Some(pending)
}

/// The sync locks this thread holds now (empty without an allocation when it holds none).
fn thread_held() -> Vec<Held> {
    held::with(|t| t.stack().to_vec()).unwrap_or_default()
}

/// What checking an acquisition against a held set found.
enum Checked {
    /// A context seen before, clean.
    Clean,
    /// A context seen before, part of a finding: count the pass.
    Hit(u64),
    /// A new context, and what its checks found (recorded, not yet acted on).
    New(Vec<Finding>),
}

impl Checked {
    /// Whether the acquisition may go ahead before anything is acted on.
    fn quiet(&self) -> bool {
        !matches!(self, Checked::New(found) if !found.is_empty())
    }

    /// Counts the pass or acts on the findings, with no lockcheck state borrowed.
    fn act(self) {
        match self {
            Checked::Clean => {}
            Checked::Hit(key) => graph::hit(key),
            Checked::New(found) => check::act_on(found, Fresh::Call, false),
        }
    }
}

/// Checks `acq` against the held set `t` with the sync locks this thread holds (`thread`) on
/// top of it, as a thread's acquisition is checked against its stack.
fn check_on(t: &mut held::Thread, acq: &Acquire, thread: &[Held]) -> Checked {
    for held in thread {
        t.push_copy(held);
    }
    let checked = match t.check(acq) {
        Verdict::Known => Checked::Clean,
        Verdict::KnownFinding(key) => Checked::Hit(key),
        Verdict::New(key) => Checked::New(check::judge(t, acq, key)),
    };
    for held in thread.iter().rev() {
        t.pop(held.id);
    }
    checked
}

/// A sync acquisition about to block on a thread whose running task holds async locks: those
/// are held through the wait too, so each is an edge into the sync lock.
#[cold]
#[inline(never)]
pub(crate) fn sync_under_task(acq: &Acquire, fresh: Fresh) {
    let Some(holder) = task::current_holding() else { return };
    let thread = thread_held();
    match holder.with(|t| check_on(t, acq, &thread)) {
        Checked::New(found) => check::act_on(found, fresh, false),
        checked => checked.act(),
    }
}

/// A contended async wait under way: published for the watchdog for as long as it lives.
pub(crate) struct Waiting {
    started: Instant,
    holder: Option<(u32, &'static Location<'static>)>,
    _published: Option<watchdog::AsyncWait>,
}

impl Pending {
    /// Checks the acquisition before it can wait: self-deadlock, rank and lock order against
    /// the task's held set and the thread's sync locks, findings acted on as
    /// `LOCKCHECK_ON_CYCLE` says. When nothing needs acting on first, `take` (which must not
    /// wait) takes the lock in the same visit to the held set: the steady state's one visit.
    /// `Err` gives the acquisition back, checked, for the wait.
    #[inline]
    pub(crate) fn check_and_take(self, meta: &LockMeta, take: impl FnOnce() -> bool) -> Result<Hold, Pending> {
        let (checked, taken) = self.holder.with(|t| {
            let checked = check_on(t, &self.acq, &self.thread);
            let taken = checked.quiet() && take();
            if taken {
                t.push(&self.acq, true);
            }
            (checked, taken)
        });
        checked.act();
        if !taken {
            return Err(self);
        }
        task::pushed();
        watchdog::acquired(meta, self.holder.tid, &self.acq);
        ring::acquired(self.acq.id, self.acq.mode, self.acq.site);
        Ok(Hold::new(self.holder, &self.acq))
    }

    /// The lock was busy: the wait starts. Keep the result alive until the permit is taken
    /// (it lives in the lock future, so a future dropped while waiting unpublishes it).
    #[cold]
    pub(crate) fn waiting(&self, meta: &LockMeta) -> Waiting {
        let holder =
            meta.owner.read().exclusive.filter(|&(tid, ..)| tid != self.holder.tid).map(|(tid, _, site)| (tid, site));
        let mut held = self.holder.entries();
        held.extend_from_slice(&self.thread);
        Waiting {
            started: Instant::now(),
            holder,
            _published: watchdog::publish_async(meta, &self.acq, self.holder.tid, held),
        }
    }

    /// The permit was taken (after `waited`, if it was busy): the lock is the task's now.
    #[inline]
    pub(crate) fn acquired(self, meta: &LockMeta, blocking: bool, waited: Option<Waiting>) -> Hold {
        let acq = self.acq;
        self.holder.push(&acq, blocking);
        watchdog::acquired(meta, self.holder.tid, &acq);
        match waited {
            None => ring::acquired(acq.id, acq.mode, acq.site),
            Some(waiting) => {
                let nanos = u64::try_from(waiting.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                ring::acquired_after_wait(
                    acq.id,
                    acq.mode,
                    acq.site,
                    Waited { nanos, holder: waiting.holder, stack: None },
                )
            }
        }
        Hold::new(self.holder, &acq)
    }

    /// A `try_*` found the lock busy.
    #[inline]
    pub(crate) fn try_failed(self) {
        ring::try_failed(self.acq.id, self.acq.mode, self.acq.site);
    }
}

/// An async lock held: what its guard or permit carries to release it, and to follow it
/// from task to task.
pub(crate) struct Hold {
    /// The holder whose held set has the entry. Taken only when the hold moves, by
    /// whichever task or thread touches the guard first after the move.
    holder: RawLock<Arc<TaskHeld>>,
    /// `holder`'s [`TaskHeld::word`], compared without the lock on every touch.
    word: AtomicU64,
    id: u32,
    mode: Mode,
}

impl Hold {
    fn new(holder: Arc<TaskHeld>, acq: &Acquire) -> Hold {
        Hold { word: AtomicU64::new(holder.word), holder: RawLock::new(holder), id: acq.id, mode: acq.mode }
    }

    /// The guard is used by the running task (or thread): if that is not its holder, the
    /// guard was moved, and the hold moves with it to the running one's held set, so that
    /// what it takes next is ordered after this lock and what the old holder takes is not.
    #[inline]
    pub(crate) fn follow(&self, meta: &LockMeta) {
        // Relaxed: a word equal to ours was stored by our own task or thread (at the
        // acquisition or a take-over it made), which sees its own stores; a later take-over
        // by another holder reached us with the guard, through whatever handed the guard (or
        // the borrow of it) back, which orders that store before this load. Any other word
        // only sends us to `take_over`, which takes the lock.
        if self.word.load(Ordering::Relaxed) != task::current_word() {
            self.take_over(meta);
        }
    }

    /// Moves the held entry from the old holder's set to the running one's; the owner hint
    /// names the new holder.
    #[cold]
    #[inline(never)]
    fn take_over(&self, meta: &LockMeta) {
        let Some(new) = task::current() else { return };
        let mut holder = self.holder.lock();
        if Arc::ptr_eq(&holder, &new) {
            return;
        }
        if let Some(entry) = holder.take(self.id, self.mode) {
            new.put(&entry);
            let acq = Acquire::new(self.id, entry.class_word, self.mode, meta.kind, entry.site);
            match self.mode {
                Mode::Permit => watchdog::permit_released(meta),
                mode => watchdog::released(meta, mode),
            }
            watchdog::acquired(meta, new.tid, &acq);
        }
        // Relaxed: see `follow`; take-overs themselves are ordered by the lock.
        self.word.store(new.word, Ordering::Relaxed);
        *holder = new;
    }

    /// A write hold becomes a read hold (`downgrade`): its held entry changes mode where it
    /// is, and the owner hint follows, as `check::set_mode` does for sync locks.
    pub(crate) fn set_mode(&mut self, meta: &LockMeta, mode: Mode) {
        self.follow(meta);
        let holder = self.holder.get_mut();
        if let Some(was) = holder.with(|t| t.set_mode(self.id, mode)) {
            watchdog::released(meta, was.mode);
            watchdog::acquired(meta, holder.tid, &Acquire::new(self.id, was.class_word, mode, meta.kind, was.site));
        }
        self.mode = mode;
    }

    /// Releases the lock: `unlock` gives the permits back; the entry leaves the held set it
    /// is in, whichever task or thread drops the guard (moving it to the dropping one first
    /// would end the same).
    #[inline]
    pub(crate) fn release(self, meta: &LockMeta, unlock: impl FnOnce()) {
        // The owner hint goes first: after the unlock it would be the next owner's.
        match self.mode {
            Mode::Permit => watchdog::permit_released(meta),
            mode => watchdog::released(meta, mode),
        }
        unlock();
        if let Some(released) = self.holder.into_inner().release(self.id, self.mode) {
            ring::released(released.id, released.mode, released.hold_start);
        }
    }
}

/// The async locks the running task (or, outside one, this thread's `block_on`) holds.
pub(crate) fn held_by_current() -> Vec<HeldLock> {
    if !task::any_held() {
        return Vec::new();
    }
    task::current_holding().map(|h| h.entries().iter().map(check::held_lock).collect()).unwrap_or_default()
}
