//! `lockcheck stress -- <command>`: runs a command many times in stress mode, each run with
//! its own seed (`LOCKCHECK_STRESS`), the watchdog on and a time limit, so that an
//! interleaving a plain run almost never meets turns up as a failed run with the seed that
//! makes it again.

use std::ffi::OsString;
use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};
use lockcheck::trace::TraceData;
use lockcheck::Finding;
use serde_json::{json, Value};

use crate::check::{CheckOptions, Checked};
use crate::run::{check_traces, split_command, trace_dir, traced_command};
use crate::{Error, Verdict};

/// The watchdog threshold's ceiling when it is derived from the timeout.
const WATCHDOG_MAX_MS: u64 = 10_000;

/// What `stress` runs and how.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StressOptions {
    /// The command and its arguments. Default: empty (an error).
    pub command: Vec<OsString>,
    /// How many runs. Default: 20.
    pub runs: u32,
    /// The first run's seed; run `i` gets `seed + i`. Default: `None`, taken from the clock.
    pub seed: Option<u64>,
    /// A run still alive after this long is killed (with every process it started) and
    /// counts as hung. Default: 60 s.
    pub timeout: Duration,
    /// Where the traces and each run's output go. Default: `None`, a fresh directory under
    /// the system's temporary directory. Kept afterwards either way.
    pub trace_dir: Option<PathBuf>,
    /// How the traces are checked. Default: [`CheckOptions::default`].
    pub check: CheckOptions,
    /// Show a progress bar on stderr (only ever drawn on a terminal). Default: `false`.
    pub progress: bool,
}

impl Default for StressOptions {
    fn default() -> StressOptions {
        StressOptions {
            command: Vec::new(),
            runs: 20,
            seed: None,
            timeout: Duration::from_secs(60),
            trace_dir: None,
            check: CheckOptions::default(),
            progress: false,
        }
    }
}

/// `--runs`: a count of at least 1.
pub fn parse_runs(text: &str) -> Result<u32, Error> {
    match text.trim().parse::<u32>() {
        Ok(0) => Err(Error::Option { option: "--runs", message: "at least one run is needed".to_owned() }),
        Ok(runs) => Ok(runs),
        Err(_) => Err(Error::Option { option: "--runs", message: format!("`{text}` is not a number of runs") }),
    }
}

/// `--seed`: a decimal `u64`, as `LOCKCHECK_STRESS` takes it.
pub fn parse_seed(text: &str) -> Result<u64, Error> {
    text.trim().parse::<u64>().map_err(|_| Error::Option {
        option: "--seed",
        message: format!("`{text}` is not a seed (a whole number from 0 to {})", u64::MAX),
    })
}

/// `--timeout`: seconds, more than 0.
pub fn parse_timeout(text: &str) -> Result<Duration, Error> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| Error::Option { option: "--timeout", message: format!("`{text}` is not a number of seconds") })
}

/// How one run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It exited, or a signal ended it.
    Exited(ExitStatus),
    /// It was still alive at the timeout and was killed.
    Hung,
}

/// One run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StressRun {
    /// Its number, from 1.
    pub number: u32,
    /// Its seed.
    pub seed: u64,
    /// How it ended.
    pub ended: Ended,
    /// Whether its trace holds a deadlock the watchdog reported.
    pub deadlocked: bool,
    /// Its first panic, as the panic hook printed it (`thread '…' panicked at …: message`).
    pub panic: Option<String>,
    /// Its standard output and error.
    pub log: PathBuf,
}

impl StressRun {
    /// Whether the run failed: exited non-zero, aborted, hung.
    pub fn failed(&self) -> bool {
        !matches!(self.ended, Ended::Exited(status) if status.success())
    }

    /// What went wrong, in words (`None` for a run that passed).
    pub fn failure(&self) -> Option<String> {
        if !self.failed() {
            return None;
        }
        Some(match self.ended {
            Ended::Hung if self.deadlocked => {
                "deadlock: reported by the watchdog, then killed at the timeout".to_owned()
            }
            Ended::Hung => "hung: still running at the timeout, killed".to_owned(),
            Ended::Exited(_) if self.deadlocked => {
                "deadlock: reported by the watchdog, which aborted the run".to_owned()
            }
            Ended::Exited(status) => match &self.panic {
                Some(panic) => format!("failed ({status}): {panic}"),
                None => format!("failed ({status})"),
            },
        })
    }
}

/// Everything `stress` did.
#[derive(Debug)]
#[non_exhaustive]
pub struct StressOutcome {
    /// Where the traces and logs are.
    pub trace_dir: PathBuf,
    /// The command, as given.
    pub command: Vec<OsString>,
    /// The watchdog threshold the runs had.
    pub watchdog_ms: u64,
    /// Every run, in order.
    pub runs: Vec<StressRun>,
    /// The merged check of every run's traces; `None` when no run wrote one and some failed.
    pub checked: Option<Checked>,
}

