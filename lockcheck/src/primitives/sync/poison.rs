//! std's lock poisoning, for the instrumented `sync` locks, which are lockcheck's raw locks and
//! not std's: a guard that drops while its thread panics (and was not already panicking when
//! it was made) marks the lock poisoned, and every later acquisition reports it, as std's do.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LockResult, PoisonError};
use std::thread;

/// Whether a lock is poisoned.
#[derive(Debug)]
pub(crate) struct Flag(AtomicBool);

impl Flag {
    /// A lock that is not poisoned.
    pub(crate) const fn new() -> Flag {
        Flag(AtomicBool::new(false))
    }

    /// Whether the lock is poisoned.
    #[inline]
    pub(crate) fn get(&self) -> bool {
        // Relaxed, as std's own flag: it is set while the lock is held, and a holder reads it
        // after acquiring, so the lock's own release and acquire order the two. A read
        // without the lock (`is_poisoned`) is a snapshot either way.
        self.0.load(Ordering::Relaxed)
    }

    /// Clears the poison (`clear_poison`).
    #[inline]
    pub(crate) fn clear(&self) {
        // Relaxed: see `get`.
        self.0.store(false, Ordering::Relaxed)
    }

    /// What a new guard keeps to poison the lock if its thread panics while holding it.
    #[inline]
    pub(crate) fn guard(&self) -> Guard<'_> {
        Guard { flag: self, panicking: thread::panicking() }
    }

    /// `value` (a guard, or the data) as std returns it: an error when the lock is poisoned.
    #[inline]
    pub(crate) fn result<T>(&self, value: T) -> LockResult<T> {
        Flag::result_if(self.get(), value)
    }

    /// `value` as std returns it from a lock that is `poisoned` or not (read before `value`
    /// was taken out of the lock).
    #[inline]
    pub(crate) fn result_if<T>(poisoned: bool, value: T) -> LockResult<T> {
        if poisoned {
            Err(PoisonError::new(value))
        } else {
            Ok(value)
        }
    }
}

/// Poisons the lock when dropped by a thread that started panicking after the guard was made.
/// A lock guard keeps it as its first field, so it drops before the lock is released (as in
/// std: the next holder must see the poison).
#[derive(Debug)]
pub(crate) struct Guard<'a> {
    flag: &'a Flag,
    panicking: bool,
}

impl<'a> Guard<'a> {
    /// The flag this guard poisons.
    #[inline]
    pub(crate) fn flag(&self) -> &'a Flag {
        self.flag
    }
}

impl Drop for Guard<'_> {
    #[inline]
    fn drop(&mut self) {
        if !self.panicking && thread::panicking() {
            // Relaxed: see `Flag::get`; the lock is still held here.
            self.flag.0.store(true, Ordering::Relaxed);
        }
    }
}
