//! `lockcheck::tokio` (cargo feature `tokio`): tokio's async `Mutex`, `RwLock` and
//! `Semaphore`, with tokio's API and lockcheck's names, ranks and checks.
//!
//! Without the `instrument` feature each is tokio's own behind a `#[repr(transparent)]`
//! wrapper (same size, same speed), and the guards and permits are tokio's. With it, the
//! locks are held by the **task**, not the thread: a guard held across an `.await` stays the
//! task's while the task moves between worker threads, and where no task runs (a
//! `#[tokio::main]` or `#[tokio::test]` body, inside `block_on`) the thread running it is the
//! holder. Async and sync locks share one lock-order graph, one watchdog and one trace:
//!
//! - before a lock future first waits, the task's held locks (and the sync locks its thread
//!   holds right then) are checked against it: a task re-locking what it holds, a rank
//!   violation, or a new order closing a cycle is reported **before the task hangs**;
//! - an async lock the task holds while its thread blocks on a sync lock is an edge into the
//!   sync lock, and a sync lock held while awaiting an async one is an edge into that;
//! - a `!Send` sync guard held across an `.await` (a current-thread runtime, a `LocalSet`) is
//!   reported when another task takes an async lock on the thread while it is still held;
//! - the watchdog sees async waits: tasks waiting for each other's locks in a cycle are an
//!   actual deadlock (tasks, what each holds and where it took it, where each waits), handled
//!   as `LOCKCHECK_ON_DEADLOCK` says; a long wait on a holder that is not waiting is a stall
//!   naming the holder task.
//!
//! A module switches with one line: `use tokio::sync::{Mutex, RwLock, Semaphore};` becomes
//! `use lockcheck::tokio::{Mutex, RwLock, Semaphore};`.
//!
//! ```
//! use lockcheck::tokio::Mutex;
//!
//! static ACCOUNTS: Mutex<u64> = Mutex::named("accounts", 100);
//! static LEDGER: Mutex<Vec<u64>> = Mutex::named("ledger", Vec::new());
//!
//! async fn deposit(amount: u64) {
//!     let mut balance = ACCOUNTS.lock().await;
//!     *balance += amount;
//!     LEDGER.lock().await.push(amount); // accounts -> ledger, held by this task
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! deposit(5).await;
//! # });
//! lockcheck::assert_no_deadlocks();
//! ```
//!
//! The guards are tokio's, method for method: every guard's `map` and `try_map` (a mapped
//! guard keeps the lock, and its holder's hold of it, until it drops), `mutex` and `rwlock`
//! where tokio has them, the write guards' `downgrade`, `downgrade_map`, `try_downgrade_map`
//! and `into_mapped` (a downgrade turns the held write into a read where it stands, as a sync
//! `RwLock`'s does: readers come in, writers still wait), and the owned guards of
//! `lock_owned`, `read_owned` and `write_owned`. Without `instrument` they are tokio's own
//! types, so `mutex` and `rwlock` then return tokio's lock: use it by its methods, which are
//! the same in both modes. The `blocking_*` methods, for synchronous code, are checked like an
//! `.await` by the thread.
//!
//! A guard or permit belongs to the task (or `block_on` thread) that **uses** it. It
//! remembers its holder; when another task or thread derefs it (for a permit, which has no
//! data, calls `num_permits`), the hold moves out of the old holder's held set into the
//! user's, and the watchdog's owner hint names the user. A guard sent to another task is so
//! ordered before what that task takes after using it, and no longer before what the sender
//! takes. The check costs a compare per deref; the move is out of line. Dropping releases the
//! hold from the set it is in, whichever task drops it. What this cannot see:
//!
//! - a guard or permit moved but not used yet still counts for the task that used it last:
//!   a lock that task takes meanwhile is ordered after it, and one its new task takes is not,
//!   until the new task uses it (derefs it, calls `num_permits`) or drops it;
//! - a guard read through a shared reference from other threads (`std::thread::scope`) moves
//!   to each in turn, and back when its task uses it again.

