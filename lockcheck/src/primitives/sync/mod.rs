//! `lockcheck::sync`: std's `Mutex`, `RwLock`, `Condvar`, `OnceLock` and `LazyLock`, with
//! std's API (poisoning included) and lockcheck's names, ranks and checks.
//!
//! Without the `instrument` feature each lock is std's own behind a `#[repr(transparent)]`
//! wrapper (same size, same speed), and the guards, `Condvar`, `WaitTimeoutResult` and the
//! error types are std's. With it, the locks run on lockcheck's instrumented raw locks (the
//! ones [`crate::Mutex`] and [`crate::RwLock`] use, so all of them share one lock-order graph,
//! one watchdog and one trace) and keep std's poisoning; `OnceLock` and `LazyLock` wrap std's
//! cells, with their initialisation checked as an exclusive acquisition of the cell.
//!
//! A module switches with one line: `use std::sync::{Arc, Mutex, …}` becomes
//! `use lockcheck::sync::{Arc, Mutex, …}` (`Arc`, `Weak`, `Barrier`, `mpsc` and `atomic` are
//! std's own, re-exported).
//!
//! ```
//! use lockcheck::sync::{Condvar, Mutex, OnceLock};
//!
//! static CONFIG: OnceLock<String> = OnceLock::named("config");
//! let queue = Mutex::named("queue", Vec::new());
//! let ready = Condvar::new();
//!
//! queue.lock().unwrap().push(CONFIG.get_or_init(|| "fast".to_owned()).len());
//! let mut items = queue.lock().unwrap();
//! while items.is_empty() {
//!     items = ready.wait(items).unwrap();
//! }
//! queue.assert_held(); // checked with `instrument`, nothing without
//! # drop(items);
//! ```

/// `Debug` and `Display` as std's guards have them: the data's own.
#[cfg(feature = "instrument")]
macro_rules! fmt_as_data {
    ($($guard:ident),*) => {$(
        impl<T: ?Sized + fmt::Debug> fmt::Debug for $guard<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<T: ?Sized + fmt::Display> fmt::Display for $guard<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                (**self).fmt(f)
            }
        }
    )*};
}

#[cfg(feature = "instrument")]
use fmt_as_data;

/// What std's `Mutex` and `RwLock` share, in both modes: `into_inner`, `is_poisoned`,
/// `clear_poison`, `get_mut`, `Default`, `From`, `Debug` (std's form, the data taken with
/// `$try_lock` when it is free) and (instrumented; std's own have them)
/// `UnwindSafe` and `RefUnwindSafe`: a panic while the lock is held poisons it, so its data
/// is never seen broken unknowingly. The lock has `inner` (std's lock, or lock_api's over
/// lockcheck's raw lock) and, instrumented, `poison`.
macro_rules! std_lock_common {
    ($Lock:ident, $try_lock:ident) => {
        impl<T> $Lock<T> {
            /// Consumes the lock and returns the data; an error (still holding the data) if
            /// the lock is poisoned.
            #[inline]
            pub fn into_inner(self) -> std::sync::LockResult<T> {
                #[cfg(not(feature = "instrument"))]
                return self.inner.into_inner();
                #[cfg(feature = "instrument")]
                {
                    let poisoned = self.poison.get();
                    $crate::primitives::sync::poison::Flag::result_if(poisoned, self.inner.into_inner())
                }
            }
        }

        impl<T: ?Sized> $Lock<T> {
            /// Whether a thread panicked while holding the lock (for writing).
            #[inline]
            pub fn is_poisoned(&self) -> bool {
                #[cfg(not(feature = "instrument"))]
                return self.inner.is_poisoned();
                #[cfg(feature = "instrument")]
                self.poison.get()
            }

            /// Clears the poison: the data was checked or repaired.
            #[inline]
            pub fn clear_poison(&self) {
                #[cfg(not(feature = "instrument"))]
                self.inner.clear_poison();
                #[cfg(feature = "instrument")]
                self.poison.clear();
            }

            /// A mutable reference to the data; no locking needed, the borrow proves
            /// exclusivity. An error (still holding the reference) if the lock is poisoned.
            #[inline]
            pub fn get_mut(&mut self) -> std::sync::LockResult<&mut T> {
                #[cfg(not(feature = "instrument"))]
                return self.inner.get_mut();
                #[cfg(feature = "instrument")]
                {
                    let poisoned = self.poison.get();
                    $crate::primitives::sync::poison::Flag::result_if(poisoned, self.inner.get_mut())
                }
            }
        }

        impl<T: Default> Default for $Lock<T> {
            #[track_caller]
            fn default() -> $Lock<T> {
                $Lock::new(T::default())
            }
        }

        impl<T> From<T> for $Lock<T> {
            #[track_caller]
            fn from(value: T) -> $Lock<T> {
                $Lock::new(value)
            }
        }

        impl<T: ?Sized + fmt::Debug> fmt::Debug for $Lock<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                #[cfg(not(feature = "instrument"))]
                return self.inner.fmt(f);
                #[cfg(feature = "instrument")]
                {
                    use std::sync::TryLockError;
                    let mut d = f.debug_struct(stringify!($Lock));
                    match self.$try_lock() {
                        Ok(guard) => d.field("data", &&*guard),
                        Err(TryLockError::Poisoned(err)) => d.field("data", &&**err.get_ref()),
                        Err(TryLockError::WouldBlock) => d.field("data", &format_args!("<locked>")),
                    };
                    d.field("poisoned", &self.is_poisoned());
                    d.finish_non_exhaustive()
                }
            }
        }

        #[cfg(feature = "instrument")]
        impl<T: ?Sized> std::panic::UnwindSafe for $Lock<T> {}
        #[cfg(feature = "instrument")]
        impl<T: ?Sized> std::panic::RefUnwindSafe for $Lock<T> {}
    };
}

use std_lock_common;

mod condvar;
mod mutex;
mod once;
#[cfg(feature = "instrument")]
mod poison;
mod rwlock;

pub use condvar::{Condvar, WaitTimeoutResult};
pub use mutex::{Mutex, MutexGuard};
pub use once::{LazyLock, OnceLock};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
/// std's own, not instrumented: re-exported so that `use std::sync::{Arc, Mutex};` switches by
/// its path alone. (std's `Once` is not: its waits would go unchecked, unlike [`OnceLock`]'s.)
pub use std::sync::{atomic, mpsc, Arc, Barrier, BarrierWaitResult, Weak};
pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};
