//! Writing traces: one [`TraceWriter`] per file, chunks written whole.

use std::fmt;
use std::io::{self, Write};

use super::codec::{checksum, opt_code, put_opt, put_str, put_varint, put_varint_at, zigzag};
use super::{kind, kind_code, mode_code, ClassDecl, Event, EventKind, Header, LockCounters, LockDecl, OrderEdge};
use super::{
    Holder, ModuleDecl, OwnTime, RawStackDecl, SiteDecl, StackDecl, Stress, ThreadDecl, MAGIC, MAX_CHUNK_LEN, VERSION,
};
use crate::analysis::report::Finding;

/// Writes a trace: the preamble on creation, then one call per chunk. Each chunk reaches `out`
/// in a single `write_all`, so a process that dies between calls leaves whole chunks only.
pub struct TraceWriter<W: Write> {
    out: W,
    /// The payload being built (reused).
    buf: Vec<u8>,
    /// Events chunks written so far: the next one's sequence number.
    batches: u64,
}

/// Event codes: bits 0–2 of an event's first byte.
pub(crate) mod code {
    pub const ACQUIRED: u8 = 0;
    pub const ACQUIRED_AFTER_WAIT: u8 = 1;
    pub const RELEASED: u8 = 2;
    pub const RELEASED_TIMED: u8 = 3;
    pub const TRY_FAILED: u8 = 4;
    pub const TIMED_OUT: u8 = 5;
    /// Bit 6: the event's lock is the previous event's.
    pub const SAME_LOCK: u8 = 1 << 6;
    /// Bit 7: a wait's stack and holder follow the kind's fields (format version 2).
    pub const WAIT_EXTRAS: u8 = 1 << 7;
}

/// The most bytes one event takes: the first byte; the lock delta (the zigzag of a difference
/// of two `u32`s: 33 bits, 5 bytes); two fields of up to 10 bytes; the stack and holder thread
/// (a `u32` + 1: 5 bytes each) and the holder's site (5 bytes).
const EVENT_MAX: usize = 1 + 5 + 10 + 10 + 5 + 5 + 5;

/// Encodes the events of one thread into the payload of an events chunk.
pub struct BatchEncoder {
    thread: u32,
    prev_lock: u32,
    count: u64,
    /// The encoded events are `bytes[..len]`; what follows is room for the next event, at
    /// least [`EVENT_MAX`] bytes once an event is being written. An event is written into
    /// it in place and `len` moved past it: one check of the room per event, where pushing
    /// byte by byte checked the capacity (and could call out to grow) once per byte.
    bytes: Vec<u8>,
    len: usize,
}

impl BatchEncoder {
    /// An empty batch for `thread`.
    pub fn new(thread: u32) -> BatchEncoder {
        BatchEncoder { thread, prev_lock: 0, count: 0, bytes: Vec::new(), len: 0 }
    }

    /// Appends one event (its `thread` field is ignored: a batch is one thread's).
    #[inline]
    pub fn push(&mut self, event: &Event) {
        let (code, fields, extras): (u8, [Option<u64>; 2], _) = match event.kind {
            EventKind::Acquired { site, wait_ns: None, stack, holder } => {
                (code::ACQUIRED, [Some(site.into()), None], (stack, holder))
            }
            EventKind::Acquired { site, wait_ns: Some(w), stack, holder } => {
                (code::ACQUIRED_AFTER_WAIT, [Some(site.into()), Some(w)], (stack, holder))
            }
            EventKind::Released { hold_ns: None } => (code::RELEASED, [None, None], (None, None)),
            EventKind::Released { hold_ns: Some(h) } => (code::RELEASED_TIMED, [Some(h), None], (None, None)),
            EventKind::TryFailed { site } => (code::TRY_FAILED, [Some(site.into()), None], (None, None)),
            EventKind::TimedOut { site, wait_ns, stack, holder } => {
                (code::TIMED_OUT, [Some(site.into()), Some(wait_ns)], (stack, holder))
            }
        };
        let mut first = code | mode_code(event.mode) << 3;
        let (stack, holder): (Option<u32>, Option<Holder>) = extras;
        if stack.is_some() || holder.is_some() {
            first |= code::WAIT_EXTRAS;
        }
        let mut at = self.head(first, event.lock);
        for field in fields.into_iter().flatten() {
            at = put_varint_at(&mut self.bytes, at, field);
        }
        if first & code::WAIT_EXTRAS != 0 {
            at = put_varint_at(&mut self.bytes, at, opt_code(stack));
            at = put_varint_at(&mut self.bytes, at, opt_code(holder.map(|h| h.thread)));
            if let Some(h) = holder {
                at = put_varint_at(&mut self.bytes, at, h.site.into());
            }
        }
        self.close(at);
    }

