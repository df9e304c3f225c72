//! Any bytes as a trace: read in memory by the library's reader, then written to a file and
//! read and analysed by every subcommand, as the hardening test does with its mutations
//! (`lockcheck-cli/tests/mutated_traces_never_panic_any_subcommand.rs`). Nothing may panic.
//! `.ci/run` seeds it with real traces and runs it briefly when cargo-fuzz is installed.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lockcheck::trace::{TraceData, TraceReader};

#[path = "../../lockcheck-cli/tests/common/every_subcommand.rs"]
mod every_subcommand;

/// This process's scratch file for the subcommands, which read paths.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| std::env::temp_dir().join(format!("lockcheck-fuzz-{}.lctrace", std::process::id())))
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(reader) = TraceReader::new(bytes) {
        if let Ok(data) = TraceData::read_with(reader, |_, _| {}) {
            let _ = data.events_lost();
        }
    }
    if std::fs::write(scratch(), bytes).is_ok() {
        every_subcommand::every_subcommand(scratch(), true);
    }
});
