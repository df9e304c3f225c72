//! The lock_api traits of the instrumented [`RawRwLock`]: each method runs the acquisition
//! protocol around parking_lot's. Their entry points are out of line in test builds (see the
//! parent module).

use super::*;

// SAFETY: forwards to parking_lot; see `RawMutex`.
unsafe impl lock_api::RawRwLock for RawRwLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: RawRwLock =
        RawRwLock { inner: parking_lot::RawRwLock::INIT, meta: LockMeta::new(LockKind::RwLock, None, None, None) };
    type GuardMarker = <parking_lot::RawRwLock as lock_api::RawRwLock>::GuardMarker;

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn lock_shared(&self) {
        self.lock_shared_as(Fresh::Unknown)
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_shared(&self) -> bool {
        check::try_lock(&self.meta, Mode::Shared, Location::caller(), || self.inner.try_lock_shared())
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_shared(&self) {
        check::unlock(&self.meta, Mode::Shared, || {
            // SAFETY: the caller holds a shared lock.
            unsafe { self.inner.unlock_shared() }
        })
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn lock_exclusive(&self) {
        self.lock_exclusive_as(Fresh::Unknown)
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_exclusive(&self) -> bool {
        check::try_lock(&self.meta, Mode::Exclusive, Location::caller(), || self.inner.try_lock_exclusive())
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_exclusive(&self) {
        check::unlock(&self.meta, Mode::Exclusive, || {
            // SAFETY: the caller holds the exclusive lock.
            unsafe { self.inner.unlock_exclusive() }
        })
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    fn is_locked_exclusive(&self) -> bool {
        self.inner.is_locked_exclusive()
    }
}

// SAFETY: forwards to parking_lot; see `RawMutex`.
unsafe impl lock_api::RawRwLockFair for RawRwLock {
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_shared_fair(&self) {
        check::unlock(&self.meta, Mode::Shared, || {
            // SAFETY: the caller holds a shared lock.
            unsafe { self.inner.unlock_shared_fair() }
        })
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_exclusive_fair(&self) {
        check::unlock(&self.meta, Mode::Exclusive, || {
            // SAFETY: the caller holds the exclusive lock.
            unsafe { self.inner.unlock_exclusive_fair() }
        })
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump_shared(&self) {
        // SAFETY: the caller holds a shared lock, and does again when this returns.
        unsafe { self.inner.bump_shared() }
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump_exclusive(&self) {
        // SAFETY: the caller holds the exclusive lock, and does again when this returns.
        unsafe { self.inner.bump_exclusive() }
    }
}

// SAFETY: forwards to parking_lot; see `RawMutex`.
unsafe impl lock_api::RawRwLockDowngrade for RawRwLock {
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn downgrade(&self) {
        check::set_mode(&self.meta, Mode::Shared);
        // SAFETY: the caller holds the exclusive lock.
        unsafe { self.inner.downgrade() }
    }
}

// SAFETY: forwards to parking_lot; see `RawMutex`.
unsafe impl lock_api::RawRwLockTimed for RawRwLock {
    type Duration = Duration;
    type Instant = Instant;

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_shared_for(&self, timeout: Duration) -> bool {
        check::lock_timed(
            &self.meta,
            Mode::Shared,
            Location::caller(),
            Fresh::Unknown,
            Timeout::For(timeout),
            || self.inner.try_lock_shared(),
            || self.inner.try_lock_shared_for(timeout),
            |t| self.inner.try_lock_shared_until(t),
        )
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_shared_until(&self, timeout: Instant) -> bool {
        check::lock_timed(
            &self.meta,
            Mode::Shared,
            Location::caller(),
            Fresh::Unknown,
            Timeout::Until(timeout),
            || self.inner.try_lock_shared(),
            || self.inner.try_lock_shared_until(timeout),
            |t| self.inner.try_lock_shared_until(t),
        )
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_exclusive_for(&self, timeout: Duration) -> bool {
        check::lock_timed(
            &self.meta,
            Mode::Exclusive,
            Location::caller(),
            Fresh::Unknown,
            Timeout::For(timeout),
            || self.inner.try_lock_exclusive(),
            || self.inner.try_lock_exclusive_for(timeout),
            |t| self.inner.try_lock_exclusive_until(t),
        )
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_exclusive_until(&self, timeout: Instant) -> bool {
        check::lock_timed(
            &self.meta,
            Mode::Exclusive,
            Location::caller(),
            Fresh::Unknown,
            Timeout::Until(timeout),
            || self.inner.try_lock_exclusive(),
            || self.inner.try_lock_exclusive_until(timeout),
            |t| self.inner.try_lock_exclusive_until(t),
        )
    }
}

// SAFETY: forwards to parking_lot; see `RawMutex`.
unsafe impl lock_api::RawRwLockRecursive for RawRwLock {
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn lock_shared_recursive(&self) {
        self.lock_shared_recursive_as(Fresh::Unknown)
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_shared_recursive(&self) -> bool {
        check::try_lock(&self.meta, Mode::SharedRecursive, Location::caller(), || {
            self.inner.try_lock_shared_recursive()
        })
    }
}

// SAFETY: forwards to parking_lot; see `RawMutex`.
unsafe impl lock_api::RawRwLockRecursiveTimed for RawRwLock {
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_shared_recursive_for(&self, timeout: Duration) -> bool {
        check::lock_timed(
            &self.meta,
            Mode::SharedRecursive,
            Location::caller(),
            Fresh::Unknown,
            Timeout::For(timeout),
            || self.inner.try_lock_shared_recursive(),
            || self.inner.try_lock_shared_recursive_for(timeout),
            |t| self.inner.try_lock_shared_recursive_until(t),
        )
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_shared_recursive_until(&self, timeout: Instant) -> bool {
        check::lock_timed(
            &self.meta,
            Mode::SharedRecursive,
            Location::caller(),
            Fresh::Unknown,
            Timeout::Until(timeout),
            || self.inner.try_lock_shared_recursive(),
            || self.inner.try_lock_shared_recursive_until(timeout),
            |t| self.inner.try_lock_shared_recursive_until(t),
        )
    }
}

// SAFETY: forwards to parking_lot; see `RawMutex`.
unsafe impl lock_api::RawRwLockUpgrade for RawRwLock {
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn lock_upgradable(&self) {
        self.lock_upgradable_as(Fresh::Unknown)
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_upgradable(&self) -> bool {
        check::try_lock(&self.meta, Mode::Upgradable, Location::caller(), || self.inner.try_lock_upgradable())
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_upgradable(&self) {
        check::unlock(&self.meta, Mode::Upgradable, || {
            // SAFETY: the caller holds the upgradable lock.
            unsafe { self.inner.unlock_upgradable() }
        })
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    unsafe fn upgrade(&self) {
        check::upgrade(
            &self.meta,
            Location::caller(),
            None,
            // SAFETY: the caller holds the upgradable lock; a try cannot block.
            || unsafe { self.inner.try_upgrade() },
            || {
                // SAFETY: the caller holds the upgradable lock.
                unsafe { self.inner.upgrade() };
                true
            },
            // SAFETY: the caller holds the upgradable lock.
            |t| unsafe { self.inner.try_upgrade_until(t) },
        );
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    unsafe fn try_upgrade(&self) -> bool {
        // SAFETY: the caller holds the upgradable lock; a try cannot block.
        let ok = unsafe { self.inner.try_upgrade() };
        if ok {
            check::set_mode(&self.meta, Mode::Exclusive);
        }
        ok
    }
}

// SAFETY: forwards to parking_lot; see `RawMutex`.
unsafe impl lock_api::RawRwLockUpgradeFair for RawRwLock {
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_upgradable_fair(&self) {
        check::unlock(&self.meta, Mode::Upgradable, || {
            // SAFETY: the caller holds the upgradable lock.
            unsafe { self.inner.unlock_upgradable_fair() }
        })
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump_upgradable(&self) {
        // SAFETY: the caller holds the upgradable lock, and does again when this returns.
        unsafe { self.inner.bump_upgradable() }
    }
}

// SAFETY: forwards to parking_lot; see `RawMutex`.
unsafe impl lock_api::RawRwLockUpgradeDowngrade for RawRwLock {
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn downgrade_upgradable(&self) {
        check::set_mode(&self.meta, Mode::Shared);
        // SAFETY: the caller holds the upgradable lock.
        unsafe { self.inner.downgrade_upgradable() }
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn downgrade_to_upgradable(&self) {
        check::set_mode(&self.meta, Mode::Upgradable);
        // SAFETY: the caller holds the exclusive lock.
        unsafe { self.inner.downgrade_to_upgradable() }
    }
}

// SAFETY: forwards to parking_lot; see `RawMutex`.
unsafe impl lock_api::RawRwLockUpgradeTimed for RawRwLock {
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_upgradable_for(&self, timeout: Duration) -> bool {
        check::lock_timed(
            &self.meta,
            Mode::Upgradable,
            Location::caller(),
            Fresh::Unknown,
            Timeout::For(timeout),
            || self.inner.try_lock_upgradable(),
            || self.inner.try_lock_upgradable_for(timeout),
            |t| self.inner.try_lock_upgradable_until(t),
        )
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    fn try_lock_upgradable_until(&self, timeout: Instant) -> bool {
        check::lock_timed(
            &self.meta,
            Mode::Upgradable,
            Location::caller(),
            Fresh::Unknown,
            Timeout::Until(timeout),
            || self.inner.try_lock_upgradable(),
            || self.inner.try_lock_upgradable_until(timeout),
            |t| self.inner.try_lock_upgradable_until(t),
        )
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    unsafe fn try_upgrade_for(&self, timeout: Duration) -> bool {
        check::upgrade(
            &self.meta,
            Location::caller(),
            Some(Timeout::For(timeout)),
            // SAFETY: the caller holds the upgradable lock; a try cannot block.
            || unsafe { self.inner.try_upgrade() },
            // SAFETY: the caller holds the upgradable lock.
            || unsafe { self.inner.try_upgrade_for(timeout) },
            // SAFETY: the caller holds the upgradable lock.
            |t| unsafe { self.inner.try_upgrade_until(t) },
        )
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    #[track_caller]
    unsafe fn try_upgrade_until(&self, timeout: Instant) -> bool {
        check::upgrade(
            &self.meta,
            Location::caller(),
            Some(Timeout::Until(timeout)),
            // SAFETY: the caller holds the upgradable lock; a try cannot block.
            || unsafe { self.inner.try_upgrade() },
            // SAFETY: the caller holds the upgradable lock.
            || unsafe { self.inner.try_upgrade_until(timeout) },
            // SAFETY: the caller holds the upgradable lock.
            |t| unsafe { self.inner.try_upgrade_until(t) },
        )
    }
}
