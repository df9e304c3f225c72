//! The lock-order graphs: instance edges (what this process can deadlock on) and class edges
//! (what any run with other instances of the same classes can deadlock on, lockdep's insight).
//!
//! Only never-seen acquisition contexts reach this module (see `held.rs`), so one global lock
//! is fine here: the steady state never takes it. A new edge `a → b` closes a cycle exactly
//! when `b` already reaches `a`; the shortest such path is found with petgraph's A* search,
//! and only when `b` has edges out at all (a fresh lock has none: the first-pass case).
//! Edges keep compact evidence (ids, `&'static` sites); report text is built only for cycles.

use std::panic::Location;
use std::sync::atomic::Ordering;

use parking_lot::Mutex as RawLock;
use petgraph::algo::astar;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::Direction;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::held::{Acquire, Held};
use crate::registry;
use crate::report::{Cycle, Edge, Finding, Graph, Mode, Site};
use crate::stack;

/// Evidence for one order `from → to`, merged over every time it was seen.
#[derive(Debug)]
struct EdgeData {
    /// How `from` was held and `to` acquired, as bitsets of [`Mode`]s.
    held_modes: u8,
    acq_modes: u8,
    /// The first observation.
    first: Sighting,
    multi_thread: bool,
    /// Locks (or classes) held exclusively across every observation (gate candidates).
    gates: Vec<u32>,
    count: u64,
    in_finding: bool,
}

/// One observation of an edge, kept compact: text is made only for reports.
#[derive(Clone, Debug)]
struct Sighting {
    tid: u32,
    from: (u32, u32, Option<u32>),
    to: (u32, u32, Option<u32>),
    from_mode: Mode,
    to_mode: Mode,
    from_site: &'static Location<'static>,
    to_site: &'static Location<'static>,
    stack: Vec<String>,
}

/// One of the two graphs: nodes are lock ids or class ids.
#[derive(Default)]
struct OrderGraph {
    graph: StableDiGraph<u32, EdgeData>,
    nodes: FxHashMap<u32, NodeIndex>,
    edges: FxHashMap<(u32, u32), EdgeIndex>,
}

impl OrderGraph {
    fn node(&mut self, id: u32) -> NodeIndex {
        *self.nodes.entry(id).or_insert_with(|| self.graph.add_node(id))
    }

    fn edge(&self, from: u32, to: u32) -> Option<&EdgeData> {
        self.edges.get(&(from, to)).map(|&e| &self.graph[e])
    }

    fn edge_mut(&mut self, from: u32, to: u32) -> Option<&mut EdgeData> {
        self.edges.get(&(from, to)).map(|&e| &mut self.graph[e])
    }

    /// A path `from ⇝ to` of node ids, if one exists.
    fn path(&self, from: u32, to: u32) -> Option<Vec<u32>> {
        let (&start, &goal) = (self.nodes.get(&from)?, self.nodes.get(&to)?);
        self.graph.neighbors_directed(start, Direction::Outgoing).next()?;
        let (_, path) = astar(&self.graph, start, |n| n == goal, |_| 1, |_| 0)?;
        Some(path.into_iter().map(|n| self.graph[n]).collect())
    }

    fn remove(&mut self, id: u32) {
        let Some(node) = self.nodes.remove(&id) else { return };
        for dir in [Direction::Outgoing, Direction::Incoming] {
            for other in self.graph.neighbors_directed(node, dir) {
                let other = self.graph[other];
                self.edges.remove(&if dir == Direction::Outgoing { (id, other) } else { (other, id) });
            }
        }
        self.graph.remove_node(node);
    }
}

/// A finding's edges, to bring its count up to date: (graph, from, to).
type EdgeKeys = Vec<(Graph, u32, u32)>;

#[derive(Default)]
struct State {
    instances: OrderGraph,
    classes: OrderGraph,
    findings: Vec<(Finding, EdgeKeys)>,
    /// Dedup keys: the cycle's classes, rotated to start at the smallest.
    keys: FxHashSet<Vec<u32>>,
    /// The edges of acquisition contexts that are part of a finding, for counting hits.
    contexts: FxHashMap<u64, EdgeKeys>,
}

