//! `lockcheck flamegraph`: contention as folded stacks weighted in nanoseconds, drawn by
//! inferno.
//!
//! - `--metric wait`, "where threads waited": each contended acquisition (or timeout)
//!   contributes its wait to the stack the waiter recorded (outermost frame first) or, when
//!   the wait was too short for a stack, to its acquisition site; topped by `lock:<class>`.
//! - `--metric hold`, "who made them wait": each wait is charged to the holder the waiter saw,
//!   as frames `holder thread;holder's acquisition site;lock:<class>`. A trace without holders
//!   (format 1) charges its sampled holds instead, by the holding thread and its acquisition
//!   site.
//!
//! Frames are kept short: stack frames are function names; absolute source paths are cut to
//! the crate-relative part (`parking_lot-0.12.3/src/mutex.rs`), relative ones (the
//! workspace's own) are kept.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use lockcheck::trace::{Event, EventKind, TraceData};
use lockcheck::Site;

use crate::load::{self, LoadOptions};
use crate::Error;

/// What a flamegraph weighs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    /// Time threads waited, by where they waited.
    #[default]
    Wait,
    /// Time threads waited, by who held the lock and where they took it.
    Hold,
}

/// How `flamegraph` reads and draws.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct FlameOptions {
    /// The weight. Default: [`Metric::Wait`].
    pub metric: Metric,
    /// How traces are read. Default: [`LoadOptions::default`].
    pub load: LoadOptions,
}

/// Folded stacks (`frame;frame;frame weight`), sorted, with what made them incomplete.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Folded {
    /// One line per distinct stack.
    pub lines: Vec<String>,
    /// The metric they weigh.
    pub metric: Metric,
    /// Events lost by the recorder.
    pub events_lost: u64,
    /// Traces read only in part.
    pub warnings: Vec<String>,
}

/// Where weight goes, by ids of one trace.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    /// A wait: its stack if it has one, else its site; and the lock.
    Waited { stack: Option<u32>, site: u32, lock: u32 },
    /// A holder (thread and acquisition site) and the lock.
    Held { thread: u32, site: u32, lock: u32 },
}

/// One trace's weights, before they become frame text.
#[derive(Default)]
struct TraceAcc {
    weights: HashMap<Key, u64>,
    /// Hold metric: sampled holds, used when the trace names no holder.
    sampled: HashMap<Key, u64>,
    /// Hold metric: the site of each (thread, lock)'s current acquisition.
    acquired_at: HashMap<(u32, u32), u32>,
}

impl TraceAcc {
    fn event(&mut self, metric: Metric, event: &Event) {
        let lock = event.lock;
        let (site, wait, stack, holder) = match event.kind {
            EventKind::Acquired { site, wait_ns, stack, holder } => (site, wait_ns, stack, holder),
            EventKind::TimedOut { site, wait_ns, stack, holder } => (site, Some(wait_ns), stack, holder),
            EventKind::Released { hold_ns } => {
                let site = self.acquired_at.remove(&(event.thread, lock));
                if let (Some(site), Some(hold)) = (site, hold_ns) {
                    add(&mut self.sampled, Key::Held { thread: event.thread, site, lock }, hold);
                }
                return;
            }
            EventKind::TryFailed { .. } => return,
        };
        match metric {
            Metric::Wait => {
                if let Some(wait) = wait {
                    add(&mut self.weights, Key::Waited { stack, site, lock }, wait);
                }
            }
            Metric::Hold => {
                if matches!(event.kind, EventKind::Acquired { .. }) {
                    self.acquired_at.insert((event.thread, lock), site);
                }
                if let (Some(wait), Some(h)) = (wait, holder) {
                    add(&mut self.weights, Key::Held { thread: h.thread, site: h.site, lock }, wait);
                }
            }
        }
    }

