//! Placing events in time. Recording reads no clock (ARCHITECTURE.md: the record path reads
//! none), so an event's own time is not in the trace. What is: the order of each thread's
//! events, the measured length of every contended wait and sampled hold, and when the
//! collector took each batch from the thread's ring (every 100 ms, or sooner when a ring
//! fills). Each event is placed at the earliest time consistent with all three:
//!
//! - after the thread's previous event, and after its previous batch was collected;
//! - a wait ends at least its length after the thread's previous event (the wait began
//!   after it); a sampled release at least its hold after its acquisition;
//! - never after its own batch was collected, unless its measured length would then reach
//!   back before the trace started: the measurement wins.
//!
//! Waits and holds keep their measured lengths; where they sit inside a collection period
//! is this earliest-consistent estimate.

use std::collections::HashMap;

use lockcheck::trace::{Event, EventKind};

/// What the timeline draws for one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slice {
    /// A contended wait (or a timed acquisition that gave up), `[start, end]` in ns since
    /// the trace started.
    Wait { start: u64, end: u64, site: u32, timed_out: bool },
    /// A sampled hold, and where the lock was taken (when its acquisition was seen).
    Hold { start: u64, end: u64, site: Option<u32> },
}

impl Slice {
    /// Its length in ns.
    pub(super) fn len(self) -> u64 {
        match self {
            Slice::Wait { start, end, .. } | Slice::Hold { start, end, .. } => end - start,
        }
    }

    /// Its start and end in ns since the trace started.
    pub(super) fn span(self) -> (u64, u64) {
        match self {
            Slice::Wait { start, end, .. } | Slice::Hold { start, end, .. } => (start, end),
        }
    }
}

/// One thread's position in time.
#[derive(Default)]
struct ThreadClock {
    /// The collection time of the batch being read.
    batch: u64,
    /// The collection time of the batch before it: no event of the current batch is earlier.
    floor: u64,
    /// Where the thread's previous event was placed.
    cursor: u64,
    /// Locks it holds: which, when and where each was taken, most recent last. A thread
    /// holds few locks and releases the latest first, so a search from the end is short.
    held: Vec<(u32, u64, u32)>,
}

impl ThreadClock {
    #[inline]
    fn take(&mut self, lock: u32, at: u64, site: u32) {
        // A lock whose release was lost is still listed: taking it again replaces it.
        self.release(lock);
        self.held.push((lock, at, site));
    }

    #[inline]
    fn release(&mut self, lock: u32) -> Option<(u64, u32)> {
        let i = self.held.iter().rposition(|&(l, _, _)| l == lock)?;
        let (_, at, site) = self.held.remove(i);
        Some((at, site))
    }
}

/// Thread ids up to this index a vector; any other (a damaged trace's) a map.
const DENSE_THREADS: u32 = 1 << 16;

/// One trace's clocks, one per thread.
#[derive(Default)]
pub(super) struct Layout {
    dense: Vec<ThreadClock>,
    sparse: HashMap<u32, ThreadClock>,
    /// The latest batch collection time seen.
    pub(super) last_batch: u64,
}

impl Layout {
    /// Places `event`, collected at `batch` ns since the trace started; returns the slice it
    /// draws, if any.
    #[inline]
    pub(super) fn place(&mut self, batch: u64, event: &Event) -> Option<Slice> {
        self.last_batch = self.last_batch.max(batch);
        let clock = if event.thread < DENSE_THREADS {
            let i = event.thread as usize;
            if i >= self.dense.len() {
                self.dense.resize_with(i + 1, ThreadClock::default);
            }
            &mut self.dense[i]
        } else {
            self.sparse.entry(event.thread).or_default()
        };
        if batch != clock.batch {
            (clock.floor, clock.batch) = (clock.batch, batch);
        }
        let (cursor, floor) = (clock.cursor, clock.floor);
        let at = |earliest: u64| earliest.max(floor).max(cursor).min(batch.max(cursor));
        match event.kind {
            EventKind::Acquired { site, wait_ns, .. } => {
                let wait = wait_ns.unwrap_or(0);
                let end = at(cursor.saturating_add(wait)).max(wait);
                clock.cursor = end;
                clock.take(event.lock, end, site);
                wait_ns.map(|w| Slice::Wait { start: end - w, end, site, timed_out: false })
            }
            EventKind::TimedOut { site, wait_ns, .. } => {
                let end = at(cursor.saturating_add(wait_ns)).max(wait_ns);
                clock.cursor = end;
                Some(Slice::Wait { start: end - wait_ns, end, site, timed_out: true })
            }
            EventKind::Released { hold_ns } => {
                let taken = clock.release(event.lock);
                let earliest = match (taken, hold_ns) {
                    (Some((t, _)), Some(h)) => t.saturating_add(h),
                    _ => cursor,
                };
                let end = at(earliest).max(hold_ns.unwrap_or(0));
                clock.cursor = end;
                hold_ns.map(|h| Slice::Hold { start: end - h, end, site: taken.map(|(_, s)| s) })
            }
            EventKind::TryFailed { .. } => {
                clock.cursor = at(cursor);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockcheck::trace::Holder;
    use lockcheck::Mode;

    fn event(lock: u32, kind: EventKind) -> Event {
        Event { thread: 1, lock, mode: Mode::Exclusive, kind }
    }

    fn acquired(lock: u32, wait_ns: Option<u64>) -> Event {
        let holder = Some(Holder { thread: 2, site: 9 });
        event(lock, EventKind::Acquired { site: 5, wait_ns, stack: None, holder })
    }

    #[test]
    fn waits_follow_each_other_and_holds_cover_their_length() {
        let mut layout = Layout::default();
        // First batch collected at 1000 ns: a wait of 100, then one of 50.
        assert_eq!(
            layout.place(1000, &acquired(1, Some(100))),
            Some(Slice::Wait { start: 0, end: 100, site: 5, timed_out: false })
        );
        assert_eq!(
            layout.place(1000, &acquired(2, Some(50))),
            Some(Slice::Wait { start: 100, end: 150, site: 5, timed_out: false })
        );
        // Lock 2 held 300 ns (sampled): released no earlier than 150 + 300.
        let released = layout.place(1000, &event(2, EventKind::Released { hold_ns: Some(300) }));
        assert_eq!(released, Some(Slice::Hold { start: 150, end: 450, site: Some(5) }));
        // The next batch's events were recorded after the first batch was collected: the
        // wait ends there at the earliest (and began before, as its length says).
        let next = layout.place(2000, &acquired(3, Some(10)));
        assert_eq!(next, Some(Slice::Wait { start: 990, end: 1000, site: 5, timed_out: false }));
    }

    #[test]
    fn nothing_is_placed_after_its_batch_was_collected() {
        let mut layout = Layout::default();
        layout.place(1000, &acquired(1, Some(100)));
        // A wait longer than the time left ends when its batch was collected, its measured
        // length kept.
        let wait = layout.place(5000, &acquired(2, Some(4950)));
        assert_eq!(wait, Some(Slice::Wait { start: 50, end: 5000, site: 5, timed_out: false }));
        assert_eq!(layout.place(5000, &acquired(3, None)), None);
        assert_eq!(layout.last_batch, 5000);
    }
}
