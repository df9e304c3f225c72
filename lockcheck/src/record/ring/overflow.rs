//! Exact per-lock counts of the acquisitions a full ring dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use parking_lot::Mutex as RawLock;

use crate::trace::LockCounters;

/// Slots in a ring's overflow table before it spills into a locked map.
const OVERFLOW_SLOTS: usize = 16;

/// Exact per-lock counts of dropped acquisitions. The producer is the only writer of the
/// slots, so it updates them with plain loads and stores (no read-modify-write); the collector
/// reads them. A lock that finds no slot goes to `spill`, behind a lock (rare: it takes more
/// than 16 distinct locks overflowing one thread's ring).
pub(super) struct Overflow {
    slots: [OverflowSlot; OVERFLOW_SLOTS],
    spill: RawLock<HashMap<u32, LockCounters>>,
}

#[derive(Default)]
struct OverflowSlot {
    /// 0 = free; claimed once, never released.
    lock: AtomicU32,
    acquisitions: AtomicU64,
    contended: AtomicU64,
    wait_ns: AtomicU64,
}

/// Adds `by` to a counter only this thread writes.
fn bump(counter: &AtomicU64, by: u64) {
    // Relaxed: single writer, so load-then-store loses nothing; readers take a snapshot and
    // the Release store of `Ring::dropped` after it publishes the new value.
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(by), Ordering::Relaxed);
}

impl Overflow {
    pub(super) fn new() -> Overflow {
        Overflow { slots: Default::default(), spill: RawLock::new(HashMap::new()) }
    }

    /// Counts one dropped acquisition (producer only).
    pub(super) fn count(&self, lock: u32, wait_ns: Option<u64>) {
        let start = (lock as usize).wrapping_mul(0x9e37_79b9) % OVERFLOW_SLOTS;
        for i in 0..4 {
            let slot = &self.slots[(start + i) % OVERFLOW_SLOTS];
            // Relaxed: only this thread writes `lock`; the collector's reads are ordered by
            // the Acquire in `Ring::dropped`.
            match slot.lock.load(Ordering::Relaxed) {
                0 => slot.lock.store(lock, Ordering::Relaxed),
                id if id == lock => {}
                _ => continue,
            }
            bump(&slot.acquisitions, 1);
            if let Some(w) = wait_ns {
                bump(&slot.contended, 1);
                bump(&slot.wait_ns, w);
            }
            return;
        }
        let mut spill = self.spill.lock();
        let c = spill.entry(lock).or_default();
        c.add(&LockCounters {
            acquisitions: 1,
            contended: u64::from(wait_ns.is_some()),
            wait_ns: wait_ns.unwrap_or(0),
        });
    }

    pub(super) fn add_to(&self, into: &mut HashMap<u32, LockCounters>) {
        for slot in &self.slots {
            // Relaxed: see `count`.
            let lock = slot.lock.load(Ordering::Relaxed);
            if lock != 0 {
                into.entry(lock).or_default().add(&LockCounters {
                    acquisitions: slot.acquisitions.load(Ordering::Relaxed),
                    contended: slot.contended.load(Ordering::Relaxed),
                    wait_ns: slot.wait_ns.load(Ordering::Relaxed),
                });
            }
        }
        for (&lock, c) in self.spill.lock().iter() {
            into.entry(lock).or_default().add(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_counts_stay_exact_past_the_slots() {
        let overflow = Overflow::new();
        // More locks than slots, some colliding: the rest spill into the locked map.
        for lock in 1..=40u32 {
            for round in 0..u64::from(lock) {
                overflow.count(lock, (round % 2 == 1).then_some(10));
            }
        }
        let mut totals = HashMap::new();
        overflow.add_to(&mut totals);
        assert_eq!(totals.len(), 40);
        for lock in 1..=40u32 {
            let n = u64::from(lock);
            assert_eq!(totals[&lock], LockCounters { acquisitions: n, contended: n / 2, wait_ns: n / 2 * 10 });
        }
        assert!(!overflow.spill.lock().is_empty(), "40 locks cannot all fit 16 slots");
    }
}
