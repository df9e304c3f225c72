//! Text outputs of synthetic traces (exact numbers, relative paths) against the files in
//! `tests/fixtures`. `LOCKCHECK_BLESS=1 cargo test -p lockcheck-cli` rewrites them.

mod common;

use std::path::Path;

use common::{assert_fixture, lockcheck_in, temp_dir, TraceBuilder};

/// Two processes: a contended `queue`, an uncontended `config`, and `a → b` / `b → a`
/// split between them; the second lost 7 events and was cut short.
fn traces(dir: &Path) {
    let mut one = TraceBuilder::default();
    let (producer, consumer) = (one.thread("producer"), one.thread("consumer"));
    let (queue, config) = (one.lock("queue", Some(20)), one.lock("config", None));
    let (push, pop, read) = (one.site("src/queue.rs", 12), one.site("src/queue.rs", 30), one.site("src/config.rs", 4));
    for i in 0..10 {
        one.hold(producer, queue, push, (i % 2 == 0).then_some(1_000 * (i + 1)), Some(500));
        one.hold(consumer, queue, pop, (i % 5 == 0).then_some(40_000), Some(2_000));
        one.hold(consumer, config, read, None, (i == 0).then_some(100));
    }
    one.edge("a", "b", "producer", 3);
    one.write(&dir.join("one.lctrace"));

    let mut two = TraceBuilder::default();
    let worker = two.thread("worker");
    let queue = two.lock("queue", Some(20));
    let pop = two.site("src/queue.rs", 30);
    two.hold(worker, queue, pop, Some(2_000_000), None);
    two.edge("b", "a", "worker", 1);
    two.dropped(7);
    two.unfinished();
    two.write(&dir.join("two.lctrace"));
}

#[test]
fn text_output_matches_the_fixtures() {
    let dir = temp_dir("fixtures");
    traces(&dir);
    let run = |args: &[&str]| lockcheck_in(Some(&dir), args, &[]);

    let report = run(&["report", "one.lctrace", "two.lctrace"]);
    assert_eq!(report.code, Some(1), "{report:?}");
    assert_fixture("report.txt", &report.stdout);

    let stats = run(&["stats", "one.lctrace", "two.lctrace"]);
    assert_eq!(stats.code, Some(0), "{stats:?}");
    assert_fixture("stats.txt", &stats.stdout);

    let graph = run(&["graph", "--suggest-ranks", "one.lctrace", "two.lctrace"]);
    assert_eq!(graph.code, Some(1), "{graph:?}");
    assert_fixture("graph.txt", &graph.stdout);

    let folded = run(&["flamegraph", "--folded", "one.lctrace", "two.lctrace"]);
    assert_eq!(folded.code, Some(0), "{folded:?}");
    assert_fixture("folded-wait.txt", &folded.stdout);

    let ranks = run(&["graph", "--suggest-ranks", "one.lctrace", "-o", "one.dot"]);
    assert_eq!(ranks.code, Some(0), "{ranks:?}");
    assert_fixture("ranks.txt", &ranks.stdout);
}
