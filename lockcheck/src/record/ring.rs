//! Per-thread event recording: the hooks the acquisition protocol (`check.rs`) calls, each
//! thread's ring, and the process-wide list of rings the collector drains.
//!
//! A thread's first lock event allocates its ring (cold) and registers it; from then on an
//! event is an 8-byte record (`event.rs`) written into the thread's own ring and one
//! `Release` store (`ring/spsc.rs`): no lock, no allocation, no clock read, no write to a
//! line another thread writes. An acquisition that did not wait is held back in the
//! recorder until the thread's next event: when that is its release, the two are one `Pair`
//! record, so a lock and unlock with nothing recorded in between (nearly every hold of a busy
//! loop) costs one record. The held-back record is written before any other, and before the
//! thread waits, flushes or exits, so the ring lags the thread by at most one acquisition it
//! still holds. Hold times are sampled: a per-thread countdown times one uncontended hold in
//! `LOCKCHECK_HOLD_SAMPLE` (default 64), so the hold clock (`clock.rs`: 11 ns a read here,
//! more than the rest of the record) is read on 1 acquisition in 64; contended acquisitions
//! carry the wait that `check.rs` measured anyway. The ring's memory is allocated, not
//! written, so a thread commits only what it records; its first lap around the ring takes a
//! page fault every 512 records (about 3.6 ns a record in the `peers` bench). Having the
//! collector map a busy thread's pages ahead of it (`MADV_POPULATE_WRITE`) hid that in the
//! bench, but cost quick_cache's test suite, whose tests start many busy threads, 35% more
//! time traced (70.9 s against 52.5 s): pages mapped and never used, on a core the tests
//! needed.
//!
//! A contended wait may also carry who held the lock (a third record) and, when it lasted
//! `LOCKCHECK_WAIT_STACKS_US` or more, where the thread waited: a stack, captured by the
//! thread that waited anyway and queued beside the ring (records are fixed-size; a stack is
//! not), for the collector to write as code addresses.
//!
//! A full ring drops the event and counts it; acquisitions whose events were dropped are
//! still counted exactly, per lock, in the ring's overflow table. Without `LOCKCHECK_TRACE`
//! nothing is recorded: the hooks see the thread's "off" marker and return.

mod owner;
mod spsc;

use std::collections::{HashMap, VecDeque};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex as RawLock;

use super::{clock, consumer};
use crate::analysis::report::Mode;
use crate::record::event::{self, Event, Kind, Record};
use crate::record::stack::{self, RawStack};
use crate::trace::{LockCounters, OwnTime};
use owner::{GONE, OFF};
use spsc::{Push, Spsc};

/// One thread's ring and what the collector needs to know beside its records.
pub(crate) struct Ring {
    spsc: Spsc<Record>,
    /// The thread's lockcheck id (0 when it could not register).
    pub tid: u32,
    /// Set by the thread's destructor: nothing more will be pushed.
    closed: AtomicBool,
    /// Events dropped because the ring was full. Written by the producer only.
    dropped: AtomicU64,
    /// Exact counts of the acquisitions whose events were dropped.
    overflow: Overflow,
    /// The stacks of the `Wait` records marked
    /// [`STACK_PENDING`](crate::record::event::STACK_PENDING), in record order. Only long contended
    /// waits touch it (the producer pushes before publishing the record, the collector pops
    /// after draining it), so its lock is taken only where the thread blocked anyway.
    stacks: RawLock<VecDeque<RawStack>>,
}

impl Ring {
    /// Whether the thread has exited; when `true`, a following drain empties the ring for good.
    pub fn closed(&self) -> bool {
        // Acquire: pairs with the Release store in `owner::close`; every record and count the
        // thread wrote is visible once this reads `true`.
        self.closed.load(Ordering::Acquire)
    }

    /// Events dropped so far.
    pub fn dropped(&self) -> u64 {
        // Acquire: pairs with the Release store in `Recorder::drop_events`, which follows the
        // overflow counts of the same events: read this first, then `add_overflow`.
        self.dropped.load(Ordering::Acquire)
    }

