//! A `LOCKCHECK_TRACE` that cannot be written is one warning line that names the path (the
//! directory that could not be created, or the file that could not be opened), and the
//! program runs on untraced.

use std::path::Path;
use std::process::Command;

/// Runs a short burst with `LOCKCHECK_TRACE=target` and returns its stderr.
fn warning_for(target: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_trace_child"))
        .args(["burst", "100"])
        .env("LOCKCHECK_TRACE", target)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "the program runs on untraced: {stderr}");
    stderr
}

#[test]
fn a_directory_that_cannot_be_created_is_named() {
    let stderr = warning_for("/proc/x/");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("lockcheck: warning: not recording")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("/proc/x"), "the warning names the path: {stderr}");
}

#[test]
fn a_directory_below_a_file_is_named() {
    let dir = lockcheck_tests::traces::temp_dir("trace-below-file");
    let file = dir.join("plain-file");
    std::fs::write(&file, "not a directory").unwrap();
    let target = format!("{}/", Path::new(&file).join("traces").display());
    let stderr = warning_for(&target);
    assert!(stderr.contains(&format!("{}", file.join("traces").display())), "the warning names the path: {stderr}");
}
