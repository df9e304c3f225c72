//! [`TraceData`]: everything in a trace except the events, which stream through a callback.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::sequence::Sequence;
use super::{
    Chunk, ClassDecl, Event, EventKind, Header, LockCounters, LockDecl, ModuleDecl, OrderEdge, OwnTime, RawFrame,
    Stress, TraceError, TraceReader,
};
use crate::analysis::report::{Finding, Site};

/// A trace's declarations (stacks included), exact counters, dropped counts, findings and order edges. Events
/// are not kept (a trace can hold hundreds of millions): [`TraceData::read_with`] hands each
/// one to a callback as it is decoded.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct TraceData {
    /// The process, if the header chunk was read.
    pub header: Option<Header>,
    /// Thread names by id.
    pub threads: BTreeMap<u32, String>,
    /// Classes by id.
    pub classes: BTreeMap<u32, ClassDecl>,
    /// Lock instances by id.
    pub locks: BTreeMap<u32, LockDecl>,
    /// Acquisition sites by id.
    pub sites: BTreeMap<u32, Site>,
    /// Symbolised stacks by id, innermost frame first: declared so by traces before version 4;
    /// since, filled in from `raw_stacks` by whoever symbolises them.
    pub stacks: BTreeMap<u32, Vec<String>>,
    /// Stacks as return addresses, by id (version 4).
    pub raw_stacks: BTreeMap<u32, Vec<RawFrame>>,
    /// The loaded objects raw stacks name, by id.
    pub modules: BTreeMap<u32, ModuleDecl>,
    /// lockcheck's own time inside the recorded waits (included in them).
    pub own_time: OwnTime,
    /// Stress mode's seed, settings and injected delays, when the process ran under it.
    pub stress: Option<Stress>,
    /// Exact per-lock counters, by lock id: the acquisitions of the events read plus (version
    /// 5) the last counters chunk's count of those whose events were dropped; before version
    /// 5, the last counters chunk's, plus (version 4) the acquisitions of the events written
    /// after it, which a trace cut short never counted.
    pub counters: BTreeMap<u32, LockCounters>,
    /// Events dropped because a ring was full, by thread id.
    pub dropped: BTreeMap<u32, u64>,
    /// The findings of the process.
    pub findings: Vec<Finding>,
    /// Its class lock-order edges.
    pub edges: Vec<OrderEdge>,
    /// Events read.
    pub events: u64,
    /// Events chunks that appeared more than once: each was read once (version 4).
    pub duplicate_batches: u64,
    /// Events chunks missing between those read, by their sequence numbers (version 4).
    pub missing_batches: u64,
    /// Whether the process flushed at exit (an end chunk was the last one read).
    pub complete: bool,
    /// Why reading stopped early: the data above is what came before the damage.
    pub warning: Option<TraceError>,
}

impl TraceData {
    /// Reads a trace file, counting its events without keeping them.
    pub fn load(path: impl AsRef<Path>) -> Result<TraceData, TraceError> {
        TraceData::load_with(path, |_, _| {})
    }

    /// Reads a trace file, passing each event to `on_event` with the data read so far (every
    /// declaration an event refers to precedes it).
    pub fn load_with(
        path: impl AsRef<Path>,
        on_event: impl FnMut(&TraceData, &Event),
    ) -> Result<TraceData, TraceError> {
        TraceData::read_with(TraceReader::open(path)?, on_event)
    }

    /// Reads a trace from an open reader. Fails only when nothing could be read; damage after
    /// the preamble ends the read with [`TraceData::warning`] set.
    pub fn read_with<R: Read>(
        reader: TraceReader<R>,
        mut on_event: impl FnMut(&TraceData, &Event),
    ) -> Result<TraceData, TraceError> {
        TraceData::read_timed_with(reader, |data, _, event| on_event(data, event))
    }

