//! Running `trace_child` with a trace directory and reading back what it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use lockcheck::trace::{Event, TraceData};
use lockcheck_cli::symbolize::Symbolizer;

/// A fresh, empty directory under the system's temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("lockcheck-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What one run of the child left behind.
pub struct ChildRun {
    /// Its exit status and output.
    pub output: Output,
    /// The trace file it wrote.
    pub path: PathBuf,
}

impl ChildRun {
    /// The child's stdout as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
}

/// Runs `child` (the path of the `trace_child` binary) with `args` and `env`, tracing into a
/// fresh directory, and returns the one trace file it wrote.
pub fn run_child(child: &str, args: &[&str], env: &[(&str, &str)]) -> ChildRun {
    let dir = temp_dir(args[0]);
    let mut command = Command::new(child);
    command.args(args).env("LOCKCHECK_TRACE", format!("{}/", dir.display())).env("LOCKCHECK_ON_CYCLE", "ignore");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(
        files.len(),
        1,
        "one trace per process in {}: {files:?}\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let path = files.into_iter().next().unwrap();
    assert!(path.extension().is_some_and(|e| e == "lctrace"));
    ChildRun { output, path }
}

/// Loads a trace, collecting its events, its stacks symbolised as the CLI does it.
pub fn load(path: &Path) -> (TraceData, Vec<Event>) {
    let mut events = Vec::new();
    let mut data = TraceData::load_with(path, |_, e| events.push(*e)).unwrap();
    let warnings = Symbolizer::default().symbolize(&mut data);
    assert!(warnings.is_empty(), "{warnings:?}");
    (data, events)
}

/// The exact acquisition count of the lock class `label`, summed over its instances.
pub fn acquisitions(data: &TraceData, label: &str) -> u64 {
    data.counters
        .iter()
        .filter(|(lock, _)| data.class_of(**lock).is_some_and(|c| c.label == label))
        .map(|(_, c)| c.acquisitions)
        .sum()
}

/// The thread id named `name`.
pub fn thread(data: &TraceData, name: &str) -> u32 {
    *data.threads.iter().find(|(_, n)| *n == name).unwrap_or_else(|| panic!("no thread {name} in {:?}", data.threads)).0
}
