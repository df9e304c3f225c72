//! The raw locks behind every primitive.
//!
//! Without the `instrument` feature these are parking_lot's own raw locks, so every primitive
//! is parking_lot's at its size and speed. With it, each wraps parking_lot's raw lock with its
//! [`LockMeta`](crate::runtime::registry::LockMeta) and runs the acquisition protocol of `check.rs` around it; lock_api builds
//! every guard type on top, and its `#[track_caller]` methods hand us the user's call site.

use std::panic::Location;

use crate::analysis::report::LockKind;

#[cfg(not(feature = "instrument"))]
mod imp {
    use super::*;
    pub use parking_lot::{RawMutex, RawRwLock};

    #[inline]
    pub const fn mutex(
        _: LockKind,
        _: Option<&'static str>,
        _: Option<u32>,
        _: &'static Location<'static>,
    ) -> RawMutex {
        <RawMutex as lock_api::RawMutex>::INIT
    }

    #[inline]
    pub const fn rwlock(_: Option<&'static str>, _: Option<u32>, _: &'static Location<'static>) -> RawRwLock {
        <RawRwLock as lock_api::RawRwLock>::INIT
    }

    #[inline]
    pub fn hint_site(_: &'static Location<'static>) {}

    /// `Mutex::lock`'s acquisition: parking_lot's own.
    #[inline]
    pub fn lock_fresh(raw: &RawMutex) {
        <RawMutex as lock_api::RawMutex>::lock(raw)
    }

    /// `RwLock::read`'s acquisition: parking_lot's own.
    #[inline]
    pub fn read_fresh(raw: &RawRwLock) {
        <RawRwLock as lock_api::RawRwLock>::lock_shared(raw)
    }

    /// `RwLock::read_recursive`'s acquisition: parking_lot's own.
    #[inline]
    pub fn read_recursive_fresh(raw: &RawRwLock) {
        <RawRwLock as lock_api::RawRwLockRecursive>::lock_shared_recursive(raw)
    }

    /// `RwLock::write`'s acquisition: parking_lot's own.
    #[inline]
    pub fn write_fresh(raw: &RawRwLock) {
        <RawRwLock as lock_api::RawRwLock>::lock_exclusive(raw)
    }

    /// `RwLock::upgradable_read`'s acquisition: parking_lot's own.
    #[inline]
    pub fn upgradable_fresh(raw: &RawRwLock) {
        <RawRwLock as lock_api::RawRwLockUpgrade>::lock_upgradable(raw)
    }

    /// What the held-lock assertions know of a mutex: nothing, without instrumentation.
    #[inline(always)]
    pub fn mutex_meta(_: &RawMutex) -> &'static crate::primitives::assertion::Meta {
        &()
    }

    /// What the held-lock assertions know of a reader-writer lock: nothing, without
    /// instrumentation.
    #[inline(always)]
    pub fn rwlock_meta(_: &RawRwLock) -> &'static crate::primitives::assertion::Meta {
        &()
    }

    /// Runs a lock_api call; nothing to relay without instrumentation.
    #[inline(always)]
    pub fn panics_at_caller<R>(call: impl FnOnce() -> R) -> R {
        call()
    }

    /// A blocking call from user code; nothing to mark without instrumentation.
    pub struct FreshCall;

    #[inline]
    pub fn fresh() -> FreshCall {
        FreshCall
    }
}

/// Instrumented.
///
/// The entry points (the `*_fresh` functions and the lock_api trait methods) are inlined in
/// release builds, and out of line where `debug_assertions` are on, that is in the test builds
/// lockcheck is made for. An inlined function is compiled in the crate that calls it, at that
/// crate's optimisation level: in a test build, the whole acquisition protocol was compiled
/// unoptimised into the user's crate, whatever the user's profile said of lockcheck, and cost
/// 170 ns a lock and unlock against parking_lot's 30–45 ns. Out of line, it is compiled here, at
/// lockcheck's own level: with `[profile.dev.package.lockcheck] opt-level = 3` (the README's
/// set-up) it costs 20 ns, less than parking_lot unoptimised (its raw lock is compiled here
/// too; `benches/test_build`, figures in the README). Release builds keep the inlined form
/// the `peers` bench measures.
#[cfg(feature = "instrument")]
mod imp {
    use super::*;
    use crate::analysis::report::Mode;
    use crate::runtime::check::{self, Fresh, Timeout};
    use crate::runtime::registry::LockMeta;
    use lock_api::{
        RawMutex as _, RawMutexTimed as _, RawRwLock as _, RawRwLockRecursive as _, RawRwLockRecursiveTimed as _,
        RawRwLockTimed as _, RawRwLockUpgrade as _, RawRwLockUpgradeTimed as _,
    };
    use std::time::{Duration, Instant};

    // The lock_api trait impls, one file per raw lock.
    mod mutex;
    mod rwlock;

    /// parking_lot's raw mutex, instrumented.
    pub struct RawMutex {
        inner: parking_lot::RawMutex,
        pub(crate) meta: LockMeta,
    }

