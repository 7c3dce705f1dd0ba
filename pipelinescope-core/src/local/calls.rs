//! The function recorder: what one instrumented call does to its thread's state.
//!
//! Each thread owns a [`ThreadData`]. Its figures (per call path and per site) are atomics that
//! only the owning thread writes, with a relaxed load and store (plain moves on x86: no lock
//! prefix, no cache line shared with another writer), so a snapshot can read them at any time
//! from another thread without stopping anyone and without losing counts. The bookkeeping only
//! the owner needs (the current node, the running sums, the child lookup of each call-tree
//! node, the per-site entries, the sampling state) sits in an `UnsafeCell` that no other thread
//! touches.
//!
//! Enter: find the call-tree child of the current frame for this site (a short linear scan of
//! the parent's children), decide whether this call is timed (`sampling`), push a frame, and for
//! a timed call read the clock. Exit of a timed call: read the clock, pop, and add the call's
//! figures with the probe's cost taken off (`calibrate`): its inclusive time less the probe's
//! part inside its interval and the probes of everything nested in it; its self time less that
//! part and everything its direct callees cost the caller (their time and the probe's part
//! outside their interval). Exit of an untimed call: count it, add its path's means (of the
//! timed calls) to the path, and charge the caller's frame with the mean self time and the
//! untimed probe's cost on top of what the call's callees were charged while it ran, so that
//! the caller's self time stays its own and callers and callees add up exactly. Times are kept
//! in fixed-point ticks and summed signed: a call shorter than the probe's jitter may come out
//! below zero, and clamping each call would bias the sum; only the totals are clamped, when
//! read.
//!
//! Recursion: when a function already on the current path is entered again, the frame is folded
//! into that ancestor's node instead of growing the tree, and the node's cumulative time only
//! counts its outermost activation. The tree's size is bounded by the distinct call paths without
//! repetition, never by call count or recursion depth.
//!
//! Thread exit: when the thread's handle drops, its figures are folded into the aggregate of
//! the exited threads and its `ThreadData` is freed (`threads::exited`), so a process that starts a
//! thread per task keeps what its live threads and its call paths need, not what every thread
//! that ever ran did.

use super::slots::{NodeSlot, SiteSlot};
use super::thread::ThreadData;
use crate::cost::{COSTS, FP};
use crate::sampling::{self, Rng};
use crate::util::{bump, bump32};
use std::mem::MaybeUninit;
use std::sync::atomic::Ordering::*;

/// One open call, held by its guard on the caller's stack (in registers, mostly) rather than
/// on a stack in the recorder: an untimed call then costs a few loads and stores with no chain
/// of dependent memory accesses through a frame stack. Amounts are fixed-point ticks.
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    slot: *const NodeSlot,
    node: u32,
    /// The node this call was made from, restored as the current node on exit.
    parent: u32,
    site: u32,
    /// Site of the caller, restored into `current_site` on exit.
    prev_site: u32,
    timed: bool,
    /// Written only when `timed`: an untimed call's exit adds to the running sums instead of
    /// setting them from their values at entry, so it neither reads nor stores them on the way
    /// in (a chain of loads and stores through memory on every call of a tight loop).
    at: MaybeUninit<AtEntry>,
    #[cfg(feature = "alloc")]
    alloc: super::alloc::FrameMark,
}

/// What a timed call reads on entry, fixed-point ticks for the sums.
#[derive(Clone, Copy)]
struct AtEntry {
    start: u64,
    /// The thread's `excluded_fp` on entry.
    excluded0: u64,
    /// The thread's `probe_fp` on entry.
    probe0: u64,
    /// The thread's `child_probe_fp` on entry.
    child_probe0: u64,
}

impl Frame {
    /// Reads a timed frame's start (see [`ThreadData::enter_unstarted`]); nothing for an
    /// untimed one.
    #[inline(always)]
    pub(crate) fn start_clock(&mut self) {
        if self.timed {
            // SAFETY: written whenever `timed` is.
            unsafe { self.at.assume_init_mut() }.start = crate::clock::raw_fenced();
        }
    }

