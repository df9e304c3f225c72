//! Every subcommand's reading and analysis of one trace, in-process: the hardening test and
//! the fuzz target (`fuzz/fuzz_targets/trace_reader.rs`, which includes this file) share it.

use std::path::Path;

use lockcheck_cli::format::{self, Format, RenderOptions};
use lockcheck_cli::load::LoadOptions;
use lockcheck_cli::{check, dot, flame, stats};

/// Every subcommand's reading and analysis of `path`, and with `render`, every output each
/// can produce. Errors are fine (the binary exits 2 with them); a panic is not.
pub fn every_subcommand(path: &Path, render: bool) {
    let inputs = [path.to_path_buf()];
    let mut load = LoadOptions::default();
    load.progress = false;
    let mut checking = check::CheckOptions::default();
    (checking.suppress, checking.load) = (false, load.clone());
    if let (Ok(checked), true) = (check::check(&inputs, &checking), render) {
        for format in [Format::Text, Format::Json, Format::Sarif, Format::Github] {
            let mut options = RenderOptions::default();
            options.format = format;
            format::render(&checked.analysis, &checked.suppressed, &options);
        }
    }
    let mut counting = stats::StatsOptions::default();
    counting.load = load.clone();
    if let (Ok(counted), true) = (stats::stats(&inputs, &counting), render) {
        stats::render_text(&counted);
        serde_json::to_string(&counted).unwrap();
    }
    for metric in [flame::Metric::Wait, flame::Metric::Hold] {
        let mut drawing = flame::FlameOptions::default();
        (drawing.metric, drawing.load) = (metric, load.clone());
        if let (Ok(folded), true) = (flame::folded(&inputs, &drawing), render) {
            let _ = flame::svg(&folded, Vec::new());
        }
    }
    let mut graphing = dot::GraphOptions::default();
    graphing.load = load;
    if let (Ok(graph), true) = (dot::graph(&inputs, &graphing), render) {
        graph.dot();
        let ranks = graph.suggest_ranks();
        ranks.render_text();
        graph.to_json(Some(&ranks));
    }
}
