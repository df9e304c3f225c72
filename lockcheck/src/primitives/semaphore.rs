//! [`Semaphore`]: counting permits, with tokio's names. Acquiring blocks, so instrumented it
//! takes part in the lock-order graph like a lock; a permit may be released by another
//! thread than the one that acquired it.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

/// A counting semaphore.
///
/// ```
/// use lockcheck::Semaphore;
///
/// static POOL: Semaphore = Semaphore::named("db-pool", 2);
///
/// let a = POOL.acquire();
/// let b = POOL.acquire();
/// assert!(POOL.try_acquire().is_none());
/// drop(a);
/// assert_eq!(POOL.available_permits(), 1);
/// # drop(b);
/// ```
pub struct Semaphore {
    permits: parking_lot::Mutex<usize>,
    freed: parking_lot::Condvar,
    #[cfg(feature = "instrument")]
    meta: crate::runtime::registry::LockMeta,
}

/// Permits taken from a [`Semaphore`]; they go back when this drops.
#[must_use = "the permits are released as soon as the permit is dropped"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
    /// The lockcheck id of the acquiring thread (0 when not instrumented).
    #[cfg(feature = "instrument")]
    owner: u32,
}

impl Semaphore {
    /// A semaphore with `permits` permits; its class is its creation site.
    #[inline]
    #[track_caller]
    pub const fn new(permits: usize) -> Semaphore {
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

    #[inline]
    #[track_caller]
    #[cfg_attr(not(feature = "instrument"), allow(unused_variables))]
    const fn build(name: Option<&'static str>, rank: Option<u32>, permits: usize) -> Semaphore {
        Semaphore {
            permits: parking_lot::Mutex::new(permits),
            freed: parking_lot::Condvar::new(),
            #[cfg(feature = "instrument")]
            meta: crate::runtime::registry::LockMeta::semaphore(name, rank, Some(Location::caller()), permits),
        }
    }

    crate::primitives::assertion::held_assertions!(|this| this.meta());

    /// What the held-lock assertions know of this semaphore.
    #[inline(always)]
    fn meta(&self) -> &crate::primitives::assertion::Meta {
        #[cfg(feature = "instrument")]
        return &self.meta;
        #[cfg(not(feature = "instrument"))]
        &()
    }

    /// Takes one permit, waiting until one is available.
    #[inline]
    #[track_caller]
    pub fn acquire(&self) -> SemaphorePermit<'_> {
        self.acquire_many(1)
    }

    /// Takes `n` permits at once, waiting until they are all available.
    #[track_caller]
    pub fn acquire_many(&self, n: usize) -> SemaphorePermit<'_> {
        if n == 0 {
            // Nothing to wait for, nothing held: not an acquisition.
            return SemaphorePermit::none(self);
        }
        let site = Location::caller();
        self.blocking(n, site, || {
            let mut permits = self.permits.lock();
            self.freed.wait_while(&mut permits, |p| *p < n);
            *permits -= n;
        });
        self.permit(n)
    }

    /// Takes `n` permits if they become available before `deadline`.
    #[cfg(feature = "instrument")]
    fn take_until(&self, n: usize, deadline: Instant) -> bool {
        let mut permits = self.permits.lock();
        // Judged on the permits, not on `timed_out()`: a wake-up at the deadline may find
        // them there.
        self.freed.wait_while_until(&mut permits, |p| *p < n, deadline);
        let ok = *permits >= n;
        if ok {
            *permits -= n;
        }
        ok
    }

    /// Takes one permit if one is available now.
    #[inline]
    #[track_caller]
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are all available now.
    #[track_caller]
    pub fn try_acquire_many(&self, n: usize) -> Option<SemaphorePermit<'_>> {
        if n == 0 {
            return Some(SemaphorePermit::none(self));
        }
        let ok = self.tried(n, Location::caller());
        ok.then(|| self.permit(n))
    }

    /// Takes one permit, giving up after `timeout`.
    #[track_caller]
    pub fn try_acquire_for(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        let deadline = Instant::now().checked_add(timeout);
        let ok = self.timed(1, Location::caller(), timeout, || {
            let mut permits = self.permits.lock();
            let timed_out = match deadline {
                Some(deadline) => self.freed.wait_while_until(&mut permits, |p| *p < 1, deadline).timed_out(),
                None => {
                    self.freed.wait_while(&mut permits, |p| *p < 1);
                    false
                }
            };
            if timed_out {
                return false;
            }
            *permits -= 1;
            true
        });
        ok.then(|| self.permit(1))
    }

    /// Adds `n` permits.
    pub fn add_permits(&self, n: usize) {
        #[cfg(feature = "instrument")]
        self.meta.lose_exclusion();
        self.put_back(n);
    }

    /// Returns `n` permits taken earlier.
    fn put_back(&self, n: usize) {
        *self.permits.lock() += n;
        self.freed.notify_all();
    }

    /// How many permits are available now.
    pub fn available_permits(&self) -> usize {
        *self.permits.lock()
    }

    fn take_now(&self, n: usize) -> bool {
        let mut permits = self.permits.lock();
        let ok = *permits >= n;
        if ok {
            *permits -= n;
        }
        ok
    }
}

