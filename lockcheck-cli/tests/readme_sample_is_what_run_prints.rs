//! The README's sample report (under "Try it") is what `lockcheck run --flamegraph bank.svg --
//! bank` prints: stderr's first line, then stdout (the bank's own line and the report), then
//! the rest of stderr, as a terminal shows them.
//!
//! What a run may change is set aside on both sides before comparing: the trace directory,
//! which teller took `account` then `ledger` first, and, when the README and this run differ
//! in it, whether the cycle was found in the instance or the class graph (with the class
//! graph's note). Everything else must match line for line.

mod common;

use std::path::Path;

use common::{example, lockcheck_in, temp_dir};

/// The first ```text block after the README's "## Try it".
fn readme_sample() -> String {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(readme).unwrap();
    let try_it = &readme[readme.find("## Try it").expect("a Try it section")..];
    let start = try_it.find("```text\n").expect("a text block") + "```text\n".len();
    let len = try_it[start..].find("```\n").expect("the block ends");
    try_it[start..start + len].to_owned()
}

/// `text` with what varies between runs replaced; with `any_graph`, also the graph the cycle
/// was found in, and the notes that come with it.
fn normalised(text: &str, any_graph: bool) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut in_notes = false;
    for line in text.lines() {
        if any_graph && line == "notes:" {
            // The block and the blank line that opens it.
            if lines.last().is_some_and(|l| l.is_empty()) {
                lines.pop();
            }
            in_notes = true;
            continue;
        }
        if in_notes {
            in_notes = line.starts_with("  - ");
            if in_notes {
                continue;
            }
        }
        // Release builds inline frames: stacks are compared in debug builds, as the README shows.
        if !cfg!(debug_assertions) && (line.starts_with("      #") || line.ends_with("stack (innermost first):")) {
            continue;
        }
        let mut line = match line.split_once(" into ").or_else(|| line.split_once(" kept in ")) {
            Some((head, _)) if line.starts_with("lockcheck: trac") => format!("{head} <trace dir>"),
            _ => line.to_owned(),
        };
        line = teller_n(&line);
        if any_graph {
            for (graph, meaning) in [("instance", "these very locks"), ("class", "locks of these classes, in any run")]
            {
                line = line.replace(&format!("{graph} graph: {meaning}"), "<graph>");
                line = line.replace(&format!(", {graph} graph)"), ", <graph>)");
            }
        }
        lines.push(line);
    }
    lines.join("\n")
}

/// `teller-3` → `teller-N`, anywhere in `line`.
fn teller_n(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("teller-") {
        out += &rest[..at + "teller-".len()];
        rest = rest[at + "teller-".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('N');
    }
    out + rest
}

fn in_instance_graph(text: &str) -> bool {
    text.contains("\ninstance graph: ")
}

#[test]
fn readme_sample_is_what_run_prints() {
    let svg = temp_dir("readme").join("bank.svg");
    let bank = example("bank");
    let args = ["run", "--flamegraph", svg.to_str().unwrap(), "--", bank.to_str().unwrap()];
    // From the workspace's root, as the README's command runs: stack frames' files are
    // shown relative to the current directory.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let run = lockcheck_in(Some(root), &args, &[]);
    assert_eq!(run.code, Some(1), "the README says it exits 1: {run:?}");
    assert!(svg.is_file(), "and draws bank.svg");
    let (first, rest) = run.stderr.split_once('\n').unwrap_or((&run.stderr, ""));
    let printed = format!("{first}\n{}{rest}", run.stdout);

    let sample = readme_sample();
    let any_graph = in_instance_graph(&sample) != in_instance_graph(&printed);
    let (expected, actual) = (normalised(&sample, any_graph), normalised(&printed, any_graph));
    if expected != actual {
        let first_difference = expected.lines().zip(actual.lines()).position(|(e, a)| e != a);
        panic!(
            "the README's sample (first) is not what `run` prints (second); first differing line: \
             {first_difference:?}\n--- README:\n{expected}\n--- printed:\n{actual}\n--- raw output:\n{printed}"
        );
    }
}

#[test]
fn normalising_sets_aside_only_what_varies() {
    assert_eq!(teller_n("thread teller-3 and teller-12"), "thread teller-N and teller-N");
    let class = "class graph: locks of these classes, in any run\nx\n\nnotes:\n  - found by class\n\nSUMMARY: a (2 locks, class graph) at b";
    let instance = "instance graph: these very locks\nx\n\nSUMMARY: a (2 locks, instance graph) at b";
    assert_eq!(normalised(class, true), normalised(instance, true));
    assert_ne!(normalised(class, false), normalised(instance, false));
    assert_ne!(normalised(class, true), normalised(&instance.replace('x', "y"), true));
}
