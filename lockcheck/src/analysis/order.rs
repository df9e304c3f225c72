//! The lock-order graph itself, shared by the in-process detector (`graph.rs`, whose nodes
//! are live lock instances or classes) and the offline merge of many processes' traces
//! (`merge.rs`, whose nodes are class labels): edges with merged evidence, cycle search, and
//! the judgement of whether a cycle can really deadlock (read/write modes, semaphores, gate
//! locks).

#![cfg_attr(not(feature = "instrument"), allow(dead_code))] // Half of it serves the detector.

use petgraph::algo::{all_simple_paths, astar};
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::Direction;
use rustc_hash::FxHashMap;

use crate::analysis::report::{Graph, Mode};

/// What an edge remembers of the first time it was seen.
pub(crate) trait Sighting {
    /// The thread that took it; equal for the same thread of the same process.
    fn thread(&self) -> u64;
    /// The class of the lock it acquired (dedup key of cycles, notes).
    fn to_class(&self) -> u32;
    /// How it acquired that lock.
    fn to_mode(&self) -> Mode;
}

/// Evidence for one order `from → to`, merged over every time it was seen.
#[derive(Debug)]
pub(crate) struct EdgeData<S> {
    /// How `from` was held and `to` acquired, as bitsets of [`Mode`]s.
    pub held_modes: u8,
    pub acq_modes: u8,
    pub first: S,
    pub multi_thread: bool,
    /// Locks (or classes) held exclusively across every observation (gate candidates).
    pub gates: Vec<u32>,
    pub count: u64,
    pub in_finding: bool,
}

/// One observation of an edge.
pub(crate) struct Seen {
    pub thread: u64,
    pub held_modes: u8,
    pub acq_modes: u8,
    pub gates: Vec<u32>,
    pub count: u64,
    pub multi_thread: bool,
}

/// Nodes are ids (lock instances, or classes); edges carry [`EdgeData`].
pub(crate) struct OrderGraph<S> {
    graph: StableDiGraph<u32, EdgeData<S>>,
    nodes: FxHashMap<u32, NodeIndex>,
    edges: FxHashMap<(u32, u32), EdgeIndex>,
}

impl<S> Default for OrderGraph<S> {
    fn default() -> Self {
        OrderGraph { graph: StableDiGraph::default(), nodes: FxHashMap::default(), edges: FxHashMap::default() }
    }
}

pub(crate) fn mode_bit(mode: Mode) -> u8 {
    1 << mode as u8
}

impl<S: Sighting> OrderGraph<S> {
    fn node(&mut self, id: u32) -> NodeIndex {
        *self.nodes.entry(id).or_insert_with(|| self.graph.add_node(id))
    }

    pub fn edge(&self, from: u32, to: u32) -> Option<&EdgeData<S>> {
        self.edges.get(&(from, to)).map(|&e| &self.graph[e])
    }

    pub fn edge_mut(&mut self, from: u32, to: u32) -> Option<&mut EdgeData<S>> {
        self.edges.get(&(from, to)).map(|&e| &mut self.graph[e])
    }

    /// Every edge, as `(from, to, data)`.
    pub fn edges(&self) -> impl Iterator<Item = (u32, u32, &EdgeData<S>)> {
        self.edges.iter().map(|(&(a, b), &e)| (a, b, &self.graph[e]))
    }

    /// The first sighting of any edge out of `id` (to name a node by its evidence).
    pub fn any_edge_from(&self, id: u32) -> Option<&S> {
        let node = *self.nodes.get(&id)?;
        self.graph.edges_directed(node, Direction::Outgoing).next().map(|e| &e.weight().first)
    }

