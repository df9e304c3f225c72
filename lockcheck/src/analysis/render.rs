//! The text form of findings, modelled on Linux lockdep and ThreadSanitizer reports: a rule, a
//! greppable `lockcheck: <KIND>` header, the facts with their sites, and a `SUMMARY:` line last
//! for CI to grep. Plain text, no colour: it ends up in CI logs and issue trackers.
//!
//! A finding's text never ends in a newline, so `eprintln!("{finding}")` prints it cleanly.

use std::fmt::{self, Write as _};

use crate::analysis::assertion;
use crate::analysis::report::{Cycle, Edge, Finding, Graph, HeldLock, LockRef, Report};

/// The rule that opens every finding, as wide as lockdep's.
const RULE: &str = "======================================================";
/// The interleaving shows at most this many threads; a longer cycle says how many it left out.
const MAX_COLUMNS: usize = 8;
/// The narrowest interleaving column, so short lock names still line up.
const MIN_COLUMN: usize = 24;

const TWICE: &str = "the second acquisition waits for the first to be released: forever\n";
const RECURSIVE_READ: &str = "\
this hangs only if a writer queues between the two reads: `read` is task-fair, so the
second read waits behind the writer, which waits for the first read to be released;
use `read_recursive` for the inner read\n";
const GUARDED: &str = "every edge was taken while holding it, so this cycle cannot deadlock";
const SINGLE_THREAD: &str = "single thread: every order was taken by one thread; \
it deadlocks when two threads run these paths at once";
const INCOMPLETE: &str = "contention figures are incomplete";
const RANKS: &str = "ranks must strictly increase along the locks a thread holds";

impl Finding {
    /// The one-line `SUMMARY:` text, for CI logs and annotations.
    pub fn summary(&self) -> String {
        summary(self)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        finding(self, f)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        report(self, f)
    }
}

/// The one-line `SUMMARY: ` text for `finding`.
fn summary(finding: &Finding) -> String {
    let what = match finding {
        Finding::PotentialDeadlock(c) => {
            let (line, graph) = (cycle_line(c), graph_name(c.graph).0);
            let locks = count(c.edges.len(), "lock");
            let what = format!("{line} ({locks}, {graph}");
            match c.guarded_by.as_ref().map(|g| &g.class) {
                Some(g) => format!("guarded lock-order cycle: {what}, guarded by {g})"),
                None => format!("potential deadlock: {what})"),
            }
        }
        Finding::SelfDeadlock(d) => {
            let kind = if d.certain { "lock acquired twice" } else { "recursive read" };
            let (lock, thread) = (&d.lock.class, &d.thread);
            let (held, again) = (d.held.mode.verb(), d.mode.verb());
            format!("{kind}: {lock} ({held}, then {again}) by thread {thread}")
        }
        Finding::RankViolation(r) => {
            let lock = &r.lock;
            match rank_offender(lock, &r.held).map(|h| &h.lock) {
                Some(held) => format!("rank violation: acquiring {lock} while holding {held}"),
                None => format!("rank violation: acquiring {lock}"),
            }
        }
        Finding::ActualDeadlock(h) => {
            let names: Vec<&str> = h.threads.iter().map(|t| t.thread.as_str()).collect();
            let (n, names) = (count(names.len(), "thread"), names.join(", "));
            format!("deadlock: {n} wait for each other ({names})")
        }
        Finding::Stall(h) => {
            let waiting = h.threads.iter().find_map(|t| Some((t, t.waits_for.as_ref()?)));
            let Some((t, w)) = waiting else { return "SUMMARY: stall".to_owned() };
            let (thread, ms, lock) = (&t.thread, t.waiting_ms, &w.lock.class);
            let holder = t.blocked_by.as_deref().unwrap_or("unknown");
            format!("stall: thread {thread} waited {ms} ms for {lock} held by thread {holder}")
        }
        Finding::Misuse(m) => {
            let what = m.what.lines().next().unwrap_or_default();
            let (lock, thread) = (&m.held.lock.class, &m.thread);
            format!("lock misuse: {what} ({lock}, thread {thread})")
        }
        Finding::FailedAssertion(a) => assertion::summary(a),
    };
    match finding.primary_site() {
        Some(site) => format!("SUMMARY: {what} at {site}"),
        None => format!("SUMMARY: {what}"),
    }
}

