//! `check` honours `lockcheck.toml`: a suppressed finding is listed with its reason and does
//! not fail; a suppression without a reason is a usage error.

mod common;

use common::{lockcheck, lockcheck_in, order_trace, temp_dir};

#[test]
fn a_suppressed_cycle_is_listed_with_its_reason_and_passes() {
    let dir = temp_dir("suppress");
    let traces = dir.join("traces");
    std::fs::create_dir(&traces).unwrap();
    order_trace(&traces, "one", "ledger", "accounts");
    order_trace(&traces, "two", "accounts", "ledger");
    let config = "[[suppress]]\ncycle = [\"accounts\", \"ledger\"]\nreason = \"audits run with transfers stopped\"\n";
    std::fs::write(dir.join("lockcheck.toml"), config).unwrap();

    // Found next to the input directory.
    let run = lockcheck(&["check", traces.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("suppressed: potential deadlock:"), "{}", run.stdout);
    assert!(run.stdout.contains("(reason: audits run with transfers stopped)"), "{}", run.stdout);

    // `report` shows everything; `--suppressions` names the file explicitly.
    assert_eq!(lockcheck(&["report", traces.to_str().unwrap()]).code, Some(1));
    let elsewhere = temp_dir("suppress-file").join("accepted.toml");
    std::fs::write(&elsewhere, config).unwrap();
    let run = lockcheck_in(Some(&traces), &["check", "--suppressions", elsewhere.to_str().unwrap(), "."], &[]);
    assert_eq!(run.code, Some(0), "{run:?}");

    let sarif = lockcheck(&["check", "--format", "sarif", traces.to_str().unwrap()]);
    let value: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(value["runs"][0]["results"][0]["suppressions"][0]["kind"], "external");
}

#[test]
fn a_suppression_without_a_reason_is_a_usage_error() {
    let dir = temp_dir("suppress-bad");
    let trace = order_trace(&dir, "one", "a", "b");
    let config = dir.join("lockcheck.toml");
    std::fs::write(&config, "[[suppress]]\ncycle = [\"a\", \"b\"]\n").unwrap();
    let run = lockcheck(&["check", trace.to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("lockcheck.toml: suppression 1 has no `reason`"), "{}", run.stderr);
}

#[test]
fn a_rank_suppression_matches_violations_acquiring_that_class() {
    let dir = temp_dir("suppress-rank");
    let trace = common::record("pipeline", &[]);
    let config = dir.join("accepted.toml");
    let text = "[[suppress]]\nrank = \"queue\"\nreason = \"requeue is single-threaded\"\n\
                [[suppress]]\ncycle = [\"store\", \"queue\"]\nreason = \"same requeue\"\n";
    std::fs::write(&config, text).unwrap();
    let run = lockcheck(&["check", "--suppressions", config.to_str().unwrap(), trace.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("suppressed: rank violation"), "{}", run.stdout);
}
