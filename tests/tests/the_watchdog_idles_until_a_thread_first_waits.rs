//! The watchdog thread wakes no one while no thread has ever blocked on a lockcheck lock: it
//! stays parked through uncontended locking, and starts scanning at the first contended
//! wait. Its wake-ups are read from Linux's count of the thread's voluntary context switches.

#![cfg(target_os = "linux")]

use std::thread;
use std::time::Duration;

use lockcheck::Mutex;
use lockcheck_tests::child;

static TABLE: Mutex<u32> = Mutex::named("table", 0);

/// The voluntary context switches of this process's watchdog thread (its name is cut to
/// Linux's 15 characters).
fn watchdog_switches() -> u64 {
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = task.unwrap().path();
        if std::fs::read_to_string(dir.join("comm")).unwrap_or_default().trim() == "lockcheck-watch" {
            let status = std::fs::read_to_string(dir.join("status")).unwrap();
            let line = status.lines().find_map(|l| l.strip_prefix("voluntary_ctxt_switches:")).unwrap();
            return line.trim().parse().unwrap();
        }
    }
    panic!("no watchdog thread");
}

fn scenario() {
    for _ in 0..20 {
        *TABLE.lock() += 1;
        thread::sleep(Duration::from_millis(10));
    }
    let idle_from = watchdog_switches();
    for _ in 0..20 {
        *TABLE.lock() += 1;
        thread::sleep(Duration::from_millis(10));
    }
    let idle_to = watchdog_switches();
    println!("idle {idle_from} -> {idle_to}");
    // One contended wait: a thread holds the table while this one locks it.
    let table = TABLE.lock();
    let waiter = thread::spawn(|| *TABLE.lock() += 1);
    // Long enough for a dozen scans at the 10 ms step: at 50 ms, the five or six it allowed
    // sat on the test's bar of more than five.
    thread::sleep(Duration::from_millis(120));
    drop(table);
    waiter.join().unwrap();
    thread::sleep(Duration::from_millis(200));
    println!("after a wait {}", watchdog_switches());
}

#[test]
fn the_watchdog_idles_until_a_thread_first_waits() {
    if child::is_child() {
        return scenario();
    }
    // A 20 ms threshold: a watchdog on a timer would wake every 5 ms.
    let out = child::run(
        "the_watchdog_idles_until_a_thread_first_waits",
        &[("LOCKCHECK_WATCHDOG_MS", "20")],
        Duration::from_secs(20),
    );
    out.check(out.succeeded(), "the child ends normally");
    let number = |tag: &str| -> u64 {
        let line = out.stdout.lines().find_map(|l| l.split_once(tag)).map(|(_, rest)| rest.to_owned());
        line.and_then(|rest| rest.split_whitespace().last()?.parse().ok()).expect("the child printed its counts")
    };
    let idle: Vec<u64> = out
        .stdout
        .lines()
        .find_map(|l| {
            l.split_once("idle ").map(|(_, r)| r.split(" -> ").filter_map(|n| n.trim().parse().ok()).collect())
        })
        .expect("the child printed the idle counts");
    out.check(idle.len() == 2 && idle[0] == idle[1], "no wake-up while no thread ever waited");
    out.check(number("after a wait ") > idle[1] + 5, "the watchdog scans once a thread has waited");
}