static STATE: RawLock<Option<State>> = RawLock::new(None);

fn state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    f(STATE.lock().get_or_insert_with(State::default))
}

fn mode_bit(mode: Mode) -> u8 {
    1 << mode as u8
}

/// What an observation of a new acquisition context found.
pub(crate) struct Observed {
    /// New findings to report.
    pub findings: Vec<Finding>,
    /// Whether any edge of the context is part of a finding (its hits must be counted).
    pub in_finding: bool,
}

/// Adds the edges `held → acq` for every lock in `stack` (before `acq` blocks) and returns
/// the cycles they close.
#[cold]
#[inline(never)]
pub(crate) fn observe(tid: u32, key: u64, stack: &[Held], acq: &Acquire) -> Observed {
    // A stack is captured once per new class edge: bounded by the code, not the data. It is
    // taken outside the graph lock (it costs microseconds), so only when a class edge is new.
    let new_class_edge =
        |st: &mut State| stack.iter().any(|h| h.class != acq.class && st.classes.edge(h.class, acq.class).is_none());
    let captured = if stack::enabled() && state(new_class_edge) { stack::capture() } else { Vec::new() };
    let mut out = Observed { findings: Vec::new(), in_finding: false };
    let mut cycles: Vec<(Graph, Vec<u32>)> = Vec::new();
    state(|st| {
        for held in stack {
            if held.id == acq.id {
                continue;
            }
            let exclusive = |g: &&Held| g.id != held.id && matches!(g.mode, Mode::Exclusive | Mode::Upgradable);
            let gates: Vec<u32> = stack.iter().filter(exclusive).map(|g| g.id).collect();
            let sighting = |stack: Vec<String>| Sighting {
                tid,
                from: (held.id, held.class, held.rank),
                to: (acq.id, acq.class, acq.rank),
                from_mode: held.mode,
                to_mode: acq.mode,
                from_site: held.site,
                to_site: acq.site,
                stack,
            };
            if add(&mut st.instances, held.id, acq.id, tid, held.mode, acq.mode, gates, || sighting(Vec::new())) {
                if let Some(path) = st.instances.path(acq.id, held.id) {
                    cycles.push((Graph::Instance, path));
                }
            }
            out.in_finding |= st.instances.edge(held.id, acq.id).is_some_and(|e| e.in_finding);
            if held.class == acq.class {
                continue; // Same-class nesting: a note on instance cycles, never a cycle here.
            }
            let class_gates = stack.iter().filter(exclusive).map(|g| g.class).collect();
            let new_class_edge = || sighting(captured.clone());
            if add(&mut st.classes, held.class, acq.class, tid, held.mode, acq.mode, class_gates, new_class_edge) {
                if let Some(path) = st.classes.path(acq.class, held.class) {
                    cycles.push((Graph::Class, path));
                }
            }
            out.in_finding |= st.classes.edge(held.class, acq.class).is_some_and(|e| e.in_finding);
        }
        for (graph, path) in cycles {
            out.in_finding |= cycle_finding(st, graph, &path, &mut out.findings);
        }
        if out.in_finding {
            let mut touched = EdgeKeys::new();
            for held in stack.iter().filter(|h| h.id != acq.id) {
                touched.push((Graph::Instance, held.id, acq.id));
                if held.class != acq.class {
                    touched.push((Graph::Class, held.class, acq.class));
                }
            }
            st.contexts.insert(key, touched);
        }
    });
    if !out.findings.is_empty() {
        // Relaxed: threads that see the bump late re-examine their contexts one acquisition
        // later; what they then read is read under the graph lock.
        crate::held::GENERATION.fetch_add(1, Ordering::Relaxed);
    }
    out
}

