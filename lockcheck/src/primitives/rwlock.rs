//! [`RwLock`]: parking_lot's task-fair reader-writer lock, with a name, a rank and a
//! creation site. Task-fair means a `read` queues behind a waiting writer, so two reads of
//! one lock in one thread, or a read-read cycle, can deadlock; `read_recursive` cannot.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use crate::primitives::raw::{self, RawRwLock};

/// A reader-writer lock with parking_lot's API; instrumented under the `instrument` feature,
/// parking_lot's own lock without it.
///
/// ```
/// use lockcheck::RwLock;
///
/// let config = RwLock::named("config", 5);
/// assert_eq!(*config.read(), 5);
/// *config.write() += 1;
/// assert_eq!(*config.read(), 6);
/// ```
pub struct RwLock<T: ?Sized> {
    inner: lock_api::RwLock<RawRwLock, T>,
}

/// Shared access to a [`RwLock`]; unlocks on drop.
pub type RwLockReadGuard<'a, T> = lock_api::RwLockReadGuard<'a, RawRwLock, T>;
/// Exclusive access to a [`RwLock`]; unlocks on drop.
pub type RwLockWriteGuard<'a, T> = lock_api::RwLockWriteGuard<'a, RawRwLock, T>;
/// Shared access that can be upgraded to exclusive; only one at a time.
pub type RwLockUpgradableReadGuard<'a, T> = lock_api::RwLockUpgradableReadGuard<'a, RawRwLock, T>;
/// A read guard mapped to a part of the data.
pub type MappedRwLockReadGuard<'a, T> = lock_api::MappedRwLockReadGuard<'a, RawRwLock, T>;
/// A write guard mapped to a part of the data.
pub type MappedRwLockWriteGuard<'a, T> = lock_api::MappedRwLockWriteGuard<'a, RawRwLock, T>;

impl<T> RwLock<T> {
    /// A new unlocked lock; its class is its creation site.
    #[inline]
    #[track_caller]
    pub const fn new(value: T) -> RwLock<T> {
        RwLock::build(None, None, value)
    }

    /// A new unlocked lock whose class is `name`.
    #[inline]
    #[track_caller]
    pub const fn named(name: &'static str, value: T) -> RwLock<T> {
        RwLock::build(Some(name), None, value)
    }

    /// A new unlocked lock with a name and a rank.
    #[inline]
    #[track_caller]
    pub const fn ranked(name: &'static str, rank: u32, value: T) -> RwLock<T> {
        RwLock::build(Some(name), Some(rank), value)
    }

    #[inline]
    #[track_caller]
    const fn build(name: Option<&'static str>, rank: Option<u32>, value: T) -> RwLock<T> {
        RwLock { inner: lock_api::RwLock::from_raw(raw::rwlock(name, rank, Location::caller()), value) }
    }

