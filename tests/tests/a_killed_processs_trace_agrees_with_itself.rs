//! A process killed with SIGKILL never flushes: its trace ends wherever the collector's last
//! write did. Its exact per-lock counters (written once a second) and its events (written
//! every drain) must still agree — `stats` must never show `contended: 0` beside an 87 ms
//! `wait_max` — and the events lost to the kill are those recorded since the collector's last
//! write, which the test prints (the README's bound; `LOCKCHECK_TESTS_KILLS=30` measures 30
//! kills at spread-out moments, the default one).

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lockcheck::trace::{Chunk, EventKind, LockCounters, TraceData, TraceReader};
use lockcheck_tests::traces::temp_dir;

/// Kills the child after `after`, returning its trace and the kill's Unix time (ns).
fn killed_after(after: Duration) -> (std::path::PathBuf, u64) {
    let dir = temp_dir("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_trace_child"))
        .arg("contend-until-killed")
        .env("LOCKCHECK_TRACE", format!("{}/", dir.display()))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let killed_at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    child.kill().unwrap(); // SIGKILL on Unix.
    child.wait().unwrap();
    let trace = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    (trace, killed_at)
}

/// Checks that the killed child's counters agree with its events; returns the milliseconds
/// from the collector's last write to the kill.
fn agrees_with_itself(after: Duration) -> f64 {
    let (trace, killed_at) = killed_after(after);
    let mut from_events = LockCounters::default();
    let data = TraceData::load_with(&trace, |data, e| {
        let contended = data.class_of(e.lock).is_some_and(|c| c.label == "child-contended");
        if let (true, EventKind::Acquired { wait_ns, .. }) = (contended, e.kind) {
            let wait = LockCounters {
                acquisitions: 1,
                contended: u64::from(wait_ns.is_some()),
                wait_ns: wait_ns.unwrap_or(0),
            };
            from_events.add(&wait);
        }
    })
    .unwrap();
    assert!(!data.complete, "a killed process writes no end marker");
    let counters = data
        .counters
        .iter()
        .find(|(lock, _)| data.class_of(**lock).is_some_and(|c| c.label == "child-contended"))
        .map(|(_, c)| *c)
        .expect("counters for the contended lock");
    assert!(from_events.contended > 0, "the threads contended: {from_events:?}");
    // Every event is in the counters: they may only count more (acquisitions whose events
    // were dropped), never less.
    assert!(counters.acquisitions >= from_events.acquisitions, "{counters:?} vs events {from_events:?}");
    assert!(counters.contended >= from_events.contended, "{counters:?} vs events {from_events:?}");
    assert!(counters.wait_ns >= from_events.wait_ns, "{counters:?} vs events {from_events:?}");

    // The batch times: when the collector wrote each events chunk (the callback does not
    // see them). Everything recorded after the last one is lost to the kill.
    let last_batch_ns = TraceReader::open(&trace)
        .unwrap()
        .flatten()
        .filter_map(|chunk| match chunk {
            Chunk::Events(batch) => Some(batch.time_ns),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let start = data.header.as_ref().unwrap().start_unix_ns;
    killed_at.saturating_sub(start + last_batch_ns) as f64 / 1e6
}

#[test]
fn counters_and_events_of_a_killed_process_agree() {
    let kills: u64 = std::env::var("LOCKCHECK_TESTS_KILLS").ok().and_then(|n| n.parse().ok()).unwrap_or(1);
    // The first kill comes between two counter snapshots (they come once a second), with
    // events written after the last one; the others spread over 0.3 to 2.5 s.
    let mut lost: Vec<f64> = (0..kills)
        .map(|i| if i == 0 { 1600 } else { 300 + i * 373 % 2200 })
        .map(|ms| agrees_with_itself(Duration::from_millis(ms)))
        .collect();
    lost.sort_by(f64::total_cmp);
    println!(
        "{kills} kills: the events of the last {:.1} ms (median) / {:.1} ms (max) before the kill are missing",
        lost[lost.len() / 2],
        lost[lost.len() - 1]
    );
}
