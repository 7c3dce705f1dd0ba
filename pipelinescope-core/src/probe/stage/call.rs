//! The eager stage call: [`StageCall`] times one call of a stage function from entry to its
//! finish (or drop, when it unwinds): an eager stage's whole work, or a lazy stage's making of
//! its iterator. Always timed, and so is everything nested in it.

use super::recording;
use super::records::Records;
use super::timing::EAGER;
use crate::clock::raw;
use crate::profile::StageKind;
use crate::site::StageSite;
use crate::util::bump;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Publishes `stage` in `cur`, the thread's current stage; returns the previous one to restore.
#[inline(always)]
fn publish(cur: &AtomicU32, stage: u32) -> u32 {
    let prev = cur.load(Relaxed);
    cur.store(stage, Relaxed);
    prev
}

/// One call of a stage function, timed from entry to [`StageCall::finish`] (or drop, when the
/// call unwinds). For a lazy stage this is the construction of its iterator. A call is always
/// timed, and so is everything nested in it.
#[must_use = "the call is timed until it is finished or dropped"]
pub struct StageCall {
    /// Stage id, 0 when not recording.
    id: u32,
    eager: bool,
    prev_stage: u32,
    t0: u64,
    /// Records taken in from collection inputs: an eager call's size.
    records_in: u64,
}

/// Opens a call of the stage `site` that took `records_in` records from collection inputs.
#[inline]
pub fn call(site: &'static StageSite, records_in: u64) -> StageCall {
    let off = StageCall {
        id: 0,
        eager: false,
        prev_stage: 0,
        t0: 0,
        records_in: 0,
    };
    if !recording() {
        return off;
    }
    let Some(td) = crate::threads::local() else {
        return off;
    };
    let t = &td.stage;
    let id = site.id();
    let eager = site.kind == StageKind::Eager;
    {
        // SAFETY: owning thread, no other borrow alive.
        let owner = unsafe { t.owner() };
        let now = raw();
        let s = t.slot(owner, id);
        s.invoked(now);
        if eager {
            bump(&s.records_in, records_in);
            // Top-level eager stages called one after another on a thread form a chain.
            if owner.depth == 0 && owner.last_eager != 0 && owner.last_eager != id {
                let e = t.edge(owner, owner.last_eager, id);
                // SAFETY: edge slots never move and live as long as the thread's data.
                bump(&unsafe { &*owner.edges[e].2 }.records, records_in);
            }
        }
        t.push(owner);
    }
    if eager {
        EAGER.with(|e| e.set(e.get() + 1));
    }
    StageCall {
        id,
        eager,
        prev_stage: publish(td.current_stage, id),
        t0: raw(),
        records_in,
    }
}

impl StageCall {
    /// Closes the call; `out` is what the stage returned (its records count for eager stages).
    #[inline]
    pub fn finish<R: Records + ?Sized>(mut self, out: &R) {
        let n = if self.eager { out.records() } else { 0 };
        self.close(Some(n));
    }

    #[inline]
    fn close(&mut self, out: Option<u64>) {
        if self.id == 0 {
            return;
        }
        let id = std::mem::replace(&mut self.id, 0);
        let t1 = raw();
        let td = crate::threads::local();
        if let Some(td) = td {
            td.current_stage.store(self.prev_stage, Relaxed);
        }
        if self.eager {
            EAGER.with(|e| e.set(e.get().saturating_sub(1)));
        }
        let Some(t) = td.map(|td| &td.stage) else {
            return;
        };
        // SAFETY: owning thread, no other borrow alive.
        let owner = unsafe { t.owner() };
        let span = t1.saturating_sub(self.t0);
        let child = t.pop(owner, span);
        let own = span.saturating_sub(child);
        let s = t.slot(owner, id);
        bump(&s.call_ticks, own);
        if !self.eager {
            return;
        }
        match out {
            Some(n) => {
                bump(&s.records_out, n);
                bump(&s.exhausted, 1);
                let size = if self.records_in > 0 {
                    self.records_in
                } else {
                    n
                };
                super::invocation::record(id, size, own);
                if let Some(per) = own.checked_div(n) {
                    s.record_per_record(per, n);
                    bump(&s.first_ticks, span);
                    bump(&s.first_count, 1);
                }
                if owner.depth == 0 {
                    owner.last_eager = id;
                }
            }
            None => bump(&s.dropped, 1),
        }
    }
}

impl Drop for StageCall {
    fn drop(&mut self) {
        self.close(None);
    }
}
