//! Rendering an [`Analysis`] for people and machines: text (lockdep-style), JSON, SARIF 2.1.0
//! and GitHub workflow annotations. Suppressed findings and damaged traces appear in every
//! format.

mod sarif;

use lockcheck::{Finding, Report};
use serde_json::{json, Value};

use crate::analysis::Analysis;
use crate::suppress::Suppressed;

/// An output format of `report` and `check`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable reports, lockdep-style.
    #[default]
    Text,
    /// The report as JSON: the library's report form plus `suppressed`, `warnings`, `traces`.
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::…`).
    Github,
}

/// How a report is rendered.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RenderOptions {
    /// The output format. Default: [`Format::Text`].
    pub format: Format,
    /// Colour the text format's headlines (ANSI). Default: `false`; `main` turns it on for
    /// a terminal unless `NO_COLOR` is set.
    pub colour: bool,
}

/// Renders `analysis`, with the findings that suppressions took out of it.
pub fn render(analysis: &Analysis, suppressed: &[Suppressed], options: &RenderOptions) -> String {
    match options.format {
        Format::Text => text(analysis, suppressed, options.colour),
        Format::Json => {
            let mut value = serde_json::to_value(&analysis.report).unwrap_or(Value::Null);
            value["suppressed"] = suppressed
                .iter()
                .map(|s| json!({ "reason": s.reason, "finding": serde_json::to_value(&s.finding).unwrap_or(Value::Null) }))
                .collect();
            value["warnings"] = json!(analysis.warnings);
            value["traces"] = json!(analysis.traces);
            if !analysis.stressed.is_empty() {
                value["stress"] = serde_json::to_value(&analysis.stressed).unwrap_or(Value::Null);
            }
            pretty(&value)
        }
        Format::Sarif => pretty(&sarif::sarif(&analysis.report, suppressed, &analysis.warnings)),
        Format::Github => github(&analysis.report, suppressed, &analysis.warnings),
    }
}

fn pretty(value: &Value) -> String {
    // A `Value` always serialises: its map keys are strings.
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const RESET: &str = "\x1b[0m";

/// The library's report text, then suppressed findings and warnings, one line each.
fn text(analysis: &Analysis, suppressed: &[Suppressed], colour: bool) -> String {
    let mut out = String::new();
    for line in analysis.report.to_string().lines() {
        let paint = if !colour {
            None
        } else if line.starts_with("lockcheck: warning") {
            Some(YELLOW)
        } else if line.starts_with("lockcheck: ") && line != "lockcheck: no findings" {
            Some(RED)
        } else {
            None
        };
        match paint {
            Some(code) => out += &format!("{code}{line}{RESET}\n"),
            None => out += &format!("{line}\n"),
        }
    }
    for s in suppressed {
        out += &format!("suppressed: {} (reason: {})\n", one_line(&s.finding), s.reason);
    }
    for warning in &analysis.warnings {
        out += &format!("lockcheck: warning: {warning}\n");
    }
    for stressed in &analysis.stressed {
        out += &format!("{}\n", stressed.line());
    }
    out
}

/// Every rule: id and short description (the GitHub annotation's title), in SARIF's order.
const RULES: [(&str, &str); 8] = [
    ("potential-deadlock", "Lock-order cycle: potential deadlock"),
    ("guarded-cycle", "Lock-order cycle serialised by a gate lock"),
    ("self-deadlock", "Lock acquired again by the thread holding it"),
    ("rank-violation", "Lock ranks not increasing"),
    ("deadlock", "Threads deadlocked"),
    ("stall", "Lock wait past the watchdog threshold"),
    ("misuse", "Lock misuse"),
    ("failed-assertion", "Held-lock assertion failed"),
];

/// The rule a finding falls under: id and short description.
fn rule(finding: &Finding) -> (&'static str, &'static str) {
    RULES[match finding {
        Finding::PotentialDeadlock(c) if c.guarded_by.is_some() => 1,
        Finding::PotentialDeadlock(_) => 0,
        Finding::SelfDeadlock(_) => 2,
        Finding::RankViolation(_) => 3,
        Finding::ActualDeadlock(_) => 4,
        Finding::Stall(_) => 5,
        Finding::Misuse(_) => 6,
        Finding::FailedAssertion(_) => 7,
    }]
}

fn level(finding: &Finding) -> &'static str {
    if finding.is_failure() {
        "error"
    } else {
        "warning"
    }
}

/// The finding's one-line summary, without the text report's `SUMMARY: ` prefix: what an
/// annotation or a SARIF message says.
fn one_line(finding: &Finding) -> String {
    let summary = finding.summary();
    summary.strip_prefix("SUMMARY: ").map(str::to_owned).unwrap_or(summary)
}

/// Escapes a workflow command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One `::error`/`::warning` line per finding, at its primary site, with its one-line summary
/// as the message; then lost events, suppressed findings (notices) and damaged traces.
fn github(report: &Report, suppressed: &[Suppressed], warnings: &[String]) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        let (_, title) = rule(finding);
        let at = finding
            .primary_site()
            .map(|s| format!(" file={},line={},col={},", escape_property(&s.file), s.line, s.column))
            .unwrap_or_else(|| " ".to_owned());
        out +=
            &format!("::{}{at}title={}::{}\n", level(finding), escape_property(title), escape_data(&one_line(finding)));
    }
    if report.events_lost > 0 {
        out += &format!(
            "::warning title=lockcheck lost events::{} events were lost ({}); the analysis is incomplete\n",
            report.events_lost,
            lockcheck::Report::LOST_BECAUSE,
        );
    }
    for s in suppressed {
        let summary = format!("{} (reason: {})", one_line(&s.finding), s.reason);
        out += &format!("::notice title=lockcheck suppressed::{}\n", escape_data(&summary));
    }
    for warning in warnings {
        out += &format!("::warning title=lockcheck damaged trace::{}\n", escape_data(warning));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockcheck::{HeldLock, LockRef, Misuse, Mode, Site};

    fn render(report: &Report, format: Format) -> String {
        let analysis = Analysis { report: report.clone(), ..Analysis::default() };
        super::render(&analysis, &[], &RenderOptions { format, colour: false })
    }

    fn misuse(file: &str) -> Report {
        Report {
            findings: vec![Finding::Misuse(Misuse {
                what: "held at exit".into(),
                thread: "worker, 1".into(),
                held: HeldLock {
                    lock: LockRef { class: "a:b".into(), instance: None, rank: None },
                    mode: Mode::Exclusive,
                    site: Site { file: file.into(), line: 3, column: 9 },
                },
            })],
            events_lost: 2,
        }
    }

    #[test]
    fn github_annotations_escape_properties_and_data() {
        let out = render(&misuse("src/a,b:c.rs"), Format::Github);
        let first = out.lines().next().unwrap();
        assert!(first.starts_with("::warning file=src/a%2Cb%3Ac.rs,line=3,col=9,title=Lock misuse::"), "{first}");
        assert!(!first.contains('\n'));
        assert!(first.ends_with("::lock misuse: held at exit (a:b, thread worker, 1) at src/a,b:c.rs:3:9"), "{first}");
        assert_eq!(escape_data("50%\r\nmore"), "50%25%0D%0Amore");
        assert!(out.contains("2 events were lost"));
    }

    #[test]
    fn sarif_has_the_required_fields() {
        let value: Value = serde_json::from_str(&render(&misuse("src/x.rs"), Format::Sarif)).unwrap();
        assert_eq!(value["version"], "2.1.0");
        let run = &value["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "lockcheck");
        let result = &run["results"][0];
        assert_eq!(result["ruleId"], "misuse");
        assert_eq!(result["level"], "warning");
        assert!(result["message"]["text"].as_str().unwrap().contains("held at exit"));
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert_eq!((region["startLine"].as_u64(), region["startColumn"].as_u64()), (Some(3), Some(9)));
        assert_eq!(run["properties"]["eventsLost"], 2);
    }

    #[test]
    fn a_failed_assertion_is_an_error_with_its_own_rule() {
        let held = HeldLock {
            lock: LockRef { class: "ledger".into(), instance: None, rank: None },
            mode: Mode::Exclusive,
            site: Site { file: "src/l.rs".into(), line: 2, column: 5 },
        };
        let failed = lockcheck::FailedAssertion {
            assertion: lockcheck::Assertion::NoLocksHeld,
            lock: None,
            site: Site { file: "src/x.rs".into(), line: 7, column: 9 },
            thread: "main".into(),
            held: vec![held],
            count: 1,
        };
        let report = Report { findings: vec![Finding::FailedAssertion(failed)], events_lost: 0 };
        let value: Value = serde_json::from_str(&render(&report, Format::Sarif)).unwrap();
        let result = &value["runs"][0]["results"][0];
        assert_eq!((result["ruleId"].as_str(), result["level"].as_str()), (Some("failed-assertion"), Some("error")));
        let github = render(&report, Format::Github);
        assert!(
            github.starts_with("::error file=src/x.rs,line=7,col=9,title=Held-lock assertion failed::"),
            "{github}"
        );
    }
}