    /// The entry figures of a timed frame.
    #[inline(always)]
    fn at(&self) -> &AtEntry {
        debug_assert!(self.timed);
        // SAFETY: written whenever `timed` is, and read only then.
        unsafe { self.at.assume_init_ref() }
    }
}

pub(super) struct OwnerNode {
    /// `(site id, node index)` of each child already seen.
    pub(super) children: Vec<(u32, u32)>,
    site: u32,
    /// Calls left until the next timed one; 0 or 1: the next call is timed. While the node is
    /// its site's cached path (`SiteEntry`), the entry's countdown is the live one.
    countdown: u32,
    /// Mean gap between timed calls (0: every call is timed), decided every `RECHECK` timed
    /// calls.
    gap: u32,
    /// Recent timed calls' compensated inclusive and self times and their count, halved at
    /// each look: the means an untimed call is charged follow the path as it runs now, not
    /// as it ran while every call was timed.
    recent_cum_fp: i64,
    recent_self_fp: i64,
    recent: i64,
    slot: *const NodeSlot,
    /// This node's site's per-thread figures (null for the root).
    site_slot: *const SiteSlot,
}

/// The path a site was last entered through on this thread, looked up by site id: most calls
/// of a function come from the same caller as its previous call, and checking the entry's
/// caller against the current node costs one load that does not wait on the last call's
/// stores (walking the caller's children would chain several).
#[derive(Clone, Copy)]
pub(super) struct SiteEntry {
    /// The caller's node (`NONE`: no entry).
    parent: u32,
    node: u32,
    /// The live countdown of `node` (see `OwnerNode::countdown`).
    countdown: u32,
    /// The caller's site, restored into `current_site` on exit.
    parent_site: u32,
    slot: *const NodeSlot,
}

const NONE: u32 = u32::MAX;

impl SiteEntry {
    const EMPTY: SiteEntry = SiteEntry {
        parent: NONE,
        node: 0,
        countdown: 0,
        parent_site: 0,
        slot: std::ptr::null(),
    };
}

/// What only the owning thread reads and writes.
///
/// Three running sums stand in for per-frame accumulators. Each closing call sets
/// `excluded_fp` to its value at the call's entry plus the call's whole footprint in its
/// caller's interval (its time and its probe's), so that between a call's entry and exit it
/// grows by exactly what the direct callees cost; `child_probe_fp` likewise by the direct
/// callees' probe cost outside their intervals; `probe_fp` only grows, by every probe's cost,
/// so between entry and exit it grows by the probe cost nested inside the call.
pub(super) struct Owner {
    /// The innermost open call's node (0: none).
    cur: u32,
    excluded_fp: u64,
    child_probe_fp: u64,
    probe_fp: u64,
    pub(super) nodes: Vec<OwnerNode>,
    pub(super) sites: Vec<*const SiteSlot>,
    pub(super) entries: Vec<SiteEntry>,
    rng: Rng,
    /// Calibration only: the gap every sampled path uses (0: as the sampling policy decides).
    forced_gap: u32,
}

impl Owner {
    /// The probe cost of every function call closed on this thread so far (fixed point): the
    /// line profiler takes what grew during a line off the line, as a caller's time does.
    #[inline(always)]
    pub(super) fn probe_fp(&self) -> u64 {
        self.probe_fp
    }

    /// Adds a line mark's cost to what the open calls take off as probe cost (their
    /// cumulative and self time alike); returns the sum before it.
    #[inline(always)]
    pub(super) fn add_probe_cost(&mut self, fp: u64) -> u64 {
        let before = self.probe_fp;
        self.probe_fp = before.wrapping_add(fp);
        self.excluded_fp = self.excluded_fp.wrapping_add(fp);
        before
    }