impl StressOutcome {
    /// The runs that failed.
    pub fn failed(&self) -> impl Iterator<Item = &StressRun> {
        self.runs.iter().filter(|r| r.failed())
    }

    /// Findings when a run failed or the merged check found something.
    pub fn verdict(&self) -> Verdict {
        let found = self.checked.as_ref().is_some_and(|c| c.verdict() == Verdict::Findings);
        Verdict::from_failing(found || self.failed().next().is_some())
    }

    /// What to say when no run wrote a trace (they all failed before one could be written).
    pub fn missing_traces(&self) -> Option<String> {
        self.checked
            .is_none()
            .then(|| format!("{}: no run wrote a trace: {}", self.trace_dir.display(), crate::run::no_trace_hint()))
    }

    /// The command line that runs `run`'s seed again, outside `lockcheck stress`.
    pub fn rerun(&self, run: &StressRun) -> String {
        let mut line = format!("LOCKCHECK_STRESS={} LOCKCHECK_WATCHDOG_MS={}", run.seed, self.watchdog_ms);
        for word in &self.command {
            line.push(' ');
            line.push_str(&shell_quoted(&word.to_string_lossy()));
        }
        line
    }

    /// The runs, failed ones first with their seeds and how to re-run them: for people.
    pub fn render_text(&self) -> String {
        let seeds = match (self.runs.first(), self.runs.last()) {
            (Some(first), Some(last)) if first.seed != last.seed => format!("seeds {} to {}", first.seed, last.seed),
            (Some(first), _) => format!("seed {}", first.seed),
            _ => "no seed".to_owned(),
        };
        let failed: Vec<&StressRun> = self.failed().collect();
        let mut out = match failed.len() {
            0 => format!("lockcheck: stress: {} runs ({seeds}), none failed\n", self.runs.len()),
            n => format!("lockcheck: stress: {n} of {} runs ({seeds}) failed\n", self.runs.len()),
        };
        for run in failed {
            out += &format!("  run {}, seed {}: {}\n", run.number, run.seed, run.failure().unwrap_or_default());
            out += &format!("    re-run: {}\n", self.rerun(run));
            out += &format!("    output: {}\n", run.log.display());
        }
        out
    }

    /// The runs as JSON, with the merged report (`report`, as `check --format json` prints it).
    pub fn to_json(&self, report: Value) -> Value {
        let runs: Vec<Value> = self
            .runs
            .iter()
            .map(|run| {
                json!({
                    "run": run.number,
                    "seed": run.seed,
                    "failed": run.failed(),
                    "failure": run.failure(),
                    "hung": run.ended == Ended::Hung,
                    "deadlock": run.deadlocked,
                    "panic": run.panic,
                    "exit_code": match run.ended { Ended::Exited(s) => s.code(), Ended::Hung => None },
                    "rerun": run.failed().then(|| self.rerun(run)),
                    "log": run.log,
                })
            })
            .collect();
        json!({
            "runs": runs,
            "failed": self.failed().count(),
            "watchdog_ms": self.watchdog_ms,
            "trace_dir": self.trace_dir,
            "report": report,
        })
    }
}

