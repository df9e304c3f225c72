//! Ids and descriptions of locks, classes and threads.
//!
//! Registration happens once per lock instance (at its first acquisition) and once per thread,
//! always on a cold path; the hot path only ever sees the ids. A lock instance needs no table
//! entry of its own: its id and class id live in its [`LockMeta`], and everything a report says
//! about it comes from its class.

#![cfg_attr(not(feature = "instrument"), allow(dead_code))] // Used by instrumentation only.

use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::LazyLock;

use parking_lot::Mutex as RawLock;
use rustc_hash::FxHashMap;

use crate::analysis::report::LockKind;

/// The name, rank and creation site a lock was given; `const`-constructible so it can live in
/// a `static`'s lock.
#[derive(Debug)]
pub(crate) struct LockMeta {
    /// 0 until the lock's first instrumented acquisition registers it.
    id: AtomicU32,
    /// The class id (high half) and rank + 1 (low half, 0 = unranked): what a held-stack
    /// entry of this lock contributes to chain keys, precomputed (see `held.rs`). Valid once
    /// `id` is non-zero.
    class_word: AtomicU64,
    pub name: Option<&'static str>,
    pub rank: Option<u32>,
    pub site: Option<&'static Location<'static>>,
    pub kind: LockKind,
    /// Who holds the lock, for the watchdog's stall reports.
    #[cfg(feature = "instrument")]
    pub owner: crate::runtime::watchdog::Owner,
    /// Whether holding the lock excludes every other holder, beyond what its kind says: set
    /// only for a semaphore created with one permit, cleared for good by its first
    /// `add_permits` or `forget` (see [`lose_exclusion`](Self::lose_exclusion)).
    one_permit: AtomicBool,
}

/// Process-wide start-up, run by the first lock registration: the collector (when tracing),
/// the watchdog thread (when it is on) and the unwinder's first-use work (when stacks are on). The first registration is the one
/// moment every process passes through holding no lock of lockcheck's (any lock it held would
/// have been registered before), so this work never lengthens a critical section. Returns
/// whether a trace is recorded.
#[cfg(feature = "instrument")]
fn first_registration() -> bool {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        if crate::record::stack::enabled() {
            crate::record::stack::warm_up();
        }
        crate::runtime::watchdog::start();
        crate::runtime::stress::start();
    });
    crate::runtime::collector::start()
}

/// Runs [`first_registration`] before `main`.
#[cfg(feature = "instrument")]
// SAFETY (of running before `main`): this only reads the environment, creates the trace file
// and spawns lockcheck's own threads, none of which needs anything `main` sets up; it never
// panics (failures are one warning line), and nothing else in the crate runs before it.
#[ctor::ctor(unsafe)]
fn start_before_main() {
    first_registration();
}

/// The next lock instance id (0 means "not registered").
static NEXT_LOCK_ID: AtomicU32 = AtomicU32::new(1);

impl LockMeta {
    pub const fn new(
        kind: LockKind,
        name: Option<&'static str>,
        rank: Option<u32>,
        site: Option<&'static Location<'static>>,
    ) -> LockMeta {
        LockMeta {
            id: AtomicU32::new(0),
            class_word: AtomicU64::new(0),
            name,
            rank,
            site,
            kind,
            #[cfg(feature = "instrument")]
            owner: crate::runtime::watchdog::Owner::new(),
            one_permit: AtomicBool::new(false),
        }
    }

    /// A semaphore's description: with `permits == 1` it excludes like a mutex, so it is a
    /// gate (see `graph.rs`) until its permit count changes.
    pub const fn semaphore(
        name: Option<&'static str>,
        rank: Option<u32>,
        site: Option<&'static Location<'static>>,
        permits: usize,
    ) -> LockMeta {
        let meta = LockMeta::new(LockKind::Semaphore, name, rank, site);
        LockMeta { one_permit: AtomicBool::new(permits == 1), ..meta }
    }

    /// A semaphore's permit count changed (`add_permits`, `forget`): it no longer excludes,
    /// so edges seen from now on do not count it as a gate. Once per semaphore at most.
    #[cfg(feature = "instrument")]
    pub fn lose_exclusion(&self) {
        // SeqCst, and the graph lock `revoke_gate` takes: against a registration in progress
        // (see `register`), one of the two sees the other's write.
        if self.one_permit.swap(false, Ordering::SeqCst) {
            self.lose_exclusion_slow();
        }
    }

    #[cfg(feature = "instrument")]
    #[cold]
    #[inline(never)]
    fn lose_exclusion_slow(&self) {
        crate::runtime::graph::revoke_gate(|| {
            // Acquire: pairs with `register`'s Release; read under the graph lock, after
            // which a registration that has not published its id yet sees the flag cleared.
            Some(self.id.load(Ordering::Acquire)).filter(|&id| id != 0)
        });
    }

    /// This lock's instance id and class word (see [`class_word`](Self::class_word)),
    /// registering it on first use, at `site` (the class of a lock with neither a name nor
    /// a creation site).
    #[inline]
    pub fn ids(&self, site: &'static Location<'static>) -> (u32, u64) {
        match self.registered() {
            Some(ids) => ids,
            None => self.register(site),
        }
    }

