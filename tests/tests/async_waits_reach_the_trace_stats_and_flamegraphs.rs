//! Async locks are recorded like sync ones: their acquisitions, and a contended async wait
//! with how long it lasted and which task held the lock, reach the trace; `lockcheck stats`
//! counts them and `lockcheck flamegraph` weighs the wait, by where it waited and by the
//! holder task.

use std::time::Duration;

use lockcheck::tokio::Mutex;
use lockcheck_cli::flame::{self, FlameOptions, Metric};
use lockcheck_cli::stats::{self, StatsOptions};
use lockcheck_tests::child;

static QUEUE: Mutex<u32> = Mutex::named("tk-trace-queue", 0);

/// How long the holder keeps the lock while the other task waits.
const HOLD_MS: u64 = 60;

async fn scenario() {
    let (held, is_held) = tokio::sync::oneshot::channel::<()>();
    let holder = tokio::spawn(async move {
        let _queue = QUEUE.lock().await;
        held.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(HOLD_MS)).await;
    });
    is_held.await.unwrap();
    *QUEUE.lock().await += 1;
    holder.await.unwrap();
    assert!(QUEUE.try_lock().is_ok());
}

#[test]
fn async_waits_reach_the_trace_stats_and_flamegraphs() {
    if child::is_child() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        return runtime.block_on(scenario());
    }
    let trace = lockcheck_tests::traces::temp_dir("tokio-trace").join("tokio.lctrace");
    let trace_env = trace.to_str().expect("a UTF-8 temp path");
    let out = child::run(
        "async_waits_reach_the_trace_stats_and_flamegraphs",
        &[("LOCKCHECK_TRACE", trace_env)],
        Duration::from_secs(20),
    );
    out.check(out.succeeded(), "the child runs to the end");
    let stats = stats::stats(std::slice::from_ref(&trace), &StatsOptions::default()).expect("the trace reads");
    let row = stats.rows.iter().find(|r| r.class == "tk-trace-queue").expect("the async lock has a row");
    assert_eq!(row.acquisitions, 3, "lock, lock after the wait, try_lock: {row:?}");
    assert_eq!(row.contended, 1, "{row:?}");
    assert!(row.wait_total_ns >= (HOLD_MS / 2) * 1_000_000, "the wait lasted about the hold: {row:?}");
    let mut by_holder = FlameOptions::default();
    by_holder.metric = Metric::Hold;
    let folded = flame::folded(&[trace], &by_holder).expect("the trace reads");
    let line = folded.lines.iter().find(|l| l.contains("lock:tk-trace-queue")).expect("the wait is in the flamegraph");
    assert!(line.starts_with("task "), "weighed under the holder task: {line}");
}
