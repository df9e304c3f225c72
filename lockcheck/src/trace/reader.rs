//! Reading traces chunk by chunk, in memory bounded by [`MAX_CHUNK_LEN`].

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::codec::{checksum, unzigzag, Decoder};
use super::raw::RawEvents;
use super::writer::code;
use super::{kind, kind_from_code, mode_from_code, Chunk, ClassDecl, Event, EventKind, Header, Holder, LockCounters};
use super::{
    LockDecl, ModuleDecl, OwnTime, RawFrame, RawStackDecl, SiteDecl, StackDecl, ThreadDecl, TraceError, FRAME_LEN,
    MAGIC, MAX_CHUNK_LEN,
};
use super::{OLDEST_VERSION, PREAMBLE_LEN, VERSION};
use crate::analysis::report::Site;

/// Iterates the chunks of a trace. Yields `Err` once, at the first damaged or incomplete
/// chunk, and then ends: everything yielded before it is intact.
pub struct TraceReader<R> {
    input: R,
    /// File offset of the next chunk.
    offset: u64,
    version: u16,
    done: bool,
}

impl TraceReader<BufReader<File>> {
    /// Opens a trace file and checks its preamble.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TraceError> {
        TraceReader::new(BufReader::new(File::open(path)?))
    }
}

/// Reads up to `buf.len()` bytes; fewer only at end of input.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl<R: Read> TraceReader<R> {
    /// Reads and checks the preamble (magic and version) from `input`.
    pub fn new(mut input: R) -> Result<Self, TraceError> {
        let mut preamble = [0u8; PREAMBLE_LEN as usize];
        let got = read_full(&mut input, &mut preamble)?;
        if preamble[..got.min(8)] != MAGIC[..got.min(8)] {
            return Err(TraceError::BadMagic);
        }
        if got < preamble.len() {
            return Err(TraceError::Truncated { offset: 0 });
        }
        let version = u16::from_le_bytes([preamble[8], preamble[9]]);
        if !(OLDEST_VERSION..=VERSION).contains(&version) {
            return Err(TraceError::UnsupportedVersion(version));
        }
        Ok(TraceReader { input, offset: PREAMBLE_LEN, version, done: false })
    }

    /// The format version of the file.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The file offset of the next chunk (after the last one yielded).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn read_chunk(&mut self) -> Result<Option<Chunk>, TraceError> {
        let at = self.offset;
        let mut frame = [0u8; FRAME_LEN as usize];
        match read_full(&mut self.input, &mut frame)? {
            0 => return Ok(None),
            n if n < frame.len() => return Err(TraceError::Truncated { offset: at }),
            _ => {}
        }
        let kind = frame[0];
        let len = u32::from_le_bytes([frame[1], frame[2], frame[3], frame[4]]);
        let sum = u32::from_le_bytes([frame[5], frame[6], frame[7], frame[8]]);
        if len > MAX_CHUNK_LEN {
            return Err(TraceError::Corrupt { offset: at, what: format!("chunk length {len} exceeds the limit") });
        }
        let mut payload = Vec::new();
        (&mut self.input).take(len.into()).read_to_end(&mut payload)?;
        if payload.len() < len as usize {
            return Err(TraceError::Truncated { offset: at });
        }
        if checksum(self.version, &payload) != sum {
            return Err(TraceError::Corrupt {
                offset: at,
                what: format!("checksum mismatch in a chunk of kind {kind}"),
            });
        }
        self.offset = at + FRAME_LEN + u64::from(len);
        decode(kind, payload, at, self.version).map(Some)
    }
}

