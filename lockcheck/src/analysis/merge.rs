//! Lock-order analysis across processes: `cargo test` runs one process per test binary, so
//! no single process sees test A's `a → b` next to test B's `b → a`. Every trace carries its
//! process's class edges ([`OrderEdge`]); merged by class label, they close the cycles no
//! process could see alone (the same graph and judgement as in-process, see `order.rs`).

use rustc_hash::FxHashMap;

use crate::analysis::order::{Added, OrderGraph, Seen, Sighting};
use crate::analysis::order_edge::OrderEdge;
use crate::analysis::report::{Cycle, Edge, Graph, LockRef, Mode};

/// A merged edge's first sighting, tagged with the trace it came from.
struct Merged {
    source: u32,
    to_class: u32,
    edge: Edge,
}

impl Sighting for Merged {
    fn thread(&self) -> u64 {
        // Threads of different processes are different threads, whatever their names.
        let mut hash = u64::from(self.source) << 32;
        for b in self.edge.thread.bytes() {
            hash = (hash.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
        hash
    }
    fn to_class(&self) -> u32 {
        self.to_class
    }
    fn to_mode(&self) -> Mode {
        self.edge.to_mode
    }
}

/// Interns class labels into ids, remembering ranks.
#[derive(Default)]
struct Classes {
    ids: FxHashMap<String, u32>,
    labels: Vec<(String, Option<u32>)>,
}

impl Classes {
    fn id(&mut self, lock: &LockRef) -> u32 {
        self.by_label(&lock.class, lock.rank)
    }

    fn by_label(&mut self, label: &str, rank: Option<u32>) -> u32 {
        if let Some(&id) = self.ids.get(label) {
            return id;
        }
        let id = self.labels.len() as u32;
        self.labels.push((label.to_owned(), rank));
        self.ids.insert(label.to_owned(), id);
        id
    }
}

/// The class cycles closed by the edges of every source (one source per trace), each with the
/// evidence of its edges, deduplicated. Cycles whose edges all come from one source are
/// found too: the caller drops those its sources already reported (see [`cycle_key`]).
pub fn class_cycles<'a>(sources: impl IntoIterator<Item = &'a [OrderEdge]>) -> Vec<Cycle> {
    let mut classes = Classes::default();
    let mut graph: OrderGraph<Merged> = OrderGraph::default();
    let mut pairs = Vec::new();
    for (source, edges) in sources.into_iter().enumerate() {
        let source = source as u32;
        for edge in edges {
            let (from, to) = (classes.id(&edge.first.from), classes.id(&edge.first.to));
            if from == to {
                continue;
            }
            let gates = edge.gates.iter().map(|g| classes.by_label(g, None)).collect();
            let merged = Merged { source, to_class: to, edge: edge.first.clone() };
            let seen = Seen {
                thread: merged.thread(),
                held_modes: edge.held_modes,
                acq_modes: edge.acquired_modes,
                gates,
                count: edge.count,
                multi_thread: edge.multi_thread,
            };
            if graph.add(from, to, seen, || merged) == Added::New {
                pairs.push((from, to));
            }
        }
    }

    let label = |c: u32| classes.labels[c as usize].0.clone();
    let mut keys = std::collections::HashSet::new();
    let mut cycles = Vec::new();
    for (from, to) in pairs {
        let Some(path) = graph.deadlocking_path(Graph::Class, to, from, &label) else { continue };
        let Some(closed) = graph.close(Graph::Class, &path, &label) else { continue };
        if !keys.insert(closed.key.clone()) {
            continue;
        }
        let mut sources: Vec<u32> = closed.edges.iter().map(|e| e.first.source).collect();
        sources.sort_unstable();
        sources.dedup();
        let mut notes = closed.notes;
        notes.push("found by class: merged from every trace by lock class (name or creation site)".into());
        if sources.len() > 1 {
            notes.push(format!("closes across {} processes: no single process saw every order", sources.len()));
        }
        let guarded_by = closed.gate.map(|g| {
            let (class, rank) = classes.labels[g as usize].clone();
            LockRef { class, instance: None, rank }
        });
        cycles.push(Cycle {
            graph: Graph::Class,
            edges: closed.edges.iter().map(|e| e.first.edge.clone()).collect(),
            guarded_by,
            count: closed.count,
            single_thread: closed.single_thread,
            notes,
        });
    }
    cycles
}

/// A cycle's identity across processes: its class labels, rotated to start at the smallest.
pub fn cycle_key(cycle: &Cycle) -> Vec<String> {
    let labels: Vec<String> = cycle.edges.iter().map(|e| e.from.class.clone()).collect();
    let start = (0..labels.len()).min_by_key(|&i| &labels[i]).unwrap_or(0);
    (0..labels.len()).map(|i| labels[(start + i) % labels.len()].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::report::Site;

    fn edge(from: &str, to: &str, thread: &str) -> OrderEdge {
        let lock = |class: &str| LockRef { class: class.into(), instance: None, rank: None };
        let site = Site { file: "src/lib.rs".into(), line: 1, column: 1 };
        OrderEdge {
            from: from.into(),
            to: to.into(),
            held_modes: 1,
            acquired_modes: 1,
            gates: Vec::new(),
            count: 1,
            multi_thread: false,
            first: Edge {
                from: lock(from),
                to: lock(to),
                from_mode: Mode::Exclusive,
                to_mode: Mode::Exclusive,
                thread: thread.into(),
                from_site: site.clone(),
                to_site: site,
                stack: Vec::new(),
                stack_id: None,
            },
        }
    }

    #[test]
    fn a_cycle_split_across_two_processes_is_found() {
        let one = [edge("a", "b", "main")];
        let two = [edge("b", "a", "main")];
        let cycles = class_cycles([&one[..], &two[..]]);
        assert_eq!(cycles.len(), 1);
        assert!(!cycles[0].single_thread, "the same thread name in two processes is two threads");
        assert!(cycles[0].notes.iter().any(|n| n.contains("across 2 processes")));
        assert_eq!(cycle_key(&cycles[0]), ["a", "b"]);
    }

    #[test]
    fn consistent_orders_across_processes_are_clean() {
        let one = [edge("a", "b", "main"), edge("b", "c", "main")];
        let two = [edge("a", "c", "worker")];
        assert!(class_cycles([&one[..], &two[..]]).is_empty());
    }
}