    /// Makes room for one event and writes its first byte and, unless the lock is the
    /// previous event's, the delta to its id. Returns where the event continues; `close`
    /// ends it.
    #[inline(always)]
    fn head(&mut self, first: u8, lock: u32) -> usize {
        let at = self.len;
        if self.bytes.len() - at < EVENT_MAX {
            self.grow();
        }
        if lock == self.prev_lock {
            self.bytes[at] = first | code::SAME_LOCK;
            at + 1
        } else {
            self.bytes[at] = first;
            let delta = zigzag(i64::from(lock) - i64::from(self.prev_lock));
            self.prev_lock = lock;
            put_varint_at(&mut self.bytes, at + 1, delta)
        }
    }

    /// Ends the event [`head`](Self::head) began, at `end`.
    #[inline(always)]
    fn close(&mut self, end: usize) {
        self.len = end;
        self.count += 1;
    }

    /// Doubles the room (amortised: a batch is cut at a fixed size and its buffer reused).
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let size = (2 * self.bytes.len()).max(self.len + EVENT_MAX).max(1 << 10);
        self.bytes.resize(size, 0);
    }

    /// The encoded events.
    fn encoded(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Events in the batch.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Encoded bytes so far (to cut batches well under [`MAX_CHUNK_LEN`]).
    pub fn encoded_len(&self) -> usize {
        self.len
    }

    /// Empties the batch for reuse by `thread`, keeping its buffer.
    pub fn restart(&mut self, thread: u32) {
        self.clear();
        self.thread = thread;
    }

    /// Empties the batch for reuse.
    pub fn clear(&mut self) {
        self.prev_lock = 0;
        self.count = 0;
        self.len = 0;
    }
}

/// Shows the encoded events only, not the room after them (bytes of earlier batches).
impl fmt::Debug for BatchEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchEncoder")
            .field("thread", &self.thread)
            .field("prev_lock", &self.prev_lock)
            .field("count", &self.count)
            .field("bytes", &self.encoded())
            .finish()
    }
}

impl<W: Write> TraceWriter<W> {
    /// Writes the preamble (magic and version) to `out`.
    pub fn new(mut out: W) -> io::Result<TraceWriter<W>> {
        let mut preamble = MAGIC.to_vec();
        preamble.extend_from_slice(&VERSION.to_le_bytes());
        preamble.extend_from_slice(&0u16.to_le_bytes());
        out.write_all(&preamble)?;
        Ok(TraceWriter { out, buf: Vec::new(), batches: 0 })
    }

    /// Frames and writes the payload built in `self.buf`.
    fn chunk(&mut self, kind: u8) -> io::Result<()> {
        let len = u32::try_from(self.buf.len()).ok().filter(|&len| len <= MAX_CHUNK_LEN);
        let Some(len) = len else {
            self.buf.clear();
            return Err(io::Error::new(io::ErrorKind::InvalidData, "trace chunk over the size limit"));
        };
        let mut framed = Vec::with_capacity(self.buf.len() + 9);
        framed.push(kind);
        framed.extend_from_slice(&len.to_le_bytes());
        framed.extend_from_slice(&checksum(VERSION, &self.buf).to_le_bytes());
        framed.extend_from_slice(&self.buf);
        self.buf.clear();
        self.out.write_all(&framed)
    }

