//! Graphs drawn as inline SVG by layout-rs (a pure-Rust Graphviz-style layout): a finding's
//! cycle and the whole class lock-order graph.
//!
//! The graphs are built with layout-rs's API, not as DOT text, so no label needs DOT
//! quoting; layout-rs escapes the text it writes into the SVG.

use std::collections::BTreeMap;

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;
use lockcheck::{Cycle, LockRef, Site};

use crate::dot::{ClassGraph, InCycle};

const FONT: usize = 14;
const RED: u32 = 0xc6_28_28_ff;
const BLACK: u32 = 0x00_00_00_ff;
const GREY: u32 = 0x60_60_60_ff;
const PALE_RED: u32 = 0xff_eb_ee_ff;
const WHITE: u32 = 0xff_ff_ff_ff;

/// How an edge is drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stroke {
    /// On a cycle that can deadlock: red and thick.
    Cycle,
    /// On a cycle a gate lock serialises: dashed.
    Guarded,
    /// Any other order.
    Plain,
}

/// A graph before layout: boxes with labels, and labelled edges between them.
#[derive(Default)]
struct Drawing {
    nodes: Vec<(String, bool)>,
    edges: Vec<(usize, usize, String, Stroke)>,
}

impl Drawing {
    /// The SVG, its ids prefixed with `prefix` so that several graphs share a page.
    fn svg(&self, prefix: &str) -> String {
        let mut graph = VisualGraph::new(Orientation::TopToBottom);
        let handles: Vec<_> = self
            .nodes
            .iter()
            .map(|(label, highlight)| {
                let shape = ShapeKind::new_box(label);
                let (line, fill) = if *highlight { (RED, PALE_RED) } else { (BLACK, WHITE) };
                let look =
                    StyleAttr::new(Color::new(line), if *highlight { 2 } else { 1 }, Some(Color::new(fill)), 5, FONT);
                let size = get_shape_size(Orientation::TopToBottom, &shape, FONT, false);
                graph.add_node(Element::create(shape, look, Orientation::TopToBottom, size))
            })
            .collect();
        for (from, to, label, stroke) in &self.edges {
            let (colour, width, style) = match stroke {
                Stroke::Cycle => (RED, 2, LineStyleKind::Normal),
                Stroke::Guarded => (GREY, 1, LineStyleKind::Dashed),
                Stroke::Plain => (BLACK, 1, LineStyleKind::Normal),
            };
            let look = StyleAttr::new(Color::new(colour), width, None, 0, FONT - 2);
            let arrow = Arrow::new(LineEndKind::None, LineEndKind::Arrow, style, label, &look, &None, &None);
            graph.add_edge(arrow, handles[*from], handles[*to]);
        }
        let mut writer = SVGWriter::new();
        graph.do_it(false, false, false, &mut writer);
        inline(&writer.finalize(), prefix)
    }
}

/// `svg` as an element of an HTML page: without its XML declaration, its ids (arrows, their
/// markers, clip paths) prefixed so that two graphs on one page never resolve each other's.
fn inline(svg: &str, prefix: &str) -> String {
    let body = svg.find("<svg").map_or(svg, |at| &svg[at..]);
    body.replace("id=\"arrow", &format!("id=\"{prefix}arrow"))
        .replace("#arrow", &format!("#{prefix}arrow"))
        .replace("\"startarrow\"", &format!("\"{prefix}startarrow\""))
        .replace("#startarrow", &format!("#{prefix}startarrow"))
        .replace("\"endarrow\"", &format!("\"{prefix}endarrow\""))
        .replace("#endarrow", &format!("#{prefix}endarrow"))
        .replace("id=\"C", &format!("id=\"{prefix}C"))
        .replace("url(#C", &format!("url(#{prefix}C"))
}

/// A lock as a node: its class (with `#instance` when the cycle has two of the class) and
/// its rank.
fn lock_label(name: &str, rank: Option<u32>) -> String {
    match rank {
        Some(rank) => format!("{name}\nrank {rank}"),
        None => name.to_owned(),
    }
}

