//! Calls by size class, per thread: what `#[profile(size = ...)]` functions and stage
//! invocations record besides their other figures.
//!
//! One table of classes per site (function or stage) that recorded a size on this thread,
//! allocated on its first sized call and reached through a pointer indexed by the site's id:
//! a thread that records no sizes holds two empty indexes, and the classes cost only the
//! sites that use them. As every per-thread figure, the counters are atomics written by their
//! thread only (a relaxed load and store), read by snapshots at any time.

use crate::profile::{SIZE_CLASSES, size_class};
use crate::util::bump;
use crate::util::segvec::SegVec;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering::*};

/// The classes of one site on one thread.
pub(crate) struct SizeClasses {
    pub(crate) calls: [AtomicU64; SIZE_CLASSES],
    /// Sizes summed, saturating.
    pub(crate) size_sum: [AtomicU64; SIZE_CLASSES],
    /// Time summed, fixed-point ticks (`cost::FP` fractional bits), two's-complement: a
    /// compensated call may come out below zero.
    pub(crate) time_fp: [AtomicU64; SIZE_CLASSES],
}

impl SizeClasses {
    fn new() -> SizeClasses {
        SizeClasses {
            calls: std::array::from_fn(|_| AtomicU64::new(0)),
            size_sum: std::array::from_fn(|_| AtomicU64::new(0)),
            time_fp: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    #[inline(always)]
    fn record(&self, size: u64, time_fp: u64) {
        let c = size_class(size);
        bump(&self.calls[c], 1);
        let s = &self.size_sum[c];
        s.store(s.load(Relaxed).saturating_add(size), Relaxed);
        bump(&self.time_fp[c], time_fp);
    }
}

/// Per site id, the classes of the sites that recorded a size on this thread.
#[derive(Default)]
pub(crate) struct SizeTable {
    slots: SegVec<AtomicPtr<SizeClasses>>,
    /// One past the highest id with classes.
    len: AtomicU64,
}

impl SizeTable {
    /// Records one call of site `id` of size `size` that took `time_fp`. Owner thread only.
    #[inline]
    pub(crate) fn record(&self, id: u32, size: u64, time_fp: u64) {
        let mut p = match self.slots.get(id as usize) {
            Some(slot) => slot.load(Acquire),
            None => std::ptr::null_mut(),
        };
        if p.is_null() {
            p = self.alloc(id);
        }
        // SAFETY: allocated below, freed only when the table drops.
        unsafe { &*p }.record(size, time_fp);
    }

    #[cold]
    #[inline(never)]
    fn alloc(&self, id: u32) -> *mut SizeClasses {
        // The recorder's own memory is not the program's.
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        // SAFETY: segment elements never move and live as long as the table.
        let slot = unsafe { &*self.slots.get_or_alloc(id as usize) };
        let p = Box::into_raw(Box::new(SizeClasses::new()));
        slot.store(p, Release);
        let len = u64::from(id) + 1;
        if len > self.len.load(Relaxed) {
            self.len.store(len, Release);
        }
        p
    }

    /// Calls each site with classes, by id: `(id, classes)`.
    pub(crate) fn for_each(&self, mut f: impl FnMut(u32, &SizeClasses)) {
        let len = self.len.load(Acquire) as usize;
        for id in 0..len {
            let Some(slot) = self.slots.get(id) else {
                continue;
            };
            let p = slot.load(Acquire);
            if !p.is_null() {
                // SAFETY: as in `record`.
                f(id as u32, unsafe { &*p });
            }
        }
    }

    /// Bytes held (index and classes).
    pub(crate) fn bytes(&self) -> usize {
        let mut n = self.slots.bytes();
        self.for_each(|_, _| n += std::mem::size_of::<SizeClasses>());
        n
    }
}

impl Drop for SizeTable {
    fn drop(&mut self) {
        let len = *self.len.get_mut() as usize;
        for id in 0..len {
            if let Some(slot) = self.slots.get(id) {
                let p = slot.swap(std::ptr::null_mut(), Relaxed);
                if !p.is_null() {
                    // SAFETY: made by `Box::into_raw` in `alloc`, freed once here.
                    drop(unsafe { Box::from_raw(p) });
                }
            }
        }
    }
}

/// A thread's sizes: of functions by site id, of stages by stage id.
#[derive(Default)]
pub(crate) struct ThreadSizes {
    pub(crate) functions: SizeTable,
    pub(crate) stages: SizeTable,
}
