//! How many slices of each length the window holds, to leave out the shortest when there are
//! too many to open. Lengths are counted by power of two.
//!
//! Without a window every slice is in, and an event says its slice's length: the count needs
//! no placement, and on a large trace only a sample of its event chunks (one in
//! `1 + size / SAMPLED_BYTES`), scaled up. The writing pass then enforces the limit exactly.
//! With a window, placement decides what is in: every event is read and placed.

use std::path::PathBuf;

use lockcheck::trace::{Chunk, Event, EventKind, TraceReader};

use super::layout::Layout;
use super::TimelineOptions;
use crate::load;
use crate::Error;

/// Below this many bytes of traces, every event chunk is counted.
const SAMPLED_BYTES: u64 = 64 << 20;

/// Slice counts by length bucket (see [`bucket`]).
pub(super) type Counts = [u64; 65];

/// The power-of-two bucket of a length: 0 for 0, else 1 + its highest bit.
#[inline]
pub(super) fn bucket(len: u64) -> usize {
    (u64::BITS - len.leading_zeros()) as usize
}

/// The slices' lengths in `files`: with a window, `place` (given the trace's index, the batch
/// time, the event and the traces' layouts) says the length of each event's slice in it.
pub(super) fn lengths(
    files: &[PathBuf],
    options: &TimelineOptions,
    mut place: impl FnMut(usize, u64, &Event, &mut Vec<Layout>) -> Option<u64>,
) -> Result<Counts, Error> {
    let mut counts = [0u64; 65];
    if options.from.is_some() || options.to.is_some() {
        let mut layouts = Vec::new();
        load::load_timed(files, &options.load, |index, _, batch, event| {
            if let Some(len) = place(index, batch, event, &mut layouts) {
                counts[bucket(len)] += 1;
            }
        })?;
        return Ok(counts);
    }
    let bytes: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    let every = 1 + bytes / SAMPLED_BYTES;
    let mut chunk = 0u64;
    for file in files {
        let reader = TraceReader::open(file).map_err(|problem| Error::Trace { path: file.clone(), problem })?;
        // Damage ends the count where it ends the writing pass's read.
        for batch in reader.map_while(Result::ok).filter_map(|c| if let Chunk::Events(b) = c { Some(b) } else { None })
        {
            chunk += 1;
            if chunk % every != 0 {
                continue;
            }
            for event in batch.events().map_while(Result::ok) {
                if let Some(len) = length(&event) {
                    counts[bucket(len)] += every;
                }
            }
        }
    }
    Ok(counts)
}

/// The length of the slice an event draws, if it draws one.
#[inline]
fn length(event: &Event) -> Option<u64> {
    match event.kind {
        EventKind::Acquired { wait_ns: Some(len), .. }
        | EventKind::TimedOut { wait_ns: len, .. }
        | EventKind::Released { hold_ns: Some(len) } => Some(len),
        _ => None,
    }
}

/// The shortest length to keep so that at most `max` slices remain: whole buckets go, from
/// the shortest, until the rest fit.
pub(super) fn threshold(counts: &Counts, max: u64) -> u64 {
    let mut kept: u64 = counts.iter().sum();
    for (b, &n) in counts.iter().enumerate() {
        if kept <= max {
            return if b == 0 { 0 } else { 1u64 << (b - 1) };
        }
        kept -= n;
    }
    u64::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortest_slices_go_first() {
        let mut counts = [0u64; 65];
        (counts[bucket(5)], counts[bucket(100)], counts[bucket(5000)]) = (10, 10, 10);
        assert_eq!(threshold(&counts, 30), 0);
        assert_eq!(threshold(&counts, 25), 8);
        assert_eq!(threshold(&counts, 10), 128);
        assert!(threshold(&counts, 0) > 5000, "none kept");
    }
}
