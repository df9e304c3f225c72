//! [`ReentrantMutex`]: a mutex its owner may lock again; only the outermost acquisition is
//! an acquisition to lockcheck.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use lock_api::GetThreadId as _;
use parking_lot::RawThreadId;

use crate::analysis::report::LockKind;
use crate::primitives::raw::{self, RawMutex};

/// parking_lot's reentrant mutex: the owning thread may lock it again; the data is shared.
///
/// ```
/// use lockcheck::ReentrantMutex;
///
/// let log = ReentrantMutex::named("log", std::cell::RefCell::new(Vec::new()));
/// let outer = log.lock();
/// let inner = log.lock(); // the same thread: no deadlock
/// inner.borrow_mut().push(1);
/// drop(inner);
/// assert_eq!(outer.borrow().len(), 1);
/// ```
pub struct ReentrantMutex<T: ?Sized> {
    inner: lock_api::ReentrantMutex<RawMutex, RawThreadId, T>,
}

/// The guard of a locked [`ReentrantMutex`].
pub type ReentrantMutexGuard<'a, T> = lock_api::ReentrantMutexGuard<'a, RawMutex, RawThreadId, T>;

/// A [`ReentrantMutexGuard`] mapped to a part of the data.
pub type MappedReentrantMutexGuard<'a, T> = lock_api::MappedReentrantMutexGuard<'a, RawMutex, RawThreadId, T>;

impl<T> ReentrantMutex<T> {
    /// A new unlocked reentrant mutex; its class is its creation site.
    #[inline]
    #[track_caller]
    pub const fn new(value: T) -> ReentrantMutex<T> {
        ReentrantMutex::build(None, None, value)
    }

    /// A new unlocked reentrant mutex whose class is `name`.
    #[inline]
    #[track_caller]
    pub const fn named(name: &'static str, value: T) -> ReentrantMutex<T> {
        ReentrantMutex::build(Some(name), None, value)
    }

    /// A new unlocked reentrant mutex with a name and a rank.
    #[inline]
    #[track_caller]
    pub const fn ranked(name: &'static str, rank: u32, value: T) -> ReentrantMutex<T> {
        ReentrantMutex::build(Some(name), Some(rank), value)
    }

    #[inline]
    #[track_caller]
    const fn build(name: Option<&'static str>, rank: Option<u32>, value: T) -> ReentrantMutex<T> {
        let raw = raw::mutex(LockKind::Reentrant, name, rank, Location::caller());
        ReentrantMutex { inner: lock_api::ReentrantMutex::from_raw(raw, RawThreadId::INIT, value) }
    }

    /// Consumes the mutex and returns the data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> ReentrantMutex<T> {
    crate::primitives::assertion::held_assertions!(|this| {
        // SAFETY: `raw` is only read for the lock's metadata; the lock state is not touched.
        raw::mutex_meta(unsafe { this.inner.raw() })
    });

    /// Acquires the mutex, blocking unless this thread already owns it.
    #[inline]
    #[track_caller]
    pub fn lock(&self) -> ReentrantMutexGuard<'_, T> {
        let _fresh = raw::fresh();
        raw::hint_site(Location::caller());
        raw::panics_at_caller(|| self.inner.lock())
    }

    /// Acquires the mutex if it is free or already ours, without blocking.
    #[inline]
    #[track_caller]
    pub fn try_lock(&self) -> Option<ReentrantMutexGuard<'_, T>> {
        raw::hint_site(Location::caller());
        self.inner.try_lock()
    }

    /// Acquires the mutex, giving up after `timeout`.
    #[inline]
    #[track_caller]
    pub fn try_lock_for(&self, timeout: Duration) -> Option<ReentrantMutexGuard<'_, T>> {
        let _fresh = raw::fresh();
        raw::hint_site(Location::caller());
        raw::panics_at_caller(|| self.inner.try_lock_for(timeout))
    }

    /// Acquires the mutex, giving up at `timeout`.
    #[inline]
    #[track_caller]
    pub fn try_lock_until(&self, timeout: Instant) -> Option<ReentrantMutexGuard<'_, T>> {
        let _fresh = raw::fresh();
        raw::hint_site(Location::caller());
        raw::panics_at_caller(|| self.inner.try_lock_until(timeout))
    }

    /// Whether the mutex is locked now.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Whether the current thread owns the mutex.
    #[inline]
    pub fn is_owned_by_current_thread(&self) -> bool {
        self.inner.is_owned_by_current_thread()
    }

    /// A mutable reference to the data.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// A raw pointer to the data.
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.inner.data_ptr()
    }

    /// Unlocks one level of a mutex whose guard was leaked.
    ///
    /// # Safety
    /// The mutex must be locked by the current thread, with a guard forgotten.
    #[inline]
    pub unsafe fn force_unlock(&self) {
        // SAFETY: the caller's contract is the inner method's.
        unsafe { self.inner.force_unlock() }
    }
}

impl<T: Default> Default for ReentrantMutex<T> {
    #[track_caller]
    fn default() -> ReentrantMutex<T> {
        ReentrantMutex::new(T::default())
    }
}

impl<T> From<T> for ReentrantMutex<T> {
    #[track_caller]
    fn from(value: T) -> ReentrantMutex<T> {
        ReentrantMutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for ReentrantMutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
