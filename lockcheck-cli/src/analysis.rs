//! Merging traces into one [`Report`]: every process's own findings, plus the class cycles that
//! only close across processes (SCENARIOS.md C10), with lost events summed and damaged traces
//! named.

use std::collections::HashSet;

use lockcheck::merge::{class_cycles, cycle_key};
use lockcheck::trace::Stress;
use lockcheck::{Cycle, Finding, Graph, Hang, Report, Site};

use crate::load::Trace;

/// The merged result of a set of traces.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Analysis {
    /// Every finding, most severe first, and the events lost in all traces.
    pub report: Report,
    /// One line per trace that was read only in part (no `lockcheck: warning:` prefix).
    pub warnings: Vec<String>,
    /// How many traces were read.
    pub traces: usize,
    /// How many events they held.
    pub events: u64,
    /// The processes that ran in stress mode, with its seed, settings and delays.
    pub stressed: Vec<Stressed>,
}

/// A process that ran in stress mode (`LOCKCHECK_STRESS`).
#[derive(Clone, Debug, serde::Serialize)]
#[non_exhaustive]
pub struct Stressed {
    /// The program, as its trace's header names it.
    pub program: String,
    /// Its process id.
    pub pid: u32,
    /// The seed, the settings and the delays injected.
    #[serde(flatten)]
    pub stress: Stress,
}

impl Stressed {
    /// One line: the process, its seed and settings, the delays, and what they mean for the
    /// figures.
    pub fn line(&self) -> String {
        let s = &self.stress;
        let noise = match s.noise_one_in {
            0 => "no noise".to_owned(),
            n => format!("noise 1 in {n}"),
        };
        format!(
            "stress: {}[{}] ran with seed {} (depth {}, {noise}): {} injected in {} threads, {:.1} ms in all; its wait and hold figures include them",
            self.program,
            self.pid,
            s.seed,
            s.depth,
            match s.delays() {
                1 => "1 delay".to_owned(),
                n => format!("{n} delays"),
            },
            s.threads.len(),
            s.delay_ns() as f64 / 1e6
        )
    }
}

/// Merges `traces`: their findings (one per distinct cycle or deadlock across processes,
/// cycle counts summed)
/// and the class cycles closed by their lock-order edges taken together.
pub fn analyse(traces: &[Trace]) -> Analysis {
    let mut findings: Vec<Finding> = Vec::new();
    for trace in traces {
        for finding in &trace.data.findings {
            merge_finding(&mut findings, finding);
        }
    }
    let known: HashSet<Vec<String>> = findings
        .iter()
        .filter_map(|f| match f {
            Finding::PotentialDeadlock(c) => Some(cycle_key(c)),
            _ => None,
        })
        .collect();
    let cross = class_cycles(traces.iter().map(|t| t.data.edges.as_slice()));
    findings.extend(cross.into_iter().filter(|c| !known.contains(&cycle_key(c))).map(Finding::PotentialDeadlock));
    findings.sort_by_key(severity);

    Analysis {
        report: Report { findings, events_lost: traces.iter().map(|t| t.data.events_lost()).sum() },
        warnings: traces.iter().flat_map(Trace::warnings).collect(),
        traces: traces.len(),
        events: traces.iter().map(|t| t.data.events).sum(),
        stressed: traces.iter().filter_map(stressed).collect(),
    }
}

/// The stress mode `trace` ran in, if it did.
fn stressed(trace: &Trace) -> Option<Stressed> {
    let stress = trace.data.stress.clone()?;
    let (program, pid) = trace.data.header.as_ref().map_or((String::new(), 0), |h| (h.program.clone(), h.pid));
    Some(Stressed { program, pid, stress })
}

/// Adds `finding` to `findings`, or folds it into the same finding from another process: one
/// report per distinct cycle (by graph and class labels), other findings by equality.
fn merge_finding(findings: &mut Vec<Finding>, finding: &Finding) {
    if let Finding::PotentialDeadlock(cycle) = finding {
        let key = (cycle.graph, cycle_key(cycle), cycle.guarded_by.is_some());
        for existing in findings.iter_mut() {
            if let Finding::PotentialDeadlock(seen) = existing {
                if (seen.graph, cycle_key(seen), seen.guarded_by.is_some()) == key {
                    seen.count = seen.count.saturating_add(cycle.count);
                    return;
                }
            }
        }
    } else if let Finding::ActualDeadlock(hang) = finding {
        // The same deadlock in another process (another run of a stress test, say) differs
        // only in how long its threads had waited: one report.
        let key = hang_key(hang);
        if findings.iter().any(|f| matches!(f, Finding::ActualDeadlock(seen) if hang_key(seen) == key)) {
            return;
        }
    } else if findings.contains(finding) {
        return;
    }
    findings.push(finding.clone());
}

/// What makes two deadlocks the same: each thread, where it waits and what it holds.
fn hang_key(hang: &Hang) -> Vec<(&str, Option<&Site>, Vec<&Site>)> {
    let mut key: Vec<_> = hang
        .threads
        .iter()
        .map(|t| (t.thread.as_str(), t.waits_for.as_ref().map(|w| &w.site), t.holds.iter().map(|h| &h.site).collect()))
        .collect();
    key.sort();
    key
}

/// Sort order: real deadlocks first, then what fails a check, then the rest.
fn severity(finding: &Finding) -> u8 {
    match finding {
        Finding::ActualDeadlock(_) => 0,
        Finding::SelfDeadlock(_) => 1,
        Finding::PotentialDeadlock(Cycle { guarded_by: None, graph: Graph::Instance, .. }) => 2,
        Finding::PotentialDeadlock(Cycle { guarded_by: None, .. }) => 3,
        Finding::RankViolation(_) => 4,
        Finding::FailedAssertion(_) => 5,
        Finding::Stall(_) => 6,
        Finding::PotentialDeadlock(_) => 7,
        Finding::Misuse(_) => 8,
    }
}
