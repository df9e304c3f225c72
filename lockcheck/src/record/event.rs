//! The record a thread writes into its ring for each lock event.
//!
//! One 64-bit word: the lock (bits 0–31), the kind (32–34), the mode (35–37) and, for the
//! kinds that have one, the site (38–63). A push is one store. The collector copies the words
//! into the trace as they are, so their layout is the trace format's (`trace/raw.rs`); this
//! module builds them. A lock taken and released with
//! nothing recorded in between — nearly every hold of a busy loop — is one [`Kind::Pair`]
//! record: the recorder keeps an acquisition back until the thread's next event and merges
//! it with its release (`ring.rs`).
//!
//! A site is its `&'static Location`'s distance from [`site_base`] in 8-byte units (a
//! `Location` is 8-aligned), 26 bits with the sign: ±256 MiB, which every location of one
//! executable fits. A site farther away (a location in another shared object) is
//! [`SITE_FAR`] and the next word holds its address. Nanoseconds never fit: `Wait` and
//! `HoldSample` records are always followed by a word holding them. Such a following word is
//! an *extension*; the collector copies both (`runtime/collector/records.rs`). Declarations
//! (threads, locks, classes) are not events: the collector reads them from the registry.

use std::panic::Location;

use crate::analysis::report::Mode;
use crate::trace::mode_code;
use crate::trace::raw::{self, code, KIND_SHIFT, MODE_SHIFT, SITE_FAR, SITE_SHIFT};

/// What a ring record says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// Acquired; site: where. Followed by `Wait` (after `Holder`, if any) when the
    /// acquisition was contended.
    Acquired,
    /// Released.
    Released,
    /// Acquired without waiting at the site, and released before the thread's next event.
    Pair,
    /// Released, and this hold was timed; extension: the hold in nanoseconds.
    HoldSample,
    /// The wait of the `Acquired` or `TimedOut` record before it; extension: nanoseconds;
    /// mode: [`STACK_PENDING`] when the wait's stack went into the ring's stack queue.
    Wait,
    /// Who held the lock when the wait between the records around it began; lock: the
    /// holder's thread id (not a lock id); site: the holder's.
    Holder,
    /// A `try_lock` failed; site: where.
    TryFailed,
    /// A timed acquisition gave up; site: where. Always followed by `Wait` (after `Holder`,
    /// if any).
    TimedOut,
}

/// The mode field of a `Wait` record whose stack waits in its ring's stack queue (the other
/// `Wait` records have 0: their mode is the acquisition's).
pub(crate) const STACK_PENDING: u8 = raw::STACK_PENDING;

/// One ring word.
pub(crate) type Record = u64;

/// The bits of a record that hold the lock and the mode.
const LOCK_AND_MODE: Record = ((1 << KIND_SHIFT) - 1) | (7 << MODE_SHIFT);

/// Whether `held_back` is the `Acquired` record of the hold that the `Released` record
/// `released` ends (same lock, same mode).
#[inline(always)]
pub(crate) fn pairs_with(held_back: Record, released: Record) -> bool {
    let acquired = released & LOCK_AND_MODE | (Kind::Acquired as u64) << KIND_SHIFT;
    held_back & (LOCK_AND_MODE | 7 << KIND_SHIFT) == acquired
}

/// The `Pair` record of an `Acquired` record and its release.
#[inline(always)]
pub(crate) fn pair(acquired: Record) -> Record {
    // An `Acquired` record's kind bits are 0.
    debug_assert_eq!(raw::kind(acquired), code::ACQUIRED);
    acquired | (Kind::Pair as u64) << KIND_SHIFT
}

/// A decoded ring record. `payload` is the site's address or the nanoseconds of an
/// extension, once that word is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    pub lock: u32,
    pub kind: Kind,
    /// The trace's mode code (see `trace::mode_code`).
    pub mode: u8,
    pub payload: u64,
}

impl Kind {
    /// Every kind, indexed by its discriminant.
    const ALL: [Kind; 8] = [
        Kind::Acquired,
        Kind::Released,
        Kind::Pair,
        Kind::HoldSample,
        Kind::Wait,
        Kind::Holder,
        Kind::TryFailed,
        Kind::TimedOut,
    ];

    /// Whether records of this kind name a site.
    #[inline(always)]
    fn has_site(self) -> bool {
        raw::has_site(self as u8)
    }
}

const _: () = {
    let mut i = 0;
    while i < Kind::ALL.len() {
        assert!(Kind::ALL[i] as usize == i);
        i += 1;
    }
    assert!(Kind::ALL.len() == 1 << (MODE_SHIFT - KIND_SHIFT));
    // The trace's codes are the kinds' discriminants.
    assert!(Kind::Acquired as u8 == code::ACQUIRED && Kind::Released as u8 == code::RELEASED);
    assert!(Kind::Pair as u8 == code::PAIR && Kind::HoldSample as u8 == code::HOLD_SAMPLE);
    assert!(Kind::Wait as u8 == code::WAIT && Kind::Holder as u8 == code::HOLDER);
    assert!(Kind::TryFailed as u8 == code::TRY_FAILED && Kind::TimedOut as u8 == code::TIMED_OUT);
};

