//! Ring records into trace events: the collector's per-record path.
//!
//! A busy thread's records are nearly all plain acquisitions and releases; they are encoded
//! straight from the record (`BatchEncoder::push_acquired`, `push_released`), counted, and
//! their sites interned through a direct-mapped cache, all inlined into the drain loop.
//! Contended acquisitions and timeouts, which a `Holder` and a `Wait` record qualify, and
//! failed `try_lock`s take the out-of-line path through a full `trace::Event`.

use std::panic::Location;
use std::sync::Arc;

use super::{Collector, BATCH_BYTES, SITE_CACHE};
use crate::analysis::report::Site;
use crate::record::event::{Event as RingEvent, Kind, Record, STACK_PENDING};
use crate::record::ring::Ring;
use crate::record::stack::{self, RawStack};
use crate::runtime::registry::site_label;
use crate::trace::{self, Event, EventKind, Holder, LockCounters, SiteDecl};

/// A lock's counts from the events written so far.
#[derive(Clone, Copy, Default)]
pub(super) struct Counted {
    counters: LockCounters,
    /// Whether the lock is in `Collector::changed`.
    changed: bool,
}

/// A record that the `Holder` and `Wait` records drained after it may qualify (an `Acquired`
/// or `TimedOut` record): the ring's word and its site's address, two words the drain loop
/// keeps in registers. A copy of the decoded `Event` went through a stack slot written whole
/// and read back by field, and those reloads stalled on every record.
type Pending = [u64; 2];

/// No record pending (no ring record is all ones).
const NOTHING: Pending = [u64::MAX, 0];

/// The kind bits of a ring word, as the fast path tests them.
#[inline(always)]
fn kind_of(word: Record) -> u64 {
    (word >> 32) & 7
}

impl Collector {
    /// Out of line, with `take`'s common path inlined into its loop (`#[inline(always)]`
    /// there): left to itself the compiler inlined a different subset after every change,
    /// and each call left on that path costs as much as the work it does.
    #[inline(never)]
    pub(super) fn drain_ring(&mut self, ring: &Arc<Ring>, end: usize) {
        self.declare_thread(ring.tid);
        self.batch.restart(ring.tid);
        // A local passed along by value, not a field (see `Pending`).
        let mut pending = NOTHING;
        // SAFETY: drains are serialised by the `STATE` lock this method runs under, and `end`
        // was read from this ring's `published_end` after the previous drain.
        unsafe { ring.drain_to(end, |word| pending = self.take(pending, word, ring)) };
        // Records are published whole, extension and all, so none is left half-read.
        debug_assert!(self.partial.is_none());
        self.partial = None;
        self.emit_pending(pending);
        self.write_batch();
    }

    /// Converts one ring word; returns what is pending after it. Releases, pairs and
    /// acquisitions that did not wait, nearly every record of a busy thread, stay on this
    /// inlined path and are encoded straight from the word: when every record built a
    /// `trace::Event` and went through `emit`, callgrind counted about 250 instructions per
    /// record, and the rings of a tight loop overflowed.
    ///
    /// An `Acquired` or `TimedOut` record is pending until the next one, which may be its
    /// `Holder` and `Wait` (pushed with it, all or none, so drained with it).
    #[inline(always)]
    fn take(&mut self, pending: Pending, word: Record, ring: &Ring) -> Pending {
        // Plain acquisitions, pairs and releases first, as branches rather than a jump table:
        // a loop's records alternate, and the indirect jump mispredicted where these do not.
        let kind = kind_of(word);
        let next = if self.partial.is_some() || RingEvent::needs_extension(word) {
            self.take_other(pending, word, ring)
        } else if kind == Kind::Released as u64 {
            self.emit_pending(pending);
            self.batch.push_released(word as u32, (word >> 35 & 7) as u8, None);
            NOTHING
        } else if kind == Kind::Pair as u64 {
            self.emit_pending(pending);
            let event = RingEvent::from_record(word);
            self.count(event.lock, None);
            let site = self.site(&event);
            self.batch.push_acquired(event.lock, event.mode, site);
            self.batch.push_released(event.lock, event.mode, None);
            NOTHING
        } else if kind == Kind::Acquired as u64 {
            self.emit_pending(pending);
            [word, RingEvent::from_record(word).payload]
        } else {
            self.take_other(pending, word, ring)
        };
        self.cut_if_full();
        next
    }

