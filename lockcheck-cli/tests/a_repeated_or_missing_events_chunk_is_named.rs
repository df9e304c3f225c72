//! An events chunk that appears twice in a trace (a valid copy: its checksum holds) is read
//! once and named in a warning; events chunks missing between the ones read are named too.

mod common;

use std::path::Path;

use common::{lockcheck, temp_dir, TraceBuilder};

/// Byte ranges of the trace's chunks, by kind.
fn chunks(bytes: &[u8]) -> Vec<(u8, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut at = 12;
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
        out.push((bytes[at], at..at + 9 + len));
        at += 9 + len;
    }
    out
}

/// Three threads, each taking its lock twice: three events chunks of four events.
fn three_batches(path: &Path) -> Vec<u8> {
    let mut t = TraceBuilder::default();
    for name in ["a", "b", "c"] {
        let (thread, lock, site) = (t.thread(name), t.lock(name, None), t.site("src/lib.rs", 3));
        t.hold(thread, lock, site, None, None);
        t.hold(thread, lock, site, None, None);
    }
    t.write(path);
    std::fs::read(path).unwrap()
}

const EVENTS: u8 = 6;

fn events_line(stdout: &str) -> &str {
    stdout.lines().find(|l| l.contains(" events;")).unwrap_or_else(|| panic!("a totals line in {stdout}"))
}

#[test]
fn a_duplicated_events_chunk_is_counted_once_with_a_warning() {
    let dir = temp_dir("duplicate-chunk");
    let path = dir.join("dup.lctrace");
    let bytes = three_batches(&path);
    let batches: Vec<_> = chunks(&bytes).into_iter().filter(|(k, _)| *k == EVENTS).collect();
    assert_eq!(batches.len(), 3);
    let second = batches[1].1.clone();
    let mut doubled = bytes[..second.end].to_vec();
    doubled.extend_from_slice(&bytes[second.clone()]);
    doubled.extend_from_slice(&bytes[second.end..]);
    std::fs::write(&path, doubled).unwrap();

    let stats = lockcheck(&["stats", path.to_str().unwrap()]);
    assert_eq!(stats.code, Some(0), "{stats:?}");
    assert!(events_line(&stats.stdout).contains("12 events"), "{}", stats.stdout);
    assert!(stats.stdout.contains("dup.lctrace: 1 events chunk appears more than once (read once)"), "{stats:?}");
}

#[test]
fn a_missing_events_chunk_is_named() {
    let dir = temp_dir("missing-chunk");
    let path = dir.join("gap.lctrace");
    let bytes = three_batches(&path);
    let batches: Vec<_> = chunks(&bytes).into_iter().filter(|(k, _)| *k == EVENTS).collect();
    let second = batches[1].1.clone();
    let mut cut = bytes[..second.start].to_vec();
    cut.extend_from_slice(&bytes[second.end..]);
    std::fs::write(&path, cut).unwrap();

    let stats = lockcheck(&["stats", path.to_str().unwrap()]);
    assert_eq!(stats.code, Some(0), "{stats:?}");
    assert!(events_line(&stats.stdout).contains("8 events"), "{}", stats.stdout);
    assert!(stats.stdout.contains("gap.lctrace: 1 events chunk is missing"), "{stats:?}");
}
