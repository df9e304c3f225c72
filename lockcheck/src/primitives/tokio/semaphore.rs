//! [`Semaphore`]: tokio's async semaphore API. Without the `instrument` feature it is
//! tokio's own behind a transparent wrapper, and its permits are tokio's; with it, checked
//! like a lock (see `checked.rs`): acquiring may wait, so it takes part in the order graph,
//! and a permit may be released by another task than the one that acquired it.

use std::fmt;
use std::future::Future;
#[cfg(feature = "instrument")]
use std::panic::Location;
use std::sync::Arc;

pub use tokio::sync::{AcquireError, TryAcquireError};
#[cfg(not(feature = "instrument"))]
pub use tokio::sync::{OwnedSemaphorePermit, SemaphorePermit};

#[cfg(feature = "instrument")]
use crate::analysis::report::{LockKind, Mode};
#[cfg(feature = "instrument")]
use crate::primitives::tokio::checked::CheckedSemaphore;
#[cfg(feature = "instrument")]
use crate::runtime::async_lock::Hold;

/// An async counting semaphore with tokio's API; instrumented under the `instrument`
/// feature, tokio's own (same size, same speed) without it.
///
/// ```
/// use lockcheck::tokio::Semaphore;
///
/// static POOL: Semaphore = Semaphore::named("db-pool", 2);
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let a = POOL.acquire().await.unwrap();
/// assert!(POOL.try_acquire().is_ok());
/// drop(a);
/// assert_eq!(POOL.available_permits(), 2);
/// # });
/// ```
#[cfg_attr(not(feature = "instrument"), repr(transparent))]
pub struct Semaphore {
    #[cfg(not(feature = "instrument"))]
    inner: tokio::sync::Semaphore,
    #[cfg(feature = "instrument")]
    core: CheckedSemaphore,
}

impl Semaphore {
    /// The most permits a semaphore can hold (tokio's limit).
    pub const MAX_PERMITS: usize = tokio::sync::Semaphore::MAX_PERMITS;

    /// A semaphore with `permits` permits; its class is its creation site. `const`, unlike
    /// tokio's `new`.
    #[inline]
    #[track_caller]
    pub const fn new(permits: usize) -> Semaphore {
        Semaphore::build(None, None, permits)
    }

    /// The same as [`new`](Self::new) (tokio's name for its `const` constructor).
    #[inline]
    #[track_caller]
    pub const fn const_new(permits: usize) -> Semaphore {
        Semaphore::build(None, None, permits)
    }

    /// A semaphore whose class is `name`.
    #[inline]
    #[track_caller]
    pub const fn named(name: &'static str, permits: usize) -> Semaphore {
        Semaphore::build(Some(name), None, permits)
    }

    /// A semaphore with a name and a rank.
    #[inline]
    #[track_caller]
    pub const fn ranked(name: &'static str, rank: u32, permits: usize) -> Semaphore {
        Semaphore::build(Some(name), Some(rank), permits)
    }

    #[cfg(not(feature = "instrument"))]
    #[inline]
    const fn build(_: Option<&'static str>, _: Option<u32>, permits: usize) -> Semaphore {
        Semaphore { inner: tokio::sync::Semaphore::const_new(permits) }
    }

    #[cfg(feature = "instrument")]
    #[inline]
    #[track_caller]
    const fn build(name: Option<&'static str>, rank: Option<u32>, permits: usize) -> Semaphore {
        Semaphore { core: CheckedSemaphore::new(LockKind::Semaphore, name, rank, permits, Location::caller()) }
    }

    /// tokio's semaphore inside.
    #[inline(always)]
    fn tokio(&self) -> &tokio::sync::Semaphore {
        #[cfg(not(feature = "instrument"))]
        return &self.inner;
        #[cfg(feature = "instrument")]
        self.core.inner()
    }

    /// Permits free now.
    #[inline]
    pub fn available_permits(&self) -> usize {
        self.tokio().available_permits()
    }

    /// Adds `n` permits.
    #[inline]
    pub fn add_permits(&self, n: usize) {
        self.tokio().add_permits(n);
    }

    /// Closes the semaphore: waiting and later acquisitions fail.
    #[inline]
    pub fn close(&self) {
        self.tokio().close();
    }

    /// Whether the semaphore is closed.
    #[inline]
    pub fn is_closed(&self) -> bool {
        self.tokio().is_closed()
    }

    /// Acquires one permit, waiting until one is free; an error if the semaphore is closed.
    #[inline]
    #[track_caller]
    pub fn acquire(&self) -> impl Future<Output = Result<SemaphorePermit<'_>, AcquireError>> + '_ {
        self.acquire_many(1)
    }

    /// Acquires `n` permits at once, waiting until they are free.
    #[inline]
    #[track_caller]
    pub fn acquire_many(&self, n: u32) -> impl Future<Output = Result<SemaphorePermit<'_>, AcquireError>> + '_ {
        #[cfg(not(feature = "instrument"))]
        return self.inner.acquire_many(n);
        #[cfg(feature = "instrument")]
        {
            let site = Location::caller();
            async move {
                let hold = self.core.acquire(n, Mode::Permit, site).await?;
                Ok(SemaphorePermit { semaphore: self, permits: n, hold })
            }
        }
    }

