//! The primitive encodings of the trace format: LEB128 varints, zigzag deltas, length-prefixed
//! strings, and the checksum that guards every chunk.
//!
//! Decoding works on one chunk's payload, already read and checksummed: every failure is a
//! [`TraceError::Corrupt`] at the chunk's file offset.

use super::TraceError;

/// Appends `value` as an unsigned LEB128 varint (1 byte below 128, at most 10).
#[inline]
pub(crate) fn put_varint(buf: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        buf.push(value as u8 | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

/// Writes `value` as a varint into `buf` at `at` and returns where it ends (panics when `buf`
/// is too short: callers size it for their largest value).
#[inline]
pub(crate) fn put_varint_at(buf: &mut [u8], mut at: usize, mut value: u64) -> usize {
    while value >= 0x80 {
        buf[at] = value as u8 | 0x80;
        value >>= 7;
        at += 1;
    }
    buf[at] = value as u8;
    at + 1
}

/// Zigzag encoding: small negative and positive deltas both become small varints.
#[inline]
pub(crate) fn zigzag(delta: i64) -> u64 {
    ((delta << 1) ^ (delta >> 63)) as u64
}

#[inline]
pub(crate) fn unzigzag(value: u64) -> i64 {
    (value >> 1) as i64 ^ -((value & 1) as i64)
}

/// Appends a varint length and the UTF-8 bytes.
pub(crate) fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_varint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

/// An optional `u32` as a varint, 0 meaning `None`.
pub(crate) fn put_opt(buf: &mut Vec<u8>, value: Option<u32>) {
    put_varint(buf, opt_code(value));
}

/// The value [`put_opt`] writes for `value`.
#[inline]
pub(crate) fn opt_code(value: Option<u32>) -> u64 {
    value.map_or(0, |v| u64::from(v) + 1)
}

/// A chunk's checksum in format `version`: a guard against torn or flipped bytes, not against
/// tampering. CRC-32 (IEEE) from version 3: `crc32fast` computes it with carry-less
/// multiplication many bytes at a time, where the byte-serial FNV-1a of versions 1 and 2 took
/// a third of the collector's time in tight loops.
pub(crate) fn checksum(version: u16, bytes: &[u8]) -> u32 {
    match version {
        ..=2 => fnv1a(bytes),
        _ => crc32fast::hash(bytes),
    }
}

/// 32-bit FNV-1a, the checksum of format versions 1 and 2.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, &b| (hash ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// Reads one chunk's payload.
pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The chunk's offset in the file, for errors.
    offset: u64,
}

impl<'a> Decoder<'a> {
    pub fn new(bytes: &'a [u8], offset: u64) -> Decoder<'a> {
        Decoder { bytes, pos: 0, offset }
    }

    pub fn is_empty(&self) -> bool {
        self.pos == self.bytes.len()
    }

    pub fn corrupt(&self, what: impl Into<String>) -> TraceError {
        TraceError::Corrupt { offset: self.offset, what: what.into() }
    }

    pub fn u8(&mut self) -> Result<u8, TraceError> {
        let b = *self.bytes.get(self.pos).ok_or_else(|| self.corrupt("chunk ends inside a field"))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn varint(&mut self) -> Result<u64, TraceError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.corrupt("varint longer than 10 bytes"))
    }

    pub fn u32(&mut self) -> Result<u32, TraceError> {
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| self.corrupt(format!("value {v} does not fit 32 bits")))
    }

    pub fn opt(&mut self) -> Result<Option<u32>, TraceError> {
        Ok(match self.varint()? {
            0 => None,
            v => Some(u32::try_from(v - 1).map_err(|_| self.corrupt("optional value does not fit 32 bits"))?),
        })
    }

    pub fn bytes(&mut self, len: usize) -> Result<&'a [u8], TraceError> {
        let end = self.pos.checked_add(len).filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| self.corrupt("a length runs past the end of its chunk"))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// How many bytes are left to read.
    pub fn rest_len(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// The next `len` bytes, left unread; `None` when fewer remain.
    pub fn peek(&self, len: usize) -> Option<&'a [u8]> {
        self.bytes.get(self.pos..self.pos.checked_add(len)?)
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.bytes[self.pos..];
        self.pos = self.bytes.len();
        out
    }

    pub fn str(&mut self) -> Result<String, TraceError> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| self.corrupt("string length overflows"))?;
        let bytes = self.bytes(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.corrupt("string is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_their_boundaries() {
        let values = [0, 1, 127, 128, 16_383, 16_384, u64::from(u32::MAX), u64::MAX];
        let mut buf = Vec::new();
        for &v in &values {
            put_varint(&mut buf, v);
        }
        let mut d = Decoder::new(&buf, 0);
        for &v in &values {
            assert_eq!(d.varint().unwrap(), v);
        }
        assert!(d.is_empty());
        assert_eq!(buf[..3], [0, 1, 127]);

        let mut at_buf = vec![0xaa; buf.len() + 1];
        let end = values.iter().fold(0, |at, &v| put_varint_at(&mut at_buf, at, v));
        assert_eq!((end, &at_buf[..end]), (buf.len(), &buf[..]));
        assert_eq!(at_buf[end], 0xaa, "nothing written past the end");
    }

    #[test]
    fn zigzag_keeps_small_deltas_small() {
        for delta in [0i64, -1, 1, -64, 63, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(delta)), delta);
        }
        assert!(zigzag(-1) < 128 && zigzag(63) < 128);
    }

    #[test]
    fn overlong_and_short_fields_are_corrupt_not_panics() {
        let mut d = Decoder::new(&[0xff; 11], 7);
        assert!(matches!(d.varint(), Err(TraceError::Corrupt { offset: 7, .. })));
        let mut d = Decoder::new(&[5, b'a'], 0);
        assert!(matches!(d.str(), Err(TraceError::Corrupt { .. })));
        let mut d = Decoder::new(&[0x80, 0x80, 0x80, 0x80, 0x10], 0);
        assert!(d.u32().is_err(), "2^32 does not fit");
    }
}
