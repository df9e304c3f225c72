//! The instrumented guards of a [`Mutex`]: borrowed and owned, whole and mapped, with
//! tokio's methods and tokio's `Send`/`Sync` bounds. Each holds the mutex's one permit until
//! it drops; using one from another task than its holder moves the hold there (see
//! `guard.rs` and `runtime/async_lock.rs`).

use std::marker::PhantomData;
use std::sync::Arc;

use super::Mutex;
use crate::primitives::tokio::checked::CheckedSemaphore;
use crate::primitives::tokio::guard::{guard_impls, Lock, Permits};

impl<T: ?Sized> Lock for &Mutex<T> {
    #[inline(always)]
    fn core(&self) -> &CheckedSemaphore {
        &self.core
    }
}

impl<T: ?Sized> Lock for Arc<Mutex<T>> {
    #[inline(always)]
    fn core(&self) -> &CheckedSemaphore {
        &self.core
    }
}

/// The guard of a locked [`Mutex`]; unlocks on drop, from whichever task drops it.
/// (Without the `instrument` feature this is tokio's own `MutexGuard`.)
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    permits: Permits<&'a Mutex<T>>,
    /// Send as `&mut T` is: the guard hands out `&mut T`.
    _data: PhantomData<&'a mut T>,
}

/// A guard of a [`Mutex`] that owns an `Arc` of it (from [`Mutex::lock_owned`]).
/// (Without the `instrument` feature this is tokio's own `OwnedMutexGuard`.)
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMutexGuard<T: ?Sized> {
    permits: Permits<Arc<Mutex<T>>>,
}

/// A [`MutexGuard`] narrowed to part of the data by [`MutexGuard::map`]; the mutex stays
/// locked until it drops. (Without the `instrument` feature this is tokio's own.)
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    permits: Permits<&'a CheckedSemaphore>,
    data: *mut T,
    _data: PhantomData<&'a mut T>,
}

/// An [`OwnedMutexGuard`] narrowed to part of the data by [`OwnedMutexGuard::map`]; the
/// mutex stays locked until it drops. (Without the `instrument` feature this is tokio's own.)
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMappedMutexGuard<T: ?Sized, U: ?Sized = T> {
    permits: Permits<Arc<Mutex<T>>>,
    data: *mut U,
}

// SAFETY: tokio's bounds. A guard shared between threads hands out `&T` (so
// `T: Sync`); one sent hands out `&mut T` on the other side (so `T: Send`), and an owned one
// carries the `Arc<Mutex<T>>`, which needs `T: Send` to be shared.
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}
// SAFETY: see above; the mapped pointer is into the locked data.
unsafe impl<'a, T: ?Sized + Sync + 'a> Sync for MappedMutexGuard<'a, T> {}
// SAFETY: see above.
unsafe impl<'a, T: ?Sized + Send + 'a> Send for MappedMutexGuard<'a, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedMappedMutexGuard<T, U> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send, U: ?Sized + Send> Send for OwnedMappedMutexGuard<T, U> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The guard of the permit just taken.
    #[inline]
    pub(super) fn new(lock: &'a Mutex<T>, hold: Option<crate::runtime::async_lock::Hold>) -> MutexGuard<'a, T> {
        MutexGuard { permits: Permits::new(lock, 1, hold), _data: PhantomData }
    }

    /// Narrows the guard to a part of the data; the mutex stays locked.
    #[inline]
    pub fn map<U, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = std::ptr::from_mut(f(&mut *this));
        MappedMutexGuard { permits: this.permits.reach(|m| &m.core), data, _data: PhantomData }
    }

    /// [`map`](Self::map) where `f` may find no part: then the guard comes back unchanged.
    #[inline]
    pub fn try_map<U, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(std::ptr::from_mut) else { return Err(this) };
        Ok(MappedMutexGuard { permits: this.permits.reach(|m| &m.core), data, _data: PhantomData })
    }

    /// The mutex this guard locks.
    #[inline]
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.permits.lock
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The guard of the permit just taken.
    #[inline]
    pub(super) fn new(lock: Arc<Mutex<T>>, hold: Option<crate::runtime::async_lock::Hold>) -> OwnedMutexGuard<T> {
        OwnedMutexGuard { permits: Permits::new(lock, 1, hold) }
    }

    /// Narrows the guard to a part of the data; the mutex stays locked.
    #[inline]
    pub fn map<U, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, U>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = std::ptr::from_mut(f(&mut *this));
        OwnedMappedMutexGuard { permits: this.permits, data }
    }

    /// [`map`](Self::map) where `f` may find no part: then the guard comes back unchanged.
    #[inline]
    pub fn try_map<U, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, U>, Self>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(std::ptr::from_mut) else { return Err(this) };
        Ok(OwnedMappedMutexGuard { permits: this.permits, data })
    }

    /// The `Arc` of the mutex this guard locks.
    #[inline]
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.permits.lock
    }
}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Narrows the guard further; the mutex stays locked.
    #[inline]
    pub fn map<U, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = std::ptr::from_mut(f(&mut *this));
        MappedMutexGuard { permits: this.permits, data, _data: PhantomData }
    }

    /// [`map`](Self::map) where `f` may find no part: then the guard comes back unchanged.
    #[inline]
    pub fn try_map<U, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(std::ptr::from_mut) else { return Err(this) };
        Ok(MappedMutexGuard { permits: this.permits, data, _data: PhantomData })
    }
}

impl<T: ?Sized, U: ?Sized> OwnedMappedMutexGuard<T, U> {
    /// Narrows the guard further; the mutex stays locked.
    #[inline]
    pub fn map<S, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, S>
    where
        F: FnOnce(&mut U) -> &mut S,
    {
        let data = std::ptr::from_mut(f(&mut *this));
        OwnedMappedMutexGuard { permits: this.permits, data }
    }

    /// [`map`](Self::map) where `f` may find no part: then the guard comes back unchanged.
    #[inline]
    pub fn try_map<S, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, S>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut S>,
    {
        let Some(data) = f(&mut *this).map(std::ptr::from_mut) else { return Err(this) };
        Ok(OwnedMappedMutexGuard { permits: this.permits, data })
    }
}

guard_impls!([T: ?Sized] MutexGuard<'_, T> => mut T, |this| this.permits.lock.data.get());
guard_impls!([T: ?Sized] OwnedMutexGuard<T> => mut T, |this| this.permits.lock.data.get());
guard_impls!([T: ?Sized] MappedMutexGuard<'_, T> => mut T, |this| this.data);
guard_impls!([T: ?Sized, U: ?Sized] OwnedMappedMutexGuard<T, U> => mut U, |this| this.data);
