//! `--from`/`--to` select a window of the merged clock: of two processes 5 s apart, `--to 1s`
//! keeps the first one's wait and `--from 2s` the second's.

mod common;

use std::path::Path;

use common::{lockcheck, temp_dir, waiting_process};
use serde_json::Value;

/// The processes (by pid) of the wait slices `timeline` writes with `window`.
fn waits(dir: &Path, window: &[&str]) -> Vec<u64> {
    let mut args = vec!["timeline", dir.to_str().unwrap()];
    args.extend(window);
    let run = lockcheck(&args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let slices = doc["traceEvents"].as_array().unwrap().iter().filter(|e| e["ph"] == "X" && e["cat"] == "wait");
    slices.map(|e| e["pid"].as_u64().unwrap()).collect()
}

#[test]
fn timeline_window_keeps_what_overlaps_it() {
    let dir = temp_dir("timeline-window");
    waiting_process(&dir, "early", 1_000_000_000, 100, 400);
    waiting_process(&dir, "late", 6_000_000_000, 200, 400);
    assert_eq!(waits(&dir, &[]), [1, 2]);
    assert_eq!(waits(&dir, &["--to", "1s"]), [1]);
    assert_eq!(waits(&dir, &["--from", "2s"]), [2]);
    assert_eq!(waits(&dir, &["--from", "1s", "--to", "4500ms"]), Vec::<u64>::new());
}
