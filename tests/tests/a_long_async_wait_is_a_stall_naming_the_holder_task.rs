//! A task holds a tokio mutex while it sleeps; another task waits for the mutex past the
//! watchdog's threshold. Not a cycle: a stall report naming the waiting task and the holder
//! task, where it took the lock. A stall is a warning: nothing aborts.

use std::time::Duration;

use lockcheck::tokio::Mutex;
use lockcheck::Finding;
use lockcheck_tests::child::{self, THRESHOLD_MS};

static CONFIG: Mutex<u32> = Mutex::named("tk-stall-config", 0);

async fn scenario() {
    let (held, is_held) = tokio::sync::oneshot::channel::<()>();
    let holder = tokio::spawn(async move {
        child::expect_site(file!(), line!() + 1);
        let _config = CONFIG.lock().await;
        held.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(THRESHOLD_MS * 3)).await;
    });
    is_held.await.unwrap();
    let waiter = tokio::spawn(async {
        child::expect_site(file!(), line!() + 1);
        *CONFIG.lock().await += 1;
    });
    holder.await.unwrap();
    waiter.await.unwrap();
    let report = lockcheck::report();
    let stall = report.findings.iter().find_map(|f| match f {
        Finding::Stall(hang) => Some(hang),
        _ => None,
    });
    let stall = stall.unwrap_or_else(|| panic!("a stall:\n{report}"));
    assert!(stall.threads.len() == 2 && stall.threads.iter().all(|t| t.thread.starts_with("task ")), "{stall:?}");
    assert!(stall.threads[1].holds.iter().any(|h| h.lock.class == "tk-stall-config"), "the holder's lock: {stall:?}");
    assert!(!report.has_failures(), "a stall is a warning:\n{report}");
}

#[test]
fn a_long_async_wait_is_a_stall_naming_the_holder_task() {
    if child::is_child() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        return runtime.block_on(scenario());
    }
    let out = child::run("a_long_async_wait_is_a_stall_naming_the_holder_task", &[], Duration::from_secs(20));
    out.check(out.succeeded(), "the child runs to the end");
    out.check(out.stderr.contains("lockcheck: STALL"), "a stall is printed");
    for site in out.expected_sites() {
        out.check(out.stderr.contains(&site), &format!("the report names the site {site}"));
    }
}
