//! Per-thread event rings (recording). Not yet recording: these hooks are where the
//! acquisition protocol hands events over.

use crate::held::{Acquire, Held};

/// A lock was acquired; `waited` is the contended wait in nanoseconds.
#[inline]
pub(crate) fn acquired(_acq: &Acquire, _waited: Option<u64>) {}

/// A held lock was released.
#[inline]
pub(crate) fn released(_held: &Held) {}

/// A `try_lock` failed.
#[inline]
pub(crate) fn try_failed(_acq: &Acquire) {}

/// A timed acquisition gave up after `waited` nanoseconds.
#[inline]
pub(crate) fn timed_out(_acq: &Acquire, _waited: u64) {}