    /// The bookkeeping of thread number `index`, before its root node.
    pub(super) fn new(index: u32) -> Owner {
        Owner {
            cur: 0,
            excluded_fp: 0,
            child_probe_fp: 0,
            probe_fp: 0,
            nodes: Vec::with_capacity(64),
            sites: Vec::new(),
            entries: Vec::new(),
            forced_gap: 0,
            rng: Rng::new(
                crate::clock::counter() ^ u64::from(index).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ),
        }
    }

    /// Bytes of one call path's bookkeeping.
    pub(super) const fn node_bytes() -> usize {
        std::mem::size_of::<OwnerNode>()
    }

    /// Bytes of one site's cached path.
    pub(super) const fn entry_bytes() -> usize {
        std::mem::size_of::<SiteEntry>()
    }
}

impl ThreadData {
    /// Node 0: the root of this thread's call tree (once, as the thread's state is made).
    pub(super) fn add_root(&self) {
        let root = self.nodes.get_or_alloc(0);
        self.node_count.store(1, Release);
        // SAFETY: not shared yet.
        unsafe { &mut *self.owner.get() }
            .nodes
            .push(OwnerNode::new(0, root, std::ptr::null()));
    }

    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    // SAFETY (caller): only the owning thread, and never while another `&mut Owner` is alive.
    unsafe fn owner(&self) -> &mut Owner {
        unsafe { &mut *self.owner.get() }
    }

    #[cold]
    #[inline(never)]
    fn site_slot(&self, owner: &mut Owner, site: u32) -> *const SiteSlot {
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        let site = site as usize;
        if owner.sites.len() <= site {
            owner.sites.resize(site + 1, std::ptr::null());
        }
        if owner.sites[site].is_null() {
            owner.sites[site] = self.sites.get_or_alloc(site);
            let n = self.site_count.load(Relaxed).max(site as u32 + 1);
            self.site_count.store(n, Release);
        }
        owner.sites[site]
    }

    #[cold]
    #[inline(never)]
    fn new_child(&self, owner: &mut Owner, parent: u32, site: u32) -> u32 {
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        // Recursion: fold into the ancestor that already runs this site.
        let mut a = parent;
        while a != 0 {
            let n = &mut owner.nodes[a as usize];
            if n.site == site {
                // SAFETY: slot pointers stay valid as long as `self`.
                let slot = unsafe { &*n.slot };
                // Timed on every call from now on: an untimed outer activation would leave
                // the timed inner ones without the interval they nest in.
                if !slot.recursive.load(Relaxed) {
                    slot.recursive.store(true, Relaxed);
                    // The one activation open now (a node that never recursed has one).
                    slot.active.store(1, Relaxed);
                }
                n.countdown = 0;
                owner.nodes[parent as usize].children.push((site, a));
                return a;
            }
            // SAFETY: slot pointers stay valid as long as `self`.
            a = unsafe { &*n.slot }.parent.load(Relaxed);
        }
        let idx = self.node_count.load(Relaxed);
        let slot = self.nodes.get_or_alloc(idx as usize);
        // SAFETY: freshly allocated, not yet published through `node_count`.
        let s = unsafe { &*slot };
        s.site.store(site, Relaxed);
        s.parent.store(parent, Relaxed);
        self.node_count.store(idx + 1, Release);
        let site_slot = self.site_slot(owner, site);
        owner.nodes.push(OwnerNode::new(site, slot, site_slot));
        owner.nodes[parent as usize].children.push((site, idx));
        idx
    }

    /// Opens a frame for `site`: timed or not as the path's sampling decides, or as `force` says.
    #[inline(always)]
    pub(crate) fn enter_as(&self, site: u32, force: Option<bool>) -> Frame {
        let mut frame = self.enter_unstarted(site, force);
        frame.start_clock();
        frame
    }

