//! Contention: the `stats` table (sortable by any column) and the wait and hold flamegraphs
//! drawn by inferno.

use std::fmt::Write as _;

use crate::flame::{self, Folded};
use crate::stats::Stats;
use crate::units::{duration, percent};

use super::escape;

/// The contention table: one row per lock class, numbers sortable by their raw values.
pub(super) fn table(stats: &Stats) -> String {
    if stats.rows.is_empty() {
        return "<p>No lock was acquired in these traces.</p>\n".to_owned();
    }
    let mut out = String::from(
        "<table class=\"sortable\">\n<thead><tr><th>lock</th><th>acquisitions</th><th>contended</th><th>%</th>\
         <th>wait total</th><th>wait avg</th><th>wait max</th><th>hold total~</th><th>hold avg~</th>\
         <th>hold max~</th><th>owner changes</th><th>waited at</th></tr></thead>\n<tbody>\n",
    );
    for row in &stats.rows {
        let count = |n: u64| format!("<td data-v=\"{n}\">{n}</td>");
        let wait = |ns: u64| match row.contended {
            0 => "<td data-v=\"0\">-</td>".to_owned(),
            _ => format!("<td data-v=\"{ns}\">{}</td>", duration(ns)),
        };
        let hold = |ns: u64| match row.hold_samples {
            0 => "<td data-v=\"0\">-</td>".to_owned(),
            _ => format!("<td data-v=\"{ns}\">~{}</td>", duration(ns)),
        };
        let share = row.contended.saturating_mul(1_000_000).checked_div(row.acquisitions).unwrap_or(0);
        let waiters: Vec<String> = row
            .waiters
            .iter()
            .map(|w| format!("<code>{}</code>: {} × {}", escape(&w.site), w.waits, duration(w.wait_ns)))
            .collect();
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td>{}{}<td data-v=\"{share}\">{}</td>{}{}{}{}{}{}{}<td>{}</td></tr>",
            escape(&row.class),
            count(row.acquisitions),
            count(row.contended),
            percent(row.contended, row.acquisitions),
            wait(row.wait_total_ns),
            wait(row.wait_avg_ns),
            wait(row.wait_max_ns),
            hold(row.hold_total_ns_est),
            hold(row.hold_avg_ns),
            hold(row.hold_max_ns),
            count(row.owner_changes),
            waiters.join("<br>")
        );
    }
    out += "</tbody>\n</table>\n<p class=\"note\">Click a heading to sort. ~: estimated from sampled holds; \
            owner changes: a lower bound (threads' events interleave per collected batch).</p>\n";
    out
}

/// A flamegraph, interactive (inferno's zoom and search), in a frame of its own: its
/// script and ids then never meet the page's or the other flamegraph's. The frame's document
/// is inline (`srcdoc`), escaped like any attribute.
pub(super) fn flamegraph(folded: &Folded, title: &str) -> String {
    let mut svg = Vec::new();
    if let Err(e) = flame::svg(folded, &mut svg) {
        return format!("<p>No flamegraph: {}</p>\n", escape(&e.to_string()));
    }
    let svg = String::from_utf8_lossy(&svg);
    let height = svg_height(&svg).unwrap_or(400) + 8;
    // The frame's document is HTML: the SVG element alone, as wide as the frame (inferno's
    // script takes its width away to redraw fluidly, which would leave HTML's 300px default).
    let element = svg.find("<svg").map_or(&*svg, |at| &svg[at..]);
    let svg = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>body{{margin:0}}svg{{width:100%;height:auto}}</style></head><body>{element}</body></html>"
    );
    format!(
        "<iframe class=\"flame\" title=\"{}\" style=\"height:{height}px\" srcdoc=\"{}\"></iframe>\n",
        escape(title),
        escape(&svg)
    )
}

/// The `height` of an SVG's root element, in pixels.
fn svg_height(svg: &str) -> Option<u32> {
    let root = &svg[svg.find("<svg")?..];
    let root = &root[..root.find('>')?];
    let at = root.find(" height=\"")? + " height=\"".len();
    root[at..].split('"').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_frame_is_as_tall_as_the_svg() {
        assert_eq!(
            super::svg_height("<?xml?><svg version=\"1.1\" width=\"1200\" height=\"134\" x=\"1\"><rect height=\"9\"/>"),
            Some(134)
        );
        assert_eq!(super::svg_height("<svg>"), None);
    }
}
