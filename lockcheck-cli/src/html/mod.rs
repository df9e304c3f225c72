//! `lockcheck report --format html` and `lockcheck run --html`: one self-contained page (CSS,
//! SVG and a few lines of script inline, nothing fetched) with the verdict, every finding
//! drawn (cycle graph, interleaving, sites with their source, stacks), the class lock-order
//! graph, the contention table and the wait and hold flamegraphs.
//!
//! Every string that comes from a trace (lock names, thread names, file paths, stack frames,
//! source lines) goes through `escape`: a trace cannot inject markup into the page.
//!
//! One read of the traces feeds everything: the findings, the stats and both flamegraphs
//! accumulate as the events stream by.

mod contention;
mod finding;
mod graph;
mod page;
mod source;

use std::path::PathBuf;

use crate::check::{self, CheckOptions, Checked};
use crate::dot::ClassGraph;
use crate::flame::{FoldAcc, Folded, Metric};
use crate::stats::{Stats, StatsAcc, StatsOptions};
use crate::{Error, Verdict};

/// How the page is made.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct HtmlOptions {
    /// How findings are read and suppressed. Default: [`CheckOptions::default`] (`report`
    /// turns suppressions off; `run --html` keeps them).
    pub check: CheckOptions,
}

/// Everything the page shows, computed in one read of the traces.
#[derive(Debug)]
#[non_exhaustive]
pub struct Pictures {
    /// The findings that remain, and those suppressed.
    pub checked: Checked,
    /// The class lock-order graph.
    pub graph: ClassGraph,
    /// The contention table.
    pub stats: Stats,
    /// Time waited, by where threads waited.
    pub wait: Folded,
    /// Time waited, by who held the locks.
    pub hold: Folded,
    /// The working directories of the traced processes, where relative source paths are
    /// looked for after the current directory.
    pub roots: Vec<PathBuf>,
}

impl Pictures {
    /// The verdict the page states.
    pub fn verdict(&self) -> Verdict {
        self.checked.verdict()
    }
}

/// Reads `inputs` once and computes everything the page shows.
pub fn pictures(inputs: &[PathBuf], options: &HtmlOptions) -> Result<Pictures, Error> {
    let mut stats = StatsAcc::default();
    let (mut wait, mut hold) = (FoldAcc::new(Metric::Wait), FoldAcc::new(Metric::Hold));
    let (checked, traces) = check::check_with(inputs, &options.check, |index, data, event| {
        stats.event(index, data, event);
        wait.event(index, event);
        hold.event(index, event);
    })?;
    let roots = traces.iter().filter_map(|t| t.data.header.as_ref()).map(|h| PathBuf::from(&h.cwd)).collect();
    Ok(Pictures {
        graph: ClassGraph::merge(&traces, checked.analysis.clone()),
        stats: stats.finish(&traces, &StatsOptions::default()),
        wait: wait.finish(&traces),
        hold: hold.finish(&traces),
        checked,
        roots,
    })
}

/// The page of `pictures`, a complete HTML document.
pub fn render(pictures: &Pictures) -> String {
    page::page(pictures)
}

/// `text` safe anywhere in HTML text or a quoted attribute value.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_is_escaped() {
        assert_eq!(super::escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    }
}