    /// [`enter_as`](Self::enter_as) without the start of a timed call, which the caller reads
    /// with [`Frame::start_clock`]: the probe inlined into an instrumented function does this
    /// in a call and reads the clock itself, so that what falls inside a timed call's interval
    /// is the same few instructions whatever the call took to decide.
    #[inline(always)]
    pub(crate) fn enter_unstarted(&self, site: u32, force: Option<bool>) -> Frame {
        // SAFETY: called by the owning thread only; no other `&mut Owner` is alive.
        let owner = unsafe { self.owner() };
        let parent = owner.cur;
        let hit = matches!(owner.entries.get(site as usize), Some(e) if e.parent == parent);
        if !hit {
            self.repoint(owner, parent, site);
        }
        // SAFETY: `repoint` made the entry when it was missing.
        let e = unsafe { owner.entries.get_unchecked_mut(site as usize) };
        // SAFETY: slot pointers stay valid as long as `self`.
        let slot = unsafe { &*e.slot };
        // A recursive path is never sampled (its countdown stays 0 from the moment recursion
        // is found), so a call that counts down is not recursive, and the untimed path does not
        // touch the slot's cache line on the way in: it reaches the entry and no further.
        let timed = match force {
            None if e.countdown > 1 => {
                e.countdown -= 1;
                false
            }
            force => {
                if slot.recursive.load(Relaxed) {
                    bump32(&slot.active, 1);
                }
                force.unwrap_or(true)
            }
        };
        let e = *e;
        self.open(owner, e, site, timed)
    }

    /// Opens an untimed frame for `site` when that is all the call needs (the site's entry
    /// points at the current path and its countdown has calls left), else leaves everything as
    /// it was and returns None for [`enter_as`](Self::enter_as) to do. What both forms of the
    /// probe try first, inlined: most calls of a sampled path are this case.
    #[inline(always)]
    pub(crate) fn enter_untimed(&self, site: u32) -> Option<Frame> {
        // SAFETY: as in `enter_as`.
        let owner = unsafe { self.owner() };
        let parent = owner.cur;
        let e = owner.entries.get_mut(site as usize)?;
        if e.parent != parent || e.countdown <= 1 {
            return None;
        }
        e.countdown -= 1;
        let e = *e;
        Some(self.open(owner, e, site, false))
    }

    /// The frame of a call of `site` through the path its entry `e` points at (the current
    /// path), made the current one.
    #[inline(always)]
    fn open(&self, owner: &mut Owner, e: SiteEntry, site: u32, timed: bool) -> Frame {
        owner.cur = e.node;
        self.current_site.store(site, Relaxed);
        let mut frame = Frame {
            slot: e.slot,
            node: e.node,
            parent: e.parent,
            site,
            prev_site: e.parent_site,
            timed,
            at: MaybeUninit::uninit(),
            #[cfg(feature = "alloc")]
            alloc: self.alloc.enter(site),
        };
        if timed {
            frame.at = MaybeUninit::new(AtEntry {
                start: 0,
                excluded0: owner.excluded_fp,
                probe0: owner.probe_fp,
                child_probe0: owner.child_probe_fp,
            });
        }
        frame
    }

    /// Points `site`'s entry at the path through `parent`, making the node on first use; the
    /// countdown of the path it pointed at goes back to that path's node.
    #[cold]
    #[inline(never)]
    fn repoint(&self, owner: &mut Owner, parent: u32, site: u32) {
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        let i = site as usize;
        if owner.entries.len() <= i {
            owner.entries.resize(i + 1, SiteEntry::EMPTY);
        }
        let old = owner.entries[i];
        if old.parent != NONE {
            owner.nodes[old.node as usize].countdown = old.countdown;
        }
        let found = owner.nodes[parent as usize]
            .children
            .iter()
            .find(|c| c.0 == site)
            .map(|c| c.1);
        let node = match found {
            Some(n) => n,
            None => self.new_child(owner, parent, site),
        };
        let n = &owner.nodes[node as usize];
        owner.entries[i] = SiteEntry {
            parent,
            node,
            countdown: n.countdown,
            parent_site: owner.nodes[parent as usize].site,
            slot: n.slot,
        };
    }

