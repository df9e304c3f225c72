use lockcheck::{Finding, Mutex};

#[test]
fn abba_is_a_potential_deadlock() {
    let a = Mutex::named("smoke-a", ());
    let b = Mutex::named("smoke-b", ());
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    let report = lockcheck::report();
    println!("{report}");
    assert!(report.findings.iter().any(|f| matches!(f, Finding::PotentialDeadlock(_))));
}