    /// The process header.
    pub fn header(&mut self, h: &Header) -> io::Result<()> {
        put_str(&mut self.buf, &h.program);
        put_varint(&mut self.buf, h.pid.into());
        put_varint(&mut self.buf, h.start_unix_ns);
        put_varint(&mut self.buf, h.hold_sample.into());
        put_varint(&mut self.buf, h.ring_capacity.into());
        put_str(&mut self.buf, &h.cwd);
        self.chunk(kind::HEADER)
    }

    /// A thread declaration.
    pub fn thread(&mut self, t: &ThreadDecl) -> io::Result<()> {
        put_varint(&mut self.buf, t.id.into());
        put_str(&mut self.buf, &t.name);
        self.chunk(kind::THREAD)
    }

    /// A class declaration.
    pub fn class(&mut self, c: &ClassDecl) -> io::Result<()> {
        put_varint(&mut self.buf, c.id.into());
        put_str(&mut self.buf, &c.label);
        self.buf.push(u8::from(c.named));
        self.buf.push(kind_code(c.kind));
        put_opt(&mut self.buf, c.rank);
        match &c.site {
            None => self.buf.push(0),
            Some(site) => {
                self.buf.push(1);
                put_str(&mut self.buf, &site.file);
                put_varint(&mut self.buf, site.line.into());
                put_varint(&mut self.buf, site.column.into());
            }
        }
        self.chunk(kind::CLASS)
    }

    /// A lock declaration.
    pub fn lock(&mut self, l: &LockDecl) -> io::Result<()> {
        put_varint(&mut self.buf, l.id.into());
        put_varint(&mut self.buf, l.class.into());
        self.buf.push(kind_code(l.kind));
        put_opt(&mut self.buf, l.rank);
        self.chunk(kind::LOCK)
    }

    /// A site declaration.
    pub fn site(&mut self, s: &SiteDecl) -> io::Result<()> {
        put_varint(&mut self.buf, s.id.into());
        put_str(&mut self.buf, &s.site.file);
        put_varint(&mut self.buf, s.site.line.into());
        put_varint(&mut self.buf, s.site.column.into());
        self.chunk(kind::SITE)
    }

    /// A stack declaration: write it before the first events chunk naming its id.
    pub fn stack(&mut self, s: &StackDecl) -> io::Result<()> {
        put_varint(&mut self.buf, s.id.into());
        put_varint(&mut self.buf, s.frames.len() as u64);
        for frame in &s.frames {
            put_str(&mut self.buf, frame);
        }
        self.chunk(kind::STACK)
    }

    /// A loaded object: write it before the first raw stack naming it.
    pub fn module(&mut self, m: &ModuleDecl) -> io::Result<()> {
        put_varint(&mut self.buf, m.id.into());
        put_str(&mut self.buf, &m.path);
        put_varint(&mut self.buf, m.bias);
        put_varint(&mut self.buf, m.build_id.len() as u64);
        self.buf.extend_from_slice(&m.build_id);
        self.chunk(kind::MODULE)
    }

    /// A stack as return addresses.
    pub fn raw_stack(&mut self, s: &RawStackDecl) -> io::Result<()> {
        put_varint(&mut self.buf, s.id.into());
        put_varint(&mut self.buf, s.frames.len() as u64);
        for frame in &s.frames {
            put_opt(&mut self.buf, frame.module);
            put_varint(&mut self.buf, frame.address);
        }
        self.chunk(kind::RAW_STACK)
    }

    /// lockcheck's own time inside recorded waits, so far.
    pub fn own_time(&mut self, own: &OwnTime) -> io::Result<()> {
        put_varint(&mut self.buf, own.wait_stacks);
        put_varint(&mut self.buf, own.wait_stack_ns);
        self.chunk(kind::OWN_TIME)
    }

    /// Stress mode's seed, settings and injected delays, so far.
    pub fn stress(&mut self, stress: &Stress) -> io::Result<()> {
        serde_json::to_writer(&mut self.buf, stress).map_err(io::Error::other)?;
        self.chunk(kind::STRESS)
    }