    /// This lock's instance id and class word, if it was ever registered.
    #[inline(always)]
    pub fn registered(&self) -> Option<(u32, u64)> {
        // Acquire: pairs with the Release of the winning compare-exchange in `register`, so a
        // thread that sees the id also sees the class word stored before it.
        match self.id.load(Ordering::Acquire) {
            0 => None,
            // Relaxed: ordered by the Acquire load above.
            id => Some((id, self.class_word.load(Ordering::Relaxed))),
        }
    }

    /// The id if this lock was ever registered.
    #[inline]
    pub fn registered_id(&self) -> Option<u32> {
        // Relaxed: the id alone is compared with held-stack entries of this thread, which
        // registered it (or saw it registered) before pushing them.
        match self.id.load(Ordering::Relaxed) {
            0 => None,
            id => Some(id),
        }
    }

    #[cold]
    #[inline(never)]
    fn register(&self, first_use: &'static Location<'static>) -> (u32, u64) {
        // Before any id is handed out: the recorder records only once the collector has
        // attached to it, and a thread's first event is about a lock it registered (or saw
        // registered, which happened after this call returned on the registering thread).
        #[cfg(feature = "instrument")]
        let tracing = first_registration();
        let class = intern_class(self, first_use);
        let word = class_word(class, self.rank);
        // Relaxed: ids only need to be unique.
        let fresh = NEXT_LOCK_ID.fetch_add(1, Ordering::Relaxed);
        // Relaxed: published by the Release compare-exchange below.
        self.class_word.store(word, Ordering::Relaxed);
        // Release on success: publishes `class` (see `ids`). Acquire on failure: we read the
        // winner's class, stored before its successful Release.
        match self.id.compare_exchange(0, fresh, Ordering::Release, Ordering::Acquire) {
            Ok(_) => {
                #[cfg(feature = "instrument")]
                if self.kind == LockKind::Semaphore {
                    // Under the graph lock: see `lose_exclusion`.
                    crate::runtime::graph::note_gate(fresh, || self.one_permit.load(Ordering::SeqCst));
                }
                #[cfg(feature = "instrument")]
                if tracing {
                    REGISTRY.lock().new_locks.push((fresh, LockInfo { class, rank: self.rank, kind: self.kind }));
                }
                (fresh, word)
            }
            // Two threads raced to register one lock; both computed the same class.
            Err(winner) => (winner, word),
        }
    }

    /// Called when the lock is dropped: its instance goes, its class stays.
    pub fn retire(&self) {
        if let Some(id) = self.registered_id() {
            #[cfg(feature = "instrument")]
            crate::runtime::graph::forget_lock(id);
            #[cfg(not(feature = "instrument"))]
            let _ = id;
        }
    }
}

/// A class and rank packed into one word: the class id in the high half, rank + 1 in the low
/// half (0 = unranked).
#[inline]
pub(crate) const fn class_word(class: u32, rank: Option<u32>) -> u64 {
    let rank = match rank {
        Some(rank) => rank.wrapping_add(1),
        None => 0,
    };
    (class as u64) << 32 | rank as u64
}

/// The class of a [`class_word`].
#[inline(always)]
pub(crate) const fn word_class(word: u64) -> u32 {
    (word >> 32) as u32
}

/// The rank of a [`class_word`].
pub(crate) const fn word_rank(word: u64) -> Option<u32> {
    match word as u32 {
        0 => None,
        rank => Some(rank.wrapping_sub(1)),
    }
}

/// One lock instance, as the trace declares it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LockInfo {
    pub class: u32,
    pub rank: Option<u32>,
    pub kind: LockKind,
}

/// One lock class: every instance with this name, or (unnamed) created at this site.
#[derive(Clone, Debug)]
pub(crate) struct ClassInfo {
    /// The lock's name, or its creation site as `file:line:col` (see [`class_site_label`]),
    /// or `first locked at file:line:col` for a raw lock with neither.
    pub label: String,
    /// Whether the label is a name (not a creation site).
    pub named: bool,
    /// The kind of the first instance seen.
    pub kind: LockKind,
    /// The rank of the first instance seen.
    pub rank: Option<u32>,
    /// Where the first instance was created.
    pub site: Option<&'static Location<'static>>,
}

#[derive(Default)]
struct Registry {
    /// Classes by name, by creation-site pointer (fast), and by label (the same site can have
    /// several `Location` statics, one per codegen unit).
    by_name: FxHashMap<&'static str, u32>,
    by_site: FxHashMap<usize, u32>,
    /// Classes of locks without a name or a creation site, by first-acquisition site pointer.
    by_first_use: FxHashMap<usize, u32>,
    by_label: FxHashMap<String, u32>,
    classes: Vec<ClassInfo>,
    threads: Vec<String>,
    /// Locks registered since the trace collector last declared them (tracing only: the
    /// collector must declare locks that are dropped before it runs).
    new_locks: Vec<(u32, LockInfo)>,
}

static REGISTRY: LazyLock<RawLock<Registry>> = LazyLock::new(Default::default);

