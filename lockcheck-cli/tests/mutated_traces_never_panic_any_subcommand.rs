//! Thousands of mutations of real traces — bit flips (some behind a recomputed checksum, so
//! the decoders see them), truncations, duplicated, dropped and re-ordered chunks, huge
//! length fields — go through every subcommand's loading and analysis, in-process (the
//! library functions `main` calls, every output format): none may panic, and each either
//! reads (exit 0 or 1) or fails with an error (exit 2). A few go through the binary itself.
//! The seed is fixed, so a failure names a mutation that reproduces.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use common::every_subcommand::every_subcommand;
use common::{lockcheck, record, temp_dir};

/// A small deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PREAMBLE: usize = 12;
const FRAME: usize = 9;

/// The byte ranges of a trace's chunks (frame and payload), as far as they are well framed.
fn chunks(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut at = PREAMBLE;
    while at + FRAME <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
        let end = at + FRAME + len;
        if end > bytes.len() {
            break;
        }
        out.push(at..end);
        at = end;
    }
    out
}

/// One mutation of `trace`, and what it was.
fn mutate(trace: &[u8], rng: &mut Rng) -> (Vec<u8>, String) {
    let mut bytes = trace.to_vec();
    let spans = chunks(trace);
    let pick = |rng: &mut Rng| spans[rng.below(spans.len())].clone();
    match rng.below(7) {
        0 => {
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
            (bytes, format!("bit flip at {at}"))
        }
        1 => {
            // A flip inside a payload, its checksum recomputed: the decoders see it.
            let chunk = pick(rng);
            if chunk.len() == FRAME {
                return (bytes, "nothing (an empty chunk)".into());
            }
            let at = chunk.start + FRAME + rng.below(chunk.len() - FRAME);
            bytes[at] ^= 1 << rng.below(8);
            let sum = crc32fast::hash(&bytes[chunk.start + FRAME..chunk.end]);
            bytes[chunk.start + 5..chunk.start + 9].copy_from_slice(&sum.to_le_bytes());
            (bytes, format!("checksummed flip at {at}"))
        }
        2 => {
            let len = rng.below(bytes.len());
            bytes.truncate(len);
            (bytes, format!("truncated to {len}"))
        }
        3 => {
            let chunk = pick(rng);
            let at = spans[rng.below(spans.len())].end;
            let copy = trace[chunk.clone()].to_vec();
            bytes.splice(at..at, copy);
            (bytes, format!("chunk {chunk:?} copied to {at}"))
        }
        4 => {
            let chunk = pick(rng);
            bytes.drain(chunk.clone());
            (bytes, format!("chunk {chunk:?} dropped"))
        }
        5 => {
            // Two chunks swapped.
            let (a, b) = (pick(rng), pick(rng));
            let (first, second) = if a.start <= b.start { (a, b) } else { (b, a) };
            if first == second {
                return (bytes, "nothing (a chunk swapped with itself)".into());
            }
            let mut out = trace[..first.start].to_vec();
            out.extend_from_slice(&trace[second.clone()]);
            out.extend_from_slice(&trace[first.end..second.start]);
            out.extend_from_slice(&trace[first.clone()]);
            out.extend_from_slice(&trace[second.end..]);
            (out, format!("chunks {first:?} and {second:?} swapped"))
        }
        _ => {
            let chunk = pick(rng);
            let len: u32 = match rng.below(4) {
                0 => u32::MAX,
                1 => lockcheck::trace::MAX_CHUNK_LEN,
                2 => lockcheck::trace::MAX_CHUNK_LEN + 1,
                _ => (chunk.len() - FRAME) as u32 + 1 + rng.below(1 << 20) as u32,
            };
            bytes[chunk.start + 1..chunk.start + 5].copy_from_slice(&len.to_le_bytes());
            (bytes, format!("chunk at {} claims {len} bytes", chunk.start))
        }
    }
}

/// The real traces mutated: the version 3 and 5 fixtures, and a trace of the bank example
/// recorded now (stacks off: symbolising the example's binary in every round would cost most
/// of the time), each with every chunk but its events after the first few, so that a round
/// reads a few kilobytes (the whole fixture took 120 ms a round in a debug build).
fn real_traces() -> Vec<(String, Vec<u8>)> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces");
    let dir = record("bank", &[("LOCKCHECK_STACKS", "0")]);
    let recorded: PathBuf = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    let few_events = |trace: Vec<u8>| {
        let mut out = trace[..PREAMBLE].to_vec();
        let mut batches = 0;
        for chunk in chunks(&trace) {
            let events = [EVENTS, RAW_EVENTS].contains(&trace[chunk.start]);
            if events && (batches == 3 || chunk.len() > 2048) {
                continue;
            }
            batches += usize::from(events);
            out.extend_from_slice(&trace[chunk]);
        }
        out
    };
    vec![
        ("bank-v3".into(), few_events(std::fs::read(fixtures.join("bank-v3.lctrace")).unwrap())),
        ("bank-v5".into(), few_events(std::fs::read(fixtures.join("bank-v5.lctrace")).unwrap())),
        ("bank-recorded".into(), few_events(std::fs::read(recorded).unwrap())),
    ]
}

/// The kind bytes of an events chunk and a raw events chunk.
const EVENTS: u8 = 6;
const RAW_EVENTS: u8 = 17;

/// Mutations per real trace, in-process.
const ROUNDS: usize = 1000;
/// Rounds between two that render every output too (SVG and SARIF take most of a round's
/// time in a debug build; a test of a few seconds renders one round in this many).
const RENDER_EVERY: usize = 8;

#[test]
fn mutated_traces_never_panic_in_process() {
    let dir = temp_dir("mutated");
    let path = dir.join("mutated.lctrace");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (name, trace) in real_traces() {
        assert!(chunks(&trace).len() > 10, "{name} is a real trace");
        for round in 0..ROUNDS {
            let (bytes, what) = mutate(&trace, &mut rng);
            std::fs::write(&path, &bytes).unwrap();
            let render = round % RENDER_EVERY == 0;
            let outcome = catch_unwind(AssertUnwindSafe(|| every_subcommand(&path, render)));
            assert!(outcome.is_ok(), "{name}, round {round}: {what} made a subcommand panic");
        }
    }
}

#[test]
fn mutated_traces_exit_0_1_or_2_from_the_binary() {
    let dir = temp_dir("mutated-bin");
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for (name, trace) in real_traces() {
        for round in 0..4 {
            let (bytes, what) = mutate(&trace, &mut rng);
            let path = dir.join(format!("{name}-{round}.lctrace"));
            std::fs::write(&path, &bytes).unwrap();
            let path = path.to_str().unwrap();
            for args in [
                &["report", path][..],
                &["check", "--format", "sarif", path],
                &["stats", path],
                &["flamegraph", "--folded", path],
                &["graph", "--suggest-ranks", "--format", "json", path],
            ] {
                // `lockcheck` asserts that nothing panicked.
                let run = lockcheck(args);
                assert!(matches!(run.code, Some(0..=2)), "{name}, {what}: {args:?} exited {:?}: {run:?}", run.code);
            }
        }
    }
}
