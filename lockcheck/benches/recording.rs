//! The cost of recording: parking_lot against lockcheck instrumented *and* recording a trace
//! (`LOCKCHECK_TRACE` points at a temporary directory unless set), in the same run; then the
//! trace's size per acquisition.
//!
//! `cargo bench -p lockcheck --features instrument --bench recording`
//! (`LOCKCHECK_HOLD_SAMPLE=1` for the full-timestamp mode, `LOCKCHECK_TRACE=` for no trace).

use std::hint::black_box;

use divan::Bencher;

fn main() {
    let dir = std::env::temp_dir().join(format!("lockcheck-bench-{}", std::process::id()));
    if std::env::var_os("LOCKCHECK_TRACE").is_none() {
        std::fs::create_dir_all(&dir).unwrap();
        // Set before lockcheck reads its configuration (at the first instrumented lock).
        std::env::set_var("LOCKCHECK_TRACE", &dir);
    }
    // Start the recorder (configuration, collector thread, trace file) outside any sample.
    drop(lockcheck::Mutex::new(()).lock());
    divan::main();
    lockcheck::flush();
    trace_size(&dir);
}

/// Prints the bytes per acquisition of the trace this run wrote.
fn trace_size(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let size = entry.metadata().map_or(0, |m| m.len());
        let (mut written, mut waits, mut stacks) = (0u64, 0u64, 0u64);
        let data = lockcheck::trace::TraceData::load_with(entry.path(), |_, e| {
            if let lockcheck::trace::EventKind::Acquired { wait_ns, stack, .. } = e.kind {
                written += 1;
                waits += u64::from(wait_ns.is_some_and(|w| w >= 20_000));
                stacks += u64::from(stack.is_some());
            }
        })
        .expect("the trace reads back");
        let counted: u64 = data.counters.values().map(|c| c.acquisitions).sum();
        println!(
            "trace: {size} bytes; {written} acquisitions written ({:.2} bytes each), {counted} counted, {} events dropped",
            size as f64 / written.max(1) as f64,
            data.events_lost(),
        );
        println!("{stacks} of {waits} waits of 20 µs or more carry a stack ({} distinct)", data.stacks.len());
        let _ = std::fs::remove_file(entry.path());
    }
    let _ = std::fs::remove_dir(dir);
}

/// Runs the first acquisitions (registration, the first check of a context, a new
/// order's stack capture) outside the samples: they happen once per lock, not per operation.
fn warm_up(mut op: impl FnMut()) {
    for _ in 0..1000 {
        op();
    }
}

mod uncontended {
    use super::*;

    #[divan::bench(sample_size = 5000)]
    fn parking_lot(b: Bencher) {
        let m = parking_lot::Mutex::new(0u64);
        b.bench_local(|| *black_box(&m).lock() += 1);
    }

    #[divan::bench(sample_size = 5000)]
    fn lockcheck(b: Bencher) {
        let m = lockcheck::Mutex::new(0u64);
        warm_up(|| *m.lock() += 1);
        b.bench_local(|| *black_box(&m).lock() += 1);
    }
}

mod nested_pair {
    use super::*;

    #[divan::bench(sample_size = 5000)]
    fn parking_lot(b: Bencher) {
        let (outer, inner) = (parking_lot::Mutex::new(0u64), parking_lot::Mutex::new(0u64));
        b.bench_local(|| {
            let _o = black_box(&outer).lock();
            *black_box(&inner).lock() += 1;
        });
    }

    #[divan::bench(sample_size = 5000)]
    fn lockcheck(b: Bencher) {
        let (outer, inner) = (lockcheck::Mutex::new(0u64), lockcheck::Mutex::new(0u64));
        warm_up(|| {
            let _o = outer.lock();
            *inner.lock() += 1;
        });
        b.bench_local(|| {
            let _o = black_box(&outer).lock();
            *black_box(&inner).lock() += 1;
        });
    }
}

/// Each thread nests its own pair of locks: nothing shared but the recorder's globals. A
/// thread's first pass (registration, first check) lands in its first sample: read medians.
mod two_threads_private_pairs {
    use super::*;

    thread_local! {
        static PL: (parking_lot::Mutex<u64>, parking_lot::Mutex<u64>) =
            const { (parking_lot::Mutex::new(0), parking_lot::Mutex::new(0)) };
        static LC: (lockcheck::Mutex<u64>, lockcheck::Mutex<u64>) =
            const { (lockcheck::Mutex::new(0), lockcheck::Mutex::new(0)) };
    }

    #[divan::bench(threads = [2], sample_size = 5000)]
    fn parking_lot(b: Bencher) {
        b.bench(|| {
            PL.with(|(outer, inner)| {
                let _o = black_box(outer).lock();
                *black_box(inner).lock() += 1;
            })
        });
    }

    #[divan::bench(threads = [2], sample_size = 5000)]
    fn lockcheck(b: Bencher) {
        b.bench(|| {
            LC.with(|(outer, inner)| {
                let _o = black_box(outer).lock();
                *black_box(inner).lock() += 1;
            })
        });
    }
}

/// A waiter and a holder taking turns: each sampled acquisition waits while the holder keeps
/// the lock for 50 µs (past `LOCKCHECK_WAIT_STACKS_US`'s default), so lockcheck's cost of a
/// contended wait (clock reads, the holder, the stack, the extra records) shows as the
/// difference from parking_lot's. `LOCKCHECK_WAIT_STACKS_US=0` leaves the stack out.
mod contended_wait {
    use std::sync::atomic::{AtomicU8, Ordering::SeqCst};
    use std::time::{Duration, Instant};

    use super::*;

    /// How long the holder keeps the lock.
    const HOLD: Duration = Duration::from_micros(50);
    /// Handshake states.
    const IDLE: u8 = 0;
    const TAKE: u8 = 1;
    const TAKEN: u8 = 2;
    const STOP: u8 = 3;

    macro_rules! contended {
        ($name:ident, $lock:ty) => {
            #[divan::bench(sample_count = 50, sample_size = 20)]
            fn $name(b: Bencher) {
                let lock = <$lock>::new(0u64);
                let turn = AtomicU8::new(IDLE);
                std::thread::scope(|s| {
                    s.spawn(|| loop {
                        match turn.load(SeqCst) {
                            STOP => return,
                            TAKE => {
                                let mut guard = lock.lock();
                                turn.store(TAKEN, SeqCst);
                                let until = Instant::now() + HOLD;
                                while Instant::now() < until {
                                    std::hint::spin_loop();
                                }
                                *guard += 1;
                            }
                            _ => std::hint::spin_loop(),
                        }
                    });
                    let mut wait = || {
                        turn.store(TAKE, SeqCst);
                        while turn.load(SeqCst) != TAKEN {
                            std::hint::spin_loop();
                        }
                        turn.store(IDLE, SeqCst);
                        *black_box(&lock).lock() += 1;
                    };
                    warm_up_waits(&mut wait);
                    b.bench_local(&mut wait);
                    turn.store(STOP, SeqCst);
                });
            }
        };
    }

    /// A few contended rounds outside the samples (the first stack symbolised, the first
    /// wait's context checked).
    fn warm_up_waits(wait: &mut impl FnMut()) {
        for _ in 0..20 {
            wait();
        }
    }

    contended!(parking_lot, parking_lot::Mutex<u64>);
    contended!(lockcheck, lockcheck::Mutex<u64>);
}
