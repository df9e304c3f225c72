//! `report --format html` on the bank example's trace: a page an HTML5 parser reads without
//! a single error, stating the verdict, drawing the cycle in an inline SVG that names every
//! lock of it, showing each site with its source line and each stack, and fetching nothing.

mod common;

use common::{attribute, elements, lockcheck, parse_html, record, temp_dir, text_content};

#[test]
fn html_report_draws_the_cycle_with_its_sites_and_stacks() {
    let traces = record("bank", &[]);
    let out = temp_dir("html").join("report.html");
    let run = lockcheck(&["report", "--format", "html", traces.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "a potential deadlock is a failing finding: {}", run.stderr);
    let page = std::fs::read_to_string(&out).unwrap();

    let dom = parse_html(&page);
    assert_eq!(dom.errors.borrow().len(), 0, "parse errors: {:?}", dom.errors.borrow());
    let text = text_content(&dom.document);
    assert!(text.contains("1 finding, 1 failing."), "verdict missing");
    assert!(text.contains("POTENTIAL DEADLOCK"), "summary missing");

    // The finding's section draws the cycle: an SVG whose text names both locks.
    let section = elements(&dom.document, "section").into_iter().next().expect("a finding section");
    let svgs = elements(&section, "svg");
    let drawn: String = svgs.iter().map(text_content).collect();
    for lock in ["account", "ledger"] {
        assert!(drawn.contains(lock), "the cycle's SVG does not name `{lock}`: {drawn}");
    }
    // The interleaving: one column per thread, each waiting for what the other holds.
    let table = elements(&section, "table").into_iter().next().expect("an interleaving table");
    assert_eq!(elements(&table, "th").len(), 2);
    assert!(text_content(&table).contains("waits"));
    // Sites, with their source lines when the file is readable (the example's own is).
    let section_text = text_content(&section);
    assert!(section_text.contains("examples/src/bin/bank.rs:"), "no site: {section_text}");
    let here = elements(&section, "span").into_iter().filter(|s| attribute(s, "class").as_deref() == Some("here"));
    assert!(here.count() >= 2, "no source line marked");
    // Stacks, collapsed, naming the example's functions.
    let stacks = elements(&section, "details");
    assert!(!stacks.is_empty(), "no stack");
    assert!(stacks.iter().map(text_content).any(|t| t.contains("bank::")), "stacks do not name bank's functions");

    // The class graph, the contention table and both flamegraphs are there too.
    assert!(elements(&dom.document, "svg").len() >= 2, "no class graph");
    assert!(elements(&dom.document, "table").iter().any(|t| attribute(t, "class").as_deref() == Some("sortable")));
    assert_eq!(elements(&dom.document, "iframe").len(), 2, "two flamegraphs");

    // Self-contained: every link is within the page, nothing is loaded from anywhere.
    for tag in ["a", "link", "script", "img", "iframe", "use", "textPath", "image"] {
        for element in elements(&dom.document, tag) {
            for attr in ["src", "href"] {
                if let Some(url) = attribute(&element, attr) {
                    assert!(url.starts_with('#'), "<{tag} {attr}=\"{url}\"> leaves the page");
                }
            }
        }
    }
}
