//! What every instrumented guard of a `lockcheck::tokio` lock carries: the permits it holds
//! on the lock's checked semaphore and the hold they stand for, given back when it drops.
//!
//! The guards themselves have no `Drop` of their own, so `map`, `downgrade` and the rest
//! move this part from one guard type into the next without unlocking in between: a mapped
//! or downgraded guard holds the lock, and stays in its holder's held set, until it drops.

use std::mem::ManuallyDrop;

use crate::primitives::tokio::checked::CheckedSemaphore;
use crate::runtime::async_lock::Hold;

/// How a guard reaches its lock: a borrow, an `Arc` of it, or (once mapped, when the data's
/// type no longer names the lock) its checked semaphore.
pub(super) trait Lock {
    /// The lock's checked semaphore.
    fn core(&self) -> &CheckedSemaphore;
}

impl Lock for &CheckedSemaphore {
    #[inline(always)]
    fn core(&self) -> &CheckedSemaphore {
        self
    }
}

/// Permits of a lock, held for a guard.
pub(super) struct Permits<L: Lock> {
    pub(super) lock: L,
    n: u32,
    /// `None` when instrumentation was off at run time when the lock was taken.
    hold: Option<Hold>,
}

impl<L: Lock> Permits<L> {
    /// `n` permits just taken for `hold`.
    #[inline]
    pub(super) fn new(lock: L, n: u32, hold: Option<Hold>) -> Permits<L> {
        Permits { lock, n, hold }
    }

    /// The guard is used: the running task or thread holds it from now on (see
    /// [`Hold::follow`]).
    #[inline(always)]
    pub(super) fn follow(&self) {
        if let Some(hold) = &self.hold {
            hold.follow(self.lock.core().meta());
        }
    }

    /// The same permits and hold, reached through `to` from now on (a mapped guard's handle).
    #[inline]
    pub(super) fn reach<M: Lock>(self, to: impl FnOnce(L) -> M) -> Permits<M> {
        let mut this = ManuallyDrop::new(self);
        let hold = this.hold.take();
        // SAFETY: `this` is never dropped or used again, so `lock` is moved out exactly once.
        let lock = unsafe { std::ptr::read(&this.lock) };
        Permits { lock: to(lock), n: this.n, hold }
    }

    /// A write hold becomes a read hold of one permit, in the running task's held set (the
    /// downgrade is a use: see `Hold::set_mode`).
    pub(super) fn downgrade(&mut self) {
        self.lock.core().downgrade(self.n, self.hold.as_mut());
        self.n = 1;
    }
}

impl<L: Lock> Drop for Permits<L> {
    #[inline]
    fn drop(&mut self) {
        self.lock.core().release(self.n, self.hold.take());
    }
}

/// `Deref` (and with `mut`, `DerefMut`), `Debug` and `Display` of a guard whose data is
/// `$target`, at the pointer `$data` works out from the guard `$this`. Every use follows the
/// guard to the running task.
macro_rules! guard_impls {
    ([$($gen:tt)*] $guard:ty => mut $target:ident, |$this:ident| $data:expr) => {
        $crate::primitives::tokio::guard::guard_impls!([$($gen)*] $guard => $target, |$this| $data);

        impl<$($gen)*> std::ops::DerefMut for $guard {
            #[inline]
            fn deref_mut(&mut self) -> &mut $target {
                self.permits.follow();
                let $this = &*self;
                // SAFETY: the guard holds every permit of its lock until it drops, so nothing
                // else reaches the data (or the part it was mapped to); `&mut self` is unique.
                unsafe { &mut *$data }
            }
        }
    };
    ([$($gen:tt)*] $guard:ty => $target:ident, |$this:ident| $data:expr) => {
        impl<$($gen)*> std::ops::Deref for $guard {
            type Target = $target;

            #[inline]
            fn deref(&self) -> &$target {
                self.permits.follow();
                let $this = self;
                // SAFETY: the guard holds a permit of its lock until it drops, so no writer
                // reaches the data (or the part it was mapped to) meanwhile.
                unsafe { &*$data }
            }
        }

        impl<$($gen)*> std::fmt::Debug for $guard
        where
            $target: std::fmt::Debug,
        {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$($gen)*> std::fmt::Display for $guard
        where
            $target: std::fmt::Display,
        {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&**self, f)
            }
        }
    };
}

pub(super) use guard_impls;
