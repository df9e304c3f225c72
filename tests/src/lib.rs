//! Shared helpers for the end-to-end tests in `tests/`: questions about
//! [`lockcheck::report()`] asked by lock name, so tests running side by side in one process
//! (sharing one lock-order graph) only look at their own locks.

use lockcheck::{Cycle, Finding, Graph, HeldLock, RankViolation, SelfDeadlock};

pub mod child;
pub mod traces;

/// Every potential-deadlock cycle whose locks are exactly `names` (in any order).
pub fn cycles(names: &[&str]) -> Vec<Cycle> {
    let mut want: Vec<&str> = names.to_vec();
    want.sort_unstable();
    want.dedup();
    lockcheck::report()
        .findings
        .into_iter()
        .filter_map(|f| match f {
            Finding::PotentialDeadlock(c) => {
                let mut got: Vec<&str> = c.edges.iter().map(|e| e.from.class.as_str()).collect();
                got.sort_unstable();
                got.dedup();
                (got == want).then(|| c.clone())
            }
            _ => None,
        })
        .collect()
}

/// Every cycle that mentions any lock whose name starts with `prefix`.
pub fn cycles_touching(prefix: &str) -> Vec<Cycle> {
    lockcheck::report()
        .findings
        .into_iter()
        .filter_map(|f| match f {
            Finding::PotentialDeadlock(c)
                if c.edges.iter().any(|e| e.from.class.starts_with(prefix) || e.to.class.starts_with(prefix)) =>
            {
                Some(c)
            }
            _ => None,
        })
        .collect()
}

/// The one failing (unguarded) cycle over exactly `names`, in the given graph.
pub fn the_deadlock(names: &[&str], graph: Graph) -> Cycle {
    let found: Vec<Cycle> = cycles(names).into_iter().filter(|c| c.graph == graph && c.guarded_by.is_none()).collect();
    assert_eq!(found.len(), 1, "expected one {graph:?} cycle over {names:?}, report:\n{}", lockcheck::report());
    found.into_iter().next().unwrap()
}

/// Rank violations raised while acquiring `name`.
pub fn rank_violations(name: &str) -> Vec<RankViolation> {
    lockcheck::report()
        .findings
        .into_iter()
        .filter_map(|f| match f {
            Finding::RankViolation(r) if r.lock.class == name => Some(r),
            _ => None,
        })
        .collect()
}

/// Self-deadlocks on `name`.
pub fn self_deadlocks(name: &str) -> Vec<SelfDeadlock> {
    lockcheck::report()
        .findings
        .into_iter()
        .filter_map(|f| match f {
            Finding::SelfDeadlock(s) if s.lock.class == name => Some(s),
            _ => None,
        })
        .collect()
}

/// Every finding that names a lock starting with `prefix` anywhere.
pub fn findings_touching(prefix: &str) -> Vec<Finding> {
    lockcheck::report().findings.into_iter().filter(|f| format!("{f:?}").contains(&format!("\"{prefix}"))).collect()
}

/// The names of the calling thread's held locks with their modes, oldest first.
pub fn held() -> Vec<String> {
    lockcheck::held_locks().iter().map(describe).collect()
}

fn describe(h: &HeldLock) -> String {
    format!("{}:{}", h.lock.class, h.mode.verb())
}
