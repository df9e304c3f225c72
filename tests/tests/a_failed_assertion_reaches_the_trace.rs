//! A failed held-lock assertion is a finding like the others: written into the trace, where
//! `lockcheck check` finds it and fails.

use lockcheck::{Assertion, Finding};
use lockcheck_tests::traces::{acquisitions, load, run_child};

#[test]
fn a_failed_assertion_reaches_the_trace() {
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["assert"], &[]);
    assert!(run.output.status.success());
    let (data, _) = load(&run.path);
    assert_eq!(acquisitions(&data, "child-asserted"), 1, "a std-style lock is recorded like any other");
    let failed: Vec<_> = data
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::FailedAssertion(a) => Some(a),
            _ => None,
        })
        .collect();
    let [failed] = failed.as_slice() else { panic!("one failed assertion: {:?}", data.findings) };
    assert_eq!(failed.assertion, Assertion::NotHeld);
    assert_eq!(failed.lock.as_ref().map(|l| l.class.as_str()), Some("child-asserted"));
    assert!(failed.site.file.ends_with("trace_child.rs"));
    assert!(data.findings.iter().any(Finding::is_failure), "it fails `lockcheck check`");
}
