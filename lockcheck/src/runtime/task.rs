//! Held sets that belong to a tokio task, not to a thread (cargo feature `tokio`).
//!
//! An async guard is held across `.await`s, while its task moves between worker threads and
//! other tasks run on the thread that took it: a thread's held stack (`held.rs`) is the wrong
//! owner. Each *holder* of async locks gets a held set of its own instead, the same
//! [`held::Thread`] a thread has (stack, chain keys, cache of checked contexts), behind a lock
//! of its own so a guard dropped by another task or thread can take its entry out:
//!
//! - a running task, keyed by `tokio::task::try_id()`;
//! - where no task runs (the body of `block_on`: `#[tokio::main]`, `#[tokio::test]`), the
//!   thread, keyed by its lockcheck id.
//!
//! Each holder is registered like a thread (`task 17`, `main (block_on)`), so findings, owner
//! hints and the watchdog name it. A guard keeps its holder's set alive and takes its own
//! entry out when it drops, wherever that happens: a finished task leaves nothing behind, and
//! a tokio task id used again later (tokio reuses them only after the task is gone) finds
//! an empty set. Empty sets whose guards are all gone are swept when a shard grows, and their
//! held stacks (with the contexts their caches checked) go to a pool for the next holder.
//!
//! Sync locks stay on the thread. The two meet in `async_lock.rs`: a sync lock the thread
//! holds while its task waits for an async one is an edge into the async lock, and an async
//! lock the task holds while the thread blocks on a sync one is an edge into the sync lock.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex as RawLock;
use rustc_hash::FxHashMap;

use crate::analysis::report::Mode;
use crate::runtime::held::{self, Acquire, Released};
use crate::runtime::registry;

/// Who holds async locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// A tokio task.
    Task(tokio::task::Id),
    /// A thread running async code outside any task (`block_on`), by its lockcheck id.
    Thread(u32),
}

/// Marks a thread's [`Key::word`]: tokio numbers tasks from 1 up, and never gets near it.
const THREAD_WORD: u64 = 1 << 63;

impl Key {
    /// The key as one word, for a guard to compare with [`current_word`] without a lock. Two
    /// keys never share a word: a task's is its tokio number, a thread's has the top bit set.
    #[inline(always)]
    fn word(self) -> u64 {
        match self {
            Key::Task(id) => task_word(id),
            Key::Thread(tid) => THREAD_WORD | u64::from(tid),
        }
    }
}

/// The number a tokio task id stands for. `Id` hides it, but hashes it as one `u64` (it
/// derives `Hash` over a `NonZeroU64`), which this hasher keeps as it is.
#[inline(always)]
fn task_word(id: tokio::task::Id) -> u64 {
    /// Keeps the one `u64` written to it.
    struct Word(u64);

    impl std::hash::Hasher for Word {
        fn finish(&self) -> u64 {
            self.0
        }

        /// Not reached for today's `Id`; were it, words could meet and a guard would then
        /// stay with the holder it had, as if it had never moved.
        fn write(&mut self, bytes: &[u8]) {
            for &byte in bytes {
                self.0 = (self.0.rotate_left(8) ^ u64::from(byte)) & !THREAD_WORD;
            }
        }

        #[inline(always)]
        fn write_u64(&mut self, n: u64) {
            self.0 = n;
        }
    }

    let mut word = Word(0);
    std::hash::Hash::hash(&id, &mut word);
    std::hash::Hasher::finish(&word)
}

/// One holder's held async locks.
pub(crate) struct TaskHeld {
    /// The holder's lockcheck id, registered as a thread is.
    pub tid: u32,
    /// The holder's [`Key::word`].
    pub word: u64,
    state: RawLock<Box<held::Thread>>,
}

impl TaskHeld {
    /// Runs `f` on the held set. Only lockcheck's cold paths and the guards' own pushes and
    /// pops take this lock; `f` may reach the graph (whose lock comes after this one).
    pub fn with<R>(&self, f: impl FnOnce(&mut held::Thread) -> R) -> R {
        f(&mut self.state.lock())
    }

    /// Pushes an acquired async lock.
    pub fn push(&self, acq: &Acquire, blocking: bool) {
        self.with(|t| t.push(acq, blocking));
        pushed();
    }

