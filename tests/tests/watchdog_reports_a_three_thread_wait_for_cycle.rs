//! SCENARIOS H2: three threads, three locks, a real cycle: the watchdog reports the whole
//! three-thread wait-for cycle and aborts.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use lockcheck::Mutex;
use lockcheck_tests::child::{self, THRESHOLD_MS};

static LOCKS: [Mutex<()>; 3] = [Mutex::named("alpha", ()), Mutex::named("beta", ()), Mutex::named("gamma", ())];

fn scenario() {
    let barrier = Arc::new(Barrier::new(3));
    let workers: Vec<_> = (0..3)
        .map(|k| {
            let barrier = Arc::clone(&barrier);
            thread::Builder::new()
                .name(format!("worker-{}", k + 1))
                .spawn(move || {
                    let _mine = LOCKS[k].lock();
                    barrier.wait();
                    if k == 2 {
                        child::blocking_now();
                    }
                    child::expect_site(file!(), line!() + 1);
                    let _next = LOCKS[(k + 1) % 3].lock();
                })
                .unwrap()
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
}

#[test]
fn watchdog_reports_a_three_thread_wait_for_cycle() {
    if child::is_child() {
        return scenario();
    }
    let out = child::run("watchdog_reports_a_three_thread_wait_for_cycle", &[], Duration::from_secs(20));
    out.check(out.aborted(), "the child aborts");
    let report = out.stderr.split("lockcheck: DEADLOCK").nth(1).unwrap_or_default();
    for needle in ["`worker-1`", "`worker-2`", "`worker-3`", "`alpha`", "`beta`", "`gamma`"] {
        out.check(report.contains(needle), &format!("the deadlock report names {needle}"));
    }
    out.check(report.matches(" waits to lock ").count() == 3, "three threads wait");
    let cycle = report.lines().nth(2).unwrap_or_default();
    out.check(cycle.matches(" => ").count() == 3, "the cycle line has three links");
    for site in out.expected_sites() {
        out.check(report.contains(&site), &format!("the report names the site {site}"));
    }
    let detected = out.detected_after_ms().expect("the report says how long the threads waited");
    eprintln!("threshold {THRESHOLD_MS} ms: deadlock reported {detected} ms after it formed");
    out.check(out.latency_ms.is_some_and(|ms| ms < THRESHOLD_MS + 4_000), "the child ends within a few seconds");
}