    /// Sets the countdown of `node`, a path of `site`: in the site's entry while it points at
    /// the node, else in the node.
    fn set_countdown(owner: &mut Owner, site: u32, node: u32, value: u32) {
        match owner.entries.get_mut(site as usize) {
            Some(e) if e.parent != NONE && e.node == node => e.countdown = value,
            _ => owner.nodes[node as usize].countdown = value,
        }
    }

    /// Closes `frame`, the innermost open one: a whole call, one poll of a future that is not
    /// finished yet, or the last poll of one that is (its wall time, first poll to completion,
    /// goes into the histogram instead of the poll's time).
    #[inline(always)]
    pub(crate) fn exit(&self, frame: &Frame, kind: ExitKind) {
        // SAFETY: as in `enter_as`.
        let owner = unsafe { self.owner() };
        if frame.timed {
            let end = crate::clock::raw_fenced();
            self.exit_timed(owner, frame, end, kind);
        } else {
            self.exit_untimed(owner, frame);
        }
    }

    /// Closes `frame` as `exit(frame, ExitKind::Call)` does, with everything a timed call does
    /// out of line: what the outlined probe's guard runs, so that an untimed call's exit makes
    /// no call and saves few registers.
    #[inline(always)]
    pub(crate) fn exit_call_lean(&self, frame: &Frame) {
        if frame.timed {
            self.exit_timed_call(frame);
        } else {
            // SAFETY: as in `enter_as`.
            let owner = unsafe { self.owner() };
            self.exit_untimed(owner, frame);
        }
    }

    #[inline(never)]
    fn exit_timed_call(&self, frame: &Frame) {
        self.exit(frame, ExitKind::Call);
    }

    /// Closes `frame` as [`exit`](Self::exit) does a call, and returns the call's compensated
    /// inclusive time (fixed-point ticks, two's-complement) when it was timed: for calls that
    /// also record their size (`probe::size`), never on the plain path.
    #[inline(never)]
    pub(crate) fn exit_measured(&self, frame: &Frame) -> Option<u64> {
        // SAFETY: as in `enter_as`.
        let owner = unsafe { self.owner() };
        if !frame.timed {
            self.exit_untimed(owner, frame);
            return None;
        }
        let end = crate::clock::raw_fenced();
        let at = frame.at();
        let raw_fp = end.saturating_sub(at.start) << FP;
        let nested_fp = owner.probe_fp.wrapping_sub(at.probe0);
        let cum_fp = raw_fp
            .wrapping_sub(COSTS.inside.load(Relaxed))
            .wrapping_sub(nested_fp);
        self.exit_timed(owner, frame, end, ExitKind::Call);
        Some(cum_fp)
    }