/// Runs the command `options.runs` times in stress mode, one after the other, then checks
/// every trace they wrote.
pub fn stress(options: &StressOptions) -> Result<StressOutcome, Error> {
    let (program, _) = split_command(&options.command)?;
    let program = program.to_string_lossy().into_owned();
    let trace_dir = trace_dir(options.trace_dir.as_ref(), "stress")?;
    let first_seed = options.seed.unwrap_or_else(clock_seed);
    let watchdog_ms = watchdog_ms(options.timeout);
    let progress = progress_bar(options);
    let mut runs = Vec::with_capacity(options.runs as usize);
    for number in 1..=options.runs {
        let seed = first_seed.wrapping_add(u64::from(number - 1));
        let log = trace_dir.join(format!("run-{number}-seed-{seed}.log"));
        let out = File::create(&log).map_err(Error::io(&log))?;
        let err = out.try_clone().map_err(Error::io(&log))?;
        let mut command = traced_command(&options.command, &trace_dir)?;
        command
            .env("LOCKCHECK_STRESS", seed.to_string())
            .env("LOCKCHECK_WATCHDOG_MS", watchdog_ms.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // A process group of its own, so that a hung run is killed with everything it started
        // (`cargo test` and its test binaries, say).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().map_err(|problem| Error::Spawn { program: program.clone(), problem })?;
        let ended = wait_or_kill(child, options.timeout).map_err(Error::io(&log))?;
        let panic = first_panic(&log);
        runs.push(StressRun { number, seed, ended, deadlocked: false, panic, log });
        let failed = runs.iter().filter(|r| r.failed()).count();
        progress.set_message(format!("seed {seed}, {failed} failed"));
        progress.inc(1);
    }
    progress.finish_and_clear();
    mark_deadlocks(&trace_dir, &mut runs);
    let mut checked = check_traces(&trace_dir, &options.check, runs.iter().all(|r| !r.failed()))?;
    // Every process ran in stress mode: the runs' list says with which seeds, once.
    if let Some(checked) = &mut checked {
        checked.analysis.stressed.clear();
    }
    Ok(StressOutcome { trace_dir, command: options.command.clone(), watchdog_ms, runs, checked })
}

/// The watchdog threshold: `LOCKCHECK_WATCHDOG_MS` when it is set (0 switches the watchdog
/// off: a deadlock is then a hang), else a third of the timeout, at most [`WATCHDOG_MAX_MS`],
/// so that a deadlocked run is reported well before it would be killed.
fn watchdog_ms(timeout: Duration) -> u64 {
    match std::env::var("LOCKCHECK_WATCHDOG_MS").ok().and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(ms) => ms,
        None => u64::try_from(timeout.as_millis() / 3).unwrap_or(u64::MAX).clamp(1, WATCHDOG_MAX_MS),
    }
}

/// A seed for a first run nobody chose: the clock's nanoseconds.
fn clock_seed() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    // Only the last few digits: a seed is something people type.
    (nanos % 1_000_000) as u64
}

fn progress_bar(options: &StressOptions) -> ProgressBar {
    if !options.progress || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(options.runs.into());
    if let Ok(style) = ProgressStyle::with_template("stress [{bar:30}] {pos}/{len} runs, {msg} ({elapsed})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Waits for `child` until `timeout`; then kills its process group and says it hung.
fn wait_or_kill(mut child: std::process::Child, timeout: Duration) -> std::io::Result<Ended> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Ended::Exited(status));
        }
        if started.elapsed() >= timeout {
            kill_group(&mut child);
            child.wait()?;
            return Ok(Ended::Hung);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kills the run's whole process group (the child leads it), or the child alone elsewhere.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: `kill` takes plain integers; a negative pid names the process group the
        // child leads (it was spawned with `process_group(0)`), which exists until the child
        // is reaped below, so no unrelated group can have taken its id.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        return;
    }
    let _ = child.kill();
}

/// Marks the runs whose trace holds a deadlock the watchdog reported (found by the seed the
/// trace records). A trace that cannot be read marks nothing: the merged check names it.
fn mark_deadlocks(trace_dir: &Path, runs: &mut [StressRun]) {
    let Ok(files) = crate::load::expand(&[trace_dir.to_path_buf()]) else { return };
    for file in files {
        let Ok(data) = TraceData::load(&file) else { continue };
        let Some(seed) = data.stress.as_ref().map(|s| s.seed) else { continue };
        if data.findings.iter().any(|f| matches!(f, Finding::ActualDeadlock(_))) {
            runs.iter_mut().filter(|r| r.seed == seed).for_each(|r| r.deadlocked = true);
        }
    }
}

/// The first panic a run's output shows: the hook's `panicked at` line and the message under
/// it, on one line.
fn first_panic(log: &Path) -> Option<String> {
    let text = std::fs::read(log).ok()?;
    let text = String::from_utf8_lossy(&text);
    let mut lines = text.lines();
    let at = lines.find(|l| l.contains(" panicked at "))?;
    let message = lines.next().unwrap_or_default();
    Some(format!("{} {message}", at.trim()))
}

/// `word` as a POSIX shell reads it back: bare when it is plainly safe, else single-quoted.
fn shell_quoted(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked_in_one_line() {
        assert_eq!(parse_runs("20").unwrap(), 20);
        assert!(parse_runs("0").is_err());
        assert!(parse_runs("-3").is_err());
        assert_eq!(parse_seed("18446744073709551615").unwrap(), u64::MAX);
        assert!(parse_seed("0x10").is_err());
        assert_eq!(parse_timeout("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("inf").is_err());
    }

    #[test]
    fn rerun_lines_quote_what_the_shell_would_split() {
        assert_eq!(shell_quoted("target/debug/app"), "target/debug/app");
        assert_eq!(shell_quoted("two words"), "'two words'");
        assert_eq!(shell_quoted("it's"), r"'it'\''s'");
        assert_eq!(shell_quoted(""), "''");
    }
}
