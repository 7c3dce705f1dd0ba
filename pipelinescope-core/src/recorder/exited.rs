//! What the threads that have exited leave behind: their figures, folded into one aggregate as
//! each exits, and nothing per thread.
//!
//! A thread's recorder holds its call tree, a histogram per function and its allocation
//! counters, kilobytes that a program starting a thread per task would pile up without end. As
//! the thread exits (its thread-local handle drops) its figures are merged by the same code a
//! snapshot merges a live thread with (`snapshot::merge`), so they come out the same in either
//! place, and its recorder is freed. The fold reads final figures: the thread records nothing
//! more once its handle is marked dead, which happens first.
//!
//! One thing of each thread outlives it: the cell it publishes its current stage in, which
//! stage iterators moved to other threads may still hold. Cells are reused by later threads.

use super::ThreadData;
use crate::profile::{EXITED_THREADS_INDEX, ThreadStats};
use crate::snapshot::Merged;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};

/// The figures of every thread that has exited, merged.
#[derive(Clone, Default)]
pub(crate) struct Exited {
    /// Threads folded in.
    pub threads: u64,
    /// Their rows' calls, root and self times, summed.
    pub calls: u64,
    pub root_ns: u64,
    pub self_ns: u64,
    /// Per call path and per function.
    pub merged: Merged,
    /// Allocation counts per function and stage.
    #[cfg(feature = "alloc")]
    pub alloc: crate::alloc::AllocTotals,
}

impl Exited {
    /// One thread's figures, as an aggregate of one.
    pub(crate) fn of(td: &ThreadData) -> Exited {
        let mut e = Exited {
            threads: 1,
            ..Exited::default()
        };
        let row = e.merged.add_thread(td, crate::clock::ns_per_tick());
        e.calls = row.calls;
        e.root_ns = row.root_ns;
        e.self_ns = row.self_ns;
        #[cfg(feature = "alloc")]
        e.alloc.add_thread(&td.alloc);
        e
    }

    /// Adds another aggregate.
    pub(crate) fn absorb(&mut self, o: &Exited) {
        self.threads += o.threads;
        self.calls += o.calls;
        self.root_ns += o.root_ns;
        self.self_ns += o.self_ns;
        self.merged.absorb(&o.merged);
        #[cfg(feature = "alloc")]
        self.alloc.absorb(&o.alloc);
    }

    /// The row that stands for every exited thread in a profile's thread list.
    pub(crate) fn row(&self) -> ThreadStats {
        ThreadStats {
            index: EXITED_THREADS_INDEX,
            name: crate::profile::exited_threads_name(self.threads),
            finished: true,
            calls: self.calls,
            root_ns: self.root_ns,
            self_ns: self.self_ns,
            exited_threads: self.threads,
        }
    }
}

/// Cells that no thread publishes its stage in now.
static FREE_STAGE_CELLS: Mutex<Vec<&'static AtomicU32>> = Mutex::new(Vec::new());

/// A cell for a new thread to publish its current stage in. A stage iterator keeps the cell of
/// the thread it was made on and may be moved to another thread, which may outlive the first:
/// so a cell is never freed. It goes back to the free cells when its thread's data is dropped,
/// for a later thread to reuse, and there are never more cells than threads alive at once (and
/// threads whose data a snapshot was still reading as they exited).
pub(super) fn stage_cell() -> &'static AtomicU32 {
    let free = FREE_STAGE_CELLS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop();
    free.unwrap_or_else(|| Box::leak(Box::new(AtomicU32::new(0))))
}

impl Drop for ThreadData {
    fn drop(&mut self) {
        // An iterator moved off the exited thread may still write to the cell: that can only
        // misname a later thread's stage for a sampler, as it would have misnamed this one's.
        self.current_stage.store(0, Relaxed);
        FREE_STAGE_CELLS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.current_stage);
    }
}

#[cfg(test)]
mod tests {
    use crate::site::{Site, SiteKind};
    use std::sync::Barrier;

    static EXITING: Site = Site::new("exiting_thread_call", "t", "f", 1, SiteKind::Sync);

    fn calls_of(p: &crate::Profile) -> (u64, u64) {
        p.function("exiting_thread_call")
            .map_or((0, 0), |f| (f.calls, f.histogram.count()))
    }

    /// Snapshots taken while threads exit see each exiting thread's calls exactly once: in
    /// its own row until it has folded into the exited threads' figures, there after.
    #[test]
    fn no_thread_is_lost_or_counted_twice_while_threads_exit() {
        const ROUNDS: u64 = 40;
        const THREADS: u64 = 6;
        const CALLS: u64 = 300;
        let mut expected = 0;
        let mut snapshots = 0;
        for _ in 0..ROUNDS {
            // The workers make all their calls, wait until every one has, then exit together
            // while this thread takes snapshots.
            let done = Barrier::new(THREADS as usize + 1);
            std::thread::scope(|s| {
                let workers: Vec<_> = (0..THREADS)
                    .map(|_| {
                        s.spawn(|| {
                            for _ in 0..CALLS {
                                let _g = crate::recorder::enter(&EXITING);
                            }
                            done.wait();
                        })
                    })
                    .collect();
                done.wait();
                expected += THREADS * CALLS;
                loop {
                    let all_gone = workers.iter().all(|w| w.is_finished());
                    let p = crate::snapshot::collect(1);
                    snapshots += 1;
                    assert_eq!(calls_of(&p), (expected, expected), "snapshot {snapshots}");
                    if all_gone {
                        break;
                    }
                }
                // A finished closure is not yet an exited thread: joining waits for its
                // thread-locals to be torn down, the fold with them.
                for w in workers {
                    w.join().expect("worker");
                }
            });
        }
        // Every worker has exited: its figures are in the exited threads' row.
        let p = crate::snapshot::collect(1);
        assert_eq!(calls_of(&p), (expected, expected));
        let row = p
            .threads
            .iter()
            .find(|t| t.is_exited_threads())
            .expect("the exited threads' row");
        assert!(row.exited_threads >= ROUNDS * THREADS, "{row:?}");
        assert!(row.calls >= expected, "{row:?}");
        assert!(snapshots >= ROUNDS);
    }
}
