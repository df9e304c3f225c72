//! Scenarios that really hang run in a child process: the test binary runs itself again with
//! [`SCENARIO`] set, so the watchdog's abort ends the child and the test reads its report.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Set in the child: the test function runs its scenario instead of spawning a child.
pub const SCENARIO: &str = "LOCKCHECK_TESTS_SCENARIO";

/// The watchdog threshold the scenarios run with.
pub const THRESHOLD_MS: u64 = 300;

/// Whether this process is a child running a scenario.
pub fn is_child() -> bool {
    std::env::var_os(SCENARIO).is_some()
}

/// How a child ended.
#[derive(Debug)]
pub struct Outcome {
    /// Its exit status (`None` when it was killed for running too long).
    pub status: Option<ExitStatus>,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
    /// Milliseconds from the moment it announced it was about to hang ([`blocking_now`]) to
    /// the moment it ended, measured against the wall clock.
    pub latency_ms: Option<u64>,
}

impl Outcome {
    /// Whether the child died from `SIGABRT` (on Unix; elsewhere: whether it failed).
    pub fn aborted(&self) -> bool {
        let Some(status) = self.status else { return false };
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            status.signal() == Some(6)
        }
        #[cfg(not(unix))]
        {
            !status.success()
        }
    }

    /// Whether the child exited normally with success.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// The `file:line:` sites the child announced with [`expect_site`].
    pub fn expected_sites(&self) -> Vec<String> {
        announced(&self.stdout, "expect-site ").map(|s| format!("{s}:")).collect()
    }

    /// How long the youngest wait in the watchdog's first report had lasted: the time from
    /// the moment the hang formed to the report.
    pub fn detected_after_ms(&self) -> Option<u64> {
        let report = self.stderr.split("lockcheck: ").find(|r| r.starts_with("DEADLOCK") || r.starts_with("STALL"))?;
        report
            .lines()
            .filter(|l| l.starts_with("thread `") && l.contains(" waits to "))
            .filter_map(|l| l.rsplit(", for ").next()?.strip_suffix(" ms")?.parse::<u64>().ok())
            .min()
    }

    /// Panics with the child's output unless `cond`.
    #[track_caller]
    pub fn check(&self, cond: bool, what: &str) {
        assert!(
            cond,
            "{what}\n--- status: {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.status, self.stdout, self.stderr
        );
    }
}

/// Runs the test `test` of this binary in a child with the watchdog at [`THRESHOLD_MS`] and
/// `env` set; kills it after `limit`.
pub fn run(test: &str, env: &[(&str, &str)], limit: Duration) -> Outcome {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, "1")
        .env("LOCKCHECK_WATCHDOG_MS", THRESHOLD_MS.to_string())
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary runs");
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let stdout = thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let stderr = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(2));
    };
    let ended = epoch_ms();
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    let latency_ms = announced(&stdout, "blocking-at-ms ")
        .filter_map(|ms| ms.parse::<u64>().ok())
        .max()
        .map(|at| ended.saturating_sub(at));
    Outcome { status, stdout, stderr, latency_ms }
}

/// What the child announced after `tag` (the harness may have printed on the same line).
fn announced<'a>(stdout: &'a str, tag: &'a str) -> impl Iterator<Item = &'a str> {
    stdout.lines().filter_map(move |l| l.split_once(tag)).filter_map(|(_, rest)| rest.split_whitespace().next())
}

/// In the child: announces a source site the report must name.
pub fn expect_site(file: &str, line: u32) {
    println!("expect-site {file}:{line}");
}

/// In the child: announces that the scenario is about to hang (for the latency measure).
pub fn blocking_now() {
    println!("blocking-at-ms {}", epoch_ms());
}

fn epoch_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
