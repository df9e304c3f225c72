//! The page skeleton: head with the inline style and the table-sorting script, then the
//! sections in reading order: verdict and summaries, findings, the class graph, contention,
//! and what may make the analysis incomplete.

use std::fmt::Write as _;

use super::finding::{level, one_line, section};
use super::source::Sources;
use super::{contention, escape, graph, Pictures};

const STYLE: &str = "\
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1280px;padding:0 1.5em 3em;color:#1d1d1f}\
h1{font-size:1.6em;margin:.8em 0 .3em}h2{border-bottom:1px solid #ddd;margin-top:2em}\
code,pre{font:13px/1.4 ui-monospace,monospace}\
.verdict{font-size:1.2em;padding:.6em 1em;border-radius:6px}\
.verdict.failing{background:#ffebee;color:#b71c1c}.verdict.clean{background:#e8f5e9;color:#1b5e20}\
.verdict.warning{background:#fff8e1;color:#8d6e00}\
ul.summaries li.failing::marker{color:#c62828}ul.summaries li.warning::marker{color:#f9a825}\
section.finding{border-left:4px solid #c62828;padding:.2em 1em;margin:1.5em 0;background:#fafafa}\
section.finding.warning{border-color:#f9a825}\
iframe.flame{width:100%;border:0;display:block}figure{margin:.8em 0;overflow-x:auto}figure svg{max-width:100%;height:auto}\
table{border-collapse:collapse}td,th{padding:.25em .7em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}\
table.interleaving td{min-width:12em;font-family:ui-monospace,monospace}\
td.waits{color:#c62828}td.deadlock{font-weight:bold;color:#c62828;text-align:center}\
table.sortable th{cursor:pointer;background:#f0f0f0}table.sortable td[data-v]{text-align:right}\
pre.src{background:#fff;border:1px solid #e4e4e4;padding:.4em 0;overflow-x:auto}\
pre.src span{display:block;padding:0 .6em}pre.src span.here{background:#fff3c4}\
pre.src i{color:#999;font-style:normal;user-select:none}\
.note{color:#666;font-size:.9em}.warnings li{color:#8d6e00}";

/// Sorts a `table.sortable` by the clicked column: numbers by their `data-v`, text by its
/// content; a second click reverses.
const SCRIPT: &str = "\
document.querySelectorAll('table.sortable th').forEach(function(th,col){th.addEventListener('click',function(){\
var body=th.closest('table').tBodies[0],rows=Array.from(body.rows),down=th.dataset.dir!=='down';\
th.dataset.dir=down?'down':'up';\
function key(r){var c=r.cells[col];return c.dataset.v!==undefined?Number(c.dataset.v):c.textContent;}\
rows.sort(function(a,b){var x=key(a),y=key(b),o=x<y?-1:x>y?1:0;return down?-o:o;});\
rows.forEach(function(r){body.appendChild(r);});});});";

/// The whole document.
pub(super) fn page(pictures: &Pictures) -> String {
    let analysis = &pictures.checked.analysis;
    let findings = &analysis.report.findings;
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>lockcheck report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>lockcheck report</h1>\n"
    );
    out += &verdict(pictures);
    if !findings.is_empty() {
        out += "<ul class=\"summaries\">\n";
        for (n, finding) in (1..).zip(findings) {
            let _ = writeln!(
                out,
                "<li class=\"{}\"><a href=\"#finding-{n}\">{}</a>: {}</li>",
                level(finding),
                escape(finding.headline()),
                escape(&one_line(finding))
            );
        }
        out += "</ul>\n";
    }
    out += &incomplete(pictures);
    if !findings.is_empty() {
        out += "<h2 id=\"findings\">Findings</h2>\n";
        let mut sources = Sources::new(&pictures.roots);
        for (n, finding) in (1..).zip(findings) {
            out += &section(n, finding, &mut sources);
        }
    }
    out += "<h2 id=\"graph\">Lock-order graph</h2>\n";
    if pictures.graph.classes.is_empty() {
        out += "<p>No lock class was declared in these traces.</p>\n";
    } else {
        out += "<p class=\"note\">Every order in which classes were taken, with how often. \
                Red: a cycle that can deadlock; dashed: a cycle a gate lock serialises.</p>\n";
        let _ = writeln!(out, "<figure class=\"graph\">{}</figure>", graph::class_svg(&pictures.graph, "classes-"));
    }
    out += "<h2 id=\"contention\">Contention</h2>\n";
    out += &contention::table(&pictures.stats);
    out += "<h3>Where threads waited</h3>\n";
    out += &contention::flamegraph(&pictures.wait, "wait flamegraph");
    out += "<h3>Who made them wait</h3>\n";
    out += &contention::flamegraph(&pictures.hold, "hold flamegraph");
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

/// The verdict, as `check` would give it, and what was read.
fn verdict(pictures: &Pictures) -> String {
    let analysis = &pictures.checked.analysis;
    let findings = &analysis.report.findings;
    let failing = findings.iter().filter(|f| f.is_failure()).count();
    let (class, text) = match (findings.len(), failing) {
        (0, _) => ("clean", "No findings.".to_owned()),
        (n, 0) => ("warning", format!("{n} finding{}, none failing.", plural(n))),
        (n, f) => ("failing", format!("{n} finding{}, {f} failing.", plural(n))),
    };
    let traces = analysis.traces;
    format!(
        "<p class=\"verdict {class}\">{text}</p>\n<p class=\"note\">{traces} trace{}, {} events.</p>\n",
        plural(traces),
        analysis.events
    )
}

/// Lost events, damaged traces and suppressed findings, stated plainly.
fn incomplete(pictures: &Pictures) -> String {
    let checked = &pictures.checked;
    let mut lines = Vec::new();
    let lost = checked.analysis.report.events_lost;
    if lost > 0 {
        lines.push(format!(
            "{lost} event{} lost (a ring was full): contention maxima, holds and flamegraphs are incomplete; \
             counts and wait totals are exact.",
            if lost == 1 { " was" } else { "s were" }
        ));
    }
    lines.extend(checked.analysis.warnings.iter().cloned());
    for s in &checked.suppressed {
        lines.push(format!("suppressed: {} (reason: {})", one_line(&s.finding), s.reason));
    }
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from("<ul class=\"warnings\">\n");
    for line in lines {
        let _ = writeln!(out, "<li>{}</li>", escape(&line));
    }
    out + "</ul>\n"
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