    /// Records one or more observations of `from → to` (the sighting is made only if the edge
    /// is new), and says whether the cycles through it must be judged (again).
    pub fn add(&mut self, from: u32, to: u32, seen: Seen, first: impl FnOnce() -> S) -> Added {
        if let Some(edge) = self.edge_mut(from, to) {
            let (modes, gates) = ((edge.held_modes, edge.acq_modes), edge.gates.len());
            edge.count += seen.count;
            edge.held_modes |= seen.held_modes;
            edge.acq_modes |= seen.acq_modes;
            edge.multi_thread |= seen.multi_thread || edge.first.thread() != seen.thread;
            edge.gates.retain(|gate| seen.gates.contains(gate));
            // New modes can make a cycle conflict; a lost gate can make a guarded one fail.
            let widened = (edge.held_modes, edge.acq_modes) != modes || edge.gates.len() != gates;
            return if widened { Added::Widened } else { Added::Known };
        }
        let (a, b) = (self.node(from), self.node(to));
        let data = EdgeData {
            held_modes: seen.held_modes,
            acq_modes: seen.acq_modes,
            first: first(),
            multi_thread: seen.multi_thread,
            gates: seen.gates,
            count: seen.count,
            in_finding: false,
        };
        let index = self.graph.add_edge(a, b, data);
        self.edges.insert((from, to), index);
        Added::New
    }

    /// A shortest path `from ⇝ to` of node ids, if one exists.
    pub fn path(&self, from: u32, to: u32) -> Option<Vec<u32>> {
        let (&start, &goal) = (self.nodes.get(&from)?, self.nodes.get(&to)?);
        // A fresh lock has no edges out: the first-pass case needs no search.
        self.graph.neighbors_directed(start, Direction::Outgoing).next()?;
        let (_, path) = astar(&self.graph, start, |n| n == goal, |_| 1, |_| 0)?;
        Some(path.into_iter().map(|n| self.graph[n]).collect())
    }

    /// The cycle the edge `tail → head` closes that can deadlock, as a path `head ⇝ tail` for
    /// [`close`](Self::close): the shortest if its modes conflict, else (a read_recursive on the
    /// way, say) the first of up to [`ALTERNATIVES`] other simple paths of at most
    /// [`MAX_ALTERNATIVE_LEN`] locks that does.
    pub fn deadlocking_path(
        &self,
        graph: Graph,
        head: u32,
        tail: u32,
        label: &impl Fn(u32) -> String,
    ) -> Option<Vec<u32>> {
        let shortest = self.path(head, tail)?;
        if self.close(graph, &shortest, label).is_some() {
            return Some(shortest);
        }
        let (&start, &goal) = (self.nodes.get(&head)?, self.nodes.get(&tail)?);
        all_simple_paths::<Vec<NodeIndex>, _, rustc_hash::FxBuildHasher>(
            &self.graph,
            start,
            goal,
            0,
            Some(MAX_ALTERNATIVE_LEN - 2),
        )
        .take(ALTERNATIVES)
        .map(|path| path.into_iter().map(|n| self.graph[n]).collect::<Vec<u32>>())
        .find(|path| self.close(graph, path, label).is_some())
    }

    /// Removes a node and its edges.
    pub fn remove(&mut self, id: u32) {
        let Some(node) = self.nodes.remove(&id) else { return };
        for dir in [Direction::Outgoing, Direction::Incoming] {
            for other in self.graph.neighbors_directed(node, dir) {
                let other = self.graph[other];
                self.edges.remove(&if dir == Direction::Outgoing { (id, other) } else { (other, id) });
            }
        }
        self.graph.remove_node(node);
    }

    /// Judges the cycle that `path` (from a new edge's head back to its tail) closes with
    /// that edge; `None` when its modes cannot deadlock. `label` names a class for notes.
    pub fn close(&self, graph: Graph, path: &[u32], label: &impl Fn(u32) -> String) -> Option<Closed<'_, S>> {
        let n = path.len();
        let pairs: Vec<(u32, u32)> = (0..n).map(|i| (path[(i + n - 1) % n], path[i])).collect();
        let edges: Vec<&EdgeData<S>> = pairs.iter().filter_map(|&(a, b)| self.edge(a, b)).collect();
        if edges.len() != n {
            return None;
        }

        let mut notes = Vec::new();
        for i in 0..n {
            let (into, out_of) = (edges[i], edges[(i + 1) % n]);
            let worst = modes(out_of.held_modes)
                .flat_map(|h| modes(into.acq_modes).map(move |w| conflict(h, w)))
                .max()
                .unwrap_or(Conflict::Never);
            let lock = label(into.first.to_class());
            match worst {
                Conflict::Never => return None,
                Conflict::Conditional if into.first.to_mode() == Mode::Permit => {
                    notes.push(format!("`{lock}` is a semaphore: this deadlocks once its permits run out"))
                }
                Conflict::Conditional => notes.push(format!(
                    "`{lock}` is only read-locked here: parking_lot's RwLock is task-fair, so this deadlocks \
                     once a writer queues on it (use read_recursive if that cannot happen)"
                )),
                Conflict::Always => {}
            }
        }

