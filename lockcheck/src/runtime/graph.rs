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
use rustc_hash::{FxHashMap, FxHashSet};

use crate::analysis::order::{mode_bit, OrderGraph, Seen};
use crate::analysis::report::{Cycle, Edge, Finding, Graph, LockRef, Mode, Site};
use crate::record::stack;
use crate::runtime::held::{Acquire, Held};
use crate::runtime::registry;

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
    /// The interned stack of the acquiring thread, captured when the class edge was new.
    stack: Option<u32>,
}

impl crate::analysis::order::Sighting for Sighting {
    fn thread(&self) -> u64 {
        u64::from(self.tid)
    }
    fn to_class(&self) -> u32 {
        self.to.1
    }
    fn to_mode(&self) -> Mode {
        self.to_mode
    }
}

/// A finding's edges, to bring its count up to date: (graph, from, to).
type EdgeKeys = Vec<(Graph, u32, u32)>;

#[derive(Default)]
struct State {
    instances: OrderGraph<Sighting>,
    classes: OrderGraph<Sighting>,
    findings: Vec<(Finding, EdgeKeys)>,
    /// Dedup keys (the cycle's classes, rotated to start at the smallest) → index in `findings`.
    keys: FxHashMap<Vec<u32>, usize>,
    /// The edges of acquisition contexts that are part of a finding, for counting hits.
    contexts: FxHashMap<u64, EdgeKeys>,
    /// Semaphores (instance ids) that exclude like a mutex: one permit, never changed.
    one_permit: FxHashSet<u32>,
}

static STATE: RawLock<Option<State>> = RawLock::new(None);