/// Writes `finding` as a lockdep-style report: the rule, the `lockcheck: <KIND>` header, the
/// details, and the `SUMMARY:` line last, with no trailing newline.
fn finding(finding: &Finding, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(f, "{RULE}\nlockcheck: {}", finding.headline())?;
    match finding {
        Finding::PotentialDeadlock(c) => cycle(c, f)?,
        Finding::SelfDeadlock(d) => {
            let (thread, lock, again, site) = (&d.thread, &d.lock.class, d.mode.verb(), &d.site);
            writeln!(f, "thread `{thread}` tries to {again} `{lock}` at {site}")?;
            let (held, site) = (d.held.mode.verb(), &d.held.site);
            writeln!(f, "but it already holds it ({held}), acquired at {site}")?;
            f.write_str(if d.certain { TWICE } else { RECURSIVE_READ })?;
        }
        Finding::RankViolation(r) => {
            let (thread, lock, site) = (&r.thread, &r.lock, &r.site);
            writeln!(f, "thread `{thread}` acquires `{lock}` at {site}\nwhile holding:")?;
            let header = ["rank", "class", "mode", "acquired at"];
            let mut rows = vec![header.map(String::from).to_vec()];
            for h in &r.held {
                let rank = h.lock.rank.map_or("-".to_owned(), |r| r.to_string());
                let mode = h.mode.verb().to_owned();
                rows.push(vec![rank, h.lock.class.clone(), mode, h.site.to_string()]);
            }
            table(f, &rows, 0)?;
            f.write_str(RANKS)?;
            if let Some(held) = rank_offender(lock, &r.held).map(|h| &h.lock) {
                write!(f, ": `{lock}` is not above `{held}`")?;
            }
            writeln!(f, "\nseen {}", count(r.count, "time"))?;
        }
        Finding::ActualDeadlock(h) => crate::analysis::hang::body(h, true, f)?,
        Finding::Stall(h) => crate::analysis::hang::body(h, false, f)?,
        Finding::Misuse(m) => {
            let (thread, lock, mode) = (&m.thread, &m.held.lock.class, m.held.mode.verb());
            writeln!(f, "{}\nthread `{thread}`, lock `{lock}` ({mode}) acquired at {}", m.what, m.held.site)?;
        }
        Finding::FailedAssertion(a) => assertion::body(a, f)?,
    }
    f.write_str(&summary(finding))
}

/// Writes every finding, blank-line separated, then a count line; `lockcheck: no findings` when
/// there are none. Lost events are always warned about: they make the analysis incomplete.
fn report(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let findings = &report.findings;
    if findings.is_empty() {
        f.write_str("lockcheck: no findings")?;
    }
    for found in findings {
        finding(found, f)?;
        f.write_str("\n\n")?;
    }
    if !findings.is_empty() {
        let failing = findings.iter().filter(|x| x.is_failure()).count();
        let n = count(findings.len(), "finding");
        write!(f, "{n} ({failing} failing)")?;
    }
    match report.events_lost {
        0 => Ok(()),
        1 => write!(f, "\nlockcheck: warning: 1 event was lost ({}); {INCOMPLETE}", Report::LOST_BECAUSE),
        n => write!(f, "\nlockcheck: warning: {n} events were lost ({}); {INCOMPLETE}", Report::LOST_BECAUSE),
    }
}

fn cycle(c: &Cycle, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let (graph, meaning) = graph_name(c.graph);
    let (line, seen) = (cycle_line(c), count(c.count, "time"));
    writeln!(f, "{graph}: {meaning}\ncycle: {line}\nseen {seen}")?;
    for (n, e) in (1..).zip(&c.edges) {
        let (from, to) = (cycle_name(&e.from, c), cycle_name(&e.to, c));
        let (held, taken, thread) = (e.from_mode.verb(), e.to_mode.verb(), &e.thread);
        writeln!(f, "\nedge {n}: `{from}` -> `{to}` ({held} / {taken}), first taken by thread `{thread}`")?;
        writeln!(f, "    `{from}` acquired at {}\n    `{to}` acquired at {}", e.from_site, e.to_site)?;
        stack(&e.stack, f)?;
    }
    if !c.edges.is_empty() {
        f.write_str("\nminimal interleaving that would deadlock")?;
        if let Some(g) = &c.guarded_by {
            write!(f, " without `{}`", g.class)?;
        }
        f.write_str(":\n\n")?;
        interleaving(c, f)?;
    }
    let mut notes = c.notes.clone();
    if let Some(g) = &c.guarded_by {
        notes.push(format!("guarded by `{}`: {GUARDED}", g.class));
    }
    notes.extend(c.single_thread.then(|| SINGLE_THREAD.to_owned()));
    if !notes.is_empty() {
        f.write_str("\nnotes:\n")?;
    }
    for note in notes {
        writeln!(f, "  - {note}")?;
    }
    writeln!(f)
}

