//! Releases made on another thread's behalf: a semaphore permit may be handed on and
//! released by a thread other than the one holding it, which then drops it from its stack at
//! its next check. And the thread's exit, which settles them and reports the locks it leaked.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{with, Held, Thread};
use crate::analysis::report::Mode;

/// Sees thread exit for [`Thread`], which has no destructor of its own.
pub(super) struct ExitGuard;

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let leaked = with(|t| {
            // Always: permits this thread took may still come back after it is gone.
            t.take_remote_releases();
            // Both under the exited list's lock, taken before REMOTE's (as in `release_remote`):
            // no release can slip in between.
            let mut exited = EXITED_WITH_PERMITS.lock();
            if t.permits != 0 {
                exited.push(t.tid);
            }
            forget_remote_releases(t.tid);
            // A permit is not owned by its thread: it may be handed on and released elsewhere.
            let leaked: Vec<Held> = t.stack().iter().filter(|h| h.mode != Mode::Permit).copied().collect();
            (t.tid, leaked)
        });
        if let Some((tid, leaked)) = leaked.filter(|(_, leaked)| !leaked.is_empty()) {
            crate::runtime::check::thread_exit(tid, &leaked);
        }
    }
}

impl Thread {
    /// Drops the permits other threads released on this thread's behalf.
    #[cold]
    pub fn take_remote_releases(&mut self) {
        // Acquire: pairs with the Release in `release_remote`; the list itself is read under
        // its lock, this only skips taking the lock when nothing is pending.
        if REMOTE_PENDING.load(Ordering::Acquire) == 0 || self.tid == 0 {
            return;
        }
        let mine: Vec<u32> = {
            let mut remote = REMOTE.lock();
            let tid = self.tid;
            let mine = remote.iter().filter(|r| r.0 == tid).map(|r| r.1).collect();
            remote.retain(|r| r.0 != tid);
            // Relaxed: only ever compared with zero under or before taking the lock.
            REMOTE_PENDING.store(remote.len(), Ordering::Relaxed);
            mine
        };
        for id in mine {
            self.pop(id);
        }
    }
}

/// Permits released by a thread other than their owner: (owner tid, semaphore id).
static REMOTE: parking_lot::Mutex<Vec<(u32, u32)>> = parking_lot::Mutex::new(Vec::new());
/// Threads that exited with permits handed to other threads: their releases are dropped, not
/// queued for a thread that will never take them.
static EXITED_WITH_PERMITS: parking_lot::Mutex<Vec<u32>> = parking_lot::Mutex::new(Vec::new());
/// How many entries `REMOTE` holds, read without its lock.
static REMOTE_PENDING: AtomicUsize = AtomicUsize::new(0);

/// Drops the pending releases of an exiting thread: nobody will take them any more.
fn forget_remote_releases(tid: u32) {
    let mut remote = REMOTE.lock();
    remote.retain(|r| r.0 != tid);
    // Release: pairs with the Acquire in `take_remote_releases`.
    REMOTE_PENDING.store(remote.len(), Ordering::Release);
}

/// Records that a permit `owner` acquired was released by another thread.
#[cold]
pub(crate) fn release_remote(owner: u32, id: u32) {
    let exited = EXITED_WITH_PERMITS.lock();
    if exited.contains(&owner) {
        return;
    }
    let mut remote = REMOTE.lock();
    remote.push((owner, id));
    // Release: pairs with the Acquire in `take_remote_releases`.
    REMOTE_PENDING.store(remote.len(), Ordering::Release);
}
