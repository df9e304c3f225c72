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

/// The loop the collector is folding (`trace/raw.rs`): the last `period` words of the batch
/// are a turn, and `copied` words since have repeated it.
#[derive(Clone, Copy, Default, Debug)]
pub(super) struct Looping {
    /// Plain records at the end of the batch since the last other word or repeat word: what
    /// a repeat word may span.
    pub plain: usize,
    /// The turn's length; 0: no loop.
    pub period: usize,
    pub copied: u64,
    /// Where in the turn the next record falls (`copied` modulo `period`).
    pub at: usize,
}

impl Looping {
    /// Follows the loop through the `words` that go on repeating its turn (the last
    /// `period` words of `raw`): returns how many did. Their events are counted when the
    /// loop ends, a turn at a time.
    #[inline(always)]
    fn follow(&mut self, raw: &[u64], words: &[u64]) -> usize {
        let turn = &raw[raw.len() - self.period..];
        let followed = if let [only] = turn {
            // A lock taken and released in a loop: one `Pair` word over and over.
            words.iter().take_while(|&&word| word == *only).count()
        } else {
            let mut at = self.at;
            let mut followed = 0;
            for &word in words {
                if word != turn[at] {
                    break;
                }
                followed += 1;
                // No division per word: the turn's position wraps by hand.
                at += 1;
                if at == turn.len() {
                    at = 0;
                }
            }
            self.at = at;
            followed
        };
        self.copied += followed as u64;
        followed
    }

    /// Starts a loop if `word`, a plain record, repeats one of the last few plain records and
    /// the words `ahead` of it go on repeating them for another turn. Of the turns it may
    /// begin, the one they follow furthest (a turn may hold a record twice), the shortest of
    /// those.
    #[inline(always)]
    fn start(&mut self, raw: &[u64], word: u64, ahead: &[u64]) -> bool {
        let reach = self.plain.min(raw::MAX_SPAN);
        let mut best: Option<(usize, usize)> = None;
        for back in (1..=reach).filter(|&back| raw[raw.len() - back] == word) {
            let turn = &raw[raw.len() - back..];
            // The turn from its second record on, wrapping by hand (no division per word).
            let mut at = 1 % back;
            let mut followed = 0;
            for &w in ahead.iter().take(2 * raw::MAX_SPAN) {
                if w != turn[at] {
                    break;
                }
                followed += 1;
                at += 1;
                if at == back {
                    at = 0;
                }
            }
            if best.is_none_or(|(most, _)| followed > most) {
                best = Some((followed, back));
            }
        }
        // Worth a repeat word only once the words ahead show the turn again: a loop started
        // on a record that merely recurs would cut a longer turn short.
        match best {
            Some((followed, back)) if 1 + followed >= 2 * back => {
                (self.period, self.copied, self.at) = (back, 1, 1 % back);
                true
            }
            _ => false,
        }
    }
}

