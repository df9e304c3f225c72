//! A trace written by an older lockcheck keeps reading the same: `report` and `stats` of
//! traces of the bank example against what they printed when their version was current:
//! version 3 (symbolised stacks, wait stacks, a class cycle) and version 5 (raw ring words;
//! its executable is gone, so its stacks are left out, as they were). `LOCKCHECK_BLESS=1`
//! re-blesses, which a format change must never need.

mod common;

use std::path::Path;

use common::{assert_fixture, lockcheck_in};

#[test]
fn a_version_3_trace_reports_and_counts_as_it_did() {
    reports_and_counts_as_it_did("bank-v3");
}

#[test]
fn a_version_5_trace_reports_and_counts_as_it_did() {
    reports_and_counts_as_it_did("bank-v5");
}

fn reports_and_counts_as_it_did(name: &str) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces");
    let run = |args: &[&str]| lockcheck_in(Some(&fixtures), args, &[]);
    let trace = format!("{name}.lctrace");

    let report = run(&["report", &trace]);
    assert_eq!(report.code, Some(1), "{report:?}");
    assert_fixture(&format!("{name}-report.txt"), &report.stdout);

    let stats = run(&["stats", &trace]);
    assert_eq!(stats.code, Some(0), "{stats:?}");
    assert_fixture(&format!("{name}-stats.txt"), &stats.stdout);
}