#[cfg(not(feature = "instrument"))]
impl Semaphore {
    #[inline]
    fn blocking(&self, n: usize, _: &'static Location<'static>, block: impl FnOnce()) {
        if !self.take_now(n) {
            block();
        }
    }

    #[inline]
    fn tried(&self, n: usize, _: &'static Location<'static>) -> bool {
        self.take_now(n)
    }

    #[inline]
    fn timed(&self, n: usize, _: &'static Location<'static>, _: Duration, block: impl FnOnce() -> bool) -> bool {
        self.take_now(n) || block()
    }

    #[inline]
    fn permit(&self, permits: usize) -> SemaphorePermit<'_> {
        SemaphorePermit { semaphore: self, permits }
    }
}

#[cfg(feature = "instrument")]
impl Semaphore {
    #[inline]
    #[track_caller]
    fn blocking(&self, n: usize, site: &'static Location<'static>, block: impl FnOnce()) {
        // Only `acquire` and `acquire_many` get here: always a fresh call from user code.
        let fresh = crate::runtime::check::Fresh::Call;
        crate::runtime::check::lock(
            &self.meta,
            crate::analysis::report::Mode::Permit,
            site,
            fresh,
            || self.take_now(n),
            block,
            |t| self.take_until(n, t),
        )
    }

    #[inline]
    fn tried(&self, n: usize, site: &'static Location<'static>) -> bool {
        crate::runtime::check::try_lock(&self.meta, crate::analysis::report::Mode::Permit, site, || self.take_now(n))
    }

    #[inline]
    #[track_caller]
    fn timed(
        &self,
        n: usize,
        site: &'static Location<'static>,
        timeout: Duration,
        block: impl FnOnce() -> bool,
    ) -> bool {
        let timeout = crate::runtime::check::Timeout::For(timeout);
        crate::runtime::check::lock_timed(
            &self.meta,
            crate::analysis::report::Mode::Permit,
            site,
            // Only `try_acquire_for` gets here: a fresh call from user code.
            crate::runtime::check::Fresh::Call,
            timeout,
            || self.take_now(n),
            block,
            |t| self.take_until(n, t),
        )
    }

    #[inline]
    fn permit(&self, permits: usize) -> SemaphorePermit<'_> {
        SemaphorePermit { semaphore: self, permits, owner: crate::runtime::check::current_tid() }
    }
}

#[cfg(feature = "instrument")]
impl Drop for Semaphore {
    fn drop(&mut self) {
        self.meta.retire();
    }
}

impl<'a> SemaphorePermit<'a> {
    /// No permits: dropping it does nothing.
    fn none(semaphore: &'a Semaphore) -> SemaphorePermit<'a> {
        SemaphorePermit {
            semaphore,
            permits: 0,
            #[cfg(feature = "instrument")]
            owner: 0,
        }
    }

    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        #[cfg(feature = "instrument")]
        self.semaphore.meta.lose_exclusion();
        self.untrack();
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    #[inline]
    fn untrack(&self) {
        #[cfg(feature = "instrument")]
        crate::runtime::check::release_permit(&self.semaphore.meta, self.owner);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.untrack();
            self.semaphore.put_back(self.permits);
            #[cfg(feature = "instrument")]
            crate::runtime::check::sync_point(crate::runtime::stress::Point::Other);
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore").field("permits", &self.available_permits()).finish()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").field("permits", &self.permits).finish()
    }
}
