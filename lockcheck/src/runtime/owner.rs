//! Who holds each lock, as cheaply as the acquisition path can say it: the watchdog needs it
//! for stalls, whose holder is often not waiting for anything lockcheck sees (it waits on a
//! channel, say) and so publishes nothing of its own.
//!
//! Two relaxed stores per exclusive acquisition, into the lock's own [`LockMeta`]: a cache
//! line the lock's compare-and-swap has just written, so no new shared line is touched.
//! Readers and permit holders are not tracked one by one (that would take a read-modify-write
//! per read): the last one seen is kept, and reports say so. A semaphore, already slow (a
//! mutex inside), also counts its permits out.

use std::panic::Location;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use crate::analysis::report::Mode;
use crate::runtime::held::Acquire;
use crate::runtime::registry::LockMeta;

/// Who holds a lock, as far as the acquisition path can afford to say; lives in the lock's
/// [`LockMeta`].
///
/// Every field is written with relaxed stores: the lock's own release (unlock) and acquire
/// (lock) order one owner's stores before the next owner's, and the watchdog reads them as
/// hints only (a deadlock is never derived from them).
#[derive(Debug)]
pub(crate) struct Owner {
    /// The thread holding the lock exclusively or upgradable, [`UPGRADABLE`] marking the
    /// latter; 0 when none.
    tid: AtomicU32,
    /// Where it acquired the lock.
    site: AtomicPtr<Location<'static>>,
    /// The last thread seen taking a read or a permit (readers are not tracked one by one).
    last_sharer: AtomicU32,
    /// Where it took it.
    last_sharer_site: AtomicPtr<Location<'static>>,
    /// Permits out, for a semaphore.
    permits: AtomicU32,
}

impl Owner {
    /// No owner.
    pub(crate) const fn new() -> Owner {
        Owner {
            tid: AtomicU32::new(0),
            site: AtomicPtr::new(ptr::null_mut()),
            last_sharer: AtomicU32::new(0),
            last_sharer_site: AtomicPtr::new(ptr::null_mut()),
            permits: AtomicU32::new(0),
        }
    }

    /// What the lock's owner fields say now.
    pub(crate) fn read(&self) -> OwnerSeen {
        // Relaxed: hints (see `Owner`); the tid is read on both sides of the site so that a
        // site belonging to another owner is noticed and dropped.
        let word = self.tid.load(Ordering::Relaxed);
        let site = load_site(&self.site);
        let steady = word != 0 && self.tid.load(Ordering::Relaxed) == word;
        let mode = if word & UPGRADABLE != 0 { Mode::Upgradable } else { Mode::Exclusive };
        // Relaxed: hints, as above.
        let sharer = self.last_sharer.load(Ordering::Relaxed);
        let sharer_site = load_site(&self.last_sharer_site);
        OwnerSeen {
            exclusive: site.filter(|_| steady).map(|site| (word & !UPGRADABLE, mode, site)),
            last_sharer: (sharer != 0).then_some(sharer).zip(sharer_site),
            // Relaxed: a count read as a hint.
            permits: self.permits.load(Ordering::Relaxed),
        }
    }
}

/// Marks an upgradable owner in [`Owner::tid`] (thread ids stay far below it).
const UPGRADABLE: u32 = 1 << 31;

fn load_site(field: &AtomicPtr<Location<'static>>) -> Option<&'static Location<'static>> {
    // Relaxed: see `Owner`; the pointee is `'static` and immutable, so no ordering is needed
    // to read it.
    let site = field.load(Ordering::Relaxed);
    // SAFETY: the field only ever holds null or a pointer made from a `&'static Location`.
    unsafe { site.as_ref() }
}

#[inline]
fn site_ptr(site: &'static Location<'static>) -> *mut Location<'static> {
    ptr::from_ref(site).cast_mut()
}

/// What the watchdog read of an [`Owner`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct OwnerSeen {
    /// The exclusive or upgradable owner: thread, mode, where it took the lock.
    pub exclusive: Option<(u32, Mode, &'static Location<'static>)>,
    /// The last reader or permit taker seen, and where; it may have left since.
    pub last_sharer: Option<(u32, &'static Location<'static>)>,
    /// Permits out, for a semaphore.
    pub permits: u32,
}

