//! The `lockcheck` command's library: everything the binary does, callable from tests.
//!
//! `main.rs` only parses arguments into the options structs here, calls one function per
//! subcommand and maps the [`Verdict`] (or [`Error`]) to an exit code:
//!
//! | subcommand | function |
//! |---|---|
//! | `report`, `check` | [`check::check`] (reads, merges, suppresses) → [`format::render`] |
//! | `report --format html`, `run --html` | [`html::pictures`] (one read for everything) → [`html::render`] |
//! | `timeline` | [`timeline::timeline`] (streams) |
//! | `stats` | [`stats::stats`] → [`stats::render_text`] |
//! | `flamegraph` | [`flame::folded`] → [`flame::svg`] |
//! | `graph` | [`dot::graph`] → [`dot::ClassGraph::dot`] or [`dot::ClassGraph::to_json`], [`dot::ClassGraph::suggest_ranks`] |
//! | `run` | [`run::run`] |
//! | `stress` | [`stress::stress`] → [`stress::StressOutcome::render_text`] or [`stress::StressOutcome::to_json`] |

pub mod analysis;
pub mod check;
pub mod cli;
pub mod dot;
mod error;
pub mod flame;
pub mod format;
pub mod html;
pub mod load;
pub mod run;
pub mod stats;
pub mod stress;
pub mod suppress;
pub mod symbolize;
pub mod timeline;
mod units;

pub use error::Error;

/// What an analysis concluded, as the exit code says it (DESIGN.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing that fails a check: exit 0.
    Clean,
    /// At least one failing finding (or, for `run`, a failed command): exit 1.
    Findings,
}

impl Verdict {
    /// `Findings` when `failing` holds.
    pub fn from_failing(failing: bool) -> Verdict {
        if failing {
            Verdict::Findings
        } else {
            Verdict::Clean
        }
    }

    /// The process exit code: 0 or 1 (errors exit 2, in `main`).
    pub fn code(self) -> u8 {
        match self {
            Verdict::Clean => 0,
            Verdict::Findings => 1,
        }
    }
}