    /// Adds the exact counts of dropped acquisitions into `into`.
    pub fn add_overflow(&self, into: &mut HashMap<u32, LockCounters>) {
        self.overflow.add_to(into);
    }

    /// The stack of the next `Wait` record marked `STACK_PENDING`, drained just now.
    pub fn take_stack(&self) -> Option<RawStack> {
        self.stacks.lock().pop_front()
    }

    /// The end of what the thread has published so far.
    pub fn published_end(&self) -> usize {
        self.spsc.published_end()
    }

    /// Hands the records up to `end` to `f`, in runs as the ring holds them (see
    /// [`Event::from_record`] and [`Spsc::drain_runs`]), and frees their slots.
    ///
    /// # Safety
    ///
    /// As [`Spsc::drain_runs`]: one consumer at a time, `end` from [`Ring::published_end`].
    #[inline(always)]
    pub unsafe fn drain_runs(&self, end: usize, f: impl FnMut(&[Record])) {
        // SAFETY: forwarded from this function's contract.
        unsafe { self.spsc.drain_runs(end, f) };
    }
}

/// An empty ring of thread `tid` that no thread writes, for the collector's tests.
#[cfg(test)]
pub(crate) fn unowned_ring(tid: u32) -> Ring {
    let (spsc, _) = Spsc::new(2);
    Ring {
        spsc,
        tid,
        closed: AtomicBool::new(false),
        dropped: AtomicU64::new(0),
        overflow: Overflow::new(),
        stacks: RawLock::new(VecDeque::new()),
    }
}

/// Stacks a ring queues for the collector before further waits go without: it bounds their
/// memory (about 2 KiB each) when the collector falls behind.
const MAX_QUEUED_STACKS: usize = 256;
/// Queued stacks that wake the collector early, so that a thread waiting often keeps its
/// stacks (a period is 100 ms: a thread can wait past the threshold thousands of times in one).
const WAKE_AT_QUEUED_STACKS: usize = 32;

/// What a contended wait tells the recorder beyond the acquisition itself.
pub(crate) struct Waited {
    /// How long the thread waited, in nanoseconds.
    pub nanos: u64,
    /// The exclusive owner when the wait began: its thread and where it took the lock.
    pub holder: Option<(u32, &'static Location<'static>)>,
    /// Where the thread waited, when the wait was long enough (see [`wait_stack_after`]).
    pub stack: Option<RawStack>,
}

/// Slots in a ring's overflow table before it spills into a locked map.
const OVERFLOW_SLOTS: usize = 16;

/// Exact per-lock counts of dropped acquisitions. The producer is the only writer of the
/// slots, so it updates them with plain loads and stores (no read-modify-write); the collector
/// reads them. A lock that finds no slot goes to `spill`, behind a lock (rare: it takes more
/// than 16 distinct locks overflowing one thread's ring).
struct Overflow {
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
    fn new() -> Overflow {
        Overflow { slots: Default::default(), spill: RawLock::new(HashMap::new()) }
    }

