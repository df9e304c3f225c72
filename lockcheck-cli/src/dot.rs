//! `lockcheck graph`: the class lock-order graph merged over every trace, in Graphviz DOT,
//! and rank suggestions consistent with every observed order.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use lockcheck::trace::OrderEdge;
use lockcheck::{Finding, Mode};
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::analysis::{self, Analysis};
use crate::load::{self, LoadOptions};
use crate::Error;

/// How `graph` reads.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct GraphOptions {
    /// How traces are read. Default: [`LoadOptions::default`].
    pub load: LoadOptions,
}

/// An order `from` → `to` merged over every trace.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ClassEdge {
    /// Times observed.
    pub count: u64,
    /// Modes `from` was held in (bitset, see [`OrderEdge::modes`]).
    pub held_modes: u8,
    /// Modes `to` was acquired in.
    pub acquired_modes: u8,
    /// Classes held across every observation in every trace.
    pub gates: BTreeSet<String>,
}

/// How an edge takes part in a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum InCycle {
    /// On a cycle a gate lock serialises.
    Guarded,
    /// On a cycle that can deadlock.
    Deadlock,
}

/// The merged class graph.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ClassGraph {
    /// Every class, with its rank if it has one.
    pub classes: BTreeMap<String, Option<u32>>,
    /// Every order, by (from, to).
    pub edges: BTreeMap<(String, String), ClassEdge>,
    /// The findings of the same traces (for the cycles).
    pub analysis: Analysis,
}

/// Reads `inputs` and merges their class lock-order edges.
pub fn graph(inputs: &[PathBuf], options: &GraphOptions) -> Result<ClassGraph, Error> {
    let traces = load::load(inputs, &options.load, |_, _, _| {})?;
    Ok(ClassGraph::merge(&traces, analysis::analyse(&traces)))
}

impl ClassGraph {
    /// The class graph of `traces`, its cycles those of `analysis`.
    pub(crate) fn merge(traces: &[load::Trace], analysis: Analysis) -> ClassGraph {
        let mut graph = ClassGraph { analysis, ..ClassGraph::default() };
        for class in traces.iter().flat_map(|t| t.data.classes.values()) {
            let rank = graph.classes.entry(class.label.clone()).or_default();
            *rank = rank.or(class.rank);
        }
        for edge in traces.iter().flat_map(|t| &t.data.edges) {
            graph.add(edge);
        }
        graph
    }

    fn add(&mut self, edge: &OrderEdge) {
        for (class, first) in [(&edge.from, &edge.first.from), (&edge.to, &edge.first.to)] {
            let rank = self.classes.entry(class.clone()).or_default();
            *rank = rank.or(first.rank.filter(|_| first.class == *class));
        }
        let key = (edge.from.clone(), edge.to.clone());
        let fresh = !self.edges.contains_key(&key);
        let merged = self.edges.entry(key).or_default();
        merged.count = merged.count.saturating_add(edge.count);
        merged.held_modes |= edge.held_modes;
        merged.acquired_modes |= edge.acquired_modes;
        let gates: BTreeSet<String> = edge.gates.iter().cloned().collect();
        merged.gates = if fresh { gates } else { merged.gates.intersection(&gates).cloned().collect() };
    }

    /// Edges that lie on a reported cycle, and how.
    pub(crate) fn cycle_edges(&self) -> BTreeMap<(String, String), InCycle> {
        let mut out = BTreeMap::new();
        for finding in &self.analysis.report.findings {
            let Finding::PotentialDeadlock(cycle) = finding else { continue };
            let how = if cycle.guarded_by.is_some() { InCycle::Guarded } else { InCycle::Deadlock };
            for e in &cycle.edges {
                let slot = out.entry((e.from.class.clone(), e.to.class.clone())).or_insert(how);
                if how == InCycle::Deadlock {
                    *slot = how;
                }
            }
        }
        out
    }

    /// Classes that guard a reported cycle.
    pub(crate) fn gates(&self) -> BTreeSet<String> {
        let cycles = self.analysis.report.findings.iter().filter_map(|f| match f {
            Finding::PotentialDeadlock(c) => c.guarded_by.as_ref().map(|g| g.class.clone()),
            _ => None,
        });
        cycles.collect()
    }

    /// The graph in DOT: edges labelled with counts and modes, deadlock cycles red, guarded
    /// cycles dashed, gate locks drawn as double octagons.
    pub fn dot(&self) -> String {
        let cycle_edges = self.cycle_edges();
        let gates = self.gates();
        let mut out =
            String::from("digraph lockcheck {\n    rankdir=LR;\n    node [shape=box, fontname=\"monospace\"];\n");
        for (class, rank) in &self.classes {
            let label = match rank {
                Some(rank) => format!("{}\\nrank {rank}", quote_inner(class)),
                None => quote_inner(class),
            };
            let gate = if gates.contains(class) { ", shape=doubleoctagon, xlabel=\"gate\"" } else { "" };
            let _ = writeln!(out, "    {} [label=\"{label}\"{gate}];", quote(class));
        }
        for ((from, to), edge) in &self.edges {
            let modes = |bits: u8| OrderEdge::modes(bits).iter().map(|m| m.verb()).collect::<Vec<_>>().join("|");
            let mut label = format!("{}x {} / {}", edge.count, modes(edge.held_modes), modes(edge.acquired_modes));
            if !edge.gates.is_empty() {
                let gates: Vec<&str> = edge.gates.iter().map(String::as_str).collect();
                label += &format!("\\nunder {}", quote_inner(&gates.join(", ")));
            }
            let style = match cycle_edges.get(&(from.clone(), to.clone())) {
                Some(InCycle::Deadlock) => ", color=red, fontcolor=red, penwidth=2",
                Some(InCycle::Guarded) => ", style=dashed",
                None => "",
            };
            let _ = writeln!(out, "    {} -> {} [label=\"{label}\"{style}];", quote(from), quote(to));
        }
        out + "}\n"
    }