/// The address sites are measured from: a static of this crate that holds a pointer, as a
/// `Location` does, so in the same executable and section as the locations of the code that
/// takes the locks when lockcheck is linked statically (the usual case). Its own address,
/// not its value: one PC-relative `lea`, no load.
#[inline(always)]
pub(crate) fn site_base() -> usize {
    static ANCHOR: &Location<'static> = Location::caller();
    std::ptr::addr_of!(ANCHOR).addr()
}

/// The site code of the `Location` at `address`: its distance from [`site_base`] in 8-byte units, or
/// [`SITE_FAR`].
#[inline(always)]
fn site_code(address: u64) -> i32 {
    let distance = (address as usize).wrapping_sub(site_base()) as isize;
    let units = distance >> 3;
    // The distance must be a whole number of units, so that a code decodes to exactly the
    // address: a `Location` (a pointer and two `u32`s) is 8-aligned on 64-bit targets, which
    // the type promises, so the check costs nothing there.
    let exact = std::mem::align_of::<Location<'static>>() >= 8 || distance & 7 == 0;
    if units > SITE_FAR as isize && units < -(SITE_FAR as isize) && exact {
        units as i32
    } else {
        SITE_FAR
    }
}

impl Event {
    /// A record of `kind` at `site`.
    #[inline(always)]
    fn at(lock: u32, kind: Kind, mode: Mode, site: &'static Location<'static>) -> Event {
        Event { lock, kind, mode: mode_code(mode), payload: site as *const Location<'static> as usize as u64 }
    }

    #[inline(always)]
    pub fn acquired(lock: u32, mode: Mode, site: &'static Location<'static>) -> Event {
        Event::at(lock, Kind::Acquired, mode, site)
    }

    #[inline(always)]
    pub fn try_failed(lock: u32, mode: Mode, site: &'static Location<'static>) -> Event {
        Event::at(lock, Kind::TryFailed, mode, site)
    }

    #[inline(always)]
    pub fn timed_out(lock: u32, mode: Mode, site: &'static Location<'static>) -> Event {
        Event::at(lock, Kind::TimedOut, mode, site)
    }

    /// The wait qualifying the record pushed with it; `stack`: its stack was queued.
    #[inline]
    pub fn wait(lock: u32, nanos: u64, stack: bool) -> Event {
        Event { lock, kind: Kind::Wait, mode: if stack { STACK_PENDING } else { 0 }, payload: nanos }
    }

    /// Thread `tid` held the lock at `site` when the wait began.
    #[inline]
    pub fn holder(tid: u32, site: &'static Location<'static>) -> Event {
        Event { lock: tid, kind: Kind::Holder, mode: 0, payload: site as *const Location<'static> as usize as u64 }
    }

    #[inline(always)]
    pub fn released(lock: u32, mode: Mode) -> Event {
        Event { lock, kind: Kind::Released, mode: mode_code(mode), payload: 0 }
    }

    /// A timed release: the hold lasted `ticks` of the hold clock (`clock.rs`); the collector
    /// writes it to the trace in nanoseconds.
    #[inline]
    pub fn hold_sample(lock: u32, mode: Mode, ticks: u64) -> Event {
        Event { lock, kind: Kind::HoldSample, mode: mode_code(mode), payload: ticks }
    }

    /// This event as ring words: the record, and its extension if it has one.
    #[inline(always)]
    pub fn to_words(self) -> (Record, Option<u64>) {
        let head = u64::from(self.lock) | u64::from(self.kind as u8) << KIND_SHIFT | u64::from(self.mode) << MODE_SHIFT;
        if self.kind.has_site() {
            let code = site_code(self.payload);
            let word = head | ((code as u64) << SITE_SHIFT);
            (word, (code == SITE_FAR).then_some(self.payload))
        } else if matches!(self.kind, Kind::Wait | Kind::HoldSample) {
            (head, Some(self.payload))
        } else {
            (head, None)
        }
    }

    /// The event a record holds, its payload complete unless an extension word follows it
    /// (`Wait` and `HoldSample` records, and far sites, whose payload is that word).
    #[inline(always)]
    pub fn from_record(record: Record) -> Event {
        let kind = Kind::ALL[usize::from(raw::kind(record))];
        let mode = raw::mode(record);
        let payload = if kind.has_site() {
            let code = raw::site_code(record);
            if code == SITE_FAR {
                0
            } else {
                site_base().wrapping_add_signed((code as isize) << 3) as u64
            }
        } else {
            0
        };
        Event { lock: record as u32, kind, mode, payload }
    }

    /// Whether the next ring word is this record's extension (see the module docs).
    #[cfg(test)]
    pub fn needs_extension(record: Record) -> bool {
        let kind = Kind::ALL[usize::from(raw::kind(record))];
        match kind {
            Kind::Wait | Kind::HoldSample => true,
            _ => kind.has_site() && raw::site_code(record) == SITE_FAR,
        }
    }

    /// This event completed by its extension word.
    #[cfg(test)]
    pub fn extend(self, word: u64) -> Event {
        Event { payload: word, ..self }
    }

    /// The site a far site's extension word holds (a ring word the recorder wrote after a
    /// record whose site is [`SITE_FAR`]).
    pub fn far_site(extension: u64) -> &'static Location<'static> {
        Event { lock: 0, kind: Kind::Acquired, mode: 0, payload: extension }.site()
    }

    /// The site of an `Acquired`, `Pair`, `TryFailed`, `TimedOut` or `Holder` record.
    pub fn site(&self) -> &'static Location<'static> {
        debug_assert!(self.kind.has_site());
        let ptr = self.payload as usize as *const Location<'static>;
        // SAFETY: records of these kinds are only built by `Event::at` and `Event::holder`,
        // whose payload is the address of a `&'static Location`, and `from_record`, `extend`
        // and `far_site` (given a far site's extension word, which `to_words` made from it)
        // give back exactly that address (an in-range code is the address's exact
        // distance from `site_base`, a far one comes whole in the extension). It stays valid
        // for the whole process.
        unsafe { &*ptr }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(event: Event) -> Event {
        let (word, extension) = event.to_words();
        assert_eq!(Event::needs_extension(word), extension.is_some());
        let decoded = Event::from_record(word);
        match extension {
            Some(extension) => decoded.extend(extension),
            None => decoded,
        }
    }

    #[test]
    fn every_kind_reads_back_as_written() {
        let here = Location::caller();
        let events = [
            Event::acquired(7, Mode::Shared, here),
            Event { kind: Kind::Pair, ..Event::acquired(u32::MAX, Mode::Permit, here) },
            Event::released(3, Mode::Upgradable),
            Event::hold_sample(3, Mode::Exclusive, u64::MAX - 1),
            Event::wait(9, 123_456_789_012, true),
            Event::holder(2, here),
            Event::try_failed(4, Mode::SharedRecursive, here),
            Event::timed_out(5, Mode::Exclusive, here),
        ];
        for event in events {
            assert_eq!(round_trip(event), event);
        }
        assert!(std::ptr::eq(round_trip(Event::acquired(1, Mode::Exclusive, here)).site(), here));
    }

    #[test]
    fn a_release_pairs_only_with_its_own_acquisition() {
        let here = Location::caller();
        let (acquired, _) = Event::acquired(7, Mode::Shared, here).to_words();
        let (released, _) = Event::released(7, Mode::Shared).to_words();
        assert!(pairs_with(acquired, released));
        let paired = Event::from_record(pair(acquired));
        assert_eq!(paired, Event { kind: Kind::Pair, ..Event::acquired(7, Mode::Shared, here) });
        for (other, _) in [Event::released(8, Mode::Shared).to_words(), Event::released(7, Mode::Exclusive).to_words()]
        {
            assert!(!pairs_with(acquired, other));
        }
        let (try_failed, _) = Event::try_failed(7, Mode::Shared, here).to_words();
        assert!(!pairs_with(try_failed, released));
    }

    #[test]
    fn a_site_far_from_the_base_travels_whole_in_an_extension() {
        // Past the code's range either way: far. Near the base: a code.
        let base = site_base() as u64;
        for far in [base.wrapping_add(1 << 40), base.wrapping_sub(1 << 40), base + (1 << 28)] {
            assert_eq!(site_code(far), SITE_FAR, "{far:#x}");
        }
        assert_eq!(site_code(base + 8 * 5), 5);
        assert_eq!(site_code(base - 8 * 5), -5);
        // Every `Location` is 8-aligned here, so no address has to be checked for it.
        assert!(std::mem::align_of::<Location<'static>>() >= 8);
        // A `Location` on the heap: far or near depending on where the heap lies; either way
        // it reads back as the same `Location`, whole in an extension when far.
        let leaked: &'static Location<'static> = Box::leak(Box::new(*Location::caller()));
        let event = Event::acquired(1, Mode::Exclusive, leaked);
        let (word, extension) = event.to_words();
        let address = leaked as *const Location<'static> as usize as u64;
        assert_eq!(extension.is_some(), raw::site_code(word) == SITE_FAR);
        assert_eq!(extension.is_some(), site_code(address) == SITE_FAR);
        if let Some(extension) = extension {
            assert_eq!(extension, address);
        }
        assert!(std::ptr::eq(round_trip(event).site(), leaked));
    }
}