/// One column per edge: every thread takes its edge's `from`, then every thread tries its `to`,
/// which the next column holds. Real thread names only when every edge has its own thread: when
/// one thread took several orders, the deadlock needs other threads than the ones seen.
fn interleaving(c: &Cycle, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let shown = &c.edges[..c.edges.len().min(MAX_COLUMNS)];
    let mut threads: Vec<&str> = c.edges.iter().map(|e| e.thread.as_str()).collect();
    threads.sort_unstable();
    threads.dedup();
    let real_names = threads.len() == c.edges.len();
    let header = |(letter, e): (u8, &Edge)| match real_names {
        true => format!("thread {}", e.thread),
        false => format!("thread {}", char::from(letter)),
    };
    let headers: Vec<String> = (b'A'..).zip(shown).map(header).collect();
    let dash = |h: &String| "-".repeat(h.chars().count());
    let dashes = headers.iter().map(dash).collect();
    let mut rows = vec![headers, dashes];
    let take = |e: &Edge| format!("{}({})", e.from_mode.verb(), cycle_name(&e.from, c));
    let tries = |e: &Edge| format!("{}({})  [waits]", e.to_mode.verb(), cycle_name(&e.to, c));
    let cells = shown.iter().map(take).enumerate();
    for (i, cell) in cells.chain(shown.iter().map(tries).enumerate()) {
        let mut row = vec![String::new(); shown.len()];
        row[i] = cell;
        rows.push(row);
    }
    table(f, &rows, MIN_COLUMN)?;
    if shown.len() < c.edges.len() {
        let (cut, all) = (count(c.edges.len() - shown.len(), "more thread"), c.edges.len());
        writeln!(f, "    ({cut} truncated: the cycle has {all} edges, the first {MAX_COLUMNS} shown)")?;
    }
    writeln!(f, "\n *** DEADLOCK ***")
}

fn stack(frames: &[String], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if !frames.is_empty() {
        f.write_str("    stack (innermost first):\n")?;
    }
    for (i, frame) in frames.iter().enumerate() {
        writeln!(f, "      #{i} {frame}")?;
    }
    Ok(())
}

/// Writes `rows` indented, each column padded to its widest cell; with a `min_width`, every
/// column is as wide as the widest cell and at least that, so the columns read evenly.
pub(crate) fn table(f: &mut fmt::Formatter<'_>, rows: &[Vec<String>], min_width: usize) -> fmt::Result {
    let mut widths = vec![0; rows.iter().map(Vec::len).max().unwrap_or(0)];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = cell.chars().count().max(*w);
        }
    }
    if min_width > 0 {
        let widest = widths.iter().copied().max().unwrap_or(0).max(min_width);
        widths.fill(widest);
    }
    for row in rows {
        let mut line = String::from("    ");
        for (cell, w) in row.iter().zip(&widths) {
            let _ = write!(line, "{cell:<w$}  ");
        }
        writeln!(f, "{}", line.trim_end())?;
    }
    Ok(())
}

/// `accounts => ledger => accounts`: every edge's `from`, then the first again.
fn cycle_line(c: &Cycle) -> String {
    let mut names: Vec<String> = c.edges.iter().map(|e| cycle_name(&e.from, c)).collect();
    names.extend(names.first().cloned());
    names.join(" => ")
}

/// A lock's class, with `#instance` only when two locks of the cycle share the class: in
/// `account#1 => account#2 => account#1` the instances are the whole point.
fn cycle_name(lock: &LockRef, c: &Cycle) -> String {
    let twin = |e: &Edge| e.from.class == lock.class && e.from.instance != lock.instance;
    match lock.instance {
        Some(id) if c.edges.iter().any(twin) => format!("{}#{id}", lock.class),
        _ => lock.class.clone(),
    }
}

/// The held lock the acquisition breaks the order against: the highest-ranked one not below
/// it, else the innermost held lock.
fn rank_offender<'a>(lock: &LockRef, held: &'a [HeldLock]) -> Option<&'a HeldLock> {
    let not_below = |h: &&HeldLock| h.lock.rank.zip(lock.rank).is_some_and(|(a, b)| a >= b);
    let offender = held.iter().filter(not_below).max_by_key(|h| h.lock.rank);
    offender.or(held.last())
}