    /// The end of a timed call: out of line, so that the untimed calls' code stays small where
    /// the guard drops (a timed call reads the clock twice: a call costs little beside that).
    #[inline(never)]
    fn exit_timed(&self, owner: &mut Owner, f: &Frame, end: u64, kind: ExitKind) {
        let inside = COSTS.inside.load(Relaxed);
        let outside = COSTS.outside.load(Relaxed);
        let at = f.at();
        let raw_fp = end.saturating_sub(at.start) << FP;
        let nested_fp = owner.probe_fp.wrapping_sub(at.probe0);
        let child_fp = owner.excluded_fp.wrapping_sub(at.excluded0);
        let child_probe_fp = owner.child_probe_fp.wrapping_sub(at.child_probe0);
        // Two's-complement: below zero when the probe's jitter exceeds a tiny call's work.
        let cum_fp = raw_fp.wrapping_sub(inside).wrapping_sub(nested_fp);
        let self_fp = raw_fp.wrapping_sub(inside).wrapping_sub(child_fp);
        owner.excluded_fp = at.excluded0.wrapping_add(raw_fp).wrapping_add(outside);
        owner.child_probe_fp = at.child_probe0.wrapping_add(outside);
        owner.probe_fp = owner.probe_fp.wrapping_add(inside).wrapping_add(outside);
        owner.cur = f.parent;
        self.current_site.store(f.prev_site, Relaxed);
        // SAFETY: slot pointers stay valid as long as `self`.
        let slot = unsafe { &*f.slot };
        let recursive = slot.recursive.load(Relaxed);
        let outermost = if recursive {
            bump32(&slot.active, u32::MAX);
            slot.active.load(Relaxed) == 0
        } else {
            true
        };
        #[cfg(feature = "alloc")]
        self.alloc.exit(f.site, f.alloc);
        // SAFETY: as in `enter_as`.
        let on = unsafe { owner.nodes.get_unchecked_mut(f.node as usize) };
        // The calls since the last timed one, this one included.
        let w = match kind {
            ExitKind::Call => slot.calls.load(Relaxed) - slot.weight.load(Relaxed) + 1,
            _ => 1,
        };
        // SAFETY: as above; only the root has a null site slot, and it is never entered.
        let ss = unsafe { &*on.site_slot };
        bump(&slot.self_fp, self_fp);
        bump(&slot.probe_self_fp, inside.wrapping_add(child_probe_fp));
        if outermost {
            bump(&slot.cum_fp, cum_fp);
            bump(&slot.probe_cum_fp, inside.wrapping_add(nested_fp));
        }
        bump(&slot.timed, 1);
        match kind {
            ExitKind::Call => {
                bump(&slot.calls, 1);
                bump(&slot.weight, w);
                ss.record(cum_fp, w);
            }
            ExitKind::Poll => {
                bump(&ss.polls, 1);
                bump(&ss.busy_ticks, sampling::whole_ticks(cum_fp));
            }
            ExitKind::PollCompleted { wall_ticks } => {
                bump(&slot.calls, 1);
                bump(&slot.weight, 1);
                bump(&ss.polls, 1);
                bump(&ss.busy_ticks, sampling::whole_ticks(cum_fp));
                ss.record((wall_ticks << FP).wrapping_sub(inside), 1);
            }
        }
        if std::thread::panicking() {
            bump(&slot.panics, 1);
        }
        if outermost {
            on.recent_cum_fp = on.recent_cum_fp.wrapping_add(cum_fp as i64);
        }
        on.recent_self_fp = on.recent_self_fp.wrapping_add(self_fp as i64);
        on.recent += 1;
        // `bump` above counted this call.
        let timed = slot.timed.load(Relaxed);
        if timed >= sampling::WARMUP && !recursive && matches!(kind, ExitKind::Call) {
            let countdown = if owner.forced_gap != 0 {
                owner.forced_gap
            } else {
                if timed % sampling::RECHECK == 0 {
                    Self::decide_gap(on, slot);
                }
                if on.gap > 1 && crate::cost::sampling() {
                    owner.rng.gap(u64::from(on.gap))
                } else {
                    0
                }
            };
            Self::set_countdown(owner, f.site, f.node, countdown);
        }
    }

    /// Decides how often a path is timed, from the mean of its timed calls so far.
    #[cold]
    #[inline(never)]
    fn decide_gap(on: &mut OwnerNode, slot: &NodeSlot) {
        let n = on.recent.max(1);
        let est = (on.recent_cum_fp / n).max(0) as u64;
        slot.est_fp.store(est, Relaxed);
        slot.est_self_fp
            .store((on.recent_self_fp / n) as u64, Relaxed);
        // Halve: each look weighs the last 32 timed calls as much as everything before.
        on.recent_cum_fp /= 2;
        on.recent_self_fp /= 2;
        on.recent /= 2;
        let gap = if !crate::cost::sampling() {
            1
        } else {
            sampling::mean_gap(
                est,
                COSTS.inside.load(Relaxed) + COSTS.outside.load(Relaxed),
                COSTS.untimed.load(Relaxed),
            )
        };
        on.gap = gap as u32;
    }

