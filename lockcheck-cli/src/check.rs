//! `report` and `check`: read every trace, merge the findings and, for `check`, take out the
//! suppressed ones.

use std::path::PathBuf;

use crate::analysis::{self, Analysis};
use lockcheck::trace::{Event, TraceData};

use crate::load::{self, LoadOptions, Trace};
use crate::suppress::{self, Suppressed, Suppressions};
use crate::{Error, Verdict};

/// How `check` (and `run`) decide.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CheckOptions {
    /// The suppression file. Default: `None`, meaning `lockcheck.toml` next to the inputs or
    /// in the current directory, if there is one (see [`suppress::find`]).
    pub suppressions: Option<PathBuf>,
    /// Apply suppressions at all. Default: `true` (`report` sets it to `false`).
    pub suppress: bool,
    /// How traces are read. Default: [`LoadOptions::default`].
    pub load: LoadOptions,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions { suppressions: None, suppress: true, load: LoadOptions::default() }
    }
}

/// The merged findings that remain, and those suppressed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Checked {
    /// The analysis, without the suppressed findings.
    pub analysis: Analysis,
    /// The findings suppressions took out, with their reasons.
    pub suppressed: Vec<Suppressed>,
    /// The suppression file used, if any.
    pub suppressions: Option<PathBuf>,
}

impl Checked {
    /// Findings when a finding that fails a check remains.
    pub fn verdict(&self) -> Verdict {
        Verdict::from_failing(self.analysis.report.has_failures())
    }
}

/// Reads and merges `inputs`, then applies the suppressions.
pub fn check(inputs: &[PathBuf], options: &CheckOptions) -> Result<Checked, Error> {
    Ok(check_with(inputs, options, |_, _, _| {})?.0)
}

/// [`check`], passing every event to `on_event` as it is read (see [`load::load`]), and
/// returning the traces read too: for readers that compute more in the same pass.
pub(crate) fn check_with(
    inputs: &[PathBuf],
    options: &CheckOptions,
    on_event: impl FnMut(usize, &TraceData, &Event),
) -> Result<(Checked, Vec<Trace>), Error> {
    // Read suppressions first: a bad file should fail before a long analysis.
    let path = match (&options.suppressions, options.suppress) {
        (_, false) => None,
        (Some(path), true) => Some(path.clone()),
        (None, true) => suppress::find(inputs),
    };
    let suppressions = match &path {
        Some(path) => suppress::load(path)?,
        None => Suppressions::default(),
    };
    let traces = load::load(inputs, &options.load, on_event)?;
    let mut analysis = analysis::analyse(&traces);
    let (report, suppressed) = suppressions.apply(std::mem::take(&mut analysis.report));
    analysis.report = report;
    Ok((Checked { analysis, suppressed, suppressions: path }, traces))
}
