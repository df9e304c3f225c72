//! A trace written by an older lockcheck keeps reading the same: `report` and `stats` of a
//! version 3 trace of the bank example (symbolised stacks, wait stacks, a class cycle) against
//! what they printed when version 3 was current. `LOCKCHECK_BLESS=1` re-blesses, which a
//! format change must never need.

mod common;

use std::path::Path;

use common::{assert_fixture, lockcheck_in};

#[test]
fn a_version_3_trace_reports_and_counts_as_it_did() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces");
    let run = |args: &[&str]| lockcheck_in(Some(&fixtures), args, &[]);

    let report = run(&["report", "bank-v3.lctrace"]);
    assert_eq!(report.code, Some(1), "{report:?}");
    assert_fixture("bank-v3-report.txt", &report.stdout);

    let stats = run(&["stats", "bank-v3.lctrace"]);
    assert_eq!(stats.code, Some(0), "{stats:?}");
    assert_fixture("bank-v3-stats.txt", &stats.stdout);
}
