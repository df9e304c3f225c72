//! `lockcheck::sync` against `std::sync`, in the same run.
//!
//! `cargo bench -p lockcheck --bench std_sync` measures the wrappers over std's own types
//! (the two columns must match); `--features instrument` measures the instrumented ones.

use divan::{black_box, Bencher};

fn main() {
    divan::main();
}

macro_rules! sync_benches {
    ($module:ident, $sync:path) => {
        mod $module {
            use super::*;
            use $sync as sync;

            /// One uncontended lock + unlock.
            #[divan::bench(sample_size = 10_000)]
            fn mutex_lock_unlock(bencher: Bencher) {
                let m = sync::Mutex::new(0u64);
                bencher.bench_local(|| *black_box(&m).lock().unwrap() += 1);
            }

            /// One uncontended read + unlock.
            #[divan::bench(sample_size = 10_000)]
            fn rwlock_read(bencher: Bencher) {
                let rw = sync::RwLock::new(0u64);
                bencher.bench_local(|| *black_box(&rw).read().unwrap());
            }

            /// `get` of an initialised cell.
            #[divan::bench(sample_size = 10_000)]
            fn once_lock_get(bencher: Bencher) {
                let cell = sync::OnceLock::new();
                cell.get_or_init(|| 7u64);
                bencher.bench_local(|| *black_box(&cell).get().unwrap());
            }

            /// `get_or_init` of an initialised cell.
            #[divan::bench(sample_size = 10_000)]
            fn once_lock_get_or_init(bencher: Bencher) {
                let cell = sync::OnceLock::new();
                cell.get_or_init(|| 7u64);
                bencher.bench_local(|| *black_box(&cell).get_or_init(|| 8));
            }
        }
    };
}

sync_benches!(std, ::std::sync);
sync_benches!(lockcheck, ::lockcheck::sync);
