//! The hotspot example's contention flamegraph: a well-formed SVG naming the function where
//! threads waited (`record_sample`, from its wait stacks).

mod common;

use common::{lockcheck, record, temp_dir};

/// Reads every XML event of `text`: quick-xml fails on unbalanced or mismatched tags.
fn well_formed(text: &str) -> Result<(), quick_xml::Error> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0i64;
    loop {
        match reader.read_event()? {
            quick_xml::events::Event::Start(_) => depth += 1,
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "every element is closed");
    Ok(())
}

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

#[test]
fn nothing_to_draw_is_an_error_not_an_empty_picture() {
    let traces = record("pipeline", &[]);
    let run = lockcheck(&["flamegraph", traces.to_str().unwrap(), "-o", "/dev/null"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("nothing to draw"), "{}", run.stderr);
}
