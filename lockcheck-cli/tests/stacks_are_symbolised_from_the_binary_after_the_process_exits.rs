//! A traced process never symbolises for its trace: it writes its stacks as code addresses
//! with the objects they lie in, and exits without loading its debug info. `lockcheck report`
//! symbolises them afterwards, from the binary on disk.

mod common;

use common::{lockcheck, record};
use lockcheck::trace::{Chunk, TraceReader};

#[test]
fn stacks_are_symbolised_from_the_binary_after_the_process_exits() {
    let dir = record("bank", &[]);
    let trace = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    let chunks: Vec<Chunk> = TraceReader::open(&trace).unwrap().map(Result::unwrap).collect();
    let raw = chunks.iter().filter(|c| matches!(c, Chunk::RawStack(_))).count();
    let modules: Vec<&str> = chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::Module(m) => Some(m.path.as_str()),
            _ => None,
        })
        .collect();
    assert!(raw >= 2, "the two orders' stacks, at least: {raw}");
    assert!(modules.iter().any(|m| m.ends_with("bank")), "the executable is declared: {modules:?}");
    assert!(!chunks.iter().any(|c| matches!(c, Chunk::Stack(_))), "nothing symbolised in the process");

    let report = lockcheck(&["report", dir.to_str().unwrap()]);
    assert_eq!(report.code, Some(1), "{report:?}");
    for frame in ["bank::Bank::audit", "bank::Bank::transfer", "examples/src/bin/bank.rs:"] {
        assert!(report.stdout.contains(frame), "{frame} in\n{}", report.stdout);
    }
    assert!(!report.stderr.contains("left out"), "every module symbolised: {}", report.stderr);
}

#[test]
fn a_rebuilt_binary_leaves_its_frames_out_with_a_warning() {
    let dir = record("bank", &[]);
    let trace = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    let mut data = lockcheck::trace::TraceData::load(&trace).unwrap();
    for module in data.modules.values_mut() {
        module.build_id = vec![0; 20];
    }
    let warnings = lockcheck_cli::symbolize::Symbolizer::default().symbolize(&mut data);
    assert!(warnings.iter().any(|w| w.contains("another build")), "{warnings:?}");
    assert!(data.stacks.values().all(Vec::is_empty), "no frame from the wrong debug info: {:?}", data.stacks);
}
