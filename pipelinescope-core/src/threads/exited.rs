//! What the threads that have exited leave behind: their figures, folded into one aggregate as
//! each exits, and nothing per thread.
//!
//! A thread's state holds its call tree, a histogram per function and per stage and its
//! allocation counters, kilobytes that a program starting a thread per task would pile up
//! without end. As the thread exits (its thread-local handle drops) its figures are merged by
//! the same code a snapshot merges a live thread with (`merge`, `stage_merge`), so they come
//! out the same in either place, and its state is freed. The fold reads final figures: the
//! thread records nothing more once its handle is marked dead, which happens first.
//!
//! One thing of each thread outlives it: the cell it publishes its current stage in, which
//! stage iterators moved to other threads may still hold (see `local::thread`).

#[cfg(feature = "alloc")]
use super::alloc_totals::AllocTotals;
use super::merge::Merged;
use super::stage_merge::StageExited;
use crate::local::ThreadData;
use crate::profile::{EXITED_THREADS_INDEX, ThreadStats};

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
    /// Stage figures per stage and per edge.
    pub stages: StageExited,
    /// Calls and stage invocations by size class.
    pub sizes: super::size_merge::SizeMerged,
    /// Per line site and line, the summed line figures.
    pub lines: super::lines::Totals,
    /// Allocation counts per function and stage.
    #[cfg(feature = "alloc")]
    pub alloc: AllocTotals,
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
        e.stages = StageExited::of(&td.stage);
        e.sizes.add_thread(td);
        if let Some(t) = td.lines.get() {
            super::lines::add_thread(&mut e.lines, t);
        }
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
        self.stages.absorb(&o.stages);
        self.sizes.absorb(&o.sizes);
        super::lines::add_totals(&mut self.lines, &o.lines);
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
