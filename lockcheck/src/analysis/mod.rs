//! What lockcheck concludes, as pure functions over data: the finding types and their text,
//! the lock-order graph and its judgement of cycles, the merge of many processes' order edges,
//! the wait-for reduction of the watchdog, and suppressions.
//!
//! Nothing here touches runtime state or does I/O beyond reading a suppressions file: the
//! in-process detector, the watchdog and the `lockcheck` CLI all call the same code. This is
//! the bottom layer; it names no other module of the crate.

mod assertion;
pub mod frames;
mod hang;
pub mod merge;
pub(crate) mod order;
pub(crate) mod order_edge;
mod render;
pub(crate) mod report;
pub mod suppress;
#[cfg(feature = "instrument")]
pub(crate) mod waitfor;