    /// Takes a released async lock out, wherever the release happens.
    pub fn release(&self, id: u32, mode: Mode) -> Option<Released> {
        let released = self.with(|t| match mode {
            Mode::Permit => t.pop(id).map(|h| Released { id: h.id, mode: h.mode, hold_start: h.hold_start }),
            _ => t.release(id),
        });
        if released.is_some() {
            // Relaxed: see `pushed`.
            HELD_BY_TASKS.fetch_sub(1, Ordering::Relaxed);
        }
        released
    }

    /// The held entries, oldest first.
    pub fn entries(&self) -> Vec<held::Held> {
        self.with(|t| t.stack().to_vec())
    }

    /// Takes the entry of a hold that moves to another holder out, whole (the count of held
    /// entries stays: the next holder pushes it back with [`TaskHeld::put`]).
    pub fn take(&self, id: u32, mode: Mode) -> Option<held::Held> {
        self.with(|t| t.take(id, mode))
    }

    /// Pushes the entry of a hold that moved here from another holder, as it was there: its
    /// site, mode and hold timing are the acquisition's.
    pub fn put(&self, entry: &held::Held) {
        self.with(|t| {
            t.push_copy(entry);
            if entry.hold_start != 0 {
                t.time_hold(entry.id, entry.hold_start);
            }
        });
    }
}

/// Async locks held by any holder now. Sync acquisitions look at their task only while it
/// is not 0, so a program that never holds an async lock pays one load of a line nobody
/// writes.
static HELD_BY_TASKS: AtomicUsize = AtomicUsize::new(0);

/// Counts an entry pushed onto a holder's held set directly (under [`TaskHeld::with`]).
#[inline]
pub(crate) fn pushed() {
    // Relaxed: a hint for sync acquisitions (see `any_held`).
    HELD_BY_TASKS.fetch_add(1, Ordering::Relaxed);
}

/// Whether any task holds an async lock (a hint: see [`HELD_BY_TASKS`]).
#[inline(always)]
pub(crate) fn any_held() -> bool {
    // Relaxed: a task that pushed on one thread and runs on another now was handed over by
    // the scheduler, whose queues synchronise, so its own push is visible here; other
    // holders' pushes only decide whether we look, and looking finds their sets under locks.
    HELD_BY_TASKS.load(Ordering::Relaxed) != 0
}

/// Shards of the holder map: tasks on different workers rarely meet on one lock.
const SHARDS: usize = 16;

/// Sets returned to the pool at most: enough for the holders a busy runtime cycles through.
const POOL_MAX: usize = 64;

/// A shard sweeps its empty sets when it reaches this many, and then at twice what is left.
const SWEEP_MIN: usize = 64;

struct Shard {
    holders: FxHashMap<Key, Arc<TaskHeld>>,
    sweep_at: usize,
}

static HOLDERS: LazyLock<[RawLock<Shard>; SHARDS]> = LazyLock::new(|| {
    std::array::from_fn(|_| RawLock::new(Shard { holders: FxHashMap::default(), sweep_at: SWEEP_MIN }))
});

/// Held sets of swept holders, kept for the next ones (each carries a checked-context cache).
static POOL: RawLock<Vec<Box<held::Thread>>> = RawLock::new(Vec::new());

/// The running holder's [`Key::word`], for a guard's check that it is still with the holder
/// that holds it: a thread not registered yet (it holds nothing) gets a word no holder has.
#[inline]
pub(crate) fn current_word() -> u64 {
    match tokio::task::try_id() {
        Some(id) => task_word(id),
        None => THREAD_WORD | u64::from(held::with_leaf(|t| t.tid).unwrap_or(0)),
    }
}

/// The running holder's key: the current task, else the thread (`None` during teardown).
fn current_key() -> Option<Key> {
    match tokio::task::try_id() {
        Some(id) => Some(Key::Task(id)),
        None => held::with(|t| t.tid()).map(Key::Thread),
    }
}

fn shard(key: &Key) -> &'static RawLock<Shard> {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let hash = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(key);
    // The multiply in FxHash leaves its best bits at the top.
    &HOLDERS[(hash >> 60) as usize % SHARDS]
}

thread_local! {
    /// The holder this thread looked up last: a task runs on one thread for a whole poll, and
    /// takes its locks within one, so this saves the shard lookup. Holding the `Arc` keeps the
    /// set from being swept, so the cache never names a set the map has dropped.
    static LAST: RefCell<Option<(Key, Arc<TaskHeld>)>> = const { RefCell::new(None) };
}

