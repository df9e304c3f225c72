//! The stress chunk: the seed and settings a process ran under (`LOCKCHECK_STRESS`), and what
//! it injected, thread by thread. A snapshot: the last chunk of the kind is the whole truth.

use serde::{Deserialize, Serialize};

/// Stress mode as one process ran it: how it was seeded and set, and the delays it injected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stress {
    /// The seed (`LOCKCHECK_STRESS`): running the program again with it injects the same
    /// delays at the same synchronization points of the same threads.
    pub seed: u64,
    /// The bug depth aimed at (`LOCKCHECK_STRESS_DEPTH`): each thread is set back at
    /// `depth - 1` change points.
    pub depth: u32,
    /// One synchronization point in this many gets a short delay (`LOCKCHECK_STRESS_NOISE`;
    /// 0: none).
    pub noise_one_in: u32,
    /// Every thread that reached a synchronization point, in the order they first did.
    pub threads: Vec<StressThread>,
}

impl Stress {
    /// Delays injected in all threads.
    pub fn delays(&self) -> u64 {
        self.threads.iter().map(|t| t.delays).sum()
    }

    /// Their nanoseconds, in all.
    pub fn delay_ns(&self) -> u64 {
        self.threads.iter().map(|t| t.delay_ns).sum()
    }
}

/// What stress mode did in one thread.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StressThread {
    /// The thread's name (empty when unnamed): with `index`, its identity, which the seed is
    /// combined with.
    pub name: String,
    /// How many threads of the same name reached their first synchronization point before it.
    pub index: u32,
    /// Synchronization points passed (acquisitions, releases, `lockcheck::stress::point`).
    pub points: u64,
    /// Delays injected.
    pub delays: u64,
    /// Their nanoseconds, in all (as measured: a sleep lasts at least what was asked).
    pub delay_ns: u64,
    /// A hash of every decision in order (point number, kind, amount asked): two runs with the
    /// same seed whose thread passed the same points have the same digest.
    pub digest: u64,
}
