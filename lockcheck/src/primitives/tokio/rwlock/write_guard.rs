//! The instrumented write guards of a [`RwLock`]: borrowed and owned, whole and mapped, with
//! tokio's methods and `Send`/`Sync` bounds. Each holds every permit until it drops, or until
//! a downgrade gives back all but one and makes it a read guard (the held entry's mode
//! changes where it is, as a sync `RwLock`'s downgrade changes it).

use std::marker::PhantomData;
use std::sync::Arc;

use super::read_guard::{OwnedRwLockReadGuard, RwLockReadGuard};
use super::RwLock;
use crate::primitives::tokio::checked::CheckedSemaphore;
use crate::primitives::tokio::guard::{guard_impls, Permits};
use crate::runtime::async_lock::Hold;

/// A write guard of a [`RwLock`]. (Without the `instrument` feature this is tokio's own.)
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    permits: Permits<&'a CheckedSemaphore>,
    data: *mut T,
    _data: PhantomData<&'a mut T>,
}

/// A write guard of a [`RwLock`] that owns an `Arc` of it (from [`RwLock::write_owned`]).
/// (Without the `instrument` feature this is tokio's own.)
#[clippy::has_significant_drop]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    permits: Permits<Arc<RwLock<T>>>,
}

/// A [`RwLockWriteGuard`] narrowed to part of the data by [`RwLockWriteGuard::map`]; the
/// lock stays write-locked until it drops. (Without the `instrument` feature this is tokio's
/// own.)
#[clippy::has_significant_drop]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    permits: Permits<&'a CheckedSemaphore>,
    data: *mut T,
    _data: PhantomData<&'a mut T>,
}

/// An [`OwnedRwLockWriteGuard`] narrowed to a part `U` of the data by
/// [`OwnedRwLockWriteGuard::map`]. (Without the `instrument` feature this is tokio's own.)
#[clippy::has_significant_drop]
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized, U: ?Sized = T> {
    permits: Permits<Arc<RwLock<T>>>,
    data: *mut U,
}