/// Counts one more pass through a context that is part of a finding.
#[cold]
pub(crate) fn hit(key: u64) {
    state(|st| {
        let Some(edges) = st.contexts.get(&key).cloned() else { return };
        for (g, a, b) in edges {
            if let Some(edge) = st.graph_mut(g).edge_mut(a, b) {
                edge.count += 1;
            }
        }
    });
}

/// Drops a lock instance's node: instance memory stays bounded under churn; classes stay.
pub(crate) fn forget_lock(id: u32) {
    state(|st| st.instances.remove(id));
}

/// Every cycle found so far, with hit counts brought up to date.
pub(crate) fn findings() -> Vec<Finding> {
    state(|st| {
        let mut out = Vec::with_capacity(st.findings.len());
        for (finding, edges) in &st.findings {
            let mut finding = finding.clone();
            if let Finding::PotentialDeadlock(cycle) = &mut finding {
                let counts = edges.iter().filter_map(|&(g, a, b)| st.graph(g).edge(a, b)).map(|e| e.count).min();
                cycle.count = counts.unwrap_or(cycle.count).max(cycle.count);
            }
            out.push(finding);
        }
        out
    })
}

impl State {
    fn graph(&self, g: Graph) -> &OrderGraph {
        match g {
            Graph::Instance => &self.instances,
            Graph::Class => &self.classes,
        }
    }

    fn graph_mut(&mut self, g: Graph) -> &mut OrderGraph {
        match g {
            Graph::Instance => &mut self.instances,
            Graph::Class => &mut self.classes,
        }
    }
}

