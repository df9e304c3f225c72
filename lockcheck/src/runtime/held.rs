//! The per-thread stack of held locks, and the checks made against it before a thread blocks.
//!
//! Every entry carries a *chain key*: a hash of the held locks below and including it, in
//! order, with their modes (lockdep's "lock chains"). The key of an acquisition is the chain
//! key of the stack plus the lock being taken. Like lockdep's, chains are made of lock
//! *classes* (and ranks): the thousandth account lock taken under the bank lock is the same
//! context as the first, so it costs no re-check. A lock whose class may already be held
//! (same-class nesting, or taking a held lock again) is keyed by its instance and by the
//! instances of its class that are held. A thread-local, direct-mapped cache of keys it
//! has already checked lets the steady state skip every check and write no shared memory:
//! only a context never seen before reaches the rank check, the self-deadlock check and the
//! lock-order graph.
//!
//! Here: the entries, each thread's state and the fast paths that push and pop it. The chain
//! keys and the cache of checked contexts are in `held/cache.rs`; permits released on
//! another thread's behalf, and the thread exit that settles them, in `held/remote.rs`; the
//! rules a lock taken again and a rank must keep, in `held/rules.rs`.

mod cache;
mod remote;
mod rules;

use std::cell::{Cell, UnsafeCell};
use std::panic::Location;
use std::sync::atomic::Ordering;

use crate::analysis::report::LockKind;
use crate::analysis::report::Mode;
use crate::runtime::registry;
use cache::{link, slot_of, CACHE_SLOTS};
pub(crate) use cache::{Verdict, GENERATION};
pub(crate) use remote::release_remote;
use remote::ExitGuard;
pub(crate) use rules::{rank_offenders, reacquire, Reacquire};

/// One held lock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Held {
    pub id: u32,
    pub mode: Mode,
    /// The class and rank packed as [`registry::class_word`] does.
    pub class_word: u64,
    pub site: &'static Location<'static>,
    /// The chain key of the stack up to and including this entry.
    chain: u64,
    /// Whether the acquisition could block (not a `try_lock`).
    pub blocking: bool,
    /// When a sampled hold started (ns, see `ring.rs`); 0 when this hold is not timed. Kept
    /// 0 in every slot above the stack's top, so that a push need not write it.
    pub hold_start: u64,
}

/// What a release needs of the entry it removed: less to copy out of the thread-local than
/// the whole entry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Released {
    pub id: u32,
    pub mode: Mode,
    /// See [`Held::hold_start`].
    pub hold_start: u64,
}

impl Held {
    /// An unused slot.
    const EMPTY: Held = Held {
        id: 0,
        class_word: 0,
        mode: Mode::Exclusive,
        site: Location::caller(),
        chain: 0,
        blocking: false,
        hold_start: 0,
    };
}

/// An acquisition about to happen.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Acquire {
    pub id: u32,
    pub mode: Mode,
    pub kind: LockKind,
    /// The class and rank packed as [`registry::class_word`] does.
    pub class_word: u64,
    pub site: &'static Location<'static>,
}

impl Acquire {
    /// An acquisition of lock `id`, whose class and rank are packed in `class_word`.
    #[inline(always)]
    pub fn new(id: u32, class_word: u64, mode: Mode, kind: LockKind, site: &'static Location<'static>) -> Acquire {
        Acquire { id, mode, kind, class_word, site }
    }

    /// The lock's class.
    #[inline(always)]
    pub fn class(&self) -> u32 {
        registry::word_class(self.class_word)
    }

    /// The lock's rank.
    pub fn rank(&self) -> Option<u32> {
        registry::word_rank(self.class_word)
    }
}

impl Held {
    /// The lock's class.
    #[inline(always)]
    pub fn class(&self) -> u32 {
        registry::word_class(self.class_word)
    }

    /// The lock's rank.
    pub fn rank(&self) -> Option<u32> {
        registry::word_rank(self.class_word)
    }
}

/// How many locks one thread can hold at once and still be tracked (lockdep allows 48 too).
/// Deeper acquisitions still lock, but are counted as untracked and reported once.
pub(crate) const MAX_DEPTH: usize = 48;