// SAFETY: tokio's bounds. A write guard hands out `&mut T` wherever it is sent and
// `&T` wherever it is shared, and may be downgraded into a read guard that other readers
// share: so `T: Send + Sync` for either, and the same of the mapped part `U`.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockWriteGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockWriteGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedRwLockWriteGuard<T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockWriteGuard<T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockMappedWriteGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockMappedWriteGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Send for OwnedRwLockMappedWriteGuard<T, U> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedRwLockMappedWriteGuard<T, U> {}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// The guard of a write just taken, with `n` permits.
    #[inline]
    pub(super) fn new(core: &'a CheckedSemaphore, n: u32, data: *mut T, hold: Option<Hold>) -> RwLockWriteGuard<'a, T> {
        RwLockWriteGuard { permits: Permits::new(core, n, hold), data, _data: PhantomData }
    }

    /// Narrows the guard to a part of the data; the lock stays write-locked.
    #[inline]
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = std::ptr::from_mut(f(&mut *this));
        RwLockMappedWriteGuard { permits: this.permits, data, _data: PhantomData }
    }

    /// [`map`](Self::map) where `f` may find no part: then the guard comes back unchanged.
    #[inline]
    pub fn try_map<F, U: ?Sized>(mut this: Self, f: F) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(std::ptr::from_mut) else { return Err(this) };
        Ok(RwLockMappedWriteGuard { permits: this.permits, data, _data: PhantomData })
    }

    /// Downgrades to a read guard of a part of the data: other readers may come in, writers
    /// still wait.
    #[inline]
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = std::ptr::from_ref(f(&*this));
        let mut permits = this.permits;
        permits.downgrade();
        RwLockReadGuard::holding(permits, data)
    }

    /// [`downgrade_map`](Self::downgrade_map) where `f` may find no part: then the guard
    /// comes back unchanged, still writing.
    #[inline]
    pub fn try_downgrade_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let Some(data) = f(&*this).map(std::ptr::from_ref) else { return Err(this) };
        let mut permits = this.permits;
        permits.downgrade();
        Ok(RwLockReadGuard::holding(permits, data))
    }

    /// The same guard as a mapped one, of the whole data.
    #[inline]
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        RwLockWriteGuard::map(this, |data| data)
    }

    /// Downgrades to a read guard: other readers may come in, writers still wait. The task's
    /// held entry becomes a read.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let data = self.data.cast_const();
        let mut permits = self.permits;
        permits.downgrade();
        RwLockReadGuard::holding(permits, data)
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// The guard of a write just taken, with `n` permits.
    #[inline]
    pub(super) fn new(lock: Arc<RwLock<T>>, n: u32, hold: Option<Hold>) -> OwnedRwLockWriteGuard<T> {
        OwnedRwLockWriteGuard { permits: Permits::new(lock, n, hold) }
    }

    /// Narrows the guard to a part of the data; the lock stays write-locked.
    #[inline]
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = std::ptr::from_mut(f(&mut *this));
        OwnedRwLockMappedWriteGuard { permits: this.permits, data }
    }

    /// [`map`](Self::map) where `f` may find no part: then the guard comes back unchanged.
    #[inline]
    pub fn try_map<F, U: ?Sized>(mut this: Self, f: F) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(std::ptr::from_mut) else { return Err(this) };
        Ok(OwnedRwLockMappedWriteGuard { permits: this.permits, data })
    }

    /// Downgrades to a read guard of a part of the data: other readers may come in, writers
    /// still wait.
    #[inline]
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> OwnedRwLockReadGuard<T, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = std::ptr::from_ref(f(&*this));
        let mut permits = this.permits;
        permits.downgrade();
        OwnedRwLockReadGuard::holding(permits, data)
    }

    /// [`downgrade_map`](Self::downgrade_map) where `f` may find no part: then the guard
    /// comes back unchanged, still writing.
    #[inline]
    pub fn try_downgrade_map<F, U: ?Sized>(this: Self, f: F) -> Result<OwnedRwLockReadGuard<T, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let Some(data) = f(&*this).map(std::ptr::from_ref) else { return Err(this) };
        let mut permits = this.permits;
        permits.downgrade();
        Ok(OwnedRwLockReadGuard::holding(permits, data))
    }

    /// The same guard as a mapped one, of the whole data.
    #[inline]
    pub fn into_mapped(this: Self) -> OwnedRwLockMappedWriteGuard<T> {
        OwnedRwLockWriteGuard::map(this, |data| data)
    }

    /// Downgrades to a read guard: other readers may come in, writers still wait. The task's
    /// held entry becomes a read.
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let data = self.permits.lock.data.get().cast_const();
        let mut permits = self.permits;
        permits.downgrade();
        OwnedRwLockReadGuard::holding(permits, data)
    }

    /// The `Arc` of the lock this guard writes.
    #[inline]
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.permits.lock
    }
}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    /// Narrows the guard further; the lock stays write-locked.
    #[inline]
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = std::ptr::from_mut(f(&mut *this));
        RwLockMappedWriteGuard { permits: this.permits, data, _data: PhantomData }
    }

    /// [`map`](Self::map) where `f` may find no part: then the guard comes back unchanged.
    #[inline]
    pub fn try_map<F, U: ?Sized>(mut this: Self, f: F) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(std::ptr::from_mut) else { return Err(this) };
        Ok(RwLockMappedWriteGuard { permits: this.permits, data, _data: PhantomData })
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockMappedWriteGuard<T, U> {
    /// Narrows the guard further; the lock stays write-locked.
    #[inline]
    pub fn map<F, V: ?Sized>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        let data = std::ptr::from_mut(f(&mut *this));
        OwnedRwLockMappedWriteGuard { permits: this.permits, data }
    }

    /// [`map`](Self::map) where `f` may find no part: then the guard comes back unchanged.
    #[inline]
    pub fn try_map<F, V: ?Sized>(mut this: Self, f: F) -> Result<OwnedRwLockMappedWriteGuard<T, V>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        let Some(data) = f(&mut *this).map(std::ptr::from_mut) else { return Err(this) };
        Ok(OwnedRwLockMappedWriteGuard { permits: this.permits, data })
    }

    /// The `Arc` of the lock this guard writes.
    #[inline]
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.permits.lock
    }
}

guard_impls!([T: ?Sized] RwLockWriteGuard<'_, T> => mut T, |this| this.data);
guard_impls!([T: ?Sized] OwnedRwLockWriteGuard<T> => mut T, |this| this.permits.lock.data.get());
guard_impls!([T: ?Sized] RwLockMappedWriteGuard<'_, T> => mut T, |this| this.data);
guard_impls!([T: ?Sized, U: ?Sized] OwnedRwLockMappedWriteGuard<T, U> => mut U, |this| this.data);