    fn fold_into(&self, data: &TraceData, out: &mut HashMap<String, u64>) {
        let weights = if self.weights.is_empty() { &self.sampled } else { &self.weights };
        for (&key, &ns) in weights {
            let site = |site: u32| data.sites.get(&site).map_or_else(|| format!("site #{site}"), site_frame);
            let (mut frames, lock) = match key {
                Key::Waited { stack: Some(stack), site: at, lock } => match data.stacks.get(&stack) {
                    Some(stack) => (stack.iter().rev().map(|f| function(f)).collect(), lock),
                    None => (vec![site(at)], lock),
                },
                Key::Waited { stack: None, site: at, lock } => (vec![site(at)], lock),
                Key::Held { thread, site: at, lock } => {
                    let name = data.threads.get(&thread).cloned().unwrap_or_else(|| format!("thread #{thread}"));
                    (vec![name, site(at)], lock)
                }
            };
            let class = data.class_of(lock).map_or_else(|| format!("#{lock}"), |c| short_path(&c.label));
            frames.push(format!("lock:{class}"));
            let stack: Vec<String> = frames.iter().map(|f| f.replace([';', '\n'], ",")).collect();
            add(out, stack.join(";"), ns);
        }
    }
}

fn add<K: Eq + std::hash::Hash>(weights: &mut HashMap<K, u64>, key: K, ns: u64) {
    let weight = weights.entry(key).or_default();
    *weight = weight.saturating_add(ns);
}

/// Reads `inputs` and folds their contention into stacks weighted by `options.metric`.
pub fn folded(inputs: &[PathBuf], options: &FlameOptions) -> Result<Folded, Error> {
    let mut acc = FoldAcc::new(options.metric);
    let traces = load::load(inputs, &options.load, |index, _, event| acc.event(index, event))?;
    Ok(acc.finish(&traces))
}

/// The weights of one read of every trace, for readers that compute more than one
/// flamegraph in the same pass (the HTML report): feed it every event, then
/// [`FoldAcc::finish`].
pub(crate) struct FoldAcc {
    metric: Metric,
    accs: Vec<TraceAcc>,
}

impl FoldAcc {
    /// Weighs by `metric`.
    pub(crate) fn new(metric: Metric) -> FoldAcc {
        FoldAcc { metric, accs: Vec::new() }
    }

    /// Adds an event of trace `index`.
    #[inline]
    pub(crate) fn event(&mut self, index: usize, event: &Event) {
        while self.accs.len() <= index {
            self.accs.push(TraceAcc::default());
        }
        self.accs[index].event(self.metric, event);
    }

    /// The folded stacks of `traces`, whose events went through [`FoldAcc::event`].
    pub(crate) fn finish(self, traces: &[load::Trace]) -> Folded {
        let mut stacks = HashMap::new();
        for (trace, acc) in traces.iter().zip(&self.accs) {
            acc.fold_into(&trace.data, &mut stacks);
        }
        let mut lines: Vec<String> =
            stacks.into_iter().filter(|&(_, ns)| ns > 0).map(|(stack, ns)| format!("{stack} {ns}")).collect();
        lines.sort();
        Folded {
            lines,
            metric: self.metric,
            events_lost: traces.iter().map(|t| t.data.events_lost()).sum(),
            warnings: traces.iter().flat_map(load::Trace::warnings).collect(),
        }
    }
}

