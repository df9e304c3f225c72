//! The held-lock assertions every primitive offers (`assert_held`, `assert_not_held`, and for
//! reader-writer locks `assert_held_read` / `assert_held_write`). Instrumented, they check the
//! calling thread's held stack (see `runtime/assertion.rs`); without the `instrument` feature
//! they are empty `#[inline]` functions, and compile to nothing.

use std::panic::Location;

use crate::analysis::report::Assertion;

/// What an assertion needs to know about a lock: its [`LockMeta`](crate::runtime::registry::LockMeta)
/// when instrumented, nothing otherwise.
#[cfg(feature = "instrument")]
pub(crate) type Meta = crate::runtime::registry::LockMeta;

/// What an assertion needs to know about a lock: nothing, without instrumentation.
#[cfg(not(feature = "instrument"))]
pub(crate) type Meta = ();

/// Checks `assertion` about the lock of `meta` on the calling thread.
#[inline(always)]
#[track_caller]
pub(crate) fn check(meta: &Meta, assertion: Assertion, site: &'static Location<'static>) {
    #[cfg(feature = "instrument")]
    crate::runtime::assertion::lock(meta, assertion, site);
    #[cfg(not(feature = "instrument"))]
    let _ = (meta, assertion, site);
}

/// Checks that the calling thread holds no lock.
#[inline(always)]
#[track_caller]
pub(crate) fn no_locks(site: &'static Location<'static>) {
    #[cfg(feature = "instrument")]
    crate::runtime::assertion::no_locks(site);
    #[cfg(not(feature = "instrument"))]
    let _ = site;
}

/// `assert_held` and `assert_not_held` for a primitive, in an `impl` block: `|this| meta`
/// says how to reach the lock's [`Meta`] from `this: &Self`.
macro_rules! held_assertions {
    (|$this:ident| $meta:expr) => {
        /// Checks that the calling thread holds this lock (lockdep's `lockdep_assert_held`),
        /// for a caller that must hold it. A thread that does not is a
        /// [`FailedAssertion`](crate::FailedAssertion) finding, acted on like any other
        /// (`LOCKCHECK_ON_CYCLE`: warn, panic or ignore) and failing `lockcheck check`.
        /// Without the `instrument` feature it does nothing.
        #[inline]
        #[track_caller]
        pub fn assert_held(&self) {
            let $this = self;
            let site = ::std::panic::Location::caller();
            $crate::primitives::assertion::check($meta, $crate::Assertion::Held, site)
        }

        /// Checks that the calling thread does not hold this lock, as
        /// [`assert_held`](Self::assert_held) checks that it does.
        #[inline]
        #[track_caller]
        pub fn assert_not_held(&self) {
            let $this = self;
            let site = ::std::panic::Location::caller();
            $crate::primitives::assertion::check($meta, $crate::Assertion::NotHeld, site)
        }
    };
}

/// [`held_assertions`] plus `assert_held_read` and `assert_held_write`, for reader-writer locks.
macro_rules! rw_held_assertions {
    (|$this:ident| $meta:expr) => {
        $crate::primitives::assertion::held_assertions!(|$this| $meta);

        /// Checks that the calling thread holds this lock for reading (`read`,
        /// `read_recursive` or `upgradable_read`), as [`assert_held`](Self::assert_held)
        /// checks that it holds it at all.
        #[inline]
        #[track_caller]
        pub fn assert_held_read(&self) {
            let $this = self;
            let site = ::std::panic::Location::caller();
            $crate::primitives::assertion::check($meta, $crate::Assertion::HeldRead, site)
        }

        /// Checks that the calling thread holds this lock for writing, as
        /// [`assert_held`](Self::assert_held) checks that it holds it at all.
        #[inline]
        #[track_caller]
        pub fn assert_held_write(&self) {
            let $this = self;
            let site = ::std::panic::Location::caller();
            $crate::primitives::assertion::check($meta, $crate::Assertion::HeldWrite, site)
        }
    };
}

pub(crate) use {held_assertions, rw_held_assertions};
