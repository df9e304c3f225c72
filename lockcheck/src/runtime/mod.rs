//! The in-process detector: lock and thread ids (`registry`), each thread's held stack and
//! its cache of checked contexts (`held`), the acquisition protocol every raw lock follows
//! (`check`), the held-lock assertions (`assertion`), the live lock-order graphs (`graph`),
//! owner hints and the watchdog thread (`owner`, `watchdog`), with the `tokio` feature the
//! held sets of tasks (`task`), the async acquisition protocol (`async_lock`) and sync guards
//! seen across an `.await` (`crossing`), the thread that prints findings (`reporter`), the
//! delays stress mode injects (`stress`), and the collector thread that drains the rings into
//! the trace file (`collector`).
//!
//! It uses `record/` for events and stacks, `trace/` to write, and `analysis/` to judge; the
//! primitives above it are its only callers.

#[cfg(feature = "instrument")]
pub(crate) mod assertion;
#[cfg(all(feature = "instrument", feature = "tokio"))]
pub(crate) mod async_lock;
#[cfg(feature = "instrument")]
pub(crate) mod check;
#[cfg(feature = "instrument")]
pub(crate) mod collector;
#[cfg(all(feature = "instrument", feature = "tokio"))]
pub(crate) mod crossing;
#[cfg(feature = "instrument")]
pub(crate) mod graph;
#[cfg(feature = "instrument")]
pub(crate) mod held;
#[cfg(feature = "instrument")]
pub(crate) mod owner;
pub(crate) mod registry;
#[cfg(feature = "instrument")]
pub(crate) mod reporter;
#[cfg(feature = "instrument")]
pub(crate) mod stress;
#[cfg(all(feature = "instrument", feature = "tokio"))]
pub(crate) mod task;
#[cfg(feature = "instrument")]
pub(crate) mod watchdog;
