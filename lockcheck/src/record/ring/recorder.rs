//! The producing side of a thread's ring: the record held back to pair with its release,
//! the sampled holds' countdown, and the writes of records and their counts when dropped.

use std::sync::atomic::Ordering;

use super::spsc::{self, Push};
use super::{Ring, Waited, GONE};
use crate::record::event::{self, Event, Kind, Record};
use crate::record::{clock, consumer, stack};

/// Stacks a ring queues for the collector before further waits go without: it bounds their
/// memory (about 2 KiB each) when the collector falls behind.
const MAX_QUEUED_STACKS: usize = 256;
/// Queued stacks that wake the collector early, so that a thread waiting often keeps its
/// stacks (a period is 100 ms: a thread can wait past the threshold thousands of times in one).
const WAKE_AT_QUEUED_STACKS: usize = 32;

/// The producing side of a thread's ring. It lives in the thread's own thread-local block
/// (`owner.rs`), so the hooks reach every field of it at a fixed offset from the thread
/// pointer: no load of its address before a push can compute where its stores go (a lock's
/// next atomic instruction waits for them).
pub(super) struct Recorder {
    /// The thread's ring while it records: the `Arc` that `owner.rs` keeps, until it closes the
    /// ring and puts [`GONE`] here. Before that, null (not started) or [`OFF`](super::OFF) (not tracing).
    ring: *const Ring,
    producer: spsc::Producer<Record>,
    /// An `Acquired` record not yet written (see [`Recorder::acquire`]), or
    /// [`NOTHING_HELD_BACK`].
    held_back: Record,
    /// Acquisitions left until the next timed hold.
    countdown: u32,
    /// `LOCKCHECK_HOLD_SAMPLE`: 0 = never, 1 = every hold.
    sample_every: u32,
    /// `LOCKCHECK_WAIT_STACKS_US` in nanoseconds; `u64::MAX`: never (stacks switched off).
    pub(super) stack_after_ns: u64,
}

/// No acquisition held back (no record is all ones: an `Acquired` record's kind bits are 0).
const NOTHING_HELD_BACK: Record = u64::MAX;

impl Recorder {
    /// A thread's recorder before its first event.
    pub(super) const UNSTARTED: Recorder = Recorder {
        ring: std::ptr::null(),
        producer: spsc::Producer::NONE,
        held_back: NOTHING_HELD_BACK,
        countdown: u32::MAX,
        sample_every: 0,
        stack_after_ns: u64::MAX,
    };

    /// A started recorder of `ring`, whose producer `producer` is, with the settings'
    /// sampling and stack threshold.
    pub(super) fn started(
        ring: *const Ring,
        producer: spsc::Producer<Record>,
        config: &crate::config::Config,
    ) -> Recorder {
        let sample_every = config.hold_sample;
        let stack_after_ns = match config.wait_stacks_us {
            0 => u64::MAX,
            _ if !stack::enabled() => u64::MAX,
            us => us.saturating_mul(1000),
        };
        Recorder {
            ring,
            producer,
            held_back: NOTHING_HELD_BACK,
            countdown: if sample_every == 0 { u32::MAX } else { sample_every },
            sample_every,
            stack_after_ns,
        }
    }

    /// The ring's address or sentinel (see [`Recorder::ring`]).
    #[inline(always)]
    pub(super) fn state(&self) -> usize {
        self.ring.addr()
    }

    /// Puts a sentinel ([`OFF`](super::OFF) or [`GONE`]) in place of the ring.
    pub(super) fn mark(&mut self, sentinel: usize) {
        self.ring = std::ptr::without_provenance(sentinel);
    }

    /// The thread's ring. Only the hooks of a started recorder call this.
    #[inline(always)]
    fn ring(&self) -> &Ring {
        debug_assert!(self.state() > GONE);
        // SAFETY: a started recorder's `ring` comes from the `Arc` its owner keeps until it
        // marks the recorder GONE (`owner::close`), and hooks reach a recorder's ring only
        // while it is started.
        unsafe { &*self.ring }
    }

