//! The collector: lockcheck's own thread, which drains every thread's ring into the trace
//! file (`LOCKCHECK_TRACE`), declares the threads, locks, classes and sites the events name,
//! and keeps the exact per-lock counters. It also declares the stacks that events and order
//! edges name, each distinct one once, as return addresses with the loaded objects they lie in
//! (`modules`): nothing here, at exit or otherwise, waits for debug info to load; the CLI
//! symbolises.
//!
//! It wakes every 100 ms, or early when a ring passes a quarter full or a thread exits.
//! Flushes also happen synchronously: on [`flush`](crate::flush), after a panic (a chained
//! panic hook), and at process exit (an `atexit` hook: return from `main` and `process::exit`
//! both run it, where destructors of statics do not run). Everything here uses parking_lot's
//! and std's own locks, never an instrumented one, so recording never records itself.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex as RawLock;

use crate::analysis::order_edge::OrderEdge;
use crate::analysis::report::{Finding, Site};
use crate::record::clock;
use crate::record::consumer::{self, Consumer};
use crate::record::modules::Modules;
use crate::record::ring;
use crate::record::stack;
use crate::runtime::registry;
use crate::runtime::{check, graph, held, stress};
use crate::trace::{
    self, ClassDecl, Header, LockCounters, LockDecl, OwnTime, RawStackDecl, Stress, ThreadDecl, TraceWriter,
};
use records::{Looping, Next, NO_SITE};

mod records;

/// How often the collector drains rings when nothing wakes it earlier.
const PERIOD: Duration = Duration::from_millis(100);
/// How often periodic drains also write the snapshot chunks (counters, findings, edges).
const SNAPSHOT_PERIOD: Duration = Duration::from_secs(1);
/// Events chunks are cut at this many encoded bytes, far below `trace::MAX_CHUNK_LEN`.
const BATCH_WORDS: usize = 8 << 10;
/// Entries in the collector's site cache (a power of two).
const SITE_CACHE: usize = 256;
/// How long an exit or panic flush waits for a drain in progress before giving up.
const FLUSH_PATIENCE: Duration = Duration::from_secs(2);

/// 0 = not decided yet, 1 = tracing, 2 = not tracing.
static TRACING: AtomicU8 = AtomicU8::new(0);

/// Whether this process records a trace (`LOCKCHECK_TRACE` set and instrumentation on).
pub(crate) fn tracing() -> bool {
    // Relaxed: derived from the environment (or a failed file creation, which only ever turns
    // it off); no other memory is published with it.
    match TRACING.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let config = crate::config::get();
            let on = config.enabled && config.trace.is_some();
            // Relaxed: as above. A concurrent failure that stored 2 wins below.
            let _ = TRACING.compare_exchange(0, if on { 1 } else { 2 }, Ordering::Relaxed, Ordering::Relaxed);
            TRACING.load(Ordering::Relaxed) == 1
        }
    }
}

/// The collector's state; its lock serialises drains (the rings' single-consumer rule).
static STATE: RawLock<Option<Collector>> = RawLock::new(None);
static STARTED: Once = Once::new();
static HOOKED: Once = Once::new();

/// Starts the collector if tracing is on; returns whether it runs.
#[cold]
pub(crate) fn start() -> bool {
    if !tracing() {
        return false;
    }
    // The hold clock starts before any thread records, so that none pays for it.
    clock::start();
    STARTED.call_once(|| match Collector::create() {
        Ok(collector) => {
            *STATE.lock() = Some(collector);
            consumer::attach(Consumer { thread_id, time_hold });
            install_hooks();
            let spawned = std::thread::Builder::new().name("lockcheck-collector".into()).spawn(run);
            if let Err(e) = spawned {
                eprintln!(
                    "lockcheck: warning: no collector thread ({e}); the trace is written at exit and on flush only"
                );
            }
        }
        Err(e) => {
            eprintln!("lockcheck: warning: not recording a trace: {e}");
            // Relaxed: see `tracing`.
            TRACING.store(2, Ordering::Relaxed);
        }
    });
    tracing()
}

fn run() {
    install_hooks();
    loop {
        consumer::park(PERIOD);
        if let Some(collector) = STATE.lock().as_mut() {
            collector.drain(Flush::Periodic);
        }
    }
}

/// The recorder's [`Consumer::thread_id`]: the id the held stack registered the thread under.
fn thread_id() -> u32 {
    held::with(|t| t.tid()).unwrap_or(0)
}

/// The recorder's [`Consumer::time_hold`]: the release of the innermost hold of `lock` will
/// carry how long it was held.
fn time_hold(lock: u32, start: u64) {
    held::with(|t| t.time_hold(lock, start));
}

