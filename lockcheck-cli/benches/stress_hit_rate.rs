//! How often stress mode makes a rare interleaving happen, against plain runs, on debug builds
//! of the examples (how `cargo test` runs code).
//!
//! `cargo bench -p lockcheck-cli --bench stress_hit_rate` builds the examples and the
//! `lockcheck` command, then for `rare_deadlock` (a lock-order inversion) and `check_then_act`
//! (a check-then-act race):
//!
//! - plain: how many of [`PLAIN_RUNS`] runs without `LOCKCHECK_STRESS` fail (deadlock or
//!   panic), traced as under `lockcheck run`;
//! - stress: [`INVOCATIONS`] invocations of `lockcheck stress --runs 20`, each from its own
//!   first seed: the share of runs that fail, and how many invocations had at least one;
//! - re-runs: the first failing seed of each invocation, run [`RERUNS`] times more with
//!   `LOCKCHECK_STRESS=<seed>`: how often it fails again.
//!
//! It prints rates, not times: a harness of its own, no divan. The runs' timeout is 1.5 s, so
//! the watchdog's threshold is 500 ms (a third of it).

mod common;

use common::example;
use std::path::Path;
use std::process::{Command, Stdio};

/// Plain runs per example.
const PLAIN_RUNS: u32 = 200;
/// `lockcheck stress --runs 20` invocations per example.
const INVOCATIONS: u64 = 10;
/// Re-runs of each reported seed.
const RERUNS: u32 = 10;
/// The watchdog threshold of a plain run, and the one `--timeout 1.5` gives stress runs.
const WATCHDOG_MS: &str = "500";

/// Whether one run of `program` failed: a non-zero exit, a panic or the watchdog's abort.
/// `seed`: in stress mode, with it.
fn run_fails(program: &Path, seed: Option<u64>) -> bool {
    let trace = std::env::temp_dir().join(format!("lockcheck-stress-bench-{}/", std::process::id()));
    let mut command = Command::new(program);
    command
        .env("LOCKCHECK_TRACE", &trace)
        .env("LOCKCHECK_ON_CYCLE", "ignore")
        .env("LOCKCHECK_WATCHDOG_MS", WATCHDOG_MS)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(seed) = seed {
        command.env("LOCKCHECK_STRESS", seed.to_string());
    }
    let failed = !command.status().expect("run the example").success();
    let _ = std::fs::remove_dir_all(&trace);
    failed
}

/// One `lockcheck stress --runs 20` invocation from `seed`: the seeds of its failed runs, and
/// how many of them were deadlocks the watchdog reported.
fn stress_invocation(program: &Path, seed: u64) -> (Vec<u64>, usize) {
    let dir = std::env::temp_dir().join(format!("lockcheck-stress-bench-{}-{seed}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_lockcheck"))
        .args(["stress", "--runs", "20", "--timeout", "1.5", "--format", "json", "--seed", &seed.to_string()])
        .arg("--trace-dir")
        .arg(&dir)
        .arg("--")
        .arg(program)
        .env_remove("LOCKCHECK_WATCHDOG_MS")
        .stderr(Stdio::null())
        .output()
        .expect("run lockcheck stress");
    let _ = std::fs::remove_dir_all(&dir);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stress prints one JSON document");
    let runs = json["runs"].as_array().expect("a runs array");
    let deadlocks = runs.iter().filter(|r| r["deadlock"] == true).count();
    (runs.iter().filter(|r| r["failed"] == true).filter_map(|r| r["seed"].as_u64()).collect(), deadlocks)
}

fn measure(name: &str, what: &str) {
    let program = example(name);
    let plain = (0..PLAIN_RUNS).filter(|_| run_fails(&program, None)).count();
    println!("{name} ({what})");
    println!("  plain:  {plain} of {PLAIN_RUNS} runs failed ({:.1}% per run)", pct(plain, PLAIN_RUNS as usize));

    let (mut failed_runs, mut deadlocks) = (0, 0);
    let mut hit_invocations = 0;
    let mut reported = Vec::new();
    for invocation in 0..INVOCATIONS {
        let (seeds, deadlocked) = stress_invocation(&program, 1_000 * (invocation + 1));
        failed_runs += seeds.len();
        deadlocks += deadlocked;
        hit_invocations += usize::from(!seeds.is_empty());
        reported.extend(seeds.first().copied());
    }
    let runs = (INVOCATIONS * 20) as usize;
    println!(
        "  stress: {failed_runs} of {runs} runs failed ({:.1}% per run; {deadlocks} deadlocks reported by the watchdog); \
         {hit_invocations} of {INVOCATIONS} invocations of `stress --runs 20` had a failed run",
        pct(failed_runs, runs)
    );

    let repeated: Vec<(u64, usize)> =
        reported.iter().map(|&seed| (seed, (0..RERUNS).filter(|_| run_fails(&program, Some(seed))).count())).collect();
    let per_seed: Vec<String> = repeated.iter().map(|(seed, again)| format!("{seed}: {again}/{RERUNS}")).collect();
    let good = repeated.iter().filter(|&&(_, again)| again * 2 >= RERUNS as usize).count();
    println!(
        "  re-runs of each invocation's first failing seed: {}; {good} of {} seeds failed again in at least half",
        per_seed.join(", "),
        reported.len()
    );
}

fn pct(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument names the examples to measure.
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    for (name, what) in [("rare_deadlock", "lock-order inversion"), ("check_then_act", "check-then-act race")] {
        if filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())) {
            measure(name, what);
        }
    }
}
