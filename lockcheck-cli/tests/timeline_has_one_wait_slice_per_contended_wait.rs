//! `timeline` on the hotspot example: valid Chrome trace event JSON whose events all carry
//! `ph`, `pid`, `tid` and a name (and `ts` where they are in time), with exactly one wait
//! slice per contended wait the trace recorded, on named process and thread tracks.

mod common;

use std::collections::BTreeSet;

use common::{lockcheck, record};
use lockcheck::trace::{EventKind, TraceData};
use serde_json::Value;

#[test]
fn timeline_has_one_wait_slice_per_contended_wait() {
    let traces = record("hotspot", &[]);
    let mut waits = 0u64;
    for entry in std::fs::read_dir(&traces).unwrap() {
        TraceData::load_with(entry.unwrap().path(), |_, event| match event.kind {
            EventKind::Acquired { wait_ns: Some(_), .. } | EventKind::TimedOut { .. } => waits += 1,
            _ => {}
        })
        .unwrap();
    }
    assert!(waits > 0, "the hotspot example contends");

    let run = lockcheck(&["timeline", traces.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).expect("the timeline is JSON");
    let events = doc["traceEvents"].as_array().expect("a traceEvents array");
    let mut named_threads = BTreeSet::new();
    let mut named_processes = BTreeSet::new();
    let mut used_threads = BTreeSet::new();
    let mut wait_slices = 0;
    for event in events {
        let ph = event["ph"].as_str().expect("every event has ph");
        let (pid, tid) = (event["pid"].as_u64().expect("pid"), event["tid"].as_u64().expect("tid"));
        let name = event["name"].as_str().expect("every event has a name");
        match ph {
            "M" if name == "process_name" => drop(named_processes.insert(pid)),
            "M" if name == "thread_name" => drop(named_threads.insert((pid, tid))),
            "M" => {}
            "X" => {
                assert!(event["ts"].is_number() && event["dur"].is_number(), "{event}");
                used_threads.insert((pid, tid));
                if event["cat"] == "wait" {
                    wait_slices += 1;
                    assert!(name.starts_with("wait ") || name.starts_with("timed out on "), "{name}");
                    assert!(event["args"]["lock"].is_string() && event["args"]["waiter site"].is_string(), "{event}");
                }
            }
            "i" => assert!(event["ts"].is_number(), "{event}"),
            other => panic!("unexpected phase {other}"),
        }
    }
    assert_eq!(wait_slices, waits, "one wait slice per contended wait");
    assert!(used_threads.iter().all(|t| named_threads.contains(t)), "every track is named");
    assert!(used_threads.iter().all(|(pid, _)| named_processes.contains(pid)), "every process is named");
    assert!(doc["otherData"]["start_unix_ns"].as_u64().unwrap() > 0);
}