    /// The records of every other kind: those with an extension word (timed holds, waits,
    /// far sites), contended acquisitions and timeouts (with their `Holder` and `Wait`),
    /// failed `try_lock`s.
    #[inline(never)]
    fn take_other(&mut self, pending: Pending, word: Record, ring: &Ring) -> Pending {
        let event = match self.partial.take() {
            Some(partial) => partial.extend(word),
            None if RingEvent::needs_extension(word) => {
                self.partial = Some(RingEvent::from_record(word));
                return pending;
            }
            None => RingEvent::from_record(word),
        };
        match event.kind {
            Kind::Acquired | Kind::TimedOut => {
                self.emit_pending(pending);
                [word, event.payload]
            }
            Kind::Pair => {
                self.emit_pending(pending);
                self.emit(event, None, None, None);
                self.batch.push_released(event.lock, event.mode, None);
                NOTHING
            }
            Kind::Released | Kind::HoldSample => {
                self.emit_pending(pending);
                let hold_ns = (event.kind == Kind::HoldSample).then_some(event.payload);
                self.batch.push_released(event.lock, event.mode, hold_ns);
                NOTHING
            }
            Kind::Holder | Kind::Wait if pending != NOTHING => self.qualify(pending, event, ring),
            Kind::Holder | Kind::Wait => Self::unpaired(event, ring),
            Kind::TryFailed => {
                self.emit_pending(pending);
                self.try_failed(event)
            }
        }
    }

    /// Writes the batch once it is big enough; checked after each event.
    #[inline(always)]
    fn cut_if_full(&mut self) {
        if self.batch.encoded_len() >= BATCH_BYTES {
            self.write_batch();
        }
    }

    /// Encodes the pending record, if any, as not qualified by a wait.
    #[inline(always)]
    fn emit_pending(&mut self, pending: Pending) {
        if pending == NOTHING {
            return;
        }
        let record = RingEvent::from_record(pending[0]).extend(pending[1]);
        if record.kind == Kind::Acquired {
            self.count(record.lock, None);
            let site = self.site(&record);
            self.batch.push_acquired(record.lock, record.mode, site);
        } else {
            self.emit(record, None, None, None);
        }
    }

    /// A failed `try_lock`; nothing is pending after it.
    #[cold]
    #[inline(never)]
    fn try_failed(&mut self, record: RingEvent) -> Pending {
        self.emit(record, None, None, None);
        NOTHING
    }

    /// A `Holder` or `Wait` record after a pending one: a contended acquisition or a timeout.
    /// Returns what is pending after it.
    #[cold]
    #[inline(never)]
    fn qualify(&mut self, pending: Pending, record: RingEvent, ring: &Ring) -> Pending {
        if record.kind == Kind::Holder {
            self.holder = Some((pending, record));
            return pending;
        }
        let qualified = RingEvent::from_record(pending[0]).extend(pending[1]);
        // Popped for every marked record, so the queue stays in step with the ring.
        let stack = if record.mode == STACK_PENDING { ring.take_stack() } else { None };
        let stack = stack.and_then(|stack| self.stack(stack));
        // The holder drained right after this very record, not one left from another.
        let holder = self.holder.take().filter(|&(of, _)| of == pending).map(|(_, h)| self.holder(&h));
        self.emit(qualified, Some(record.payload), stack, holder);
        NOTHING
    }

    /// A `Holder` or `Wait` record with no record before it to qualify. A marked `Wait`
    /// still pops its stack, so the queue stays in step with the ring.
    #[cold]
    fn unpaired(record: RingEvent, ring: &Ring) -> Pending {
        if record.kind == Kind::Wait && record.mode == STACK_PENDING {
            ring.take_stack();
        }
        NOTHING
    }