/// A cycle's name for a lock: its class, with `#instance` when two locks of the cycle share
/// the class (as the text report names them).
pub(super) fn cycle_name(lock: &LockRef, cycle: &Cycle) -> String {
    let twin = |l: &LockRef| l.class == lock.class && l.instance != lock.instance;
    match lock.instance {
        Some(id) if cycle.edges.iter().any(|e| twin(&e.from)) => format!("{}#{id}", lock.class),
        _ => lock.class.clone(),
    }
}

/// A finding's cycle: one node per lock, each edge labelled with where the held lock was
/// taken and where the next one was, all of it highlighted (dashed when a gate guards it).
pub(super) fn cycle_svg(cycle: &Cycle, prefix: &str) -> String {
    let mut drawing = Drawing::default();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut node = |drawing: &mut Drawing, lock: &LockRef| {
        let name = cycle_name(lock, cycle);
        *index.entry(name.clone()).or_insert_with(|| {
            drawing.nodes.push((lock_label(&name, lock.rank), true));
            drawing.nodes.len() - 1
        })
    };
    let stroke = if cycle.guarded_by.is_some() { Stroke::Guarded } else { Stroke::Cycle };
    for edge in &cycle.edges {
        let (from, to) = (node(&mut drawing, &edge.from), node(&mut drawing, &edge.to));
        let label = sites_label(&edge.from_site, &edge.to_site);
        drawing.edges.push((from, to, label, stroke));
    }
    drawing.svg(prefix)
}

/// An edge's label: where the held lock was taken, then where the next one was, as short as
/// stays clear (`bank.rs:58 → 59` in one file); the sections below the graph give them in
/// full.
fn sites_label(held: &Site, next: &Site) -> String {
    let file = |s: &Site| s.file.rsplit(['/', '\\']).next().unwrap_or(&s.file).to_owned();
    if held.file == next.file {
        format!("{}:{} → {}", file(held), held.line, next.line)
    } else {
        format!("{}:{} → {}:{}", file(held), held.line, file(next), next.line)
    }
}

/// The class lock-order graph: every class with its rank, every order with its count;
/// deadlock cycles red, guarded cycles dashed.
pub(super) fn class_svg(graph: &ClassGraph, prefix: &str) -> String {
    let cycles = graph.cycle_edges();
    let mut drawing = Drawing::default();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (class, rank) in &graph.classes {
        let on_cycle =
            cycles.iter().any(|((from, to), how)| *how == InCycle::Deadlock && (from == class || to == class));
        index.insert(class, drawing.nodes.len());
        drawing.nodes.push((lock_label(class, *rank), on_cycle));
    }
    for ((from, to), edge) in &graph.edges {
        let (Some(&a), Some(&b)) = (index.get(from.as_str()), index.get(to.as_str())) else { continue };
        let stroke = match cycles.get(&(from.clone(), to.clone())) {
            Some(InCycle::Deadlock) => Stroke::Cycle,
            Some(InCycle::Guarded) => Stroke::Guarded,
            None => Stroke::Plain,
        };
        drawing.edges.push((a, b, format!("{}x", edge.count), stroke));
    }
    drawing.svg(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_the_declaration_dropped() {
        let drawing = Drawing {
            nodes: vec![("a".into(), true), ("b".into(), false)],
            edges: vec![(0, 1, "x.rs:1 → 2".into(), Stroke::Cycle), (1, 0, "back".into(), Stroke::Plain)],
        };
        let svg = drawing.svg("g7-");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("id=\"g7-arrow0\"") && svg.contains("href=\"#g7-arrow0\""), "{svg}");
        assert!(svg.contains("url(#g7-endarrow)") && svg.contains("id=\"g7-endarrow\""), "{svg}");
        assert!(!svg.contains("\"#arrow") && !svg.contains("(#endarrow"));
    }

    #[test]
    fn a_self_edge_is_drawn() {
        let drawing = Drawing { nodes: vec![("a".into(), true)], edges: vec![(0, 0, "again".into(), Stroke::Cycle)] };
        assert!(drawing.svg("s-").contains("again"));
    }
}
