//! A bounded single-producer, single-consumer ring of `Copy` records.
//!
//! Lamport's wait-free SPSC queue (1983) with the refinement rtrb and FastForward use: each
//! side keeps a private copy of the other side's index and re-reads the shared one only when
//! the copy says the ring is full (producer) or empty (consumer). The producer's steady state
//! is then a slot write, a store of its own copy of `tail` and one `Release` store of the
//! shared `tail`, to a cache line only the producer writes. Indices grow without bound (wrapping) and are masked into the power-of-two buffer,
//! so "full" is `tail - head == capacity` with no wasted slot.
//!
//! Built with `--cfg loom`, the atomics and the cell come from loom and the tests at the
//! bottom explore every interleaving (`RUSTFLAGS="--cfg loom" cargo test --release -p
//! lockcheck --features instrument --lib record::ring::spsc`).

use std::mem::MaybeUninit;

#[cfg(loom)]
use loom::{cell::UnsafeCell, sync::atomic::AtomicUsize};
#[cfg(not(loom))]
use shim::UnsafeCell;
#[cfg(not(loom))]
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;

/// std's `UnsafeCell`, transparent like std's own over its value (see `Spsc::new`), in the
/// place of loom's, whose closure API the loom build uses to check each access.
#[cfg(not(loom))]
mod shim {
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T>(
        #[allow(dead_code, reason = "only reached through pointers")] std::cell::UnsafeCell<T>,
    );
}

/// Keeps a value on its own cache line (128 bytes: adjacent-line prefetch pairs lines on
/// x86, as crossbeam's `CachePadded` notes), so the producer's stores to `tail` do not
/// invalidate the consumer's `head` and vice versa.
#[repr(align(128))]
struct CachePadded<T>(T);

/// The shared part of the ring.
pub(crate) struct Spsc<T> {
    /// The next index the consumer reads. Written by the consumer only.
    head: CachePadded<AtomicUsize>,
    /// The next index the producer writes. Written by the producer only.
    tail: CachePadded<AtomicUsize>,
    slots: Slots<T>,
    mask: usize,
}

/// The ring's buffer. Held as a raw pointer rather than a `Box`: the producer writes slots
/// through a copy of that pointer (see [`Producer`]), and moving a `Box` asserts that it is
/// the only way to its memory.
#[cfg(not(loom))]
struct Slots<T>(std::ptr::NonNull<[UnsafeCell<MaybeUninit<T>>]>);

#[cfg(not(loom))]
impl<T> Slots<T> {
    fn first(&self) -> *mut T {
        self.0.as_ptr().cast()
    }
}

#[cfg(not(loom))]
impl<T> Drop for Slots<T> {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `Box::into_raw` in `Spsc::new` and is freed only here.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// loom checks each access through its cells: the buffer is an ordinary box.
#[cfg(loom)]
type Slots<T> = Box<[UnsafeCell<MaybeUninit<T>>]>;

// SAFETY: a slot is written only by the producer while it is outside [head, tail) and read
// only by the consumer while it is inside; the Release/Acquire pairs on `head` and `tail`
// order those accesses (see `Producer::push` and `Spsc::drain_runs`). `T: Send` because records
// move from the producer's thread to the consumer's.
unsafe impl<T: Copy + Send> Sync for Spsc<T> {}
// SAFETY: as above; the ring owns its records.
unsafe impl<T: Copy + Send> Send for Spsc<T> {}

/// What a push did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Push {
    /// Written.
    Done,
    /// Written; the ring is at least a quarter full: time to wake the consumer.
    Wake,
    /// Not written: no room.
    Full,
}

