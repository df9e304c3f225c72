//! [`RwLock`]: tokio's async reader-writer lock API. Without the `instrument` feature it is
//! tokio's own lock behind a transparent wrapper, and its guards are tokio's; with it, tokio's
//! semaphore under lockcheck's checks (see `checked.rs`): a reader takes one permit, a writer
//! all of them, as in tokio, so a queued writer holds back later readers (tokio's lock is
//! fair), which lockcheck models as it does for parking_lot's task-fair lock. The guards are
//! in `read_guard.rs` and `write_guard.rs`.

use std::future::Future;
#[cfg(feature = "instrument")]
use std::panic::Location;
use std::sync::Arc;

pub use tokio::sync::TryLockError;
#[cfg(not(feature = "instrument"))]
pub use tokio::sync::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLockMappedWriteGuard, RwLockReadGuard,
    RwLockWriteGuard,
};

#[cfg(feature = "instrument")]
pub use read_guard::{OwnedRwLockReadGuard, RwLockReadGuard};
#[cfg(feature = "instrument")]
pub use write_guard::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLockMappedWriteGuard, RwLockWriteGuard};

#[cfg(feature = "instrument")]
use crate::analysis::report::Mode;
#[cfg(feature = "instrument")]
use crate::primitives::tokio::checked::CheckedSemaphore;

#[cfg(feature = "instrument")]
mod read_guard;
#[cfg(feature = "instrument")]
mod write_guard;

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
                RwLockReadGuard::new(&self.core, self.data.get(), hold)
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
                RwLockWriteGuard::new(&self.core, MAX_READS, self.data.get(), hold)
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
            Ok(hold) => Ok(RwLockReadGuard::new(&self.core, self.data.get(), hold)),
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
            Ok(hold) => Ok(RwLockWriteGuard::new(&self.core, MAX_READS, self.data.get(), hold)),
            Err(_) => Err(super::mutex::try_lock_error()),
        }
    }

    /// Locks for reading through an `Arc`, for a guard that owns its `Arc` (`'static`, to
    /// move into a spawned task).
    #[inline]
    #[track_caller]
    pub fn read_owned(self: Arc<Self>) -> impl Future<Output = OwnedRwLockReadGuard<T>> {
        #[cfg(not(feature = "instrument"))]
        return RwLock::into_tokio(self).read_owned();
        #[cfg(feature = "instrument")]
        {
            let site = Location::caller();
            async move {
                let hold = self.core.acquire(1, Mode::Shared, site).await.unwrap_or(None);
                OwnedRwLockReadGuard::new(self, hold)
            }
        }
    }

    /// Locks for writing through an `Arc`, for a guard that owns its `Arc`.
    #[inline]
    #[track_caller]
    pub fn write_owned(self: Arc<Self>) -> impl Future<Output = OwnedRwLockWriteGuard<T>> {
        #[cfg(not(feature = "instrument"))]
        return RwLock::into_tokio(self).write_owned();
        #[cfg(feature = "instrument")]
        {
            let site = Location::caller();
            async move {
                let hold = self.core.acquire(MAX_READS, Mode::Exclusive, site).await.unwrap_or(None);
                OwnedRwLockWriteGuard::new(self, MAX_READS, hold)
            }
        }
    }

    /// [`read_owned`](Self::read_owned) if that needs no wait.
    #[inline]
    #[track_caller]
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        #[cfg(not(feature = "instrument"))]
        return RwLock::into_tokio(self).try_read_owned();
        #[cfg(feature = "instrument")]
        match self.core.try_acquire(1, Mode::Shared, Location::caller()) {
            Ok(hold) => Ok(OwnedRwLockReadGuard::new(self, hold)),
            Err(_) => Err(super::mutex::try_lock_error()),
        }
    }

    /// [`write_owned`](Self::write_owned) if that needs no wait.
    #[inline]
    #[track_caller]
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        #[cfg(not(feature = "instrument"))]
        return RwLock::into_tokio(self).try_write_owned();
        #[cfg(feature = "instrument")]
        match self.core.try_acquire(MAX_READS, Mode::Exclusive, Location::caller()) {
            Ok(hold) => Ok(OwnedRwLockWriteGuard::new(self, MAX_READS, hold)),
            Err(_) => Err(super::mutex::try_lock_error()),
        }
    }

    /// The `Arc` of tokio's lock inside.
    #[cfg(not(feature = "instrument"))]
    fn into_tokio(this: Arc<Self>) -> Arc<tokio::sync::RwLock<T>> {
        // SAFETY: `RwLock` is `repr(transparent)` over tokio's lock without `instrument`, so
        // the `Arc`'s allocation holds a tokio lock at the same place, with the same layout
        // and pointer metadata; the count moves from one `Arc` to the other.
        unsafe { Arc::from_raw(Arc::into_raw(this) as *const tokio::sync::RwLock<T>) }
    }
}

super::tokio_lock_common!(RwLock, RwLock, MAX_READS, try_read);
