//! The trace file: what a recording process writes (`LOCKCHECK_TRACE`) and the `lockcheck`
//! CLI reads. Available without the `instrument` feature, so that tools can read traces.
//!
//! # Format (version 6)
//!
//! ```text
//! file     = magic "LCKTRACE" · version u16 LE · flags u16 LE (0) · chunk*
//! chunk    = kind u8 · length u32 LE · CRC-32 of payload u32 LE · payload[length]
//! ```
//!
//! Chunks are self-contained and written whole, so a file cut short by a crash is readable up
//! to its last complete chunk; a reader skips chunk kinds it does not know; a length above
//! [`MAX_CHUNK_LEN`] is corruption, never an allocation. Integers inside payloads are LEB128
//! varints. Declarations (threads, classes, locks, sites) always precede the events that use
//! their ids, except stacks: symbolised off the recorder's path, a stack chunk may come after
//! the events naming it, and a trace cut short (or a stack without a frame of the user's) can
//! name a stack it never declares; readers then show the event's site. Snapshot chunks are
//! cumulative: for dropped counts, findings and order edges the last chunk of the kind is the
//! whole truth; counters chunks carry the locks whose totals changed, so per lock the last
//! value seen counts. Since version 5 a counters chunk counts only the acquisitions whose
//! events were dropped, and a reader adds those of the events: counters and events agree in
//! any trace, a killed process's included ([`TraceData::counters`]). (In version 4 it counted
//! every acquisition of the events chunks before it, and a reader added those of the events
//! after its last entry.) Version 6 adds the raw events' *repeat* word (`trace/raw.rs`): a
//! run of one release or pair record is the record once and a count.
//!
//! | kind | chunk | payload |
//! |---|---|---|
//! | 1 | header | program, pid, start (Unix ns), hold sample rate, ring capacity, working directory (v4) |
//! | 2 | thread | id, name |
//! | 3 | class | id, label, named, kind, rank, creation site |
//! | 4 | lock | id, class id, kind, rank |
//! | 5 | site | id, file, line, column |
//! | 6 | events | sequence number (v4: 0, 1, 2, … over the file's events chunks), thread, time since start (ns), count, events |
//! | 7 | dropped | (thread, events dropped) pairs |
//! | 8 | counters | (lock, acquisitions, contended, wait ns): v5, of the acquisitions whose events were dropped; before, of all |
//! | 9 | findings | `Vec<Finding>` as JSON |
//! | 10 | edges | `Vec<OrderEdge>` (class lock-order edges) as JSON |
//! | 11 | end | empty: the process flushed at exit |
//! | 12 | stack | id, frame count, frames (strings, innermost first): a symbolised stack (versions 2 and 3) |
//! | 13 | module | id, path, load bias, build id (length, bytes): a loaded object stack addresses belong to |
//! | 14 | raw stack | id, frame count, frames (module id + 1, or 0 if none; address within the module, or absolute), innermost first |
//! | 15 | own time | lockcheck's own work inside the waits recorded: stacks taken, and their nanoseconds in all (cumulative) |
//! | 16 | stress | [`Stress`] as JSON: the seed and settings of stress mode (`LOCKCHECK_STRESS`) and the delays each thread got (cumulative) |
//! | 17 | raw events | sequence number (shared with events chunks), thread, time since start (ns), event count, stack count, stack ids, then the ring's 64-bit words (LE) as the thread wrote them, a run of one record folded into a repeat word (v6) (v5; the layout is in `trace/raw.rs`) |
//!
//! An event is one byte — kind (bits 0–2), mode (bits 3–5), "same lock as the previous
//! event" (bit 6), "a wait's stack and holder follow" (bit 7) — then, unless bit 6 is set, the
//! zigzag delta from the previous event's lock id, then the kind's fields (site id, wait or hold
//! nanoseconds), then, if bit 7 is set, the stack id + 1 (0: none) and the holder's thread id + 1
//! (0: none) followed, when there is a holder, by its site id. A lock and unlock of one lock
//! typically take 4 bytes; only contended acquisitions and timeouts set bit 7.
//!
//! A recording process writes raw events chunks (kind 17): its threads' ring words copied
//! as they are, one word for most holds (an acquisition and its release), decoded by the
//! reader. Events chunks (kind 6) remain for tools that write traces of their own.
//!
//! Stacks are recorded as return addresses (raw stack chunks): a process never loads its own
//! debug info to write its trace. A raw stack's frames name the module (a module chunk, which
//! precedes it) and the address relative to the module's load bias, which is the address in
//! the object file; readers symbolise them from the file at the module's path, when its build
//! id still matches.
//!
//! An events chunk's sequence number lets a reader count a chunk that appears twice once (a
//! copy is as valid as the original: its checksum holds) and say how many are missing between
//! the ones it read ([`TraceData::duplicate_batches`], [`TraceData::missing_batches`]).
//!
//! Older versions are read as well. Version 4 has no raw events chunks, and its counters
//! count every acquisition. Version 3 has no module or raw stack chunks and symbolised
//! stacks in stack chunks; its header has no working directory, its events chunks no sequence
//! number. Version 2 differs only in its checksum, FNV-1a-32 (byte
//! by byte, so slower to compute); version 1 also has no stack chunks and never sets bit 7:
//! its events have no stacks or holders.