/// Hooks that flush the trace at process exit and after a panic. Installed from the first
/// non-panicking caller (setting a panic hook while panicking would itself panic).
fn install_hooks() {
    if std::thread::panicking() {
        return;
    }
    HOOKED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            flush_patiently(Flush::Full);
        }));
        // SAFETY: `at_exit` is an `extern "C" fn()` that lives for the whole program and
        // never unwinds (it catches panics); `atexit` only stores the pointer.
        if unsafe { libc::atexit(at_exit) } != 0 {
            eprintln!("lockcheck: warning: could not register the exit hook; call lockcheck::flush() before exiting");
        }
    });
}

extern "C" fn at_exit() {
    let _ = std::panic::catch_unwind(|| flush_patiently(Flush::Exit));
}

/// A flush from a hook: the thread may have panicked while the collector drained (or hold
/// the lock itself), so it gives up after a while instead of deadlocking the exit.
fn flush_patiently(kind: Flush) {
    ring::publish_own();
    if let Some(mut state) = STATE.try_lock_for(FLUSH_PATIENCE) {
        if let Some(collector) = state.as_mut() {
            collector.drain(kind);
        }
    }
}

/// Drains every ring and writes everything recorded so far (see [`crate::flush`]).
pub(crate) fn flush() {
    ring::publish_own();
    if start() {
        if let Some(collector) = STATE.lock().as_mut() {
            collector.drain(Flush::Full);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flush {
    /// Events and declarations; snapshots once per `SNAPSHOT_PERIOD`.
    Periodic,
    /// Everything.
    Full,
    /// Everything, then an end chunk; nothing is written after it.
    Exit,
}

struct Collector {
    /// `None` after a write failed (reported once): rings are still drained.
    out: Option<TraceWriter<BufWriter<File>>>,
    path: PathBuf,
    started: Instant,
    threads: HashSet<u32>,
    classes: HashSet<u32>,
    /// Near sites declared, by code (their ids are their codes, see `trace/raw.rs`).
    near_sites: HashSet<i32>,
    /// Far sites declared: address → id.
    far_sites: HashMap<usize, u32>,
    /// A direct-mapped cache of `near_sites`: a loop cycles through a few sites, and hashing
    /// every record's site with SipHash cost the collector 7% of its time.
    site_cache: Box<[i32; SITE_CACHE]>,
    /// Overflow counts and dropped events of rings already freed, by lock and by thread.
    retired_overflow: HashMap<u32, LockCounters>,
    retired_dropped: HashMap<u32, u64>,
    /// The batch being copied: ring words of `batch_thread`, holding `batch_events` events,
    /// whose marked waits' stacks are `batch_stacks`.
    raw: Vec<u64>,
    batch_thread: u32,
    batch_events: u64,
    batch_stacks: Vec<u32>,
    /// What the next word drained is.
    next: Next,
    /// Nanoseconds per tick of the hold clock, measured at the start of the drain.
    hold_clock: clock::Rate,
    /// The loop being folded into a repeat word, and what the next one may span.
    looping: Looping,
    /// Interned stacks below this id are declared in the trace.
    stacks_declared: u32,
    /// The loaded objects declared so far.
    modules: Modules,
    last_snapshot: Option<Instant>,
    last_dropped: Vec<(u32, u64)>,
    /// The overflow totals last written, to write only the locks whose totals changed.
    last_overflow: HashMap<u32, LockCounters>,
    last_findings: Vec<Finding>,
    last_own_time: OwnTime,
    last_stress: Option<Stress>,
    last_edges: Vec<OrderEdge>,
    finished: bool,
}

impl Collector {
    fn create() -> io::Result<Collector> {
        let config = crate::config::get();
        let target = config.trace.as_deref().unwrap_or(Path::new("."));
        let program = program_name();
        let path = trace_path(target, &program, std::process::id());
        // Both failures name the path: the warning is all a user sees of them.
        fn naming(at: &Path) -> impl FnOnce(io::Error) -> io::Error + '_ {
            move |e| io::Error::new(e.kind(), format!("{}: {e}", at.display()))
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(naming(parent))?;
        }
        let file = File::create(&path).map_err(naming(&path))?;
        let mut out = TraceWriter::new(BufWriter::with_capacity(1 << 16, file))?;
        let start_unix_ns = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        out.header(&Header {
            program,
            pid: std::process::id(),
            start_unix_ns,
            hold_sample: config.hold_sample,
            ring_capacity: u32::try_from(config.ring_capacity.next_power_of_two()).unwrap_or(u32::MAX),
            cwd: std::env::current_dir().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default(),
        })?;
        out.flush()?;
        Ok(Collector::writing_to(Some(out), path))
    }

    /// A collector writing to `out` (`None`: drains and writes nothing), at `path`.
    fn writing_to(out: Option<TraceWriter<BufWriter<File>>>, path: PathBuf) -> Collector {
        Collector {
            out,
            path,
            started: Instant::now(),
            threads: HashSet::new(),
            classes: HashSet::new(),
            near_sites: HashSet::new(),
            far_sites: HashMap::new(),
            site_cache: Box::new([NO_SITE; SITE_CACHE]),
            retired_overflow: HashMap::new(),
            retired_dropped: HashMap::new(),
            raw: Vec::with_capacity(BATCH_WORDS),
            batch_thread: 0,
            batch_events: 0,
            batch_stacks: Vec::new(),
            next: Next::Record,
            hold_clock: clock::Rate::measure(),
            looping: Looping::default(),
            stacks_declared: 0,
            modules: Modules::default(),
            last_snapshot: None,
            last_dropped: Vec::new(),
            last_overflow: HashMap::new(),
            last_findings: Vec::new(),
            last_own_time: OwnTime::default(),
            last_stress: None,
            last_edges: Vec::new(),
            finished: false,
        }
    }

    /// Runs `write` on the trace writer; the first failure is reported and ends writing.
    fn write(&mut self, write: impl FnOnce(&mut TraceWriter<BufWriter<File>>) -> io::Result<()>) {
        if let Some(out) = &mut self.out {
            if let Err(e) = write(out) {
                eprintln!("lockcheck: warning: trace {} is incomplete: {e}", self.path.display());
                self.out = None;
            }
        }
    }

    fn drain(&mut self, kind: Flush) {
        if self.finished {
            return;
        }
        self.hold_clock = clock::Rate::measure();
        let rings = ring::rings();
        // Closed first, then the end: a ring seen closed is complete up to that end.
        let ends: Vec<(bool, usize)> = rings.iter().map(|r| (r.closed(), r.published_end())).collect();
        // Locks registered before any of these records were published are in the registry
        // now (registration happens before the first event of a lock, in the same thread).
        self.declare_locks();
        for (ring, &(closed, end)) in rings.iter().zip(&ends) {
            self.drain_ring(ring, end);
            if closed {
                ring.add_overflow(&mut self.retired_overflow);
                *self.retired_dropped.entry(ring.tid).or_default() += ring.dropped();
                ring::retire(ring);
            }
        }
        let due = self.last_snapshot.is_none_or(|at| at.elapsed() >= SNAPSHOT_PERIOD);
        if kind != Flush::Periodic || due {
            self.snapshots();
        }
        self.declare_stacks();
        if kind == Flush::Exit {
            self.write(|out| out.end());
            self.finished = true;
        }
        self.write(|out| out.flush());
        if kind == Flush::Exit && self.classes.is_empty() && self.threads.is_empty() {
            // Started before `main`, the collector created a trace for a process that never
            // took a lock (a build tool, the `lockcheck` command itself): it leaves none.
            self.out = None;
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// Declares the stacks interned since the last call (long waits', new order edges'),
    /// with any loaded object they name for the first time.
    fn declare_stacks(&mut self) {
        for (id, addresses) in stack::interned_from(self.stacks_declared) {
            let (frames, modules) = self.modules.frames(&addresses);
            for module in &modules {
                self.write(|out| out.module(module));
            }
            self.write(|out| out.raw_stack(&RawStackDecl { id, frames }));
            self.stacks_declared = id + 1;
        }
    }

    fn declare_locks(&mut self) {
        for (id, info) in registry::take_new_locks() {
            if self.classes.insert(info.class) {
                if let Some(class) = registry::try_class(info.class) {
                    let decl = ClassDecl {
                        id: info.class,
                        label: class.label,
                        named: class.named,
                        kind: class.kind,
                        rank: class.rank,
                        site: class.site.map(Site::from_location),
                    };
                    self.write(|out| out.class(&decl));
                }
            }
            let decl = LockDecl { id, class: info.class, kind: info.kind, rank: info.rank };
            self.write(|out| out.lock(&decl));
        }
    }

    /// Declares a thread on first sight: the owner of a ring, or a holder named by a wait.
    fn declare_thread(&mut self, tid: u32) {
        if self.threads.insert(tid) {
            let name = if tid == 0 { "<unregistered thread>".to_owned() } else { registry::thread_name(tid) };
            self.write(|out| out.thread(&ThreadDecl { id: tid, name }));
        }
    }

    fn write_batch(&mut self) {
        self.end_loop();
        // A chunk's repeat words span only its own records.
        self.looping = Looping::default();
        if self.raw.is_empty() {
            return;
        }
        let time_ns = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let (raw, stacks) = (std::mem::take(&mut self.raw), std::mem::take(&mut self.batch_stacks));
        let (thread, events) = (self.batch_thread, self.batch_events);
        self.write(|out| out.raw_events(thread, time_ns, events, &stacks, &raw));
        (self.raw, self.batch_stacks) = (raw, stacks);
        self.raw.clear();
        self.batch_stacks.clear();
        self.batch_events = 0;
    }

    /// Writes the cumulative chunks that changed since they were last written.
    fn snapshots(&mut self) {
        self.last_snapshot = Some(Instant::now());
        let mut overflow = self.retired_overflow.clone();
        let mut dropped = self.retired_dropped.clone();
        for ring in ring::rings() {
            // The count first: its Acquire makes the overflow counts behind it visible.
            *dropped.entry(ring.tid).or_default() += ring.dropped();
            ring.add_overflow(&mut overflow);
        }
        let late = ring::late_counts(&mut overflow);
        if late != 0 {
            *dropped.entry(0).or_default() += late;
        }
        let mut dropped: Vec<(u32, u64)> = dropped.into_iter().filter(|&(_, n)| n != 0).collect();
        dropped.sort_unstable();
        if dropped != self.last_dropped {
            self.write(|out| out.dropped(&dropped));
            self.last_dropped = dropped;
        }

        // The acquisitions the events lack (a reader adds those of the events): only locks
        // whose totals changed, so a process that churns through millions of locks does not
        // rewrite them all every second (readers merge by lock, last value wins).
        let mut counters: Vec<(u32, LockCounters)> = overflow
            .iter()
            .filter(|&(lock, c)| self.last_overflow.get(lock) != Some(c))
            .map(|(&l, &c)| (l, c))
            .collect();
        if !counters.is_empty() {
            counters.sort_unstable_by_key(|&(lock, _)| lock);
            self.write(|out| out.counters(&counters));
        }
        self.last_overflow = overflow;

        let own = ring::own_time();
        if own != self.last_own_time {
            self.write(|out| out.own_time(&own));
            self.last_own_time = own;
        }

        let stress = stress::snapshot();
        if stress != self.last_stress {
            if let Some(stress) = &stress {
                self.write(|out| out.stress(stress));
            }
            self.last_stress = stress;
        }

        let findings = check::recorded();
        if findings != self.last_findings {
            self.write(|out| out.findings(&findings));
            self.last_findings = findings;
        }
        let mut edges = graph::export_class_edges();
        edges.sort_unstable_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        if edges != self.last_edges {
            self.write(|out| out.edges(&edges));
            self.last_edges = edges;
        }
    }
}

/// The executable's file name, or "process".
fn program_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "process".to_owned())
}

/// Where the trace goes: `target` itself, or `<program>-<pid>.lctrace` inside it when it is
/// a directory (existing, or spelled with a trailing `/`).
fn trace_path(target: &Path, program: &str, pid: u32) -> PathBuf {
    let spelled_as_dir = target.as_os_str().to_string_lossy().ends_with(std::path::MAIN_SEPARATOR);
    // A file only when it is one already or is named as a trace: a new `LOCKCHECK_TRACE=out`
    // made a file `out` that every process of a `cargo test` overwrote in turn.
    let file = !spelled_as_dir
        && !target.is_dir()
        && (target.is_file() || target.extension().is_some_and(|e| e == trace::EXTENSION));
    if file {
        target.to_path_buf()
    } else {
        target.join(format!("{program}-{pid}.{}", trace::EXTENSION))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_gets_one_file_per_process() {
        let dir = std::env::temp_dir();
        assert_eq!(trace_path(&dir, "app", 7), dir.join("app-7.lctrace"));
        assert_eq!(trace_path(Path::new("not/yet/"), "app", 7), Path::new("not/yet/app-7.lctrace"));
        assert_eq!(trace_path(Path::new("out.lctrace"), "app", 7), Path::new("out.lctrace"));
        // A new path not named as a trace is a directory, so that processes do not overwrite
        // one another's traces.
        assert_eq!(trace_path(Path::new("not/yet"), "app", 7), Path::new("not/yet/app-7.lctrace"));
        // An existing file is written as it is.
        let file = dir.join(format!("lockcheck-trace-path-{}", std::process::id()));
        std::fs::write(&file, b"").unwrap();
        assert_eq!(trace_path(&file, "app", 7), file);
        std::fs::remove_file(&file).unwrap();
    }
}
