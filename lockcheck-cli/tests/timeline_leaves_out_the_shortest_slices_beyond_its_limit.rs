//! With more slices than `--max-slices`, the timeline keeps the longest: the shortest are
//! left out, and both the file and standard error say how many and below which length.

mod common;

use common::{lockcheck, temp_dir, waiting_process};
use serde_json::Value;

#[test]
fn timeline_leaves_out_the_shortest_slices_beyond_its_limit() {
    let dir = temp_dir("timeline-limit");
    waiting_process(&dir, "short", 1_000, 1, 300);
    waiting_process(&dir, "long", 1_000, 2, 90_000);
    let run = lockcheck(&["timeline", dir.to_str().unwrap(), "--max-slices", "1"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let slices: Vec<&Value> = doc["traceEvents"].as_array().unwrap().iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(slices.len(), 1);
    assert_eq!(slices[0]["dur"].as_f64(), Some(90.0), "the long wait is kept");
    assert_eq!(doc["otherData"]["left_out"], 1);
    assert!(doc["otherData"]["left_out_shorter_than_ns"].as_u64().unwrap() > 300);
    assert!(run.stderr.contains("1 slices shorter than"), "{}", run.stderr);
}