    /// What [`dot`](ClassGraph::dot) draws, as one JSON document: `graph` (every class with
    /// its rank and whether it guards a cycle; every edge with its count, modes, gates and the
    /// kind of cycle it lies on) and, when given, `ranks`.
    pub fn to_json(&self, ranks: Option<&Ranks>) -> serde_json::Value {
        #[derive(Serialize)]
        struct Class<'a> {
            class: &'a str,
            rank: Option<u32>,
            gate: bool,
        }
        #[derive(Serialize)]
        struct Edge<'a> {
            from: &'a str,
            to: &'a str,
            count: u64,
            held_modes: Vec<Mode>,
            acquired_modes: Vec<Mode>,
            gates: &'a BTreeSet<String>,
            cycle: Option<InCycle>,
        }
        let (cycle_edges, gates) = (self.cycle_edges(), self.gates());
        let classes: Vec<Class> = self
            .classes
            .iter()
            .map(|(class, rank)| Class { class, rank: *rank, gate: gates.contains(class) })
            .collect();
        let edges: Vec<Edge> = self
            .edges
            .iter()
            .map(|((from, to), edge)| Edge {
                from,
                to,
                count: edge.count,
                held_modes: OrderEdge::modes(edge.held_modes),
                acquired_modes: OrderEdge::modes(edge.acquired_modes),
                gates: &edge.gates,
                cycle: cycle_edges.get(&(from.clone(), to.clone())).copied(),
            })
            .collect();
        let mut value = serde_json::json!({ "graph": { "classes": classes, "edges": edges } });
        if let Some(ranks) = ranks {
            value["ranks"] = serde_json::to_value(ranks).unwrap_or_default();
        }
        value
    }

    /// A rank per class that strictly increases along every observed order (10, 20, 30, …
    /// in topological order), or the groups of classes ordered both ways that prevent one.
    /// Same-class edges (instances of one class nested) are left out: ranks cannot order
    /// them.
    pub fn suggest_ranks(&self) -> Ranks {
        let mut graph: DiGraph<&str, ()> = DiGraph::new();
        let nodes: BTreeMap<&str, NodeIndex> =
            self.classes.keys().map(|c| (c.as_str(), graph.add_node(c.as_str()))).collect();
        for (from, to) in self.edges.keys().filter(|(from, to)| from != to) {
            graph.add_edge(nodes[from.as_str()], nodes[to.as_str()], ());
        }
        let mut tangles: Vec<Vec<String>> = petgraph::algo::tarjan_scc(&graph)
            .into_iter()
            .filter(|scc| scc.len() > 1)
            .map(|scc| {
                let mut classes: Vec<String> = scc.iter().map(|&n| graph[n].to_owned()).collect();
                classes.sort();
                classes
            })
            .collect();
        if !tangles.is_empty() {
            tangles.sort();
            return Ranks::Impossible(tangles);
        }
        match petgraph::algo::toposort(&graph, None) {
            Ok(order) => Ranks::Suggested(
                order.into_iter().zip(1u32..).map(|(n, i)| (graph[n].to_owned(), i.saturating_mul(10))).collect(),
            ),
            Err(cycle) => Ranks::Impossible(vec![vec![graph[cycle.node_id()].to_owned()]]),
        }
    }
}

/// The outcome of [`ClassGraph::suggest_ranks`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ranks {
    /// Class and rank, lowest rank first.
    Suggested(Vec<(String, u32)>),
    /// Groups of classes taken in both orders (strongly connected): no ranks fit.
    Impossible(Vec<Vec<String>>),
}

impl Ranks {
    /// The suggestion as text, one class per line.
    pub fn render_text(&self) -> String {
        match self {
            Ranks::Suggested(ranks) => {
                let width = ranks.iter().map(|(c, _)| c.chars().count()).max().unwrap_or(0);
                let mut out = String::from("suggested ranks, consistent with every observed order:\n");
                for (class, rank) in ranks {
                    let _ = writeln!(out, "    {class:<width$}  {rank}");
                }
                out
            }
            Ranks::Impossible(groups) => {
                let mut out =
                    String::from("no ranks fit: these locks were taken in both orders (lock-order cycles):\n");
                for group in groups {
                    let _ = writeln!(out, "    {}", group.join(", "));
                }
                out
            }
        }
    }
}

fn quote(text: &str) -> String {
    format!("\"{}\"", quote_inner(text))
}

fn quote_inner(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