    /// Consumes the lock and returns the data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    crate::primitives::assertion::rw_held_assertions!(|this| {
        // SAFETY: `raw` is only read for the lock's metadata; the lock state is not touched.
        raw::rwlock_meta(unsafe { this.inner.raw() })
    });

    /// Shared access, blocking while a writer holds the lock or waits for it.
    #[inline]
    #[track_caller]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        // The raw lock is taken directly, to tell it the call is fresh (see `check::Fresh`).
        // SAFETY: the lock is taken right here, and the guard made for it owns it from now on.
        unsafe {
            raw::read_fresh(self.inner.raw());
            self.inner.make_read_guard_unchecked()
        }
    }

    /// Shared access if available now.
    #[inline]
    #[track_caller]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.inner.try_read()
    }

    /// Shared access, giving up after `timeout`.
    #[inline]
    #[track_caller]
    pub fn try_read_for(&self, timeout: Duration) -> Option<RwLockReadGuard<'_, T>> {
        let _fresh = raw::fresh();
        self.inner.try_read_for(timeout)
    }

    /// Shared access, giving up at `timeout`.
    #[inline]
    #[track_caller]
    pub fn try_read_until(&self, timeout: Instant) -> Option<RwLockReadGuard<'_, T>> {
        let _fresh = raw::fresh();
        self.inner.try_read_until(timeout)
    }

    /// Shared access that does not queue behind waiting writers (safe to nest).
    #[inline]
    #[track_caller]
    pub fn read_recursive(&self) -> RwLockReadGuard<'_, T> {
        // The raw lock is taken directly, to tell it the call is fresh (see `check::Fresh`).
        // SAFETY: the lock is taken right here, and the guard made for it owns it from now on.
        unsafe {
            raw::read_recursive_fresh(self.inner.raw());
            self.inner.make_read_guard_unchecked()
        }
    }

    /// [`read_recursive`](Self::read_recursive) if available now.
    #[inline]
    #[track_caller]
    pub fn try_read_recursive(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.inner.try_read_recursive()
    }

    /// [`read_recursive`](Self::read_recursive), giving up after `timeout`.
    #[inline]
    #[track_caller]
    pub fn try_read_recursive_for(&self, timeout: Duration) -> Option<RwLockReadGuard<'_, T>> {
        let _fresh = raw::fresh();
        self.inner.try_read_recursive_for(timeout)
    }

    /// [`read_recursive`](Self::read_recursive), giving up at `timeout`.
    #[inline]
    #[track_caller]
    pub fn try_read_recursive_until(&self, timeout: Instant) -> Option<RwLockReadGuard<'_, T>> {
        let _fresh = raw::fresh();
        self.inner.try_read_recursive_until(timeout)
    }

    /// Exclusive access, blocking until no one else holds the lock.
    #[inline]
    #[track_caller]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        // The raw lock is taken directly, to tell it the call is fresh (see `check::Fresh`).
        // SAFETY: the lock is taken right here, and the guard made for it owns it from now on.
        unsafe {
            raw::write_fresh(self.inner.raw());
            self.inner.make_write_guard_unchecked()
        }
    }

    /// Exclusive access if available now.
    #[inline]
    #[track_caller]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.inner.try_write()
    }

    /// Exclusive access, giving up after `timeout`.
    #[inline]
    #[track_caller]
    pub fn try_write_for(&self, timeout: Duration) -> Option<RwLockWriteGuard<'_, T>> {
        let _fresh = raw::fresh();
        self.inner.try_write_for(timeout)
    }

    /// Exclusive access, giving up at `timeout`.
    #[inline]
    #[track_caller]
    pub fn try_write_until(&self, timeout: Instant) -> Option<RwLockWriteGuard<'_, T>> {
        let _fresh = raw::fresh();
        self.inner.try_write_until(timeout)
    }

    /// Upgradable shared access: readers may share it, and it can become exclusive.
    #[inline]
    #[track_caller]
    pub fn upgradable_read(&self) -> RwLockUpgradableReadGuard<'_, T> {
        // The raw lock is taken directly, to tell it the call is fresh (see `check::Fresh`).
        // SAFETY: the lock is taken right here, and the guard made for it owns it from now on.
        unsafe {
            raw::upgradable_fresh(self.inner.raw());
            self.inner.make_upgradable_guard_unchecked()
        }
    }

    /// Upgradable access if available now.
    #[inline]
    #[track_caller]
    pub fn try_upgradable_read(&self) -> Option<RwLockUpgradableReadGuard<'_, T>> {
        self.inner.try_upgradable_read()
    }

    /// Upgradable access, giving up after `timeout`.
    #[inline]
    #[track_caller]
    pub fn try_upgradable_read_for(&self, timeout: Duration) -> Option<RwLockUpgradableReadGuard<'_, T>> {
        let _fresh = raw::fresh();
        self.inner.try_upgradable_read_for(timeout)
    }

    /// Upgradable access, giving up at `timeout`.
    #[inline]
    #[track_caller]
    pub fn try_upgradable_read_until(&self, timeout: Instant) -> Option<RwLockUpgradableReadGuard<'_, T>> {
        let _fresh = raw::fresh();
        self.inner.try_upgradable_read_until(timeout)
    }

    /// Whether the lock is held in any mode.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Whether a writer holds the lock.
    #[inline]
    pub fn is_locked_exclusive(&self) -> bool {
        self.inner.is_locked_exclusive()
    }

    /// A mutable reference to the data; the borrow proves exclusivity.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// A raw pointer to the data.
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.inner.data_ptr()
    }

    /// Releases a read lock whose guard was leaked.
    ///
    /// # Safety
    /// The current thread must hold a read lock with its guard forgotten.
    #[inline]
    pub unsafe fn force_unlock_read(&self) {
        // SAFETY: the caller's contract is the inner method's.
        unsafe { self.inner.force_unlock_read() }
    }

    /// Releases a write lock whose guard was leaked.
    ///
    /// # Safety
    /// The current thread must hold the write lock with its guard forgotten.
    #[inline]
    pub unsafe fn force_unlock_write(&self) {
        // SAFETY: the caller's contract is the inner method's.
        unsafe { self.inner.force_unlock_write() }
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    #[track_caller]
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