        let classes: Vec<u32> = edges.iter().map(|e| e.first.to_class()).collect();
        let start = (0..n).min_by_key(|&i| classes[i]).unwrap_or(0);
        let key: Vec<u32> = (0..n).map(|i| classes[(start + i) % n]).collect();
        let mut members = key.clone();
        members.sort_unstable();
        members.dedup();
        if graph == Graph::Instance && members.len() < n {
            notes.push("several locks of this cycle share a class: nested instances taken in both orders".into());
        }
        let gate = edges
            .iter()
            .map(|e| e.gates.clone())
            .reduce(|mut acc, gates| {
                acc.retain(|g| gates.contains(g));
                acc
            })
            .and_then(|gates| gates.first().copied());
        let thread = edges[0].first.thread();
        let single_thread = edges.iter().all(|e| !e.multi_thread && e.first.thread() == thread);
        let count = edges.iter().map(|e| e.count).min().unwrap_or(1);
        Some(Closed { pairs, edges, notes, gate, single_thread, count, key })
    }

    /// Marks a cycle's edges as part of a finding.
    pub fn mark(&mut self, pairs: &[(u32, u32)]) {
        for &(a, b) in pairs {
            if let Some(e) = self.edge_mut(a, b) {
                e.in_finding = true;
            }
        }
    }
}

/// How many other cycles through a new edge are judged when the shortest cannot deadlock.
const ALTERNATIVES: usize = 32;
/// The longest of those, in locks.
const MAX_ALTERNATIVE_LEN: usize = 8;

/// What [`OrderGraph::add`] changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Added {
    /// A new edge.
    New,
    /// A known edge seen in a new mode, or without one of its gates.
    Widened,
    /// Nothing a judgement depends on.
    Known,
}

impl Added {
    /// Whether the cycles through the edge must be judged (again).
    pub fn judge(self) -> bool {
        self != Added::Known
    }
}

/// A cycle that can deadlock, judged.
pub(crate) struct Closed<'g, S> {
    /// Its edges as `(from, to)`, starting with the edge that closed it.
    pub pairs: Vec<(u32, u32)>,
    pub edges: Vec<&'g EdgeData<S>>,
    pub notes: Vec<String>,
    /// A node held across every edge: the cycle is serialised by it.
    pub gate: Option<u32>,
    pub single_thread: bool,
    /// How many times its rarest edge was taken.
    pub count: u64,
    /// The dedup key: its classes, rotated to start at the smallest.
    pub key: Vec<u32>,
}

/// How a thread holding a lock in one mode blocks another acquiring it in another.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Conflict {
    Never,
    /// Only once a writer queues (parking_lot's RwLock is task-fair) or permits run out.
    Conditional,
    Always,
}

fn conflict(held: Mode, want: Mode) -> Conflict {
    use Mode::*;
    match (held, want) {
        (_, SharedRecursive) if held != Exclusive => Conflict::Never,
        (Exclusive, _) | (_, Exclusive) | (Upgradable, Upgradable) => Conflict::Always,
        (Permit, _) | (_, Permit) => Conflict::Conditional,
        (Shared | SharedRecursive | Upgradable, Shared | Upgradable) => Conflict::Conditional,
        _ => Conflict::Never,
    }
}