    /// An events chunk; `time_ns` is when the batch was collected, since the trace started.
    pub fn events(&mut self, batch: &BatchEncoder, time_ns: u64) -> io::Result<()> {
        put_varint(&mut self.buf, self.batches);
        self.batches += 1;
        put_varint(&mut self.buf, batch.thread.into());
        put_varint(&mut self.buf, time_ns);
        put_varint(&mut self.buf, batch.count);
        self.buf.extend_from_slice(batch.encoded());
        self.chunk(kind::EVENTS)
    }

    /// A raw events chunk (version 5, see `raw.rs`): `count` events of `thread` in `words`,
    /// the marked waits' stacks in `stacks`.
    #[cfg(any(test, feature = "instrument"))]
    pub(crate) fn raw_events(
        &mut self,
        thread: u32,
        time_ns: u64,
        count: u64,
        stacks: &[u32],
        words: &[u64],
    ) -> io::Result<()> {
        put_varint(&mut self.buf, self.batches);
        self.batches += 1;
        put_varint(&mut self.buf, thread.into());
        put_varint(&mut self.buf, time_ns);
        put_varint(&mut self.buf, count);
        put_varint(&mut self.buf, stacks.len() as u64);
        for &stack in stacks {
            put_varint(&mut self.buf, stack.into());
        }
        put_words(&mut self.buf, words);
        self.chunk(kind::RAW_EVENTS)
    }

    /// Cumulative dropped-event counts per thread.
    pub fn dropped(&mut self, dropped: &[(u32, u64)]) -> io::Result<()> {
        put_varint(&mut self.buf, dropped.len() as u64);
        for &(thread, count) in dropped {
            put_varint(&mut self.buf, thread.into());
            put_varint(&mut self.buf, count);
        }
        self.chunk(kind::DROPPED)
    }

    /// Cumulative exact counters of the locks listed, of the acquisitions whose events are not
    /// in the trace (dropped); readers keep the last value per lock and add the events'.
    pub fn counters(&mut self, counters: &[(u32, LockCounters)]) -> io::Result<()> {
        put_varint(&mut self.buf, counters.len() as u64);
        for (lock, c) in counters {
            put_varint(&mut self.buf, (*lock).into());
            put_varint(&mut self.buf, c.acquisitions);
            put_varint(&mut self.buf, c.contended);
            put_varint(&mut self.buf, c.wait_ns);
        }
        self.chunk(kind::COUNTERS)
    }

    /// Every finding so far.
    pub fn findings(&mut self, findings: &[Finding]) -> io::Result<()> {
        serde_json::to_writer(&mut self.buf, findings).map_err(io::Error::other)?;
        self.chunk(kind::FINDINGS)
    }

    /// Every class lock-order edge so far.
    pub fn edges(&mut self, edges: &[OrderEdge]) -> io::Result<()> {
        serde_json::to_writer(&mut self.buf, edges).map_err(io::Error::other)?;
        self.chunk(kind::EDGES)
    }

    /// Marks a flush at process exit.
    pub fn end(&mut self) -> io::Result<()> {
        self.chunk(kind::END)
    }

    /// Flushes `out`.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// A chunk of any kind with a raw payload: for testing readers against unknown kinds.
    #[cfg(test)]
    pub(crate) fn raw(&mut self, kind: u8, payload: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(payload);
        self.chunk(kind)
    }
}

/// Appends `words` little-endian: on a little-endian machine, their bytes as they are, in one
/// copy (the collector writes every ring word through here).
#[cfg(any(test, feature = "instrument"))]
fn put_words(buf: &mut Vec<u8>, words: &[u64]) {
    #[cfg(target_endian = "little")]
    {
        // SAFETY: a `u64` slice is `size_of_val` initialised bytes with no padding, and `u8`
        // has no alignment to break; on a little-endian machine they are the encoding.
        let bytes = unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), std::mem::size_of_val(words)) };
        buf.extend_from_slice(bytes);
    }
    #[cfg(not(target_endian = "little"))]
    for word in words {
        buf.extend_from_slice(&word.to_le_bytes());
    }
}
