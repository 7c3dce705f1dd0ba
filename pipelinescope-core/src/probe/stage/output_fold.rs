//! The output's `fold`: a call runs from the fold's start, or the return of its closure, to the
//! next record handed to the closure.

use super::output_cold::{IterCold, Next};
use super::shared::FoldSlow;
use super::timing::{ARMED_CHECK, MAX_GAP};
use crate::clock::raw;

impl IterCold {
    // ---- `fold`: a call runs from the fold's start, or the return of its closure, to the
    // next record handed to the closure.

    /// The fold starts: the countdown. When the first record is a slow one (the stage's first
    /// call among them), the stage is announced until it comes.
    #[inline(never)]
    pub(super) fn fold_begin(&mut self, left: u32) -> u32 {
        if self.inert {
            return left;
        }
        let left = self.caught_up(left);
        self.forget_stale();
        self.settle();
        let left = self.fold_countdown(left);
        if left == 1 {
            self.announce();
        }
        left
    }

    pub(super) fn fold_countdown(&mut self, left: u32) -> u32 {
        if self.next == Next::First || (self.next == Next::Every && left == 1) {
            // The countdown now counts the calls that end in a record out.
            self.take_used(left);
            self.open_call(true);
            return self.set_gap(1);
        }
        left
    }

    /// A record out at the end of a countdown, before it is handed on: closes a timed call,
    /// and decides whether the next call is timed (it then starts when the consumer returns).
    /// The countdown.
    #[inline(never)]
    pub(super) fn out_before(&mut self) -> u32 {
        crate::clock::order();
        let t1 = raw();
        self.take_gap();
        if self.inert {
            return self.set_gap(u32::MAX);
        }
        self.announced.end();
        let exact = if let Some(open) = self.open.take() {
            self.close(open, t1, true);
            let gap = self.schedule();
            if self.next != Next::Every {
                return gap;
            }
            Some(true)
        } else {
            self.timed_kind()
        };
        match exact {
            Some(exact) => {
                self.awaiting.set(exact);
                self.set_gap(1)
            }
            None if self.next == Next::Armed => self.set_gap(ARMED_CHECK),
            None => self.set_gap(MAX_GAP),
        }
    }

    /// The consumer returned while some wrapper waits for it: if this one does, its timed call
    /// starts now.
    #[inline(never)]
    pub(super) fn out_after(&mut self) {
        if let Some(exact) = self.awaiting.take() {
            self.open_call(exact);
        }
    }

    /// The wrapped iterator is exhausted: the last call returned `None`.
    #[inline(never)]
    pub(super) fn fold_end(&mut self, left: u32) {
        if self.inert {
            return;
        }
        self.announced.end();
        // The last call, which returned `None`.
        self.take_used(left);
        self.calls += 1;
        self.none();
        if let Some(open) = self.open.take() {
            self.close(open, raw(), false);
        }
    }
}

impl FoldSlow for IterCold {
    #[inline(always)]
    fn arrived(&mut self) -> u32 {
        self.out_before()
    }

    #[inline(always)]
    fn returned(&mut self) {
        self.out_after();
    }
}
