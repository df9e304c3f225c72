//! Chain keys, and each thread's cache of the acquisition contexts it has checked: the
//! lookup that lets a known context skip every check, and the generation that sends contexts
//! back to be examined when a new finding appears.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{bucket_of, Acquire, Held, Thread};
use crate::analysis::report::Mode;
use crate::runtime::registry;

/// Entries in the per-thread cache of checked acquisition contexts (a power of two).
pub(super) const CACHE_SLOTS: usize = 512;

/// Bumped whenever a new finding appears, so that threads re-examine contexts they had
/// cached: a context that is part of a finding is then counted on every hit.
pub(crate) static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Seeds that keep "lock x acquired under lock y" apart from "y under x": with one hash for
/// both roles, the XOR of the two would be the same either way round.
const ACQUIRED_SEED: u64 = 0x9e37_79b9_7f4a_7c15;
const HELD_SEED: u64 = 0xc2b2_ae3d_27d4_eb4f;

/// FxHash's step: cheap, and good enough for 64-bit keys compared in full.
#[inline]
fn mix(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

/// The chain key of an entry holding `word` in `mode` on top of the chain `below`; for a
/// blocking acquisition it is also the acquisition's cache key. Bit 0 keeps a real key from
/// matching an empty cache slot; bit 1 is the cache's finding mark.
#[inline(always)]
pub(super) fn link(below: u64, word: u64, mode: Mode, blocking: bool) -> u64 {
    (mix(mix(below, word), (mode as u64) << 1 | u64::from(blocking)) | 1) & !2
}

/// What the thread must do about an acquisition after [`Thread::check`].
pub(crate) enum Verdict {
    /// Seen before and clean: nothing to do.
    Known,
    /// Seen before and part of a finding: count the hit.
    KnownFinding(u64),
    /// Never seen: run the checks and the graph update, then [`Thread::remember`] the key.
    New(u64),
}

impl Thread {
    /// Looks up the context of a blocking acquisition.
    #[inline]
    pub fn check(&mut self, acq: &Acquire) -> Verdict {
        if self.permits != 0 {
            self.take_remote_releases();
        }
        if self.tid == 0 {
            self.register();
        }
        let Some(top) = self.stack().last() else {
            return Verdict::Known;
        };
        let key = self.key(top.chain, acq);
        // Relaxed: a stale generation only delays re-examination by one acquisition; the
        // findings themselves are read under the graph's lock.
        let generation = GENERATION.load(Ordering::Relaxed);
        if generation != self.generation {
            return self.reset_cache(generation, key);
        }
        let slot = self.cache[slot_of(key)];
        if slot & !2 == key {
            return if slot & 2 != 0 { Verdict::KnownFinding(key) } else { Verdict::Known };
        }
        Verdict::New(key)
    }

    /// The cache key of a blocking acquisition of `acq` on top of the chain `below`.
    #[inline(always)]
    fn key(&self, below: u64, acq: &Acquire) -> u64 {
        link(below, self.word(acq), acq.mode, true)
    }

    /// What `acq` contributes to chain keys: its class and rank, and its instance when its
    /// class is held already. Not stored: [`rechain`](Self::rechain) works it out again.
    #[inline(always)]
    pub(super) fn word(&self, acq: &Acquire) -> u64 {
        if self.class_buckets[bucket_of(acq.class())] == 0 {
            acq.class_word
        } else {
            Self::same_class_word(self.stack(), acq.id, acq.class_word)
        }
    }

    /// [`word`](Self::word) when the class may be among the entries `below`: then the
    /// context is keyed by which instances of it are held too ("a1 under a0" and "a1 under a1"
    /// are different contexts).
    #[inline(always)]
    fn same_class_word(below: &[Held], id: u32, class_word: u64) -> u64 {
        let class = registry::word_class(class_word);
        let held = below.iter().filter(|h| h.class() == class);
        let ids = held.fold(None, |ids: Option<u64>, h| Some(ids.unwrap_or(0) ^ mix(HELD_SEED, u64::from(h.id))));
        match ids {
            Some(ids) => mix(class_word ^ ACQUIRED_SEED, u64::from(id)) ^ ids,
            None => class_word,
        }
    }

    #[cold]
    fn reset_cache(&mut self, generation: u64, key: u64) -> Verdict {
        self.cache.fill(0);
        self.generation = generation;
        Verdict::New(key)
    }

    /// Records a checked key; `in_finding` marks it for counting.
    pub fn remember(&mut self, key: u64, in_finding: bool) {
        self.cache[slot_of(key)] = if in_finding { key | 2 } else { key };
    }

    /// Recomputes chain keys from `from` up, after the stack changed below its top: each
    /// entry's word as a push would work it out on the stack as it is now.
    pub(super) fn rechain(&mut self, from: usize) {
        let mut chain = if from == 0 { 0 } else { self.entries[from - 1].chain };
        for at in from..self.len as usize {
            let (below, entry) = self.entries.split_at_mut(at);
            let held = &mut entry[0];
            let word = Self::same_class_word(below, held.id, held.class_word);
            held.chain = link(chain, word, held.mode, held.blocking);
            chain = held.chain;
        }
    }
}

#[inline]
pub(super) fn slot_of(key: u64) -> usize {
    // The multiply in `mix` leaves its best bits at the top.
    (key >> (64 - CACHE_SLOTS.trailing_zeros())) as usize
}

#[cfg(test)]
mod tests {
    use std::panic::Location;

    use super::*;
    use crate::analysis::report::LockKind;
    use crate::runtime::held::test_acquire as acq;

    #[test]
    fn out_of_order_release_keeps_chain_keys_consistent() {
        let mut a = Thread::new();
        let mut b = Thread::new();
        a.push(&acq(1, None), true);
        a.push(&acq(2, None), true);
        a.push(&acq(3, None), true);
        a.pop(2);
        b.push(&acq(1, None), true);
        b.push(&acq(3, None), true);
        assert_eq!(a.stack().last().unwrap().chain, b.stack().last().unwrap().chain);
        assert_eq!(a.stack().len(), 2);
    }

    #[test]
    fn known_contexts_are_cached() {
        let mut t = Thread::new();
        t.push(&acq(1, None), true);
        let Verdict::New(key) = t.check(&acq(2, None)) else { panic!("first sight is new") };
        t.remember(key, false);
        assert!(matches!(t.check(&acq(2, None)), Verdict::Known));
        assert!(matches!(t.check(&acq(3, None)), Verdict::New(_)));
        t.remember(key, true);
        assert!(matches!(t.check(&acq(2, None)), Verdict::KnownFinding(k) if k == key));
    }

    #[test]
    fn contexts_are_keyed_by_class_unless_the_class_is_held() {
        let acq = |id, class| {
            Acquire::new(id, registry::class_word(class, None), Mode::Exclusive, LockKind::Mutex, Location::caller())
        };
        let mut t = Thread::new();
        t.push(&acq(1, 100), true);
        let Verdict::New(key) = t.check(&acq(2, 200)) else { panic!("first sight is new") };
        t.remember(key, false);
        assert!(matches!(t.check(&acq(3, 200)), Verdict::Known), "another lock of class 200: known");
        assert!(matches!(t.check(&acq(4, 100)), Verdict::New(_)), "nested in its own class: by instance");
        let Verdict::New(same_class) = t.check(&acq(4, 100)) else { unreachable!() };
        t.remember(same_class, false);
        assert!(matches!(t.check(&acq(5, 100)), Verdict::New(_)), "another instance of a held class is new");
        assert!(matches!(t.check(&acq(1, 100)), Verdict::New(_)), "the held lock itself is new");
        t.pop(1);
        assert!(t.class_buckets.iter().all(|&n| n == 0), "an empty stack holds no class");

        // "x under y" and "y under x" are different contexts, even for class 0 without a rank.
        let mut t = Thread::new();
        t.push(&acq(3, 0), true);
        let Verdict::New(y_under_x) = t.check(&acq(2, 0)) else { unreachable!() };
        t.remember(y_under_x, false);
        t.pop(3);
        t.push(&acq(2, 0), true);
        assert!(matches!(t.check(&acq(3, 0)), Verdict::New(key) if key != y_under_x));

        // "a1 under a0" and "a1 under a1" (a self-deadlock) are different contexts.
        let mut t = Thread::new();
        t.push(&acq(10, 7), true);
        let Verdict::New(under_a0) = t.check(&acq(11, 7)) else { unreachable!() };
        t.remember(under_a0, false);
        t.pop(10);
        t.push(&acq(11, 7), true);
        assert!(matches!(t.check(&acq(11, 7)), Verdict::New(key) if key != under_a0));
    }
}
