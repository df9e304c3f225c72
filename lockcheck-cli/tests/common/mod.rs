//! Shared by the CLI's end-to-end tests: running the real `lockcheck` binary, recording the
//! examples' traces, and writing small synthetic traces with exactly known contents.
//!
//! The examples are another package's binaries, which `CARGO_BIN_EXE_*` does not reach: the
//! first test that needs one runs `cargo build -p lockcheck-examples` into this build's own
//! target directory (a no-op when they are up to date) and runs them from there. Synthetic
//! traces are written with the library's own `TraceWriter`, so fixtures and cross-process
//! cases do not depend on timing.

#![allow(dead_code)] // Each test file uses its own part.

pub mod every_subcommand;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use lockcheck::trace::{
    BatchEncoder, ClassDecl, Event, EventKind, Header, LockDecl, OrderEdge, SiteDecl, ThreadDecl, TraceWriter,
};
use lockcheck::{Edge, Finding, LockKind, LockRef, Mode, Site};

/// How a `lockcheck` run ended.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None`: killed by a signal, which a test treats as a failure).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs the `lockcheck` binary with `args` in `dir` (the current directory when `None`).
pub fn lockcheck_in(dir: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lockcheck"));
    command.args(args).env_remove("LOCKCHECK_TRACE").env("NO_COLOR", "1").stdin(Stdio::null());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run lockcheck");
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "lockcheck panicked: {run:?}");
    run
}

/// Runs the `lockcheck` binary with `args`.
pub fn lockcheck(args: &[&str]) -> Run {
    lockcheck_in(None, args, &[])
}

/// A fresh, empty directory under the system's temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("lockcheck-cli-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The path of an example binary (`bank`, `pipeline`, `hotspot`, `stuck`), built on first use.
pub fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        // `…/target/<profile>/lockcheck`: the examples go next to it.
        let profile_dir = Path::new(env!("CARGO_BIN_EXE_lockcheck")).parent().unwrap().to_path_buf();
        let target = profile_dir.parent().unwrap();
        let mut cargo = Command::new(option_env!("CARGO").unwrap_or("cargo"));
        cargo.args(["build", "--quiet", "-p", "lockcheck-examples", "--bins"]);
        cargo.current_dir(env!("CARGO_MANIFEST_DIR")).env("CARGO_TARGET_DIR", target);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("run cargo build -p lockcheck-examples");
        assert!(status.success(), "building the examples failed");
        profile_dir
    });
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Runs example `name` with tracing into a fresh directory and returns the directory.
pub fn record(name: &str, env: &[(&str, &str)]) -> PathBuf {
    let dir = temp_dir(name);
    let mut command = Command::new(example(name));
    command.env("LOCKCHECK_TRACE", format!("{}/", dir.display())).env("LOCKCHECK_ON_CYCLE", "ignore");
    for (key, value) in env {
        command.env(key, value);
    }
    command.stdout(Stdio::null()).stderr(Stdio::null()).status().expect("run the example");
    dir
}

/// A synthetic trace: one lock per class (lock id = class id), events per thread.
#[derive(Default)]
pub struct TraceBuilder {
    threads: Vec<String>,
    classes: Vec<(String, Option<u32>)>,
    sites: Vec<Site>,
    events: Vec<(u32, Event)>,
    edges: Vec<OrderEdge>,
    findings: Vec<Finding>,
    dropped: u64,
    unfinished: bool,
    start_unix_ns: u64,
    pid: u32,
}

impl TraceBuilder {
    /// Declares a thread; returns its id.
    pub fn thread(&mut self, name: &str) -> u32 {
        self.threads.push(name.to_owned());
        self.threads.len() as u32
    }

    /// Declares a class (and its one lock); returns the lock id.
    pub fn lock(&mut self, class: &str, rank: Option<u32>) -> u32 {
        self.classes.push((class.to_owned(), rank));
        self.classes.len() as u32
    }

    /// Declares a site; returns its id.
    pub fn site(&mut self, file: &str, line: u32) -> u32 {
        self.sites.push(Site { file: file.to_owned(), line, column: 5 });
        self.sites.len() as u32
    }

    /// `thread` acquires `lock` at `site`, after waiting `wait` ns if given, and holds it for
    /// `hold` ns (timed) if given.
    pub fn hold(&mut self, thread: u32, lock: u32, site: u32, wait: Option<u64>, hold: Option<u64>) {
        let acquired = EventKind::Acquired { site, wait_ns: wait, stack: None, holder: None };
        self.events.push((thread, Event { thread, lock, mode: Mode::Exclusive, kind: acquired }));
        let released = EventKind::Released { hold_ns: hold };
        self.events.push((thread, Event { thread, lock, mode: Mode::Exclusive, kind: released }));
    }

    /// The order `from` → `to`, first taken by `thread`.
    pub fn edge(&mut self, from: &str, to: &str, thread: &str, count: u64) {
        let lock = |class: &str| LockRef { class: class.into(), instance: None, rank: None };
        let site = |line| Site { file: "src/orders.rs".into(), line, column: 9 };
        let bit = OrderEdge::mode_bit(Mode::Exclusive);
        self.edges.push(OrderEdge {
            from: from.into(),
            to: to.into(),
            held_modes: bit,
            acquired_modes: bit,
            gates: Vec::new(),
            count,
            multi_thread: false,
            first: Edge {
                from: lock(from),
                to: lock(to),
                from_mode: Mode::Exclusive,
                to_mode: Mode::Exclusive,
                thread: thread.into(),
                from_site: site(10),
                to_site: site(11),
                stack: Vec::new(),
                stack_id: None,
            },
        });
    }

