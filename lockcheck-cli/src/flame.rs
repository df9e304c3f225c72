//! `lockcheck flamegraph`: contention as folded stacks weighted in nanoseconds, drawn by
//! inferno.
//!
//! - `--metric wait`, "where threads waited": each contended acquisition (or timeout)
//!   contributes its wait to the frames of its acquisition site, topped by `lock:<class>`.
//! - `--metric hold`, "who made them wait": each sampled hold contributes its length to the
//!   holding thread and the site that acquired the lock, topped by `lock:<class>`.
//!
//! Frames are kept short: absolute source paths are cut to the crate-relative part
//! (`parking_lot-0.12.3/src/mutex.rs`), relative ones (the workspace's own) are kept.

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
    /// Time locks were held, by who held them and where they took them.
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

/// One trace's weights by (thread or none, site, lock), before they become frame text.
#[derive(Default)]
struct TraceAcc {
    weights: HashMap<(Option<u32>, u32, u32), u64>,
    /// Hold metric: the site of each (thread, lock)'s current acquisition.
    acquired_at: HashMap<(u32, u32), u32>,
}

impl TraceAcc {
    fn event(&mut self, metric: Metric, event: &Event) {
        match (metric, event.kind) {
            (Metric::Wait, EventKind::Acquired { site, wait_ns: Some(wait), .. })
            | (Metric::Wait, EventKind::TimedOut { site, wait_ns: wait, .. }) => {
                self.add((None, site, event.lock), wait);
            }
            (Metric::Hold, EventKind::Acquired { site, .. }) => {
                self.acquired_at.insert((event.thread, event.lock), site);
            }
            (Metric::Hold, EventKind::Released { hold_ns }) => {
                let site = self.acquired_at.remove(&(event.thread, event.lock));
                if let (Some(site), Some(hold)) = (site, hold_ns) {
                    self.add((Some(event.thread), site, event.lock), hold);
                }
            }
            _ => {}
        }
    }

    fn add(&mut self, key: (Option<u32>, u32, u32), ns: u64) {
        let weight = self.weights.entry(key).or_default();
        *weight = weight.saturating_add(ns);
    }

    fn fold_into(&self, data: &TraceData, out: &mut HashMap<String, u64>) {
        for (&(thread, site, lock), &ns) in &self.weights {
            let mut frames = Vec::new();
            if let Some(thread) = thread {
                frames.push(data.threads.get(&thread).cloned().unwrap_or_else(|| format!("thread #{thread}")));
            }
            frames.push(data.sites.get(&site).map_or_else(|| format!("site #{site}"), site_frame));
            let class = data.class_of(lock).map_or_else(|| format!("#{lock}"), |c| short_label(&c.label));
            frames.push(format!("lock:{class}"));
            let stack: Vec<String> = frames.iter().map(|f| f.replace([';', '\n'], ",")).collect();
            let weight = out.entry(stack.join(";")).or_default();
            *weight = weight.saturating_add(ns);
        }
    }
}

/// Reads `inputs` and folds their contention into stacks weighted by `options.metric`.
pub fn folded(inputs: &[PathBuf], options: &FlameOptions) -> Result<Folded, Error> {
    let metric = options.metric;
    let mut accs: Vec<TraceAcc> = Vec::new();
    let traces = load::load(inputs, &options.load, |index, _, event| {
        while accs.len() <= index {
            accs.push(TraceAcc::default());
        }
        accs[index].event(metric, event);
    })?;
    let mut stacks = HashMap::new();
    for (trace, acc) in traces.iter().zip(&accs) {
        acc.fold_into(&trace.data, &mut stacks);
    }
    let mut lines: Vec<String> =
        stacks.into_iter().filter(|&(_, ns)| ns > 0).map(|(stack, ns)| format!("{stack} {ns}")).collect();
    lines.sort();
    Ok(Folded {
        lines,
        metric,
        events_lost: traces.iter().map(|t| t.data.events_lost()).sum(),
        warnings: traces.iter().filter_map(load::Trace::warning).collect(),
    })
}

/// Draws `folded` as an SVG flamegraph into `out`. Fails when there is nothing to draw.
pub fn svg(folded: &Folded, out: impl Write) -> Result<(), Error> {
    if folded.lines.is_empty() {
        let what = match folded.metric {
            Metric::Wait => "no thread waited for a lock in these traces",
            Metric::Hold => "no timed hold in these traces",
        };
        return Err(Error::Flamegraph(format!("{what}: nothing to draw")));
    }
    let mut options = inferno::flamegraph::Options::default();
    options.title = match folded.metric {
        Metric::Wait => "lockcheck: where threads waited".to_owned(),
        Metric::Hold => "lockcheck: who held the locks".to_owned(),
    };
    if folded.events_lost > 0 {
        options.subtitle = Some(format!("{} events were lost: incomplete", folded.events_lost));
    }
    options.count_name = "ns".to_owned();
    options.name_type = "Frame:".to_owned();
    inferno::flamegraph::from_lines(&mut options, folded.lines.iter().map(String::as_str), out)
        .map_err(|e| Error::Flamegraph(e.to_string()))
}

/// A site as a frame: `file:line`, the file cut to its crate-relative part.
fn site_frame(site: &Site) -> String {
    format!("{}:{}", short_path(&site.file), site.line)
}

/// A class label, with the path of an unnamed class's creation site shortened.
fn short_label(label: &str) -> String {
    short_path(label)
}

/// An absolute source path cut to `<crate>/src/…` (the component before the last `/src/`);
/// relative paths, already workspace-relative, unchanged.
pub(crate) fn short_path(path: &str) -> String {
    if !path.starts_with('/') && !path.get(1..3).is_some_and(|s| s == ":\\") {
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
}