    #[inline(always)]
    fn exit_untimed(&self, owner: &mut Owner, f: &Frame) {
        let untimed = COSTS.untimed.load(Relaxed);
        // SAFETY: slot pointers stay valid as long as `self`.
        let slot = unsafe { &*f.slot };
        let outermost = if slot.recursive.load(Relaxed) {
            bump32(&slot.active, u32::MAX);
            slot.active.load(Relaxed) == 0
        } else {
            true
        };
        let est_self = slot.est_self_fp.load(Relaxed);
        bump(&slot.self_fp, est_self);
        if outermost {
            bump(&slot.cum_fp, slot.est_fp.load(Relaxed));
        }
        // The caller is charged what this call's figures add up to: its mean self time, its
        // probe, and (already added while it ran) what its callees cost. Adding keeps every
        // sum's chain to one load and store per call.
        owner.excluded_fp = owner
            .excluded_fp
            .wrapping_add(est_self)
            .wrapping_add(untimed);
        owner.child_probe_fp = owner.child_probe_fp.wrapping_add(untimed);
        owner.probe_fp = owner.probe_fp.wrapping_add(untimed);
        owner.cur = f.parent;
        self.current_site.store(f.prev_site, Relaxed);
        #[cfg(feature = "alloc")]
        // SAFETY: as in `enter_as`.
        self.alloc.exit(
            unsafe { owner.nodes.get_unchecked(f.node as usize) }.site,
            f.alloc,
        );
        bump(&slot.calls, 1);
        if std::thread::panicking() {
            bump(&slot.panics, 1);
        }
    }

    /// Counts a future of `site` dropped before it completed.
    pub(crate) fn cancelled(&self, site: u32) {
        // SAFETY: as in `enter`.
        let owner = unsafe { self.owner() };
        let ss = self.site_slot(owner, site);
        // SAFETY: as above.
        bump(&unsafe { &*ss }.cancelled, 1);
    }

    /// Calibration: calls of `site` made from the top of this thread are timed once every
    /// `gap` calls from now on (1: every call).
    pub(crate) fn force_gap(&self, site: u32, gap: u32) {
        // SAFETY: as in `enter_as`.
        let owner = unsafe { self.owner() };
        owner.forced_gap = gap;
        self.repoint(owner, 0, site);
        let e = &mut owner.entries[site as usize];
        e.countdown = gap;
        let node = e.node as usize;
        owner.nodes[node].gap = 0;
        // SAFETY: slot pointers stay valid as long as `self`.
        let slot = unsafe { &*owner.nodes[node].slot };
        slot.timed
            .store(slot.timed.load(Relaxed).max(sampling::WARMUP), Relaxed);
        // The next timed call stands for the calls from now on only.
        slot.weight.store(slot.calls.load(Relaxed), Relaxed);
    }

    /// Calibration: `(timed calls, weighted inclusive time)` of `site` called from the top of
    /// this thread, ticks fixed-point, with the probe's cost as taken off added back: raw,
    /// whatever costs are applied while it runs.
    pub(crate) fn top_figures(&self, site: u32) -> (u64, u64) {
        // SAFETY: as in `enter_as`.
        let owner = unsafe { self.owner() };
        self.repoint(owner, 0, site);
        // SAFETY: slot pointers stay valid as long as `self`.
        let slot = unsafe { &*owner.entries[site as usize].slot };
        let raw = slot
            .cum_fp
            .load(Relaxed)
            .wrapping_add(slot.probe_cum_fp.load(Relaxed));
        (slot.timed.load(Relaxed), raw)
    }
}

impl OwnerNode {
    fn new(site: u32, slot: *const NodeSlot, site_slot: *const SiteSlot) -> OwnerNode {
        OwnerNode {
            children: Vec::new(),
            site,
            countdown: 0,
            gap: 0,
            recent_cum_fp: 0,
            recent_self_fp: 0,
            recent: 0,
            slot,
            site_slot,
        }
    }
}

/// How a frame closes.
#[derive(Clone, Copy)]
pub(crate) enum ExitKind {
    Call,
    Poll,
    PollCompleted { wall_ticks: u64 },
}
