//! `lockcheck run --html FILE -- <command>` writes the page of every trace the command left,
//! with the same verdict as the run.

mod common;

use common::{example, lockcheck, parse_html, temp_dir, text_content};

#[test]
fn run_html_writes_the_page_of_the_run() {
    let dir = temp_dir("run-html");
    let page = dir.join("run.html");
    let traces = dir.join("traces");
    let bank = example("bank");
    let args = [
        "run",
        "--trace-dir",
        traces.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "--",
        bank.to_str().unwrap(),
    ];
    let run = lockcheck(&args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let dom = parse_html(&std::fs::read_to_string(&page).expect("the page was written"));
    assert_eq!(dom.errors.borrow().len(), 0);
    let text = text_content(&dom.document);
    assert!(text.contains("1 finding, 1 failing.") && text.contains("ledger => account => ledger"), "{text}");
}