/// The producer's private state: a cached copy of `head` and when to look at it again, its own
/// copy of `tail`, and where the slots are. Exactly one exists per ring, owned by the
/// producing thread. A push stores `tail` twice (here and, published, in the ring), yet
/// measured faster than reading it back from the ring: a lock's next atomic instruction waits
/// for the push's stores, and the slot's address no longer waits for a chain of loads (the
/// recorder, then the ring, then its buffer): `peers`, traced uncontended, medians of 5 runs,
/// 10.7 against 11.0 ns.
pub(crate) struct Producer<T> {
    /// The next index to write: the producer's own copy of `tail`, which only it stores.
    tail: usize,
    /// The ring's first slot and its mask, copied here so that a push finds its slot without
    /// going through the ring: one dependent load fewer between a lock's release and the
    /// next acquisition's atomic instruction, which waits for the push's stores.
    #[cfg(not(loom))]
    slots: *mut T,
    /// loom's build writes through the ring's cells instead (see `write`).
    #[cfg(loom)]
    slots: std::marker::PhantomData<T>,
    mask: usize,
    cached_head: usize,
    /// Where the next push takes the slow path: at most a ring's length past `cached_head`
    /// (so the fast path never writes a slot the consumer may still read), and at most
    /// `check_every` past the last slow push (so a ring filling up is noticed in time). The
    /// fast path's whole check is `tail != limit`.
    limit: usize,
    /// A quarter of the capacity: a slow push that leaves the ring this full reports
    /// [`Push::Wake`]. The consumer may wait for a core for milliseconds on a busy machine,
    /// and a producer looping on a lock writes a ring's quarter in 1.5 ms: at half full it
    /// lost 0.2–1% of a 50M-event burst (`trace_child burst`) on a loaded machine, at a
    /// quarter none.
    wake_at: usize,
    /// Pushes between two looks at the fill level (an eighth of the capacity).
    check_every: usize,
}

impl<T: Copy> Spsc<T> {
    /// A ring of `capacity` records (rounded up to a power of two, at least 2) and its
    /// producer.
    pub fn new(capacity: usize) -> (Spsc<T>, Producer<T>) {
        let capacity = capacity.max(2).next_power_of_two();
        // Allocated, not written: memory is committed as the producer writes it, and a debug
        // build's element-by-element loop took milliseconds at a thread's first event.
        #[cfg(not(loom))]
        let slots = {
            let slots: Box<[MaybeUninit<UnsafeCell<MaybeUninit<T>>>]> = Box::new_uninit_slice(capacity);
            // SAFETY: `UnsafeCell<MaybeUninit<T>>` is `repr(transparent)` down to the
            // `MaybeUninit<T>`, for which uninitialised bytes are a valid value.
            let slots = unsafe { slots.assume_init() };
            // SAFETY: a box's pointer is never null.
            Slots(unsafe { std::ptr::NonNull::new_unchecked(Box::into_raw(slots)) })
        };
        // loom's cell tracks each access: every slot is made for real.
        #[cfg(loom)]
        let slots = (0..capacity).map(|_| UnsafeCell::new(MaybeUninit::uninit())).collect();
        let ring = Spsc {
            head: CachePadded(AtomicUsize::new(0)),
            tail: CachePadded(AtomicUsize::new(0)),
            slots,
            mask: capacity - 1,
        };
        let check_every = (capacity / 8).max(1);
        let producer = Producer {
            tail: 0,
            #[cfg(not(loom))]
            slots: ring.slots.first(),
            #[cfg(loom)]
            slots: std::marker::PhantomData,
            mask: capacity - 1,
            cached_head: 0,
            limit: check_every - 1,
            wake_at: capacity / 4,
            check_every,
        };
        (ring, producer)
    }

    /// How many records fit.
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// The producer's published end: records before it can be drained.
    pub fn published_end(&self) -> usize {
        // Acquire: pairs with the Release store of `tail` in `Producer::publish`; every slot
        // write before that store is visible once we see its index.
        self.tail.0.load(Ordering::Acquire)
    }

    /// Hands every record from the consumer's position up to `end` (a value of
    /// [`Spsc::published_end`]) to `f` in runs of consecutive records, as they lie in the
    /// ring, freeing their slots for the producer after each run. A run never crosses the
    /// ring's end or an eighth of the ring, so a long drain does not leave a full ring full
    /// until it ends, and a consumer copies or scans a run as one slice.
    ///
    /// # Safety
    ///
    /// Only one consumer may call this at a time (the collector holds its state lock), and
    /// `end` must come from `published_end` on this ring, after any earlier drain.
    #[inline(always)]
    pub unsafe fn drain_runs(&self, end: usize, mut f: impl FnMut(&[T])) -> usize {
        // Relaxed: only consumers store `head`, and they are serialised by the caller's lock,
        // which orders their accesses.
        let head = self.head.0.load(Ordering::Relaxed);
        // A power of two that divides the capacity: an eighth boundary is never past the end.
        let free_every = (self.capacity() / 8).max(1);
        let mut index = head;
        while index != end {
            let len = end.wrapping_sub(index).min(free_every - (index & (free_every - 1)));
            // SAFETY: [index, index + len) is in [head, end): the producer wrote these slots
            // before publishing `end` (made visible by the Acquire in `published_end`) and
            // will not touch them again until `head` moves past them below. They lie within
            // one eighth of the slots, so masking the first keeps the run in bounds.
            unsafe { self.read_run(index & self.mask, len, &mut f) };
            index = index.wrapping_add(len);
            // Release: pairs with the Acquire load of `head` in `Producer::refresh`; our
            // reads of these slots happen before the producer may overwrite them.
            self.head.0.store(index, Ordering::Release);
        }
        end.wrapping_sub(head)
    }