/// The events a plain record holds: a pair is two.
#[inline(always)]
fn weight(word: u64) -> u64 {
    1 + u64::from(raw::kind(word) == code::PAIR)
}

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
            self.end_loop();
            self.take(word, ring);
            run = rest;
        }
    }

    /// Copies the plain records at the start of `words` that fit in the batch — releases,
    /// pairs, and acquisitions at a site already declared, which need nothing but counting —
    /// and returns how many there were. Records that go on repeating the last few plain ones
    /// (a loop, `trace/raw.rs`) are only compared and counted: a thread looping on a lock
    /// writes a word every few nanoseconds, and the collector must stay well ahead of it
    /// while sharing a core with it.
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
        let mut i = 0;
        while i < words.len() {
            if self.looping.period != 0 {
                i += self.looping.follow(&self.raw, &words[i..]);
                if i == words.len() {
                    break;
                }
                self.end_loop();
            }
            let word = words[i];
            let kind = raw::kind(word);
            if kind != code::RELEASED && kind != code::PAIR && kind != code::ACQUIRED {
                taken = i;
                break;
            }
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
            i += 1;
            if self.looping.start(&self.raw, word, &words[i..]) {
                continue;
            }
            if self.raw.len() >= BATCH_WORDS {
                taken = i - 1;
                break;
            }
            self.raw.push(word);
            self.looping.plain += 1;
            events += weight(word);
        }
        self.batch_events += events;
        taken
    }

    /// Ends the loop being folded, if any: its whole turns become a repeat word, the records
    /// of a turn it had begun are copied as they are, and their events are counted.
    #[inline(always)]
    pub(super) fn end_loop(&mut self) {
        let Looping { plain, period, copied, .. } = self.looping;
        if period == 0 {
            return;
        }
        let span = self.raw.len() - period;
        let (turns, rest) = (copied / period as u64, (copied % period as u64) as usize);
        let turn_events: u64 = self.raw[span..].iter().map(|&word| weight(word)).sum();
        let rest_events: u64 = self.raw[span..span + rest].iter().map(|&word| weight(word)).sum();
        self.batch_events += turns * turn_events + rest_events;
        let most = u64::from(raw::MAX_REPEAT);
        let mut left = turns;
        while left > 0 {
            let count = left.min(most);
            self.raw.push(raw::repeat(period, count as u32));
            left -= count;
        }
        for k in 0..rest {
            self.raw.push(self.raw[span + k]);
        }
        // A repeat word ends what the next one may span: the rest of the turn starts afresh.
        self.looping = Looping { plain: if turns > 0 { rest } else { plain + rest }, ..Looping::default() };
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
            // A far site's extension follows: no repeat word may span it.
            self.looping.plain = if raw::is_plain(word) { self.looping.plain + 1 } else { 0 };
        } else {
            self.take_other(word, ring);
        }
    }

    /// The records of every other kind: timed holds, waits and holders, failed `try_lock`s,
    /// timeouts.
    #[inline(never)]
    fn take_other(&mut self, mut word: u64, ring: &Ring) {
        // No repeat word spans past this one (nor its extension).
        self.looping.plain = 0;
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
    use crate::trace::{Chunk, Event, EventKind, TraceReader, TraceWriter};

    /// A record of `kind` on lock 7 whose site is far: its address follows in the next word.
    fn far(kind: u8) -> u64 {
        ((SITE_FAR as i64 as u64) << SITE_SHIFT) | (u64::from(kind) << KIND_SHIFT) | 7
    }

    /// The acquisition, pair and release words of lock `lock` at this function's caller.
    #[track_caller]
    fn words_of(lock: u32) -> (u64, u64, u64) {
        let (acquired, _) = RingEvent::acquired(lock, Mode::Exclusive, Location::caller()).to_words();
        let (released, _) = RingEvent::released(lock, Mode::Exclusive).to_words();
        (acquired, crate::record::event::pair(acquired), released)
    }

    /// The collector's copy of `runs`, whole (loops folded, a batch ended).
    fn collect(runs: &[&[u64]]) -> Collector {
        let mut collector = Collector::writing_to(None, PathBuf::new());
        let ring = unowned_ring(3);
        for run in runs {
            collector.take_run(run, &ring);
        }
        collector.end_loop();
        collector
    }

    /// The events a raw chunk of `words` reads back as.
    fn read(words: &[u64]) -> Vec<Event> {
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        w.raw_events(3, 0, 0, &[], words).unwrap();
        let bytes = w.into_inner();
        let Some(Ok(Chunk::Events(batch))) = TraceReader::new(&bytes[..]).unwrap().next() else { panic!("a batch") };
        batch.events().collect::<Result<_, _>>().unwrap()
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
            [near, released, far(code::PAIR), far_id, pair, raw::repeat(1, 2), far(code::ACQUIRED), far_id, released];
        // Whole, and cut into runs at every point: a run may end between a record and its
        // extension, or inside a loop.
        // A loop is folded once the words ahead show it: at a cut, it may not be.
        let unfolded = [&expected_raw[..5], &[pair, pair], &expected_raw[6..]].concat();
        for cut in 0..=words.len() {
            let collector = collect(&[&words[..cut], &words[cut..]]);
            assert!(collector.raw == expected_raw || collector.raw == unfolded, "cut at {cut}: {:x?}", collector.raw);
            if cut == 0 || cut == words.len() {
                assert_eq!(collector.raw, expected_raw);
            }
            assert_eq!(collector.batch_events, 1 + 1 + 2 + 2 * 3 + 1 + 1, "cut at {cut}");
            assert_eq!(collector.next, Next::Record);
            assert_eq!(collector.far_sites.len(), 1, "one far site, declared once");
            assert_eq!(collector.near_sites.len(), 1);
        }
    }

    #[test]
    fn a_loop_is_one_turn_and_a_repeat_word() {
        let (acquired, pair, released) = words_of(7);
        let words = [[pair; 1000].as_slice(), &[acquired, acquired, released, released, released]].concat();
        let collector = collect(&[&words]);
        // Two acquisitions in a row are not yet a loop worth a repeat word; three releases are.
        assert_eq!(collector.raw, [pair, raw::repeat(1, 999), acquired, acquired, released, raw::repeat(1, 2)]);
        assert_eq!(collector.batch_events, 2000 + 5);
        assert_eq!(read(&collector.raw), read(&words));

        // A nested pair: three records a turn, and a turn begun at the end.
        let (a_acquired, _, a_released) = words_of(1);
        let (_, b_pair, _) = words_of(2);
        let turn = [a_acquired, b_pair, a_released];
        let words = [turn.repeat(100).as_slice(), &turn[..2]].concat();
        let collector = collect(&[&words]);
        assert_eq!(collector.raw, [a_acquired, b_pair, a_released, raw::repeat(3, 99), a_acquired, b_pair]);
        assert_eq!(read(&collector.raw), read(&words));
    }

    #[test]
    fn folded_loops_read_back_as_the_records_they_fold() {
        let (a_acquired, a_pair, a_released) = words_of(1);
        let (b_acquired, b_pair, b_released) = words_of(2);
        let x = crate::trace::mode_code(Mode::Exclusive);
        let hold_sample = (u64::from(code::HOLD_SAMPLE) << KIND_SHIFT) | (u64::from(x) << raw::MODE_SHIFT) | 1;
        let wait = (u64::from(code::WAIT) << KIND_SHIFT) | 2;
        // Plain records and the other kinds that break a loop: a timed release and a
        // contended acquisition, each with its extension.
        let pieces: [&[u64]; 8] = [
            &[a_acquired],
            &[a_pair],
            &[a_released],
            &[b_acquired],
            &[b_pair],
            &[b_released],
            &[hold_sample, 300],
            &[b_acquired, wait, 4_000],
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        let (mut total_raw, mut total_words) = (0, 0);
        for round in 0..200 {
            // Loops of a few pieces, repeated, so that turns of every length occur.
            let mut words = Vec::new();
            while words.len() < 400 {
                let body: Vec<&[u64]> =
                    (0..1 + next(5)).map(|_| pieces[next(if round % 2 == 0 { 6 } else { 8 }) as usize]).collect();
                for _ in 0..1 + next(6) {
                    body.iter().for_each(|piece| words.extend_from_slice(piece));
                }
            }
            let cut = next(words.len() as u64) as usize;
            let collector = collect(&[&words[..cut], &words[cut..]]);
            assert!(collector.raw.len() <= words.len(), "round {round}");
            if round % 2 == 0 {
                (total_raw, total_words) = (total_raw + collector.raw.len(), total_words + words.len());
            }
            // The collector writes a hold's clock ticks as nanoseconds.
            let expected: Vec<Event> = read(&words)
                .into_iter()
                .map(|mut e| {
                    if let EventKind::Released { hold_ns: Some(ticks) } = &mut e.kind {
                        *ticks = collector.hold_clock.nanos(*ticks);
                    }
                    e
                })
                .collect();
            let got = read(&collector.raw);
            let first_difference = got.iter().zip(&expected).position(|(a, b)| a != b);
            assert_eq!((got.len(), first_difference), (expected.len(), None), "round {round}: {words:x?}");
        }
        // Loops of plain records, 1 to 6 turns each, keep under three quarters of their words
        // (60% when measured; a loop of two turns or fewer is not folded).
        assert!(total_raw * 4 < total_words * 3, "{total_raw} words of {total_words} kept");
    }

    #[test]
    fn loops_fold_whole_turns_even_where_a_turn_holds_a_record_twice() {
        let (a, a_pair, a_released) = words_of(1);
        let (b, b_pair, b_released) = words_of(2);
        // Loops one after the other, of three, two and one records a turn.
        let words = [[a, b_pair, a_released].repeat(4), [a_pair, b].repeat(3), [b_released].repeat(5)].concat();
        let expected =
            [a, b_pair, a_released, raw::repeat(3, 3), a_pair, b, raw::repeat(2, 2), b_released, raw::repeat(1, 4)];
        assert_eq!(collect(&[&words]).raw, expected);
        // A record twice in a turn: the loop is the whole turn, not the record repeated.
        let words = [[a, b, a, b_released].repeat(4), [a_pair, a_pair, b_pair].repeat(3)].concat();
        let expected = [a, b, a, b_released, raw::repeat(4, 3), a_pair, a_pair, b_pair, raw::repeat(3, 2)];
        assert_eq!(collect(&[&words]).raw, expected);
        assert_eq!(read(&expected), read(&words));
    }

    #[test]
    fn a_batch_is_cut_only_before_a_record_that_starts_a_group() {
        let (acquired, _, _) = words_of(7);
        // Acquisitions of ever new locks at one site: no turn repeats, nothing folds.
        let words: Vec<u64> =
            (0..BATCH_WORDS as u64 + 10).map(|lock| acquired & !u64::from(u32::MAX) | (lock + 1)).collect();
        let mut collector = Collector::writing_to(None, PathBuf::new());
        collector.take_run(&words, &unowned_ring(3));
        // The first BATCH_WORDS went out as one batch (to no file), the rest wait.
        assert_eq!(collector.raw.len(), 10);
        assert_eq!(collector.batch_events, 10);
    }
}