/// A thread's held stack and its cache of checked contexts.
///
/// Fixed-size and without a destructor, so the thread-local holding it is a plain
/// thread-pointer offset: no lazy-registration check on every access. Thread exit is seen by
/// a separate guard ([`ExitGuard`]), armed when the thread registers.
pub(crate) struct Thread {
    /// Registered lazily at the first acquisition; 0 = not yet.
    pub tid: u32,
    len: u32,
    /// Semaphore permits in `stack`: only then can another thread release one of ours.
    pub permits: u32,
    /// Acquisitions that did not fit in `MAX_DEPTH`.
    untracked: u32,
    /// How many held entries have a class in each of 64 buckets (class % 64): a lock whose
    /// bucket is empty cannot be nested in its own class, so its class alone keys its context.
    /// Otherwise a scan of the stack finds whether the class itself is held.
    class_buckets: [u8; 64],
    /// The value of `GENERATION` the cache was filled under.
    generation: u64,
    entries: [Held; MAX_DEPTH],
    /// Checked acquisition keys; bit 1 marks a context that is part of a finding.
    cache: [u64; CACHE_SLOTS],
}

/// A thread's state, and whether a slow path is using it.
struct Slot {
    busy: Cell<bool>,
    thread: UnsafeCell<Thread>,
}

thread_local! {
    static THREAD: Slot = const { Slot { busy: Cell::new(false), thread: UnsafeCell::new(Thread::new()) } };
    /// Dropped when the thread exits: reports locks still held (leaked guards).
    static EXIT: ExitGuard = const { ExitGuard };
}

/// This thread's slot.
#[inline(always)]
fn slot<'a>() -> &'a Slot {
    // The pointer, not a closure over the slot: `LocalKey::with` is generic over its closure,
    // and a caller's whole fast path inside it would not be inlined into the lock method.
    let slot = THREAD.with(std::ptr::from_ref);
    // SAFETY: `THREAD` has no destructor, so its storage lives as long as this thread; the
    // callers below keep the reference within one call on this thread.
    unsafe { &*slot }
}

/// Runs `f` on this thread's state, marked busy meanwhile; `None` if it is busy already —
/// `f` may call out (allocate, capture a stack, take lockcheck's own locks), and a call
/// coming back (an allocator taking an instrumented lock, say) then leaves its acquisition
/// untracked instead of touching the state twice.
#[inline(always)]
pub(crate) fn with<R>(f: impl FnOnce(&mut Thread) -> R) -> Option<R> {
    /// Clears `busy` when `f` returns or unwinds.
    struct Unbusy<'a>(&'a Cell<bool>);

    impl Drop for Unbusy<'_> {
        #[inline(always)]
        fn drop(&mut self) {
            self.0.set(false);
        }
    }

    let slot = slot();
    if slot.busy.replace(true) {
        return None;
    }
    let _unbusy = Unbusy(&slot.busy);
    // SAFETY: `busy` was clear, so no other reference to the state exists on this thread:
    // `with` holds it busy for as long as its reference lives, and `with_leaf`'s code cannot
    // reach here. Only this thread ever sees its own slot.
    Some(f(unsafe { &mut *slot.thread.get() }))
}

/// [`with`] for leaf code, the fast paths: `f` only loads, stores and at most tries the raw
/// lock (parking_lot's, or a semaphore's count under a parking_lot mutex: nothing that calls
/// back into lockcheck), so nothing can observe the state while it runs and it need not be
/// marked busy — two stores saved per lock and per unlock. `None` if a slow path further up
/// this thread's stack is using the state.
#[inline(always)]
pub(crate) fn with_leaf<R>(f: impl FnOnce(&mut Thread) -> R) -> Option<R> {
    let slot = slot();
    if slot.busy.get() {
        return None;
    }
    // SAFETY: `busy` is clear, so no `with` holds a reference further up this thread's stack,
    // and `f` calls nothing that could take one while this one lives (see above).
    Some(f(unsafe { &mut *slot.thread.get() }))
}

impl Thread {
    const fn new() -> Thread {
        Thread {
            tid: 0,
            len: 0,
            permits: 0,
            untracked: 0,
            class_buckets: [0; 64],
            generation: 0,
            entries: [Held::EMPTY; MAX_DEPTH],
            cache: [0; CACHE_SLOTS],
        }
    }

    /// The held set of a holder that is not a thread (a task, see `task.rs`), registered as
    /// `tid` already.
    #[cfg(feature = "tokio")]
    pub fn boxed(tid: u32) -> Box<Thread> {
        let mut t = Box::new(Thread::new());
        t.tid = tid;
        t
    }

    /// Pushes a copy of an entry held elsewhere (a thread's lock, under the task running on
    /// it), chained onto this stack as a push would chain it.
    #[cfg(feature = "tokio")]
    pub fn push_copy(&mut self, held: &Held) {
        let acq = Acquire::new(held.id, held.class_word, held.mode, LockKind::Mutex, held.site);
        self.push(&acq, held.blocking);
    }

