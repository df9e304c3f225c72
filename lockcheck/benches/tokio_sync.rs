//! `lockcheck::tokio` against `tokio::sync`, in the same run: one uncontended async
//! acquisition and release.
//!
//! `cargo bench -p lockcheck --features tokio --bench tokio_sync` measures the wrappers over
//! tokio's own types (the two columns must match); `--features tokio,instrument` measures the
//! instrumented ones. Each future is polled once by hand (an uncontended lock is ready at its
//! first poll), inside a tokio task, so the held set is the task's as in real code; the
//! `block_on` rows poll outside any task, where the thread running `block_on` is the holder.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use divan::{black_box, Bencher};

fn main() {
    divan::main();
}

/// Polls a future that must be ready at once. Unconstrained: inside a task, tokio's
/// cooperative budget would make every 128th acquisition yield.
#[inline(always)]
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(::tokio::task::unconstrained(future)).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("an uncontended acquisition is ready at its first poll"),
    }
}

/// Runs `bench` inside a tokio task (a local one: the bencher is not `Send`).
fn in_a_task<'a>(bench: impl FnOnce() + 'a) {
    let bench: Box<dyn FnOnce() + 'a> = Box::new(bench);
    // SAFETY: only the lifetime changes. The task runs to its end inside `block_on` below,
    // before this function returns, so whatever `bench` borrows outlives it.
    let bench: Box<dyn FnOnce() + 'static> = unsafe { std::mem::transmute(bench) };
    let runtime = ::tokio::runtime::Builder::new_current_thread().build().unwrap();
    let local = ::tokio::task::LocalSet::new();
    local.block_on(&runtime, async move { ::tokio::task::spawn_local(async move { bench() }).await.unwrap() });
}

macro_rules! tokio_benches {
    ($module:ident, $sync:path) => {
        mod $module {
            use super::*;
            use $sync as sync;

            /// One uncontended `lock().await` + unlock, in a task.
            #[divan::bench(sample_size = 10_000)]
            fn mutex_lock_unlock(bencher: Bencher) {
                let m = sync::Mutex::const_new(0u64);
                in_a_task(move || bencher.bench_local(|| *ready(black_box(&m).lock()) += 1));
            }

            /// The same outside any task: the thread is the holder.
            #[divan::bench(sample_size = 10_000)]
            fn mutex_lock_unlock_block_on(bencher: Bencher) {
                let m = sync::Mutex::const_new(0u64);
                bencher.bench_local(|| *ready(black_box(&m).lock()) += 1);
            }

            /// One uncontended `read().await` + unlock, in a task.
            #[divan::bench(sample_size = 10_000)]
            fn rwlock_read(bencher: Bencher) {
                let rw = sync::RwLock::const_new(0u64);
                in_a_task(move || bencher.bench_local(|| *ready(black_box(&rw).read())));
            }

            /// One uncontended `acquire().await` + release, in a task.
            #[divan::bench(sample_size = 10_000)]
            fn semaphore_acquire(bencher: Bencher) {
                let s = sync::Semaphore::const_new(4);
                in_a_task(move || bencher.bench_local(|| drop(ready(black_box(&s).acquire()))));
            }

            /// Two nested locks, the order already known, in a task.
            #[divan::bench(sample_size = 10_000)]
            fn nested_pair(bencher: Bencher) {
                let (a, b) = (sync::Mutex::const_new(0u64), sync::Mutex::const_new(0u64));
                in_a_task(move || {
                    bencher.bench_local(|| {
                        let _a = ready(black_box(&a).lock());
                        *ready(black_box(&b).lock()) += 1;
                    })
                });
            }
        }
    };
}

tokio_benches!(tokio, ::tokio::sync);
tokio_benches!(lockcheck, ::lockcheck::tokio);