/// Thread `tid` now holds `acq`.
#[inline]
pub(crate) fn acquired(meta: &LockMeta, tid: u32, acq: &Acquire) {
    let owner = &meta.owner;
    match acq.mode {
        Mode::Exclusive | Mode::Upgradable => {
            let word = if acq.mode == Mode::Upgradable { tid | UPGRADABLE } else { tid };
            // Relaxed: ordered against the previous owner's stores by the lock itself (see
            // `Owner`).
            owner.tid.store(word, Ordering::Relaxed);
            owner.site.store(site_ptr(acq.site), Ordering::Relaxed);
        }
        Mode::Shared | Mode::SharedRecursive => {
            // Relaxed: a hint that readers may overwrite in any order.
            owner.last_sharer.store(tid, Ordering::Relaxed);
            owner.last_sharer_site.store(site_ptr(acq.site), Ordering::Relaxed);
        }
        Mode::Permit => permit_acquired(owner, tid, acq.site),
    }
}

/// Semaphores are not on the fast path (a permit is taken under the semaphore's mutex), so
/// they can afford a read-modify-write to count permits out.
#[cold]
fn permit_acquired(owner: &Owner, tid: u32, site: &'static Location<'static>) {
    // Relaxed: a count the watchdog reads as a hint; the semaphore's mutex orders the permits.
    owner.permits.fetch_add(1, Ordering::Relaxed);
    // Relaxed: a hint, as for readers.
    owner.last_sharer.store(tid, Ordering::Relaxed);
    owner.last_sharer_site.store(site_ptr(site), Ordering::Relaxed);
}

/// A thread released a lock it held in `mode` (a permit goes back through
/// [`permit_released`] instead).
#[inline]
pub(crate) fn released(meta: &LockMeta, mode: Mode) {
    // Only an exclusive or upgradable hold is the owner: an upgradable owner is the only one
    // and a downgrade hands the field over (see `check::set_mode`), so a reader never owns it.
    if matches!(mode, Mode::Exclusive | Mode::Upgradable) {
        // Relaxed: the owner field is ours to clear while we hold the lock, and our unlock (a
        // release) orders the clear before the next owner's store.
        meta.owner.tid.store(0, Ordering::Relaxed);
    }
}

/// A permit went back, from whichever thread.
#[cold]
pub(crate) fn permit_released(meta: &LockMeta) {
    // Relaxed: see `permit_acquired`.
    meta.owner.permits.fetch_sub(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::report::LockKind;

    fn acq(mode: Mode) -> Acquire {
        Acquire::new(1, crate::runtime::registry::class_word(1, None), mode, LockKind::RwLock, Location::caller())
    }

    #[test]
    fn the_owner_is_recorded_and_cleared_by_its_own_release_only() {
        let meta = LockMeta::new(LockKind::RwLock, None, None, None);
        acquired(&meta, 7, &acq(Mode::Upgradable));
        let seen = meta.owner.read();
        assert!(matches!(seen.exclusive, Some((7, Mode::Upgradable, _))));
        // A reader leaving does not clear the upgradable owner.
        acquired(&meta, 8, &acq(Mode::Shared));
        released(&meta, Mode::Shared);
        assert!(matches!(meta.owner.read().exclusive, Some((7, Mode::Upgradable, _))));
        assert!(matches!(meta.owner.read().last_sharer, Some((8, _))));
        // The upgradable owner leaving clears it.
        released(&meta, Mode::Upgradable);
        assert!(meta.owner.read().exclusive.is_none());
    }

    #[test]
    fn permits_out_are_counted() {
        let meta = LockMeta::new(LockKind::Semaphore, None, None, None);
        acquired(&meta, 3, &acq(Mode::Permit));
        acquired(&meta, 4, &acq(Mode::Permit));
        permit_released(&meta);
        let seen = meta.owner.read();
        assert_eq!(seen.permits, 1);
        assert!(seen.exclusive.is_none());
        assert!(matches!(seen.last_sharer, Some((4, _))));
    }
}
