//! `lockcheck timeline`: the traces as a Chrome trace event file (JSON), which Perfetto
//! (ui.perfetto.dev) and chrome://tracing open: one process per trace, two tracks per thread
//! (its contended waits, its sampled holds), findings as instant events.
//!
//! All processes share one clock: a trace's times count from its process's start, whose
//! wall-clock time its header records; the timeline's zero is the earliest start. Within a
//! process, events are placed as `layout.rs` explains: the waits' and holds' lengths are
//! measured, their positions are the earliest consistent with the trace (`layout.rs`).
//!
//! Output streams: nothing per event is kept. Traces are read twice, once to measure the
//! slices' lengths (`budget.rs`) and once to write them; when there are more than
//! [`TimelineOptions::max_slices`], the shortest are left out and the file says how many and
//! below which length, so that a 100M-event trace still opens.

mod budget;
mod events;
mod layout;

use std::io::Write;
use std::path::{Path, PathBuf};

use lockcheck::trace::{Chunk, TraceReader};

use crate::load::{self, LoadOptions};
use crate::Error;
use events::EventWriter;
use layout::{Layout, Slice};

/// What `timeline` writes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TimelineOptions {
    /// Only what overlaps the window from here, in ns since the earliest trace started.
    /// Default: `None`, from the start.
    pub from: Option<u64>,
    /// Only what overlaps the window up to here, in ns since the earliest trace started.
    /// Default: `None`, to the end.
    pub to: Option<u64>,
    /// At most this many wait and hold slices; beyond, the shortest are left out. Default:
    /// 2,000,000 (about 400 MB of JSON).
    pub max_slices: u64,
    /// How traces are read. Default: [`LoadOptions::default`].
    pub load: LoadOptions,
}

impl Default for TimelineOptions {
    fn default() -> TimelineOptions {
        TimelineOptions { from: None, to: None, max_slices: 2_000_000, load: LoadOptions::default() }
    }
}

/// What was written.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Written {
    /// Wait and hold slices written.
    pub slices: u64,
    /// Slices in the window left out: shorter than `min_len_ns`, or past the limit.
    pub left_out: u64,
    /// The shortest slice length kept, in ns (0: every slice kept).
    pub min_len_ns: u64,
    /// Traces read only in part, or that lost events, one line each.
    pub warnings: Vec<String>,
}

impl Written {
    /// What to tell the user, one line each: incomplete traces, lost events, and the slices
    /// left out to keep the file loadable.
    pub fn notices(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.warnings.iter().map(|w| format!("warning: {w}")).collect();
        if self.left_out > 0 {
            lines.push(format!(
                "{} slices shorter than {} ns left out to keep the file loadable (narrow with --from/--to, or \
                 raise --max-slices)",
                self.left_out, self.min_len_ns
            ));
        }
        lines
    }
}

/// Parses a time for `--from`/`--to`: a number with a unit (`ns`, `us`, `µs`, `ms`, `s`),
/// seconds without one.
pub fn parse_time(option: &'static str, text: &str) -> Result<u64, Error> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| Error::Option { option, message: format!("`{text}` is not a time (like 1.5s or 200ms)") })?;
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" | "" => 1e9,
        other => return Err(Error::Option { option, message: format!("unknown unit `{other}` (ns, us, ms or s)") }),
    };
    Ok((value * scale).round() as u64)
}

/// Writes the timeline of `inputs` to `out`.
pub fn timeline(inputs: &[PathBuf], options: &TimelineOptions, out: impl Write) -> Result<Written, Error> {
    if let (Some(from), Some(to)) = (options.from, options.to) {
        if from > to {
            return Err(Error::Option { option: "--to", message: "the window ends before it starts".to_owned() });
        }
    }
    let files = load::expand(inputs)?;
    let starts = files.iter().map(PathBuf::as_path).map(start_of).collect::<Result<Vec<u64>, Error>>()?;
    let base = starts.iter().copied().min().unwrap_or(0);
    let window = Window { from: options.from.unwrap_or(0), to: options.to.unwrap_or(u64::MAX) };
    let offsets: Vec<u64> = starts.iter().map(|s| s - base).collect();

    // First read: how long the slices in the window are, to leave out the shortest.
    let counts = budget::lengths(&files, options, |index, batch, event, layouts: &mut Vec<Layout>| {
        while layouts.len() <= index {
            layouts.push(Layout::default());
        }
        let slice = layouts[index].place(batch, event)?;
        window.holds(slice, offsets[index]).then(|| slice.len())
    })?;
    let min_len_ns = budget::threshold(&counts, options.max_slices);

    // Second read: write them, the shortest left out, and never more than the limit (the
    // first read may have estimated).
    let mut writer = EventWriter::new(out).map_err(Error::Output)?;
    let mut layouts: Vec<Layout> = Vec::new();
    let (mut failure, mut left_out) = (None, 0u64);
    let traces = load::load_timed(&files, &options.load, |index, data, batch, event| {
        while layouts.len() <= index {
            layouts.push(Layout::default());
        }
        let Some(slice) = layouts[index].place(batch, event) else { return };
        if !window.holds(slice, offsets[index]) {
            return;
        }
        if slice.len() < min_len_ns || writer.slices() >= options.max_slices {
            left_out += 1;
        } else if failure.is_none() {
            failure = writer.slice(index, offsets[index], data, event, slice).err();
        }
    })?;
    if let Some(e) = failure {
        return Err(Error::Output(e));
    }
    for (index, trace) in traces.iter().enumerate() {
        let end = layouts.get(index).map_or(0, |l| l.last_batch);
        let at = offsets[index] + end;
        let instants = (window.from..=window.to).contains(&at);
        writer.process(index, &trace.data, offsets[index], end, instants).map_err(Error::Output)?;
    }
    let slices = writer.finish(base, min_len_ns, left_out).map_err(Error::Output)?;
    let mut warnings: Vec<String> = traces.iter().flat_map(load::Trace::warning).collect();
    let lost: u64 = traces.iter().map(|t| t.data.events_lost()).sum();
    if lost > 0 {
        warnings.push(format!("{lost} events were lost (a ring was full): the timeline misses them"));
    }
    Ok(Written { slices, left_out, min_len_ns, warnings })
}

/// The time window, in ns since the earliest trace started.
#[derive(Clone, Copy)]
struct Window {
    from: u64,
    to: u64,
}

impl Window {
    /// Whether `slice`, of a trace that started `offset` ns after the earliest, overlaps it.
    #[inline]
    fn holds(self, slice: Slice, offset: u64) -> bool {
        let (start, end) = slice.span();
        offset + end >= self.from && offset + start <= self.to
    }
}

/// When the trace at `path` started, in ns since the Unix epoch: its first chunk.
fn start_of(path: &Path) -> Result<u64, Error> {
    let trace_error = |problem| Error::Trace { path: path.to_path_buf(), problem };
    let mut reader = TraceReader::open(path).map_err(trace_error)?;
    match reader.next() {
        Some(Ok(Chunk::Header(header))) => Ok(header.start_unix_ns),
        Some(Err(problem)) => Err(trace_error(problem)),
        _ => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_take_units() {
        assert_eq!(parse_time("--from", "1.5s").unwrap(), 1_500_000_000);
        assert_eq!(parse_time("--from", "200ms").unwrap(), 200_000_000);
        assert_eq!(parse_time("--from", "3us").unwrap(), 3_000);
        assert_eq!(parse_time("--from", "2").unwrap(), 2_000_000_000);
        assert!(parse_time("--to", "soon").is_err());
        assert!(parse_time("--to", "5 parsecs").is_err());
    }
}