/// The class of a lock: its name; else its creation site; else, for a raw lock built by
/// lock_api's `INIT` (`lock_api::Mutex::<lockcheck::RawMutex, _>::new`, which has no caller
/// to take a site from), the site of its first acquisition — so locks first taken in
/// different places are different classes, where one `<unnamed lock>` class held them all
/// and the class graph could have no edge between them.
fn intern_class(meta: &LockMeta, first_use: &'static Location<'static>) -> u32 {
    let mut reg = REGISTRY.lock();
    let key = |site: &Location<'_>| site as *const Location<'_> as usize;
    let fast = match (meta.name, meta.site) {
        (Some(name), _) => reg.by_name.get(name),
        (None, Some(site)) => reg.by_site.get(&key(site)),
        (None, None) => reg.by_first_use.get(&key(first_use)),
    };
    if let Some(&class) = fast {
        return class;
    }
    let label = match (meta.name, meta.site) {
        (Some(name), _) => name.to_owned(),
        (None, Some(site)) => class_site_label(site),
        (None, None) => format!("first locked at {}", class_site_label(first_use)),
    };
    let class = match reg.by_label.get(&label) {
        Some(&class) => class,
        None => {
            let class = reg.classes.len() as u32;
            let named = meta.name.is_some();
            reg.classes.push(ClassInfo {
                label: label.clone(),
                named,
                kind: meta.kind,
                rank: meta.rank,
                site: meta.site,
            });
            reg.by_label.insert(label, class);
            class
        }
    };
    match (meta.name, meta.site) {
        (Some(name), _) => reg.by_name.insert(name, class),
        (None, Some(site)) => reg.by_site.insert(key(site), class),
        (None, None) => reg.by_first_use.insert(key(first_use), class),
    };
    class
}

/// A site as a class label: `file:line:col`, with a dependency's file named from its crate
/// (`lock_api-0.4.14/src/mutex.rs`) rather than from wherever cargo unpacked it
/// (`/home/me/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/lock_api-0.4.14/…`): the
/// label then says which crate the lock is in, and is the same on every machine, so traces
/// of different machines merge. A path of the workspace's own (relative, as cargo passes
/// them) stays as it is: one workspace's processes must keep agreeing on it.
pub(crate) fn class_site_label(site: &Location<'_>) -> String {
    format!("{}:{}:{}", from_crate(site.file()), site.line(), site.column())
}

/// A source file's path from its crate's directory on, for a crate cargo unpacked from a
/// registry (`…/registry/src/<index>/<crate>-<version>/<path>`); any other path as it is.
fn from_crate(file: &str) -> &str {
    match file.find("/registry/src/") {
        Some(at) => file[at + "/registry/src/".len()..].split_once('/').map_or(file, |(_, from_crate)| from_crate),
        None => file,
    }
}

/// `file:line:col` of a site.
pub(crate) fn site_label(site: &Location<'_>) -> String {
    format!("{}:{}:{}", site.file(), site.line(), site.column())
}

/// The label of a class.
pub(crate) fn class_label(class: u32) -> String {
    REGISTRY.lock().classes.get(class as usize).map_or_else(|| format!("class #{class}"), |c| c.label.clone())
}

/// The description of a class.
pub(crate) fn class(class: u32) -> ClassInfo {
    REGISTRY.lock().classes[class as usize].clone()
}

/// The class of a class id, if it exists.
pub(crate) fn try_class(id: u32) -> Option<ClassInfo> {
    REGISTRY.lock().classes.get(id as usize).cloned()
}

/// The locks registered since the last call, for the trace collector.
pub(crate) fn take_new_locks() -> Vec<(u32, LockInfo)> {
    std::mem::take(&mut REGISTRY.lock().new_locks)
}

/// Registers the calling thread under `name` and returns its id (ids start at 1).
#[cold]
pub(crate) fn register_thread(name: String) -> u32 {
    let mut reg = REGISTRY.lock();
    reg.threads.push(name);
    reg.threads.len() as u32
}

/// The name a thread registered with.
pub(crate) fn thread_name(id: u32) -> String {
    let reg = REGISTRY.lock();
    reg.threads.get(id.wrapping_sub(1) as usize).cloned().unwrap_or_else(|| format!("thread #{id}"))
}

/// How reports name a lock of `class`.
pub(crate) fn lock_ref(class: u32, instance: Option<u32>, rank: Option<u32>) -> crate::analysis::report::LockRef {
    crate::analysis::report::LockRef { class: class_label(class), instance, rank }
}

#[cfg(test)]
mod tests {
    use super::from_crate;

    #[test]
    fn a_dependencys_file_is_named_from_its_crate() {
        let unpacked = "/home/me/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/lock_api-0.4.14/src/mutex.rs";
        assert_eq!(from_crate(unpacked), "lock_api-0.4.14/src/mutex.rs");
        assert_eq!(from_crate("src/lib.rs"), "src/lib.rs", "the workspace's own: as cargo passed it");
        assert_eq!(from_crate("/work/other/src/lib.rs"), "/work/other/src/lib.rs");
        assert_eq!(from_crate("/x/registry/src/only-an-index"), "/x/registry/src/only-an-index");
    }
}
