//! Piping into a reader that stops early (`| head`) ends lockcheck quietly, with status 0.

mod common;

use std::process::{Command, Stdio};

use common::{temp_dir, TraceBuilder};

#[test]
fn broken_pipes_exit_quietly() {
    let dir = temp_dir("pipe");
    let mut trace = TraceBuilder::default();
    let main = trace.thread("main");
    let site = trace.site("src/main.rs", 1);
    // Enough rows to overflow any pipe buffer.
    for i in 0..5_000 {
        let lock = trace.lock(&format!("lock-number-{i:05}-with-a-long-name-to-fill-the-pipe"), None);
        trace.hold(main, lock, site, Some(1), None);
    }
    let path = dir.join("many.lctrace");
    trace.write(&path);

    let mut child = Command::new(env!("CARGO_BIN_EXE_lockcheck"))
        .args(["stats", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
}