impl<R: Read> Iterator for TraceReader<R> {
    type Item = Result<Chunk, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.read_chunk().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

fn site(d: &mut Decoder<'_>) -> Result<Site, TraceError> {
    Ok(Site { file: d.str()?, line: d.u32()?, column: d.u32()? })
}

fn lock_kind(d: &mut Decoder<'_>) -> Result<crate::analysis::report::LockKind, TraceError> {
    let code = d.u8()?;
    kind_from_code(code).ok_or_else(|| d.corrupt(format!("unknown lock kind {code}")))
}

fn json<T: serde::de::DeserializeOwned>(d: &mut Decoder<'_>) -> Result<T, TraceError> {
    let bytes = d.rest();
    serde_json::from_slice(bytes).map_err(|e| d.corrupt(format!("bad JSON: {e}")))
}

fn decode(kind: u8, payload: Vec<u8>, offset: u64, version: u16) -> Result<Chunk, TraceError> {
    let mut d = Decoder::new(&payload, offset);
    let chunk = match kind {
        kind::HEADER => Chunk::Header(Header {
            program: d.str()?,
            pid: d.u32()?,
            start_unix_ns: d.varint()?,
            hold_sample: d.u32()?,
            ring_capacity: d.u32()?,
            cwd: if version >= 4 { d.str()? } else { String::new() },
        }),
        kind::THREAD => Chunk::Thread(ThreadDecl { id: d.u32()?, name: d.str()? }),
        kind::CLASS => Chunk::Class(ClassDecl {
            id: d.u32()?,
            label: d.str()?,
            named: d.u8()? != 0,
            kind: lock_kind(&mut d)?,
            rank: d.opt()?,
            site: match d.u8()? {
                0 => None,
                _ => Some(site(&mut d)?),
            },
        }),
        kind::LOCK => Chunk::Lock(LockDecl { id: d.u32()?, class: d.u32()?, kind: lock_kind(&mut d)?, rank: d.opt()? }),
        kind::SITE => Chunk::Site(SiteDecl { id: d.u32()?, site: site(&mut d)? }),
        kind::EVENTS | kind::RAW_EVENTS if kind != kind::RAW_EVENTS || version >= 5 => {
            // Raw events chunks always carry a sequence number; events chunks since version 4.
            let sequence = if version >= 4 { Some(d.varint()?) } else { None };
            let thread = d.u32()?;
            let time_ns = d.varint()?;
            let count = d.varint()?;
            let raw = if kind == kind::RAW_EVENTS {
                let n = d.varint()?;
                // Each id takes at least a byte: a count past that is a lie, not a reservation.
                let mut stacks = Vec::with_capacity(n.min(payload.len() as u64) as usize);
                for _ in 0..n {
                    stacks.push(d.u32()?);
                }
                if d.rest_len() % 8 != 0 {
                    return Err(d.corrupt("raw events that are not whole 64-bit words"));
                }
                Some(stacks)
            } else {
                None
            };
            let start = payload.len() - d.rest().len();
            let batch = EventBatch { sequence, thread, time_ns, count, payload, start, offset, version, raw };
            return Ok(Chunk::Events(batch));
        }
        kind::DROPPED => {
            let n = d.varint()?;
            // Each pair takes at least two bytes: a count past that is a lie, not a reservation.
            let mut out = Vec::with_capacity(n.min(payload.len() as u64 / 2) as usize);
            for _ in 0..n {
                out.push((d.u32()?, d.varint()?));
            }
            Chunk::Dropped(out)
        }
        kind::COUNTERS => {
            let n = d.varint()?;
            let mut out = Vec::with_capacity(n.min(payload.len() as u64 / 4) as usize);
            for _ in 0..n {
                let lock = d.u32()?;
                out.push((
                    lock,
                    LockCounters { acquisitions: d.varint()?, contended: d.varint()?, wait_ns: d.varint()? },
                ));
            }
            Chunk::Counters(out)
        }
        kind::FINDINGS => Chunk::Findings(json(&mut d)?),
        kind::EDGES => Chunk::Edges(json(&mut d)?),
        kind::END => Chunk::End,
        kind::STACK => {
            let id = d.u32()?;
            let n = d.varint()?;
            // Each frame takes at least one byte (its length).
            let mut frames = Vec::with_capacity(n.min(payload.len() as u64) as usize);
            for _ in 0..n {
                frames.push(d.str()?);
            }
            Chunk::Stack(StackDecl { id, frames })
        }
        kind::MODULE => {
            let (id, path, bias) = (d.u32()?, d.str()?, d.varint()?);
            let len = usize::try_from(d.varint()?).unwrap_or(usize::MAX);
            Chunk::Module(ModuleDecl { id, path, bias, build_id: d.bytes(len)?.to_vec() })
        }
        kind::RAW_STACK => {
            let id = d.u32()?;
            let n = d.varint()?;
            // Each frame takes at least two bytes.
            let mut frames = Vec::with_capacity(n.min(payload.len() as u64 / 2) as usize);
            for _ in 0..n {
                let module = d.opt()?;
                frames.push(RawFrame { module, address: d.varint()? });
            }
            Chunk::RawStack(RawStackDecl { id, frames })
        }
        kind::OWN_TIME => Chunk::OwnTime(OwnTime { wait_stacks: d.varint()?, wait_stack_ns: d.varint()? }),
        kind::STRESS => Chunk::Stress(json(&mut d)?),
        other => return Ok(Chunk::Unknown { kind: other, len: payload.len() as u32 }),
    };
    if !d.is_empty() {
        let unread = d.rest().len();
        return Err(d.corrupt(format!("{unread} unread bytes at the end of a chunk of kind {kind}")));
    }
    Ok(chunk)
}

/// One thread's events from one chunk, decoded on iteration.
#[derive(Clone, Debug)]
pub struct EventBatch {
    /// The chunk's place among the file's events chunks (from 0; version 4, `None` before).
    pub sequence: Option<u64>,
    /// The thread that recorded them.
    pub thread: u32,
    /// When the collector took them from the thread's ring, in ns since the trace started.
    pub time_ns: u64,
    /// How many events the batch holds.
    pub count: u64,
    payload: Vec<u8>,
    /// Where the events start in `payload`.
    start: usize,
    /// The chunk's file offset, for errors.
    offset: u64,
    /// The file's format version: version 1 events never carry wait extras.
    version: u16,
    /// For a raw events chunk, the stack ids of its marked waits (see `raw.rs`).
    raw: Option<Vec<u32>>,
}

impl EventBatch {
    /// The events, in the order the thread recorded them.
    pub fn events(&self) -> Events<'_> {
        let d = Decoder::new(&self.payload[self.start..], self.offset);
        let raw = self.raw.as_ref().map(|stacks| RawEvents {
            d: Decoder::new(&self.payload[self.start..], self.offset),
            stacks: stacks.clone().into_iter(),
            pair_release: None,
            recent: Default::default(),
            span: Default::default(),
            copies_left: 0,
        });
        Events { thread: self.thread, d, prev_lock: 0, left: self.count, extras_allowed: self.version >= 2, raw }
    }
}