    /// Writes one event, with its extension word if it has one.
    #[inline]
    pub(super) fn push(&mut self, event: Event) {
        self.publish_held_back();
        match event.to_words() {
            (word, None) => self.push_word(word),
            (word, Some(extension)) => {
                self.push_words(&[word, extension], &[event]);
            }
        }
    }

    /// Writes one word that is a whole record (one without an extension).
    #[inline(always)]
    fn push_word(&mut self, word: Record) {
        let ring = self.ring;
        // SAFETY: the ring is alive while the recorder is started (see `Recorder::ring`), and
        // `start_as` made this producer with it; they never part.
        match unsafe { self.producer.push(&(*ring).spsc, word) } {
            Push::Done => {}
            Push::Wake => consumer::wake(),
            Push::Full => self.drop_events(&[Event::from_record(word)]),
        }
    }

    /// Writes words that belong together, all or none; `events` is what they say.
    #[cold]
    fn push_words(&mut self, words: &[Record], events: &[Event]) -> bool {
        let ring = self.ring;
        // SAFETY: as in `push_word`.
        match unsafe { self.producer.push_all(&(*ring).spsc, words) } {
            Push::Done => true,
            Push::Wake => {
                consumer::wake();
                true
            }
            Push::Full => {
                self.drop_events(events);
                false
            }
        }
    }

    /// An acquisition that did not wait: held back until the thread's next event, which may
    /// be its release (see [`Recorder::release`]); the acquisition held back before it, if
    /// any, is written now.
    #[inline(always)]
    pub(super) fn acquire(&mut self, event: Event) {
        match event.to_words() {
            (word, None) => {
                let earlier = std::mem::replace(&mut self.held_back, word);
                if earlier != NOTHING_HELD_BACK {
                    self.push_word(earlier);
                }
            }
            (word, Some(extension)) => {
                self.publish_held_back();
                self.push_words(&[word, extension], &[event]);
            }
        }
    }

    /// A release: one `Pair` record with the acquisition held back, when that is this hold's.
    #[inline(always)]
    pub(super) fn release(&mut self, event: Event) {
        let (released, _) = event.to_words();
        if event::pairs_with(self.held_back, released) {
            let pair = event::pair(std::mem::replace(&mut self.held_back, NOTHING_HELD_BACK));
            self.push_word(pair);
        } else {
            self.push(event);
        }
    }

    /// Writes the acquisition held back, if any: before any other record, and whenever the
    /// ring must show everything the thread did (it is about to wait, flush or exit).
    #[inline(always)]
    pub(super) fn publish_held_back(&mut self) {
        if self.held_back != NOTHING_HELD_BACK {
            self.publish_held_back_now();
        }
    }

    #[cold]
    #[inline(never)]
    fn publish_held_back_now(&mut self) {
        let earlier = std::mem::replace(&mut self.held_back, NOTHING_HELD_BACK);
        self.push_word(earlier);
    }

    /// An acquisition (or timeout) with its wait, holder and stack: written together or
    /// dropped together.
    #[cold]
    pub(super) fn push_waited(&mut self, first: Event, waited: Waited) {
        self.publish_held_back();
        let queued = waited.stack.is_some();
        if let Some(stack) = waited.stack {
            // Queued before the record that names it is published: the ring's Release store
            // follows this lock's release, so a collector that drained the record (Acquire)
            // finds the stack when it takes the lock.
            let queued = {
                let mut stacks = self.ring().stacks.lock();
                stacks.push_back(stack);
                stacks.len()
            };
            if queued >= WAKE_AT_QUEUED_STACKS {
                consumer::wake();
            }
        }
        let wait = Event::wait(first.lock, waited.nanos, queued);
        let holder = waited.holder.map(|(tid, site)| Event::holder(tid, site));
        let (events, count) = match holder {
            Some(holder) => ([first, holder, wait], 3),
            None => ([first, wait, wait], 2),
        };
        let events = &events[..count];
        let mut words = [0; 6];
        let mut len = 0;
        for event in events {
            let (word, extension) = event.to_words();
            words[len] = word;
            len += 1;
            if let Some(extension) = extension {
                words[len] = extension;
                len += 1;
            }
        }
        if !self.push_words(&words[..len], events) && queued {
            // Ours, the last one queued: the collector pops a stack only for a record it
            // drained, and this one was never published.
            self.ring().stacks.lock().pop_back();
        }
    }