mod codec;
mod data;
pub(crate) mod raw;
mod reader;
mod sequence;
mod stress;
mod writer;

use std::io;

pub use crate::analysis::order_edge::OrderEdge;
pub use data::TraceData;
pub use reader::{EventBatch, Events, TraceReader};
pub use stress::{Stress, StressThread};
pub use writer::{BatchEncoder, TraceWriter};

use crate::analysis::report::LockKind;
use crate::analysis::report::{Mode, Site};

/// The first eight bytes of every trace.
pub const MAGIC: [u8; 8] = *b"LCKTRACE";
/// The format version this library writes (it also reads the versions before it, down to 1).
pub const VERSION: u16 = 6;
/// The oldest format version this library reads.
pub(crate) const OLDEST_VERSION: u16 = 1;
/// The largest chunk payload a reader accepts (and a writer produces), in bytes.
pub const MAX_CHUNK_LEN: u32 = 16 << 20;
/// The file extension of traces written into a directory.
pub const EXTENSION: &str = "lctrace";

/// Bytes before the first chunk: magic, version, flags.
pub(crate) const PREAMBLE_LEN: u64 = 12;
/// Bytes of a chunk's frame before its payload: kind, length, checksum.
pub(crate) const FRAME_LEN: u64 = 9;

/// Chunk kinds on disk.
pub(crate) mod kind {
    pub const HEADER: u8 = 1;
    pub const THREAD: u8 = 2;
    pub const CLASS: u8 = 3;
    pub const LOCK: u8 = 4;
    pub const SITE: u8 = 5;
    pub const EVENTS: u8 = 6;
    pub const DROPPED: u8 = 7;
    pub const COUNTERS: u8 = 8;
    pub const FINDINGS: u8 = 9;
    pub const EDGES: u8 = 10;
    pub const END: u8 = 11;
    pub const STACK: u8 = 12;
    pub const MODULE: u8 = 13;
    pub const RAW_STACK: u8 = 14;
    pub const OWN_TIME: u8 = 15;
    pub const STRESS: u8 = 16;
    pub const RAW_EVENTS: u8 = 17;
}

/// Why a trace could not be read (completely).
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// Reading the file failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The file does not start with [`MAGIC`]: not a lockcheck trace.
    #[error("not a lockcheck trace (bad magic bytes)")]
    BadMagic,
    /// Written by a newer (or unknown) version of the format.
    #[error("unsupported trace format version {0} (this build reads versions {OLDEST_VERSION} to {VERSION})")]
    UnsupportedVersion(u16),
    /// The file ends inside the chunk (or preamble) that starts at `offset`: typically a
    /// process killed while writing. Everything before `offset` is intact.
    #[error("trace is truncated at byte {offset} (the process probably died while writing)")]
    Truncated {
        /// Where the incomplete part starts.
        offset: u64,
    },
    /// The chunk at `offset` is damaged.
    #[error("trace is corrupt at byte {offset}: {what}")]
    Corrupt {
        /// The chunk's offset in the file.
        offset: u64,
        /// What is wrong with it.
        what: String,
    },
}

