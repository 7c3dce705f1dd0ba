//! Per-thread latency histogram that other threads can read while it is being written.
//!
//! `hdrhistogram::Histogram` is the histogram everything downstream uses (percentiles, merging,
//! serialization), but its counters are plain integers: a snapshot taken while a thread records
//! would be a data race, and making the owner hand copies over would lose the counts of threads
//! that sit idle (a parked pool worker never answers). So the hot path keeps HDR's bucket layout
//! with atomic counters written only by the owning thread (a relaxed load and store: a plain
//! `mov` on x86, no lock prefix), and a snapshot converts it into an `hdrhistogram::Histogram`.
//!
//! Layout: values below 256 get one slot each; above, each power of two is split into 128 slots,
//! so every slot is at most 1/128 (0.8%) of its value wide: the precision of an HDR histogram
//! with two significant digits. A power of two's slots are allocated the first time a value falls
//! in it, so a function whose calls all take about the same time costs a few hundred bytes.

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering::*};

const SUB_BITS: u32 = 7;
const HALF: usize = 1 << SUB_BITS; // 128 slots per power of two
const FIRST: usize = 2 * HALF; // 256 slots for values 0..256
const CHUNKS: usize = 64 - SUB_BITS as usize; // chunk 0 plus one per power of two from 2^8 on

/// Bytes a histogram costs before anything is recorded.
pub const EMPTY_BYTES: usize = std::mem::size_of::<AtomicHist>();

/// Bytes a histogram costs at most, with every range of durations allocated.
pub const MAX_BYTES: usize = EMPTY_BYTES + (FIRST + (CHUNKS - 1) * HALF) * 8;

/// Atomic-counter histogram in HDR layout. Written by one thread, readable by any.
pub struct AtomicHist {
    chunks: [AtomicPtr<AtomicU64>; CHUNKS],
}

#[inline(always)]
fn locate(v: u64) -> (usize, usize) {
    if v < FIRST as u64 {
        (0, v as usize)
    } else {
        let msb = 63 - v.leading_zeros(); // >= 8
        let shift = msb - SUB_BITS;
        let chunk = (shift) as usize; // 1 for [256, 512)
        let slot = ((v >> shift) as usize) - HALF;
        (chunk, slot)
    }
}

#[inline]
fn chunk_len(chunk: usize) -> usize {
    if chunk == 0 { FIRST } else { HALF }
}

/// Lowest value of a slot and the slot's width.
fn slot_range(chunk: usize, slot: usize) -> (u64, u64) {
    if chunk == 0 {
        (slot as u64, 1)
    } else {
        (((HALF + slot) as u64) << chunk, 1u64 << chunk)
    }
}

impl Default for AtomicHist {
    fn default() -> Self {
        AtomicHist {
            chunks: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
        }
    }
}

impl AtomicHist {
    /// Counts one value. Only the owning thread may call this.
    #[inline(always)]
    pub fn record(&self, v: u64) {
        let (c, s) = locate(v);
        let mut p = self.chunks[c].load(Acquire);
        if p.is_null() {
            p = self.grow(c);
        }
        // SAFETY: `p` points at a live array of `chunk_len(c)` counters (allocated in `grow`,
        // freed only in `drop`), and `s < chunk_len(c)` by construction of `locate`.
        let cell = unsafe { &*p.add(s) };
        cell.store(cell.load(Relaxed) + 1, Relaxed);
    }

    /// Counts `n` occurrences of one value. Only the owning thread may call this.
    #[inline(always)]
    pub fn record_n(&self, v: u64, n: u64) {
        let (c, s) = locate(v);
        let mut p = self.chunks[c].load(Acquire);
        if p.is_null() {
            p = self.grow(c);
        }
        // SAFETY: as in `record`.
        let cell = unsafe { &*p.add(s) };
        cell.store(cell.load(Relaxed) + n, Relaxed);
    }

    #[cold]
    #[inline(never)]
    fn grow(&self, c: usize) -> *mut AtomicU64 {
        // The recorder's own memory is not the program's.
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        let b: Box<[AtomicU64]> = (0..chunk_len(c)).map(|_| AtomicU64::new(0)).collect();
        let p = Box::into_raw(b) as *mut AtomicU64;
        self.chunks[c].store(p, Release);
        p
    }

    /// Calls `f(low, width, count)` for every non-empty slot, in ascending order.
    pub fn for_each(&self, mut f: impl FnMut(u64, u64, u64)) {
        for (c, ptr) in self.chunks.iter().enumerate() {
            let p = ptr.load(Acquire);
            if p.is_null() {
                continue;
            }
            for s in 0..chunk_len(c) {
                // SAFETY: as in `record`.
                let n = unsafe { &*p.add(s) }.load(Relaxed);
                if n > 0 {
                    let (low, width) = slot_range(c, s);
                    f(low, width, n);
                }
            }
        }
    }

    /// Bytes this histogram currently holds.
    pub fn bytes(&self) -> usize {
        let mut n = EMPTY_BYTES;
        for (c, ptr) in self.chunks.iter().enumerate() {
            if !ptr.load(Acquire).is_null() {
                n += chunk_len(c) * 8;
            }
        }
        n
    }
}

impl Drop for AtomicHist {
    fn drop(&mut self) {
        for (c, ptr) in self.chunks.iter_mut().enumerate() {
            let p = *ptr.get_mut();
            if !p.is_null() {
                // SAFETY: `p` came from `Box::into_raw` of a boxed slice of `chunk_len(c)`.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, chunk_len(c))) });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_cover_values_without_gaps() {
        let mut expect_low = 0u64;
        for c in 0..CHUNKS {
            for s in 0..chunk_len(c) {
                let (low, width) = slot_range(c, s);
                assert_eq!(low, expect_low, "chunk {c} slot {s}");
                assert_eq!(locate(low), (c, s));
                assert_eq!(locate(low + (width - 1)), (c, s));
                if c == CHUNKS - 1 && s == chunk_len(c) - 1 {
                    assert_eq!(low.checked_add(width), None);
                    return;
                }
                expect_low = low + width;
            }
        }
    }

    #[test]
    fn precision_is_within_one_percent() {
        for v in [300u64, 1_000, 12_345, 999_999, 1 << 40, u64::MAX] {
            let (c, s) = locate(v);
            let (low, width) = slot_range(c, s);
            assert!(low <= v && v - low < width);
            assert!((width as f64) / (low as f64) <= 1.0 / 127.0, "{v}");
        }
    }

    #[test]
    fn counts_every_record() {
        let h = AtomicHist::default();
        for v in 0..10_000u64 {
            h.record(v * 37);
        }
        h.record(u64::MAX);
        let mut total = 0;
        h.for_each(|_, _, n| total += n);
        assert_eq!(total, 10_001);
    }
}
