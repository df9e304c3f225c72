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

use std::cell::Cell;
use std::sync::atomic::Ordering;

use super::Recorder;
use crate::record::consumer;

/// Sentinel values of [`RECORDER`] below which it is not a pointer.
pub(super) const OFF: usize = 1;
pub(super) const GONE: usize = 2;

thread_local! {
    /// This thread's recorder: null before its first event, [`OFF`] when not tracing,
    /// [`GONE`] once its ring closed, else a pointer to the recorder its owner keeps.
    /// A const-initialised `Cell` of a pointer has no destructor, so reading it is a plain
    /// thread-local load, valid even inside other thread-local and thread-specific
    /// destructors.
    static RECORDER: Cell<*mut Recorder> = const { Cell::new(std::ptr::null_mut()) };
    /// Owns the recorder where no thread-specific key does (see the module docs).
    static OWNER: Owner = const { Owner(Cell::new(None)) };
}

/// This thread's recorder pointer or sentinel.
#[inline(always)]
pub(super) fn current() -> *mut Recorder {
    RECORDER.with(Cell::get)
}

/// Marks this thread with a sentinel ([`OFF`] or [`GONE`]).
pub(super) fn mark(sentinel: usize) {
    RECORDER.with(|r| r.set(std::ptr::without_provenance_mut(sentinel)));
}

/// Hands this thread's new recorder to its owner, which closes its ring when the thread
/// ends; returns the pointer the hooks use, or `None` (and marks the thread [`GONE`]) when
/// the thread is too far into its teardown to keep one.
pub(super) fn adopt(recorder: Box<Recorder>) -> Option<*mut Recorder> {
    #[cfg(unix)]
    let mut recorder = match thread_end::adopt(recorder) {
        Ok(ptr) => {
            RECORDER.with(|r| r.set(ptr));
            return Some(ptr);
        }
        Err(recorder) => recorder,
    };
    let ptr: *mut Recorder = &mut *recorder;
    match OWNER.try_with(|owner| owner.0.set(Some(recorder))) {
        Ok(()) => {
            RECORDER.with(|r| r.set(ptr));
            Some(ptr)
        }
        Err(_) => {
            // The thread is already tearing down: its events count as lost.
            mark(GONE);
            None
        }
    }
}

/// Closes a thread's ring: no record follows, and the collector may free it once drained.
fn close(mut recorder: Box<Recorder>) {
    // The thread's last acquisition, if it was held back, goes in before the ring closes.
    recorder.publish_held_back();
    mark(GONE);
    // Release: pairs with the Acquire in `Ring::closed`; the collector that sees the ring
    // closed sees every record and count before it.
    recorder.ring.closed.store(true, Ordering::Release);
    drop(recorder);
    consumer::wake();
}

struct Owner(Cell<Option<Box<Recorder>>>);

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some(recorder) = self.0.take() {
            close(recorder);
        }
    }
}

#[cfg(unix)]
mod thread_end {
    use std::sync::OnceLock;

    use super::Recorder;

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

    /// Stores `recorder` under the key; gives it back if that is impossible.
    pub(super) fn adopt(recorder: Box<Recorder>) -> Result<*mut Recorder, Box<Recorder>> {
        let Some(key) = key() else { return Err(recorder) };
        let ptr = Box::into_raw(recorder);
        // SAFETY: `key` was created by `pthread_key_create`; the value is the recorder's box,
        // which from now on only `closed_at_thread_end` frees.
        if unsafe { libc::pthread_setspecific(key, ptr.cast()) } == 0 {
            return Ok(ptr);
        }
        // SAFETY: the key did not take it: `ptr` is still the box `into_raw` gave up.
        Err(unsafe { Box::from_raw(ptr) })
    }

    /// The key's destructor: the thread has run its `thread_local!` destructors.
    extern "C" fn closed_at_thread_end(value: *mut libc::c_void) {
        // SAFETY: the only value ever stored under the key is a recorder box from `adopt`,
        // and the C library calls this once with it (clearing the slot first), on the
        // thread that owns it, after which nothing else refers to it but `RECORDER`, which
        // `close` marks GONE before freeing it.
        let recorder = unsafe { Box::from_raw(value.cast::<Recorder>()) };
        // A panic must not unwind into the C library: there is none to expect here, but
        // an abort is better than undefined behaviour.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| super::close(recorder))).is_err() {
            std::process::abort();
        }
    }
}
