use std::process::Command;

/// Without `LOCKCHECK_TRACE` the recorder is off: a tiny ring never fills, nothing is lost,
/// and no file appears.
#[test]
fn nothing_is_recorded_without_a_trace() {
    let dir = lockcheck_tests::traces::temp_dir("untraced");
    let output = Command::new(env!("CARGO_BIN_EXE_trace_child"))
        .args(["burst", "20000"])
        .current_dir(&dir)
        .env_remove("LOCKCHECK_TRACE")
        .env("LOCKCHECK_RING", "16")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "events_lost=0");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}
