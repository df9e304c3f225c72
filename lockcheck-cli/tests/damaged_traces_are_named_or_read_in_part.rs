//! Bad input (DESIGN.md §8): a file that cannot be read at all is one error line naming it
//! and exit 2; a trace damaged after its preamble is analysed up to the damage, with a
//! warning naming it.

mod common;

use common::{lockcheck, temp_dir, TraceBuilder};
use lockcheck::trace::MAGIC;

/// A trace with a cycle closed inside it, as bytes.
fn trace_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut trace = TraceBuilder::default();
    let main = trace.thread("main");
    let a = trace.lock("a", None);
    let site = trace.site("src/a.rs", 3);
    for _ in 0..100 {
        trace.hold(main, a, site, Some(10), Some(20));
    }
    trace.edge("a", "b", "main", 1);
    trace.edge("b", "a", "main", 1);
    let path = dir.join("whole.lctrace");
    trace.write(&path);
    std::fs::read(path).unwrap()
}

#[test]
fn unreadable_files_are_one_line_and_exit_2() {
    let dir = temp_dir("damaged");
    let whole = trace_bytes(&dir);
    let mut wrong_version = whole.clone();
    wrong_version[8] = 99;
    let cases: [(&str, &[u8], &str); 4] = [
        ("empty", b"", "truncated at byte 0"),
        ("text", b"this is not a trace at all", "not a lockcheck trace"),
        ("version", &wrong_version, "unsupported trace format version 99"),
        ("preamble", &MAGIC[..5], "truncated"),
    ];
    for (name, bytes, problem) in cases {
        let path = dir.join(format!("{name}.lctrace"));
        std::fs::write(&path, bytes).unwrap();
        for subcommand in ["report", "check", "stats", "graph"] {
            let run = lockcheck(&[subcommand, path.to_str().unwrap()]);
            assert_eq!(run.code, Some(2), "{name} {subcommand}: {run:?}");
            assert_eq!(run.stderr.lines().count(), 1, "{name}: {}", run.stderr);
            let line = run.stderr.trim_end();
            assert!(line.starts_with(&format!("lockcheck: error: {}: ", path.display())), "{line}");
            assert!(line.contains(problem), "{name}: {line}");
        }
    }
}

#[test]
fn a_truncated_trace_is_analysed_up_to_the_cut_with_a_warning() {
    let dir = temp_dir("truncated");
    let whole = trace_bytes(&dir);
    let path = dir.join("cut.lctrace");
    std::fs::write(&path, &whole[..whole.len() - 3]).unwrap();
    let run = lockcheck(&["report", path.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "the cycle's edges came before the cut: {run:?}");
    let warning = format!("lockcheck: warning: {}: trace is truncated at byte", path.display());
    assert!(run.stdout.contains(&warning), "{}", run.stdout);
    assert!(run.stdout.contains("analysed up to there"), "{}", run.stdout);
}

#[test]
fn a_corrupted_chunk_ends_the_read_with_a_warning() {
    let dir = temp_dir("corrupt");
    let mut bytes = trace_bytes(&dir);
    let last = bytes.len() - 20;
    bytes[last] ^= 0xff;
    let path = dir.join("corrupt.lctrace");
    std::fs::write(&path, &bytes).unwrap();
    for subcommand in ["report", "stats"] {
        let run = lockcheck(&[subcommand, path.to_str().unwrap()]);
        assert!(matches!(run.code, Some(0 | 1)), "{run:?}");
        assert!(run.stdout.contains("trace is corrupt at byte"), "{subcommand}: {}", run.stdout);
    }
}
