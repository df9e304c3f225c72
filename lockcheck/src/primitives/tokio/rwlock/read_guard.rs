//! The instrumented read guards of a [`RwLock`], borrowed and owned, with tokio's methods
//! and `Send`/`Sync` bounds. Each holds one permit (a read) until it drops, mapped or not.

use std::marker::PhantomData;
use std::sync::Arc;

use super::RwLock;
use crate::primitives::tokio::checked::CheckedSemaphore;
use crate::primitives::tokio::guard::{guard_impls, Lock, Permits};
use crate::runtime::async_lock::Hold;

impl<T: ?Sized> Lock for Arc<RwLock<T>> {
    #[inline(always)]
    fn core(&self) -> &CheckedSemaphore {
        &self.core
    }
}

/// A read guard of a [`RwLock`], possibly mapped to a part of the data by
/// [`RwLockReadGuard::map`]. (Without the `instrument` feature this is tokio's own.)
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    pub(super) permits: Permits<&'a CheckedSemaphore>,
    data: *const T,
    _data: PhantomData<&'a T>,
}

/// A read guard of a [`RwLock`] that owns an `Arc` of it (from [`RwLock::read_owned`]), of
/// the data `T` or, mapped, of a part `U` of it. (Without the `instrument` feature this is
/// tokio's own.)
#[clippy::has_significant_drop]
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T> {
    pub(super) permits: Permits<Arc<RwLock<T>>>,
    data: *const U,
}

// SAFETY: tokio's bounds. Readers share `&T`, so sending or sharing a read guard
// needs `T: Sync`; an owned guard also carries the `Arc<RwLock<T>>`, which needs `T: Send`.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Send for OwnedRwLockReadGuard<T, U> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedRwLockReadGuard<T, U> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// The guard of a read just taken.
    #[inline]
    pub(super) fn new(core: &'a CheckedSemaphore, data: *const T, hold: Option<Hold>) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard::holding(Permits::new(core, 1, hold), data)
    }

    /// A guard reading `data` with `permits` held already (a mapped or downgraded guard's).
    #[inline]
    pub(super) fn holding(permits: Permits<&'a CheckedSemaphore>, data: *const T) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard { permits, data, _data: PhantomData }
    }

    /// Narrows the guard to a part of the data; the lock stays read-locked.
    #[inline]
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = std::ptr::from_ref(f(&*this));
        RwLockReadGuard::holding(this.permits, data)
    }

    /// [`map`](Self::map) where `f` may find no part: then the guard comes back unchanged.
    #[inline]
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let Some(data) = f(&*this).map(std::ptr::from_ref) else { return Err(this) };
        Ok(RwLockReadGuard::holding(this.permits, data))
    }
}

impl<T: ?Sized> OwnedRwLockReadGuard<T> {
    /// The guard of a read just taken.
    #[inline]
    pub(super) fn new(lock: Arc<RwLock<T>>, hold: Option<Hold>) -> OwnedRwLockReadGuard<T> {
        let data = lock.data.get().cast_const();
        OwnedRwLockReadGuard { permits: Permits::new(lock, 1, hold), data }
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    /// A guard reading `data` with `permits` held already (a downgraded guard's).
    #[inline]
    pub(super) fn holding(permits: Permits<Arc<RwLock<T>>>, data: *const U) -> OwnedRwLockReadGuard<T, U> {
        OwnedRwLockReadGuard { permits, data }
    }

    /// Narrows the guard to a part of the data; the lock stays read-locked.
    #[inline]
    pub fn map<F, V: ?Sized>(this: Self, f: F) -> OwnedRwLockReadGuard<T, V>
    where
        F: FnOnce(&U) -> &V,
    {
        let data = std::ptr::from_ref(f(&*this));
        OwnedRwLockReadGuard { permits: this.permits, data }
    }

    /// [`map`](Self::map) where `f` may find no part: then the guard comes back unchanged.
    #[inline]
    pub fn try_map<F, V: ?Sized>(this: Self, f: F) -> Result<OwnedRwLockReadGuard<T, V>, Self>
    where
        F: FnOnce(&U) -> Option<&V>,
    {
        let Some(data) = f(&*this).map(std::ptr::from_ref) else { return Err(this) };
        Ok(OwnedRwLockReadGuard { permits: this.permits, data })
    }

    /// The `Arc` of the lock this guard reads.
    #[inline]
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.permits.lock
    }
}

guard_impls!([T: ?Sized] RwLockReadGuard<'_, T> => T, |this| this.data);
guard_impls!([T: ?Sized, U: ?Sized] OwnedRwLockReadGuard<T, U> => U, |this| this.data);