/// The process a trace came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The program's name (its executable's file name).
    pub program: String,
    /// Its process id.
    pub pid: u32,
    /// When recording started, in nanoseconds since the Unix epoch.
    pub start_unix_ns: u64,
    /// One uncontended hold in this many was timed (0: none, 1: all); scale hold-time sums
    /// by it for estimates.
    pub hold_sample: u32,
    /// Events per thread ring.
    pub ring_capacity: u32,
    /// The process's working directory, which source paths of symbolised stacks are shown
    /// relative to (empty when unknown, and in traces before version 4).
    pub cwd: String,
}

/// A thread that recorded events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadDecl {
    /// Its id in this trace (0: events recorded after the thread's state was torn down).
    pub id: u32,
    /// Its name, or its `ThreadId` when unnamed.
    pub name: String,
}

/// A lock class: every lock with one name or, unnamed, one creation site. Classes are what
/// merge across processes (by `label`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassDecl {
    /// Its id in this trace.
    pub id: u32,
    /// The name, or the creation site as `file:line:col`.
    pub label: String,
    /// Whether `label` is a name given in code.
    pub named: bool,
    /// What kind of primitive.
    pub kind: LockKind,
    /// Its rank, if any.
    pub rank: Option<u32>,
    /// Where its first instance was created.
    pub site: Option<Site>,
}

/// A lock instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockDecl {
    /// Its id in this trace.
    pub id: u32,
    /// Its class id.
    pub class: u32,
    /// What kind of primitive.
    pub kind: LockKind,
    /// Its rank, if any.
    pub rank: Option<u32>,
}

/// A call site that acquired a lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteDecl {
    /// Its id in this trace.
    pub id: u32,
    /// Where.
    pub site: Site,
}

/// A captured stack, innermost frame first ("function at file:line"), lockcheck's and the
/// runtime's frames trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackDecl {
    /// Its id in this trace: events name it (identical stacks share one id).
    pub id: u32,
    /// The frames, innermost (the lock call's caller) first.
    pub frames: Vec<String>,
}

/// A loaded object (the executable or a shared library) that stack addresses belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleDecl {
    /// Its id in this trace: raw stack frames name it.
    pub id: u32,
    /// Its path when the process ran.
    pub path: String,
    /// What the loader added to the object file's addresses.
    pub bias: u64,
    /// Its GNU build id (empty if it has none): a file at `path` with another id is another
    /// build, whose debug info would name the wrong functions.
    pub build_id: Vec<u8>,
}

/// One frame of a [`RawStackDecl`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawFrame {
    /// The module the return address lies in ([`ModuleDecl::id`]), if one was found.
    pub module: Option<u32>,
    /// The return address, relative to the module's load bias (the address in its object
    /// file); absolute when `module` is `None`.
    pub address: u64,
}

/// A stack as its frames' return addresses, innermost first, lockcheck's own frames included:
/// readers symbolise and trim it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawStackDecl {
    /// Its id in this trace: events and order edges name it (identical stacks share one id).
    pub id: u32,
    /// The frames.
    pub frames: Vec<RawFrame>,
}

/// lockcheck's own work inside the waits a trace records: a long wait's stack is taken by the
/// waiting thread while it waits, and when the lock comes free meanwhile, the wait lasts that
/// much longer than the program's own. Readers say so next to wait figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OwnTime {
    /// Stacks taken inside waits.
    pub wait_stacks: u64,
    /// Their nanoseconds, in all.
    pub wait_stack_ns: u64,
}

/// Who held the lock a contended acquisition waited for, as the waiter saw it when it began
/// to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holder {
    /// The holder's thread id (see [`ThreadDecl`]).
    pub thread: u32,
    /// Where the holder acquired the lock: a site id (see [`SiteDecl`]).
    pub site: u32,
}

/// One recorded event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The thread id (see [`ThreadDecl`]).
    pub thread: u32,
    /// The lock id (see [`LockDecl`]).
    pub lock: u32,
    /// How the lock was (to be) held.
    pub mode: Mode,
    /// What happened.
    pub kind: EventKind,
}