fn graph_name(graph: Graph) -> (&'static str, &'static str) {
    match graph {
        Graph::Instance => ("instance graph", "these very locks"),
        Graph::Class => ("class graph", "locks of these classes, in any run"),
    }
}

/// `1 time`, `2 times`: the noun's last word gets the plural.
pub(crate) fn count(n: impl fmt::Display, noun: &str) -> String {
    let n = n.to_string();
    let s = if n == "1" { "" } else { "s" };
    format!("{n} {noun}{s}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::report::{Misuse, Mode, RankViolation, SelfDeadlock, Site, ThreadState};

    /// Asserts every `want` is in `text`, showing the whole text when one is not.
    fn has_all(text: &str, wants: &[&str]) {
        for want in wants {
            assert!(text.contains(want), "{want:?} missing from:\n{text}");
        }
    }

    fn lock(class: &str, rank: Option<u32>) -> LockRef {
        LockRef { class: class.to_owned(), instance: None, rank }
    }

    fn site(line: u32) -> Site {
        Site { file: "src/bank.rs".to_owned(), line, column: 9 }
    }

    fn held(class: &str, rank: Option<u32>, mode: Mode, line: u32) -> HeldLock {
        HeldLock { lock: lock(class, rank), mode, site: site(line) }
    }

    fn edge(from: &str, to: &str, thread: &str, line: u32) -> Edge {
        Edge {
            from: lock(from, None),
            to: lock(to, None),
            from_mode: Mode::Exclusive,
            to_mode: Mode::Exclusive,
            thread: thread.to_owned(),
            from_site: site(line - 2),
            to_site: site(line),
            stack: vec!["bank::transfer".to_owned(), "main".to_owned()],
            stack_id: None,
        }
    }

    fn cycle(edges: Vec<Edge>) -> Cycle {
        let (graph, count, single_thread) = (Graph::Instance, 2, false);
        Cycle { graph, edges, guarded_by: None, count, single_thread, notes: vec![] }
    }

    fn two_edges() -> Cycle {
        cycle(vec![edge("accounts", "ledger", "main", 20), edge("ledger", "accounts", "audit", 42)])
    }

    const TWO_EDGES: &str = "\
======================================================
lockcheck: POTENTIAL DEADLOCK
instance graph: these very locks
cycle: accounts => ledger => accounts
seen 2 times

edge 1: `accounts` -> `ledger` (lock / lock), first taken by thread `main`
    `accounts` acquired at src/bank.rs:18:9
    `ledger` acquired at src/bank.rs:20:9
    stack (innermost first):
      #0 bank::transfer
      #1 main

edge 2: `ledger` -> `accounts` (lock / lock), first taken by thread `audit`
    `ledger` acquired at src/bank.rs:40:9
    `accounts` acquired at src/bank.rs:42:9
    stack (innermost first):
      #0 bank::transfer
      #1 main

minimal interleaving that would deadlock:

    thread main               thread audit
    -----------               ------------
    lock(accounts)
                              lock(ledger)
    lock(ledger)  [waits]
                              lock(accounts)  [waits]

 *** DEADLOCK ***

SUMMARY: potential deadlock: accounts => ledger => accounts (2 locks, instance graph) \
at src/bank.rs:42:9";

    #[test]
    fn two_edge_cycle_renders_like_lockdep() {
        let text = Finding::PotentialDeadlock(two_edges()).to_string();
        assert_eq!(text, TWO_EDGES);
    }

    #[test]
    fn one_thread_cycle_uses_letters_modes_and_notes() {
        let mut c = two_edges();
        (c.edges[1].thread, c.edges[1].to_mode) = ("main".to_owned(), Mode::Shared);
        (c.single_thread, c.graph) = (true, Graph::Class);
        c.notes.push("`accounts` is read, not written".to_owned());
        let text = Finding::PotentialDeadlock(c).to_string();
        let (columns, tries) = ("    thread A                  thread B\n", "    read(accounts)  [waits]");
        let notes = "\nnotes:\n  - `accounts` is read, not written\n  - single thread: every";
        has_all(&text, &["\nclass graph: locks of these classes, in any run\n", columns, tries, notes]);
        assert!(text.ends_with("(2 locks, class graph) at src/bank.rs:42:9"));
    }

    #[test]
    fn guarded_cycle_says_it_cannot_deadlock() {
        let c = Cycle { guarded_by: Some(lock("bank", None)), ..two_edges() };
        let text = Finding::PotentialDeadlock(c).to_string();
        let wants = [
            "\nlockcheck: GUARDED LOCK-ORDER CYCLE\n",
            "\nminimal interleaving that would deadlock without `bank`:\n",
            "\n  - guarded by `bank`: every edge was taken while holding it, so this cycle cannot",
        ];
        has_all(&text, &wants);
        let summary = "SUMMARY: guarded lock-order cycle: accounts => ledger => accounts \
                       (2 locks, instance graph, guarded by bank) at src/bank.rs:42:9";
        assert_eq!(text.lines().last(), Some(summary));
    }

    #[test]
    fn twenty_edge_cycle_shows_eight_columns_and_says_twelve_were_cut() {
        let names: Vec<String> = (0..20).map(|i| format!("l{i}")).collect();
        let edge = |i: usize| edge(&names[i], &names[(i + 1) % 20], "main", 10 + i as u32);
        let text = Finding::PotentialDeadlock(cycle((0..20).map(edge).collect())).to_string();
        let header = text.lines().find(|l| l.trim_start().starts_with("thread A")).unwrap();
        assert_eq!(header.matches("thread ").count(), MAX_COLUMNS);
        assert!(header.ends_with("thread H"));
        let wants = [
            "\n    (12 more threads truncated: the cycle has 20 edges, the first 8 shown)\n",
            "\n *** DEADLOCK ***\n",
            "\nedge 20: `l19` -> `l0` (lock / lock)",
            "\ncycle: l0 => l1 => l2 => l3 => l4 => l5 => l6 => l7 => l8 => l9 => l10 => ",
        ];
        has_all(&text, &wants);
    }

    #[test]
    fn instances_of_one_class_are_told_apart() {
        let mut c = two_edges();
        for (e, (a, b)) in c.edges.iter_mut().zip([(1, 2), (2, 1)]) {
            (e.from.class, e.from.instance) = ("account".to_owned(), Some(a));
            (e.to.class, e.to.instance) = ("account".to_owned(), Some(b));
        }
        let text = Finding::PotentialDeadlock(c).to_string();
        has_all(&text, &["\ncycle: account#1 => account#2 => account#1\n", "\n    lock(account#1)\n"]);
    }

    #[test]
    fn rank_violation_lists_held_locks_with_ranks() {
        let held = vec![held("db", Some(5), Mode::Exclusive, 1), held("cache", Some(20), Mode::Shared, 2)];
        let (lock, site, thread) = (lock("queue", Some(10)), site(3), "worker".to_owned());
        let r = RankViolation { lock, site, thread, held, count: 1 };
        let expected = "\
======================================================
lockcheck: LOCK RANK VIOLATION
thread `worker` acquires `queue (rank 10)` at src/bank.rs:3:9
while holding:
    rank  class  mode  acquired at
    5     db     lock  src/bank.rs:1:9
    20    cache  read  src/bank.rs:2:9
ranks must strictly increase along the locks a thread holds: `queue (rank 10)` is not above \
`cache (rank 20)`
seen 1 time
SUMMARY: rank violation: acquiring queue (rank 10) while holding cache (rank 20) at src/bank.rs:3:9";
        assert_eq!(Finding::RankViolation(r).to_string(), expected);
    }

    #[test]
    fn self_deadlock_explains_a_read_behind_a_queued_writer() {
        let held = held("cfg", None, Mode::Shared, 8);
        let (lock, mode, site, thread) = (lock("cfg", None), Mode::Shared, site(10), "main".into());
        let mut d = SelfDeadlock { lock, held, mode, site, thread, certain: false };
        let text = Finding::SelfDeadlock(d.clone()).to_string();
        let wants = [
            "\nlockcheck: POTENTIAL DEADLOCK: RECURSIVE READ\n",
            "\nthread `main` tries to read `cfg` at src/bank.rs:10:9\n",
            "\nbut it already holds it (read), acquired at src/bank.rs:8:9\n",
            "use `read_recursive` for the inner read",
            "\nSUMMARY: recursive read: cfg (read, then read) by thread main at src/bank.rs:10:9",
        ];
        has_all(&text, &wants);
        (d.certain, d.mode) = (true, Mode::Exclusive);
        let text = Finding::SelfDeadlock(d).to_string();
        let wants = [
            "\nlockcheck: DEADLOCK: LOCK ACQUIRED TWICE\n",
            "\nthe second acquisition waits for the first to be released: forever\n",
            "\nSUMMARY: lock acquired twice: cfg (read, then lock) by thread main",
        ];
        has_all(&text, &wants);
        assert!(!text.contains("read_recursive"));
    }

    fn thread(name: &str, waits: Option<&str>, by: Option<&str>, holds: &str) -> ThreadState {
        ThreadState {
            thread: name.to_owned(),
            waits_for: waits.map(|w| held(w, None, Mode::Exclusive, 30)),
            waiting_ms: 1500,
            blocked_by: by.map(str::to_owned),
            holds: vec![held(holds, None, Mode::Exclusive, 20)],
            stack: vec![format!("{name}::run")],
        }
    }

    fn hung(threads: Vec<ThreadState>) -> crate::analysis::report::Hang {
        crate::analysis::report::Hang { threads, threshold_ms: 1000 }
    }

    #[test]
    fn actual_deadlock_shows_the_wait_for_cycle_and_every_stack() {
        let a = thread("a", Some("ledger"), Some("b"), "accounts");
        let b = thread("b", Some("accounts"), Some("a"), "ledger");
        let text = Finding::ActualDeadlock(hung(vec![a, b])).to_string();
        let wants = [
            "\nlockcheck: DEADLOCK\n",
            "(watchdog threshold 1000 ms):\n  `a` => `b` => `a`\n",
            "\nthread `a` waits to lock `ledger` at src/bank.rs:30:9, for 1500 ms\n",
            "\n    held by thread `b` for at least 1500 ms, taken with lock at src/bank.rs:20:9\n",
            "\n  holds:\n    `accounts` (lock) taken at src/bank.rs:20:9\n",
            "\n  stack:\n    a::run\n",
            "\nSUMMARY: deadlock: 2 threads wait for each other (a, b) at src/bank.rs:30:9",
        ];
        has_all(&text, &wants);
    }

    #[test]
    fn stall_says_it_is_not_a_cycle_and_names_the_holder() {
        let a = thread("a", Some("ledger"), Some("b"), "accounts");
        let b = thread("b", None, None, "ledger");
        let text = Finding::Stall(hung(vec![a, b])).to_string();
        let wants = [
            "\nlockcheck: STALL\n",
            "\nthread `b` is not waiting for any lock lockcheck knows: it is running, or blocked on something else",
            "\n    held by thread `b`, taken with lock at src/bank.rs:20:9\n",
            "\nSUMMARY: stall: thread a waited 1500 ms for ledger held by thread b at src/bank.rs:30:9",
        ];
        has_all(&text, &wants);
    }

    #[test]
    fn misuse_names_what_thread_lock_and_site() {
        let what = "lock still held when its thread exited".to_owned();
        let m = Misuse { what, thread: "w".to_owned(), held: held("cfg", None, Mode::Exclusive, 4) };
        let wants = [
            "\nlockcheck: LOCK MISUSE\nlock still held when its thread exited\n",
            "\nthread `w`, lock `cfg` (lock) acquired at src/bank.rs:4:9\n",
            "\nSUMMARY: lock misuse: lock still held when its thread exited (cfg, thread w) at src/",
        ];
        has_all(&Finding::Misuse(m).to_string(), &wants);
    }

    #[test]
    fn report_counts_findings_and_always_warns_about_lost_events() {
        let warning = "lockcheck: warning: 3 events were lost (a ring was full, or a thread locked after its \
                       ring had closed); contention figures are incomplete";
        assert_eq!(Report::default().to_string(), "lockcheck: no findings");
        let empty = Report { findings: vec![], events_lost: 3 };
        assert_eq!(empty.to_string(), format!("lockcheck: no findings\n{warning}"));
        let guarded = Cycle { guarded_by: Some(lock("bank", None)), ..two_edges() };
        let findings = vec![Finding::PotentialDeadlock(two_edges()), Finding::PotentialDeadlock(guarded)];
        let text = Report { findings, events_lost: 1 }.to_string();
        assert!(text.starts_with(&format!("{TWO_EDGES}\n\n{RULE}\nlockcheck: GUARDED LOCK-ORDER")));
        let end = "\n2 findings (1 failing)\nlockcheck: warning: 1 event was lost (a ring was full, or a thread \
                   locked after its ring had closed); ";
        assert!(text.ends_with(&format!("{end}contention figures are incomplete")));
    }
}
