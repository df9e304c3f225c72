//! One finding as a section of the page: its summary; for a cycle, the cycle drawn, the
//! minimal interleaving as thread columns, each edge's sites with their source and its stack;
//! for any other finding, its text report and its site's source.

use std::fmt::Write as _;

use lockcheck::{Cycle, Edge, Finding, Site};

use super::escape;
use super::graph::{cycle_name, cycle_svg};
use super::source::Sources;

/// The interleaving shows at most this many threads, like the text report.
const MAX_COLUMNS: usize = 8;

/// The finding's one-line summary, without the text report's `SUMMARY: ` prefix.
pub(super) fn one_line(finding: &Finding) -> String {
    let summary = finding.summary();
    summary.strip_prefix("SUMMARY: ").map(str::to_owned).unwrap_or(summary)
}

/// `failing` or `warning`, the CSS class of a finding's colour.
pub(super) fn level(finding: &Finding) -> &'static str {
    if finding.is_failure() {
        "failing"
    } else {
        "warning"
    }
}

/// Finding number `n` (from 1) as a `<section>`.
pub(super) fn section(n: usize, finding: &Finding, sources: &mut Sources) -> String {
    let mut out = format!(
        "<section class=\"finding {}\" id=\"finding-{n}\">\n<h3>{n}. {}</h3>\n<p class=\"summary\">{}</p>\n",
        level(finding),
        escape(finding.headline()),
        escape(&one_line(finding))
    );
    match finding {
        Finding::PotentialDeadlock(cycle) => out += &cycle_section(n, cycle, sources),
        other => {
            let _ = writeln!(out, "<pre class=\"text\">{}</pre>", escape(&other.to_string()));
            if let Some(site) = other.primary_site() {
                out += &site_block("at", site, sources);
            }
        }
    }
    out + "</section>\n"
}

fn cycle_section(n: usize, cycle: &Cycle, sources: &mut Sources) -> String {
    let times = if cycle.count == 1 { "once" } else { "times" };
    let seen = if cycle.count == 1 { String::new() } else { format!("{} ", cycle.count) };
    let mut out = format!(
        "<p>seen {seen}{times}{}</p>\n<figure class=\"graph\">{}</figure>\n",
        cycle
            .guarded_by
            .as_ref()
            .map(|g| format!("; guarded by <code>{}</code>", escape(&g.class)))
            .unwrap_or_default(),
        cycle_svg(cycle, &format!("f{n}-"))
    );
    if !cycle.edges.is_empty() {
        out += "<h4>Minimal interleaving that would deadlock</h4>\n";
        out += &interleaving(cycle);
    }
    for (i, edge) in cycle.edges.iter().enumerate() {
        let (from, to) = (cycle_name(&edge.from, cycle), cycle_name(&edge.to, cycle));
        let _ = writeln!(
            out,
            "<h4>Edge {}: <code>{}</code> then <code>{}</code> ({} / {}), first taken by thread <code>{}</code></h4>",
            i + 1,
            escape(&from),
            escape(&to),
            edge.from_mode.verb(),
            edge.to_mode.verb(),
            escape(&edge.thread)
        );
        out += &site_block(&format!("<code>{}</code> acquired at", escape(&from)), &edge.from_site, sources);
        out += &site_block(&format!("<code>{}</code> acquired at", escape(&to)), &edge.to_site, sources);
        out += &stack(edge);
    }
    let notes: Vec<&String> = cycle.notes.iter().collect();
    if !notes.is_empty() {
        out += "<ul class=\"notes\">";
        for note in notes {
            let _ = write!(out, "<li>{}</li>", escape(note));
        }
        out += "</ul>\n";
    }
    out
}

/// One column per edge's thread: each takes its `from`, then each tries its `to`, which the
/// next column holds. Real thread names only when every edge has its own thread.
fn interleaving(cycle: &Cycle) -> String {
    let shown = &cycle.edges[..cycle.edges.len().min(MAX_COLUMNS)];
    let mut threads: Vec<&str> = cycle.edges.iter().map(|e| e.thread.as_str()).collect();
    threads.sort_unstable();
    threads.dedup();
    let real_names = threads.len() == cycle.edges.len();
    let mut out = String::from("<table class=\"interleaving\">\n<tr>");
    for (letter, edge) in (b'A'..).zip(shown) {
        let name = if real_names { escape(&edge.thread) } else { char::from(letter).to_string() };
        let _ = write!(out, "<th>thread {name}</th>");
    }
    out += "</tr>\n";
    let row = |out: &mut String, column: usize, cell: String| {
        out.push_str("<tr>");
        for i in 0..shown.len() {
            out.push_str(if i == column { &cell } else { "<td></td>" });
        }
        out.push_str("</tr>\n");
    };
    for (i, edge) in shown.iter().enumerate() {
        let cell = format!(
            "<td class=\"takes\">{}(<code>{}</code>)</td>",
            edge.from_mode.verb(),
            escape(&cycle_name(&edge.from, cycle))
        );
        row(&mut out, i, cell);
    }
    for (i, edge) in shown.iter().enumerate() {
        let to = escape(&cycle_name(&edge.to, cycle));
        let cell = format!("<td class=\"waits\">{}(<code>{to}</code>) waits</td>", edge.to_mode.verb());
        row(&mut out, i, cell);
    }
    let _ = write!(out, "<tr><td class=\"deadlock\" colspan=\"{}\">deadlock</td></tr>\n</table>\n", shown.len());
    if shown.len() < cycle.edges.len() {
        let _ = writeln!(out, "<p>The cycle has {} edges; the first {MAX_COLUMNS} are shown.</p>", cycle.edges.len());
    }
    out
}

/// A site with its source excerpt.
fn site_block(what: &str, site: &Site, sources: &mut Sources) -> String {
    format!(
        "<div class=\"site\"><p>{what} <code>{}</code></p>{}</div>\n",
        escape(&site.to_string()),
        sources.excerpt(site)
    )
}

/// An edge's stack, collapsed.
fn stack(edge: &Edge) -> String {
    if edge.stack.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<details class=\"stack\"><summary>stack ({} {}, innermost first)</summary><ol start=\"0\">",
        edge.stack.len(),
        if edge.stack.len() == 1 { "frame" } else { "frames" }
    );
    for frame in &edge.stack {
        let _ = write!(out, "<li><code>{}</code></li>", escape(frame));
    }
    out + "</ol></details>\n"
}