/// What tokio's `Mutex` and `RwLock` share, in both modes: the `const` constructors (`new`,
/// `const_new`, `named`, `ranked`), `into_inner`, `get_mut`, `Default`, `From` and `Debug`
/// (the data taken with `$try_lock` when it is free). Without `instrument` the lock is
/// `inner`, tokio's own; with it, `core` (the checked semaphore, `$permits` permits, of
/// `LockKind::$kind`) and `data`.
macro_rules! tokio_lock_common {
    ($Lock:ident, $kind:ident, $permits:expr, $try_lock:ident) => {
        impl<T> $Lock<T> {
            /// A new unlocked lock; its class is its creation site. `const`, unlike tokio's
            /// `new`.
            #[inline]
            #[track_caller]
            pub const fn new(value: T) -> $Lock<T> {
                $Lock::build(None, None, value)
            }

            /// The same as [`new`](Self::new) (tokio's name for its `const` constructor).
            #[inline]
            #[track_caller]
            pub const fn const_new(value: T) -> $Lock<T> {
                $Lock::build(None, None, value)
            }

            /// A new unlocked lock whose class is `name`: every lock with this name is one
            /// class.
            #[inline]
            #[track_caller]
            pub const fn named(name: &'static str, value: T) -> $Lock<T> {
                $Lock::build(Some(name), None, value)
            }

            /// A new unlocked lock with a name and a rank: a task may only acquire it while
            /// every ranked lock it holds has a lower rank.
            #[inline]
            #[track_caller]
            pub const fn ranked(name: &'static str, rank: u32, value: T) -> $Lock<T> {
                $Lock::build(Some(name), Some(rank), value)
            }

            #[cfg(not(feature = "instrument"))]
            #[inline]
            const fn build(_: Option<&'static str>, _: Option<u32>, value: T) -> $Lock<T> {
                $Lock { inner: tokio::sync::$Lock::const_new(value) }
            }

            #[cfg(feature = "instrument")]
            #[inline]
            #[track_caller]
            const fn build(name: Option<&'static str>, rank: Option<u32>, value: T) -> $Lock<T> {
                use $crate::primitives::tokio::checked::CheckedSemaphore;
                let kind = $crate::analysis::report::LockKind::$kind;
                $Lock {
                    core: CheckedSemaphore::new(kind, name, rank, $permits as usize, std::panic::Location::caller()),
                    data: std::cell::UnsafeCell::new(value),
                }
            }

            /// Consumes the lock and returns the data.
            #[inline]
            pub fn into_inner(self) -> T {
                #[cfg(not(feature = "instrument"))]
                return self.inner.into_inner();
                #[cfg(feature = "instrument")]
                self.data.into_inner()
            }
        }

        impl<T: ?Sized> $Lock<T> {
            /// A mutable reference to the data; no locking needed, the borrow proves
            /// exclusivity.
            #[inline]
            pub fn get_mut(&mut self) -> &mut T {
                #[cfg(not(feature = "instrument"))]
                return self.inner.get_mut();
                #[cfg(feature = "instrument")]
                self.data.get_mut()
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

        impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for $Lock<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                #[cfg(not(feature = "instrument"))]
                return self.inner.fmt(f);
                #[cfg(feature = "instrument")]
                {
                    let mut d = f.debug_struct(stringify!($Lock));
                    match self.$try_lock() {
                        Ok(guard) => d.field("data", &&*guard),
                        Err(_) => d.field("data", &format_args!("<locked>")),
                    };
                    d.finish()
                }
            }
        }
    };
}

use tokio_lock_common;

#[cfg(feature = "instrument")]
mod checked;
#[cfg(feature = "instrument")]
mod guard;
mod mutex;
mod rwlock;
mod semaphore;

pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError};
pub use rwlock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockMappedWriteGuard,
    RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError};
