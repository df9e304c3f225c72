//! [`Mutex`]: parking_lot's mutex, with a name, a rank and a creation site.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use crate::analysis::report::LockKind;
use crate::primitives::raw::{self, RawMutex};

/// A mutual-exclusion lock with parking_lot's API; instrumented under the `instrument`
/// feature, parking_lot's own mutex (same size, same speed) without it.
///
/// ```
/// use lockcheck::Mutex;
///
/// static ACCOUNTS: Mutex<Vec<u64>> = Mutex::ranked("accounts", 10, Vec::new());
///
/// ACCOUNTS.lock().push(100);
/// assert_eq!(ACCOUNTS.lock().len(), 1);
/// ```
pub struct Mutex<T: ?Sized> {
    inner: lock_api::Mutex<RawMutex, T>,
}

/// The guard of a locked [`Mutex`]; unlocks on drop.
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, RawMutex, T>;

/// A [`MutexGuard`] mapped to a part of the protected data with `MutexGuard::map`.
pub type MappedMutexGuard<'a, T> = lock_api::MappedMutexGuard<'a, RawMutex, T>;

impl<T> Mutex<T> {
    /// A new unlocked mutex; its class is its creation site.
    #[inline]
    #[track_caller]
    pub const fn new(value: T) -> Mutex<T> {
        Mutex::build(None, None, value)
    }

    /// A new unlocked mutex whose class is `name`: every mutex with this name is one class.
    #[inline]
    #[track_caller]
    pub const fn named(name: &'static str, value: T) -> Mutex<T> {
        Mutex::build(Some(name), None, value)
    }

    /// A new unlocked mutex with a name and a rank: a thread may only acquire it while every
    /// ranked lock it holds has a lower rank.
    #[inline]
    #[track_caller]
    pub const fn ranked(name: &'static str, rank: u32, value: T) -> Mutex<T> {
        Mutex::build(Some(name), Some(rank), value)
    }

    #[inline]
    #[track_caller]
    const fn build(name: Option<&'static str>, rank: Option<u32>, value: T) -> Mutex<T> {
        let raw = raw::mutex(LockKind::Mutex, name, rank, Location::caller());
        Mutex { inner: lock_api::Mutex::from_raw(raw, value) }
    }

    /// Consumes the mutex and returns the data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    crate::primitives::assertion::held_assertions!(|this| {
        // SAFETY: `raw` is only read for the lock's metadata; the lock state is not touched.
        raw::mutex_meta(unsafe { this.inner.raw() })
    });

    /// Acquires the mutex, blocking until it is free.
    #[inline]
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        // The raw lock is taken directly, to tell it the call is fresh (see `check::Fresh`).
        // SAFETY: the lock is taken right here, and the guard made for it owns it from now on.
        unsafe {
            raw::lock_fresh(self.inner.raw());
            self.inner.make_guard_unchecked()
        }
    }

    /// Acquires the mutex if it is free, without blocking.
    #[inline]
    #[track_caller]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.inner.try_lock()
    }

    /// Acquires the mutex, giving up after `timeout`.
    #[inline]
    #[track_caller]
    pub fn try_lock_for(&self, timeout: Duration) -> Option<MutexGuard<'_, T>> {
        let _fresh = raw::fresh();
        self.inner.try_lock_for(timeout)
    }

    /// Acquires the mutex, giving up at `timeout`.
    #[inline]
    #[track_caller]
    pub fn try_lock_until(&self, timeout: Instant) -> Option<MutexGuard<'_, T>> {
        let _fresh = raw::fresh();
        self.inner.try_lock_until(timeout)
    }

    /// Whether the mutex is locked now.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// A mutable reference to the data; no locking needed, the borrow proves exclusivity.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// A raw pointer to the data.
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.inner.data_ptr()
    }

    /// Unlocks a mutex whose guard was leaked.
    ///
    /// # Safety
    /// The mutex must be locked by the current thread, with its guard forgotten.
    #[inline]
    pub unsafe fn force_unlock(&self) {
        // SAFETY: the caller's contract is the inner method's.
        unsafe { self.inner.force_unlock() }
    }

    /// Like [`force_unlock`](Self::force_unlock), handing the lock to a waiter fairly.
    ///
    /// # Safety
    /// As for [`force_unlock`](Self::force_unlock).
    #[inline]
    pub unsafe fn force_unlock_fair(&self) {
        // SAFETY: the caller's contract is the inner method's.
        unsafe { self.inner.force_unlock_fair() }
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    #[track_caller]
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
