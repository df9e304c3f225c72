//! `lockcheck stress`: each failed run is listed with its seed, why it failed (a deadlock the
//! watchdog reported, a hang past the timeout, a non-zero exit) and the command line that runs
//! its seed again; any failure exits 1.

mod common;

use common::{example, lockcheck, lockcheck_in};

#[test]
fn a_deadlock_is_listed_with_its_seed_and_the_merged_report() {
    let stuck = example("stuck");
    let run = lockcheck(&["stress", "--runs", "2", "--seed", "40", "--timeout", "3", "--", stuck.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("lockcheck: stress: 2 of 2 runs (seeds 40 to 41) failed"), "{}", run.stdout);
    assert!(run.stdout.contains("run 1, seed 40: deadlock: reported by the watchdog"), "{}", run.stdout);
    let rerun = format!("re-run: LOCKCHECK_STRESS=41 LOCKCHECK_WATCHDOG_MS=1000 {}", stuck.display());
    assert!(run.stdout.contains(&rerun), "{}", run.stdout);
    // Both runs' deadlocks are the same one: reported once.
    assert_eq!(run.stdout.matches("lockcheck: DEADLOCK").count(), 1, "{}", run.stdout);
}

#[test]
fn a_hang_is_killed_at_the_timeout_with_everything_it_started() {
    let pid_file = common::temp_dir("stress-hang").join("background.pid");
    let script = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
    let started = std::time::Instant::now();
    let run = lockcheck(&["stress", "--runs", "1", "--seed", "3", "--timeout", "0.5", "--", "sh", "-c", &script]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(started.elapsed().as_secs() < 20, "the run was not killed at its timeout");
    assert!(run.stdout.contains("run 1, seed 3: hung: still running at the timeout, killed"), "{}", run.stdout);
    let rerun = format!("re-run: LOCKCHECK_STRESS=3 LOCKCHECK_WATCHDOG_MS=166 sh -c '{script}'");
    assert!(run.stdout.contains(&rerun), "{}", run.stdout);
    // The shell's own child went with it: the whole process group was killed.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let proc = std::path::Path::new("/proc").join(pid.trim());
    let gone = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(20));
        !proc.exists()
    });
    assert!(gone || !cfg!(target_os = "linux"), "{} still runs", proc.display());
}

#[test]
fn a_failing_exit_is_listed_in_json_with_its_seed() {
    let run = lockcheck_in(
        None,
        &["stress", "--runs", "2", "--seed", "9", "--format", "json", "--", "sh", "-c", "exit 3"],
        &[("LOCKCHECK_WATCHDOG_MS", "700")],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(json["failed"], 2);
    assert_eq!(json["runs"][1]["seed"], 10);
    assert_eq!(json["runs"][1]["exit_code"], 3);
    assert_eq!(json["runs"][1]["rerun"], "LOCKCHECK_STRESS=10 LOCKCHECK_WATCHDOG_MS=700 sh -c 'exit 3'");
}
