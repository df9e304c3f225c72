//! The wait-for analysis: which waiting threads can never proceed.
//!
//! Input is what waiting threads published (the lock each waits for, in which mode, and the
//! locks it held when it began to wait). A thread that is not waiting publishes nothing, so
//! the analysis assumes it will eventually release whatever it holds: a deadlock is only
//! claimed when it follows from the waiters' own publications.
//!
//! The method is graph reduction (Holt, "Some Deadlock Properties of Computer Systems",
//! 1972): start from every waiter; repeatedly drop a waiter whose request could be granted if
//! only the remaining waiters kept their locks (it would proceed and release what it holds);
//! what remains can never proceed. Unlike a plain cycle search this is right for requests
//! that need *every* holder gone (a write behind readers) and for those that need *any*
//! holder gone (a semaphore permit, when other permits may come back).

use crate::analysis::report::Mode;

/// One waiting thread, as the analysis sees it.
#[derive(Clone, Debug)]
pub(crate) struct Waiter {
    /// The lock it waits for.
    pub lock: u32,
    /// How it asked for it.
    pub mode: Mode,
    /// The locks it holds (id, mode); cannot change while it waits.
    pub held: Vec<(u32, Mode)>,
    /// For a permit request: how many permits of the semaphore are held, by anyone.
    pub permits_out: u32,
    /// Whether the wait has a timeout (`try_lock_for`): it ends by itself, so it never
    /// deadlocks, however long it lasts.
    pub timed: bool,
}

impl Waiter {
    fn holds(&self, lock: u32) -> impl Iterator<Item = Mode> + '_ {
        self.held.iter().filter(move |h| h.0 == lock).map(|h| h.1)
    }

    /// An exclusive request on a lock the thread holds upgradable is `upgrade()`: the
    /// thread's own upgradable read does not block it (other readers do).
    fn upgrading(&self) -> bool {
        self.mode == Mode::Exclusive && self.holds(self.lock).any(|m| m == Mode::Upgradable)
    }

    /// Whether a writer (or upgrader) is queued on `lock`: parking_lot's RwLock is task-fair,
    /// so it then turns away new `read` and `upgradable_read` requests.
    fn queued_writer_on(&self, lock: u32) -> bool {
        self.lock == lock && self.mode == Mode::Exclusive
    }
}

/// Whether `other`'s position (its holds, its queued request) keeps `waiter` from getting its
/// lock. `same` says the two are one thread.
fn blocks(waiter: &Waiter, other: &Waiter, same: bool) -> bool {
    use Mode::*;
    let lock = waiter.lock;
    let mut holds = other.holds(lock);
    match waiter.mode {
        Exclusive => {
            let upgrading = waiter.upgrading();
            holds.any(|m| !(same && upgrading && m == Upgradable))
        }
        Upgradable => holds.any(|m| matches!(m, Exclusive | Upgradable)) || (!same && other.queued_writer_on(lock)),
        Shared => holds.any(|m| m == Exclusive) || (!same && other.queued_writer_on(lock)),
        SharedRecursive => holds.any(|m| m == Exclusive),
        Permit => holds.any(|m| m == Permit),
    }
}

/// Whether `waiters[i]` cannot proceed while the waiters marked in `stuck` stay put.
fn blocked(waiters: &[Waiter], stuck: &[bool], i: usize) -> bool {
    let waiter = &waiters[i];
    if waiter.timed {
        return false;
    }
    let mut blockers = (0..waiters.len()).filter(|&j| stuck[j] && blocks(waiter, &waiters[j], i == j));
    if waiter.mode != Mode::Permit {
        return blockers.next().is_some();
    }
    // Any permit coming back may be the one it needs: only stuck when every permit out is
    // held by a stuck waiter.
    let stuck_permits: u32 =
        blockers.map(|j| waiters[j].holds(waiter.lock).filter(|&m| m == Mode::Permit).count() as u32).sum();
    stuck_permits > 0 && stuck_permits >= waiter.permits_out
}

/// Marks the waiters that can never proceed.
pub(crate) fn deadlocked(waiters: &[Waiter]) -> Vec<bool> {
    let mut stuck = vec![true; waiters.len()];
    loop {
        let mut changed = false;
        for i in 0..waiters.len() {
            if stuck[i] && !blocked(waiters, &stuck, i) {
                stuck[i] = false;
                changed = true;
            }
        }
        if !changed {
            return stuck;
        }
    }
}

/// The stuck waiters that keep stuck waiter `i` waiting.
pub(crate) fn blockers(waiters: &[Waiter], stuck: &[bool], i: usize) -> Vec<usize> {
    (0..waiters.len()).filter(|&j| stuck[j] && blocks(&waiters[i], &waiters[j], i == j)).collect()
}

