//! Held-lock assertions (lockdep's `lockdep_assert_held`): a thread states what it holds, and
//! a statement that is false is a finding like any other, raised through `check.rs`.
//!
//! A passing assertion reads this thread's held stack and writes nothing: a thread-local
//! access and a scan of at most [`MAX_DEPTH`](crate::runtime::held::MAX_DEPTH) entries.

use std::panic::Location;

use crate::analysis::report::{Assertion, FailedAssertion, Finding, Mode, Site};
use crate::runtime::check;
use crate::runtime::held::{self, Held};
use crate::runtime::registry::{self, LockMeta};

/// Checks that the calling thread holds the lock of `meta` as `assertion` says
/// ([`Assertion::Held`], [`HeldRead`](Assertion::HeldRead), [`HeldWrite`](Assertion::HeldWrite)
/// or [`NotHeld`](Assertion::NotHeld)).
#[inline]
#[track_caller]
pub(crate) fn lock(meta: &LockMeta, assertion: Assertion, site: &'static Location<'static>) {
    if !check::enabled() {
        return;
    }
    // An unregistered lock was never acquired with instrumentation on: nobody holds it.
    let id = meta.registered_id();
    let verdict = held::with(|t| {
        if t.permits != 0 {
            t.take_remote_releases();
        }
        let holds = id.and_then(|id| t.find(id)).map(|h| h.mode);
        // Past the held stack's depth a hold may be missing from it: absence proves nothing.
        let known = holds.is_some() || t.complete();
        let ok = !known || holds_as(holds, assertion);
        (!ok).then(|| (t.tid(), t.stack().to_vec()))
    });
    if let Some(Some((tid, stack))) = verdict {
        fail(assertion, Some(meta), site, tid, &stack);
    }
}

/// Checks that the calling thread holds no lock at all.
#[inline]
#[track_caller]
pub(crate) fn no_locks(site: &'static Location<'static>) {
    if !check::enabled() {
        return;
    }
    let verdict = held::with(|t| {
        if t.permits != 0 {
            t.take_remote_releases();
        }
        (!t.stack().is_empty()).then(|| (t.tid(), t.stack().to_vec()))
    });
    if let Some(Some((tid, stack))) = verdict {
        fail(Assertion::NoLocksHeld, None, site, tid, &stack);
    }
}

/// Whether a hold in `mode` (`None`: not held) satisfies `assertion`.
fn holds_as(mode: Option<Mode>, assertion: Assertion) -> bool {
    match (assertion, mode) {
        // For one lock, "no lock at all" asks what "not this one" does.
        (Assertion::NotHeld | Assertion::NoLocksHeld, mode) => mode.is_none(),
        (_, None) => false,
        (Assertion::Held, Some(_)) => true,
        (Assertion::HeldWrite, Some(mode)) => mode == Mode::Exclusive,
        (Assertion::HeldRead, Some(mode)) => matches!(mode, Mode::Shared | Mode::SharedRecursive | Mode::Upgradable),
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn fail(assertion: Assertion, meta: Option<&LockMeta>, site: &'static Location<'static>, tid: u32, stack: &[Held]) {
    let lock = meta.map(|meta| {
        let (id, class_word) = meta.ids(site);
        registry::lock_ref(registry::word_class(class_word), Some(id), meta.rank)
    });
    check::raise(Finding::FailedAssertion(FailedAssertion {
        assertion,
        lock,
        site: Site::from_location(site),
        thread: registry::thread_name(tid),
        held: stack.iter().map(check::held_lock).collect(),
        count: 1,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_assertion_accepts_exactly_its_modes() {
        use Mode::*;
        let modes = [None, Some(Exclusive), Some(Shared), Some(SharedRecursive), Some(Upgradable), Some(Permit)];
        let accepted = |a: Assertion| modes.iter().map(|&m| holds_as(m, a)).collect::<Vec<_>>();
        assert_eq!(accepted(Assertion::Held), [false, true, true, true, true, true]);
        assert_eq!(accepted(Assertion::HeldWrite), [false, true, false, false, false, false]);
        assert_eq!(accepted(Assertion::HeldRead), [false, false, true, true, true, false]);
        assert_eq!(accepted(Assertion::NotHeld), [true, false, false, false, false, false]);
    }
}