    /// The held locks, oldest first.
    #[inline(always)]
    pub fn stack(&self) -> &[Held] {
        &self.entries[..self.len as usize]
    }

    /// The fast path of a blocking acquisition: when its context is known and clean and
    /// `try_fast` takes the lock, pushes it and returns `true`. Anything else (a new context, a
    /// finding to count, permits released elsewhere, a contended lock) returns `false` for the
    /// slow path, with `try_fast` not called unless the context was known.
    #[inline(always)]
    pub fn acquire_known(&mut self, acq: &Acquire, try_fast: impl FnOnce() -> bool) -> bool {
        let len = self.len as usize;
        // SAFETY: `len` never exceeds `MAX_DEPTH`: `push` refuses to grow past it.
        unsafe { std::hint::assert_unchecked(len <= MAX_DEPTH) };
        let word = self.word(acq);
        let chain = if len == 0 {
            if self.tid == 0 {
                return false; // Registers on the slow path.
            }
            link(0, word, acq.mode, true)
        } else {
            if self.permits != 0 {
                return false; // `check`, on the slow path, takes other threads' releases first.
            }
            let key = link(self.entries[len - 1].chain, word, acq.mode, true);
            // Relaxed: see `check` (`held/cache.rs`).
            if GENERATION.load(Ordering::Relaxed) != self.generation || self.cache[slot_of(key)] != key {
                return false;
            }
            key
        };
        if len == MAX_DEPTH || !try_fast() {
            return false;
        }
        self.push_linked(acq, chain, true);
        true
    }

    /// Registers the thread and arms its exit guard.
    #[cold]
    #[inline(never)]
    fn register(&mut self) {
        self.tid = registry::register_thread(current_thread_name());
        // The thread's first lock, not held yet: the time to make its ring.
        crate::record::ring::start_thread(self.tid);
        // Touching the guard registers its destructor. During teardown it may be gone
        // already; the thread's exit is then not watched, which is all it can mean.
        let _ = EXIT.try_with(|_| ());
    }

    /// This thread's id, registering the thread on first use.
    pub fn tid(&mut self) -> u32 {
        if self.tid == 0 {
            self.register();
        }
        self.tid
    }

    /// Pushes an acquired lock.
    #[inline]
    pub fn push(&mut self, acq: &Acquire, blocking: bool) {
        let len = self.len as usize;
        if len == MAX_DEPTH {
            return self.overflow();
        }
        let below = if len == 0 { 0 } else { self.entries[len - 1].chain };
        let word = self.word(acq);
        self.push_linked(acq, link(below, word, acq.mode, blocking), blocking);
    }

    /// Pushes an acquired lock whose chain key is computed already; the stack has room.
    #[inline(always)]
    fn push_linked(&mut self, acq: &Acquire, chain: u64, blocking: bool) {
        let len = self.len as usize;
        self.permits += u32::from(acq.mode == Mode::Permit);
        self.len += 1;
        self.class_buckets[bucket_of(acq.class())] += 1;
        // Field by field: `hold_start` is 0 already (see there).
        let entry = &mut self.entries[len];
        entry.id = acq.id;
        entry.mode = acq.mode;
        entry.class_word = acq.class_word;
        entry.site = acq.site;
        entry.chain = chain;
        entry.blocking = blocking;
    }

    /// Takes the top entry's hold start as it leaves the stack, leaving 0 behind (see
    /// [`Held::hold_start`]).
    #[inline(always)]
    fn take_hold_start(entry: &mut Held) -> u64 {
        let start = entry.hold_start;
        if start != 0 {
            entry.hold_start = 0;
        }
        start
    }

    /// Marks the hold of `id`, just pushed, as timed from `now` (a sampled hold).
    #[cold]
    pub fn time_hold(&mut self, id: u32, now: u64) {
        let len = self.len as usize;
        if len > 0 && self.entries[len - 1].id == id {
            self.entries[len - 1].hold_start = now;
        }
    }

    #[cold]
    fn overflow(&mut self) {
        if self.untracked == 0 {
            eprintln!(
                "lockcheck: warning: a thread holds more than {MAX_DEPTH} locks at once; deeper acquisitions \
                 are not checked"
            );
        }
        self.untracked += 1;
    }

