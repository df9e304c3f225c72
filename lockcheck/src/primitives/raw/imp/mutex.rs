//! The lock_api traits of the instrumented [`RawMutex`]: each method runs the acquisition
//! protocol around parking_lot's. Their entry points are out of line in test builds (see the
//! parent module).

use super::*;

// SAFETY: every method forwards to parking_lot's raw mutex, which upholds the trait's
// contract; the bookkeeping around it never touches the lock state.
unsafe impl lock_api::RawMutex for RawMutex {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: RawMutex =
        RawMutex { inner: parking_lot::RawMutex::INIT, meta: LockMeta::new(LockKind::Mutex, None, None, None) };
    type GuardMarker = <parking_lot::RawMutex as lock_api::RawMutex>::GuardMarker;

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn lock(&self) {
        self.lock_as(Fresh::Unknown)
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock(&self) -> bool {
        check::try_lock(&self.meta, Mode::Exclusive, Location::caller(), || self.inner.try_lock())
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock(&self) {
        check::unlock(&self.meta, Mode::Exclusive, || {
            // SAFETY: the caller holds the lock, as this method requires of it.
            unsafe { self.inner.unlock() }
        })
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }
}

// SAFETY: forwards to parking_lot; see `RawMutex`.
unsafe impl lock_api::RawMutexFair for RawMutex {
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_fair(&self) {
        check::unlock(&self.meta, Mode::Exclusive, || {
            // SAFETY: the caller holds the lock.
            unsafe { self.inner.unlock_fair() }
        })
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump(&self) {
        // SAFETY: the caller holds the lock; it still does when `bump` returns.
        unsafe { self.inner.bump() }
    }
}

// SAFETY: forwards to parking_lot; see `RawMutex`.
unsafe impl lock_api::RawMutexTimed for RawMutex {
    type Duration = Duration;
    type Instant = Instant;

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_for(&self, timeout: Duration) -> bool {
        check::lock_timed(
            &self.meta,
            Mode::Exclusive,
            Location::caller(),
            Fresh::Unknown,
            Timeout::For(timeout),
            || self.inner.try_lock(),
            || self.inner.try_lock_for(timeout),
            |t| self.inner.try_lock_until(t),
        )
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_until(&self, timeout: Instant) -> bool {
        check::lock_timed(
            &self.meta,
            Mode::Exclusive,
            Location::caller(),
            Fresh::Unknown,
            Timeout::Until(timeout),
            || self.inner.try_lock(),
            || self.inner.try_lock_until(timeout),
            |t| self.inner.try_lock_until(t),
        )
    }
}
