//! Inputs: trace files and directories of traces, read one after the other with a progress
//! bar on stderr (hidden when stderr is not a terminal).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use lockcheck::trace::{Event, TraceData, EXTENSION};

use crate::symbolize::Symbolizer;
use crate::Error;

/// One trace, read.
#[derive(Debug)]
pub struct Trace {
    /// Its file.
    pub path: PathBuf,
    /// Everything but its events, which streamed through the caller's callback; its stacks
    /// symbolised.
    pub data: TraceData,
    /// Modules whose stack frames could not be symbolised, one line each.
    pub symbol_warnings: Vec<String>,
}

impl Trace {
    /// Everything to tell the user about the trace: [`Trace::warning`], events chunks read
    /// twice or missing (by their sequence numbers), then the modules whose frames are left
    /// out of its stacks.
    pub fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        let file = self.path.display();
        let (repeated, missing) = (self.data.duplicate_batches, self.data.missing_batches);
        let repeated = (repeated > 0).then(|| match repeated {
            1 => format!("{file}: 1 events chunk appears more than once (read once)"),
            n => format!("{file}: {n} events chunks appear more than once (each read once)"),
        });
        let missing = (missing > 0).then(|| match missing {
            1 => format!("{file}: 1 events chunk is missing between those read: its events are not analysed"),
            n => format!("{file}: {n} events chunks are missing between those read: their events are not analysed"),
        });
        self.warning()
            .into_iter()
            .chain(repeated)
            .chain(missing)
            .chain(self.symbol_warnings.iter().map(move |w| format!("{file}: {w}")))
    }

    /// What to tell the user about the trace's completeness, if anything: a read that stopped
    /// at damage, or a process that never flushed at exit.
    pub fn warning(&self) -> Option<String> {
        let file = self.path.display();
        // The watchdog aborts right after writing its report: no end marker, nothing missing.
        let aborted = self.data.findings.iter().any(|f| matches!(f, lockcheck::Finding::ActualDeadlock(_)));
        match (&self.data.warning, self.data.complete || aborted) {
            (Some(damage), _) => Some(format!("{file}: {damage}; analysed up to there")),
            // The collector writes every 100 ms: a kill loses what was recorded since its last
            // write (measured in the README, "When a process is killed").
            (None, false) => Some(format!(
                "{file}: trace has no end marker (the process was killed before it flushed): the events of its \
                 last ~100 ms may be missing; analysed what it wrote"
            )),
            (None, true) => None,
        }
    }
}

/// How traces are read.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Show a progress bar on stderr while reading. Default: `true`; it is hidden anyway
    /// when stderr is not a terminal.
    pub progress: bool,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions { progress: true }
    }
}

/// The trace files named by `inputs`: files as given, directories replaced by the traces
/// (`*.lctrace`) they hold, sorted by name. A directory without traces is an error.
pub fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(Error::io(input))?;
        if !meta.is_dir() {
            files.push(input.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(input)
            .map_err(Error::io(input))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|e| e == EXTENSION) && path.is_file())
            .collect();
        if found.is_empty() {
            return Err(Error::NoTraces { path: input.clone() });
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Events between progress-bar updates: often enough to move, rarely enough to cost nothing.
const PROGRESS_EVERY: u64 = 1 << 20;

/// Reads every trace of `inputs` (see [`expand`]), passing each event to `on_event` with the
/// index of its trace and the trace's data read so far. Memory stays bounded by the traces'
/// declarations: events are never kept.
pub fn load(
    inputs: &[PathBuf],
    options: &LoadOptions,
    mut on_event: impl FnMut(usize, &TraceData, &Event),
) -> Result<Vec<Trace>, Error> {
    load_timed(inputs, options, |index, data, _, event| on_event(index, data, event))
}

/// [`load`], each event passed with the time its batch was collected, in ns since its trace
/// started (see [`TraceData::load_timed_with`]).
pub fn load_timed(
    inputs: &[PathBuf],
    options: &LoadOptions,
    mut on_event: impl FnMut(usize, &TraceData, u64, &Event),
) -> Result<Vec<Trace>, Error> {
    let files = expand(inputs)?;
    let bar = progress_bar(options, files.len());
    let mut traces = Vec::with_capacity(files.len());
    let mut events = 0u64;
    let mut symbolizer = Symbolizer::default();
    for (index, path) in files.into_iter().enumerate() {
        bar.set_message(short_name(&path));
        let data = TraceData::load_timed_with(&path, |data, time_ns, event| {
            events += 1;
            if events % PROGRESS_EVERY == 0 {
                bar.set_message(format!("{} ({}M events)", short_name(&path), events >> 20));
            }
            on_event(index, data, time_ns, event);
        });
        let mut data = data.map_err(|problem| Error::Trace { path: path.clone(), problem })?;
        let symbol_warnings = symbolizer.symbolize(&mut data);
        bar.inc(1);
        traces.push(Trace { path, data, symbol_warnings });
    }
    bar.finish_and_clear();
    Ok(traces)
}

fn progress_bar(options: &LoadOptions, files: usize) -> ProgressBar {
    if !options.progress || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(files as u64);
    if let Ok(style) = ProgressStyle::with_template("{spinner} reading traces {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn short_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
