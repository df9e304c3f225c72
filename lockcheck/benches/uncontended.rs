//! Lock-path cost against parking_lot, in the same run.
//!
//! `cargo bench -p lockcheck --features instrument --bench uncontended` measures the
//! instrumented locks; without `--features instrument` lockcheck's locks are parking_lot's and
//! the two columns must match. Each group runs the same code on `parking_lot::Mutex` and
//! `lockcheck::Mutex`.

use divan::{black_box, Bencher};

fn main() {
    // The ring bench closes cycles on purpose: record them, print nothing.
    ::lockcheck::set_on_cycle(::lockcheck::OnCycle::Ignore);
    divan::main();
}

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

// `#[track_caller]` reports a macro's invocation site for every call in its body: locks made
// with `Mutex::new` in this macro all share one class. Locks that real code would create in
// different places get names instead (`$named`: `Mutex::named` for lockcheck, a stand-in for
// parking_lot), so that each has a class of its own.
macro_rules! lock_benches {
    ($module:ident, $Mutex:path, $named:path) => {
        mod $module {
            use super::*;
            use $Mutex as Mutex;

            /// One uncontended lock + unlock.
            #[divan::bench(sample_size = 10_000)]
            fn lock_unlock(bencher: Bencher) {
                let m = Mutex::new(0u64);
                bencher.bench_local(|| *black_box(&m).lock() += 1);
            }

            /// A then B, with the A → B order already known.
            #[divan::bench(sample_size = 10_000)]
            fn nested_pair(bencher: Bencher) {
                let (a, b) = ($named("nested a", 0u64), $named("nested b", 0u64));
                bencher.bench_local(|| {
                    let mut a = black_box(&a).lock();
                    let mut b = black_box(&b).lock();
                    *a += 1;
                    *b += 1;
                });
            }

            /// A then B of one class (lockdep's same-class nesting): both are keyed by
            /// instance as well as by class.
            #[divan::bench(sample_size = 10_000)]
            fn nested_pair_same_class(bencher: Bencher) {
                let (a, b) = (Mutex::new(0u64), Mutex::new(0u64));
                bencher.bench_local(|| {
                    let mut a = black_box(&a).lock();
                    let mut b = black_box(&b).lock();
                    *a += 1;
                    *b += 1;
                });
            }

            /// Lock + unlock a ninth lock while holding eight.
            #[divan::bench(sample_size = 10_000)]
            fn ninth_under_eight(bencher: Bencher) {
                let names = ["held 1", "held 2", "held 3", "held 4", "held 5", "held 6", "held 7", "held 8"];
                let held: Vec<Mutex<u64>> = names.into_iter().map(|name| $named(name, 0)).collect();
                let guards: Vec<_> = held.iter().map(|m| m.lock()).collect();
                let ninth = $named("ninth", 0u64);
                bencher.bench_local(|| *black_box(&ninth).lock() += 1);
                drop(guards);
            }

            thread_local! {
                static PRIVATE: (Mutex<u64>, Mutex<u64>) =
                    const { ($named("private a", 0), $named("private b", 0)) };
            }

            /// Two threads, each nesting its own pair: nothing shared but lockcheck itself.
            #[divan::bench(threads = [2], sample_size = 10_000)]
            fn two_threads_private_pairs(bencher: Bencher) {
                bencher.bench(|| {
                    PRIVATE.with(|(a, b)| {
                        let mut a = a.lock();
                        let mut b = b.lock();
                        *a += 1;
                        *b += 1;
                    })
                });
            }

            /// First pass: 100,000 fresh locks, each taken once under one outer lock.
            #[divan::bench(sample_count = 5, sample_size = 1)]
            fn first_pass_100k_new_locks(bencher: Bencher) {
                bencher.with_inputs(|| (0..100_000).map(|_| Mutex::new(0u64)).collect::<Vec<_>>()).bench_local_values(
                    |locks| {
                        let outer: Mutex<()> = $named("bench-outer", ());
                        let _outer = outer.lock();
                        for m in &locks {
                            *m.lock() += 1;
                        }
                        locks
                    },
                );
            }

            /// A ring of 100 locks, each taken with the next held: the last pair closes a
            /// 100-edge cycle, which lockcheck finds and reports (`main` keeps the reports off the terminal). Time per acquisition of one whole ring.
            #[divan::bench(sample_count = 20, sample_size = 1)]
            fn ring_of_100_locks(bencher: Bencher) {
                bencher.with_inputs(|| (0..100).map(|_| Mutex::new(0u64)).collect::<Vec<_>>()).bench_local_values(
                    |ring| {
                        for i in 0..ring.len() {
                            let _a = ring[i].lock();
                            *ring[(i + 1) % ring.len()].lock() += 1;
                        }
                        ring
                    },
                );
            }
        }
    };
}

/// parking_lot's stand-in for `lockcheck::Mutex::named`: it has no names.
const fn unnamed<T>(_: &'static str, value: T) -> ::parking_lot::Mutex<T> {
    ::parking_lot::Mutex::new(value)
}

lock_benches!(parking_lot, ::parking_lot::Mutex, unnamed);
lock_benches!(lockcheck, ::lockcheck::Mutex, ::lockcheck::Mutex::named);
