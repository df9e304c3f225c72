//! The command line: clap's argument structs, each turned into the options of the library
//! function it calls.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::flame::Metric;
use crate::format::Format;
use crate::stats::SortBy;

/// Finds deadlocks in lockcheck traces: merged reports, CI checks, contention stats and
/// flamegraphs. Exit status: 0 no findings, 1 findings, 2 error.
#[derive(Debug, Parser)]
#[command(name = "lockcheck", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every finding of the traces, merged across processes.
    Report {
        /// Trace files, or directories of traces.
        #[command(flatten)]
        inputs: Inputs,
        /// Output format; html: one self-contained page with the findings drawn, the class
        /// graph, the contention table and flamegraphs.
        #[arg(long, value_enum, default_value_t)]
        format: ReportFormat,
        /// Where to write it (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// The CI verdict: exit 1 if a finding remains after suppressions.
    Check {
        /// Trace files, or directories of traces.
        #[command(flatten)]
        inputs: Inputs,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Suppression file (default: lockcheck.toml next to the inputs or in the current directory).
        #[arg(long, value_name = "FILE")]
        suppressions: Option<PathBuf>,
    },
    /// Contention per lock class: acquisitions, waits, holds, owner changes.
    Stats {
        /// Trace files, or directories of traces.
        #[command(flatten)]
        inputs: Inputs,
        /// Sort rows by this column, largest first.
        #[arg(long, value_enum, default_value_t)]
        sort: SortBy,
        /// Show only the first N rows.
        #[arg(long, value_name = "N")]
        top: Option<usize>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: TextOrJson,
    },
    /// A contention flamegraph (SVG) weighted by nanoseconds.
    Flamegraph {
        /// Trace files, or directories of traces.
        #[command(flatten)]
        inputs: Inputs,
        /// Where to write it (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// wait: where threads waited; hold: who held the locks.
        #[arg(long, value_enum, default_value_t)]
        metric: Metric,
        /// Write folded stacks (`frame;frame weight`) instead of an SVG.
        #[arg(long)]
        folded: bool,
    },
    /// The class lock-order graph in Graphviz DOT.
    Graph {
        /// Trace files, or directories of traces.
        #[command(flatten)]
        inputs: Inputs,
        /// Where to write the DOT (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Also print ranks consistent with every observed order, or the cycles that prevent them.
        #[arg(long)]
        suggest_ranks: bool,
        /// text: the DOT, then the ranks; json: one document on standard output with the graph
        /// and the ranks (`-o` still receives the DOT).
        #[arg(long, value_enum, default_value_t)]
        format: TextOrJson,
    },
    /// A timeline for Perfetto or chrome://tracing (Chrome trace event JSON): contended waits
    /// and sampled holds per thread, findings as instants, every process on one clock.
    Timeline {
        /// Trace files, or directories of traces.
        #[command(flatten)]
        inputs: Inputs,
        /// Where to write it (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Start of the window, since the earliest process started (1.5s, 200ms, 30us).
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
        /// End of the window, since the earliest process started.
        #[arg(long, value_name = "TIME")]
        to: Option<String>,
        /// At most this many wait and hold slices; beyond, the shortest are left out.
        #[arg(long, value_name = "N", default_value_t = 2_000_000)]
        max_slices: u64,
    },
    /// Run a command with tracing on, then check every trace it wrote.
    Run {
        /// Where the command's traces go (default: a fresh temporary directory, kept).
        #[arg(long, value_name = "DIR")]
        trace_dir: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Suppression file (default: lockcheck.toml in the current directory).
        #[arg(long, value_name = "FILE")]
        suppressions: Option<PathBuf>,
        /// Also write a wait flamegraph (SVG) of the traces here.
        #[arg(long, value_name = "FILE")]
        flamegraph: Option<PathBuf>,
        /// Also write the HTML report of the traces here.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// The command, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<OsString>,
    },
    /// Run a command many times in stress mode (LOCKCHECK_STRESS: delays injected at lock
    /// acquisitions and releases, one seed per run) with the watchdog on, then list the runs
    /// that failed, hung or deadlocked with the seed that re-runs each, and check every trace.
    Stress(StressArgs),
}

/// The arguments of `stress` (see [`crate::stress::StressOptions`]).
#[derive(Debug, Args)]
pub struct StressArgs {
    /// How many runs, one after the other.
    #[arg(long, value_name = "N", default_value = "20", allow_hyphen_values = true)]
    pub runs: String,
    /// The first run's seed (a whole number); run i gets seed + i - 1. Default: from the clock.
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    pub seed: Option<String>,
    /// Seconds a run may take; one still alive then is killed with every process it started,
    /// and counts as hung. The watchdog's threshold is LOCKCHECK_WATCHDOG_MS if set, else a
    /// third of this, at most 10 s.
    #[arg(long, value_name = "SECS", default_value = "60", allow_hyphen_values = true)]
    pub timeout: String,
    /// Where the traces and each run's output go (default: a fresh temporary directory, kept).
    #[arg(long, value_name = "DIR")]
    pub trace_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: TextOrJson,
    /// Suppression file (default: lockcheck.toml in the current directory).
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// The command, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// The traces a subcommand reads.
#[derive(Debug, Args)]
pub struct Inputs {
    /// Trace files, or directories of traces (*.lctrace).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// `text` or `json`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    /// For people.
    #[default]
    Text,
    /// For programs.
    Json,
}

/// `report`'s output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people, in a terminal.
    #[default]
    Text,
    /// For programs.
    Json,
    /// For people, in a browser: one self-contained page.
    Html,
}

impl From<TextOrJson> for Format {
    fn from(format: TextOrJson) -> Format {
        match format {
            TextOrJson::Text => Format::Text,
            TextOrJson::Json => Format::Json,
        }
    }
}
