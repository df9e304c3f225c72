//! [`RwLock`]: std's reader-writer lock API, poisoning included. Without the `instrument`
//! feature it is std's own lock behind a transparent wrapper, with std's guards; with it,
//! lockcheck's instrumented raw reader-writer lock plus std's poisoning.
//!
//! std's `RwLock` is writer-preferring on Linux (a `read` waits behind a queued writer) and has
//! no `read_recursive`: its `read` is modelled as parking_lot's task-fair `read`
//! ([`Mode::Shared`](crate::Mode::Shared)), so a read-read cycle, or a read taken twice by one
//! thread, is reported as it is for [`crate::RwLock`].

use std::fmt;
#[cfg(feature = "instrument")]
use std::panic::Location;
#[cfg(feature = "instrument")]
use std::sync::TryLockError;
use std::sync::{LockResult, TryLockResult};

#[cfg(not(feature = "instrument"))]
pub use std::sync::{RwLockReadGuard, RwLockWriteGuard};

#[cfg(feature = "instrument")]
use crate::primitives::{raw, sync::poison};

/// A reader-writer lock with std's API, poisoning included; instrumented under the
/// `instrument` feature, std's own lock (same size, same speed) without it.
///
/// ```
/// use lockcheck::sync::RwLock;
///
/// let config = RwLock::named("config", 5);
/// assert_eq!(*config.read().unwrap(), 5);
/// *config.write().unwrap() += 1;
/// assert_eq!(*config.read().unwrap(), 6);
/// ```
#[cfg_attr(not(feature = "instrument"), repr(transparent))]
pub struct RwLock<T: ?Sized> {
    #[cfg(feature = "instrument")]
    poison: poison::Flag,
    #[cfg(not(feature = "instrument"))]
    inner: std::sync::RwLock<T>,
    #[cfg(feature = "instrument")]
    inner: lock_api::RwLock<raw::RawRwLock, T>,
}

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

    #[cfg(not(feature = "instrument"))]
    #[inline]
    const fn build(_: Option<&'static str>, _: Option<u32>, value: T) -> RwLock<T> {
        RwLock { inner: std::sync::RwLock::new(value) }
    }

    #[cfg(feature = "instrument")]
    #[inline]
    #[track_caller]
    const fn build(name: Option<&'static str>, rank: Option<u32>, value: T) -> RwLock<T> {
        let raw = raw::rwlock(name, rank, Location::caller());
        RwLock { poison: poison::Flag::new(), inner: lock_api::RwLock::from_raw(raw, value) }
    }
}

impl<T: ?Sized> RwLock<T> {
    crate::primitives::assertion::rw_held_assertions!(|this| this.meta());

    /// Shared access, blocking while a writer holds the lock (or, on Linux, waits for it).
    /// An error (still holding the guard) if a writer panicked while holding it.
    #[inline]
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.read();
        #[cfg(feature = "instrument")]
        {
            // The raw lock is taken directly, to tell it the call is fresh (see `check::Fresh`).
            // SAFETY: the lock is taken right here, and the guard made for it owns it from now on.
            let inner = unsafe {
                raw::read_fresh(self.inner.raw());
                self.inner.make_read_guard_unchecked()
            };
            self.poison.result(RwLockReadGuard { inner })
        }
    }

    /// Shared access if available now, without blocking.
    #[inline]
    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.try_read();
        #[cfg(feature = "instrument")]
        match self.inner.try_read() {
            Some(inner) => Ok(self.poison.result(RwLockReadGuard { inner })?),
            None => Err(TryLockError::WouldBlock),
        }
    }

    /// Exclusive access, blocking until no one else holds the lock. An error (still holding
    /// the guard) if a writer panicked while holding it.
    #[inline]
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.write();
        #[cfg(feature = "instrument")]
        {
            // SAFETY: as in `read`.
            let inner = unsafe {
                raw::write_fresh(self.inner.raw());
                self.inner.make_write_guard_unchecked()
            };
            self.poison.result(RwLockWriteGuard { _poison: self.poison.guard(), inner })
        }
    }

    /// Exclusive access if available now, without blocking.
    #[inline]
    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.try_write();
        #[cfg(feature = "instrument")]
        match self.inner.try_write() {
            Some(inner) => Ok(self.poison.result(RwLockWriteGuard { _poison: self.poison.guard(), inner })?),
            None => Err(TryLockError::WouldBlock),
        }
    }

    /// What the held-lock assertions know of this lock.
    #[inline(always)]
    fn meta(&self) -> &crate::primitives::assertion::Meta {
        #[cfg(not(feature = "instrument"))]
        return &();
        #[cfg(feature = "instrument")]
        {
            // SAFETY: `raw` is only read for the lock's metadata; the lock state is not touched.
            raw::rwlock_meta(unsafe { self.inner.raw() })
        }
    }
}

super::std_lock_common!(RwLock, try_read);

/// Shared access to a [`RwLock`]; unlocks on drop. A panic while reading does not poison, as
/// in std. (Without the `instrument` feature this is std's own guard.)
#[cfg(feature = "instrument")]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    inner: lock_api::RwLockReadGuard<'a, raw::RawRwLock, T>,
}

/// Exclusive access to a [`RwLock`]; unlocks on drop, poisoning the lock if its thread is
/// panicking. (Without the `instrument` feature this is std's own guard.)
#[cfg(feature = "instrument")]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    // Never read, only dropped: first, so the poison is set before the lock is released.
    _poison: poison::Guard<'a>,
    inner: lock_api::RwLockWriteGuard<'a, raw::RawRwLock, T>,
}

#[cfg(feature = "instrument")]
impl<T: ?Sized> std::ops::Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

#[cfg(feature = "instrument")]
impl<T: ?Sized> std::ops::Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

#[cfg(feature = "instrument")]
impl<T: ?Sized> std::ops::DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

#[cfg(feature = "instrument")]
super::fmt_as_data!(RwLockReadGuard, RwLockWriteGuard);
