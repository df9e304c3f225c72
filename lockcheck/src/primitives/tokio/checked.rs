//! The instrumented core of every `lockcheck::tokio` lock: tokio's own semaphore (the one
//! tokio's `Mutex` and `RwLock` are built on, so waiters queue as fairly as there) plus the
//! lock's [`LockMeta`], with the async acquisition protocol (`runtime/async_lock.rs`) around
//! each acquisition. A `Mutex` takes one permit, an `RwLock` one per reader and all of them
//! per writer, a `Semaphore` as many as asked.

use std::future::Future;
use std::panic::Location;

use tokio::sync::{AcquireError, SemaphorePermit, TryAcquireError};

use crate::analysis::report::{LockKind, Mode};
use crate::runtime::async_lock::{self, Hold};
use crate::runtime::registry::LockMeta;

/// tokio's semaphore with lockcheck's checks around it.
#[derive(Debug)]
pub(crate) struct CheckedSemaphore {
    semaphore: tokio::sync::Semaphore,
    meta: LockMeta,
}

impl CheckedSemaphore {
    /// A semaphore with `permits` permits, for a lock of `kind` created at `site`.
    pub(crate) const fn new(
        kind: LockKind,
        name: Option<&'static str>,
        rank: Option<u32>,
        permits: usize,
        site: &'static Location<'static>,
    ) -> CheckedSemaphore {
        CheckedSemaphore {
            semaphore: tokio::sync::Semaphore::const_new(permits),
            meta: LockMeta::new(kind, name, rank, Some(site)),
        }
    }

    /// The lock's metadata.
    pub(crate) fn meta(&self) -> &LockMeta {
        &self.meta
    }

    /// tokio's semaphore underneath.
    pub(crate) fn inner(&self) -> &tokio::sync::Semaphore {
        &self.semaphore
    }

    /// Takes `n` permits for a hold in `mode`, checked before it can wait; `None` for the
    /// hold when instrumentation is off at run time.
    pub(crate) async fn acquire(
        &self,
        n: u32,
        mode: Mode,
        site: &'static Location<'static>,
    ) -> Result<Option<Hold>, AcquireError> {
        let Some(pending) = async_lock::begin(&self.meta, mode, site) else {
            self.semaphore.acquire_many(n).await?.forget();
            return Ok(None);
        };
        let take_now = || self.semaphore.try_acquire_many(n).map(SemaphorePermit::forget).is_ok();
        let pending = match pending.check_and_take(&self.meta, take_now) {
            Ok(hold) => return Ok(Some(hold)),
            Err(pending) => pending,
        };
        // Polled by hand to see whether the first poll waits: only then is the wait timed
        // and published. tokio's own future does the queueing, as fair as tokio's locks.
        let mut acquire = std::pin::pin!(self.semaphore.acquire_many(n));
        let mut waiting = None;
        let permit = std::future::poll_fn(|cx| {
            let poll = acquire.as_mut().poll(cx);
            if poll.is_pending() && waiting.is_none() {
                waiting = Some(pending.waiting(&self.meta));
            }
            poll
        })
        .await?;
        permit.forget();
        Ok(Some(pending.acquired(&self.meta, true, waiting)))
    }

    /// Takes `n` permits if they are free, without waiting: unchecked, no edge into it.
    pub(crate) fn try_acquire(
        &self,
        n: u32,
        mode: Mode,
        site: &'static Location<'static>,
    ) -> Result<Option<Hold>, TryAcquireError> {
        let pending = async_lock::begin(&self.meta, mode, site);
        match self.semaphore.try_acquire_many(n) {
            Ok(permit) => {
                permit.forget();
                Ok(pending.map(|p| p.acquired(&self.meta, false, None)))
            }
            Err(err) => {
                if let Some(p) = pending {
                    p.try_failed();
                }
                Err(err)
            }
        }
    }

    /// Turns a write hold of `n` permits into a read hold of one: the held entry becomes a
    /// read, then the other permits go back (so readers may come in, a writer still not).
    pub(crate) fn downgrade(&self, n: u32, hold: Option<&mut Hold>) {
        if let Some(hold) = hold {
            hold.set_mode(&self.meta, Mode::Shared);
        }
        self.semaphore.add_permits(n as usize - 1);
    }

    /// Gives back `n` permits of a hold.
    pub(crate) fn release(&self, n: u32, hold: Option<Hold>) {
        let unlock = || self.semaphore.add_permits(n as usize);
        match hold {
            Some(hold) => hold.release(&self.meta, unlock),
            None => unlock(),
        }
    }
}

/// Runs `future` to its end on this thread, parked between polls: the `blocking_*` methods,
/// for code outside the runtime (tokio's own use its internal executor of the same kind).
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    /// Wakes the thread that waits in `block_on`.
    struct Unpark(std::thread::Thread);

    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }

    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

impl Drop for CheckedSemaphore {
    fn drop(&mut self) {
        self.meta.retire();
    }
}