    /// Acquires one permit if one is free, without waiting.
    #[inline]
    #[track_caller]
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Acquires `n` permits if they are free, without waiting.
    #[inline]
    #[track_caller]
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        #[cfg(not(feature = "instrument"))]
        return self.inner.try_acquire_many(n);
        #[cfg(feature = "instrument")]
        {
            let hold = self.core.try_acquire(n, Mode::Permit, Location::caller())?;
            Ok(SemaphorePermit { semaphore: self, permits: n, hold })
        }
    }

    /// Acquires one permit of a semaphore behind an `Arc`, for a permit that owns its `Arc`.
    #[inline]
    #[track_caller]
    pub fn acquire_owned(self: Arc<Self>) -> impl Future<Output = Result<OwnedSemaphorePermit, AcquireError>> {
        self.acquire_many_owned(1)
    }

    /// Acquires `n` permits of a semaphore behind an `Arc`.
    #[inline]
    #[track_caller]
    pub fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> impl Future<Output = Result<OwnedSemaphorePermit, AcquireError>> {
        #[cfg(not(feature = "instrument"))]
        return Semaphore::into_tokio(self).acquire_many_owned(n);
        #[cfg(feature = "instrument")]
        {
            let site = Location::caller();
            async move {
                let hold = self.core.acquire(n, Mode::Permit, site).await?;
                Ok(OwnedSemaphorePermit { semaphore: self, permits: n, hold })
            }
        }
    }

    /// [`acquire_owned`](Self::acquire_owned) if a permit is free, without waiting.
    #[inline]
    #[track_caller]
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        #[cfg(not(feature = "instrument"))]
        return Semaphore::into_tokio(self).try_acquire_owned();
        #[cfg(feature = "instrument")]
        {
            let hold = self.core.try_acquire(1, Mode::Permit, Location::caller())?;
            Ok(OwnedSemaphorePermit { semaphore: self, permits: 1, hold })
        }
    }

    /// The `Arc` of tokio's semaphore inside.
    #[cfg(not(feature = "instrument"))]
    fn into_tokio(this: Arc<Self>) -> Arc<tokio::sync::Semaphore> {
        // SAFETY: `Semaphore` is `repr(transparent)` over tokio's without `instrument`, so the
        // `Arc`'s allocation holds a tokio semaphore at the same place, with the same layout;
        // the count moves from one `Arc` to the other.
        unsafe { Arc::from_raw(Arc::into_raw(this).cast::<tokio::sync::Semaphore>()) }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore").field("permits", &self.available_permits()).finish()
    }
}

/// Permits taken from a [`Semaphore`]; they go back when this drops, from whichever task
/// drops it. (Without the `instrument` feature this is tokio's own.)
#[cfg(feature = "instrument")]
#[must_use = "the permits are released as soon as the permit is dropped"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: u32,
    hold: Option<Hold>,
}

/// Permits of a [`Semaphore`] behind an `Arc`, owning it. (Without the `instrument` feature
/// this is tokio's own.)
#[cfg(feature = "instrument")]
#[must_use = "the permits are released as soon as the permit is dropped"]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    permits: u32,
    hold: Option<Hold>,
}

/// `forget`, `num_permits`, `Drop` and `Debug` of a permit.
#[cfg(feature = "instrument")]
macro_rules! permit_impls {
    ($permit:ident $(<$lt:lifetime>)?) => {
        impl $permit$(<$lt>)? {
            /// Keeps the permits out for good: they never go back, and the semaphore is no
            /// longer held by this task.
            pub fn forget(mut self) {
                if let Some(hold) = self.hold.take() {
                    hold.release(self.semaphore.core.meta(), || ());
                }
                self.permits = 0;
            }

            /// How many permits this holds. A permit has no data to reach, so this is how
            /// a task that received one shows it has it: instrumented, the hold moves to the
            /// task (or thread) calling this, as a guard's moves when it is used.
            pub fn num_permits(&self) -> usize {
                if let Some(hold) = &self.hold {
                    hold.follow(self.semaphore.core.meta());
                }
                self.permits as usize
            }
        }

        impl Drop for $permit$(<$lt>)? {
            fn drop(&mut self) {
                if self.permits != 0 || self.hold.is_some() {
                    self.semaphore.core.release(self.permits, self.hold.take());
                }
            }
        }

        impl fmt::Debug for $permit$(<$lt>)? {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($permit)).field("permits", &self.permits).finish_non_exhaustive()
            }
        }
    };
}

#[cfg(feature = "instrument")]
permit_impls!(SemaphorePermit<'_>);
#[cfg(feature = "instrument")]
permit_impls!(OwnedSemaphorePermit);

#[cfg(feature = "instrument")]
impl SemaphorePermit<'_> {
    /// The semaphore the permits came from. (Without the `instrument` feature the permit is
    /// tokio's, and so is the semaphore this returns.)
    pub fn semaphore(&self) -> &Semaphore {
        self.semaphore
    }
}

#[cfg(feature = "instrument")]
impl OwnedSemaphorePermit {
    /// The `Arc` of the semaphore the permits came from. (Without the `instrument` feature
    /// the permit is tokio's, and so is the semaphore this returns.)
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }
}
