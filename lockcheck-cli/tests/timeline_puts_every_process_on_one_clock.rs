//! Two processes that started 5 s apart: their events are 5 s apart on the timeline too,
//! whose zero is the earlier start (its wall-clock time in `otherData`).

mod common;

use common::{lockcheck, temp_dir, waiting_process};
use serde_json::Value;

const START: u64 = 1_700_000_000_000_000_000;

/// The wait slices' (pid, ts, dur), and the clock's base.
fn waits(stdout: &str) -> (Vec<(u64, f64, f64)>, u64) {
    let doc: Value = serde_json::from_str(stdout).unwrap();
    let waits = doc["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X" && e["cat"] == "wait")
        .map(|e| (e["pid"].as_u64().unwrap(), e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap()))
        .collect();
    (waits, doc["otherData"]["start_unix_ns"].as_u64().unwrap())
}

#[test]
fn timeline_puts_every_process_on_one_clock() {
    let dir = temp_dir("timeline-clock");
    waiting_process(&dir, "early", START, 100, 400);
    waiting_process(&dir, "late", START + 5_000_000_000, 200, 400);
    let run = lockcheck(&["timeline", dir.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let (waits, base) = waits(&run.stdout);
    assert_eq!(base, START);
    assert_eq!(waits.len(), 2);
    let (early, late) = (waits.iter().find(|w| w.0 == 1).unwrap(), waits.iter().find(|w| w.0 == 2).unwrap());
    // Each waited 400 ns, at the start of its process.
    assert_eq!((early.1, early.2), (0.0, 0.4));
    assert_eq!((late.1, late.2), (5_000_000.0, 0.4));
}
