//! Stress mode (`LOCKCHECK_STRESS`): a seed gives every thread the same delays at the same
//! synchronization points in every run, and the trace carries the seed and what was injected.

use lockcheck::trace::{StressThread, TraceData};
use lockcheck_tests::traces::run_child;

const CHILD: &str = env!("CARGO_BIN_EXE_trace_child");

/// The per-thread delays of one run with `seed`, by thread name.
fn delays(seed: &str) -> Vec<StressThread> {
    let run = run_child(CHILD, &["interleave", "300"], &[("LOCKCHECK_STRESS", seed)]);
    assert!(run.output.status.success(), "{}", String::from_utf8_lossy(&run.output.stderr));
    assert!(run.stdout().contains(&format!("stress seed Some({seed})")), "{}", run.stdout());
    let data = TraceData::load(&run.path).unwrap();
    let stress = data.stress.expect("a stress chunk in the trace");
    assert_eq!(stress.seed.to_string(), seed, "the trace carries the seed");
    assert_eq!((stress.depth, stress.noise_one_in), (3, 8), "and the default settings");
    let mut threads: Vec<StressThread> = stress.threads.into_iter().filter(|t| t.name != "main").collect();
    threads.iter_mut().for_each(|t| t.delay_ns = 0); // measured time, not a decision
    threads.sort_by(|a, b| a.name.cmp(&b.name));
    threads
}

#[test]
fn the_same_seed_gives_each_thread_the_same_delays() {
    let first = delays("7");
    assert_eq!(first.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["left", "right"]);
    for thread in &first {
        // 300 nested pairs: two acquisitions and two releases each.
        assert_eq!(thread.points, 1200, "{thread:?}");
        assert!(thread.delays > 50, "noise at about one point in eight: {thread:?}");
    }
    assert_eq!(delays("7"), first, "same seed, same delays at the same points");
    assert_ne!(delays("8"), first, "another seed, other delays");
}

#[test]
fn without_a_seed_there_is_no_stress_chunk() {
    let run = run_child(CHILD, &["interleave", "10"], &[]);
    assert!(run.stdout().contains("stress seed None"), "{}", run.stdout());
    assert_eq!(TraceData::load(&run.path).unwrap().stress, None);
}
