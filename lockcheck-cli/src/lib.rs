//! The `lockcheck` command's library: everything the binary does, callable from tests.
//!
//! `main.rs` only parses arguments and maps results to exit codes; the analysis of traces
//! (`report`, `check`, `stats`, `flamegraph`, `graph`, `run`) lives here.

pub mod format;