/// The held set of `key`, if it has one; `insert` makes one if not.
#[inline]
fn lookup(key: Key, insert_if_missing: bool) -> Option<Arc<TaskHeld>> {
    let cached = LAST.try_with(|last| match &*last.borrow() {
        Some((k, holder)) if *k == key => Some(Arc::clone(holder)),
        _ => None,
    });
    if let Ok(Some(holder)) = cached {
        return Some(holder);
    }
    let holder = {
        let mut shard = shard(&key).lock();
        match shard.holders.get(&key) {
            Some(holder) => Arc::clone(holder),
            None if insert_if_missing => insert(&mut shard, key),
            None => return None,
        }
    };
    // Replaced outside the shard lock: the set it drops may be the last reference to one.
    let _ = LAST.try_with(|last| last.replace(Some((key, Arc::clone(&holder)))));
    Some(holder)
}

/// The running holder's held set, made on first use (`None` during thread teardown).
pub(crate) fn current() -> Option<Arc<TaskHeld>> {
    lookup(current_key()?, true)
}

/// The running holder's held set if it holds something: what a sync acquisition looks at.
pub(crate) fn current_holding() -> Option<Arc<TaskHeld>> {
    let holder = lookup(current_key()?, false)?;
    (!holder.with(|t| t.stack().is_empty())).then_some(holder)
}

#[cold]
fn insert(shard: &mut Shard, key: Key) -> Arc<TaskHeld> {
    if shard.holders.len() >= shard.sweep_at {
        sweep(shard);
    }
    let tid = registry::register_thread(holder_name(key));
    let mut state = POOL.lock().pop().unwrap_or_else(|| held::Thread::boxed(tid));
    state.tid = tid;
    let holder = Arc::new(TaskHeld { tid, word: key.word(), state: RawLock::new(state) });
    shard.holders.insert(key, Arc::clone(&holder));
    holder
}

fn holder_name(key: Key) -> String {
    match key {
        Key::Task(id) => format!("task {id}"),
        Key::Thread(tid) => format!("{} (block_on)", registry::thread_name(tid)),
    }
}

/// Drops the sets nobody holds a lock in and no guard refers to (their tasks are most
/// likely done), pooling their held stacks.
#[cold]
fn sweep(shard: &mut Shard) {
    let mut freed = Vec::new();
    shard.holders.retain(|_, holder| {
        let idle = Arc::strong_count(holder) == 1 && holder.state.try_lock().is_some_and(|t| t.stack().is_empty());
        if idle {
            freed.push(Arc::clone(holder));
        }
        !idle
    });
    shard.sweep_at = (shard.holders.len() * 2).max(SWEEP_MIN);
    let mut pool = POOL.lock();
    for holder in freed {
        let Ok(holder) = Arc::try_unwrap(holder) else { continue };
        if pool.len() < POOL_MAX {
            pool.push(holder.state.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tasks_word_is_its_number_and_no_threads() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            for _ in 0..3 {
                let id = tokio::spawn(async { tokio::task::id() }).await.unwrap();
                let number: u64 = id.to_string().parse().unwrap();
                assert_eq!(Key::Task(id).word(), number);
                assert_ne!(Key::Task(id).word(), Key::Thread(number as u32).word());
            }
        });
        assert_eq!(Key::Thread(7).word(), THREAD_WORD | 7);
    }

    #[test]
    fn idle_sets_are_swept_and_pooled_busy_ones_stay() {
        let mut shard = Shard { holders: FxHashMap::default(), sweep_at: SWEEP_MIN };
        let busy = insert(&mut shard, Key::Thread(u32::MAX));
        let acq = Acquire::new(
            1,
            registry::class_word(1, None),
            Mode::Exclusive,
            crate::analysis::report::LockKind::Mutex,
            std::panic::Location::caller(),
        );
        busy.push(&acq, true);
        let referenced = insert(&mut shard, Key::Thread(u32::MAX - 1));
        let idle = insert(&mut shard, Key::Thread(u32::MAX - 2));
        drop(idle);
        sweep(&mut shard);
        assert_eq!(shard.holders.len(), 2, "the idle set goes, the held and the referenced stay");
        assert!(busy.release(1, Mode::Exclusive).is_some());
        drop(referenced);
        drop(busy);
        sweep(&mut shard);
        assert!(shard.holders.is_empty());
    }
}
