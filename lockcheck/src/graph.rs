//! The lock-order graphs: instance edges (what this process can deadlock on) and class edges
//! (what any run with other instances of the same classes can deadlock on, lockdep's insight).
//!
//! Only never-seen acquisition contexts reach this module (see `held.rs`), so one global lock
//! is fine here: the steady state never takes it. A new edge `a → b` closes a cycle exactly
//! when `b` already reaches `a`; the shortest such path is found with petgraph's A* search.

use std::collections::{HashMap, HashSet};

use parking_lot::Mutex as RawLock;
use petgraph::algo::astar;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};

use crate::held::{Acquire, Held};
use crate::registry::{self, LockKind};
use crate::report::{Cycle, Edge, Finding, Graph, LockRef, Mode, Site};
use crate::stack;
use crate::trace::OrderEdge;

/// Evidence for one order `from → to`, merged over every time it was seen.
#[derive(Debug)]
struct EdgeData {
    /// How `from` was held and `to` acquired, as bitsets of [`Mode`]s.
    held_modes: u8,
    acq_modes: u8,
    first: Edge,
    first_tid: u32,
    multi_thread: bool,
    /// Locks held exclusively across every observation of this edge (gate candidates).
    gates: Vec<u32>,
    count: u64,
    in_finding: bool,
}

/// One of the two graphs: nodes are lock ids or class ids.
#[derive(Default)]
struct OrderGraph {
    graph: StableDiGraph<u32, ()>,
    nodes: HashMap<u32, NodeIndex>,
    edges: HashMap<(u32, u32), EdgeData>,
}

impl OrderGraph {
    fn node(&mut self, id: u32) -> NodeIndex {
        *self.nodes.entry(id).or_insert_with(|| self.graph.add_node(id))
    }

    /// A path `from ⇝ to` of node ids, if one exists.
    fn path(&self, from: u32, to: u32) -> Option<Vec<u32>> {
        let (&start, &goal) = (self.nodes.get(&from)?, self.nodes.get(&to)?);
        let (_, path) = astar(&self.graph, start, |n| n == goal, |_| 1, |_| 0)?;
        Some(path.into_iter().map(|n| self.graph[n]).collect())
    }

    fn remove(&mut self, id: u32) {
        if let Some(node) = self.nodes.remove(&id) {
            self.graph.remove_node(node);
            self.edges.retain(|&(a, b), _| a != id && b != id);
        }
    }
}

#[derive(Default)]
struct State {
    instances: OrderGraph,
    classes: OrderGraph,
    /// Findings by dedup key (the cycle's classes, rotated to start at the smallest).
    findings: Vec<(Finding, Vec<(Graph, u32, u32)>)>,
    keys: HashSet<Vec<u32>>,
    /// The edges of acquisition contexts that are part of a finding, for counting hits.
    contexts: HashMap<u64, Vec<(Graph, u32, u32)>>,
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
    let classes: Vec<u32> = stack.iter().map(|h| class_of(h.id)).collect();
    let acq_class = class_of(acq.id);
    // A class stack is captured once per new class edge: bounded by the code, not the data.
    let mut captured: Option<Vec<String>> = None;
    state(|st| {
        let mut out = Observed { findings: Vec::new(), in_finding: false };
        let mut touched = Vec::new();
        for (i, held) in stack.iter().enumerate() {
            if held.id == acq.id {
                continue;
            }
            let gates: Vec<u32> = stack
                .iter()
                .filter(|g| g.id != held.id && matches!(g.mode, Mode::Exclusive | Mode::Upgradable))
                .map(|g| g.id)
                .collect();
            let edge = || evidence(tid, held, acq);
            if add(&mut st.instances, held.id, acq.id, tid, held.mode, acq.mode, gates.clone(), edge) {
                if let Some(path) = st.instances.path(acq.id, held.id) {
                    cycle_finding(st, Graph::Instance, &path, &mut out);
                }
            }
            touched.push((Graph::Instance, held.id, acq.id));
            let (from_class, to_class) = (classes[i], acq_class);
            if from_class == to_class {
                continue; // Same-class nesting: a note on instance cycles, never a cycle here.
            }
            let class_gates = gates.iter().map(|&g| class_of(g)).collect();
            let class_edge = || {
                let mut e = evidence(tid, held, acq);
                e.stack = captured.get_or_insert_with(stack::capture).clone();
                e.from.instance = None;
                e.to.instance = None;
                e
            };
            if add(&mut st.classes, from_class, to_class, tid, held.mode, acq.mode, class_gates, class_edge)
            {
                if let Some(path) = st.classes.path(to_class, from_class) {
                    cycle_finding(st, Graph::Class, &path, &mut out);
                }
            }
            touched.push((Graph::Class, from_class, to_class));
        }
        out.in_finding = touched.iter().any(|&(g, a, b)| st.graph(g).edges[&(a, b)].in_finding);
        if out.in_finding {
            st.contexts.insert(key, touched);
        }
        if !out.findings.is_empty() {
            // Release: pairs with the Relaxed load in `held::Thread::check`; a thread that
            // sees the bump re-examines its contexts under this lock.
            crate::held::GENERATION.fetch_add(1, std::sync::atomic::Ordering::Release);
        }
        out
    })
}

