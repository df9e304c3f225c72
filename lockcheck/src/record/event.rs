//! The fixed-size record a thread writes into its ring for each lock event.
//!
//! Sixteen bytes, packed into two words so that a push is two stores; declarations (threads,
//! locks, classes) are not events: the collector reads them from the registry. Sites travel
//! as their `&'static Location` address and are interned by the collector when it writes the
//! trace.

use std::panic::Location;

use crate::analysis::report::Mode;
use crate::trace::mode_code;

/// What a ring record says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// Acquired; payload: the site. Followed by `Wait` (after `Holder`, if any) when the
    /// acquisition was contended.
    Acquired,
    /// The wait of the `Acquired` or `TimedOut` record before it; payload: nanoseconds; mode:
    /// [`STACK_PENDING`] when the wait's stack went into the ring's stack queue.
    Wait,
    /// Who held the lock when the wait between the records around it began; lock: the
    /// holder's thread id (not a lock id); payload: the holder's site.
    Holder,
    /// Released; no payload.
    Released,
    /// Released, and this hold was timed; payload: the hold in nanoseconds.
    HoldSample,
    /// A `try_lock` failed; payload: the site.
    TryFailed,
    /// A timed acquisition gave up; payload: the site. Always followed by `Wait` (after
    /// `Holder`, if any).
    TimedOut,
}

/// The mode byte of a `Wait` record whose stack waits in its ring's stack queue (the other
/// `Wait` records have 0: their mode is the acquisition's).
pub(crate) const STACK_PENDING: u8 = 1;

/// One ring record.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(crate) struct Event {
    pub lock: u32,
    pub kind: Kind,
    /// The trace's mode code (see `trace::mode_code`).
    pub mode: u8,
    pub payload: u64,
}

const _: () = assert!(std::mem::size_of::<Event>() == 16);

/// An [`Event`] as the ring stores it: the lock, kind and mode in the first word (bits 0–31,
/// 32–39 and 40–47), the payload in the second. Built in registers and written with two
/// stores, where the struct's fields would take three or four.
pub(crate) type Record = [u64; 2];

impl Kind {
    /// Every kind, indexed by its discriminant.
    const ALL: [Kind; 7] =
        [Kind::Acquired, Kind::Wait, Kind::Holder, Kind::Released, Kind::HoldSample, Kind::TryFailed, Kind::TimedOut];
}

const _: () = {
    let mut i = 0;
    while i < Kind::ALL.len() {
        assert!(Kind::ALL[i] as usize == i);
        i += 1;
    }
};

impl Event {
    #[inline]
    fn at(lock: u32, kind: Kind, mode: Mode, site: &'static Location<'static>) -> Event {
        let payload = site as *const Location<'static> as usize as u64;
        Event { lock, kind, mode: mode_code(mode), payload }
    }

    #[inline]
    pub fn acquired(lock: u32, mode: Mode, site: &'static Location<'static>) -> Event {
        Event::at(lock, Kind::Acquired, mode, site)
    }

    #[inline]
    pub fn try_failed(lock: u32, mode: Mode, site: &'static Location<'static>) -> Event {
        Event::at(lock, Kind::TryFailed, mode, site)
    }

    #[inline]
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

    #[inline]
    pub fn released(lock: u32, mode: Mode) -> Event {
        Event { lock, kind: Kind::Released, mode: mode_code(mode), payload: 0 }
    }

    #[inline]
    pub fn hold_sample(lock: u32, mode: Mode, nanos: u64) -> Event {
        Event { lock, kind: Kind::HoldSample, mode: mode_code(mode), payload: nanos }
    }

    /// This event packed for the ring.
    #[inline(always)]
    pub fn to_record(self) -> Record {
        [u64::from(self.lock) | u64::from(self.kind as u8) << 32 | u64::from(self.mode) << 40, self.payload]
    }

    /// The event a [`Record`] holds; `None` for a record [`to_record`](Self::to_record) did
    /// not make.
    #[inline(always)]
    pub fn from_record([head, payload]: Record) -> Option<Event> {
        let kind = *Kind::ALL.get(usize::from((head >> 32) as u8))?;
        Some(Event { lock: head as u32, kind, mode: (head >> 40) as u8, payload })
    }

    /// The site of an `Acquired`, `TryFailed`, `TimedOut` or `Holder` record.
    pub fn site(&self) -> &'static Location<'static> {
        debug_assert!(matches!(self.kind, Kind::Acquired | Kind::TryFailed | Kind::TimedOut | Kind::Holder));
        let ptr = self.payload as usize as *const Location<'static>;
        // SAFETY: records of these kinds are only built by `Event::at` and `Event::holder`,
        // whose payload is the address of a `&'static Location`; it stays valid for the whole
        // process.
        unsafe { &*ptr }
    }
}