/// Draws `folded` as an SVG flamegraph into `out`, under a root frame that says what it
/// weighs. With nothing to draw (no thread waited), the SVG says there was no contention: a
/// result, not an error.
pub fn svg(folded: &Folded, mut out: impl Write) -> Result<(), Error> {
    let (title, root) = match folded.metric {
        Metric::Wait => ("lockcheck: where threads waited", "all lock waits (ns)"),
        Metric::Hold => ("lockcheck: who made them wait", "all lock waits, by holder (ns)"),
    };
    let lost = (folded.events_lost > 0).then(|| format!("{} events were lost: incomplete", folded.events_lost));
    if folded.lines.is_empty() {
        let what = match folded.metric {
            Metric::Wait => "no contention: no thread waited for a lock in these traces",
            Metric::Hold => "no contention: no wait with a known holder and no timed hold in these traces",
        };
        return no_contention_svg(title, what, lost.as_deref(), out).map_err(|e| Error::Flamegraph(e.to_string()));
    }
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_owned();
    options.subtitle = lost;
    options.count_name = "ns".to_owned();
    options.name_type = "Frame:".to_owned();
    // inferno's own root frame ("all") has no text and no option to give it one: every stack
    // starts with a frame of ours that does.
    let lines: Vec<String> = folded.lines.iter().map(|line| format!("{root};{line}")).collect();
    inferno::flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), &mut out)
        .map_err(|e| Error::Flamegraph(e.to_string()))
}

/// A flamegraph-sized SVG with `title` and `what` in place of frames. The text is this
/// module's own, with nothing to escape.
fn no_contention_svg(title: &str, what: &str, lost: Option<&str>, mut out: impl Write) -> std::io::Result<()> {
    let lost =
        lost.map(|l| format!("\n<text x=\"600\" y=\"72\" text-anchor=\"middle\">{l}</text>")).unwrap_or_default();
    write!(
        out,
        "<?xml version=\"1.0\" standalone=\"no\"?>\n\
         <svg version=\"1.1\" width=\"1200\" height=\"100\" viewBox=\"0 0 1200 100\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-family=\"Verdana\" font-size=\"12\">\n\
         <rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#eeeeee\"/>\n\
         <text x=\"600\" y=\"24\" text-anchor=\"middle\" font-size=\"17\">{title}</text>\n\
         <text x=\"600\" y=\"52\" text-anchor=\"middle\">{what}</text>{lost}\n\
         </svg>\n"
    )
}

/// A site as a frame: `file:line`, the file cut to its crate-relative part.
fn site_frame(site: &Site) -> String {
    format!("{}:{}", short_path(&site.file), site.line)
}

/// A stack frame (`function at file:line`) as a flamegraph frame: the function, without
/// the symbol hash.
fn function(frame: &str) -> String {
    let name = frame.split(" at ").next().unwrap_or(frame);
    let hashless = match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => head,
        _ => name,
    };
    hashless.to_owned()
}

/// An absolute source path cut to `<crate>/src/…` (the component before the last `/src/`);
/// relative paths, already workspace-relative, unchanged.
pub(crate) fn short_path(path: &str) -> String {
    let absolute = path.starts_with('/') || path.get(1..3) == Some(":\\");
    if !absolute {
        return path.to_owned();
    }
    let normal = path.replace('\\', "/");
    match normal.rfind("/src/") {
        Some(at) => {
            let start = normal[..at].rfind('/').map_or(0, |i| i + 1);
            normal[start..].to_owned()
        }
        None => normal.rsplit('/').next().unwrap_or(&normal).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::short_path;

    #[test]
    fn paths_are_cut_to_the_crate() {
        let registry = "/home/u/.cargo/registry/src/index.crates.io-1/parking_lot-0.12.3/src/mutex.rs";
        assert_eq!(short_path(registry), "parking_lot-0.12.3/src/mutex.rs");
        assert_eq!(short_path("/rustc/abc/library/std/src/thread/mod.rs"), "std/src/thread/mod.rs");
        assert_eq!(short_path("examples/src/bin/hotspot.rs"), "examples/src/bin/hotspot.rs");
        assert_eq!(short_path("/tmp/x/main.rs"), "main.rs");
    }

    #[test]
    fn frames_are_function_names() {
        assert_eq!(
            super::function("hotspot::record_sample at examples/src/bin/hotspot.rs:27"),
            "hotspot::record_sample"
        );
        assert_eq!(super::function("a::b::h0123456789abcdef at x.rs:1"), "a::b");
        assert_eq!(super::function("std::thread::spawn"), "std::thread::spawn");
    }
}
