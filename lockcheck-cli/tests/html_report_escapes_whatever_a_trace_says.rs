//! A trace names its locks, threads and files as the program chose: markup in any of them
//! reaches the page as text, never as elements, in the page itself and in the flamegraphs'
//! frames.

mod common;

use common::{attribute, elements, lockcheck, parse_html, temp_dir, text_content, TraceBuilder};
use lockcheck::{Finding, HeldLock, LockRef, Misuse, Mode, Site};

const LOCK: &str = "<script>alert(1)</script>";
const OTHER: &str = "</svg><img src=x onerror=alert(2)>";
const THREAD: &str = "<b onclick=\"alert(3)\">worker</b>";
const FILE: &str = "src/\"><iframe src=//evil.example>.rs";

#[test]
fn html_report_escapes_whatever_a_trace_says() {
    let dir = temp_dir("html-escape");
    let mut trace = TraceBuilder::default();
    let thread = trace.thread(THREAD);
    let (a, b) = (trace.lock(LOCK, Some(1)), trace.lock(OTHER, None));
    let site = trace.site(FILE, 3);
    trace.hold(thread, a, site, Some(5_000), Some(9_000));
    trace.hold(thread, b, site, Some(7_000), Some(2_000));
    trace.edge(LOCK, OTHER, THREAD, 1);
    trace.edge(OTHER, LOCK, THREAD, 1);
    trace.finding(Finding::Misuse(Misuse {
        what: "held at exit <u>".into(),
        thread: THREAD.into(),
        held: HeldLock {
            lock: LockRef { class: LOCK.into(), instance: None, rank: None },
            mode: Mode::Exclusive,
            site: Site { file: FILE.into(), line: 3, column: 5 },
        },
    }));
    let path = dir.join("evil.lctrace");
    trace.write(&path);

    let run = lockcheck(&["report", "--format", "html", path.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let dom = parse_html(&run.stdout);
    assert_eq!(dom.errors.borrow().len(), 0, "parse errors: {:?}", dom.errors.borrow());
    // Only the page's own elements: one script (the table sorter), the two flamegraph frames.
    assert_eq!(elements(&dom.document, "script").len(), 1);
    assert_eq!(elements(&dom.document, "img").len(), 0);
    assert_eq!(elements(&dom.document, "iframe").len(), 2);
    assert_eq!(elements(&dom.document, "u").len(), 0);
    assert!(elements(&dom.document, "b").is_empty());
    // What the trace said is there, as text.
    let text = text_content(&dom.document);
    for said in [LOCK, OTHER, THREAD, FILE] {
        assert!(text.contains(said), "`{said}` is not in the page's text");
    }
    // The flamegraphs' documents (the frames' `srcdoc`) hold no element of the trace's either.
    for frame in elements(&dom.document, "iframe") {
        let inner = parse_html(&attribute(&frame, "srcdoc").unwrap());
        assert_eq!(elements(&inner.document, "img").len(), 0);
        assert_eq!(elements(&inner.document, "iframe").len(), 0);
        assert_eq!(elements(&inner.document, "script").len(), 1, "inferno's own script only");
        assert!(text_content(&inner.document).contains("lock:<script>"), "the lock is a frame, as text");
    }
}
