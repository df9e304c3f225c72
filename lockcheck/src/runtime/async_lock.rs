//! The acquisition protocol of async locks (cargo feature `tokio`): `check.rs`'s, with the
//! held set of the running task (`task.rs`) in place of the thread's stack.
//!
//! ```text
//! lock future, first poll ─ off? ─────────────► tokio's semaphore, unchecked
//!   │ on
//! begin: the task's held set + the sync locks this thread holds now; context cached? ─► go
//!   │ no (cold): self-deadlock, rank, lock-order graph → findings → LOCKCHECK_ON_CYCLE
//!   │          (all before the first `.await`: a task re-locking what it holds is reported
//!   │           before it hangs)
//! try the permit ── taken ─────────────────────► acquired
//!   │ busy
//! waiting: published for the watchdog in a slot the future owns; the holder noted
//!   │ (the future dropped here: the slot goes with it, nothing was pushed)
//! acquired: onto the task's held set, owner hint, record in this thread's ring
//! guard drop (any task, any thread): owner hint cleared, permit back, entry out of the
//!   acquirer's held set
//! ```

use std::panic::Location;
use std::sync::Arc;
use std::time::Instant;

use crate::analysis::report::{Finding, HeldLock, Mode};
use crate::record::ring::{self, Waited};
use crate::runtime::check::{self, Fresh};
use crate::runtime::held::{self, Acquire, Held, Verdict};
use crate::runtime::registry::LockMeta;
use crate::runtime::task::{self, TaskHeld};
use crate::runtime::{crossing, graph, watchdog};

/// An async acquisition checked and about to take its permit.
pub(crate) struct Pending {
    acq: Acquire,
    holder: Arc<TaskHeld>,
}

/// A blocking async acquisition (`lock`, `read`, `write`, `acquire`), checked before the
/// lock future can wait; `None` when instrumentation is off. Call it from inside the lock
/// future (its first poll), where the running task is the one that will hold the lock.
#[inline]
pub(crate) fn begin(meta: &LockMeta, mode: Mode, site: &'static Location<'static>) -> Option<Pending> {
    let (pending, thread) = start(meta, mode, site)?;
    let mut findings = judge_on(&pending.holder, &pending.acq, &thread);
    findings.extend(crossing::check(pending.holder.tid, &thread, &pending.acq));
    check::act_on(findings, Fresh::Call);
    Some(pending)
}

/// An acquisition that cannot wait (`try_lock`, `try_acquire`): not checked, and no edge into
/// it; once held, it is an edge source like any other.
#[inline]
pub(crate) fn begin_try(meta: &LockMeta, mode: Mode, site: &'static Location<'static>) -> Option<Pending> {
    let (pending, thread) = start(meta, mode, site)?;
    let findings: Vec<Finding> = crossing::check(pending.holder.tid, &thread, &pending.acq).into_iter().collect();
    check::act_on(findings, Fresh::Call);
    Some(pending)
}

/// The acquisition about to happen, and the sync locks this thread holds now; `None` when
/// instrumentation is off.
#[inline]
fn start(meta: &LockMeta, mode: Mode, site: &'static Location<'static>) -> Option<(Pending, Vec<Held>)> {
    if !check::enabled() {
        return None;
    }
    let holder = task::current()?;
    let (id, class_word) = meta.ids();
    Some((Pending { acq: Acquire::new(id, class_word, mode, meta.kind, site), holder }, thread_held()))
}

/// The sync locks this thread holds now (empty without an allocation when it holds none).
fn thread_held() -> Vec<Held> {
    held::with(|t| t.stack().to_vec()).unwrap_or_default()
}

/// Checks `acq` against `holder`'s held set with the sync locks this thread holds (`thread`)
/// on top of it (taken since the task last awaited: they are held through this wait), as a
/// thread's acquisition is checked against its stack. Returns the new findings, not yet
/// acted on.
fn judge_on(holder: &TaskHeld, acq: &Acquire, thread: &[Held]) -> Vec<Finding> {
    holder.with(|t| {
        for held in thread {
            t.push_copy(held);
        }
        let found = match t.check(acq) {
            Verdict::Known => Vec::new(),
            Verdict::KnownFinding(key) => {
                graph::hit(key);
                Vec::new()
            }
            Verdict::New(key) => check::judge(t, acq, key),
        };
        for held in thread.iter().rev() {
            t.pop(held.id);
        }
        found
    })
}

/// A sync acquisition about to block on a thread whose running task holds async locks: those
/// are held through the wait too, so each is an edge into the sync lock.
#[cold]
#[inline(never)]
pub(crate) fn sync_under_task(acq: &Acquire, fresh: Fresh) {
    let Some(holder) = task::current_holding() else { return };
    let findings = judge_on(&holder, acq, &thread_held());
    check::act_on(findings, fresh);
}

/// A contended async wait under way: published for the watchdog for as long as it lives.
pub(crate) struct Waiting {
    started: Instant,
    holder: Option<(u32, &'static Location<'static>)>,
    _published: Option<watchdog::AsyncWait>,
}

impl Pending {
    /// The lock was busy: the wait starts. Keep the result alive until the permit is taken
    /// (it lives in the lock future, so a future dropped while waiting unpublishes it).
    #[cold]
    pub(crate) fn waiting(&self, meta: &LockMeta) -> Waiting {
        let holder =
            meta.owner.read().exclusive.filter(|&(tid, ..)| tid != self.holder.tid).map(|(tid, _, site)| (tid, site));
        let mut held = self.holder.entries();
        held.extend(thread_held());
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
        Hold { holder: self.holder, id: acq.id, mode: acq.mode }
    }

    /// A `try_*` found the lock busy.
    #[inline]
    pub(crate) fn try_failed(self) {
        ring::try_failed(self.acq.id, self.acq.mode, self.acq.site);
    }
}

/// An async lock held: what its guard or permit carries to release it.
pub(crate) struct Hold {
    holder: Arc<TaskHeld>,
    id: u32,
    mode: Mode,
}

impl Hold {
    /// Releases the lock: `unlock` gives the permits back; the entry leaves the held set of
    /// the holder that acquired it, whichever task or thread drops the guard.
    #[inline]
    pub(crate) fn release(self, meta: &LockMeta, unlock: impl FnOnce()) {
        // The owner hint goes first: after the unlock it would be the next owner's.
        match self.mode {
            Mode::Permit => watchdog::permit_released(meta),
            mode => watchdog::released(meta, mode),
        }
        unlock();
        if let Some(released) = self.holder.release(self.id, self.mode) {
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
