//! Faulting a ring's memory in ahead of its producer, from the collector's thread.
//!
//! A ring's slots are allocated, not written (`Spsc::new`), so the producer's first lap
//! around them takes a page fault every 512 records: measured in the `peers` bench, 3.6 ns
//! of a 15.8 ns traced lock and unlock (median 12.2 ns with the slots written beforehand).
//! Writing them at the thread's first event would cost that thread a millisecond and 4 MiB
//! at once, and most threads never fill a ring. Instead the collector, which the producer
//! wakes as it enters each eighth of its first lap, asks the kernel to map the next two
//! eighths (`MADV_POPULATE_WRITE`, Linux 5.14): the same faults, taken on lockcheck's thread,
//! and only for threads that record that much. It maps pages without writing them, so it is
//! safe while the producer writes records into the same pages.

/// Maps the pages that lie wholly inside `len` bytes at `start` for writing, without writing
/// them. Returns `false` where the system cannot (not Linux, or a kernel older than 5.14):
/// the producer then takes the faults itself, as before.
pub(super) fn populate(start: *const u8, len: usize) -> bool {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let skip = start.addr().next_multiple_of(PAGE) - start.addr();
        let pages = len.saturating_sub(skip) / PAGE * PAGE;
        if pages == 0 {
            return true;
        }
        // SAFETY: the range lies within the caller's live allocation (`skip + pages <= len`),
        // and MADV_POPULATE_WRITE only faults its pages in: it changes no byte of them, so
        // records the producer writes meanwhile are kept.
        let done =
            unsafe { libc::madvise(start.wrapping_add(skip).cast_mut().cast(), pages, libc::MADV_POPULATE_WRITE) };
        done == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (start, len);
        false
    }
}
