//! Who owns a thread's recorder, and when its ring closes.
//!
//! The ring must stay open for as long as the thread can take a lock, and that includes its
//! thread-local destructors: a value whose destructor locks (a pool returning a connection, a
//! logger flushing) is often created before the thread's first lock event, and Rust runs
//! thread-local destructors in reverse order of creation, so a `thread_local!` owner of the
//! recorder would be destroyed *before* it, and every event of that destructor lost. On Unix
//! the recorder is therefore owned by a POSIX thread-specific key, whose destructor runs after
//! every `thread_local!` destructor of the thread (glibc: `__call_tls_dtors` before
//! `__nptl_deallocate_tsd`; the other libcs also run C++-style thread_local destructors
//! first). Only a lock taken in another key's destructor, after ours, comes too late: it is
//! counted as lost, with that cause. Elsewhere, or if no key can be created, a `thread_local!`
//! owns it as before.

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Recorder, Ring};
use crate::record::consumer;

/// Sentinel states of [`RECORDER`], in place of its ring's address.
pub(super) const OFF: usize = 1;
pub(super) const GONE: usize = 2;

thread_local! {
    /// This thread's recorder: its ring null before its first event, [`OFF`] when not
    /// tracing, [`GONE`] once the ring closed, else the ring its owner keeps open. A
    /// const-initialised value without a destructor is a plain part of the thread's static
    /// thread-local block: the hooks reach its fields at fixed offsets from the thread
    /// pointer, and it stays valid inside other thread-local and thread-specific destructors.
    static RECORDER: UnsafeCell<Recorder> = const { UnsafeCell::new(Recorder::UNSTARTED) };
    /// Owns the ring where no thread-specific key does (see the module docs).
    static OWNER: Owner = const { Owner(Cell::new(None)) };
}

/// This thread's recorder.
#[inline(always)]
pub(super) fn recorder() -> *mut Recorder {
    RECORDER.with(UnsafeCell::get)
}

/// This thread's recorder's state: 0 (not started), [`OFF`], [`GONE`], or above them (started).
#[inline(always)]
pub(super) fn state() -> usize {
    // SAFETY: a read of this thread's own recorder, which no hook is borrowing while another
    // asks for its state (the hooks never re-enter one another: while one borrows the recorder
    // it calls nothing that locks a lockcheck lock — it may allocate, on its cold paths, so a
    // global allocator built on lockcheck's locks would break this, as it would `held.rs`'s
    // `with` were it not for its busy flag).
    unsafe { (*recorder()).state() }
}

/// Marks this thread with a sentinel ([`OFF`] or [`GONE`]).
pub(super) fn mark(sentinel: usize) {
    // SAFETY: as in `state`: no hook borrows the recorder while it changes state.
    unsafe { (*recorder()).mark(sentinel) };
}

/// Installs this thread's started `recorder` and hands its `ring` to an owner, which closes
/// it when the thread ends; `false` (and the thread marked [`GONE`]) when the thread is too far
/// into its teardown to keep one.
pub(super) fn adopt(recorder: Recorder, ring: Arc<Ring>) -> bool {
    #[cfg(unix)]
    let ring = match thread_end::adopt(ring) {
        Ok(()) => return install(recorder),
        Err(ring) => ring,
    };
    match OWNER.try_with(|owner| owner.0.set(Some(ring))) {
        Ok(()) => install(recorder),
        Err(_) => {
            // The thread is already tearing down: its events count as lost.
            mark(GONE);
            false
        }
    }
}

fn install(started: Recorder) -> bool {
    // SAFETY: as in `state`; the recorder being replaced was not started, so it holds no
    // record.
    unsafe { *recorder() = started };
    true
}

/// Closes a thread's ring: no record follows, and the collector may free it once drained.
fn close(ring: Arc<Ring>) {
    if state() > GONE {
        // The thread's last acquisition, if it was held back, goes in before the ring closes.
        // SAFETY: as in `state`: `close` runs from a destructor (the thread-specific key's, or
        // the fallback `OWNER`'s), and a destructor never runs inside a hook, so no hook is
        // borrowing the recorder.
        unsafe { &mut *recorder() }.publish_held_back();
    }
    mark(GONE);
    // Release: pairs with the Acquire in `Ring::closed`; the collector that sees the ring
    // closed sees every record and count before it.
    ring.closed.store(true, Ordering::Release);
    drop(ring);
    consumer::wake();
}

struct Owner(Cell<Option<Arc<Ring>>>);

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some(ring) = self.0.take() {
            close(ring);
        }
    }
}

#[cfg(unix)]
mod thread_end {
    use std::sync::{Arc, OnceLock};

    use super::Ring;

    /// The key whose destructor closes a thread's ring, if one could be created.
    fn key() -> Option<libc::pthread_key_t> {
        static KEY: OnceLock<Option<libc::pthread_key_t>> = OnceLock::new();
        *KEY.get_or_init(|| {
            let mut key: libc::pthread_key_t = 0;
            // SAFETY: `key` is a valid place for the new key; `closed_at_thread_end` is an
            // `extern "C"` function that lives as long as the program and never unwinds.
            (unsafe { libc::pthread_key_create(&mut key, Some(closed_at_thread_end)) } == 0).then_some(key)
        })
    }

    /// Stores `ring` under the key; gives it back if that is impossible.
    pub(super) fn adopt(ring: Arc<Ring>) -> Result<(), Arc<Ring>> {
        let Some(key) = key() else { return Err(ring) };
        let ptr = Arc::into_raw(ring);
        // SAFETY: `key` was created by `pthread_key_create`; the value is the ring's `Arc`,
        // which from now on only `closed_at_thread_end` releases.
        if unsafe { libc::pthread_setspecific(key, ptr.cast()) } == 0 {
            return Ok(());
        }
        // SAFETY: the key did not take it: `ptr` is still the `Arc` `into_raw` gave up.
        Err(unsafe { Arc::from_raw(ptr) })
    }

    /// The key's destructor: the thread has run its `thread_local!` destructors.
    extern "C" fn closed_at_thread_end(value: *mut libc::c_void) {
        // SAFETY: the only value ever stored under the key is a ring's `Arc` from `adopt`,
        // and the C library calls this once with it (clearing the slot first), on the
        // thread that owns it.
        let ring = unsafe { Arc::from_raw(value.cast::<Ring>().cast_const()) };
        // A panic must not unwind into the C library: there is none to expect here, but
        // an abort is better than undefined behaviour.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| super::close(ring))).is_err() {
            std::process::abort();
        }
    }
}
