//! The hotspot example's contention flamegraph: a well-formed SVG naming the function where
//! threads waited (`record_sample`, from its wait stacks).

mod common;

use common::{lockcheck, record, temp_dir, well_formed};

#[test]
fn flamegraph_is_an_svg_naming_the_hot_function() {
    let traces = record("hotspot", &[]);
    let out = temp_dir("flame").join("contention.svg");
    let run = lockcheck(&["flamegraph", traces.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    well_formed(&svg).unwrap();
    assert!(svg.contains("record_sample"), "the waiting function is a frame");
    assert!(svg.contains("lock:stats"), "the lock tops the stack");
    assert!(svg.contains(">all lock waits (ns)</text>"), "the root frame says what the graph weighs");

    let folded = lockcheck(&["flamegraph", traces.to_str().unwrap(), "--folded"]);
    assert_eq!(folded.code, Some(0), "{folded:?}");
    for line in folded.stdout.lines() {
        let (stack, weight) = line.rsplit_once(' ').unwrap();
        assert!(weight.parse::<u64>().unwrap() > 0, "{line}");
        assert!(stack.ends_with("lock:stats") || stack.ends_with("lock:config"), "{line}");
    }

    let holders = lockcheck(&["flamegraph", traces.to_str().unwrap(), "--folded", "--metric", "hold"]);
    assert_eq!(holders.code, Some(0), "{holders:?}");
    assert!(
        holders.stdout.lines().any(|l| l.starts_with("worker-") && l.contains("hotspot.rs:")),
        "{}",
        holders.stdout
    );
}
