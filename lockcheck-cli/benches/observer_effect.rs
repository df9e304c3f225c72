//! What lockcheck costs the programs it watches, measured on debug builds of the examples (how
//! `cargo test` runs code): per process wall time and peak memory, the waits a program
//! measures for itself, and whether a narrow deadlock window opens under tracing.
//!
//! `cargo bench -p lockcheck-cli --bench observer_effect` builds the examples (debug), times
//! one run of `bank` (a potential deadlock, found with stacks) per variant with divan, then
//! prints peak RSS per variant (median of 5), the `waits` program's own measure of its lock
//! waits against `lockcheck stats` on its trace, and how many of 50 traced runs of `window`
//! (a 300 µs deadlock window) hang.
//!
//! Variants: `off` is `LOCKCHECK=0` (instrumentation compiled in, switched off); `run` records
//! a trace and keeps findings to it, as under `lockcheck run`; `warn` also prints each finding
//! with its stacks as it is found (frames named from the symbol table in-process, on
//! lockcheck's own thread).

mod common;

use common::example;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use lockcheck_cli::stats;

/// A fresh directory for one run's trace.
fn trace_dir() -> PathBuf {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("lockcheck-observer-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const VARIANTS: [&str; 3] = ["off", "run", "warn"];

/// The command for `program` under `variant`, tracing into `dir`.
fn command(program: &str, variant: &str, dir: &Path) -> Command {
    let mut command = Command::new(example(program));
    command.env("LOCKCHECK_TRACE", format!("{}/", dir.display())).stdout(Stdio::piped()).stderr(Stdio::null());
    match variant {
        "off" => command.env("LOCKCHECK", "0"),
        "run" => command.env("LOCKCHECK_ON_CYCLE", "ignore"),
        _ => command.env("LOCKCHECK_ON_CYCLE", "warn"),
    };
    command
}

/// Runs `command` to its end; returns its stdout and its peak resident set in KiB.
// Reaped with `wait4`, which also gives its peak memory, instead of `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run(mut command: Command) -> (String, u64) {
    use std::io::Read;
    let mut child = command.spawn().expect("spawn the example");
    let mut stdout = String::new();
    child.stdout.take().expect("piped").read_to_string(&mut stdout).expect("read its stdout");
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value for `wait4` to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `child.id()` is our own child, not yet waited for (std's `Child` only waits when
    // asked to); `status` and `usage` are valid for writes.
    let reaped = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(reaped, child.id() as libc::pid_t, "wait4 on the example");
    (stdout, usage.ru_maxrss as u64)
}

#[divan::bench(args = VARIANTS, sample_count = 10, sample_size = 1)]
fn bank(variant: &str) {
    let dir = trace_dir();
    run(command("bank", variant, &dir));
    let _ = std::fs::remove_dir_all(&dir);
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Peak RSS of `bank` per variant, median of 5.
fn peak_memory() {
    println!("\nbank, peak RSS (median of 5):");
    for variant in VARIANTS {
        let kib = median(
            (0..5)
                .map(|_| {
                    let dir = trace_dir();
                    let (_, kib) = run(command("bank", variant, &dir));
                    let _ = std::fs::remove_dir_all(&dir);
                    kib as f64
                })
                .collect(),
        );
        println!("  {variant:<5} {:>6.1} MiB", kib / 1024.0);
    }
}

/// The `waits` program's own sum of its `lock()` times, with stacks on (defaults) and off,
/// and what `lockcheck stats` says it waited, median of 5.
fn own_waits() {
    println!("\nwaits, the program's own measure of its lock waits against `lockcheck stats` (median of 5):");
    for (label, env) in
        [("defaults", &[][..]), ("stacks off", &[("LOCKCHECK_STACKS", "0"), ("LOCKCHECK_WAIT_STACKS_US", "0")][..])]
    {
        let mut own = Vec::new();
        let mut seen = Vec::new();
        for _ in 0..5 {
            let dir = trace_dir();
            let mut command = command("waits", "run", &dir);
            command.envs(env.iter().copied());
            let (stdout, _) = run(command);
            let ns: u64 = stdout
                .lines()
                .find_map(|l| l.strip_prefix("own-wait-ns ")?.parse().ok())
                .expect("waits prints own-wait-ns");
            let mut options = stats::StatsOptions::default();
            options.load.progress = false;
            let stats = stats::stats(std::slice::from_ref(&dir), &options).expect("stats of the trace");
            own.push(ns as f64 / 1e6);
            seen.push(stats.rows.iter().map(|r| r.wait_total_ns).sum::<u64>() as f64 / 1e6);
            let _ = std::fs::remove_dir_all(&dir);
        }
        println!("  {label:<10} own {:>7.1} ms, lockcheck stats {:>7.1} ms", median(own), median(seen));
    }
}

/// How many of 50 traced runs of `window` hang (the watchdog aborts them), and of 50 plain.
fn window_hangs() {
    println!("\nwindow, runs that hung out of 50 (a 300 µs window; the watchdog aborts a hang):");
    for (label, traced) in [("traced", true), ("untraced", false)] {
        let hung = (0..50)
            .filter(|_| {
                let dir = trace_dir();
                let mut command = command("window", "run", &dir);
                command.env("LOCKCHECK_WATCHDOG_MS", "300");
                if !traced {
                    command.env_remove("LOCKCHECK_TRACE");
                }
                let (stdout, _) = run(command);
                let _ = std::fs::remove_dir_all(&dir);
                stdout.trim() != "done"
            })
            .count();
        println!("  {label:<8} {hung}/50");
    }
}

fn main() {
    example("bank");
    divan::main();
    peak_memory();
    own_waits();
    window_hangs();
}
