//! The `lockcheck` command: parses argv into the library's options, calls the library, and
//! maps the outcome to an exit status (0 clean, 1 findings, 2 error; a closed pipe exits 0).

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use lockcheck_cli::cli::{Cli, Command, ReportFormat, TextOrJson};
use lockcheck_cli::format::{self, Format, RenderOptions};
use lockcheck_cli::{check, dot, flame, html, run, stats, stress, timeline, Verdict};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A panic is a bug, never a verdict: one line, and exit 2 like any other error.
    std::panic::set_hook(Box::new(|info| eprintln!("lockcheck: error: internal error (please report it): {info}")));
    let Ok(result) = std::panic::catch_unwind(|| run(cli)) else {
        return ExitCode::from(2);
    };
    match result {
        Ok(verdict) => ExitCode::from(verdict.code()),
        Err(e) if e.chain().any(is_broken_pipe) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lockcheck: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Verdict> {
    let colour = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let render = |format| {
        let mut options = RenderOptions::default();
        (options.format, options.colour) = (format, colour);
        options
    };
    match cli.command {
        Command::Report { inputs, format, output } => {
            let mut options = check::CheckOptions::default();
            options.suppress = false;
            let text = match format {
                ReportFormat::Html => {
                    let mut html = html::HtmlOptions::default();
                    html.check = options;
                    let pictures = html::pictures(&inputs.paths, &html)?;
                    write_to(output.as_deref(), html::render(&pictures).as_bytes())?;
                    return Ok(pictures.verdict());
                }
                ReportFormat::Text => Format::Text,
                ReportFormat::Json => Format::Json,
            };
            let checked = check::check(&inputs.paths, &options)?;
            let colour = output.is_none() && colour;
            let mut options = render(text);
            options.colour = colour;
            write_to(output.as_deref(), format::render(&checked.analysis, &checked.suppressed, &options).as_bytes())?;
            Ok(checked.verdict())
        }
        Command::Timeline { inputs, output, from, to, max_slices } => {
            let mut options = timeline::TimelineOptions::default();
            options.from = from.map(|t| timeline::parse_time("--from", &t)).transpose()?;
            options.to = to.map(|t| timeline::parse_time("--to", &t)).transpose()?;
            options.max_slices = max_slices;
            let written = match &output {
                Some(path) => {
                    let file = std::fs::File::create(path).with_context(|| path.display().to_string())?;
                    timeline::timeline(&inputs.paths, &options, file)?
                }
                None => timeline::timeline(&inputs.paths, &options, io::stdout().lock())?,
            };
            for notice in written.notices() {
                eprintln!("lockcheck: {notice}");
            }
            Ok(Verdict::Clean)
        }
        Command::Check { inputs, format, suppressions } => {
            let mut options = check::CheckOptions::default();
            options.suppressions = suppressions;
            let checked = check::check(&inputs.paths, &options)?;
            out(&format::render(&checked.analysis, &checked.suppressed, &render(format)))?;
            Ok(checked.verdict())
        }
        Command::Stats { inputs, sort, top, format } => {
            let mut options = stats::StatsOptions::default();
            (options.sort, options.top) = (sort, top);
            let stats = stats::stats(&inputs.paths, &options)?;
            match format {
                TextOrJson::Text => out(&stats::render_text(&stats))?,
                TextOrJson::Json => out(&(serde_json::to_string_pretty(&stats)? + "\n"))?,
            }
            Ok(Verdict::Clean)
        }
        Command::Flamegraph { inputs, output, metric, folded } => {
            let mut options = flame::FlameOptions::default();
            options.metric = metric;
            let stacks = flame::folded(&inputs.paths, &options)?;
            for warning in &stacks.warnings {
                eprintln!("lockcheck: warning: {warning}");
            }
            let mut bytes = Vec::new();
            match folded {
                true => stacks.lines.iter().for_each(|line| bytes.extend_from_slice(format!("{line}\n").as_bytes())),
                false => flame::svg(&stacks, &mut bytes)?,
            }
            write_to(output.as_deref(), &bytes)?;
            Ok(Verdict::Clean)
        }
        Command::Graph { inputs, output, suggest_ranks, format } => {
            let graph = dot::graph(&inputs.paths, &dot::GraphOptions::default())?;
            let ranks = suggest_ranks.then(|| graph.suggest_ranks());
            // Text: the DOT (to the file, or stdout) and the ranks after it. JSON: stdout is
            // one document, whatever `-o` received.
            if output.is_some() || format == TextOrJson::Text {
                write_to(output.as_deref(), graph.dot().as_bytes())?;
            }
            match format {
                TextOrJson::Text => out(&ranks.map(|r| r.render_text()).unwrap_or_default())?,
                TextOrJson::Json => out(&(serde_json::to_string_pretty(&graph.to_json(ranks.as_ref()))? + "\n"))?,
            }
            Ok(Verdict::from_failing(graph.analysis.report.has_failures()))
        }
        Command::Run { trace_dir, format, suppressions, flamegraph, html: page, command } => {
            let mut options = run::RunOptions::default();
            (options.command, options.trace_dir, options.check.suppressions) = (command, trace_dir, suppressions);
            let check_options = options.check.clone();
            let outcome = run::run(&options)?;
            // The command's own failure first: it explains what follows (no trace, say).
            if let Some(failure) = outcome.command_failure() {
                eprintln!("lockcheck: {failure}");
            }
            if let Some(missing) = outcome.missing_traces() {
                eprintln!("lockcheck: {missing}");
            }
            let Some(checked) = &outcome.checked else { return Ok(outcome.verdict()) };
            out(&format::render(&checked.analysis, &checked.suppressed, &render(format)))?;
            eprintln!("lockcheck: traces kept in {}", outcome.trace_dir.display());
            if let Some(path) = flamegraph {
                let stacks = flame::folded(std::slice::from_ref(&outcome.trace_dir), &flame::FlameOptions::default())?;
                let mut svg = Vec::new();
                match flame::svg(&stacks, &mut svg) {
                    Ok(()) => write_to(Some(&path), &svg)?,
                    Err(e) => eprintln!("lockcheck: warning: no flamegraph: {e}"),
                }
            }
            if let Some(path) = page {
                let mut html = html::HtmlOptions::default();
                html.check = check_options;
                let pictures = html::pictures(std::slice::from_ref(&outcome.trace_dir), &html)?;
                write_to(Some(&path), html::render(&pictures).as_bytes())?;
            }
            Ok(outcome.verdict())
        }
        Command::Stress(args) => {
            let mut options = stress::StressOptions::default();
            options.runs = stress::parse_runs(&args.runs)?;
            options.seed = args.seed.as_deref().map(stress::parse_seed).transpose()?;
            options.timeout = stress::parse_timeout(&args.timeout)?;
            (options.command, options.trace_dir, options.check.suppressions) =
                (args.command, args.trace_dir, args.suppressions);
            options.progress = true;
            let outcome = stress::stress(&options)?;
            if let Some(missing) = outcome.missing_traces() {
                eprintln!("lockcheck: {missing}");
            }
            let report =
                |format| outcome.checked.as_ref().map(|c| format::render(&c.analysis, &c.suppressed, &render(format)));
            match args.format {
                TextOrJson::Text => out(&(report(Format::Text).unwrap_or_default() + &outcome.render_text()))?,
                TextOrJson::Json => {
                    let report = report(Format::Json).and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default();
                    out(&(serde_json::to_string_pretty(&outcome.to_json(report))? + "\n"))?;
                }
            }
            eprintln!("lockcheck: traces and run output kept in {}", outcome.trace_dir.display());
            Ok(outcome.verdict())
        }
    }
}

/// Writes `text` to stdout; a closed pipe comes back as an error `main` treats as success.
fn out(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// Writes `bytes` to `path`, or to stdout without one.
fn write_to(path: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match path {
        Some(path) => std::fs::write(path, bytes).with_context(|| path.display().to_string()),
        None => Ok(io::stdout().lock().write_all(bytes)?),
    }
}

fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}