    /// parking_lot's raw reader-writer lock, instrumented.
    pub struct RawRwLock {
        inner: parking_lot::RawRwLock,
        pub(crate) meta: LockMeta,
    }

    #[inline]
    pub const fn mutex(
        kind: LockKind,
        name: Option<&'static str>,
        rank: Option<u32>,
        site: &'static Location<'static>,
    ) -> RawMutex {
        RawMutex { inner: parking_lot::RawMutex::INIT, meta: LockMeta::new(kind, name, rank, Some(site)) }
    }

    #[inline]
    pub const fn rwlock(name: Option<&'static str>, rank: Option<u32>, site: &'static Location<'static>) -> RawRwLock {
        RawRwLock { inner: parking_lot::RawRwLock::INIT, meta: LockMeta::new(LockKind::RwLock, name, rank, Some(site)) }
    }

    pub use crate::runtime::check::{hint_site, panics_at_caller};

    /// The mutex's metadata, for the held-lock assertions.
    #[inline(always)]
    pub fn mutex_meta(raw: &RawMutex) -> &LockMeta {
        &raw.meta
    }

    /// The reader-writer lock's metadata, for the held-lock assertions.
    #[inline(always)]
    pub fn rwlock_meta(raw: &RawRwLock) -> &LockMeta {
        &raw.meta
    }

    #[inline]
    pub fn fresh() -> crate::runtime::check::FreshCall {
        crate::runtime::check::FreshCall::begin()
    }

    impl Drop for RawMutex {
        fn drop(&mut self) {
            self.meta.retire();
        }
    }

    impl Drop for RawRwLock {
        fn drop(&mut self) {
            self.meta.retire();
        }
    }

    impl RawMutex {
        #[inline(always)]
        #[track_caller]
        fn lock_as(&self, fresh: Fresh) {
            check::lock(
                &self.meta,
                Mode::Exclusive,
                Location::caller(),
                fresh,
                || self.inner.try_lock(),
                || self.inner.lock(),
                |t| self.inner.try_lock_until(t),
            )
        }
    }

    impl RawRwLock {
        #[inline(always)]
        #[track_caller]
        fn lock_shared_as(&self, fresh: Fresh) {
            check::lock(
                &self.meta,
                Mode::Shared,
                Location::caller(),
                fresh,
                || self.inner.try_lock_shared(),
                || self.inner.lock_shared(),
                |t| self.inner.try_lock_shared_until(t),
            )
        }

        #[inline(always)]
        #[track_caller]
        fn lock_exclusive_as(&self, fresh: Fresh) {
            check::lock(
                &self.meta,
                Mode::Exclusive,
                Location::caller(),
                fresh,
                || self.inner.try_lock_exclusive(),
                || self.inner.lock_exclusive(),
                |t| self.inner.try_lock_exclusive_until(t),
            )
        }

        #[inline(always)]
        #[track_caller]
        fn lock_shared_recursive_as(&self, fresh: Fresh) {
            check::lock(
                &self.meta,
                Mode::SharedRecursive,
                Location::caller(),
                fresh,
                || self.inner.try_lock_shared_recursive(),
                || self.inner.lock_shared_recursive(),
                |t| self.inner.try_lock_shared_recursive_until(t),
            )
        }

        #[inline(always)]
        #[track_caller]
        fn lock_upgradable_as(&self, fresh: Fresh) {
            check::lock(
                &self.meta,
                Mode::Upgradable,
                Location::caller(),
                fresh,
                || self.inner.try_lock_upgradable(),
                || self.inner.lock_upgradable(),
                |t| self.inner.try_lock_upgradable_until(t),
            )
        }
    }

    /// `RwLock::read`'s acquisition: a fresh call from user code.
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[track_caller]
    pub fn read_fresh(raw: &RawRwLock) {
        raw.lock_shared_as(Fresh::Call)
    }

    /// `RwLock::read_recursive`'s acquisition: a fresh call from user code.
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[track_caller]
    pub fn read_recursive_fresh(raw: &RawRwLock) {
        raw.lock_shared_recursive_as(Fresh::Call)
    }

    /// `RwLock::write`'s acquisition: a fresh call from user code.
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[track_caller]
    pub fn write_fresh(raw: &RawRwLock) {
        raw.lock_exclusive_as(Fresh::Call)
    }

    /// `RwLock::upgradable_read`'s acquisition: a fresh call from user code.
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[track_caller]
    pub fn upgradable_fresh(raw: &RawRwLock) {
        raw.lock_upgradable_as(Fresh::Call)
    }

    /// `Mutex::lock`'s acquisition: a fresh call from user code.
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[track_caller]
    pub fn lock_fresh(raw: &RawMutex) {
        raw.lock_as(Fresh::Call)
    }
}

pub(crate) use imp::{
    fresh, hint_site, lock_fresh, mutex, mutex_meta, panics_at_caller, read_fresh, read_recursive_fresh, rwlock,
    rwlock_meta, upgradable_fresh, write_fresh,
};
pub use imp::{RawMutex, RawRwLock};

#[cfg(test)]
mod tests;
