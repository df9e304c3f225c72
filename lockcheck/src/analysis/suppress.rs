//! Suppressions: findings a project has looked at and accepted, each with the reason, in a
//! `lockcheck.toml`:
//!
//! ```toml
//! [[suppress]]
//! cycle = ["account", "ledger"]   # the cycle's classes, in any order
//! reason = "audit runs only in maintenance mode, with transfers stopped"
//!
//! [[suppress]]
//! rank = "queue"                  # rank violations acquiring this class
//! reason = "requeue on flush is single-threaded"
//! ```
//!
//! A suppression without a reason is an error: the file is where the team records why. The
//! `lockcheck` CLI applies them in `check` and `run`; in-process, [`report()`](crate::report()),
//! [`assert_no_deadlocks()`](crate::assert_no_deadlocks) and `LOCKCHECK_ON_CYCLE` apply the
//! file named by `LOCKCHECK_SUPPRESSIONS`, else the first `lockcheck.toml` found from the
//! current directory up.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::report::{Finding, Report};

/// The file name looked for by default.
pub const FILE_NAME: &str = "lockcheck.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    suppress: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    cycle: Option<Vec<String>>,
    rank: Option<String>,
    reason: Option<String>,
}

/// What a suppression matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Matcher {
    /// A lock-order cycle through exactly these classes (sorted, without repeats).
    Cycle(Vec<String>),
    /// A rank violation acquiring this class.
    Rank(String),
}

/// One accepted finding shape, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// What it matches.
    pub matcher: Matcher,
    /// Why it is accepted.
    pub reason: String,
}

/// A finding that a suppression matched, with the suppression's reason.
#[derive(Clone, Debug)]
pub struct Suppressed {
    /// The finding.
    pub finding: Finding,
    /// Why it does not fail the check.
    pub reason: String,
}

/// Every suppression of a file.
#[derive(Clone, Debug, Default)]
pub struct Suppressions {
    /// The file they came from (none: no file).
    pub path: Option<PathBuf>,
    /// The suppressions, in file order.
    pub entries: Vec<Suppression>,
}

impl Suppressions {
    /// The suppressions of `text`, or what is wrong with it.
    pub fn parse(text: &str) -> Result<Vec<Suppression>, String> {
        let file: File = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        file.suppress
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                let n = i + 1;
                let reason = entry.reason.filter(|r| !r.trim().is_empty());
                let Some(reason) = reason else {
                    return Err(format!("suppression {n} has no `reason`: say why the finding is accepted"));
                };
                let matcher = match (entry.cycle, entry.rank) {
                    (Some(mut classes), None) if !classes.is_empty() => {
                        classes.sort();
                        classes.dedup();
                        Matcher::Cycle(classes)
                    }
                    (None, Some(class)) => Matcher::Rank(class),
                    _ => {
                        return Err(format!(
                            "suppression {n} needs exactly one of `cycle = [classes]` or `rank = class`"
                        ))
                    }
                };
                Ok(Suppression { matcher, reason })
            })
            .collect()
    }

    /// The reason `finding` is suppressed, if it is.
    pub fn reason(&self, finding: &Finding) -> Option<&str> {
        self.entries.iter().find(|s| s.matcher.matches(finding)).map(|s| s.reason.as_str())
    }

    /// Splits `report`'s findings into those that stay and those suppressed.
    pub fn apply(&self, report: Report) -> (Report, Vec<Suppressed>) {
        let mut kept = Vec::new();
        let mut suppressed = Vec::new();
        for finding in report.findings {
            match self.reason(&finding) {
                Some(reason) => suppressed.push(Suppressed { reason: reason.to_owned(), finding }),
                None => kept.push(finding),
            }
        }
        (Report { findings: kept, events_lost: report.events_lost }, suppressed)
    }
}

impl Matcher {
    fn matches(&self, finding: &Finding) -> bool {
        match (self, finding) {
            (Matcher::Cycle(classes), Finding::PotentialDeadlock(cycle)) => {
                let mut seen: Vec<&str> = cycle.edges.iter().map(|e| e.from.class.as_str()).collect();
                seen.sort_unstable();
                seen.dedup();
                seen == *classes
            }
            (Matcher::Rank(class), Finding::RankViolation(r)) => r.lock.class == *class,
            _ => false,
        }
    }
}

impl Suppressions {
    /// Reads and validates a suppression file; the error is one line saying what is wrong.
    pub fn load(path: &Path) -> Result<Suppressions, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Suppressions::parse(&text).map(|entries| Suppressions { path: Some(path.to_owned()), entries })
    }

    /// `lockcheck.toml` in `dir` or the nearest of its ancestors.
    pub fn find_upwards(dir: &Path) -> Option<PathBuf> {
        dir.ancestors().map(|d| d.join(FILE_NAME)).find(|c| c.is_file())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_order_insensitive_and_reasons_required() {
        let entries = Suppressions::parse("[[suppress]]\ncycle = [\"b\", \"a\"]\nreason = \"ok\"\n").unwrap();
        assert_eq!(entries[0].matcher, Matcher::Cycle(vec!["a".into(), "b".into()]));
        let err = Suppressions::parse("[[suppress]]\nrank = \"queue\"\n").unwrap_err();
        assert!(err.contains("no `reason`"), "{err}");
        let err = Suppressions::parse("[[suppress]]\nreason = \"x\"\n").unwrap_err();
        assert!(err.contains("exactly one"), "{err}");
        assert!(Suppressions::parse("[[suppress]]\nbogus = 1\n").is_err());
    }
}
