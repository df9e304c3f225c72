//! [`Mutex`]: tokio's async mutex API. Without the `instrument` feature it is tokio's own
//! mutex behind a transparent wrapper, and its guards are tokio's; with it, tokio's
//! semaphore under lockcheck's checks (see `checked.rs`), held by the task, and the guards
//! of `guard.rs`.

use std::future::Future;
#[cfg(feature = "instrument")]
use std::panic::Location;
use std::sync::Arc;

pub use tokio::sync::TryLockError;
#[cfg(not(feature = "instrument"))]
pub use tokio::sync::{MappedMutexGuard, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard};

#[cfg(feature = "instrument")]
pub use guard::{MappedMutexGuard, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard};

#[cfg(feature = "instrument")]
use crate::analysis::report::Mode;
#[cfg(feature = "instrument")]
use crate::primitives::tokio::checked::CheckedSemaphore;

#[cfg(feature = "instrument")]
mod guard;

/// An async mutual-exclusion lock with tokio's API; instrumented under the `instrument`
/// feature, tokio's own mutex (same size, same speed) without it.
///
/// ```
/// use lockcheck::tokio::Mutex;
///
/// static ACCOUNTS: Mutex<Vec<u64>> = Mutex::ranked("accounts", 10, Vec::new());
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// ACCOUNTS.lock().await.push(100);
/// assert_eq!(ACCOUNTS.lock().await.len(), 1);
/// # });
/// ```
#[cfg_attr(not(feature = "instrument"), repr(transparent))]
pub struct Mutex<T: ?Sized> {
    #[cfg(not(feature = "instrument"))]
    inner: tokio::sync::Mutex<T>,
    #[cfg(feature = "instrument")]
    core: CheckedSemaphore,
    #[cfg(feature = "instrument")]
    data: std::cell::UnsafeCell<T>,
}

// SAFETY: as tokio's: the data is only reached through a guard, and one guard exists at a
// time (the semaphore has one permit), so sharing the mutex only ever sends `T` across threads.
#[cfg(feature = "instrument")]
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: owning the mutex is owning the `T`.
#[cfg(feature = "instrument")]
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, waiting (asynchronously) until it is free. Instrumented, the task's
    /// held locks are checked against it before the future first waits.
    #[inline]
    #[track_caller]
    pub fn lock(&self) -> impl Future<Output = MutexGuard<'_, T>> + '_ {
        #[cfg(not(feature = "instrument"))]
        return self.inner.lock();
        #[cfg(feature = "instrument")]
        {
            let site = Location::caller();
            async move {
                let hold = self.core.acquire(1, Mode::Exclusive, site).await;
                // The semaphore is never closed.
                MutexGuard::new(self, hold.unwrap_or(None))
            }
        }
    }

    /// Locks the mutex if it is free, without waiting.
    #[inline]
    #[track_caller]
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.try_lock();
        #[cfg(feature = "instrument")]
        match self.core.try_acquire(1, Mode::Exclusive, Location::caller()) {
            Ok(hold) => Ok(MutexGuard::new(self, hold)),
            Err(_) => Err(try_lock_error()),
        }
    }

    /// Locks the mutex behind an `Arc`, for a guard that owns its `Arc` (`'static`, to move
    /// into a spawned task).
    #[inline]
    #[track_caller]
    pub fn lock_owned(self: Arc<Self>) -> impl Future<Output = OwnedMutexGuard<T>> {
        #[cfg(not(feature = "instrument"))]
        return Mutex::into_tokio(self).lock_owned();
        #[cfg(feature = "instrument")]
        {
            let site = Location::caller();
            async move {
                let hold = self.core.acquire(1, Mode::Exclusive, site).await.unwrap_or(None);
                OwnedMutexGuard::new(self, hold)
            }
        }
    }

    /// Locks the mutex from synchronous code, blocking the thread until it is free (tokio's
    /// panics when called from async code; instrumented, this one does not tell).
    #[inline]
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.blocking_lock();
        #[cfg(feature = "instrument")]
        super::checked::block_on(self.lock())
    }

    /// [`lock_owned`](Self::lock_owned) from synchronous code, blocking the thread.
    #[inline]
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        #[cfg(not(feature = "instrument"))]
        return Mutex::into_tokio(self).blocking_lock_owned();
        #[cfg(feature = "instrument")]
        super::checked::block_on(self.lock_owned())
    }

    /// [`lock_owned`](Self::lock_owned) if the mutex is free, without waiting.
    #[inline]
    #[track_caller]
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        #[cfg(not(feature = "instrument"))]
        return Mutex::into_tokio(self).try_lock_owned();
        #[cfg(feature = "instrument")]
        match self.core.try_acquire(1, Mode::Exclusive, Location::caller()) {
            Ok(hold) => Ok(OwnedMutexGuard::new(self, hold)),
            Err(_) => Err(try_lock_error()),
        }
    }

    /// The `Arc` of tokio's mutex inside.
    #[cfg(not(feature = "instrument"))]
    fn into_tokio(this: Arc<Self>) -> Arc<tokio::sync::Mutex<T>> {
        // SAFETY: `Mutex` is `repr(transparent)` over tokio's mutex without `instrument`, so
        // the `Arc`'s allocation holds a tokio mutex at the same place, with the same layout
        // and pointer metadata; the count moves from one `Arc` to the other.
        unsafe { Arc::from_raw(Arc::into_raw(this) as *const tokio::sync::Mutex<T>) }
    }
}

super::tokio_lock_common!(Mutex, Mutex, 1, try_lock);

/// tokio's `TryLockError` has no public constructor: one is made the way tokio makes it, by a
/// `try_lock` on a tokio mutex that is held.
#[cfg(feature = "instrument")]
#[cold]
pub(super) fn try_lock_error() -> TryLockError {
    let busy = tokio::sync::Mutex::const_new(());
    let _held = busy.try_lock();
    busy.try_lock().expect_err("a tokio mutex whose guard is alive cannot be locked again")
}
