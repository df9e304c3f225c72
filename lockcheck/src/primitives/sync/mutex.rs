//! [`Mutex`]: std's mutex API, poisoning included. Without the `instrument` feature it is
//! std's own mutex behind a transparent wrapper, and its guard is std's `MutexGuard`; with it,
//! lockcheck's instrumented raw mutex (the one `crate::Mutex` runs on) plus std's poisoning.

use std::fmt;
#[cfg(feature = "instrument")]
use std::panic::Location;
#[cfg(feature = "instrument")]
use std::sync::TryLockError;
use std::sync::{LockResult, TryLockResult};

#[cfg(not(feature = "instrument"))]
pub use std::sync::MutexGuard;

#[cfg(feature = "instrument")]
use crate::primitives::{raw, sync::poison};

/// A mutual-exclusion lock with std's API, poisoning included; instrumented under the
/// `instrument` feature, std's own mutex (same size, same speed) without it.
///
/// ```
/// use lockcheck::sync::Mutex;
///
/// static ACCOUNTS: Mutex<Vec<u64>> = Mutex::ranked("accounts", 10, Vec::new());
///
/// ACCOUNTS.lock().unwrap().push(100);
/// assert_eq!(ACCOUNTS.lock().unwrap().len(), 1);
/// ```
#[cfg_attr(not(feature = "instrument"), repr(transparent))]
pub struct Mutex<T: ?Sized> {
    #[cfg(feature = "instrument")]
    poison: poison::Flag,
    #[cfg(not(feature = "instrument"))]
    inner: std::sync::Mutex<T>,
    #[cfg(feature = "instrument")]
    inner: lock_api::Mutex<raw::RawMutex, T>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex; its class is its creation site.
    #[inline]
    #[track_caller]
    pub const fn new(value: T) -> Mutex<T> {
        Mutex::build(None, None, value)
    }

    /// A new unlocked mutex whose class is `name`: every lock with this name is one class.
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

    #[cfg(not(feature = "instrument"))]
    #[inline]
    const fn build(_: Option<&'static str>, _: Option<u32>, value: T) -> Mutex<T> {
        Mutex { inner: std::sync::Mutex::new(value) }
    }

    #[cfg(feature = "instrument")]
    #[inline]
    #[track_caller]
    const fn build(name: Option<&'static str>, rank: Option<u32>, value: T) -> Mutex<T> {
        let raw = raw::mutex(crate::analysis::report::LockKind::Mutex, name, rank, Location::caller());
        Mutex { poison: poison::Flag::new(), inner: lock_api::Mutex::from_raw(raw, value) }
    }
}

impl<T: ?Sized> Mutex<T> {
    crate::primitives::assertion::held_assertions!(|this| this.meta());

    /// Acquires the mutex, blocking until it is free. An error (still holding the guard) if
    /// a thread panicked while holding it.
    #[inline]
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.lock();
        #[cfg(feature = "instrument")]
        {
            // The raw lock is taken directly, to tell it the call is fresh (see `check::Fresh`).
            // SAFETY: the lock is taken right here, and the guard made for it owns it from now on.
            let inner = unsafe {
                raw::lock_fresh(self.inner.raw());
                self.inner.make_guard_unchecked()
            };
            self.poison.result(MutexGuard { poison: self.poison.guard(), inner })
        }
    }

    /// Acquires the mutex if it is free, without blocking.
    #[inline]
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.try_lock();
        #[cfg(feature = "instrument")]
        match self.inner.try_lock() {
            Some(inner) => Ok(self.poison.result(MutexGuard { poison: self.poison.guard(), inner })?),
            None => Err(TryLockError::WouldBlock),
        }
    }

    /// What the held-lock assertions know of this mutex.
    #[inline(always)]
    fn meta(&self) -> &crate::primitives::assertion::Meta {
        #[cfg(not(feature = "instrument"))]
        return &();
        #[cfg(feature = "instrument")]
        {
            // SAFETY: `raw` is only read for the lock's metadata; the lock state is not touched.
            raw::mutex_meta(unsafe { self.inner.raw() })
        }
    }
}

super::std_lock_common!(Mutex, try_lock);

/// The guard of a locked [`Mutex`]; unlocks on drop, poisoning the mutex if its thread is
/// panicking. (Without the `instrument` feature this is std's own `MutexGuard`.)
#[cfg(feature = "instrument")]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    // Dropped first: the poison is set before the lock is released.
    poison: poison::Guard<'a>,
    pub(super) inner: lock_api::MutexGuard<'a, raw::RawMutex, T>,
}

#[cfg(feature = "instrument")]
impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The guard as std returns it after the mutex was re-acquired (a condvar wait).
    pub(super) fn relocked(self) -> LockResult<MutexGuard<'a, T>> {
        let flag = self.poison.flag();
        flag.result(self)
    }
}

#[cfg(feature = "instrument")]
impl<T: ?Sized> std::ops::Deref for MutexGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

#[cfg(feature = "instrument")]
impl<T: ?Sized> std::ops::DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

#[cfg(feature = "instrument")]
super::fmt_as_data!(MutexGuard);