/// Records one observation of `from → to`; `true` when the edge is new.
#[allow(clippy::too_many_arguments)]
fn add(
    g: &mut OrderGraph,
    from: u32,
    to: u32,
    tid: u32,
    held_mode: Mode,
    acq_mode: Mode,
    gates: Vec<u32>,
    first: impl FnOnce() -> Sighting,
) -> bool {
    if let Some(edge) = g.edge_mut(from, to) {
        edge.count += 1;
        edge.held_modes |= mode_bit(held_mode);
        edge.acq_modes |= mode_bit(acq_mode);
        edge.multi_thread |= edge.first.tid != tid;
        edge.gates.retain(|gate| gates.contains(gate));
        return false;
    }
    let (a, b) = (g.node(from), g.node(to));
    let data = EdgeData {
        held_modes: mode_bit(held_mode),
        acq_modes: mode_bit(acq_mode),
        first: first(),
        multi_thread: false,
        gates,
        count: 1,
        in_finding: false,
    };
    let index = g.graph.add_edge(a, b, data);
    g.edges.insert((from, to), index);
    true
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

/// Turns a closed path `p0 → p1 → … → p0` into a finding, unless its modes cannot deadlock;
/// returns whether the cycle counts (new or already reported).
fn cycle_finding(st: &mut State, graph: Graph, path: &[u32], out: &mut Vec<Finding>) -> bool {
    // `path` runs from the new edge's head back to its tail: the cycle is path + closing edge.
    let n = path.len();
    let pairs: Vec<(u32, u32)> = (0..n).map(|i| (path[(i + n - 1) % n], path[i])).collect();
    let g = st.graph(graph);
    let edges: Vec<&EdgeData> = pairs.iter().filter_map(|&(a, b)| g.edge(a, b)).collect();
    if edges.len() != n {
        return false;
    }

    let mut notes = Vec::new();
    for i in 0..n {
        let (into, out_of) = (edges[i], edges[(i + 1) % n]);
        let worst = modes(out_of.held_modes)
            .flat_map(|h| modes(into.acq_modes).map(move |w| conflict(h, w)))
            .max()
            .unwrap_or(Conflict::Never);
        let lock = registry::class_label(into.first.to.1);
        match worst {
            Conflict::Never => return false,
            Conflict::Conditional if into.first.to_mode == Mode::Permit => {
                notes.push(format!("`{lock}` is a semaphore: this deadlocks once its permits run out"))
            }
            Conflict::Conditional => notes.push(format!(
                "`{lock}` is only read-locked here: parking_lot's RwLock is task-fair, so this deadlocks once \
                 a writer queues on it (use read_recursive if that cannot happen)"
            )),
            Conflict::Always => {}
        }
    }

    let classes: Vec<u32> = edges.iter().map(|e| e.first.to.1).collect();
    let start = (0..n).min_by_key(|&i| classes[i]).unwrap_or(0);
    let key: Vec<u32> = (0..n).map(|i| classes[(start + i) % n]).collect();
    let mut members = key.clone();
    members.sort_unstable();
    members.dedup();
    if graph == Graph::Instance && members.len() < n {
        notes.push("several locks of this cycle share a class: nested instances taken in both orders".into());
    }
    if graph == Graph::Class {
        notes.push(
            "found by class: no two instances in this run close it, but the same code on other instances \
             (or in another run) can"
                .into(),
        );
    }

    let gate = edges
        .iter()
        .map(|e| e.gates.clone())
        .reduce(|mut acc, gates| {
            acc.retain(|g| gates.contains(g));
            acc
        })
        .and_then(|gates| gates.first().copied());
    let guarded_by = gate.map(|g| match graph {
        Graph::Instance => gate_ref(st, g),
        Graph::Class => registry::lock_ref(g, None, registry::class(g).rank),
    });
    let first_tid = edges[0].first.tid;
    let single_thread = edges.iter().all(|e| !e.multi_thread && e.first.tid == first_tid);
    let cycle = Cycle {
        graph,
        edges: edges.iter().map(|e| evidence(&e.first, graph, class_stack(st, graph, &e.first))).collect(),
        guarded_by,
        count: edges.iter().map(|e| e.count).min().unwrap_or(1),
        single_thread,
        notes,
    };

    let g = st.graph_mut(graph);
    for &(a, b) in &pairs {
        if let Some(e) = g.edge_mut(a, b) {
            e.in_finding = true;
        }
    }
    if st.keys.insert(key) {
        let finding = Finding::PotentialDeadlock(cycle);
        out.push(finding.clone());
        st.findings.push((finding, pairs.iter().map(|&(a, b)| (graph, a, b)).collect()));
    }
    true
}

/// Names a gate lock instance by the class it had in any edge that mentions it.
fn gate_ref(st: &State, id: u32) -> crate::report::LockRef {
    let node = st.instances.nodes.get(&id);
    let sighting = node.and_then(|&n| {
        let mut out = st.instances.graph.edges_directed(n, Direction::Outgoing);
        out.next().map(|e| e.weight().first.from)
    });
    match sighting {
        Some((id, class, rank)) => registry::lock_ref(class, Some(id), rank),
        None => crate::report::LockRef { class: format!("lock #{id}"), instance: Some(id), rank: None },
    }
}

/// The stack to show for an instance edge: stacks are captured per class edge, so borrow the
/// class edge's when it was first seen at the very same sites.
fn class_stack<'a>(st: &'a State, graph: Graph, s: &'a Sighting) -> &'a [String] {
    if graph == Graph::Class || !s.stack.is_empty() {
        return &s.stack;
    }
    match st.classes.edge(s.from.1, s.to.1) {
        Some(class) if std::ptr::eq(class.first.from_site, s.from_site) && std::ptr::eq(class.first.to_site, s.to_site) => {
            &class.first.stack
        }
        _ => &s.stack,
    }
}

/// The report form of a sighting.
fn evidence(s: &Sighting, graph: Graph, stack: &[String]) -> Edge {
    let instance = |id| (graph == Graph::Instance).then_some(id);
    Edge {
        from: registry::lock_ref(s.from.1, instance(s.from.0), s.from.2),
        to: registry::lock_ref(s.to.1, instance(s.to.0), s.to.2),
        from_mode: s.from_mode,
        to_mode: s.to_mode,
        thread: registry::thread_name(s.tid),
        from_site: Site::from_location(s.from_site),
        to_site: Site::from_location(s.to_site),
        stack: stack.to_vec(),
    }
}