/// The stuck waiters in report order: a wait-for cycle first (each waits for the next, the
/// last for the first), then any others stuck behind it. Each comes with the one it waits
/// for.
pub(crate) fn cycle_order(waiters: &[Waiter], stuck: &[bool]) -> Vec<(usize, usize)> {
    let Some(start) = stuck.iter().position(|&s| s) else { return Vec::new() };
    // Every stuck waiter has a stuck blocker, so following first blockers must loop.
    let mut path = vec![start];
    let cycle_start = loop {
        let last = *path.last().expect("the path starts non-empty");
        let next = blockers(waiters, stuck, last)[0];
        if let Some(at) = path.iter().position(|&p| p == next) {
            break at;
        }
        path.push(next);
    };
    let cycle = &path[cycle_start..];
    let mut order: Vec<(usize, usize)> =
        cycle.iter().enumerate().map(|(k, &i)| (i, cycle[(k + 1) % cycle.len()])).collect();
    for i in (0..waiters.len()).filter(|&i| stuck[i] && !cycle.contains(&i)) {
        order.push((i, blockers(waiters, stuck, i)[0]));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use Mode::*;

    fn w(lock: u32, mode: Mode, held: &[(u32, Mode)]) -> Waiter {
        Waiter { lock, mode, held: held.to_vec(), permits_out: 0, timed: false }
    }

    fn stuck_set(waiters: &[Waiter]) -> Vec<usize> {
        let stuck = deadlocked(waiters);
        (0..waiters.len()).filter(|&i| stuck[i]).collect()
    }

    #[test]
    fn abba_is_stuck() {
        let ws = [w(2, Exclusive, &[(1, Exclusive)]), w(1, Exclusive, &[(2, Exclusive)])];
        assert_eq!(stuck_set(&ws), [0, 1]);
        assert_eq!(cycle_order(&ws, &deadlocked(&ws)), [(0, 1), (1, 0)]);
    }

    #[test]
    fn a_thread_waiting_for_itself_is_stuck() {
        let ws = [w(1, Exclusive, &[(1, Exclusive)])];
        assert_eq!(stuck_set(&ws), [0]);
        assert_eq!(cycle_order(&ws, &deadlocked(&ws)), [(0, 0)]);
    }

    #[test]
    fn a_cycle_through_a_timed_wait_is_not_a_deadlock() {
        let mut ws = [w(2, Exclusive, &[(1, Exclusive)]), w(1, Exclusive, &[(2, Exclusive)])];
        ws[1].timed = true;
        assert!(stuck_set(&ws).is_empty());
    }

    #[test]
    fn a_wait_on_a_running_holder_is_not_a_deadlock() {
        // Lock 3's holder is not waiting: it will release, then everyone proceeds.
        let ws = [w(2, Exclusive, &[(1, Exclusive)]), w(3, Exclusive, &[(2, Exclusive)])];
        assert!(stuck_set(&ws).is_empty());
    }

    #[test]
    fn three_thread_cycle_with_a_bystander() {
        let ws = [
            w(2, Exclusive, &[(1, Exclusive)]),
            w(3, Exclusive, &[(2, Exclusive)]),
            w(1, Exclusive, &[(3, Exclusive)]),
            w(1, Exclusive, &[]),
        ];
        assert_eq!(stuck_set(&ws), [0, 1, 2, 3]);
        let order = cycle_order(&ws, &deadlocked(&ws));
        assert_eq!(order[..3], [(0, 1), (1, 2), (2, 0)]);
        assert_eq!(order[3].0, 3);
    }

    #[test]
    fn readers_do_not_block_readers_until_a_writer_queues() {
        let ws = [w(2, Shared, &[(1, Shared)]), w(1, Shared, &[(2, Shared)])];
        assert!(stuck_set(&ws).is_empty());
        // Thread 0 reads 1 again while a writer waits on 1 behind its first read.
        let ws = [w(1, Shared, &[(1, Shared)]), w(1, Exclusive, &[])];
        assert_eq!(stuck_set(&ws), [0, 1]);
        let ws = [w(1, SharedRecursive, &[(1, Shared)]), w(1, Exclusive, &[])];
        assert!(stuck_set(&ws).is_empty());
    }

    #[test]
    fn upgrading_while_a_reader_wants_upgradable_is_stuck() {
        let ws = [w(1, Exclusive, &[(1, Upgradable)]), w(1, Upgradable, &[(1, Shared)])];
        assert_eq!(stuck_set(&ws), [0, 1]);
        // Alone, an upgrade waits only for readers that will leave.
        let ws = [w(1, Exclusive, &[(1, Upgradable)])];
        assert!(stuck_set(&ws).is_empty());
    }

    #[test]
    fn a_permit_wait_is_stuck_only_when_every_permit_is_held_by_the_stuck() {
        let mut ws = [w(9, Permit, &[(1, Exclusive)]), w(1, Exclusive, &[(9, Permit)])];
        ws[0].permits_out = 1;
        assert_eq!(stuck_set(&ws), [0, 1]);
        ws[0].permits_out = 2;
        assert!(stuck_set(&ws).is_empty(), "another permit is out with a thread that runs");
    }
}
