//! [`OnceLock`] and [`LazyLock`]: std's lazily initialised cells. Without the `instrument`
//! feature they are std's own behind transparent wrappers. With it, the initialisation is an
//! exclusive acquisition of the cell (its class is its name, or its creation site) for as long
//! as the initialiser runs:
//!
//! - a lock the initialiser takes is an order "cell, then lock", and a cell initialised while
//!   a lock is held is an order "lock, then cell", like any other;
//! - a thread that finds another one initialising waits for it: a blocking acquisition, which
//!   the watchdog sees;
//! - an initialiser that reaches its own cell again is a self-deadlock, reported before it
//!   blocks (then, unless `LOCKCHECK_ON_CYCLE=panic`, it hangs as std's does, and the watchdog
//!   reports the thread waiting for itself).
//!
//! The acquisition is a gate (an instrumented [`crate::Mutex`]) taken around std's own
//! initialisation, only while the cell is empty: a `get` of an initialised cell is std's `get`.

use std::fmt;
#[cfg(feature = "instrument")]
use std::panic::{RefUnwindSafe, UnwindSafe};

/// A cell written once, with std's API; under the `instrument` feature its initialisation is
/// checked as an exclusive acquisition of the cell.
///
/// ```
/// use lockcheck::sync::OnceLock;
///
/// static CONFIG: OnceLock<String> = OnceLock::named("config");
///
/// assert_eq!(CONFIG.get_or_init(|| "fast".to_owned()), "fast");
/// assert_eq!(CONFIG.get().map(String::as_str), Some("fast"));
/// ```
#[cfg_attr(not(feature = "instrument"), repr(transparent))]
pub struct OnceLock<T> {
    inner: std::sync::OnceLock<T>,
    /// Held by the thread that initialises the cell, for as long as its initialiser runs.
    #[cfg(feature = "instrument")]
    gate: crate::primitives::mutex::Mutex<()>,
}

impl<T> OnceLock<T> {
    /// A new empty cell; its class is its creation site.
    #[inline]
    #[track_caller]
    pub const fn new() -> OnceLock<T> {
        OnceLock {
            inner: std::sync::OnceLock::new(),
            #[cfg(feature = "instrument")]
            gate: crate::primitives::mutex::Mutex::new(()),
        }
    }

    /// A new empty cell whose class is `name`.
    #[inline]
    #[track_caller]
    #[cfg_attr(not(feature = "instrument"), allow(unused_variables))]
    pub const fn named(name: &'static str) -> OnceLock<T> {
        OnceLock {
            inner: std::sync::OnceLock::new(),
            #[cfg(feature = "instrument")]
            gate: crate::primitives::mutex::Mutex::named(name, ()),
        }
    }

    /// A new empty cell with a name and a rank: its initialisation is an acquisition of
    /// that rank.
    #[inline]
    #[track_caller]
    #[cfg_attr(not(feature = "instrument"), allow(unused_variables))]
    pub const fn ranked(name: &'static str, rank: u32) -> OnceLock<T> {
        OnceLock {
            inner: std::sync::OnceLock::new(),
            #[cfg(feature = "instrument")]
            gate: crate::primitives::mutex::Mutex::ranked(name, rank, ()),
        }
    }

    /// The value, if the cell is initialised; never blocks.
    #[inline]
    pub fn get(&self) -> Option<&T> {
        self.inner.get()
    }

    /// A mutable reference to the value, if the cell is initialised.
    #[inline]
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.inner.get_mut()
    }

    /// Initialises the cell with `value`, unless it is initialised already: then the value
    /// comes back as the error. Waits for another thread's initialisation in progress.
    #[inline]
    #[track_caller]
    pub fn set(&self, value: T) -> Result<(), T> {
        #[cfg(feature = "instrument")]
        if self.inner.get().is_none() {
            let _gate = self.gate.lock();
            return self.inner.set(value);
        }
        self.inner.set(value)
    }

    /// The value, initialising the cell with `f` first if it is empty. Waits for another
    /// thread's initialisation in progress. `f` must not reach this cell again: that hangs
    /// (instrumented, it is reported first).
    #[inline]
    #[track_caller]
    pub fn get_or_init<F>(&self, f: F) -> &T
    where
        F: FnOnce() -> T,
    {
        #[cfg(feature = "instrument")]
        return match self.inner.get() {
            Some(value) => value,
            None => self.initialise(f),
        };
        #[cfg(not(feature = "instrument"))]
        self.inner.get_or_init(f)
    }

    /// The value, if the cell was initialised.
    #[inline]
    pub fn into_inner(self) -> Option<T> {
        self.inner.into_inner()
    }

    /// Takes the value out, leaving the cell empty.
    #[inline]
    pub fn take(&mut self) -> Option<T> {
        self.inner.take()
    }

    /// The slow path of [`get_or_init`](Self::get_or_init): std's initialisation, under the
    /// gate.
    #[cfg(feature = "instrument")]
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn initialise<F: FnOnce() -> T>(&self, f: F) -> &T {
        let _gate = self.gate.lock();
        self.inner.get_or_init(f)
    }
}

impl<T> Default for OnceLock<T> {
    #[track_caller]
    fn default() -> OnceLock<T> {
        OnceLock::new()
    }
}

impl<T> From<T> for OnceLock<T> {
    #[track_caller]
    fn from(value: T) -> OnceLock<T> {
        let cell = OnceLock::new();
        // A new cell is empty, so `set` succeeds.
        let _ = cell.inner.set(value);
        cell
    }
}

/// A clone is a new cell, of the class of the site that cloned it.
impl<T: Clone> Clone for OnceLock<T> {
    #[track_caller]
    fn clone(&self) -> OnceLock<T> {
        let cell = OnceLock::new();
        if let Some(value) = self.get() {
            // A new cell is empty, so `set` succeeds.
            let _ = cell.inner.set(value.clone());
        }
        cell
    }
}

