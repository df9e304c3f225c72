//! Ids and descriptions of locks, classes and threads.
//!
//! Registration happens once per lock instance (at its first acquisition) and once per thread,
//! always on a cold path; the hot path only ever sees the ids.

use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::LazyLock;

use parking_lot::Mutex as RawLock;

/// What kind of primitive a lock is; decides which checks apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockKind {
    /// [`Mutex`](crate::Mutex).
    Mutex,
    /// [`RwLock`](crate::RwLock).
    RwLock,
    /// [`ReentrantMutex`](crate::ReentrantMutex).
    Reentrant,
    /// [`Semaphore`](crate::Semaphore).
    Semaphore,
}

/// The name, rank and creation site a lock was given; `const`-constructible so it can live in
/// a `static`'s lock.
#[derive(Debug)]
pub(crate) struct LockMeta {
    /// 0 until the lock's first instrumented acquisition registers it.
    id: AtomicU32,
    pub name: Option<&'static str>,
    pub rank: Option<u32>,
    pub site: Option<&'static Location<'static>>,
    pub kind: LockKind,
}

impl LockMeta {
    pub const fn new(
        kind: LockKind,
        name: Option<&'static str>,
        rank: Option<u32>,
        site: Option<&'static Location<'static>>,
    ) -> LockMeta {
        LockMeta { id: AtomicU32::new(0), name, rank, site, kind }
    }

    /// This lock's instance id, registering it on first use.
    #[inline]
    pub fn id(&self) -> u32 {
        // Relaxed: the id is only ever published once, and everything registration wrote is
        // in the registry behind its own lock; the id itself carries no other data.
        match self.id.load(Ordering::Relaxed) {
            0 => self.register(),
            id => id,
        }
    }

    /// The id if this lock was ever registered.
    pub fn registered_id(&self) -> Option<u32> {
        // Relaxed: see `id`.
        match self.id.load(Ordering::Relaxed) {
            0 => None,
            id => Some(id),
        }
    }

    #[cold]
    #[inline(never)]
    fn register(&self) -> u32 {
        let mut reg = REGISTRY.lock();
        // Two threads may race to register one lock: the loser's fresh id is never used.
        let fresh = reg.next_lock_id;
        // Relaxed: the compare-exchange only arbitrates which id wins; the registry lock
        // orders the table writes.
        match self.id.compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => {
                reg.next_lock_id += 1;
                let class = reg.intern_class(self);
                let info = LockInfo { class, rank: self.rank, kind: self.kind };
                reg.locks.insert(fresh, info);
                #[cfg(feature = "instrument")]
                if crate::collector::tracing() {
                    reg.new_locks.push((fresh, info));
                }
                fresh
            }
            Err(winner) => winner,
        }
    }

    /// Called when the lock is dropped: its instance goes, its class stays.
    pub fn retire(&self) {
        if let Some(id) = self.registered_id() {
            REGISTRY.lock().locks.remove(&id);
            #[cfg(feature = "instrument")]
            crate::graph::forget_lock(id);
        }
    }
}

/// One lock instance.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LockInfo {
    pub class: u32,
    pub rank: Option<u32>,
    pub kind: LockKind,
}

/// One lock class: every instance with this name, or (unnamed) created at this site.
#[derive(Clone, Debug)]
pub(crate) struct ClassInfo {
    /// The lock's name, or its creation site as `file:line:col`.
    pub label: String,
    pub named: bool,
    /// Where the first instance of this class was created, if known.
    pub site: Option<&'static Location<'static>>,
    pub kind: LockKind,
    pub rank: Option<u32>,
}

struct Registry {
    next_lock_id: u32,
    locks: HashMap<u32, LockInfo>,
    class_ids: HashMap<String, u32>,
    classes: Vec<ClassInfo>,
    threads: Vec<String>,
    /// Locks registered since the trace collector last declared them (tracing only: the
    /// collector must declare locks that are dropped before it runs).
    #[cfg(feature = "instrument")]
    new_locks: Vec<(u32, LockInfo)>,
}

impl Registry {
    fn intern_class(&mut self, meta: &LockMeta) -> u32 {
        let (label, named) = match (meta.name, meta.site) {
            (Some(name), _) => (name.to_owned(), true),
            (None, Some(site)) => (site_label(site), false),
            (None, None) => ("<unnamed lock>".to_owned(), false),
        };
        if let Some(&id) = self.class_ids.get(&label) {
            return id;
        }
        let id = self.classes.len() as u32;
        self.classes.push(ClassInfo { label: label.clone(), named, site: meta.site, kind: meta.kind, rank: meta.rank });
        self.class_ids.insert(label, id);
        id
    }
}

static REGISTRY: LazyLock<RawLock<Registry>> = LazyLock::new(|| {
    RawLock::new(Registry {
        next_lock_id: 1,
        locks: HashMap::new(),
        class_ids: HashMap::new(),
        classes: Vec::new(),
        threads: Vec::new(),
        #[cfg(feature = "instrument")]
        new_locks: Vec::new(),
    })
});

/// `file:line:col` of a site.
pub(crate) fn site_label(site: &Location<'_>) -> String {
    format!("{}:{}:{}", site.file(), site.line(), site.column())
}

/// The instance description of a live lock.
pub(crate) fn lock(id: u32) -> Option<LockInfo> {
    REGISTRY.lock().locks.get(&id).copied()
}

/// The class of a class id.
pub(crate) fn class(id: u32) -> ClassInfo {
    REGISTRY.lock().classes[id as usize].clone()
}

/// The class of a class id, if it exists (`graph` uses `u32::MAX` for unknown locks).
#[cfg(feature = "instrument")]
pub(crate) fn try_class(id: u32) -> Option<ClassInfo> {
    REGISTRY.lock().classes.get(id as usize).cloned()
}

/// The locks registered since the last call, for the trace collector.
#[cfg(feature = "instrument")]
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
