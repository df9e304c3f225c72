//! lockcheck against parking_lot and tracing-mutex, the same loops in the same run.
//!
//! ```text
//! cargo bench -p lockcheck --features instrument --bench peers                        # checks only
//! LOCKCHECK_TRACE=/tmp/lc cargo bench -p lockcheck --features instrument --bench peers # checks + trace
//! ```
//!
//! tracing-mutex (`tracing_mutex::parkinglot::tracing`, always tracing) checks lock order and
//! records nothing; lockcheck does both when `LOCKCHECK_TRACE` is set. The ratio that matters
//! is each column's to parking_lot's in the same run. With a trace, the run ends with the
//! trace's size per acquisition and the events it dropped.

use divan::{black_box, Bencher};

fn main() {
    // The loops make no cycle; keep any report off the bench's output all the same.
    ::lockcheck::set_on_cycle(::lockcheck::OnCycle::Ignore);
    // Start the recorder (configuration, collector thread, trace file) outside any sample,
    // and take this thread once round its ring: a thread's first lap takes a page fault
    // every 512 records (a cost of its start, about 3.6 ns a record here), and the rows
    // measure the steady state. The two-thread rows' threads pay theirs inside their rows.
    let warm = ::lockcheck::Mutex::new(());
    for _ in 0..1 << 20 {
        drop(divan::black_box(&warm).lock());
    }
    divan::main();
    ::lockcheck::flush();
    if let Some(dir) = std::env::var_os("LOCKCHECK_TRACE") {
        trace_size(std::path::Path::new(&dir));
    }
}

/// Prints what the traces this process wrote hold per acquisition.
fn trace_size(dir: &std::path::Path) {
    let pid = format!("-{}.", std::process::id());
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten().filter(|e| e.file_name().to_string_lossy().contains(&pid)) {
        let size = entry.metadata().map_or(0, |m| m.len());
        let mut written = 0u64;
        let data = ::lockcheck::trace::TraceData::load_with(entry.path(), |_, e| {
            written += u64::from(matches!(e.kind, ::lockcheck::trace::EventKind::Acquired { .. }));
        });
        match data {
            Ok(data) => {
                let counted: u64 = data.counters.values().map(|c| c.acquisitions).sum();
                println!(
                    "trace {}: {size} bytes, {written} acquisitions written ({:.2} bytes each), {counted} counted, \
                     {} events dropped ({:.3}% of acquisitions)",
                    entry.path().display(),
                    size as f64 / written.max(1) as f64,
                    data.events_lost(),
                    100.0 * data.events_lost() as f64 / counted.max(1) as f64,
                );
            }
            Err(e) => println!("trace {}: {e}", entry.path().display()),
        }
    }
}

// The same benches for each implementation. `$named` gives a lock a class of its own where
// the implementation has names (lockcheck); `#[track_caller]` would otherwise give every lock
// made in this macro one class.
macro_rules! peer_benches {
    ($module:ident, $Mutex:ident, $RwLock:ident, $named:path) => {
        mod $module {
            use super::*;

            /// One uncontended lock + unlock.
            #[divan::bench(sample_size = 10_000)]
            fn a_uncontended(bencher: Bencher) {
                let m = $Mutex::new(0u64);
                bencher.bench_local(|| *black_box(&m).lock() += 1);
            }

            /// A then B, the order already known.
            #[divan::bench(sample_size = 10_000)]
            fn b_nested_pair(bencher: Bencher) {
                let (a, b) = ($named("nested a", 0u64), $named("nested b", 0u64));
                bencher.bench_local(|| {
                    let mut a = black_box(&a).lock();
                    let mut b = black_box(&b).lock();
                    *a += 1;
                    *b += 1;
                });
            }

            /// Lock + unlock a ninth lock while holding eight.
            #[divan::bench(sample_size = 10_000)]
            fn c_ninth_under_eight(bencher: Bencher) {
                let names = ["held 1", "held 2", "held 3", "held 4", "held 5", "held 6", "held 7", "held 8"];
                let held: Vec<$Mutex<u64>> = names.into_iter().map(|name| $named(name, 0)).collect();
                let guards: Vec<_> = held.iter().map(|m| m.lock()).collect();
                let ninth = $named("ninth", 0u64);
                bencher.bench_local(|| *black_box(&ninth).lock() += 1);
                drop(guards);
            }

            thread_local! {
                static PRIVATE: ($Mutex<u64>, $Mutex<u64>) =
                    const { ($Mutex::new(0), $Mutex::new(0)) };
            }

            /// Two threads, each nesting its own pair (per iteration of one thread).
            #[divan::bench(threads = [2], sample_size = 10_000)]
            fn d_two_threads_private_pairs(bencher: Bencher) {
                bencher.bench(|| {
                    PRIVATE.with(|(a, b)| {
                        let mut a = black_box(a).lock();
                        let mut b = black_box(b).lock();
                        *a += 1;
                        *b += 1;
                    })
                });
            }

            /// Two threads taking turns on one lock.
            #[divan::bench(threads = [2], sample_size = 10_000)]
            fn e_two_threads_one_lock(bencher: Bencher) {
                let m = $Mutex::new(0u64);
                bencher.bench(|| *black_box(&m).lock() += 1);
            }

            /// One uncontended read lock + unlock.
            #[divan::bench(sample_size = 10_000)]
            fn f_rwlock_read(bencher: Bencher) {
                let l = $RwLock::new(0u64);
                bencher.bench_local(|| *black_box(&l).read());
            }

            /// First pass: 100,000 fresh locks, each taken once under one outer lock.
            #[divan::bench(sample_count = 5, sample_size = 1)]
            fn g_first_pass_100k_new_locks(bencher: Bencher) {
                bencher.with_inputs(|| (0..100_000).map(|_| $Mutex::new(0u64)).collect::<Vec<_>>()).bench_local_values(
                    |locks| {
                        let outer: $Mutex<()> = $named("bench-outer", ());
                        let _outer = outer.lock();
                        for m in &locks {
                            *m.lock() += 1;
                        }
                        locks
                    },
                );
            }
        }
    };
}

/// A stand-in for `lockcheck::Mutex::named` where locks have no names.
const fn unnamed_pl<T>(_: &'static str, value: T) -> ::parking_lot::Mutex<T> {
    ::parking_lot::Mutex::new(value)
}

/// As [`unnamed_pl`], for tracing-mutex.
const fn unnamed_tm<T>(_: &'static str, value: T) -> ::tracing_mutex::parkinglot::tracing::Mutex<T> {
    ::tracing_mutex::parkinglot::tracing::Mutex::new(value)
}

mod pl {
    pub use ::parking_lot::{Mutex, RwLock};
}
mod lc {
    pub use ::lockcheck::{Mutex, RwLock};
}
mod tm {
    pub use ::tracing_mutex::parkinglot::tracing::{Mutex, RwLock};
}

use lc::{Mutex as LcMutex, RwLock as LcRwLock};
use pl::{Mutex as PlMutex, RwLock as PlRwLock};
use tm::{Mutex as TmMutex, RwLock as TmRwLock};

peer_benches!(parking_lot, PlMutex, PlRwLock, unnamed_pl);
peer_benches!(lockcheck, LcMutex, LcRwLock, LcMutex::named);
peer_benches!(tracing_mutex, TmMutex, TmRwLock, unnamed_tm);