    /// Counts one dropped acquisition (producer only).
    fn count(&self, lock: u32, wait_ns: Option<u64>) {
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

    fn add_to(&self, into: &mut HashMap<u32, LockCounters>) {
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

/// The producing side of a thread's ring. It lives in the thread's own thread-local block
/// (`owner.rs`), so the hooks reach every field of it at a fixed offset from the thread
/// pointer: no load of its address before a push can compute where its stores go (a lock's
/// next atomic instruction waits for them).
pub(super) struct Recorder {
    /// The thread's ring while it records: the `Arc` that `owner.rs` keeps, until it closes the
    /// ring and puts [`GONE`] here. Before that, null (not started) or [`OFF`] (not tracing).
    ring: *const Ring,
    producer: spsc::Producer,
    /// An `Acquired` record not yet written (see [`Recorder::acquire`]), or
    /// [`NOTHING_HELD_BACK`].
    held_back: Record,
    /// Acquisitions left until the next timed hold.
    countdown: u32,
    /// `LOCKCHECK_HOLD_SAMPLE`: 0 = never, 1 = every hold.
    sample_every: u32,
    /// `LOCKCHECK_WAIT_STACKS_US` in nanoseconds; `u64::MAX`: never (stacks switched off).
    stack_after_ns: u64,
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

    /// The ring's address or sentinel (see [`Recorder::ring`]).
    #[inline(always)]
    pub(super) fn state(&self) -> usize {
        self.ring.addr()
    }

    /// Puts a sentinel ([`OFF`] or [`GONE`]) in place of the ring.
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
    fn push(&mut self, event: Event) {
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
    fn acquire(&mut self, event: Event) {
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
    fn release(&mut self, event: Event) {
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
    fn publish_held_back(&mut self) {
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
    fn push_waited(&mut self, first: Event, waited: Waited) {
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
    fn wants_stack(&self) -> bool {
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
    fn tick(&mut self, lock: u32) {
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

/// Runs `record` on this thread's recorder, creating it on the thread's first event; `gone`
/// runs instead for events after the thread's destructors (they are counted as dropped).
#[inline(always)]
fn with_recorder(record: impl FnOnce(&mut Recorder), gone: impl FnOnce()) {
    let recorder = owner::recorder();
    match owner::state() {
        // Not recording at all is the commonest case, and the cheapest to rule out.
        OFF => return,
        GONE => return gone(),
        // Not tracing, or too late in the thread's life to start (then it is gone).
        0 if !start() => {
            return if owner::state() == GONE {
                gone()
            }
        }
        _ => {}
    }
    // SAFETY: this thread's recorder, in its own thread-local block; only this thread reaches
    // it and the hooks never re-enter one another, so the borrow is unique.
    record(unsafe { &mut *recorder });
}

/// Starts recording on the calling thread as thread `tid`, if recording is on and it has not
/// started yet. The runtime calls this when a thread registers, at its first lock and before
/// it holds one, so that making the ring is never paid inside a critical section.
#[cold]
pub(crate) fn start_thread(tid: u32) {
    if owner::state() == 0 {
        start_as(tid);
    }
}

/// Creates and registers this thread's ring, or marks the thread as not recording: for a
/// thread whose first event came before it registered. Whether it records.
#[cold]
#[inline(never)]
fn start() -> bool {
    let tid = consumer::attached().map_or(0, |consumer| (consumer.thread_id)());
    // Registering the thread (just now, through `thread_id`) starts its recorder.
    match owner::state() {
        0 => start_as(tid),
        state => state > GONE,
    }
}

/// Creates and registers this thread's ring as thread `tid`, or marks the thread as not
/// recording. Whether it records.
fn start_as(tid: u32) -> bool {
    if consumer::attached().is_none() {
        owner::mark(OFF);
        return false;
    }
    let config = crate::config::get();
    let (spsc, producer) = Spsc::new(config.ring_capacity);
    let ring = Arc::new(Ring {
        spsc,
        tid,
        closed: AtomicBool::new(false),
        dropped: AtomicU64::new(0),
        overflow: Overflow::new(),
        stacks: RawLock::new(VecDeque::new()),
    });
    let sample_every = config.hold_sample;
    let countdown = if sample_every == 0 { u32::MAX } else { sample_every };
    let stack_after_ns = match config.wait_stacks_us {
        0 => u64::MAX,
        _ if !stack::enabled() => u64::MAX,
        us => us.saturating_mul(1000),
    };
    let recorder = Recorder {
        ring: Arc::as_ptr(&ring),
        producer,
        held_back: NOTHING_HELD_BACK,
        countdown,
        sample_every,
        stack_after_ns,
    };
    if !owner::adopt(recorder, Arc::clone(&ring)) {
        return false;
    }
    RINGS.lock().push(ring);
    true
}

/// What the hot hooks find of this thread's recorder.
enum Found<'a> {
    /// Recording.
    Started(&'a mut Recorder),
    /// Not recording: nothing to do.
    Off,
    /// Not started yet, or gone: the hook's out-of-line path decides.
    Otherwise,
}

/// This thread's recorder: the hot hooks' path, written out so that it inlines whole into
/// the lock's method (through `with_recorder`, the compiler kept the record's closure out of
/// line: a call and five saved registers per event).
#[inline(always)]
fn find_recorder<'a>() -> Found<'a> {
    match owner::state() {
        // First: a process without a trace asks on every lock and unlock, and one compare
        // settles it (`peers` untraced uncontended 7.39 -> 7.26 ns, medians of 7 runs); a
        // recording thread pays a compare more, not measurably.
        OFF => Found::Off,
        // SAFETY: as in `with_recorder`: this thread's recorder, borrowed by one hook at a
        // time.
        state if state > GONE => Found::Started(unsafe { &mut *owner::recorder() }),
        _ => Found::Otherwise,
    }
}

/// A lock was acquired without waiting.
#[inline(always)]
pub(crate) fn acquired(lock: u32, mode: Mode, site: &'static Location<'static>) {
    match find_recorder() {
        Found::Started(r) => {
            r.acquire(Event::acquired(lock, mode, site));
            r.tick(lock);
        }
        Found::Off => {}
        Found::Otherwise => acquired_unstarted(lock, mode, site),
    }
}

/// [`acquired`] on a thread whose recorder is not started, off or gone.
#[cold]
#[inline(never)]
fn acquired_unstarted(lock: u32, mode: Mode, site: &'static Location<'static>) {
    with_recorder(
        |r| {
            r.acquire(Event::acquired(lock, mode, site));
            r.tick(lock);
        },
        || late(Some((lock, None))),
    );
}

/// A lock was acquired after a contended wait.
#[cold]
pub(crate) fn acquired_after_wait(lock: u32, mode: Mode, site: &'static Location<'static>, waited: Waited) {
    let nanos = waited.nanos;
    with_recorder(
        |r| {
            r.push_waited(Event::acquired(lock, mode, site), waited);
            r.tick(lock);
        },
        || late(Some((lock, Some(nanos)))),
    );
}

/// How long a contended wait must last before the waiting thread takes its stack for the
/// trace (`LOCKCHECK_WAIT_STACKS_US`); `None` when this thread records no trace, stacks are
/// off, or the collector has too many queued already. The waiter takes it while still
/// blocked (see `watchdog::wait`), so the stack costs the wait, not the hold that follows.
#[cold]
#[inline(never)]
pub(crate) fn wait_stack_after() -> Option<Duration> {
    let mut after = None;
    with_recorder(
        |r| {
            // The thread may wait long, or for ever: its acquisitions must be in the ring.
            r.publish_held_back();
            after = r.wants_stack().then(|| Duration::from_nanos(r.stack_after_ns));
        },
        || {},
    );
    after
}

/// Writes this thread's held-back acquisition, if any, so that a flush sees every event the
/// calling thread recorded.
#[cold]
pub(crate) fn publish_own() {
    if owner::state() > GONE {
        // SAFETY: as in `with_recorder`; called outside every other hook of this thread.
        unsafe { &mut *owner::recorder() }.publish_held_back();
    }
}

/// Stacks taken inside recorded waits, and their nanoseconds in all (see [`own_time`]).
static OWN_WAIT_STACKS: AtomicU64 = AtomicU64::new(0);
static OWN_WAIT_STACK_NS: AtomicU64 = AtomicU64::new(0);

/// Counts a stack a waiting thread took for the trace, and how long it took: lockcheck's own
/// time inside that wait.
#[cold]
pub(crate) fn own_wait_stack(nanos: u64) {
    // Relaxed: totals read at snapshots; nothing is published with them.
    OWN_WAIT_STACKS.fetch_add(1, Ordering::Relaxed);
    OWN_WAIT_STACK_NS.fetch_add(nanos, Ordering::Relaxed);
}

/// lockcheck's own time inside the waits recorded so far.
pub(crate) fn own_time() -> OwnTime {
    // Relaxed: see `own_wait_stack`; the two may be a stack apart, which a snapshot allows.
    OwnTime {
        wait_stacks: OWN_WAIT_STACKS.load(Ordering::Relaxed),
        wait_stack_ns: OWN_WAIT_STACK_NS.load(Ordering::Relaxed),
    }
}

/// A held lock was released.
#[inline(always)]
pub(crate) fn released(lock: u32, mode: Mode, hold_start: u64) {
    match find_recorder() {
        Found::Started(r) if hold_start == 0 => r.release(Event::released(lock, mode)),
        Found::Off => {}
        _ => released_otherwise(lock, mode, hold_start),
    }
}

/// [`released`] for a timed hold, or on a thread whose recorder is not started, off or gone.
#[cold]
#[inline(never)]
fn released_otherwise(lock: u32, mode: Mode, hold_start: u64) {
    with_recorder(
        |r| match hold_start {
            0 => r.release(Event::released(lock, mode)),
            // In clock ticks: the collector scales them (`clock.rs`).
            start => r.push(Event::hold_sample(lock, mode, clock::now().saturating_sub(start))),
        },
        || late(None),
    );
}

/// A `try_lock` failed.
#[inline]
pub(crate) fn try_failed(lock: u32, mode: Mode, site: &'static Location<'static>) {
    with_recorder(|r| r.push(Event::try_failed(lock, mode, site)), || late(None));
}

/// A timed acquisition gave up after waiting.
#[inline]
pub(crate) fn timed_out(lock: u32, mode: Mode, site: &'static Location<'static>, waited: Waited) {
    with_recorder(|r| r.push_waited(Event::timed_out(lock, mode, site), waited), || late(None));
}

/// Every registered ring; a ring leaves once the collector drained it after its thread exited.
static RINGS: RawLock<Vec<Arc<Ring>>> = RawLock::new(Vec::new());

/// Events dropped by rings the collector has freed, and by threads past their destructors.
static RETIRED_DROPPED: AtomicU64 = AtomicU64::new(0);

/// Exact counts of acquisitions made after their thread's destructors ran.
static LATE: RawLock<Option<HashMap<u32, LockCounters>>> = RawLock::new(None);

/// Counts an event that came after its thread's recorder was gone: dropped, but its
/// acquisition (if any) still counted.
#[cold]
#[inline(never)]
fn late(acquisition: Option<(u32, Option<u64>)>) {
    if let Some((lock, wait)) = acquisition {
        let mut late = LATE.lock();
        late.get_or_insert_with(HashMap::new).entry(lock).or_default().add(&LockCounters {
            acquisitions: 1,
            contended: u64::from(wait.is_some()),
            wait_ns: wait.unwrap_or(0),
        });
    }
    // Relaxed: a statistic; readers that need it complete run after the threads finished.
    LATE_DROPPED.fetch_add(1, Ordering::Relaxed);
}

/// Events of threads past their destructors (reported as thread 0).
static LATE_DROPPED: AtomicU64 = AtomicU64::new(0);

/// A snapshot of the registered rings.
pub(crate) fn rings() -> Vec<Arc<Ring>> {
    RINGS.lock().clone()
}

/// Unregisters a closed, drained ring; its dropped count moves to the retired total.
pub(crate) fn retire(ring: &Arc<Ring>) {
    let mut rings = RINGS.lock();
    rings.retain(|r| !Arc::ptr_eq(r, ring));
    // Relaxed: read under the same lock in `events_lost`, which orders the two.
    RETIRED_DROPPED.fetch_add(ring.dropped(), Ordering::Relaxed);
}

/// Events dropped after their thread's destructors, and their exact acquisition counts.
pub(crate) fn late_counts(into: &mut HashMap<u32, LockCounters>) -> u64 {
    if let Some(late) = LATE.lock().as_ref() {
        for (&lock, c) in late {
            into.entry(lock).or_default().add(c);
        }
    }
    // Relaxed: see `late`.
    LATE_DROPPED.load(Ordering::Relaxed)
}

/// Every event dropped so far in this process.
pub(crate) fn events_lost() -> u64 {
    let rings = RINGS.lock();
    let live: u64 = rings.iter().map(|r| r.dropped()).sum();
    // Relaxed: see `retire` and `late`.
    live + RETIRED_DROPPED.load(Ordering::Relaxed) + LATE_DROPPED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

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
