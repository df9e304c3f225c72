//! `LOCKCHECK=0` switches instrumentation off at run time; a bad value of any setting is one
//! warning line on stderr and the default, never a panic.

use std::time::Duration;

use lockcheck::Mutex;
use lockcheck_tests::child;

fn abba() -> usize {
    let (a, b) = (Mutex::named("env-a", ()), Mutex::named("env-b", ()));
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    let _b = b.lock();
    let _a = a.lock();
    lockcheck::report().findings.len()
}

#[test]
fn lockcheck_0_switches_checks_off() {
    if child::is_child() {
        println!("findings: {}", abba());
        println!("held while holding: {}", {
            let m = Mutex::named("env-held", ());
            let _g = m.lock();
            lockcheck::held_locks().len()
        });
        return;
    }
    let out = child::run("lockcheck_0_switches_checks_off", &[("LOCKCHECK", "0")], Duration::from_secs(20));
    out.check(out.succeeded(), "the child passes");
    out.check(out.stdout.contains("findings: 0"), "nothing is checked");
    out.check(out.stdout.contains("held while holding: 0"), "nothing is tracked");
    out.check(!out.stderr.contains("POTENTIAL DEADLOCK"), "nothing is printed");
}

#[test]
fn bad_values_warn_once_and_keep_the_defaults() {
    if child::is_child() {
        println!("findings: {}", abba());
        return;
    }
    let env = [("LOCKCHECK_ON_CYCLE", "explode"), ("LOCKCHECK_WATCHDOG_MS", "soon"), ("LOCKCHECK_RING", "-3")];
    let out = child::run("bad_values_warn_once_and_keep_the_defaults", &env, Duration::from_secs(20));
    out.check(out.succeeded(), "no panic");
    for key in ["LOCKCHECK_ON_CYCLE=explode", "LOCKCHECK_WATCHDOG_MS=soon", "LOCKCHECK_RING=-3"] {
        let lines: Vec<&str> = out.stderr.lines().filter(|l| l.contains(key)).collect();
        out.check(
            lines.len() == 1 && lines[0].starts_with("lockcheck: warning: ignoring"),
            &format!("one warning for {key}"),
        );
    }
    out.check(out.stdout.contains("findings: 1"), "checks still run");
    out.check(out.stderr.contains("POTENTIAL DEADLOCK"), "the default, warn, printed the finding");
}
