//! [`Condvar`]: parking_lot's condition variable. Instrumented, a wait releases the mutex
//! (it leaves the held stack) and re-acquires it afterwards as a blocking acquisition, so
//! the re-acquisition makes order edges from every other lock still held.

#[cfg(not(feature = "instrument"))]
pub use parking_lot::{Condvar, WaitTimeoutResult};

#[cfg(feature = "instrument")]
pub use imp::{Condvar, WaitTimeoutResult};

#[cfg(feature = "instrument")]
mod imp {
    use std::fmt;
    use std::time::{Duration, Instant};

    use lock_api::RawMutex as _;

    use crate::primitives::mutex::MutexGuard;

    /// Whether a timed wait ended by timing out.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        /// The result of a wait that did (`true`) or did not time out.
        #[inline]
        pub(crate) fn new(timed_out: bool) -> WaitTimeoutResult {
            WaitTimeoutResult(timed_out)
        }

        /// `true` if the wait ended because the timeout passed.
        #[inline]
        pub fn timed_out(self) -> bool {
            self.0
        }
    }

    /// A condition variable for [`Mutex`](crate::Mutex) with parking_lot's API.
    ///
    /// The instrumented mutex is not parking_lot's, so waiting goes through a private gate:
    /// a waiter takes the gate before it releases the mutex, and a notifier takes the gate
    /// before it notifies, so no notification falls between the release and the park.
    #[derive(Default)]
    pub struct Condvar {
        gate: parking_lot::Mutex<()>,
        cv: parking_lot::Condvar,
    }

    impl Condvar {
        /// A new condition variable.
        #[inline]
        pub const fn new() -> Condvar {
            Condvar { gate: parking_lot::Mutex::new(()), cv: parking_lot::Condvar::new() }
        }

        /// Wakes one waiter; `true` if there was one.
        #[inline]
        pub fn notify_one(&self) -> bool {
            let _gate = self.gate.lock();
            self.cv.notify_one()
        }

        /// Wakes every waiter; returns how many there were.
        #[inline]
        pub fn notify_all(&self) -> usize {
            let _gate = self.gate.lock();
            self.cv.notify_all()
        }

        /// Releases the guard's mutex, waits for a notification, re-acquires the mutex.
        #[track_caller]
        pub fn wait<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>) {
            self.park(guard, None);
        }

        /// [`wait`](Self::wait), giving up after `timeout`.
        #[track_caller]
        pub fn wait_for<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>, timeout: Duration) -> WaitTimeoutResult {
            self.park(guard, Instant::now().checked_add(timeout))
        }

        /// [`wait`](Self::wait), giving up at `timeout`.
        #[track_caller]
        pub fn wait_until<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>, timeout: Instant) -> WaitTimeoutResult {
            self.park(guard, Some(timeout))
        }

        /// Waits while `condition` holds for the data.
        #[track_caller]
        pub fn wait_while<T: ?Sized, F>(&self, guard: &mut MutexGuard<'_, T>, mut condition: F)
        where
            F: FnMut(&mut T) -> bool,
        {
            while condition(&mut *guard) {
                self.park(guard, None);
            }
        }

        /// [`wait_while`](Self::wait_while), giving up after `timeout`.
        #[track_caller]
        pub fn wait_while_for<T: ?Sized, F>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            condition: F,
            timeout: Duration,
        ) -> WaitTimeoutResult
        where
            F: FnMut(&mut T) -> bool,
        {
            match Instant::now().checked_add(timeout) {
                Some(deadline) => self.wait_while_until(guard, condition, deadline),
                None => {
                    self.wait_while(guard, condition);
                    WaitTimeoutResult(false)
                }
            }
        }

        /// [`wait_while`](Self::wait_while), giving up at `timeout`.
        #[track_caller]
        pub fn wait_while_until<T: ?Sized, F>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            mut condition: F,
            timeout: Instant,
        ) -> WaitTimeoutResult
        where
            F: FnMut(&mut T) -> bool,
        {
            // parking_lot's loop: the result is the last wait's.
            let mut result = WaitTimeoutResult(false);
            while !result.timed_out() && condition(&mut *guard) {
                result = self.park(guard, Some(timeout));
            }
            result
        }

        #[track_caller]
        fn park<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>, deadline: Option<Instant>) -> WaitTimeoutResult {
            // SAFETY: the guard proves the mutex is locked by this thread; it is unlocked
            // here and locked again below before the guard can be used or dropped.
            let raw = unsafe { MutexGuard::mutex(guard).raw() };
            // Stress mode's point for the wait, before the gate: a delay under the gate would
            // hold up every notifier, and a delay here opens the window between a waiter's
            // check of its condition and its sleep.
            crate::runtime::check::sync_point(crate::runtime::stress::Point::Other);
            // The watchdog sees that this thread waits on a lockcheck primitive.
            let parked = crate::runtime::watchdog::park();
            let mut gate = self.gate.lock();
            // SAFETY: held, as above.
            crate::runtime::stress::quietly(|| unsafe { raw.unlock() });
            let timed_out = match deadline {
                Some(deadline) => self.cv.wait_until(&mut gate, deadline).timed_out(),
                None => {
                    self.cv.wait(&mut gate);
                    false
                }
            };
            drop(gate);
            drop(parked);
            // Not a fresh call (a finding prints, never panics: the guard must stay valid), and
            // called here directly so that `#[track_caller]` reports the user's `wait`.
            raw.lock();
            WaitTimeoutResult(timed_out)
        }
    }

    impl fmt::Debug for Condvar {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.pad("Condvar { .. }")
        }
    }
}
