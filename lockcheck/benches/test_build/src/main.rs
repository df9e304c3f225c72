//! lockcheck, parking_lot and tracing-mutex in a test build, the same loops in the same run, and
//! `lockcheck::tokio` against tokio: nanoseconds per iteration, the median of 7 rounds. See
//! `Cargo.toml` for the commands.

use std::hint::black_box;
use std::time::Instant;

use tracing_mutex::parkinglot::tracing::{Mutex as TracingMutex, RwLock as TracingRwLock};

const ITERATIONS: u32 = 1_000_000;
const ROUNDS: usize = 7;

/// Nanoseconds per call of `f`, the median of the rounds.
fn time(mut f: impl FnMut()) -> f64 {
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..ITERATIONS {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(ITERATIONS)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

/// The three rows for one implementation's `Mutex` and `RwLock`.
macro_rules! rows {
    ($Mutex:ty, $RwLock:ty) => {{
        let m = <$Mutex>::new(0u64);
        let uncontended = time(|| *black_box(&m).lock() += 1);
        let (a, b) = (<$Mutex>::new(0u64), <$Mutex>::new(0u64));
        let nested = time(|| {
            let mut a = black_box(&a).lock();
            *black_box(&b).lock() += 1;
            *a += 1;
        });
        let rw = <$RwLock>::new(0u64);
        let rwlock = time(|| {
            *black_box(&rw).write() += 1;
            black_box(*black_box(&rw).read());
        });
        [uncontended, nested, rwlock]
    }};
}

fn main() {
    lockcheck::set_on_cycle(lockcheck::OnCycle::Ignore);
    let parking_lot = rows!(parking_lot::Mutex<u64>, parking_lot::RwLock<u64>);
    let lockcheck = rows!(lockcheck::Mutex<u64>, lockcheck::RwLock<u64>);
    let tracing_mutex = rows!(TracingMutex<u64>, TracingRwLock<u64>);
    println!(
        "{:<34} {:>12} {:>18} {:>18}",
        "ns per iteration, test build", "parking_lot", "lockcheck", "tracing-mutex"
    );
    let names = ["uncontended lock+unlock", "nested pair", "RwLock write, then read"];
    for (row, name) in names.iter().enumerate() {
        let (pl, lc, tm) = (parking_lot[row], lockcheck[row], tracing_mutex[row]);
        println!("{name:<34} {pl:>12.1} {lc:>11.1} ({:>4.2}×) {tm:>11.1} ({:>4.2}×)", lc / pl, tm / pl);
    }
    let (tokio, lockcheck) = async_rows();
    println!("{:<34} {:>12} {:>18}", "", "tokio", "lockcheck::tokio");
    let name = "Mutex lock().await + unlock, task";
    println!("{name:<34} {tokio:>12.1} {lockcheck:>11.1} ({:>4.2}×)", lockcheck / tokio);
}

/// An uncontended async lock and unlock inside a task of a current-thread runtime: tokio's
/// `Mutex`, then lockcheck's.
fn async_rows() -> (f64, f64) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    runtime.block_on(async {
        let task = tokio::spawn(async {
            let tokio = tokio::sync::Mutex::new(0u64);
            let tokio = time_async(|| async { *black_box(&tokio).lock().await += 1 }).await;
            let lockcheck = lockcheck::tokio::Mutex::new(0u64);
            let lockcheck = time_async(|| async { *black_box(&lockcheck).lock().await += 1 }).await;
            (tokio, lockcheck)
        });
        task.await.expect("the task finishes")
    })
}

/// [`time`] for a future made by `f`.
async fn time_async<F: std::future::Future<Output = ()>>(mut f: impl FnMut() -> F) -> f64 {
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..ITERATIONS {
            f().await;
        }
        rounds.push(start.elapsed().as_nanos() as f64 / f64::from(ITERATIONS));
    }
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}
