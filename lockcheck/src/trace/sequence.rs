//! The numbering of events chunks (format version 4): each carries its place in the file's
//! run of events chunks, 0, 1, 2, …, so that a reader counts a chunk that appears twice once
//! (a copy with a valid checksum would otherwise add its events twice) and knows when chunks
//! are missing between the ones it read. A chunk that comes late, after a later one, fills
//! its gap: it is neither missing nor a duplicate.

/// What a reader saw of the events chunks' numbers so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sequence {
    /// One past the highest number seen.
    next: u64,
    /// Numbers below `next` not seen yet, as half-open ranges.
    gaps: Vec<(u64, u64)>,
    /// Chunks whose number was seen before.
    duplicates: u64,
}

impl Sequence {
    /// Takes note of the chunk numbered `n`; says whether it is new (a duplicate is not).
    pub fn admit(&mut self, n: u64) -> bool {
        if n >= self.next {
            if n > self.next {
                self.gaps.push((self.next, n));
            }
            self.next = n.saturating_add(1);
            return true;
        }
        let Some(i) = self.gaps.iter().position(|&(from, to)| (from..to).contains(&n)) else {
            self.duplicates += 1;
            return false;
        };
        let (from, to) = self.gaps.swap_remove(i);
        if from < n {
            self.gaps.push((from, n));
        }
        if n + 1 < to {
            self.gaps.push((n + 1, to));
        }
        true
    }

    /// Chunks read more than once (each counted once).
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Chunks missing below the highest number read.
    pub fn missing(&self) -> u64 {
        self.gaps.iter().map(|&(from, to)| to - from).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::Sequence;

    fn read(numbers: &[u64]) -> (Vec<bool>, u64, u64) {
        let mut seq = Sequence::default();
        let admitted = numbers.iter().map(|&n| seq.admit(n)).collect();
        (admitted, seq.duplicates(), seq.missing())
    }

    #[test]
    fn in_order_is_clean() {
        assert_eq!(read(&[0, 1, 2, 3]), (vec![true; 4], 0, 0));
    }

    #[test]
    fn a_repeat_is_a_duplicate_and_not_admitted() {
        assert_eq!(read(&[0, 1, 1, 2, 0]), (vec![true, true, false, true, false], 2, 0));
    }

    #[test]
    fn skipped_numbers_are_missing() {
        assert_eq!(read(&[0, 3, 4, 9]), (vec![true; 4], 0, 2 + 4));
    }

    #[test]
    fn a_late_chunk_fills_its_gap() {
        assert_eq!(read(&[0, 2, 1, 5, 3]), (vec![true; 5], 0, 1));
        assert_eq!(read(&[0, 2, 1, 1]), (vec![true, true, true, false], 1, 0));
    }

    #[test]
    fn the_largest_number_does_not_overflow() {
        assert_eq!(read(&[u64::MAX, 0, u64::MAX - 1]).1, 0);
    }
}
