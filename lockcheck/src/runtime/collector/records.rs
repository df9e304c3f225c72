//! Ring words into raw events chunks: the collector's per-record path.
//!
//! The words are copied as the thread wrote them (the trace's raw events are the ring's
//! layout, `trace/raw.rs`); the collector decodes nothing and counts nothing per lock. It
//! looks at each word's kind only to declare what the words name before the chunk that names
//! it: a site seen for the first time (a direct-mapped cache of site codes answers for nearly
//! every record), the thread a `Holder` record names, the stack of a marked `Wait`, which
//! the chunk lists. A far site's extension word is replaced by the site's id. Decoding,
//! counting and pairing waits with acquisitions are the reader's.

use std::panic::Location;
use std::sync::Arc;

use super::{Collector, BATCH_WORDS, SITE_CACHE};
use crate::analysis::report::Site;
use crate::record::event::Event as RingEvent;
use crate::record::ring::Ring;
use crate::record::stack;
use crate::runtime::registry::site_label;
use crate::trace::raw::{self, code, FAR_SITE_IDS, MODE_SHIFT, SITE_FAR, STACK_PENDING};
use crate::trace::SiteDecl;

/// What the next word drained is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// A record.
    Record,
    /// The address of the far site the record before it names.
    FarSite,
    /// The nanoseconds of the `Wait` record before it.
    Nanos,
    /// The hold-clock ticks of the `HoldSample` record before it, written as nanoseconds.
    HoldTicks,
}

/// The empty slot of the site cache: no near site has the far code.
pub(super) const NO_SITE: i32 = SITE_FAR;

/// `Collector::repeat_of` when the last word copied may not be repeated (no record is all ones).
pub(super) const NOT_REPEATABLE: u64 = u64::MAX;

/// A site code's slot in the site cache.
#[inline(always)]
fn site_slot(site: i32) -> usize {
    ((site as u32).wrapping_mul(0x9e37_79b9) >> (32 - SITE_CACHE.trailing_zeros())) as usize
}

impl Collector {
    /// Out of line, with the runs' common path inlined into its loop.
    #[inline(never)]
    pub(super) fn drain_ring(&mut self, ring: &Arc<Ring>, end: usize) {
        self.declare_thread(ring.tid);
        self.batch_thread = ring.tid;
        // SAFETY: drains are serialised by the `STATE` lock this method runs under, and `end`
        // was read from this ring's `published_end` after the previous drain.
        unsafe { ring.drain_runs(end, |run| self.take_run(run, ring)) };
        // Records are published whole, extensions and all, so none is left half-read.
        debug_assert_eq!(self.next, Next::Record);
        self.next = Next::Record;
        self.write_batch();
    }

    /// Copies a run of ring words into the batch: the plain records among them (see
    /// [`take_plain`](Self::take_plain)) in a tight loop, every other word one by one.
    #[inline(always)]
    pub(super) fn take_run(&mut self, mut run: &[u64], ring: &Ring) {
        while !run.is_empty() {
            let plain = self.take_plain(run);
            let Some((&word, rest)) = run[plain..].split_first() else { return };
            self.end_repeats();
            self.take(word, ring);
            run = rest;
        }
    }

    /// Copies the plain records at the start of `words` that fit in the batch — releases,
    /// pairs, and acquisitions at a site already declared, which need nothing but counting —
    /// and returns how many there were. A record equal to the repeatable one before it
    /// (`trace/raw.rs`) is only counted: a thread looping on one lock writes the same `Pair`
    /// word every few nanoseconds, and the collector must stay well ahead of it while sharing
    /// a core with it.
    #[inline(always)]
    fn take_plain(&mut self, words: &[u64]) -> usize {
        if self.next != Next::Record {
            return 0;
        }
        let mut events = 0;
        // The last site found declared (wider than any code at first): a loop's records
        // repeat a few sites, mostly the one before.
        let mut known = i64::MIN;
        let mut taken = words.len();
        for (i, &word) in words.iter().enumerate() {
            if word == self.repeat_of && self.repeats < raw::MAX_REPEAT {
                self.repeats += 1;
                events += self.repeat_events;
                continue;
            }
            let kind = raw::kind(word);
            let weight = match kind {
                code::RELEASED => 1,
                code::PAIR => 2,
                code::ACQUIRED => 1,
                _ => {
                    taken = i;
                    break;
                }
            };
            if kind != code::RELEASED {
                let site = raw::site_code(word);
                if i64::from(site) != known {
                    if !self.site_cached(site) {
                        taken = i;
                        break;
                    }
                    known = site.into();
                }
            }
            if self.raw.len() >= BATCH_WORDS {
                taken = i;
                break;
            }
            self.end_repeats();
            self.raw.push(word);
            events += weight;
            (self.repeat_of, self.repeat_events) =
                if raw::is_repeatable(word) { (word, weight) } else { (NOT_REPEATABLE, 0) };
        }
        self.batch_events += events;
        taken
    }

