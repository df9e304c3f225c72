//! Analysis throughput on a large synthetic trace: `report` (everything but the events is
//! kept; the events are decoded and counted) and `stats` (every event folded into per-lock
//! sums).
//!
//! `cargo bench -p lockcheck-cli --bench analysis` times both on a 10-million-event trace.
//! For the issue's 100-million-event budget (≤ 10 s, ≤ 500 MB), write the big trace and time
//! the release binary on it:
//!
//! ```text
//! LOCKCHECK_BENCH_WRITE=/tmp/big.lctrace LOCKCHECK_BENCH_EVENTS=100000000 \
//!     cargo bench -p lockcheck-cli --bench analysis
//! cargo build --release -p lockcheck-cli
//! /usr/bin/time -v target/release/lockcheck report /tmp/big.lctrace
//! /usr/bin/time -v target/release/lockcheck stats /tmp/big.lctrace
//! ```

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lockcheck::trace::{
    BatchEncoder, ClassDecl, Event, EventKind, Header, LockCounters, LockDecl, SiteDecl, ThreadDecl, TraceWriter,
};
use lockcheck::{LockKind, Mode, Site};
use lockcheck_cli::{check, stats};

const THREADS: u32 = 8;
const LOCKS: u32 = 1_000;
/// Events per chunk: what a collector drains from one ring at a time.
const BATCH: u64 = 1 << 16;

/// Writes a trace of `events` events: `THREADS` threads taking `LOCKS` locks in turn, one
/// acquisition in 10 contended, one hold in 64 timed. Deterministic (a fixed LCG).
fn write_trace(path: &Path, events: u64) {
    let mut w = TraceWriter::new(BufWriter::with_capacity(1 << 20, File::create(path).unwrap())).unwrap();
    let header = Header {
        program: "bench".into(),
        pid: 1,
        start_unix_ns: 0,
        hold_sample: 64,
        ring_capacity: 1 << 16,
        cwd: String::new(),
    };
    w.header(&header).unwrap();
    for id in 1..=THREADS {
        w.thread(&ThreadDecl { id, name: format!("worker-{id}") }).unwrap();
    }
    for id in 1..=LOCKS {
        let label = format!("lock-{}", id % 100);
        w.class(&ClassDecl { id, label, named: true, kind: LockKind::Mutex, rank: None, site: None }).unwrap();
        w.lock(&LockDecl { id, class: id, kind: LockKind::Mutex, rank: None }).unwrap();
        let site = Site { file: "src/bench.rs".into(), line: id, column: 9 };
        w.site(&SiteDecl { id, site }).unwrap();
    }
    let mut counters = vec![LockCounters::default(); LOCKS as usize + 1];
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut written = 0u64;
    let mut batch = BatchEncoder::new(1);
    while written < events {
        let thread = (written / BATCH) as u32 % THREADS + 1;
        batch.restart(thread);
        while batch.len() + 2 <= BATCH && written + batch.len() < events {
            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let r = rng >> 33;
            let lock = (r % u64::from(LOCKS)) as u32 + 1;
            let wait_ns = ((r >> 10) % 10 == 0).then_some(r % 50_000);
            let hold_ns = ((r >> 14) % 64 == 0).then_some(r % 5_000);
            let c = &mut counters[lock as usize];
            c.acquisitions += 1;
            if let Some(wait) = wait_ns {
                c.contended += 1;
                c.wait_ns += wait;
            }
            let acquired = EventKind::Acquired { site: lock, wait_ns, stack: None, holder: None };
            batch.push(&Event { thread, lock, mode: Mode::Exclusive, kind: acquired });
            let released = EventKind::Released { hold_ns };
            batch.push(&Event { thread, lock, mode: Mode::Exclusive, kind: released });
        }
        written += batch.len();
        w.events(&batch, written).unwrap();
    }
    let counters: Vec<(u32, LockCounters)> = (1..=LOCKS).map(|id| (id, counters[id as usize])).collect();
    w.counters(&counters).unwrap();
    w.findings(&[]).unwrap();
    w.edges(&[]).unwrap();
    w.end().unwrap();
    w.flush().unwrap();
}

fn events() -> u64 {
    std::env::var("LOCKCHECK_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000)
}

/// The trace the benchmarks read, written once.
fn trace() -> &'static [PathBuf] {
    static TRACE: OnceLock<Vec<PathBuf>> = OnceLock::new();
    TRACE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("lockcheck-bench-{}.lctrace", std::process::id()));
        write_trace(&path, events());
        vec![path]
    })
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn report() -> usize {
    let mut options = check::CheckOptions::default();
    options.suppress = false;
    options.load.progress = false;
    check::check(trace(), &options).unwrap().analysis.report.findings.len()
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn stats() -> usize {
    let mut options = stats::StatsOptions::default();
    options.load.progress = false;
    stats::stats(trace(), &options).unwrap().rows.len()
}

fn main() {
    if let Some(path) = std::env::var_os("LOCKCHECK_BENCH_WRITE") {
        let started = std::time::Instant::now();
        write_trace(Path::new(&path), events());
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        eprintln!("wrote {} events, {bytes} bytes, in {:.1?}", events(), started.elapsed());
        return;
    }
    divan::main();
    let _ = std::fs::remove_file(&trace()[0]);
}
