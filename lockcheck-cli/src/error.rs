//! [`Error`]: why an analysis could not run. Each names the file it is about, so `main` can
//! print it on one line.

use std::io;
use std::path::PathBuf;

use lockcheck::trace::TraceError;

/// Why a subcommand could not produce its result (exit code 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A trace could not be read at all (not even its preamble).
    #[error("{}: {problem}", path.display())]
    Trace {
        /// The trace file.
        path: PathBuf,
        /// What is wrong with it.
        problem: TraceError,
    },
    /// An input directory holds no trace.
    #[error("{}: no lockcheck traces (*.{}) in this directory", path.display(), lockcheck::trace::EXTENSION)]
    NoTraces {
        /// The directory.
        path: PathBuf,
    },
    /// Reading or writing a file (or directory) failed.
    #[error("{}: {problem}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        problem: io::Error,
    },
    /// The suppression file is invalid.
    #[error("{}: {message}", path.display())]
    Suppressions {
        /// The suppression file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An option's value is invalid.
    #[error("{option}: {message}")]
    Option {
        /// The option, as typed (`--from`).
        option: &'static str,
        /// What is wrong with its value.
        message: String,
    },
    /// Writing the output failed (a closed pipe among others, which `main` treats as success).
    #[error("writing the output: {0}")]
    Output(#[source] io::Error),
    /// Rendering the flamegraph failed.
    #[error("flamegraph: {0}")]
    Flamegraph(String),
    /// The command given to `run` could not be started.
    #[error("{program}: cannot run: {problem}")]
    Spawn {
        /// The program.
        program: String,
        /// The failure.
        problem: io::Error,
    },
    /// `run`'s command succeeded but wrote no trace.
    #[error("{}: the command wrote no trace: {hint}", path.display())]
    NoTracesWritten {
        /// The trace directory.
        path: PathBuf,
        /// The likely reason.
        hint: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |problem| Error::Io { path, problem }
    }
}
