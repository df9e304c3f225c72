//! [`Condvar`]: std's condition variable API for [`sync::Mutex`](super::Mutex). Without the
//! `instrument` feature it is std's own. With it, it is [`crate::Condvar`]'s instrumented
//! one: a wait releases the mutex (it leaves the held stack) and re-acquires it as a blocking
//! acquisition, so the re-acquisition makes order edges from every other lock still held; on
//! top, std's signatures (guards by value) and poisoning.

#[cfg(not(feature = "instrument"))]
pub use std::sync::{Condvar, WaitTimeoutResult};

#[cfg(feature = "instrument")]
pub use imp::{Condvar, WaitTimeoutResult};

#[cfg(feature = "instrument")]
mod imp {
    use std::fmt;
    use std::sync::LockResult;
    use std::time::{Duration, Instant};

    pub use crate::primitives::condvar::WaitTimeoutResult;
    use crate::primitives::sync::MutexGuard;

    /// A condition variable for [`sync::Mutex`](crate::sync::Mutex), with std's API.
    #[derive(Default)]
    pub struct Condvar {
        inner: crate::primitives::condvar::Condvar,
    }

    impl Condvar {
        /// A new condition variable.
        #[inline]
        pub const fn new() -> Condvar {
            Condvar { inner: crate::primitives::condvar::Condvar::new() }
        }

        /// Wakes one waiter.
        #[inline]
        pub fn notify_one(&self) {
            self.inner.notify_one();
        }

        /// Wakes every waiter.
        #[inline]
        pub fn notify_all(&self) {
            self.inner.notify_all();
        }

        /// Releases the guard's mutex, waits for a notification, re-acquires the mutex. An
        /// error (still holding the guard) if the mutex is poisoned when re-acquired.
        #[track_caller]
        pub fn wait<'a, T: ?Sized>(&self, mut guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
            self.inner.wait(&mut guard.inner);
            guard.relocked()
        }

        /// Waits while `condition` holds for the data; stops at the first poisoned
        /// re-acquisition, as std's does.
        #[track_caller]
        pub fn wait_while<'a, T: ?Sized, F>(
            &self,
            mut guard: MutexGuard<'a, T>,
            mut condition: F,
        ) -> LockResult<MutexGuard<'a, T>>
        where
            F: FnMut(&mut T) -> bool,
        {
            while condition(&mut *guard) {
                guard = self.wait(guard)?;
            }
            Ok(guard)
        }

        /// [`wait`](Self::wait), giving up after `timeout`.
        #[track_caller]
        pub fn wait_timeout<'a, T: ?Sized>(
            &self,
            mut guard: MutexGuard<'a, T>,
            timeout: Duration,
        ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
            let result = self.inner.wait_for(&mut guard.inner, timeout);
            match guard.relocked() {
                Ok(guard) => Ok((guard, result)),
                Err(poisoned) => Err(std::sync::PoisonError::new((poisoned.into_inner(), result))),
            }
        }

        /// [`wait_while`](Self::wait_while), giving up after `timeout` in all.
        #[track_caller]
        pub fn wait_timeout_while<'a, T: ?Sized, F>(
            &self,
            mut guard: MutexGuard<'a, T>,
            timeout: Duration,
            mut condition: F,
        ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
        where
            F: FnMut(&mut T) -> bool,
        {
            // std's loop: the time left is measured from the start.
            let start = Instant::now();
            loop {
                if !condition(&mut *guard) {
                    return Ok((guard, WaitTimeoutResult::new(false)));
                }
                let Some(left) = timeout.checked_sub(start.elapsed()) else {
                    return Ok((guard, WaitTimeoutResult::new(true)));
                };
                guard = self.wait_timeout(guard, left)?.0;
            }
        }
    }

    impl fmt::Debug for Condvar {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.pad("Condvar { .. }")
        }
    }
}