fn state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    f(STATE.lock().get_or_insert_with(State::default))
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
    let new_class_edge = |st: &mut State| {
        stack.iter().any(|h| h.class() != acq.class() && st.classes.edge(h.class(), acq.class()).is_none())
    };
    let captured = match stack::enabled() && state(new_class_edge) {
        true => stack::capture().map(|stack| stack::intern(&stack)),
        false => None,
    };
    let mut out = Observed { findings: Vec::new(), in_finding: false };
    let mut cycles: Vec<(Graph, Vec<u32>)> = Vec::new();
    state(|st| {
        for held in stack {
            if held.id == acq.id {
                continue;
            }
            // A gate is a holding no other thread can share: exclusive, upgradable (two
            // upgradable holders exclude each other, and writers), or a one-permit semaphore.
            let one_permit = &st.one_permit;
            let exclusive = |g: &&Held| {
                g.id != held.id
                    && match g.mode {
                        Mode::Exclusive | Mode::Upgradable => true,
                        Mode::Permit => one_permit.contains(&g.id),
                        Mode::Shared | Mode::SharedRecursive => false,
                    }
            };
            let gates: Vec<u32> = stack.iter().filter(exclusive).map(|g| g.id).collect();
            let sighting = |stack: Option<u32>| Sighting {
                tid,
                from: (held.id, held.class(), held.rank()),
                to: (acq.id, acq.class(), acq.rank()),
                from_mode: held.mode,
                to_mode: acq.mode,
                from_site: held.site,
                to_site: acq.site,
                stack,
            };
            let seen = |gates| Seen {
                thread: u64::from(tid),
                held_modes: mode_bit(held.mode),
                acq_modes: mode_bit(acq.mode),
                gates,
                count: 1,
                multi_thread: false,
            };
            if held.class() == acq.class() {
                // Same-class nesting (per-account locks): only instances tell the orders apart.
                if st.instances.add(held.id, acq.id, seen(gates), || sighting(None)).judge() {
                    let path = st.instances.deadlocking_path(Graph::Instance, acq.id, held.id, &registry::class_label);
                    cycles.extend(path.map(|path| (Graph::Instance, path)));
                }
                out.in_finding |= st.instances.edge(held.id, acq.id).is_some_and(|e| e.in_finding);
                continue;
            }
            let class_gates = stack.iter().filter(exclusive).map(|g| g.class()).collect();
            let new_class_edge = || sighting(captured);
            if st.classes.add(held.class(), acq.class(), seen(class_gates), new_class_edge).judge() {
                let path = st.classes.deadlocking_path(Graph::Class, acq.class(), held.class(), &registry::class_label);
                cycles.extend(path.map(|path| (Graph::Class, path)));
            }
            out.in_finding |= st.classes.edge(held.class(), acq.class()).is_some_and(|e| e.in_finding);
        }
        for (graph, path) in cycles {
            out.in_finding |= cycle_finding(st, graph, &path, &mut out.findings);
        }
        if out.in_finding {
            let mut touched = EdgeKeys::new();
            for held in stack.iter().filter(|h| h.id != acq.id) {
                touched.push(match held.class() == acq.class() {
                    true => (Graph::Instance, held.id, acq.id),
                    false => (Graph::Class, held.class(), acq.class()),
                });
            }
            st.contexts.insert(key, touched);
        }
    });
    if !out.findings.is_empty() {
        // Relaxed: threads that see the bump late re-examine their contexts one acquisition
        // later; what they then read is read under the graph lock.
        crate::runtime::held::GENERATION.fetch_add(1, Ordering::Relaxed);
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

/// A semaphore registered as `id` excludes like a mutex if `one_permit()` says so (read
/// under the graph lock, see `LockMeta::lose_exclusion`).
#[cold]
pub(crate) fn note_gate(id: u32, one_permit: impl FnOnce() -> bool) {
    state(|st| {
        if one_permit() {
            st.one_permit.insert(id);
        }
    });
}

/// A semaphore's permits changed: it is no gate for edges seen from now on. Edges seen
/// before keep it (their cycles, if closed, were judged and reported then); a cycle closed
/// later needs an edge seen later, and its gates are those every edge shares.
/// `registered()` gives its id, if it was ever registered.
#[cold]
pub(crate) fn revoke_gate(registered: impl FnOnce() -> Option<u32>) {
    state(|st| {
        if let Some(id) = registered() {
            st.one_permit.remove(&id);
        }
    });
}

/// Drops a lock instance's node: instance memory stays bounded under churn; classes stay.
pub(crate) fn forget_lock(id: u32) {
    state(|st| {
        st.instances.remove(id);
        st.one_permit.remove(&id);
    });
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
    fn graph(&self, g: Graph) -> &OrderGraph<Sighting> {
        match g {
            Graph::Instance => &self.instances,
            Graph::Class => &self.classes,
        }
    }

    fn graph_mut(&mut self, g: Graph) -> &mut OrderGraph<Sighting> {
        match g {
            Graph::Instance => &mut self.instances,
            Graph::Class => &mut self.classes,
        }
    }
}

/// Turns a closed path into a finding unless its modes cannot deadlock; returns whether the
/// cycle counts (new or already reported).
///
/// Lock instances get edges only when nested within their own class: any other instance
/// cycle projects onto a class cycle, so the class graph finds it (lockdep keeps classes only).
/// A class cycle whose first-seen edges chain through the very same instances is reported as
/// an instance cycle: this process took these locks in both orders.
fn cycle_finding(st: &mut State, graph: Graph, path: &[u32], out: &mut Vec<Finding>) -> bool {
    // Stacks stay code addresses here: whoever shows the finding to a person symbolises them
    // (see `check::resolve_stacks`), never the thread that closed the cycle, which holds locks.
    let Some(mut closed) = st.graph(graph).close(graph, path, &registry::class_label) else {
        return false;
    };
    let n = closed.edges.len();
    let same_locks = (0..n).all(|i| closed.edges[i].first.to.0 == closed.edges[(i + 1) % n].first.from.0);
    let label = if same_locks { Graph::Instance } else { graph };
    if label == Graph::Class {
        closed.notes.push(
            "found by class: these classes (names or creation sites) were taken in both orders; each \
             order's first sighting, shown above, was on other instances, and any two threads running this \
             code on the same instances can deadlock"
                .into(),
        );
    }
    let guarded_by = closed.gate.map(|g| match graph {
        Graph::Instance => gate_ref(st, g),
        Graph::Class => registry::lock_ref(g, None, registry::class(g).rank),
    });
    let cycle = Cycle {
        graph: label,
        edges: closed.edges.iter().map(|e| evidence(&e.first, label)).collect(),
        guarded_by,
        count: closed.count,
        single_thread: closed.single_thread,
        notes: closed.notes,
    };
    let (pairs, key) = (closed.pairs, closed.key);
    st.graph_mut(graph).mark(&pairs);
    let edges = pairs.iter().map(|&(a, b)| (graph, a, b)).collect();
    let finding = Finding::PotentialDeadlock(cycle);
    match st.keys.get(&key) {
        None => {
            st.keys.insert(key, st.findings.len());
            out.push(finding.clone());
            st.findings.push((finding, edges));
        }
        // Reported as guarded, and now taken without the gate too: it fails after all.
        Some(&at) if !st.findings[at].0.is_failure() && finding.is_failure() => {
            out.push(finding.clone());
            st.findings[at] = (finding, edges);
        }
        Some(_) => {}
    }
    true
}

/// Names a gate lock instance by the class it had in any edge that mentions it.
fn gate_ref(st: &State, id: u32) -> LockRef {
    match st.instances.any_edge_from(id).map(|s| s.from) {
        Some((id, class, rank)) => registry::lock_ref(class, Some(id), rank),
        None => LockRef { class: format!("lock #{id}"), instance: Some(id), rank: None },
    }
}

/// The report form of a sighting.
fn evidence(s: &Sighting, graph: Graph) -> Edge {
    let instance = |id| (graph == Graph::Instance).then_some(id);
    Edge {
        from: registry::lock_ref(s.from.1, instance(s.from.0), s.from.2),
        to: registry::lock_ref(s.to.1, instance(s.to.0), s.to.2),
        from_mode: s.from_mode,
        to_mode: s.to_mode,
        thread: registry::thread_name(s.tid),
        from_site: Site::from_location(s.from_site),
        to_site: Site::from_location(s.to_site),
        stack: Vec::new(),
        stack_id: s.stack,
    }
}

/// Every class lock-order edge, for the trace: the CLI merges them across processes by label.
/// Their stacks travel as interned ids (`Edge::stack_id`), which the trace declares.
pub(crate) fn export_class_edges() -> Vec<crate::analysis::order_edge::OrderEdge> {
    state(|st| {
        st.classes
            .edges()
            .map(|(from, to, e)| crate::analysis::order_edge::OrderEdge {
                from: registry::class_label(from),
                to: registry::class_label(to),
                held_modes: e.held_modes,
                acquired_modes: e.acq_modes,
                gates: e.gates.iter().map(|&g| registry::class_label(g)).collect(),
                count: e.count,
                multi_thread: e.multi_thread,
                first: evidence(&e.first, Graph::Class),
            })
            .collect()
    })
}