    /// Encodes the records `take` does not encode itself: contended acquisitions, timeouts
    /// and failed `try_lock`s, through a full `trace::Event`.
    #[inline(never)]
    fn emit(&mut self, record: RingEvent, wait_ns: Option<u64>, stack: Option<u32>, holder: Option<Holder>) {
        let kind = match record.kind {
            Kind::Acquired => {
                self.count(record.lock, wait_ns);
                EventKind::Acquired { site: self.site(&record), wait_ns, stack, holder }
            }
            Kind::TimedOut => {
                EventKind::TimedOut { site: self.site(&record), wait_ns: wait_ns.unwrap_or(0), stack, holder }
            }
            Kind::TryFailed => EventKind::TryFailed { site: self.site(&record) },
            Kind::Pair => {
                self.count(record.lock, None);
                EventKind::Acquired { site: self.site(&record), wait_ns: None, stack: None, holder: None }
            }
            Kind::Released | Kind::HoldSample | Kind::Wait | Kind::Holder => {
                debug_assert!(false, "{:?} records are not emitted", record.kind);
                return;
            }
        };
        let Some(mode) = trace::mode_from_code(record.mode) else { return };
        self.batch.push(&Event { thread: 0, lock: record.lock, mode, kind });
    }

    /// Counts an acquisition of `lock`, with its wait when it had to wait.
    #[inline(always)]
    fn count(&mut self, lock: u32, wait_ns: Option<u64>) {
        let Some(entry) = self.counted.get_mut(lock as usize) else {
            return self.count_first(lock, wait_ns);
        };
        // A flag rather than a search of `changed`: a loop over two locks would otherwise
        // add one entry per acquisition (and sort them all at the next snapshot).
        if !entry.changed {
            entry.changed = true;
            self.changed.push(lock);
        }
        entry.counters.acquisitions += 1;
        if let Some(wait_ns) = wait_ns {
            entry.counters.contended += 1;
            entry.counters.wait_ns = entry.counters.wait_ns.saturating_add(wait_ns);
        }
    }

    /// Counts the first acquisition of a lock whose id is past the end of `counted`.
    #[cold]
    #[inline(never)]
    fn count_first(&mut self, lock: u32, wait_ns: Option<u64>) {
        self.counted.resize(lock as usize + 1, Counted::default());
        self.count(lock, wait_ns);
    }

    /// The locks whose counts changed since the last call, each once.
    pub(super) fn take_changed(&mut self) -> Vec<u32> {
        let changed = std::mem::take(&mut self.changed);
        for &lock in &changed {
            self.counted[lock as usize].changed = false;
        }
        changed
    }

    /// The counts of `lock` from the events written so far.
    pub(super) fn counted(&self, lock: u32) -> LockCounters {
        self.counted.get(lock as usize).map(|c| c.counters).unwrap_or_default()
    }

    /// The holder a `Holder` record names, its thread and site declared.
    fn holder(&mut self, record: &RingEvent) -> Holder {
        self.declare_thread(record.lock);
        Holder { thread: record.lock, site: self.site(record) }
    }

    /// The id of a wait's stack: its interned id, which the trace declares after the drain
    /// (see `Collector::declare_stacks`). `None` when the trace can no longer be written.
    fn stack(&mut self, stack: RawStack) -> Option<u32> {
        self.out.as_ref()?;
        Some(stack::intern(&stack))
    }

    /// The site id of a record's site, declaring it on first sight (before the batch that
    /// uses it, which is written later).
    #[inline(always)]
    fn site(&mut self, record: &RingEvent) -> u32 {
        let location = record.site();
        let key = location as *const _ as usize;
        // Fibonacci hashing: the top bits of the product mix every bit of the address.
        let slot = (key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SITE_CACHE.trailing_zeros());
        let (cached, id) = self.site_cache[slot as usize];
        if cached == key {
            return id;
        }
        self.site_missed(location, slot as usize)
    }

    /// A site not in its cache slot: interned before, or new and declared now.
    #[cold]
    #[inline(never)]
    fn site_missed(&mut self, location: &'static Location<'static>, slot: usize) -> u32 {
        let key = location as *const _ as usize;
        if let Some(&id) = self.sites.get(&key) {
            self.site_cache[slot] = (key, id);
            return id;
        }
        let id = self.sites.len() as u32;
        self.site_cache[slot] = (key, id);
        self.sites.insert(key, id);
        let decl = SiteDecl { id, site: Site::from_location(location) };
        debug_assert_eq!(decl.site.to_string(), site_label(location));
        self.write(|out| out.site(&decl));
        id
    }
}