    /// Writes the repeat word the records counted since the last copied one call for, and
    /// starts afresh: the next record is copied whole.
    #[inline(always)]
    pub(super) fn end_repeats(&mut self) {
        if self.repeats != 0 {
            self.raw.push(raw::repeat(std::mem::take(&mut self.repeats)));
        }
        self.repeat_of = NOT_REPEATABLE;
    }

    /// Copies one ring word into the batch. Releases, pairs and acquisitions at a known site,
    /// nearly every record of a busy thread, stay on this inlined path.
    #[inline(always)]
    fn take(&mut self, word: u64, ring: &Ring) {
        if self.next != Next::Record {
            return self.take_extension(word);
        }
        let kind = raw::kind(word);
        if kind == code::RELEASED || kind == code::PAIR || kind == code::ACQUIRED {
            // A record that starts a group: the batch may end before it.
            self.cut_if_full();
            let weight = if kind == code::PAIR { 2 } else { 1 };
            self.batch_events += weight;
            if kind != code::RELEASED {
                self.see_site(word);
            }
            self.raw.push(word);
            if raw::is_repeatable(word) {
                (self.repeat_of, self.repeat_events) = (word, weight);
            }
        } else {
            self.take_other(word, ring);
        }
    }

    /// The records of every other kind: timed holds, waits and holders, failed `try_lock`s,
    /// timeouts.
    #[inline(never)]
    fn take_other(&mut self, mut word: u64, ring: &Ring) {
        let kind = raw::kind(word);
        if kind != code::WAIT && kind != code::HOLDER {
            // `Holder` and `Wait` records stay in the chunk of the record they qualify.
            self.cut_if_full();
        }
        match kind {
            code::HOLD_SAMPLE => {
                self.batch_events += 1;
                self.next = Next::HoldTicks;
            }
            code::TRY_FAILED | code::TIMED_OUT => {
                self.batch_events += 1;
                self.see_site(word);
            }
            code::HOLDER => {
                self.declare_thread(word as u32);
                self.see_site(word);
            }
            code::WAIT => {
                self.next = Next::Nanos;
                if raw::mode(word) == STACK_PENDING {
                    // Popped for every marked record, so the queue stays in step with the ring.
                    match ring.take_stack().filter(|_| self.out.is_some()) {
                        Some(stack) => self.batch_stacks.push(stack::intern(&stack)),
                        None => word &= !(u64::from(STACK_PENDING) << MODE_SHIFT),
                    }
                }
            }
            _ => unreachable!("the common kinds are taken in `take`"),
        }
        self.raw.push(word);
    }

    /// An extension word: a wait's nanoseconds as they are, a hold's clock ticks as
    /// nanoseconds, a far site's address as the site's id.
    #[cold]
    #[inline(never)]
    fn take_extension(&mut self, word: u64) {
        let word = match std::mem::replace(&mut self.next, Next::Record) {
            Next::FarSite => {
                let address = word as usize;
                let location = RingEvent::far_site(word);
                let next_id = FAR_SITE_IDS.saturating_add(self.far_sites.len() as u32);
                let id = *self.far_sites.entry(address).or_insert(next_id);
                if id == next_id {
                    self.declare_site(id, location);
                }
                u64::from(id)
            }
            Next::HoldTicks => self.hold_clock.nanos(word),
            Next::Nanos | Next::Record => word,
        };
        self.raw.push(word);
    }

    /// Declares the site of a record on first sight; a far site waits for its extension.
    #[inline(always)]
    fn see_site(&mut self, word: u64) {
        let site = raw::site_code(word);
        if !self.site_cached(site) {
            self.site_missed(word, site_slot(site));
        }
    }

    /// Whether a near site is in the site cache, so declared. A far site never is: its
    /// extension word must be seen (and the cache's empty slots hold the far code).
    #[inline(always)]
    fn site_cached(&self, site: i32) -> bool {
        site != SITE_FAR && self.site_cache[site_slot(site)] == site
    }

