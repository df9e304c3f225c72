//! A thread's held locks, shown to the user: the calling thread's (`lockcheck::held_locks()`),
//! and those a thread still held when it exited (its guards leaked), noted as findings.

use super::finding::{held_lock, on_cycle, record};
use crate::analysis::report::{Finding, HeldLock, Misuse};
use crate::config::OnCycle;
use crate::runtime::held::{self, Held};
use crate::runtime::registry;

/// Notes locks still held when a thread exits: their guards were leaked.
pub(crate) fn thread_exit(tid: u32, stack: &[Held]) {
    for held in stack {
        let finding = Finding::Misuse(Misuse {
            what: "lock still held when its thread exited (was its guard leaked with mem::forget?)".into(),
            thread: registry::thread_name(tid),
            held: held_lock(held),
        });
        // Not through `act`: a thread-exit note never panics in a destructor.
        if let Some(fresh) = record(finding) {
            if on_cycle() != OnCycle::Ignore {
                eprintln!("{fresh}");
            }
        }
    }
}

/// The calling thread's held locks, oldest first; with the `tokio` feature, the async locks
/// of the task running on it (or of its `block_on`) first.
pub(crate) fn held_locks() -> Vec<HeldLock> {
    #[cfg(feature = "tokio")]
    let mut all = crate::runtime::async_lock::held_by_current();
    #[cfg(not(feature = "tokio"))]
    let mut all = Vec::new();
    let thread = held::with(|t| {
        if t.permits != 0 {
            t.take_remote_releases();
        }
        t.stack().iter().map(held_lock).collect::<Vec<_>>()
    });
    all.extend(thread.unwrap_or_default());
    all
}
