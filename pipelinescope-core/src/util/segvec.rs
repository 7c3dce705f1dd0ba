//! An append-only array that one thread grows while others read it.
//!
//! Segment `k` holds `BASE << k` elements and is allocated the first time an index in it is
//! needed; elements never move, so a pointer to one stays valid for the life of the array, and a
//! reader that loads a segment pointer with `Acquire` sees it fully initialised.

use std::sync::atomic::{AtomicPtr, Ordering::*};

const BASE: usize = 16;
const SEGMENTS: usize = 40;

/// Append-only segmented array of `T: Default`.
pub struct SegVec<T> {
    segs: [AtomicPtr<T>; SEGMENTS],
}

impl<T> Default for SegVec<T> {
    fn default() -> Self {
        SegVec {
            segs: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
        }
    }
}

#[inline(always)]
fn locate(i: usize) -> (usize, usize) {
    let j = i / BASE + 1;
    let k = (usize::BITS - 1 - j.leading_zeros()) as usize;
    (k, i - BASE * ((1 << k) - 1))
}

#[inline]
fn seg_len(k: usize) -> usize {
    BASE << k
}

impl<T: Default> SegVec<T> {
    /// Pointer to element `i`, allocating its segment if needed. Only the owning thread may call
    /// this.
    pub fn get_or_alloc(&self, i: usize) -> *const T {
        let (k, off) = locate(i);
        let mut p = self.segs[k].load(Acquire);
        if p.is_null() {
            let b: Box<[T]> = (0..seg_len(k)).map(|_| T::default()).collect();
            p = Box::into_raw(b) as *mut T;
            self.segs[k].store(p, Release);
        }
        // SAFETY: `off < seg_len(k)` and the segment is live until `self` drops.
        unsafe { p.add(off) }
    }
}

impl<T> SegVec<T> {
    /// Element `i`, if its segment exists.
    pub fn get(&self, i: usize) -> Option<&T> {
        let (k, off) = locate(i);
        let p = self.segs.get(k)?.load(Acquire);
        if p.is_null() {
            None
        } else {
            // SAFETY: as in `get_or_alloc`.
            Some(unsafe { &*p.add(off) })
        }
    }

    /// Bytes of the allocated segments.
    pub fn bytes(&self) -> usize {
        (0..SEGMENTS)
            .filter(|&k| !self.segs[k].load(Acquire).is_null())
            .map(|k| seg_len(k) * std::mem::size_of::<T>())
            .sum()
    }
}

impl<T> Drop for SegVec<T> {
    fn drop(&mut self) {
        for k in 0..SEGMENTS {
            let p = *self.segs[k].get_mut();
            if !p.is_null() {
                // SAFETY: allocated in `get_or_alloc` as a boxed slice of `seg_len(k)`.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, seg_len(k))) });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_map_to_distinct_slots() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..10_000 {
            let (k, off) = locate(i);
            assert!(off < seg_len(k), "{i}");
            assert!(seen.insert((k, off)));
        }
    }

    #[test]
    fn elements_stay_put() {
        let v: SegVec<u64> = SegVec::default();
        let a = v.get_or_alloc(3);
        let _ = v.get_or_alloc(5_000);
        assert_eq!(a, v.get_or_alloc(3));
        assert!(v.get(100_000).is_none());
    }
}