impl<T: PartialEq> PartialEq for OnceLock<T> {
    fn eq(&self, other: &OnceLock<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceLock<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // std's own form: `OnceLock(value)` or `OnceLock(<uninit>)`.
        self.inner.fmt(f)
    }
}

// std's bounds: the gate is lockcheck's own, and a panic in the initialiser leaves the cell
// empty, as in std.
#[cfg(feature = "instrument")]
impl<T: RefUnwindSafe + UnwindSafe> RefUnwindSafe for OnceLock<T> {}
#[cfg(feature = "instrument")]
impl<T: UnwindSafe> UnwindSafe for OnceLock<T> {}

/// A value initialised on first access, with std's API; under the `instrument` feature its
/// initialisation is checked as [`OnceLock`]'s is.
///
/// ```
/// use lockcheck::sync::LazyLock;
///
/// static PRIMES: LazyLock<Vec<u32>> = LazyLock::named("primes", || vec![2, 3, 5, 7]);
///
/// assert_eq!(PRIMES.len(), 4);
/// ```
#[cfg_attr(not(feature = "instrument"), repr(transparent))]
pub struct LazyLock<T, F = fn() -> T> {
    #[cfg(not(feature = "instrument"))]
    inner: std::sync::LazyLock<T, F>,
    #[cfg(feature = "instrument")]
    cell: OnceLock<T>,
    /// The initialiser, until it runs: only touched under the cell's gate, while the cell is
    /// empty (the initialiser of `cell.get_or_init`), so by one thread at a time.
    #[cfg(feature = "instrument")]
    init: std::cell::UnsafeCell<Option<F>>,
}

impl<T, F: FnOnce() -> T> LazyLock<T, F> {
    /// A new lazy value, computed by `f` on first access; its class is its creation site.
    #[inline]
    #[track_caller]
    pub const fn new(f: F) -> LazyLock<T, F> {
        #[cfg(not(feature = "instrument"))]
        return LazyLock { inner: std::sync::LazyLock::new(f) };
        #[cfg(feature = "instrument")]
        LazyLock { cell: OnceLock::new(), init: std::cell::UnsafeCell::new(Some(f)) }
    }

    /// A new lazy value whose class is `name`.
    #[inline]
    #[track_caller]
    pub const fn named(name: &'static str, f: F) -> LazyLock<T, F> {
        #[cfg(not(feature = "instrument"))]
        return {
            let _ = name;
            LazyLock { inner: std::sync::LazyLock::new(f) }
        };
        #[cfg(feature = "instrument")]
        LazyLock { cell: OnceLock::named(name), init: std::cell::UnsafeCell::new(Some(f)) }
    }

    /// A new lazy value with a name and a rank.
    #[inline]
    #[track_caller]
    pub const fn ranked(name: &'static str, rank: u32, f: F) -> LazyLock<T, F> {
        #[cfg(not(feature = "instrument"))]
        return {
            let _ = (name, rank);
            LazyLock { inner: std::sync::LazyLock::new(f) }
        };
        #[cfg(feature = "instrument")]
        LazyLock { cell: OnceLock::ranked(name, rank), init: std::cell::UnsafeCell::new(Some(f)) }
    }

    /// The value, computing it first if this is the first access. Panics if an earlier
    /// computation panicked, as std's does.
    #[inline]
    #[track_caller]
    pub fn force(this: &LazyLock<T, F>) -> &T {
        #[cfg(not(feature = "instrument"))]
        return std::sync::LazyLock::force(&this.inner);
        #[cfg(feature = "instrument")]
        this.cell.get_or_init(|| {
            // SAFETY: this runs as the cell's initialiser, under its gate: no other thread
            // touches `init` meanwhile (see the field), and a re-entrant call from `f` blocks
            // on the gate before it gets here.
            match unsafe { (*this.init.get()).take() } {
                Some(f) => f(),
                None => panic!("LazyLock instance has previously been poisoned"),
            }
        })
    }
}

impl<T, F: FnOnce() -> T> std::ops::Deref for LazyLock<T, F> {
    type Target = T;

    #[inline]
    #[track_caller]
    fn deref(&self) -> &T {
        LazyLock::force(self)
    }
}

impl<T: Default> Default for LazyLock<T> {
    #[track_caller]
    fn default() -> LazyLock<T> {
        LazyLock::new(T::default)
    }
}

impl<T: fmt::Debug, F> fmt::Debug for LazyLock<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(not(feature = "instrument"))]
        return self.inner.fmt(f);
        // std's own form: `LazyLock(value)` or `LazyLock(<uninit>)`.
        #[cfg(feature = "instrument")]
        {
            let mut d = f.debug_tuple("LazyLock");
            match self.cell.get() {
                Some(value) => d.field(value),
                None => d.field(&format_args!("<uninit>")),
            };
            d.finish()
        }
    }
}

// SAFETY: std's bounds. `T` is shared between threads once initialised (hence `Sync`) and
// may be initialised on one thread and dropped on another (hence `Send`); `F` is only ever
// run, under the gate, by one thread (hence `Send`).
#[cfg(feature = "instrument")]
unsafe impl<T: Sync + Send, F: Send> Sync for LazyLock<T, F> {}
#[cfg(feature = "instrument")]
impl<T: RefUnwindSafe + UnwindSafe, F: UnwindSafe> RefUnwindSafe for LazyLock<T, F> {}
#[cfg(feature = "instrument")]
impl<T: UnwindSafe, F: UnwindSafe> UnwindSafe for LazyLock<T, F> {}