    /// Whether a long wait gets a stack: stacks on, and the collector keeping up.
    pub(super) fn wants_stack(&self) -> bool {
        self.stack_after_ns != u64::MAX && self.ring().stacks.lock().len() < MAX_QUEUED_STACKS
    }

    /// Counts a dropped event (a pair counts once) and, for an acquisition, its lock.
    #[cold]
    #[inline(never)]
    fn drop_events(&mut self, events: &[Event]) {
        if matches!(events[0].kind, Kind::Acquired | Kind::Pair) {
            let wait = events.iter().find(|e| e.kind == Kind::Wait).map(|w| w.payload);
            self.ring().overflow.count(events[0].lock, wait);
        }
        // The trace's events: a pair is an acquisition and a release.
        let lost = if events[0].kind == Kind::Pair { 2 } else { 1 };
        let dropped = self.ring().dropped.load(Ordering::Relaxed) + lost;
        // Release: pairs with the Acquire in `Ring::dropped`; publishes the overflow counts
        // written just before. Relaxed load above: this thread is the only writer.
        self.ring().dropped.store(dropped, Ordering::Release);
        consumer::wake();
    }

    /// Counts down to the next timed hold.
    #[inline]
    pub(super) fn tick(&mut self, lock: u32) {
        if self.countdown > 1 {
            self.countdown -= 1;
        } else {
            self.sample(lock);
        }
    }

    #[cold]
    #[inline(never)]
    fn sample(&mut self, lock: u32) {
        if self.sample_every == 0 {
            self.countdown = u32::MAX;
            return;
        }
        self.countdown = self.sample_every;
        let now = clock::now();
        if let Some(consumer) = consumer::attached() {
            (consumer.time_hold)(lock, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, VecDeque};
    use std::panic::Location;
    use std::sync::atomic::{AtomicBool, AtomicU64};
    use std::sync::Arc;

    use parking_lot::Mutex as RawLock;

    use super::*;
    use crate::analysis::report::Mode;
    use crate::record::ring::overflow::Overflow;
    use crate::record::ring::spsc::Spsc;
    use crate::trace::LockCounters;

    #[test]
    fn a_dropped_wait_takes_its_stack_back_out_of_the_queue() {
        let (spsc, producer) = Spsc::new(16);
        let ring = Arc::new(Ring {
            spsc,
            tid: 1,
            closed: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            overflow: Overflow::new(),
            stacks: RawLock::new(VecDeque::new()),
        });
        let mut recorder = Recorder {
            ring: Arc::as_ptr(&ring),
            producer,
            held_back: NOTHING_HELD_BACK,
            countdown: u32::MAX,
            sample_every: 0,
            stack_after_ns: 0,
        };
        let Some(stack) = stack::capture() else { return };
        // Triples (acquisition, holder, wait and its extension: four words) until the ring is
        // full: the last one is dropped.
        for _ in 0..5 {
            let waited = Waited { nanos: 50_000, holder: Some((2, Location::caller())), stack: Some(stack) };
            recorder.push_waited(Event::acquired(1, Mode::Exclusive, Location::caller()), waited);
        }
        assert!(recorder.wants_stack());
        assert_eq!(ring.dropped(), 1);
        let (mut marked, mut extension) = (0, false);
        // SAFETY: the only consumer; `end` from `published_end`.
        unsafe {
            ring.drain_runs(ring.published_end(), |run| {
                for &record in run {
                    if std::mem::take(&mut extension) {
                        continue;
                    }
                    extension = Event::needs_extension(record);
                    let e = Event::from_record(record);
                    marked += usize::from(e.kind == Kind::Wait && e.mode == crate::record::event::STACK_PENDING)
                }
            })
        };
        assert_eq!(marked, 4);
        assert_eq!(ring.stacks.lock().len(), marked, "one queued stack per published marked record");
        let mut overflow = HashMap::new();
        ring.add_overflow(&mut overflow);
        assert_eq!(overflow[&1], LockCounters { acquisitions: 1, contended: 1, wait_ns: 50_000 });
    }
}