/// Counts one more pass through a context that is part of a finding.
#[cold]
pub(crate) fn hit(key: u64) {
    state(|st| {
        let Some(edges) = st.contexts.get(&key).cloned() else { return };
        for (g, a, b) in edges {
            if let Some(edge) = st.graph_mut(g).edges.get_mut(&(a, b)) {
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
                let counts = edges.iter().filter_map(|&(g, a, b)| st.graph(g).edges.get(&(a, b)));
                cycle.count = counts.map(|e| e.count).min().unwrap_or(cycle.count).max(cycle.count);
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
    evidence: impl FnOnce() -> Edge,
) -> bool {
    if let Some(edge) = g.edges.get_mut(&(from, to)) {
        edge.count += 1;
        edge.held_modes |= mode_bit(held_mode);
        edge.acq_modes |= mode_bit(acq_mode);
        edge.multi_thread |= edge.first_tid != tid;
        edge.gates.retain(|gate| gates.contains(gate));
        return false;
    }
    let (a, b) = (g.node(from), g.node(to));
    g.graph.add_edge(a, b, ());
    g.edges.insert(
        (from, to),
        EdgeData {
            held_modes: mode_bit(held_mode),
            acq_modes: mode_bit(acq_mode),
            first: evidence(),
            first_tid: tid,
            multi_thread: false,
            gates,
            count: 1,
            in_finding: false,
        },
    );
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

/// Turns a closed path `p0 → p1 → … → p0` into a finding, unless its modes cannot deadlock or
/// it was already reported.
fn cycle_finding(st: &mut State, graph: Graph, path: &[u32], out: &mut Observed) {
    // `path` runs from the new edge's head back to its tail: the cycle is path + closing edge.
    let n = path.len();
    let pairs: Vec<(u32, u32)> = (0..n).map(|i| (path[(i + n - 1) % n], path[i])).collect();
    let g = st.graph(graph);
    let edges: Vec<&EdgeData> = pairs.iter().map(|p| &g.edges[p]).collect();

    let mut notes = Vec::new();
    for i in 0..n {
        let (into, out_of) = (edges[i], edges[(i + 1) % n]);
        let worst = modes(out_of.held_modes)
            .flat_map(|h| modes(into.acq_modes).map(move |w| conflict(h, w)))
            .max()
            .unwrap_or(Conflict::Never);
        let lock = &into.first.to.class;
        match worst {
            Conflict::Never => return,
            Conflict::Conditional if into.first.to_mode == Mode::Permit => notes.push(format!(
                "`{lock}` is a semaphore: this deadlocks once its permits run out"
            )),
            Conflict::Conditional => notes.push(format!(
                "`{lock}` is only read-locked here: parking_lot's RwLock is task-fair, so this \
                 deadlocks once a writer queues on it (use read_recursive if that cannot happen)"
            )),
            Conflict::Always => {}
        }
    }

    let classes: Vec<u32> = match graph {
        Graph::Instance => path.iter().map(|&id| class_of(id)).collect(),
        Graph::Class => path.to_vec(),
    };
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
            "found by class: no two instances in this run close it, but the same code on other \
             instances (or in another run) can"
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
        Graph::Instance => lock_ref(g),
        Graph::Class => class_ref(g),
    });
    let tids: HashSet<u32> = edges.iter().map(|e| e.first_tid).collect();
    let single_thread = tids.len() == 1 && edges.iter().all(|e| !e.multi_thread);
    let count = edges.iter().map(|e| e.count).min().unwrap_or(1);
    let cycle = Cycle {
        graph,
        edges: edges.iter().map(|e| e.first.clone()).collect(),
        guarded_by,
        count,
        single_thread,
        notes,
    };

    let g = st.graph_mut(graph);
    for pair in &pairs {
        if let Some(e) = g.edges.get_mut(pair) {
            e.in_finding = true;
        }
    }
    let tagged = pairs.iter().map(|&(a, b)| (graph, a, b)).collect();
    if st.keys.insert(key) {
        let finding = Finding::PotentialDeadlock(cycle);
        out.findings.push(finding.clone());
        st.findings.push((finding, tagged));
    }
}

fn class_of(id: u32) -> u32 {
    registry::lock(id).map_or(u32::MAX, |l| l.class)
}

/// How reports name a live lock instance.
pub(crate) fn lock_ref(id: u32) -> LockRef {
    let info = registry::lock(id);
    let class = info.map(|i| registry::class(i.class).label).unwrap_or_else(|| format!("lock #{id}"));
    LockRef { class, instance: Some(id), rank: info.and_then(|i| i.rank) }
}

fn class_ref(class: u32) -> LockRef {
    let info = registry::class(class);
    LockRef { class: info.label, instance: None, rank: info.rank }
}

fn evidence(tid: u32, held: &Held, acq: &Acquire) -> Edge {
    Edge {
        from: lock_ref(held.id),
        to: lock_ref(acq.id),
        from_mode: held.mode,
        to_mode: acq.mode,
        thread: registry::thread_name(tid),
        from_site: Site::from_location(held.site),
        to_site: Site::from_location(acq.site),
        stack: Vec::new(),
    }
}

/// Every class lock-order edge, for the trace: the CLI merges them across processes by label.
pub(crate) fn export_class_edges() -> Vec<OrderEdge> {
    let label = |class: u32| registry::try_class(class).map_or_else(|| "<unknown class>".to_owned(), |c| c.label);
    state(|st| {
        st.classes
            .edges
            .iter()
            .map(|(&(from, to), e)| OrderEdge {
                from: label(from),
                to: label(to),
                held_modes: e.held_modes,
                acquired_modes: e.acq_modes,
                gates: e.gates.iter().map(|&g| label(g)).collect(),
                count: e.count,
                multi_thread: e.multi_thread,
                first: e.first.clone(),
            })
            .collect()
    })
}

/// The kind of a live lock, for checks that depend on it.
pub(crate) fn kind_of(id: u32) -> Option<LockKind> {
    registry::lock(id).map(|l| l.kind)
}
