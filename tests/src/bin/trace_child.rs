//! A program that records a trace in one of several ways, for the trace tests: run as
//! `trace_child <scenario> [ops] [threads]` with `LOCKCHECK_TRACE` set by the test.

use std::sync::Barrier;
use std::time::Duration;

use lockcheck::Mutex;

static OUTER: Mutex<u64> = Mutex::named("child-outer", 0);
static INNER: Mutex<u64> = Mutex::named("child-inner", 0);

/// `ops` nested acquisitions: OUTER, then INNER inside it.
fn nested(ops: u64) {
    for _ in 0..ops {
        let mut outer = OUTER.lock();
        *outer += 1;
        *INNER.lock() += 1;
    }
}

/// `ops` lock+unlock pairs on a lock of this thread's own.
fn private(ops: u64) {
    let lock = Mutex::named("child-private", 0u64);
    for _ in 0..ops {
        *lock.lock() += 1;
    }
}

/// One event of every kind: contended, uncontended, try-failed, timed-out, sampled holds.
fn every_kind() {
    let held = OUTER.lock();
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(OUTER.try_lock().is_none());
            assert!(OUTER.try_lock_for(Duration::from_millis(5)).is_none());
        })
        .join()
        .unwrap();
        let waiter = s.spawn(|| *OUTER.lock() += 1);
        std::thread::sleep(Duration::from_millis(50));
        drop(held);
        waiter.join().unwrap();
    });
    nested(1);
}

static LEDGER: Mutex<u64> = Mutex::named("child-ledger", 0);

/// Rounds of [`contended_waits`].
const WAIT_ROUNDS: usize = 10;

/// Takes the ledger as soon as the waiter is ready, and keeps it 2 ms.
#[inline(never)]
fn hold_the_ledger(ready: &Barrier, done: &Barrier) {
    for _ in 0..WAIT_ROUNDS {
        let (mut ledger, line) = (LEDGER.lock(), line!());
        println!("holder-line {line}");
        ready.wait();
        std::thread::sleep(Duration::from_millis(2));
        *ledger += 1;
        drop(ledger);
        done.wait();
    }
}

/// Waits for the ledger the holder has.
#[inline(never)]
fn wait_for_the_ledger(ready: &Barrier, done: &Barrier) {
    for _ in 0..WAIT_ROUNDS {
        ready.wait();
        *LEDGER.lock() += 1;
        done.wait();
    }
}

/// A thread named "waiter" waits for a thread named "holder", in named functions.
fn contended_waits() {
    let (ready, done) = (Barrier::new(2), Barrier::new(2));
    std::thread::scope(|s| {
        let spawn = |name: &str, f: fn(&Barrier, &Barrier)| {
            let (ready, done) = (&ready, &done);
            std::thread::Builder::new().name(name.into()).spawn_scoped(s, move || f(ready, done)).unwrap()
        };
        spawn("holder", hold_the_ledger);
        spawn("waiter", wait_for_the_ledger);
    });
}

static LATE: Mutex<u64> = Mutex::named("child-late", 0);

/// Locks from a thread-local destructor that runs after lockcheck's own thread state is gone.
struct LocksOnDrop;

impl Drop for LocksOnDrop {
    fn drop(&mut self) {
        for _ in 0..10 {
            *LATE.lock() += 1;
        }
    }
}

thread_local! {
    static LOCKS_ON_DROP: LocksOnDrop = const { LocksOnDrop };
}

static CONTENDED: Mutex<u64> = Mutex::named("child-contended", 0);

/// Takes [`CONTENDED`] over and over, holding it 1 ms each time: the other thread waits.
fn contend() {
    loop {
        let mut held = CONTENDED.lock();
        *held += 1;
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let scenario = args.next().expect("a scenario");
    let ops: u64 = args.next().map_or(1000, |n| n.parse().expect("a number of operations"));
    match scenario.as_str() {
        "exit" => {
            nested(ops);
            std::process::exit(3);
        }
        "panic" if std::env::var_os("LOCKCHECK_TEST_ABORT").is_some() => {
            // What `panic = "abort"` does: the panic hook runs, then the process aborts
            // without running exit hooks.
            let _ = std::panic::catch_unwind(|| {
                nested(ops);
                panic!("the child panics in main");
            });
            std::process::abort();
        }
        "panic" => {
            nested(ops);
            panic!("the child panics in main");
        }
        "threads" => {
            let workers: Vec<_> = (0..4)
                .map(|i| std::thread::Builder::new().name(format!("worker-{i}")).spawn(move || private(ops)).unwrap())
                .collect();
            for worker in workers {
                worker.join().unwrap();
            }
            // Give the collector a period to retire the exited threads' rings.
            std::thread::sleep(Duration::from_millis(250));
            nested(1);
        }
        "kinds" => every_kind(),
        "waits" => contended_waits(),
        "tls" => {
            let threads: usize = args.next().map_or(1, |n| n.parse().expect("a number of threads"));
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    std::thread::spawn(move || {
                        // Registered before lockcheck's thread-locals, so destroyed after them.
                        LOCKS_ON_DROP.with(|_| {});
                        private(ops);
                    })
                })
                .collect();
            for worker in workers {
                worker.join().unwrap();
            }
        }
        "burst" => {
            private(ops);
            println!("events_lost={}", lockcheck::report().events_lost);
        }
        "stress" => {
            std::thread::scope(|s| {
                for i in 0..2 {
                    std::thread::Builder::new()
                        .name(format!("stress-{i}"))
                        .spawn_scoped(s, move || private(ops))
                        .unwrap();
                }
            });
            println!("events_lost={}", lockcheck::report().events_lost);
        }
        "interleave" => {
            // Two named threads nesting the same two locks: in stress mode, each gets its own
            // delays, decided by the seed and its name.
            std::thread::scope(|s| {
                for name in ["left", "right"] {
                    std::thread::Builder::new().name(name.into()).spawn_scoped(s, move || nested(ops)).unwrap();
                }
            });
            println!("stress seed {:?}", lockcheck::stress::seed());
        }
        "assert" => {
            // A std-style lock, and an assertion that fails while it is held.
            let asserted = lockcheck::sync::Mutex::named("child-asserted", 0u64);
            let _held = asserted.lock().unwrap();
            asserted.assert_not_held();
        }
        "contend-until-killed" => {
            // Two threads take turns on one lock, holding it 1 ms, until the test kills the
            // process; each announces when it starts.
            std::thread::scope(|s| {
                for i in 0..2 {
                    std::thread::Builder::new().name(format!("contender-{i}")).spawn_scoped(s, contend).unwrap();
                }
            });
        }
        other => panic!("unknown scenario {other}"),
    }
}
