//! The clock of sampled holds: the processor's time-stamp counter where it is invariant,
//! converted to nanoseconds by the collector, not by the thread that read it.
//!
//! A sampled hold reads the clock twice, at its acquisition and at its release. `Instant::now`
//! costs 28 ns on the VMs lockcheck is measured on and `rdtsc` 11 ns (DESIGN.md, §7); in the
//! `peers` bench, timing one hold in 64 cost 1.2 ns per lock and unlock with `Instant` and
//! 0.6 ns with the counter. The counter's ticks go into the ring as they are; the collector
//! scales each hold sample's ticks to nanoseconds with a rate it measures itself, against
//! `Instant`, over its whole life so far ([`Rate`]). Where the counter is not invariant
//! (it could change speed or stop with the core), or on other architectures, the clock is
//! `Instant` and a tick is a nanosecond.

use std::sync::OnceLock;
use std::time::Instant;

/// Where the clock counts from, and whether it is the time-stamp counter.
struct Source {
    tsc: bool,
    /// The counter's value and the `Instant` read together when the clock was first used.
    start_ticks: u64,
    start: Instant,
}

static SOURCE: OnceLock<Source> = OnceLock::new();

fn source() -> &'static Source {
    SOURCE.get_or_init(|| {
        let tsc = invariant_tsc();
        let start = Instant::now();
        Source { tsc, start_ticks: if tsc { read_tsc() } else { 0 }, start }
    })
}

/// Starts the clock (decides its source and notes where it counts from). The collector calls
/// this when it starts, so that no recording thread pays for it.
pub(crate) fn start() {
    source();
}

/// The clock now, in ticks; never 0 (a hold start of 0 means "not timed").
#[inline]
pub(crate) fn now() -> u64 {
    let source = source();
    if source.tsc {
        read_tsc().max(1)
    } else {
        u64::try_from(source.start.elapsed().as_nanos()).unwrap_or(u64::MAX).max(1)
    }
}

/// Nanoseconds per tick, as measured from when the clock started until the moment it was
/// made: the longer the clock has run, the closer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rate(f64);

impl Rate {
    /// The rate measured up to now.
    pub(crate) fn measure() -> Rate {
        let source = source();
        if !source.tsc {
            return Rate(1.0);
        }
        let nanos = source.start.elapsed().as_nanos() as f64;
        let ticks = read_tsc().wrapping_sub(source.start_ticks) as f64;
        // Too soon to tell (under a microsecond since the start): any hold sampled yet is
        // shorter than that; the counter of a 1 GHz or faster processor ticks at least once a
        // nanosecond.
        if nanos < 1_000.0 || ticks <= 0.0 {
            return Rate(1.0);
        }
        Rate(nanos / ticks)
    }

    /// A span of `ticks` in nanoseconds.
    pub(crate) fn nanos(self, ticks: u64) -> u64 {
        (ticks as f64 * self.0) as u64
    }
}

#[cfg(target_arch = "x86_64")]
fn read_tsc() -> u64 {
    // SAFETY: `rdtsc` exists on every x86_64 processor and only reads the counter.
    unsafe { std::arch::x86_64::_rdtsc() }
}

#[cfg(not(target_arch = "x86_64"))]
fn read_tsc() -> u64 {
    0
}

/// Whether the time-stamp counter runs at a constant rate in every power state (CPUID leaf
/// 0x8000_0007, EDX bit 8: "invariant TSC").
fn invariant_tsc() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::__cpuid;
        // Leaf 0x8000_0000 gives the highest extended leaf, checked before 0x8000_0007.
        let highest = __cpuid(0x8000_0000).eax;
        highest >= 0x8000_0007 && __cpuid(0x8000_0007).edx & (1 << 8) != 0
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_of_ticks_scales_to_the_nanoseconds_it_lasted() {
        start();
        let (from, at) = (now(), Instant::now());
        std::thread::sleep(std::time::Duration::from_millis(20));
        let (ticks, nanos) = (now() - from, at.elapsed().as_nanos() as f64);
        let measured = Rate::measure().nanos(ticks) as f64;
        assert!((measured - nanos).abs() < nanos * 0.05, "{measured} ns measured, {nanos} ns passed");
    }
}
