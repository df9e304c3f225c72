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

mod overflow;
mod owner;
mod recorder;
mod spsc;

use std::collections::{HashMap, VecDeque};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex as RawLock;

use super::{clock, consumer};
use crate::analysis::report::Mode;
use crate::record::event::{Event, Record};
use crate::record::stack::RawStack;
use crate::trace::{LockCounters, OwnTime};
use overflow::Overflow;
use owner::{GONE, OFF};
use recorder::Recorder;
use spsc::Spsc;

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

/// What a contended wait tells the recorder beyond the acquisition itself.
pub(crate) struct Waited {
    /// How long the thread waited, in nanoseconds.
    pub nanos: u64,
    /// The exclusive owner when the wait began: its thread and where it took the lock.
    pub holder: Option<(u32, &'static Location<'static>)>,
    /// Where the thread waited, when the wait was long enough (see [`wait_stack_after`]).
    pub stack: Option<RawStack>,
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
    let recorder = Recorder::started(Arc::as_ptr(&ring), producer, config);
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