    /// Reads a trace file like [`TraceData::load_with`], passing each event with the time its
    /// batch was collected ([`EventBatch::time_ns`](super::EventBatch::time_ns)): events
    /// carry no clock of their own (recording reads none), so this is when the event had
    /// happened by.
    pub fn load_timed_with(
        path: impl AsRef<Path>,
        on_event: impl FnMut(&TraceData, u64, &Event),
    ) -> Result<TraceData, TraceError> {
        TraceData::read_timed_with(TraceReader::open(path)?, on_event)
    }

    /// [`TraceData::read_with`], each event passed with its batch's collection time (see
    /// [`TraceData::load_timed_with`]).
    pub fn read_timed_with<R: Read>(
        reader: TraceReader<R>,
        mut on_event: impl FnMut(&TraceData, u64, &Event),
    ) -> Result<TraceData, TraceError> {
        let mut data = TraceData::default();
        let mut sequence = Sequence::default();
        // Per lock, the acquisitions of the events read since its last counters entry (see the
        // format notes): only version 4 guarantees counters follow the events they count.
        // Version 5 counters count only what the events lack: every event counts.
        let catch_up = reader.version() >= 4;
        let events_count_all = reader.version() >= 5;
        let mut since_counters: BTreeMap<u32, LockCounters> = BTreeMap::new();
        for chunk in reader {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    data.warning = Some(e);
                    break;
                }
            };
            data.complete = matches!(chunk, Chunk::End);
            match chunk {
                Chunk::Header(h) => data.header = Some(h),
                Chunk::Thread(t) => {
                    data.threads.insert(t.id, t.name);
                }
                Chunk::Class(c) => {
                    data.classes.insert(c.id, c);
                }
                Chunk::Lock(l) => {
                    data.locks.insert(l.id, l);
                }
                Chunk::Site(s) => {
                    data.sites.insert(s.id, s.site);
                }
                Chunk::Stack(s) => {
                    data.stacks.insert(s.id, s.frames);
                }
                Chunk::Module(m) => {
                    data.modules.insert(m.id, m);
                }
                Chunk::RawStack(s) => {
                    data.raw_stacks.insert(s.id, s.frames);
                }
                Chunk::OwnTime(own) => data.own_time = own,
                Chunk::Stress(stress) => data.stress = Some(stress),
                Chunk::Events(batch) => {
                    if batch.sequence.is_some_and(|n| !sequence.admit(n)) {
                        continue;
                    }
                    for event in batch.events() {
                        match event {
                            Ok(event) => {
                                data.events += 1;
                                if let (true, EventKind::Acquired { wait_ns, .. }) = (catch_up, event.kind) {
                                    since_counters.entry(event.lock).or_default().add(&LockCounters {
                                        acquisitions: 1,
                                        contended: u64::from(wait_ns.is_some()),
                                        wait_ns: wait_ns.unwrap_or(0),
                                    });
                                }
                                on_event(&data, batch.time_ns, &event);
                            }
                            Err(e) => data.warning = Some(e),
                        }
                    }
                    if data.warning.is_some() {
                        break;
                    }
                }
                Chunk::Dropped(d) => data.dropped = d.into_iter().collect(),
                Chunk::Counters(c) => {
                    if !events_count_all {
                        for (lock, _) in &c {
                            since_counters.remove(lock);
                        }
                    }
                    data.counters.extend(c);
                }
                Chunk::Findings(f) => data.findings = f,
                Chunk::Edges(e) => data.edges = e,
                Chunk::End | Chunk::Unknown { .. } => {}
            }
        }
        for (lock, newer) in since_counters {
            data.counters.entry(lock).or_default().add(&newer);
        }
        data.duplicate_batches = sequence.duplicates();
        data.missing_batches = sequence.missing();
        Ok(data)
    }

    /// Events dropped in total: when non-zero, event-based analyses are incomplete.
    pub fn events_lost(&self) -> u64 {
        self.dropped.values().sum()
    }

    /// The class label of a lock id.
    pub fn class_of(&self, lock: u32) -> Option<&ClassDecl> {
        self.classes.get(&self.locks.get(&lock)?.class)
    }
}
