//! Raw events (format versions 5 and 6): the words a thread's ring holds, copied into the
//! trace as they are, and their decoding into [`Event`]s.
//!
//! The recorder writes one 64-bit word per record, and the collector copies the words to the
//! file without decoding them (it only looks at each word's kind, to declare what the words
//! name), so this layout is both the ring's and the file's:
//!
//! - bits 0–31: the lock (a `Holder` record: the holder's thread);
//! - bits 32–34: the kind ([`code`]);
//! - bits 35–37: the mode code (a `Wait` record: [`STACK_PENDING`] or 0);
//! - bits 38–63, for the kinds that have a site: the site, as a signed distance in 8-byte
//!   units from a base address of the process; [`SITE_FAR`] when it did not fit, and the
//!   next word holds it.
//!
//! `Wait` and `HoldSample` records are followed by a word with their nanoseconds. A word that
//! follows a record so is its *extension*. In the file, a near site's id is its code's low 26
//! bits ([`near_site_id`]); the collector replaces a far site's extension with the site's id
//! (at least [`FAR_SITE_IDS`]), and every site is declared before the first chunk that
//! names it. A chunk also lists the stack ids of its marked `Wait` records, in order.
//!
//! Since version 6 the collector also folds a loop: when the words it copies repeat the
//! last few *plain* records (a `Released`, or a `Pair` or `Acquired` at a near site: one
//! word each, [`is_plain`]), it writes a *repeat* word instead of the copies — kind
//! `Released` on lock 0 (no lock has id 0), bits 35–37 the span (1 to 8 records, less one),
//! bits 38–63 how many more times the span occurs. The span is the plain records right
//! before the repeat word, within the chunk and after the last non-plain word or repeat word.
//! A thread looping on one lock (a `Pair` per turn) or on a nested pair (three records per
//! turn) then costs the collector a compare per word and the file a few words per turn of
//! its hold sampling, and the collector keeps up while it shares a core with the thread.

use super::codec::Decoder;
use super::{mode_from_code, Event, EventKind, Holder, TraceError};

/// Record kinds: bits 32–34 of a word.
pub(crate) mod code {
    /// Acquired without waiting, or (followed by `HOLDER`/`WAIT`) after a wait.
    pub const ACQUIRED: u8 = 0;
    pub const RELEASED: u8 = 1;
    /// Acquired without waiting and released before the thread's next record.
    pub const PAIR: u8 = 2;
    /// Released, the hold timed: extension = nanoseconds.
    pub const HOLD_SAMPLE: u8 = 3;
    /// The wait of the record before: extension = nanoseconds.
    pub const WAIT: u8 = 4;
    /// Who held the lock when the wait began: lock field = thread, site = the holder's.
    pub const HOLDER: u8 = 5;
    pub const TRY_FAILED: u8 = 6;
    /// A timed acquisition gave up; always followed by `WAIT` (after `HOLDER`, if any).
    pub const TIMED_OUT: u8 = 7;
}

pub(crate) const KIND_SHIFT: u32 = 32;
pub(crate) const MODE_SHIFT: u32 = 35;
pub(crate) const SITE_SHIFT: u32 = 38;
const SITE_BITS: u32 = 64 - SITE_SHIFT;

/// The site field of a record whose site is too far from the base: the most negative code.
pub(crate) const SITE_FAR: i32 = -(1 << (SITE_BITS - 1));

/// The mode field of a `Wait` record whose stack the chunk lists.
pub(crate) const STACK_PENDING: u8 = 1;

/// The longest span a repeat word copies.
pub(crate) const MAX_SPAN: usize = 8;

/// The most times one repeat word copies its span (bits 38–63).
#[cfg(any(test, feature = "instrument"))]
pub(crate) const MAX_REPEAT: u32 = (1 << (64 - SITE_SHIFT)) - 1;

