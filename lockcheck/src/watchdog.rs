//! The watchdog (wait-for graph). Not yet watching: these hooks are where the acquisition
//! protocol publishes waits and ownership.

use std::time::Instant;

use crate::held::{Acquire, Held};
use crate::registry::LockMeta;

/// A published wait; unpublished on drop.
pub(crate) struct Waiting;

impl Waiting {
    /// Publishes that this thread waits for `acq` since `started`.
    #[inline]
    pub(crate) fn begin(_meta: &LockMeta, _acq: &Acquire, _started: Instant) -> Waiting {
        Waiting
    }
}

/// This thread now holds `acq`.
#[inline]
pub(crate) fn acquired(_meta: &LockMeta, _acq: &Acquire) {}

/// This thread released `held`.
#[inline]
pub(crate) fn released(_meta: &LockMeta, _held: &Held) {}
