//! `lockcheck run -- <command>`: run a command with tracing on, then check every trace it
//! left, so one line in CI runs the tests and gives the verdict.

use std::ffi::OsString;
use std::path::PathBuf;
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
    let Some((program, args)) = options.command.split_first() else {
        let problem = std::io::Error::new(std::io::ErrorKind::InvalidInput, "no command given");
        return Err(Error::Spawn { program: String::new(), problem });
    };
    let trace_dir = match &options.trace_dir {
        Some(dir) => dir.clone(),
        None => {
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            std::env::temp_dir().join(format!("lockcheck-run-{}-{nanos}", std::process::id()))
        }
    };
    std::fs::create_dir_all(&trace_dir).map_err(Error::io(&trace_dir))?;
    let stale = crate::load::expand(std::slice::from_ref(&trace_dir)).is_ok();
    if stale {
        let message = "already holds traces: give `run` an empty or new --trace-dir";
        let problem = std::io::Error::new(std::io::ErrorKind::AlreadyExists, message);
        return Err(Error::Io { path: trace_dir, problem });
    }
    eprintln!("lockcheck: tracing into {}", trace_dir.display());
    // The trailing separator makes the library treat it as a directory: one file per process.
    let mut target = trace_dir.clone().into_os_string();
    target.push(std::path::MAIN_SEPARATOR_STR);
    let mut command = Command::new(program);
    command.args(args).env("LOCKCHECK_TRACE", target);
    // Findings are reported once, merged, after the command: not also by each process as it
    // finds them (unless the user asked for that).
    if std::env::var_os("LOCKCHECK_ON_CYCLE").is_none() {
        command.env("LOCKCHECK_ON_CYCLE", "ignore");
    }
    let status = command
        .status()
        .map_err(|problem| Error::Spawn { program: program.to_string_lossy().into_owned(), problem })?;
    let mut check_options = options.check.clone();
    if check_options.suppressions.is_none() {
        // The traces live in a scratch directory: the project's file is the current one's.
        let local = PathBuf::from(crate::suppress::FILE_NAME);
        check_options.suppress &= local.is_file();
        check_options.suppressions = Some(local);
    }
    let checked = match check::check(std::slice::from_ref(&trace_dir), &check_options) {
        // A failed command is the verdict (exit 1), whether or not it got as far as tracing.
        Err(Error::NoTraces { .. }) if !status.success() => None,
        Err(Error::NoTraces { path }) => return Err(Error::NoTracesWritten { path, hint: no_trace_hint() }),
        checked => Some(checked?),
    };
    Ok(RunOutcome { trace_dir, status, checked })
}