/// A repeat word: the `span` plain records before it occur `count` more times (`span` 1 to
/// [`MAX_SPAN`], `count` 1 to [`MAX_REPEAT`]).
#[cfg(any(test, feature = "instrument"))]
#[inline(always)]
pub(crate) fn repeat(span: usize, count: u32) -> u64 {
    debug_assert!((1..=MAX_SPAN).contains(&span) && (1..=MAX_REPEAT).contains(&count));
    u64::from(code::RELEASED) << KIND_SHIFT | ((span as u64 - 1) << MODE_SHIFT) | u64::from(count) << SITE_SHIFT
}

/// The span and count of a word, if it is a repeat word.
#[inline(always)]
pub(crate) fn repeat_of(word: u64) -> Option<(usize, u32)> {
    (word as u32 == 0 && kind(word) == code::RELEASED)
        .then(|| (usize::from(mode(word)) + 1, (word >> SITE_SHIFT) as u32))
}

/// Whether a word is a plain record: one word that says all its record says (a release, or a
/// pair or acquisition at a near site), which a repeat word may copy.
#[inline(always)]
pub(crate) fn is_plain(word: u64) -> bool {
    match kind(word) {
        code::RELEASED => word as u32 != 0,
        code::PAIR | code::ACQUIRED => site_code(word) != SITE_FAR,
        _ => false,
    }
}

/// The first id of a far site; near sites' ids are below it.
pub(crate) const FAR_SITE_IDS: u32 = 1 << SITE_BITS;

/// The kind bits of a word.
#[inline(always)]
pub(crate) fn kind(word: u64) -> u8 {
    ((word >> KIND_SHIFT) & 7) as u8
}

/// The mode bits of a word.
#[inline(always)]
pub(crate) fn mode(word: u64) -> u8 {
    ((word >> MODE_SHIFT) & 7) as u8
}

/// The site code of a word whose kind has a site.
#[inline(always)]
pub(crate) fn site_code(word: u64) -> i32 {
    (word as i64 >> SITE_SHIFT) as i32
}

/// Whether records of kind `kind` name a site.
#[cfg(any(test, feature = "instrument"))]
#[inline(always)]
pub(crate) fn has_site(kind: u8) -> bool {
    matches!(kind, code::ACQUIRED | code::PAIR | code::HOLDER | code::TRY_FAILED | code::TIMED_OUT)
}

/// The trace's id of a near site code.
#[inline(always)]
pub(crate) fn near_site_id(code: i32) -> u32 {
    code as u32 & (FAR_SITE_IDS - 1)
}

/// What the `Holder` and `Wait` records after an acquisition or timeout say: the wait's
/// nanoseconds (`None`: no wait followed), its stack and its holder.
type Waited = (Option<u64>, Option<u32>, Option<Holder>);

/// Decodes the raw words of one chunk.
pub(crate) struct RawEvents<'a> {
    pub(crate) d: Decoder<'a>,
    /// The stack ids of the marked `Wait` records, in order.
    pub(crate) stacks: std::vec::IntoIter<u32>,
    /// The release of a `Pair` record, yielded after its acquisition.
    pub(crate) pair_release: Option<(u32, u8)>,
    /// The plain records read since the last other word or repeat word, the last
    /// [`MAX_SPAN`] of them (a repeat word's span is among them).
    pub(crate) recent: Recent,
    /// The span a repeat word asked for, and how many of its copies' records are still to come.
    pub(crate) span: Recent,
    pub(crate) copies_left: u64,
}

/// The last plain records read, up to [`MAX_SPAN`].
#[derive(Clone, Copy, Default)]
pub(crate) struct Recent {
    words: [u64; MAX_SPAN],
    len: usize,
}

impl Recent {
    fn push(&mut self, word: u64) {
        if self.len == MAX_SPAN {
            self.words.copy_within(1.., 0);
            self.len -= 1;
        }
        self.words[self.len] = word;
        self.len += 1;
    }

    /// The last `span` records, if there are that many.
    fn last(&self, span: usize) -> Option<Recent> {
        let from = self.len.checked_sub(span)?;
        let mut last = Recent::default();
        last.words[..span].copy_from_slice(&self.words[from..self.len]);
        last.len = span;
        Some(last)
    }
}

