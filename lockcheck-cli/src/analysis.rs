//! Merging traces into one [`Report`]: every process's own findings, plus the class cycles that
//! only close across processes (SCENARIOS.md C10), with lost events summed and damaged traces
//! named.

use std::collections::HashSet;

use lockcheck::merge::{class_cycles, cycle_key};
use lockcheck::{Cycle, Finding, Graph, Report};

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
}

/// Merges `traces`: their findings (one per distinct cycle across processes, counts summed)
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
    }
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
    } else if findings.contains(finding) {
        return;
    }
    findings.push(finding.clone());
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