/// What an [`Event`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The lock was acquired at `site`; `wait_ns` is set when it was contended.
    Acquired {
        /// Site id (see [`SiteDecl`]).
        site: u32,
        /// How long the thread waited, when it had to.
        wait_ns: Option<u64>,
        /// Where the thread waited (a [`StackDecl`] id), when the wait was long enough for a
        /// stack to be captured (`LOCKCHECK_WAIT_STACKS_US`).
        stack: Option<u32>,
        /// Who held the lock when the wait began, when it was held exclusively by a known
        /// thread.
        holder: Option<Holder>,
    },
    /// The lock was released; `hold_ns` is set on the sampled holds (see
    /// [`Header::hold_sample`]).
    Released {
        /// How long it was held, when this hold was timed.
        hold_ns: Option<u64>,
    },
    /// A `try_lock` at `site` failed.
    TryFailed {
        /// Site id.
        site: u32,
    },
    /// A timed acquisition at `site` gave up after `wait_ns`.
    TimedOut {
        /// Site id.
        site: u32,
        /// How long it waited.
        wait_ns: u64,
        /// Where it waited (a [`StackDecl`] id), as for [`EventKind::Acquired`].
        stack: Option<u32>,
        /// Who held the lock when the wait began, as for [`EventKind::Acquired`].
        holder: Option<Holder>,
    },
}

/// Exact per-lock counts, including acquisitions whose events were dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockCounters {
    /// Successful acquisitions (blocking, timed and `try_lock`).
    pub acquisitions: u64,
    /// Acquisitions that had to wait.
    pub contended: u64,
    /// Total time waited by the contended acquisitions, in nanoseconds.
    pub wait_ns: u64,
}

impl LockCounters {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &LockCounters) {
        // Saturating: a damaged trace may claim anything.
        self.acquisitions = self.acquisitions.saturating_add(other.acquisitions);
        self.contended = self.contended.saturating_add(other.contended);
        self.wait_ns = self.wait_ns.saturating_add(other.wait_ns);
    }
}

/// One chunk of a trace, decoded.
#[derive(Clone, Debug)]
pub enum Chunk {
    /// The process.
    Header(Header),
    /// A thread declaration.
    Thread(ThreadDecl),
    /// A class declaration.
    Class(ClassDecl),
    /// A lock declaration.
    Lock(LockDecl),
    /// A site declaration.
    Site(SiteDecl),
    /// Events of one thread, decoded lazily.
    Events(EventBatch),
    /// Cumulative dropped-event counts: (thread id, count).
    Dropped(Vec<(u32, u64)>),
    /// Exact counters, cumulative, of the locks that changed since the previous such chunk.
    Counters(Vec<(u32, LockCounters)>),
    /// Every finding so far.
    Findings(Vec<crate::analysis::report::Finding>),
    /// Every class lock-order edge so far.
    Edges(Vec<OrderEdge>),
    /// A symbolised stack declaration (versions 2 and 3).
    Stack(StackDecl),
    /// A loaded object declaration.
    Module(ModuleDecl),
    /// A stack declared as return addresses.
    RawStack(RawStackDecl),
    /// lockcheck's own time inside recorded waits, so far.
    OwnTime(OwnTime),
    /// Stress mode's seed, settings and injected delays, so far.
    Stress(Stress),
    /// The process flushed at exit.
    End,
    /// A chunk kind this version does not know (skipped).
    Unknown {
        /// Its kind byte.
        kind: u8,
        /// Its payload length.
        len: u32,
    },
}

/// How [`Mode`]s are numbered on disk.
pub(crate) fn mode_code(mode: Mode) -> u8 {
    match mode {
        Mode::Exclusive => 0,
        Mode::Shared => 1,
        Mode::SharedRecursive => 2,
        Mode::Upgradable => 3,
        Mode::Permit => 4,
    }
}

pub(crate) fn mode_from_code(code: u8) -> Option<Mode> {
    Some(match code {
        0 => Mode::Exclusive,
        1 => Mode::Shared,
        2 => Mode::SharedRecursive,
        3 => Mode::Upgradable,
        4 => Mode::Permit,
        _ => return None,
    })
}

/// How [`LockKind`]s are numbered on disk.
pub(crate) fn kind_code(kind: LockKind) -> u8 {
    match kind {
        LockKind::Mutex => 0,
        LockKind::RwLock => 1,
        LockKind::Reentrant => 2,
        LockKind::Semaphore => 3,
    }
}

pub(crate) fn kind_from_code(code: u8) -> Option<LockKind> {
    Some(match code {
        0 => LockKind::Mutex,
        1 => LockKind::RwLock,
        2 => LockKind::Reentrant,
        3 => LockKind::Semaphore,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
