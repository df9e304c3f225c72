//! A cycle accepted in `lockcheck.toml` (with its reason) is neither printed nor returned by
//! `report()`, and `assert_no_deadlocks()` passes; an unlisted cycle still fails.

use std::time::Duration;

use lockcheck::Mutex;
use lockcheck_tests::{child, traces::temp_dir};

fn abba(a: &Mutex<()>, b: &Mutex<()>) {
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    let _b = b.lock();
    let _a = a.lock();
}

fn scenario() {
    abba(&Mutex::named("accepted-a", ()), &Mutex::named("accepted-b", ()));
    lockcheck::assert_no_deadlocks();
    println!("accepted cycle passes");
    abba(&Mutex::named("unlisted-a", ()), &Mutex::named("unlisted-b", ()));
    let report = lockcheck::report();
    assert_eq!(report.findings.len(), 1, "{report}");
    assert!(report.to_string().contains("unlisted-a"), "{report}");
    println!("unlisted cycle reported");
}

#[test]
fn suppressed_findings_are_accepted_in_process() {
    if child::is_child() {
        return scenario();
    }
    let file = temp_dir("suppress").join("lockcheck.toml");
    std::fs::write(&file, "[[suppress]]\ncycle = [\"accepted-b\", \"accepted-a\"]\nreason = \"test only\"\n").unwrap();
    let env = [("LOCKCHECK_SUPPRESSIONS", file.to_str().unwrap())];
    let out = child::run("suppressed_findings_are_accepted_in_process", &env, Duration::from_secs(20));
    out.check(out.succeeded(), "the child passes");
    out.check(out.stdout.contains("accepted cycle passes"), "assert_no_deadlocks ignores the accepted cycle");
    out.check(out.stdout.contains("unlisted cycle reported"), "report() keeps the other one");
    out.check(!out.stderr.contains("accepted-a"), "the accepted cycle is not printed");
    out.check(out.stderr.contains("unlisted-a"), "the other one is");
}

#[test]
fn a_suppression_without_a_reason_is_a_warning_not_a_crash() {
    if child::is_child() {
        abba(&Mutex::named("reasonless-a", ()), &Mutex::named("reasonless-b", ()));
        assert_eq!(lockcheck::report().findings.len(), 1);
        return;
    }
    let file = temp_dir("suppress-bad").join("lockcheck.toml");
    std::fs::write(&file, "[[suppress]]\ncycle = [\"reasonless-a\", \"reasonless-b\"]\n").unwrap();
    let env = [("LOCKCHECK_SUPPRESSIONS", file.to_str().unwrap())];
    let out = child::run("a_suppression_without_a_reason_is_a_warning_not_a_crash", &env, Duration::from_secs(20));
    out.check(out.succeeded(), "the child passes: the finding stands");
    let warning = out.stderr.lines().find(|l| l.starts_with("lockcheck: warning: ignoring suppressions"));
    out.check(warning.is_some_and(|w| w.contains("no `reason`")), "one line says why the file is ignored");
}
