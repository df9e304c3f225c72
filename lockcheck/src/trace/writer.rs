//! Writing traces: one [`TraceWriter`] per file, chunks written whole.

use std::io::{self, Write};

use super::codec::{checksum, put_opt, put_str, put_varint, zigzag};
use super::{kind, kind_code, mode_code, ClassDecl, Event, EventKind, Header, LockCounters, LockDecl, OrderEdge};
use super::{Holder, SiteDecl, StackDecl, ThreadDecl, MAGIC, MAX_CHUNK_LEN, VERSION};
use crate::report::Finding;

/// Writes a trace: the preamble on creation, then one call per chunk. Each chunk reaches `out`
/// in a single `write_all`, so a process that dies between calls leaves whole chunks only.
pub struct TraceWriter<W: Write> {
    out: W,
    /// The payload being built (reused).
    buf: Vec<u8>,
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

/// Encodes the events of one thread into the payload of an events chunk.
#[derive(Debug)]
pub struct BatchEncoder {
    thread: u32,
    prev_lock: u32,
    count: u64,
    bytes: Vec<u8>,
}

impl BatchEncoder {
    /// An empty batch for `thread`.
    pub fn new(thread: u32) -> BatchEncoder {
        BatchEncoder { thread, prev_lock: 0, count: 0, bytes: Vec::new() }
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
        if event.lock == self.prev_lock {
            first |= code::SAME_LOCK;
            self.bytes.push(first);
        } else {
            self.bytes.push(first);
            put_varint(&mut self.bytes, zigzag(i64::from(event.lock) - i64::from(self.prev_lock)));
            self.prev_lock = event.lock;
        }
        for field in fields.into_iter().flatten() {
            put_varint(&mut self.bytes, field);
        }
        if first & code::WAIT_EXTRAS != 0 {
            put_opt(&mut self.bytes, stack);
            put_opt(&mut self.bytes, holder.map(|h| h.thread));
            if let Some(h) = holder {
                put_varint(&mut self.bytes, h.site.into());
            }
        }
        self.count += 1;
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
        self.bytes.len()
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
        self.bytes.clear();
    }
}

impl<W: Write> TraceWriter<W> {
    /// Writes the preamble (magic and version) to `out`.
    pub fn new(mut out: W) -> io::Result<TraceWriter<W>> {
        let mut preamble = MAGIC.to_vec();
        preamble.extend_from_slice(&VERSION.to_le_bytes());
        preamble.extend_from_slice(&0u16.to_le_bytes());
        out.write_all(&preamble)?;
        Ok(TraceWriter { out, buf: Vec::new() })
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
        framed.extend_from_slice(&checksum(&self.buf).to_le_bytes());
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

    /// An events chunk; `time_ns` is when the batch was collected, since the trace started.
    pub fn events(&mut self, batch: &BatchEncoder, time_ns: u64) -> io::Result<()> {
        put_varint(&mut self.buf, batch.thread.into());
        put_varint(&mut self.buf, time_ns);
        put_varint(&mut self.buf, batch.count);
        self.buf.extend_from_slice(&batch.bytes);
        self.chunk(kind::EVENTS)
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

    /// Cumulative exact counters of the locks listed (readers keep the last value per lock).
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