    /// Hands the `len` records from slot `first` to `f` as one slice.
    ///
    /// # Safety
    ///
    /// The slots are initialised, in bounds, and not written while `f` runs.
    #[cfg(not(loom))]
    #[inline(always)]
    unsafe fn read_run(&self, first: usize, len: usize, f: &mut impl FnMut(&[T])) {
        // SAFETY: `UnsafeCell<MaybeUninit<T>>` is `repr(transparent)` down to `T`'s layout
        // (the shim's cell and std's), and the caller vouches that the slots hold records
        // nobody writes meanwhile, so they may be read as a `&[T]`.
        let run = unsafe { std::slice::from_raw_parts(self.slots.first().add(first), len) };
        f(run);
    }

    /// loom's cells are not transparent: each record is read through its cell, one run of
    /// one at a time, so that loom checks every access.
    #[cfg(loom)]
    unsafe fn read_run(&self, first: usize, len: usize, f: &mut impl FnMut(&[T])) {
        for slot in &self.slots[first..first + len] {
            // SAFETY: as the caller vouches.
            let record = slot.with(|p| unsafe { (*p).assume_init() });
            f(std::slice::from_ref(&record));
        }
    }

    /// [`drain_runs`](Self::drain_runs) one record at a time.
    ///
    /// # Safety
    ///
    /// As [`Spsc::drain_runs`].
    #[cfg(test)]
    pub unsafe fn drain_to(&self, end: usize, mut f: impl FnMut(T)) -> usize {
        // SAFETY: forwarded from this function's contract.
        unsafe { self.drain_runs(end, |run| run.iter().for_each(|&r| f(r))) }
    }
}

impl<T: Copy> Producer<T> {
    /// The producer of no ring, in a thread's recorder before it starts: never pushed to.
    pub const NONE: Producer<T> = Producer {
        tail: 0,
        #[cfg(not(loom))]
        slots: std::ptr::null_mut(),
        #[cfg(loom)]
        slots: std::marker::PhantomData,
        mask: 0,
        cached_head: 0,
        limit: 0,
        wake_at: 0,
        check_every: 1,
    };

    /// Writes one record; the fast path is a compare, a slot write, the store of the producer's
    /// `tail` and the `Release` store of the ring's.
    ///
    /// No prefetch of the line ahead for writing: the consumer reads a line long after it is
    /// written, and a 4 MiB ring is out of a core's L2 by the time the producer comes round
    /// to a line again. Measured in the `peers` bench, steady state, medians of 5 runs, none
    /// against 64 records ahead: uncontended 11.0 and 11.0 ns, nested pair 23.9 and 24.8 ns,
    /// two threads' pairs 25.4 and 26.0 ns.
    ///
    /// # Safety
    ///
    /// `ring` is the ring this producer was created with (its indices are that ring's, and the
    /// producer writes straight into that ring's buffer), and it is alive for the call.
    #[inline(always)]
    pub unsafe fn push(&mut self, ring: &Spsc<T>, record: T) -> Push {
        let tail = self.tail;
        if tail == self.limit {
            return self.push_slow(ring, &[record]);
        }
        self.write(ring, tail, record);
        self.publish(ring, tail.wrapping_add(1));
        Push::Done
    }

    /// Writes records that belong together (an acquisition, its holder, its wait; a timed
    /// release and its nanoseconds): all or none. Where they fit before `limit`, as the fast
    /// path writes one: a timed hold (one in 64) would otherwise read the consumer's `head`,
    /// a line the consumer writes.
    ///
    /// # Safety
    ///
    /// As [`Producer::push`].
    pub unsafe fn push_all(&mut self, ring: &Spsc<T>, records: &[T]) -> Push {
        let mut tail = self.tail;
        if self.limit.wrapping_sub(tail) < records.len() {
            return self.push_slow(ring, records);
        }
        for &record in records {
            self.write(ring, tail, record);
            tail = tail.wrapping_add(1);
        }
        self.publish(ring, tail);
        Push::Done
    }

