//! `lockcheck run -- <command>`: run a command with tracing on, then check every trace it
//! left, so one line in CI runs the tests and gives the verdict.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{SystemTime, UNIX_EPOCH};

use lockcheck::Finding;

use crate::check::{self, CheckOptions, Checked};
use crate::{Error, Verdict};

/// What `run` runs and how it checks.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RunOptions {
    /// The command and its arguments. Default: empty (an error).
    pub command: Vec<OsString>,
    /// Where the traces go. Default: `None`, a fresh directory under the system's temporary
    /// directory. Kept afterwards either way.
    pub trace_dir: Option<PathBuf>,
    /// How the traces are checked. Default: [`CheckOptions::default`].
    pub check: CheckOptions,
}

/// What happened.
#[derive(Debug)]
#[non_exhaustive]
pub struct RunOutcome {
    /// The directory the traces were written into.
    pub trace_dir: PathBuf,
    /// How the command ended.
    pub status: ExitStatus,
    /// The check of its traces; `None` when the command failed without writing one (its
    /// failure is then the whole verdict).
    pub checked: Option<Checked>,
}

impl RunOutcome {
    /// Why the command's own failure matters, if it does: a failed command fails the run,
    /// unless lockcheck's watchdog aborted it (a deadlock, already a finding).
    pub fn command_failure(&self) -> Option<String> {
        if self.status.success() || self.aborted_by_watchdog() {
            return None;
        }
        Some(format!("the command failed ({})", self.status))
    }

    fn aborted_by_watchdog(&self) -> bool {
        // The watchdog aborts with SIGABRT (6).
        #[cfg(unix)]
        let aborted = std::os::unix::process::ExitStatusExt::signal(&self.status) == Some(6);
        #[cfg(not(unix))]
        let aborted = true;
        let findings = self.checked.iter().flat_map(|c| &c.analysis.report.findings);
        aborted && findings.into_iter().any(|f| matches!(f, Finding::ActualDeadlock(_)))
    }

    /// What to say when there was no trace to check (the command failed before writing one).
    pub fn missing_traces(&self) -> Option<String> {
        self.checked
            .is_none()
            .then(|| format!("{}: the command wrote no trace: {}", self.trace_dir.display(), no_trace_hint()))
    }

    /// Findings when the check failed or the command did.
    pub fn verdict(&self) -> Verdict {
        let found = self.checked.as_ref().is_some_and(|c| c.verdict() == Verdict::Findings);
        Verdict::from_failing(found || self.command_failure().is_some())
    }
}

/// Why a command may have written no trace: `LOCKCHECK` switching lockcheck off in the
/// environment the command inherited (the values the library reads as off), else the usual
/// cause.
pub(crate) fn no_trace_hint() -> String {
    match std::env::var("LOCKCHECK") {
        Ok(value) if matches!(value.as_str(), "0" | "off" | "false") => {
            format!("LOCKCHECK={value} is set in the environment, which switches lockcheck off")
        }
        _ => "does it use lockcheck with the `instrument` feature?".to_owned(),
    }
}

/// Runs the command with `LOCKCHECK_TRACE` pointing at the trace directory, waits for it,
/// and checks every trace in the directory.
pub fn run(options: &RunOptions) -> Result<RunOutcome, Error> {
    let (program, _) = split_command(&options.command)?;
    let trace_dir = trace_dir(options.trace_dir.as_ref(), "run")?;
    let status = traced_command(&options.command, &trace_dir)?
        .status()
        .map_err(|problem| Error::Spawn { program: program.to_string_lossy().into_owned(), problem })?;
    let checked = check_traces(&trace_dir, &options.check, status.success())?;
    Ok(RunOutcome { trace_dir, status, checked })
}

/// The program and its arguments; an empty command is an error.
pub(crate) fn split_command(command: &[OsString]) -> Result<(&OsString, &[OsString]), Error> {
    command.split_first().ok_or_else(|| {
        let problem = std::io::Error::new(std::io::ErrorKind::InvalidInput, "no command given");
        Error::Spawn { program: String::new(), problem }
    })
}

/// The directory a command's traces go into: `given`, or a fresh one under the system's
/// temporary directory named after `subcommand`. Created, and refused if it already holds
/// traces (they would mix into the verdict).
pub(crate) fn trace_dir(given: Option<&PathBuf>, subcommand: &str) -> Result<PathBuf, Error> {
    let trace_dir = match given {
        Some(dir) => dir.clone(),
        None => {
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            std::env::temp_dir().join(format!("lockcheck-{subcommand}-{}-{nanos}", std::process::id()))
        }
    };
    std::fs::create_dir_all(&trace_dir).map_err(Error::io(&trace_dir))?;
    let stale = crate::load::expand(std::slice::from_ref(&trace_dir)).is_ok();
    if stale {
        let message = format!("already holds traces: give `{subcommand}` an empty or new --trace-dir");
        let problem = std::io::Error::new(std::io::ErrorKind::AlreadyExists, message);
        return Err(Error::Io { path: trace_dir, problem });
    }
    eprintln!("lockcheck: tracing into {}", trace_dir.display());
    Ok(trace_dir)
}

/// `command` set to trace into `trace_dir`, one file per process, with findings left to the
/// merged check afterwards.
pub(crate) fn traced_command(command: &[OsString], trace_dir: &Path) -> Result<Command, Error> {
    let (program, args) = split_command(command)?;
    // The trailing separator makes the library treat it as a directory: one file per process.
    let mut target = trace_dir.as_os_str().to_owned();
    target.push(std::path::MAIN_SEPARATOR_STR);
    let mut command = Command::new(program);
    command.args(args).env("LOCKCHECK_TRACE", target);
    // Findings are reported once, merged, after the command: not also by each process as it
    // finds them (unless the user asked for that).
    if std::env::var_os("LOCKCHECK_ON_CYCLE").is_none() {
        command.env("LOCKCHECK_ON_CYCLE", "ignore");
    }
    Ok(command)
}

/// Checks every trace in `trace_dir` as `run` does: the current directory's suppressions
/// unless told otherwise. `None` when there is no trace and the command failed anyway (its
/// failure is then the verdict); no trace from a command that succeeded is an error.
pub(crate) fn check_traces(
    trace_dir: &Path,
    options: &CheckOptions,
    succeeded: bool,
) -> Result<Option<Checked>, Error> {
    let mut check_options = options.clone();
    if check_options.suppressions.is_none() {
        // The traces live in a scratch directory: the project's file is the current one's.
        let local = PathBuf::from(crate::suppress::FILE_NAME);
        check_options.suppress &= local.is_file();
        check_options.suppressions = Some(local);
    }
    match check::check(&[trace_dir.to_path_buf()], &check_options) {
        // A failed command is the verdict (exit 1), whether or not it got as far as tracing.
        Err(Error::NoTraces { .. }) if !succeeded => Ok(None),
        Err(Error::NoTraces { path }) => Err(Error::NoTracesWritten { path, hint: no_trace_hint() }),
        checked => Ok(Some(checked?)),
    }
}
