//! The rules an acquisition must keep against the locks its thread holds: a lock held
//! already may be taken again only as its kind allows, and ranks strictly increase.

use super::{Acquire, Held};
use crate::analysis::report::{LockKind, Mode};

/// How a second acquisition of a lock this thread already holds in `held` mode ends.
pub(crate) enum Reacquire {
    /// It can never succeed: the thread waits for itself.
    Deadlock,
    /// It succeeds unless a writer queues in between (task-fair reads).
    DeadlockIfWriterQueues,
}

/// Judges acquiring `want` on a lock already held in `held` mode by the same thread.
pub(crate) fn reacquire(kind: LockKind, held: Mode, want: Mode) -> Option<Reacquire> {
    use Mode::*;
    match kind {
        // A reentrant lock only reaches the raw lock on its outermost acquisition, and a
        // semaphore's permits may be taken more than once by one thread.
        LockKind::Reentrant | LockKind::Semaphore => None,
        LockKind::Mutex => Some(Reacquire::Deadlock),
        LockKind::RwLock => match (held, want) {
            (Shared | SharedRecursive | Upgradable, SharedRecursive) => None,
            (Shared | SharedRecursive, Shared | Upgradable) | (Upgradable, Shared) => {
                Some(Reacquire::DeadlockIfWriterQueues)
            }
            _ => Some(Reacquire::Deadlock),
        },
    }
}

/// The held entries whose rank is not below `rank`: a rank violation when non-empty.
pub(crate) fn rank_offenders(stack: &[Held], acq: &Acquire) -> bool {
    let Some(rank) = acq.rank() else { return false };
    stack.iter().any(|h| h.id != acq.id && h.rank().is_some_and(|r| r >= rank))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::held::{test_acquire as acq, Thread};

    #[test]
    fn ranks_must_strictly_increase() {
        let mut t = Thread::new();
        t.push(&acq(1, Some(10)), true);
        assert!(!rank_offenders(t.stack(), &acq(2, Some(20))));
        assert!(rank_offenders(t.stack(), &acq(2, Some(10))));
        assert!(rank_offenders(t.stack(), &acq(2, Some(5))));
        assert!(!rank_offenders(t.stack(), &acq(2, None)));
    }

    #[test]
    fn rwlock_reacquisition_follows_task_fairness() {
        use Mode::*;
        let judge = |h, w| reacquire(LockKind::RwLock, h, w);
        assert!(judge(SharedRecursive, SharedRecursive).is_none());
        assert!(matches!(judge(Shared, Shared), Some(Reacquire::DeadlockIfWriterQueues)));
        assert!(matches!(judge(Shared, Exclusive), Some(Reacquire::Deadlock)));
        assert!(matches!(judge(Exclusive, Shared), Some(Reacquire::Deadlock)));
    }
}