    /// Removes a released lock, wherever it is in the stack (guards drop in any order).
    #[inline]
    pub fn pop(&mut self, id: u32) -> Option<Held> {
        let len = self.len as usize;
        let held = if len > 0 && self.entries[len - 1].id == id {
            self.len -= 1;
            let held = self.entries[len - 1];
            Self::take_hold_start(&mut self.entries[len - 1]);
            Some(held)
        } else {
            self.remove_inner(id)
        };
        if let Some(held) = &held {
            self.left(held.class());
            self.permits -= u32::from(held.mode == Mode::Permit);
        }
        held
    }

    /// Removes a released lock (not a semaphore permit: those go through [`pop`](Self::pop)),
    /// returning what the release hooks need.
    #[inline(always)]
    pub fn release(&mut self, id: u32) -> Option<Released> {
        let len = self.len as usize;
        // SAFETY: `len` never exceeds `MAX_DEPTH`: `push` refuses to grow past it.
        unsafe { std::hint::assert_unchecked(len <= MAX_DEPTH) };
        let top = len.checked_sub(1).map(|top| &mut self.entries[top]);
        let (mode, class_word, hold_start) = match top {
            Some(top) if top.id == id => (top.mode, top.class_word, Self::take_hold_start(top)),
            _ => return self.remove_inner(id).map(|held| self.released(held)),
        };
        self.len -= 1;
        self.left(registry::word_class(class_word));
        Some(Released { id, mode, hold_start })
    }

    #[cold]
    fn released(&mut self, held: Held) -> Released {
        self.left(held.class());
        self.permits -= u32::from(held.mode == Mode::Permit);
        Released { id: held.id, mode: held.mode, hold_start: held.hold_start }
    }

    /// Counts an entry of `class` out of its bucket, after it left the stack.
    #[inline(always)]
    fn left(&mut self, class: u32) {
        self.class_buckets[bucket_of(class)] -= 1;
    }

    #[cold]
    fn remove_inner(&mut self, id: u32) -> Option<Held> {
        let at = self.stack().iter().rposition(|h| h.id == id)?;
        Some(self.remove_at(at))
    }

    /// Takes the upgradable hold of `id` out of the stack, for its upgrade; other holds of the
    /// same lock (a `read_recursive` taken since, say) stay.
    pub fn take_upgradable(&mut self, id: u32) -> Option<Held> {
        let at = self.stack().iter().rposition(|h| h.id == id && h.mode == Mode::Upgradable)?;
        let held = self.remove_at(at);
        self.left(held.class());
        Some(held)
    }

    fn remove_at(&mut self, at: usize) -> Held {
        let held = self.entries[at];
        self.entries.copy_within(at + 1..self.len as usize, at);
        self.len -= 1;
        // The old top slot, now above the stack.
        self.entries[self.len as usize].hold_start = 0;
        self.rechain(at);
        held
    }

    /// Takes the entry of `id` held in `mode` out whole, for a hold that moves to another
    /// holder (an async guard taken over by another task, see `task.rs`).
    #[cfg(feature = "tokio")]
    pub fn take(&mut self, id: u32, mode: Mode) -> Option<Held> {
        let at = self.stack().iter().rposition(|h| h.id == id && h.mode == mode)?;
        let held = self.remove_at(at);
        self.left(held.class());
        self.permits -= u32::from(held.mode == Mode::Permit);
        Some(held)
    }

    /// Changes the mode of a held lock in place (upgrade, downgrade).
    pub fn set_mode(&mut self, id: u32, mode: Mode) -> Option<Held> {
        let at = self.stack().iter().rposition(|h| h.id == id)?;
        let was = self.entries[at];
        self.entries[at].mode = mode;
        self.rechain(at);
        Some(was)
    }

    /// Whether the stack is every lock this thread holds: `false` once an acquisition went
    /// untracked past [`MAX_DEPTH`] (the count is never taken back, so this stays `false`).
    pub fn complete(&self) -> bool {
        self.untracked == 0
    }

    /// The held entry for `id`, if this thread holds it.
    pub fn find(&self, id: u32) -> Option<&Held> {
        self.stack().iter().rev().find(|h| h.id == id)
    }
}

fn current_thread_name() -> String {
    let thread = std::thread::current();
    match thread.name() {
        Some(name) => name.to_owned(),
        None => format!("{:?}", thread.id()),
    }
}

/// A class's bucket in [`Thread::class_buckets`].
#[inline(always)]
fn bucket_of(class: u32) -> usize {
    class as usize % 64
}

/// An exclusive acquisition of mutex `id` with `rank`, for the unit tests of this module's parts.
#[cfg(test)]
pub(super) fn test_acquire(id: u32, rank: Option<u32>) -> Acquire {
    Acquire::new(id, registry::class_word(id, rank), Mode::Exclusive, LockKind::Mutex, Location::caller())
}
