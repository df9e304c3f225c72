//! Recording: the fixed-size event records, each thread's lock-free ring and the list of
//! rings a consumer drains, stack capture, the loaded objects stacks lie in, and naming a
//! stack's frames.
//!
//! The acquisition protocol (`runtime/`) calls the ring's hooks on the hot path; what the
//! recorder needs to know of the layer above (a thread's id, where to note a timed hold, whom
//! to wake) is handed to it once, when the collector attaches (see [`consumer`]). Below it
//! are only the settings and the trace format's vocabulary.

pub(crate) mod clock;
pub(crate) mod consumer;
pub(crate) mod event;
pub(crate) mod modules;
pub(crate) mod ring;
pub(crate) mod stack;
pub(crate) mod symtab;