fn modes(bits: u8) -> impl Iterator<Item = Mode> + Clone {
    use Mode::*;
    [Exclusive, Shared, SharedRecursive, Upgradable, Permit].into_iter().filter(move |&m| bits & mode_bit(m) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct S(u64, u32);

    impl Sighting for S {
        fn thread(&self) -> u64 {
            self.0
        }
        fn to_class(&self) -> u32 {
            self.1
        }
        fn to_mode(&self) -> Mode {
            Mode::Exclusive
        }
    }

    fn seen(thread: u64) -> Seen {
        Seen {
            thread,
            held_modes: mode_bit(Mode::Exclusive),
            acq_modes: mode_bit(Mode::Exclusive),
            gates: Vec::new(),
            count: 1,
            multi_thread: false,
        }
    }

    /// Reachability by brute force: a search over the plain edge list.
    fn reaches(edges: &[(u32, u32)], from: u32, to: u32) -> bool {
        let mut seen = vec![from];
        let mut i = 0;
        while i < seen.len() {
            let at = seen[i];
            seen.extend(
                edges.iter().filter(|&&(a, b)| a == at && !seen.contains(&b)).map(|&(_, b)| b).collect::<Vec<_>>(),
            );
            i += 1;
        }
        seen.contains(&to)
    }

    #[test]
    fn cycle_search_agrees_with_brute_force_reachability() {
        // A small deterministic generator (xorshift): thousands of random edge additions and
        // node removals on 8 nodes, each new edge checked against the oracle.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _round in 0..200 {
            let mut g: OrderGraph<S> = OrderGraph::default();
            let mut edges: Vec<(u32, u32)> = Vec::new();
            for _ in 0..30 {
                let (a, b) = ((next() % 8) as u32, (next() % 8) as u32);
                if next() % 10 == 0 {
                    g.remove(a);
                    edges.retain(|&(x, y)| x != a && y != a);
                    continue;
                }
                if a == b {
                    continue;
                }
                let closes = reaches(&edges, b, a);
                let new = g.add(a, b, seen(1), || S(1, b)) == Added::New;
                if new {
                    edges.push((a, b));
                    let path = g.path(b, a);
                    assert_eq!(path.is_some(), closes, "edge {a}->{b} over {edges:?}");
                    if let Some(path) = path {
                        assert_eq!((path[0], *path.last().unwrap()), (b, a));
                        for w in path.windows(2) {
                            assert!(edges.contains(&(w[0], w[1])), "path uses a real edge");
                        }
                        let closed = g.close(Graph::Instance, &path, &|c: u32| c.to_string()).expect("exclusive modes");
                        assert_eq!(closed.pairs[0], (a, b), "the closing edge comes first");
                    }
                }
            }
        }
    }

    #[test]
    fn read_recursive_cycles_never_deadlock() {
        let mut g: OrderGraph<S> = OrderGraph::default();
        // 1 is only ever read_recursive'd: held so across 1 → 2, acquired so by 2 → 1.
        g.add(1, 2, Seen { held_modes: mode_bit(Mode::SharedRecursive), ..seen(1) }, || S(1, 2));
        g.add(2, 1, Seen { acq_modes: mode_bit(Mode::SharedRecursive), ..seen(1) }, || S(2, 1));
        let path = g.path(1, 2).unwrap();
        assert!(g.close(Graph::Instance, &path, &|c: u32| c.to_string()).is_none());
    }

    #[test]
    fn a_harmless_shortest_cycle_does_not_hide_a_longer_one() {
        let mut g: OrderGraph<S> = OrderGraph::default();
        let rr = mode_bit(Mode::SharedRecursive);
        g.add(2, 1, Seen { acq_modes: rr, ..seen(1) }, || S(1, 1));
        g.add(2, 3, seen(1), || S(1, 3));
        g.add(3, 1, seen(1), || S(1, 1));
        g.add(1, 2, Seen { held_modes: rr, ..seen(2) }, || S(2, 2));
        let label = |c: u32| c.to_string();
        assert!(g.close(Graph::Instance, &g.path(2, 1).unwrap(), &label).is_none(), "2 -> 1 is harmless");
        assert_eq!(g.deadlocking_path(Graph::Instance, 2, 1, &label), Some(vec![2, 3, 1]));
    }

    #[test]
    fn a_common_gate_guards_the_cycle() {
        let mut g: OrderGraph<S> = OrderGraph::default();
        g.add(1, 2, Seen { gates: vec![9], ..seen(1) }, || S(1, 2));
        g.add(2, 1, Seen { gates: vec![9, 7], ..seen(2) }, || S(2, 1));
        let closed = g.close(Graph::Instance, &g.path(1, 2).unwrap(), &|c: u32| c.to_string()).unwrap();
        assert_eq!(closed.gate, Some(9));
        assert!(!closed.single_thread);
        g.add(2, 1, Seen { gates: vec![7], ..seen(2) }, || S(2, 1));
        let closed = g.close(Graph::Instance, &g.path(1, 2).unwrap(), &|c: u32| c.to_string()).unwrap();
        assert_eq!(closed.gate, None, "once taken without the gate, it guards nothing");
    }
}
