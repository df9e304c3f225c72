//! DESIGN.md §3/§8: whatever the bytes, every subcommand ends with 0, 1 or 2 and never
//! panics. Mutates a valid trace (byte flips, cuts, insertions) at deterministic positions.

mod common;

use common::{lockcheck, temp_dir, TraceBuilder};

#[test]
fn no_input_makes_lockcheck_panic() {
    let dir = temp_dir("mutations");
    let mut trace = TraceBuilder::default();
    let (a, b) = (trace.thread("a"), trace.thread("b"));
    let (x, y) = (trace.lock("x", Some(1)), trace.lock("y", None));
    let site = trace.site("src/x.rs", 1);
    for i in 0..50 {
        trace.hold(a, x, site, (i % 3 == 0).then_some(100), Some(10));
        trace.hold(b, y, site, Some(7), None);
    }
    trace.edge("x", "y", "a", 2);
    trace.edge("y", "x", "b", 1);
    let path = dir.join("valid.lctrace");
    trace.write(&path);
    let valid = std::fs::read(&path).unwrap();

    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |bound: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % bound as u64) as usize
    };
    for case in 0..60 {
        let mut bytes = valid.clone();
        match case % 3 {
            0 => {
                let at = next(bytes.len());
                bytes[at] ^= 1 << next(8);
            }
            1 => bytes.truncate(next(bytes.len())),
            _ => {
                let at = next(bytes.len());
                bytes.insert(at, next(256) as u8);
            }
        }
        let mutated = dir.join(format!("case-{case}.lctrace"));
        std::fs::write(&mutated, &bytes).unwrap();
        let file = mutated.to_str().unwrap();
        for args in [
            &["report", file][..],
            &["stats", file],
            &["graph", "--suggest-ranks", file],
            &["flamegraph", "--folded", file],
        ] {
            let run = lockcheck(args);
            assert!(matches!(run.code, Some(0..=2)), "case {case} {args:?}: {run:?}");
            assert!(!run.stderr.contains("internal error"), "case {case} {args:?}: {}", run.stderr);
        }
    }
}

#[test]
fn events_naming_undeclared_ids_are_counted_not_trusted() {
    let dir = temp_dir("undeclared");
    let mut trace = TraceBuilder::default();
    let main = trace.thread("main");
    trace.lock("x", None);
    // A lock id no declaration names, far past any dense table, and an unknown site.
    trace.hold(main, u32::MAX - 1, 999, Some(5), Some(5));
    trace.hold(77, 1, 1, Some(5), None);
    let path = dir.join("odd.lctrace");
    trace.write(&path);
    let file = path.to_str().unwrap();
    let stats = lockcheck(&["stats", file]);
    assert_eq!(stats.code, Some(0), "{stats:?}");
    assert!(stats.stdout.contains(&format!("lock #{}", u32::MAX - 1)), "{}", stats.stdout);
    assert!(stats.stdout.contains("site #999"), "{}", stats.stdout);
    for metric in ["wait", "hold"] {
        let folded = lockcheck(&["flamegraph", "--folded", "--metric", metric, file]);
        assert!(matches!(folded.code, Some(0 | 2)), "{folded:?}");
    }
}
