//! A sync guard held across an `.await`, observed (cargo feature `tokio`): clippy's
//! `await_holding_lock`, seen at run time instead of in the syntax.
//!
//! A `!Send` sync guard can cross an `.await` on a current-thread runtime or in a `LocalSet`:
//! its task is suspended with the lock held, and other tasks run on the same thread. The
//! thread's held stack cannot say which task took a lock (telling it would cost every sync
//! acquisition a look at tokio's context), so the evidence is gathered where async code runs:
//! each async acquisition notes, per thread, which holder ran it and which sync locks the
//! thread held then. When another holder's async acquisition finds one of those locks still
//! held (same lock, same acquisition site), the lock was held while one task's async code ran
//! and is still held now that another task runs: it crossed a suspension.

use std::cell::RefCell;
use std::panic::Location;

use crate::analysis::report::{Finding, Misuse};
use crate::runtime::check;
use crate::runtime::held::{Acquire, Held};
use crate::runtime::registry;

/// What the last async acquisition on this thread saw.
struct Seen {
    /// The holder that ran it (0: none yet).
    holder: u32,
    /// The sync locks this thread held then: (id, where taken).
    sync: Vec<(u32, &'static Location<'static>)>,
}

thread_local! {
    static SEEN: RefCell<Seen> = const { RefCell::new(Seen { holder: 0, sync: Vec::new() }) };
}

/// An async acquisition `acq` by `holder`, on a thread holding the sync locks `thread`:
/// a finding if one of them was already held while another holder's async code ran here
/// (recorded; returned when it is new).
pub(crate) fn check(holder: u32, thread: &[Held], acq: &Acquire) -> Option<Finding> {
    SEEN.try_with(|seen| {
        let mut seen = seen.borrow_mut();
        let crossed = match seen.holder {
            0 => None,
            other if other == holder => None,
            _ => thread.iter().find(|h| seen.sync.iter().any(|&(id, site)| id == h.id && std::ptr::eq(site, h.site))),
        };
        let finding = crossed.map(|held| misuse(held, acq)).and_then(check::record);
        seen.holder = holder;
        seen.sync.clear();
        seen.sync.extend(thread.iter().map(|h| (h.id, h.site)));
        finding
    })
    .ok()
    .flatten()
}

#[cold]
fn misuse(held: &Held, acq: &Acquire) -> Finding {
    let lock = registry::class_label(acq.class());
    let site = registry::site_label(acq.site);
    Finding::Misuse(Misuse {
        what: format!(
            "sync lock held across an `.await` (clippy's await_holding_lock, observed): held while one task's \
             async code ran on this thread, and still held when another task acquired `{lock}` at {site}"
        ),
        thread: std::thread::current().name().unwrap_or("<unnamed>").to_owned(),
        held: check::held_lock(held),
    })
}