impl RawEvents<'_> {
    fn word(&mut self) -> Result<u64, TraceError> {
        let bytes = self.d.bytes(8)?;
        Ok(u64::from_le_bytes(bytes.try_into().expect("eight bytes")))
    }

    fn peek_kind(&self) -> Option<u8> {
        self.d.peek(8).map(|bytes| kind(u64::from_le_bytes(bytes.try_into().expect("eight bytes"))))
    }

    /// The site id of a record with a site, reading its extension if it has one.
    fn site(&mut self, word: u64) -> Result<u32, TraceError> {
        match site_code(word) {
            SITE_FAR => {
                let id = self.word()?;
                u32::try_from(id).ok().filter(|&id| id >= FAR_SITE_IDS).ok_or_else(|| self.d.corrupt("bad far site id"))
            }
            code => Ok(near_site_id(code)),
        }
    }

    /// The `Holder` and `Wait` records after an acquisition or timeout, if they follow.
    fn wait(&mut self) -> Result<Waited, TraceError> {
        if self.copies_left > 0 {
            // A copy that another copy follows: nothing waited between them.
            return Ok((None, None, None));
        }
        let holder = if self.peek_kind() == Some(code::HOLDER) {
            let word = self.word()?;
            Some(Holder { thread: word as u32, site: self.site(word)? })
        } else {
            None
        };
        if self.peek_kind() != Some(code::WAIT) {
            return match holder {
                None => Ok((None, None, None)),
                Some(_) => Err(self.d.corrupt("a holder without its wait")),
            };
        }
        let word = self.word()?;
        let nanos = self.word()?;
        let stack = if mode(word) == STACK_PENDING { self.stacks.next() } else { None };
        Ok((Some(nanos), stack, holder))
    }

    /// The next record of the copies a repeat word asked for, if any is left.
    fn copied(&mut self) -> Option<u64> {
        if self.copies_left == 0 {
            return None;
        }
        let at = (self.copies_left - 1) as usize % self.span.len;
        self.copies_left -= 1;
        // Counted down, so the span's records come in order: the first has the highest rest.
        Some(self.span.words[self.span.len - 1 - at])
    }

    /// The next event; `Ok(None)` at the end of the chunk.
    pub(crate) fn next_event(&mut self, thread: u32) -> Result<Option<Event>, TraceError> {
        if let Some((lock, mode)) = self.pair_release.take() {
            let mode = mode_from_code(mode).ok_or_else(|| self.d.corrupt("unknown lock mode in an event"))?;
            return Ok(Some(Event { thread, lock, mode, kind: EventKind::Released { hold_ns: None } }));
        }
        loop {
            let word = match self.copied() {
                Some(word) => word,
                None if self.d.is_empty() => return Ok(None),
                None => {
                    let word = self.word()?;
                    if let Some((span, count)) = repeat_of(word) {
                        match self.recent.last(span) {
                            Some(last) if count > 0 => {
                                (self.span, self.copies_left) = (last, span as u64 * u64::from(count));
                                self.recent = Recent::default();
                            }
                            _ => return Err(self.d.corrupt("a repeat word without the records it repeats")),
                        }
                        continue;
                    }
                    if is_plain(word) {
                        self.recent.push(word);
                    } else {
                        self.recent = Recent::default();
                    }
                    word
                }
            };
            let lock = word as u32;
            let kind = match self::kind(word) {
                code::ACQUIRED => {
                    let site = self.site(word)?;
                    let (wait_ns, stack, holder) = self.wait()?;
                    EventKind::Acquired { site, wait_ns, stack, holder }
                }
                code::PAIR => {
                    self.pair_release = Some((lock, mode(word)));
                    EventKind::Acquired { site: self.site(word)?, wait_ns: None, stack: None, holder: None }
                }
                code::RELEASED => EventKind::Released { hold_ns: None },
                code::HOLD_SAMPLE => EventKind::Released { hold_ns: Some(self.word()?) },
                code::TRY_FAILED => EventKind::TryFailed { site: self.site(word)? },
                code::TIMED_OUT => {
                    let site = self.site(word)?;
                    match self.wait()? {
                        (Some(wait_ns), stack, holder) => EventKind::TimedOut { site, wait_ns, stack, holder },
                        (None, ..) => return Err(self.d.corrupt("a timeout without its wait")),
                    }
                }
                // A holder or wait with nothing before it to qualify (its acquisition was
                // dropped): skipped, its stack id consumed so the list stays in step.
                code::HOLDER => {
                    self.site(word)?;
                    continue;
                }
                _ => {
                    self.word()?;
                    if mode(word) == STACK_PENDING {
                        self.stacks.next();
                    }
                    continue;
                }
            };
            let mode = mode_from_code(mode(word)).ok_or_else(|| self.d.corrupt("unknown lock mode in an event"))?;
            return Ok(Some(Event { thread, lock, mode, kind }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::report::Mode;
    use crate::trace::{mode_code, Chunk, TraceReader, TraceWriter};

    /// A record word: `site` is a code for the kinds that have one.
    fn word(kind: u8, lock: u32, mode: u8, site: i32) -> u64 {
        let site = if has_site(kind) { (site as u64) << SITE_SHIFT } else { 0 };
        u64::from(lock) | u64::from(kind) << KIND_SHIFT | u64::from(mode) << MODE_SHIFT | site
    }

    /// The events a raw chunk of `words` (and `stacks`) reads back as, or the first error.
    fn read(words: &[u64], stacks: &[u32]) -> Result<Vec<Event>, TraceError> {
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        w.raw_events(4, 0, 0, stacks, words).unwrap();
        let bytes = w.into_inner();
        let Some(Ok(Chunk::Events(batch))) = TraceReader::new(&bytes[..]).unwrap().next() else { panic!("a batch") };
        batch.events().collect()
    }

    fn event(lock: u32, mode: Mode, kind: EventKind) -> Event {
        Event { thread: 4, lock, mode, kind }
    }

    #[test]
    fn every_record_kind_reads_back_as_its_events() {
        let x = mode_code(Mode::Exclusive);
        let s = mode_code(Mode::Shared);
        let far = u64::from(FAR_SITE_IDS + 2);
        let words = [
            word(code::PAIR, 1, s, -5),
            word(code::ACQUIRED, 2, x, 7),
            word(code::HOLD_SAMPLE, 2, x, 0),
            900,
            // Contended: holder at a far site, then the wait with its stack.
            word(code::ACQUIRED, 3, x, 8),
            word(code::HOLDER, 9, 0, SITE_FAR),
            far,
            word(code::WAIT, 3, STACK_PENDING, 0),
            40_000,
            word(code::RELEASED, 3, x, 0),
            word(code::TRY_FAILED, 1, s, SITE_FAR),
            far,
            word(code::TIMED_OUT, 2, x, 7),
            word(code::WAIT, 2, 0, 0),
            u64::MAX,
            // A wait whose acquisition was dropped: skipped, its stack id too.
            word(code::WAIT, 5, STACK_PENDING, 0),
            1,
            word(code::ACQUIRED, 6, x, 1),
            word(code::WAIT, 6, STACK_PENDING, 0),
            2,
        ];
        let acquired = |site, wait_ns, stack, holder| EventKind::Acquired { site, wait_ns, stack, holder };
        let far_id = FAR_SITE_IDS + 2;
        let expected = vec![
            event(1, Mode::Shared, acquired(near_site_id(-5), None, None, None)),
            event(1, Mode::Shared, EventKind::Released { hold_ns: None }),
            event(2, Mode::Exclusive, acquired(7, None, None, None)),
            event(2, Mode::Exclusive, EventKind::Released { hold_ns: Some(900) }),
            event(3, Mode::Exclusive, acquired(8, Some(40_000), Some(11), Some(Holder { thread: 9, site: far_id }))),
            event(3, Mode::Exclusive, EventKind::Released { hold_ns: None }),
            event(1, Mode::Shared, EventKind::TryFailed { site: far_id }),
            event(2, Mode::Exclusive, EventKind::TimedOut { site: 7, wait_ns: u64::MAX, stack: None, holder: None }),
            event(6, Mode::Exclusive, acquired(1, Some(2), Some(13), None)),
        ];
        assert_eq!(read(&words, &[11, 12, 13]).unwrap(), expected);
        assert!(near_site_id(-5) < FAR_SITE_IDS && near_site_id(-5) != near_site_id(5));
    }

    #[test]
    fn a_repeat_word_copies_the_records_before_it() {
        let x = mode_code(Mode::Exclusive);
        let pair = word(code::PAIR, 1, x, 3);
        let acquired = word(code::ACQUIRED, 2, x, 3);
        let released = word(code::RELEASED, 2, x, 0);
        // One pair, repeated twice, then again once (a count past MAX_REPEAT continues so);
        // then a nested turn whose last copy's acquisition takes the wait after the repeat.
        let words =
            [pair, repeat(1, 2), pair, repeat(1, 1), acquired, released, repeat(2, 2), word(code::WAIT, 2, 0, 0), 77];
        let acq = |lock, wait_ns| {
            event(lock, Mode::Exclusive, EventKind::Acquired { site: 3, wait_ns, stack: None, holder: None })
        };
        let rel = |lock| event(lock, Mode::Exclusive, EventKind::Released { hold_ns: None });
        let mut expected = Vec::new();
        for _ in 0..5 {
            expected.extend([acq(1, None), rel(1)]);
        }
        for _ in 0..3 {
            expected.extend([acq(2, None), rel(2)]);
        }
        assert_eq!(read(&words, &[]).unwrap(), expected);
        let waited = [acquired, repeat(1, 2), word(code::WAIT, 2, 0, 0), 77];
        assert_eq!(read(&waited, &[]).unwrap(), [acq(2, None), acq(2, None), acq(2, Some(77))]);
        assert_eq!(repeat_of(repeat(MAX_SPAN, MAX_REPEAT)), Some((MAX_SPAN, MAX_REPEAT)));
        assert_eq!(repeat_of(released), None);
    }

    #[test]
    fn damaged_raw_events_are_errors() {
        let x = mode_code(Mode::Exclusive);
        let cases: [&[u64]; 9] = [
            // A repeat with nothing before it, spanning more than there is, after a far
            // site's pair, or of no copies.
            &[repeat(1, 1)],
            &[word(code::PAIR, 1, x, 0), repeat(2, 1)],
            &[word(code::PAIR, 1, x, SITE_FAR), u64::from(FAR_SITE_IDS), repeat(1, 1)],
            &[word(code::RELEASED, 1, x, 0), 0x1_0000_0000],
            // An extension missing at the end.
            &[word(code::HOLD_SAMPLE, 1, x, 0)],
            // A holder without its wait, a timeout without its wait.
            &[word(code::ACQUIRED, 1, x, 0), word(code::HOLDER, 2, 0, 0)],
            &[word(code::TIMED_OUT, 1, x, 0)],
            // A far site id among the near ones; a mode no lock has.
            &[word(code::ACQUIRED, 1, x, SITE_FAR), 3],
            &[word(code::RELEASED, 1, 7, 0)],
        ];
        for words in cases {
            assert!(read(words, &[]).is_err(), "{words:x?}");
        }
        // Bytes that are not whole words.
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        w.raw_events(4, 0, 0, &[], &[1]).unwrap();
        let mut bytes = w.into_inner();
        // Drop the last byte of the payload and fix up the frame: length and checksum.
        bytes.pop();
        let payload_at = bytes.len() - (bytes.len() - 12 - 9);
        let len = (bytes.len() - payload_at) as u32;
        bytes[13..17].copy_from_slice(&len.to_le_bytes());
        let sum = crate::trace::codec::checksum(crate::trace::VERSION, &bytes[payload_at..]);
        bytes[17..21].copy_from_slice(&sum.to_le_bytes());
        assert!(matches!(TraceReader::new(&bytes[..]).unwrap().next(), Some(Err(_))));
    }
}