    #[cold]
    #[inline(never)]
    fn push_slow(&mut self, ring: &Spsc<T>, records: &[T]) -> Push {
        self.refresh(ring);
        let mut tail = self.tail;
        let used = tail.wrapping_sub(self.cached_head);
        if used + records.len() > ring.capacity() {
            // Full: look again at the next push.
            self.limit = tail;
            return Push::Full;
        }
        for &record in records {
            self.write(ring, tail, record);
            tail = tail.wrapping_add(1);
        }
        self.publish(ring, tail);
        let room_end = self.cached_head.wrapping_add(ring.capacity());
        // The next `check_every - 1` pushes take the fast path, room permitting.
        self.limit = match room_end.wrapping_sub(tail) {
            room if room >= self.check_every => tail.wrapping_add(self.check_every - 1),
            _ => room_end,
        };
        if used + records.len() >= self.wake_at {
            Push::Wake
        } else {
            Push::Done
        }
    }

    fn refresh(&mut self, ring: &Spsc<T>) {
        // Acquire: pairs with the Release store of `head` in `drain_runs`: the consumer has
        // finished reading every slot before `head`, so they may be overwritten.
        self.cached_head = ring.head.0.load(Ordering::Acquire);
    }

    /// Writes slot `tail`, which the caller checked is outside [head, tail): against a `head`
    /// the consumer published (or an older, smaller one) — the fast path through `limit`,
    /// which never exceeds `cached_head + capacity`. The consumer is not reading it, and only
    /// this producer writes slots (`push` requires `ring` to be this producer's own).
    #[cfg(not(loom))]
    #[inline(always)]
    fn write(&mut self, _ring: &Spsc<T>, tail: usize, record: T) {
        // SAFETY: `slots` is the first slot of the ring's buffer, a heap allocation the ring
        // keeps for its whole life, and `push`'s caller vouches that the ring is this
        // producer's and alive (the pointer's `T` is the ring's, by type); `mask` is its length minus
        // one (a power of two), so the slot is in bounds. A slot is a `MaybeUninit<T>` under
        // transparent cells (see `Spsc::new`), so it is written as a `T`. No reference to it
        // exists: see above.
        unsafe { self.slots.add(tail & self.mask).write(record) };
    }

    /// loom's cells are not transparent: the slot is written through its cell, which loom
    /// checks.
    #[cfg(loom)]
    fn write(&mut self, ring: &Spsc<T>, tail: usize, record: T) {
        let slot = &ring.slots[tail & self.mask];
        // SAFETY: as in the other `write`: the slot is outside [head, tail).
        slot.with_mut(|p| unsafe { p.write(MaybeUninit::new(record)) });
    }

    #[inline(always)]
    fn publish(&mut self, ring: &Spsc<T>, tail: usize) {
        self.tail = tail;
        // Release: pairs with the Acquire load in `Spsc::published_end`; the slot writes above
        // become visible to the consumer together with the new tail.
        ring.tail.0.store(tail, Ordering::Release);
    }
}

