//! [`OrderEdge`]: a class lock-order edge as traces carry it, so that edges from many
//! processes can be merged by class label.

use serde::{Deserialize, Serialize};

use crate::analysis::report::{Edge, Mode};

/// "A lock of class `to` was acquired while one of class `from` was held", merged over every
/// time this process saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEdge {
    /// The held lock's class label.
    pub from: String,
    /// The acquired lock's class label.
    pub to: String,
    /// How `from` was held: bit `1 << m` for each [`Mode`] `m` seen (see [`OrderEdge::modes`]).
    pub held_modes: u8,
    /// How `to` was acquired, as a bitset like `held_modes`.
    pub acquired_modes: u8,
    /// Classes held exclusively across every observation (gate candidates).
    pub gates: Vec<String>,
    /// How many times the order was observed.
    pub count: u64,
    /// Whether more than one thread took it.
    pub multi_thread: bool,
    /// The first observation, with its sites (and stack, if one was captured).
    pub first: Edge,
}

impl OrderEdge {
    /// The bit a mode sets in `held_modes` and `acquired_modes`.
    pub fn mode_bit(mode: Mode) -> u8 {
        1 << mode as u8
    }

    /// The modes of a bitset.
    pub fn modes(bits: u8) -> Vec<Mode> {
        use Mode::*;
        [Exclusive, Shared, SharedRecursive, Upgradable, Permit]
            .into_iter()
            .filter(|&m| bits & OrderEdge::mode_bit(m) != 0)
            .collect()
    }
}