    /// Adds a finding the process itself reported.
    pub fn finding(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Records `n` events as dropped by the first thread.
    pub fn dropped(&mut self, n: u64) {
        self.dropped = n;
    }

    /// Says the process started at `unix_ns` (default 0) and had id `pid` (default 1).
    pub fn started(&mut self, unix_ns: u64, pid: u32) {
        (self.start_unix_ns, self.pid) = (unix_ns, pid);
    }

    /// Leaves out the end marker, as a killed process does.
    pub fn unfinished(&mut self) {
        self.unfinished = true;
    }

    /// Writes the trace to `path`.
    pub fn write(&self, path: &Path) {
        let mut w = TraceWriter::new(BufWriter::new(File::create(path).unwrap())).unwrap();
        let header = Header {
            program: "synthetic".into(),
            pid: self.pid.max(1),
            start_unix_ns: self.start_unix_ns,
            hold_sample: 1,
            ring_capacity: 1024,
            cwd: String::new(),
        };
        w.header(&header).unwrap();
        for (id, name) in (1..).zip(&self.threads) {
            w.thread(&ThreadDecl { id, name: name.clone() }).unwrap();
        }
        for (id, (label, rank)) in (1..).zip(&self.classes) {
            let class =
                ClassDecl { id, label: label.clone(), named: true, kind: LockKind::Mutex, rank: *rank, site: None };
            w.class(&class).unwrap();
            w.lock(&LockDecl { id, class: id, kind: LockKind::Mutex, rank: *rank }).unwrap();
        }
        for (id, site) in (1..).zip(&self.sites) {
            w.site(&SiteDecl { id, site: site.clone() }).unwrap();
        }
        // Counters count the acquisitions the events lack (format version 5): none here.
        for thread in 1..=self.threads.len() as u32 {
            let mut batch = BatchEncoder::new(thread);
            for (_, event) in self.events.iter().filter(|(t, _)| *t == thread) {
                batch.push(event);
            }
            if !batch.is_empty() {
                w.events(&batch, 1_000).unwrap();
            }
        }
        if self.dropped > 0 {
            w.dropped(&[(1, self.dropped)]).unwrap();
        }
        w.findings(&self.findings).unwrap();
        w.edges(&self.edges).unwrap();
        if !self.unfinished {
            w.end().unwrap();
        }
        w.flush().unwrap();
    }
}

/// A trace whose only content is the order `from` → `to`, in a fresh file of `dir`.
pub fn order_trace(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let mut trace = TraceBuilder::default();
    trace.thread("main");
    trace.lock(from, None);
    trace.lock(to, None);
    trace.edge(from, to, "main", 1);
    let path = dir.join(format!("{name}.lctrace"));
    trace.write(&path);
    path
}

/// A trace, `dir/name.lctrace`, of process `pid` started at `start_unix_ns`, whose thread
/// `worker` waited `wait_ns` for lock `accounts` once, right at the start.
pub fn waiting_process(dir: &Path, name: &str, start_unix_ns: u64, pid: u32, wait_ns: u64) -> PathBuf {
    let mut trace = TraceBuilder::default();
    trace.started(start_unix_ns, pid);
    let thread = trace.thread("worker");
    let lock = trace.lock("accounts", None);
    let site = trace.site("src/bank.rs", 18);
    trace.hold(thread, lock, site, Some(wait_ns), None);
    let path = dir.join(format!("{name}.lctrace"));
    trace.write(&path);
    path
}

/// Reads every XML event of `text`: quick-xml fails on unbalanced or mismatched tags.
pub fn well_formed(text: &str) -> Result<(), quick_xml::Error> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0i64;
    loop {
        match reader.read_event()? {
            quick_xml::events::Event::Start(_) => depth += 1,
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "every element is closed");
    Ok(())
}

/// Compares `actual` with the fixture `name` (in `tests/fixtures`), or rewrites the fixture
/// when `LOCKCHECK_BLESS=1`.
pub fn assert_fixture(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    if std::env::var_os("LOCKCHECK_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with LOCKCHECK_BLESS=1 to create it)", path.display()));
    assert_eq!(expected, actual, "output differs from {} (LOCKCHECK_BLESS=1 rewrites it)", path.display());
}

/// An HTML page parsed as a browser parses it (html5ever), with the parse errors it met.
pub fn parse_html(text: &str) -> markup5ever_rcdom::RcDom {
    use html5ever::tendril::TendrilSink;
    html5ever::parse_document(markup5ever_rcdom::RcDom::default(), Default::default()).one(text)
}

/// Every element of the tree under `node` with the local name `tag`, in document order.
pub fn elements(node: &markup5ever_rcdom::Handle, tag: &str) -> Vec<markup5ever_rcdom::Handle> {
    let mut found = Vec::new();
    if let markup5ever_rcdom::NodeData::Element { name, .. } = &node.data {
        if &*name.local == tag {
            found.push(node.clone());
        }
    }
    for child in node.children.borrow().iter() {
        found.extend(elements(child, tag));
    }
    found
}

/// The value of `node`'s attribute `attr`, if it is an element that has it.
pub fn attribute(node: &markup5ever_rcdom::Handle, attr: &str) -> Option<String> {
    let markup5ever_rcdom::NodeData::Element { attrs, .. } = &node.data else { return None };
    let value = attrs.borrow().iter().find(|a| &*a.name.local == attr).map(|a| a.value.to_string());
    value
}

/// The text under `node`, as a browser's `textContent` (script and style text included).
pub fn text_content(node: &markup5ever_rcdom::Handle) -> String {
    let mut out = String::new();
    if let markup5ever_rcdom::NodeData::Text { contents } = &node.data {
        out.push_str(&contents.borrow());
    }
    for child in node.children.borrow().iter() {
        out.push_str(&text_content(child));
    }
    out
}
