//! `graph --format json`: standard output is one JSON document, the graph and (with
//! `--suggest-ranks`) the ranks, with or without `-o` (which still receives the DOT).

mod common;

use common::{lockcheck_in, order_trace, temp_dir};
use serde_json::Value;

fn json(run: &common::Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", run.stdout))
}

#[test]
fn graph_json_is_one_document_with_the_ranks() {
    let dir = temp_dir("graph-json");
    order_trace(&dir, "ab", "a", "b");
    let run = lockcheck_in(Some(&dir), &["graph", "--suggest-ranks", "--format", "json", "ab.lctrace"], &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let doc = json(&run);
    let edges = doc["graph"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1, "{doc:#}");
    assert_eq!((edges[0]["from"].as_str(), edges[0]["to"].as_str()), (Some("a"), Some("b")));
    assert_eq!(edges[0]["held_modes"], serde_json::json!(["exclusive"]));
    assert_eq!(edges[0]["cycle"], Value::Null);
    let classes: Vec<&str> =
        doc["graph"]["classes"].as_array().unwrap().iter().map(|c| c["class"].as_str().unwrap()).collect();
    assert_eq!(classes, ["a", "b"]);
    assert_eq!(doc["ranks"]["suggested"], serde_json::json!([["a", 10], ["b", 20]]));
}

#[test]
fn a_cycle_is_marked_and_prevents_ranks() {
    let dir = temp_dir("graph-json-cycle");
    order_trace(&dir, "ab", "a", "b");
    order_trace(&dir, "ba", "b", "a");
    let args = ["graph", "--suggest-ranks", "--format", "json", "-o", "g.dot", "ab.lctrace", "ba.lctrace"];
    let run = lockcheck_in(Some(&dir), &args, &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let doc = json(&run);
    let cycles: Vec<&str> =
        doc["graph"]["edges"].as_array().unwrap().iter().map(|e| e["cycle"].as_str().unwrap()).collect();
    assert_eq!(cycles, ["deadlock", "deadlock"]);
    assert_eq!(doc["ranks"]["impossible"], serde_json::json!([["a", "b"]]));
    let dot = std::fs::read_to_string(dir.join("g.dot")).unwrap();
    assert!(dot.starts_with("digraph lockcheck {"), "-o still receives the DOT: {dot}");
}

#[test]
fn without_ranks_the_document_is_the_graph() {
    let dir = temp_dir("graph-json-plain");
    order_trace(&dir, "ab", "a", "b");
    let run = lockcheck_in(Some(&dir), &["graph", "--format", "json", "ab.lctrace"], &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let doc = json(&run);
    assert!(doc.get("ranks").is_none(), "{doc:#}");
    assert_eq!(doc["graph"]["edges"].as_array().map(Vec::len), Some(1), "{doc:#}");
}
