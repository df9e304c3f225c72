//! [`RwLock`]: tokio's async reader-writer lock API. Without the `instrument` feature it is
//! tokio's own lock behind a transparent wrapper, and its guards are tokio's; with it, tokio's
//! semaphore under lockcheck's checks (see `checked.rs`): a reader takes one permit, a writer
//! all of them, as in tokio, so a queued writer holds back later readers (tokio's lock is
//! fair), which lockcheck models as it does for parking_lot's task-fair lock.

#[cfg(feature = "instrument")]
use std::fmt;
use std::future::Future;
#[cfg(feature = "instrument")]
use std::panic::Location;

pub use tokio::sync::TryLockError;
#[cfg(not(feature = "instrument"))]
pub use tokio::sync::{RwLockReadGuard, RwLockWriteGuard};

#[cfg(feature = "instrument")]
use crate::analysis::report::Mode;
#[cfg(feature = "instrument")]
use crate::primitives::tokio::checked::CheckedSemaphore;
#[cfg(feature = "instrument")]
use crate::runtime::async_lock::Hold;

/// Readers at once: tokio's own limit, so that a writer's permits fit in a `u32`.
#[cfg(feature = "instrument")]
const MAX_READS: u32 = u32::MAX >> 3;

/// An async reader-writer lock with tokio's API; instrumented under the `instrument`
/// feature, tokio's own lock (same size, same speed) without it.
///
/// ```
/// use lockcheck::tokio::RwLock;
///
/// static CONFIG: RwLock<u32> = RwLock::named("config", 1);
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// *CONFIG.write().await += 1;
/// assert_eq!(*CONFIG.read().await, 2);
/// # });
/// ```
#[cfg_attr(not(feature = "instrument"), repr(transparent))]
pub struct RwLock<T: ?Sized> {
    #[cfg(not(feature = "instrument"))]
    inner: tokio::sync::RwLock<T>,
    #[cfg(feature = "instrument")]
    core: CheckedSemaphore,
    #[cfg(feature = "instrument")]
    data: std::cell::UnsafeCell<T>,
}

// SAFETY: as tokio's: readers share `&T` across threads (so `T: Sync`), a writer gets `&mut T`
// on whichever thread it runs (so `T: Send`).
#[cfg(feature = "instrument")]
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// SAFETY: owning the lock is owning the `T`.
#[cfg(feature = "instrument")]
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}

impl<T: ?Sized> RwLock<T> {
    /// Locks for reading, waiting while a writer holds the lock or is queued for it.
    #[inline]
    #[track_caller]
    pub fn read(&self) -> impl Future<Output = RwLockReadGuard<'_, T>> + '_ {
        #[cfg(not(feature = "instrument"))]
        return self.inner.read();
        #[cfg(feature = "instrument")]
        {
            let site = Location::caller();
            async move {
                let hold = self.core.acquire(1, Mode::Shared, site).await.unwrap_or(None);
                RwLockReadGuard { lock: self, hold, _data: std::marker::PhantomData }
            }
        }
    }

    /// Locks for writing, waiting until no reader or writer holds the lock.
    #[inline]
    #[track_caller]
    pub fn write(&self) -> impl Future<Output = RwLockWriteGuard<'_, T>> + '_ {
        #[cfg(not(feature = "instrument"))]
        return self.inner.write();
        #[cfg(feature = "instrument")]
        {
            let site = Location::caller();
            async move {
                let hold = self.core.acquire(MAX_READS, Mode::Exclusive, site).await.unwrap_or(None);
                RwLockWriteGuard { lock: self, hold, _data: std::marker::PhantomData }
            }
        }
    }

    /// Locks for reading from synchronous code, blocking the thread (tokio's panics when
    /// called from async code; instrumented, this one does not tell).
    #[inline]
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.blocking_read();
        #[cfg(feature = "instrument")]
        super::checked::block_on(self.read())
    }

    /// Locks for writing from synchronous code, blocking the thread.
    #[inline]
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.blocking_write();
        #[cfg(feature = "instrument")]
        super::checked::block_on(self.write())
    }

    /// Locks for reading if that needs no wait.
    #[inline]
    #[track_caller]
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.try_read();
        #[cfg(feature = "instrument")]
        match self.core.try_acquire(1, Mode::Shared, Location::caller()) {
            Ok(hold) => Ok(RwLockReadGuard { lock: self, hold, _data: std::marker::PhantomData }),
            Err(_) => Err(super::mutex::try_lock_error()),
        }
    }

    /// Locks for writing if that needs no wait.
    #[inline]
    #[track_caller]
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.try_write();
        #[cfg(feature = "instrument")]
        match self.core.try_acquire(MAX_READS, Mode::Exclusive, Location::caller()) {
            Ok(hold) => Ok(RwLockWriteGuard { lock: self, hold, _data: std::marker::PhantomData }),
            Err(_) => Err(super::mutex::try_lock_error()),
        }
    }
}

super::tokio_lock_common!(RwLock, RwLock, MAX_READS, try_read);

/// A read guard of a [`RwLock`]. (Without the `instrument` feature this is tokio's own.)
#[cfg(feature = "instrument")]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    hold: Option<Hold>,
    /// Send and Sync as `&T` is: readers share the data.
    _data: std::marker::PhantomData<&'a T>,
}

/// A write guard of a [`RwLock`]. (Without the `instrument` feature this is tokio's own.)
#[cfg(feature = "instrument")]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    hold: Option<Hold>,
    /// Send and Sync as `&mut T` is: the guard hands out `&mut T`.
    _data: std::marker::PhantomData<&'a mut T>,
}

/// `Drop`, `Deref`, `Debug` and `Display` of a guard holding `$permits` permits.
#[cfg(feature = "instrument")]
macro_rules! guard_impls {
    ($guard:ident, $permits:expr) => {
        impl<T: ?Sized> Drop for $guard<'_, T> {
            #[inline]
            fn drop(&mut self) {
                self.lock.core.release($permits, self.hold.take());
            }
        }

        impl<T: ?Sized> std::ops::Deref for $guard<'_, T> {
            type Target = T;

            #[inline]
            fn deref(&self) -> &T {
                // SAFETY: the guard holds a read permit at least: no writer holds the lock.
                unsafe { &*self.lock.data.get() }
            }
        }

        impl<T: ?Sized + fmt::Debug> fmt::Debug for $guard<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<T: ?Sized + fmt::Display> fmt::Display for $guard<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    };
}

#[cfg(feature = "instrument")]
guard_impls!(RwLockReadGuard, 1);
#[cfg(feature = "instrument")]
guard_impls!(RwLockWriteGuard, MAX_READS);

#[cfg(feature = "instrument")]
impl<T: ?Sized> std::ops::DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every permit, and `&mut self` is unique.
        unsafe { &mut *self.lock.data.get() }
    }
}