    /// A site not in its cache slot: far (its address follows), declared before, or new.
    #[cold]
    #[inline(never)]
    fn site_missed(&mut self, word: u64, slot: usize) {
        let site = raw::site_code(word);
        if site == SITE_FAR {
            self.next = Next::FarSite;
            return;
        }
        self.site_cache[slot] = site;
        if self.near_sites.insert(site) {
            self.declare_site(raw::near_site_id(site), RingEvent::from_record(word).site());
        }
    }

    /// Writes a site's declaration (before the batch that uses it, which is written later).
    fn declare_site(&mut self, id: u32, location: &'static Location<'static>) {
        let decl = SiteDecl { id, site: Site::from_location(location) };
        debug_assert_eq!(decl.site.to_string(), site_label(location));
        self.write(|out| out.site(&decl));
    }

    /// Writes the batch once it is big enough; checked before each record that may start one.
    #[inline(always)]
    fn cut_if_full(&mut self) {
        if self.raw.len() >= BATCH_WORDS {
            self.write_batch();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::analysis::report::Mode;
    use crate::record::ring::unowned_ring;
    use crate::trace::raw::{KIND_SHIFT, SITE_SHIFT};

    /// A record of `kind` on lock 7 whose site is far: its address follows in the next word.
    fn far(kind: u8) -> u64 {
        ((SITE_FAR as i64 as u64) << SITE_SHIFT) | (u64::from(kind) << KIND_SHIFT) | 7
    }

    #[test]
    fn runs_copy_plain_records_whole_and_far_sites_as_ids() {
        let here = Location::caller();
        let (near, _) = RingEvent::acquired(7, Mode::Exclusive, here).to_words();
        let (released, _) = RingEvent::released(7, Mode::Exclusive).to_words();
        let pair = crate::record::event::pair(near);
        let address = std::ptr::from_ref(here) as u64;
        let words =
            [near, released, far(code::PAIR), address, pair, pair, pair, far(code::ACQUIRED), address, released];
        let far_id = u64::from(FAR_SITE_IDS);
        let expected_raw =
            [near, released, far(code::PAIR), far_id, pair, raw::repeat(2), far(code::ACQUIRED), far_id, released];
        let ring = unowned_ring(3);
        // Whole, and cut into runs at every point: a run may end between a record and its
        // extension, or inside a repeat.
        for cut in 0..=words.len() {
            let mut collector = Collector::writing_to(None, PathBuf::new());
            collector.take_run(&words[..cut], &ring);
            collector.take_run(&words[cut..], &ring);
            collector.end_repeats();
            assert_eq!(collector.raw, expected_raw, "cut at {cut}");
            assert_eq!(collector.batch_events, 1 + 1 + 2 + 2 * 3 + 1 + 1, "cut at {cut}");
            assert_eq!(collector.next, Next::Record);
            assert_eq!(collector.far_sites.len(), 1, "one far site, declared once");
            assert_eq!(collector.near_sites.len(), 1);
        }
    }

    #[test]
    fn a_loop_on_one_lock_is_one_record_and_a_repeat() {
        let (near, _) = RingEvent::acquired(7, Mode::Exclusive, Location::caller()).to_words();
        let pair = crate::record::event::pair(near);
        let (released, _) = RingEvent::released(7, Mode::Exclusive).to_words();
        let mut collector = Collector::writing_to(None, PathBuf::new());
        let ring = unowned_ring(3);
        // An acquisition is not repeated: its copy would not say whether a wait follows.
        let words = [[pair; 1000].as_slice(), &[near, near, released, released, released]].concat();
        collector.take_run(&words, &ring);
        collector.end_repeats();
        assert_eq!(collector.raw, [pair, raw::repeat(999), near, near, released, raw::repeat(2)]);
        assert_eq!(collector.batch_events, 2000 + 5);
    }

    #[test]
    fn a_batch_is_cut_only_before_a_record_that_starts_a_group() {
        let (near, _) = RingEvent::acquired(7, Mode::Exclusive, Location::caller()).to_words();
        let (released, _) = RingEvent::released(7, Mode::Exclusive).to_words();
        let mut collector = Collector::writing_to(None, PathBuf::new());
        let ring = unowned_ring(3);
        let words: Vec<u64> = (0..BATCH_WORDS + 10).map(|i| if i % 2 == 0 { near } else { released }).collect();
        collector.take_run(&words, &ring);
        // The first BATCH_WORDS went out as one batch (to no file), the rest wait.
        assert_eq!(collector.raw.len(), 10);
        assert_eq!(collector.batch_events, 10);
    }
}