/// `Producer::push` for tests, which always pair a producer with the ring made with it.
#[cfg(test)]
fn push<T: Copy>(p: &mut Producer<T>, ring: &Spsc<T>, record: T) -> Push {
    // SAFETY: every test passes the ring `Spsc::new` returned with `p`.
    unsafe { p.push(ring, record) }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn push_all<T: Copy>(p: &mut Producer<T>, ring: &Spsc<T>, records: &[T]) -> Push {
        // SAFETY: as in `push`.
        unsafe { p.push_all(ring, records) }
    }

    #[test]
    fn fills_drains_and_wraps() {
        let (ring, mut p) = Spsc::<u64>::new(5);
        assert_eq!(ring.capacity(), 8);
        let mut seen = Vec::new();
        let mut next = 0;
        for round in 0..5 {
            let mut pushed = Vec::new();
            loop {
                match push(&mut p, &ring, next) {
                    Push::Full => break,
                    status => {
                        // A ring this small looks at its fill level on every push.
                        assert_eq!(status == Push::Wake, pushed.len() + 1 >= 2, "round {round}");
                        pushed.push(next);
                        next += 1;
                    }
                }
            }
            assert_eq!(pushed.len(), 8, "a drained ring takes exactly its capacity");
            // SAFETY: this test is the only consumer.
            let n = unsafe { ring.drain_to(ring.published_end(), |r| seen.push(r)) };
            assert_eq!(n, 8);
        }
        assert_eq!(seen, (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn a_large_ring_checks_its_fill_level_every_eighth() {
        let (ring, mut p) = Spsc::<u32>::new(64);
        let statuses: Vec<Push> = (0..65).map(|i| push(&mut p, &ring, i)).collect();
        assert!(statuses[..64].iter().all(|&s| s != Push::Full), "a ring takes exactly its capacity");
        assert_eq!(statuses[64], Push::Full);
        let first_wake = statuses.iter().position(|&s| s == Push::Wake).unwrap();
        assert!((15..15 + 8).contains(&first_wake), "a quarter full noticed within 8 pushes: {first_wake}");
        let mut seen = Vec::new();
        // SAFETY: this test is the only consumer.
        unsafe { ring.drain_to(ring.published_end(), |r| seen.push(r)) };
        assert_eq!(seen, (0..64).collect::<Vec<_>>());
    }

    #[test]
    fn runs_stop_at_the_rings_end_and_at_each_eighth() {
        let (ring, mut p) = Spsc::<u32>::new(64);
        let mut next = 0;
        let mut runs = Vec::new();
        for batch in [40, 60, 64] {
            for _ in 0..batch {
                assert_ne!(push(&mut p, &ring, next), Push::Full);
                next += 1;
            }
            // SAFETY: this test is the only consumer.
            unsafe { ring.drain_runs(ring.published_end(), |run| runs.push(run.to_vec())) };
        }
        let lens: Vec<usize> = runs.iter().map(Vec::len).collect();
        // Eighths of 8 records; the second drain starts at 40 and wraps at 64.
        assert_eq!(lens.iter().sum::<usize>(), 164);
        assert!(lens.iter().all(|&len| len <= 8), "{lens:?}");
        assert_eq!(runs.concat(), (0..164).collect::<Vec<_>>());
    }

    #[test]
    fn grouped_records_take_the_fast_path_where_they_fit_before_the_limit() {
        let (ring, mut p) = Spsc::<u32>::new(64);
        // The first look at the fill level is at index 7 (the eighth record of the ring).
        assert_eq!(push_all(&mut p, &ring, &[0, 1]), Push::Done);
        for i in 2..5 {
            assert_eq!(push(&mut p, &ring, i), Push::Done);
        }
        assert_eq!(push_all(&mut p, &ring, &[5, 6]), Push::Done, "ends at the limit, not past it");
        assert_eq!(push_all(&mut p, &ring, &[7, 8]), Push::Done, "the slow path, which looks at the fill level");
        let mut seen = Vec::new();
        // SAFETY: this test is the only consumer.
        unsafe { ring.drain_to(ring.published_end(), |r| seen.push(r)) };
        assert_eq!(seen, (0..9).collect::<Vec<_>>());
    }

    #[test]
    fn grouped_records_are_all_or_nothing() {
        let (ring, mut p) = Spsc::<u8>::new(4);
        assert_eq!(push(&mut p, &ring, 1), Push::Wake);
        assert_eq!(push(&mut p, &ring, 2), Push::Wake);
        assert_eq!(push(&mut p, &ring, 3), Push::Wake);
        assert_eq!(push_all(&mut p, &ring, &[4, 5]), Push::Full);
        assert_eq!(push(&mut p, &ring, 4), Push::Wake);
        let mut seen = Vec::new();
        // SAFETY: this test is the only consumer.
        unsafe { ring.drain_to(ring.published_end(), |r| seen.push(r)) };
        assert_eq!(push_all(&mut p, &ring, &[5, 6]), Push::Wake);
        // SAFETY: as above.
        unsafe { ring.drain_to(ring.published_end(), |r| seen.push(r)) };
        assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// A producer racing a consumer over a ring smaller than the stream: every record
    /// arrives once, in order, and nothing the producer was told is written is lost.
    #[test]
    fn records_arrive_once_in_order() {
        loom::model(|| {
            let (ring, mut producer) = Spsc::<u32>::new(2);
            let ring = Arc::new(ring);
            let consumer = {
                let ring = Arc::clone(&ring);
                loom::thread::spawn(move || {
                    let mut seen = Vec::new();
                    for _ in 0..2 {
                        // SAFETY: this thread is the only consumer.
                        unsafe { ring.drain_to(ring.published_end(), |r| seen.push(r)) };
                        loom::thread::yield_now();
                    }
                    seen
                })
            };
            let mut written = Vec::new();
            for record in 0..4 {
                if push(&mut producer, &ring, record) != Push::Full {
                    written.push(record);
                }
            }
            let mut seen = consumer.join().unwrap();
            // SAFETY: the other consumer has finished.
            unsafe { ring.drain_to(ring.published_end(), |r| seen.push(r)) };
            assert_eq!(seen, written);
        });
    }
}