/// Iterator over an [`EventBatch`]: yields `Err` at most once, then ends.
pub struct Events<'a> {
    thread: u32,
    d: Decoder<'a>,
    prev_lock: u32,
    left: u64,
    /// Whether the format version knows [`code::WAIT_EXTRAS`].
    extras_allowed: bool,
    /// The decoder of a raw events chunk (then `d` and `left` are unused).
    raw: Option<RawEvents<'a>>,
}

impl Events<'_> {
    /// A wait's stack and holder, when the event's first byte says they follow.
    fn wait_extras(&mut self, first: u8) -> Result<(Option<u32>, Option<Holder>), TraceError> {
        if first & code::WAIT_EXTRAS == 0 {
            return Ok((None, None));
        }
        let stack = self.d.opt()?;
        let holder = match self.d.opt()? {
            None => None,
            Some(thread) => Some(Holder { thread, site: self.d.u32()? }),
        };
        Ok((stack, holder))
    }

    fn decode(&mut self) -> Result<Event, TraceError> {
        let first = self.d.u8()?;
        let mode = mode_from_code(first >> 3 & 7).ok_or_else(|| self.d.corrupt("unknown lock mode in an event"))?;
        if first & code::SAME_LOCK == 0 {
            let delta = unzigzag(self.d.varint()?);
            let lock = i64::from(self.prev_lock) + delta;
            self.prev_lock = u32::try_from(lock).map_err(|_| self.d.corrupt("lock id out of range in an event"))?;
        }
        if first & code::WAIT_EXTRAS != 0 && !self.extras_allowed {
            return Err(self.d.corrupt("an event of a version 1 trace sets bit 7"));
        }
        let kind = match first & 7 {
            code::ACQUIRED | code::ACQUIRED_AFTER_WAIT => {
                let site = self.d.u32()?;
                let wait_ns = if first & 7 == code::ACQUIRED { None } else { Some(self.d.varint()?) };
                let (stack, holder) = self.wait_extras(first)?;
                EventKind::Acquired { site, wait_ns, stack, holder }
            }
            code::RELEASED | code::RELEASED_TIMED | code::TRY_FAILED if first & code::WAIT_EXTRAS != 0 => {
                return Err(self.d.corrupt("wait extras on an event that never waits"));
            }
            code::RELEASED => EventKind::Released { hold_ns: None },
            code::RELEASED_TIMED => EventKind::Released { hold_ns: Some(self.d.varint()?) },
            code::TRY_FAILED => EventKind::TryFailed { site: self.d.u32()? },
            code::TIMED_OUT => {
                let (site, wait_ns) = (self.d.u32()?, self.d.varint()?);
                let (stack, holder) = self.wait_extras(first)?;
                EventKind::TimedOut { site, wait_ns, stack, holder }
            }
            other => return Err(self.d.corrupt(format!("unknown event code {other}"))),
        };
        Ok(Event { thread: self.thread, lock: self.prev_lock, mode, kind })
    }
}

impl Iterator for Events<'_> {
    type Item = Result<Event, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(raw) = &mut self.raw {
            let event = raw.next_event(self.thread).transpose();
            if matches!(event, Some(Err(_))) {
                raw.d.rest();
            }
            return event;
        }
        if self.left == 0 {
            return (!self.d.is_empty()).then(|| {
                self.d.rest();
                Err(self.d.corrupt("bytes after the last event of a batch"))
            });
        }
        self.left -= 1;
        let event = self.decode();
        if event.is_err() {
            self.left = 0;
            self.d.rest();
        }
        Some(event)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, usize::try_from(self.left).ok().and_then(|n| n.checked_add(1)))
    }
}
