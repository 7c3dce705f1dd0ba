//! The probe of a sync function: [`enter`] opens a frame on the current thread's state, the
//! [`Guard`] closes it. A site's first use measures the probe's cost first (`calibrate`).

use super::calibrate;
use crate::local::{ExitKind, Frame, ThreadData};
use crate::site::{SITES, Site};
use crate::threads::{current_thread, local, local_made};
use std::mem::ManuallyDrop;
use std::sync::atomic::Ordering::Relaxed;

impl Site {
    /// The site's id, registering it on first use.
    #[inline(always)]
    pub fn id(&'static self) -> u32 {
        self.id_or(register)
    }
}

#[cold]
#[inline(never)]
fn register(site: &'static Site) -> u32 {
    // The probe's cost is measured before the first call of the process is recorded, so that
    // every call closes with it known; not under the registry's lock, which the calibration's
    // own site takes.
    calibrate::ensure();
    SITES.register(site)
}

/// The stage whose code runs on the calling thread now, as published for samplers: 0 when
/// none, or when the thread has not run instrumented code.
pub fn current_stage() -> u32 {
    current_thread().map_or(0, |t| t.current_stage.load(Relaxed))
}

/// Closes a sync frame when dropped, on return, `?` and unwinding alike.
#[must_use = "the frame closes when the guard is dropped"]
pub struct Guard {
    open: Option<(&'static ThreadData, Frame)>,
}

/// Opens a frame for `site` on the current thread: inline, the untimed call of a registered
/// site on a path the thread has seen (most calls of a sampled function); everything else (a
/// timed call, a new path, the first call) in a call, so that the code inlined into every
/// instrumented function stays small and keeps few of its registers. A timed call's clock
/// readings stay inline, after that call and before the guard's exit call, so that what falls
/// inside its interval is a few instructions (what the calibration measures).
#[inline(always)]
pub fn enter(site: &'static Site) -> Guard {
    match untimed(site) {
        Untimed::Open(open) => Guard { open: Some(open) },
        Untimed::Off => Guard { open: None },
        Untimed::No => enter_general(site).started(),
    }
}

impl Guard {
    /// The guard with its timed call's start read now (see [`general`]).
    #[inline(always)]
    fn started(mut self) -> Guard {
        if let Some((_, frame)) = &mut self.open {
            frame.start_clock();
        }
        self
    }
}

/// What the inlined part of the probe found.
enum Untimed {
    /// An untimed frame, opened.
    Open((&'static ThreadData, Frame)),
    /// Recording is switched off: nothing to do.
    Off,
    /// The call needs the general path (nothing changed).
    No,
}

/// [`enter`] for every call its inlined part leaves.
#[inline(never)]
fn enter_general(site: &'static Site) -> Guard {
    general(site)
}

/// Everything [`enter`] can meet, inlined into the two out-of-line general paths: the frame
/// of a timed call without its start.
#[inline(always)]
fn general(site: &'static Site) -> Guard {
    if !crate::control::enabled() {
        return Guard { open: None };
    }
    let id = site.id();
    Guard {
        open: local().map(|td| (td, td.enter_unstarted(id, None))),
    }
}

/// The untimed case of [`enter`], or what keeps a call from it.
#[inline(always)]
fn untimed(site: &'static Site) -> Untimed {
    match crate::control::known() {
        Some(true) => {}
        Some(false) => return Untimed::Off,
        None => return Untimed::No,
    }
    let id = site.id_made();
    if id == 0 {
        return Untimed::No;
    }
    let Some(td) = local_made() else {
        return Untimed::No;
    };
    match td.enter_untimed(id) {
        Some(frame) => Untimed::Open((td, frame)),
        None => Untimed::No,
    }
}

impl Drop for Guard {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some((td, frame)) = &self.open {
            td.exit(frame, ExitKind::Call);
        }
    }
}

/// The guard of [`enter_outlined`]: its frame closes in a call to this crate.
#[must_use = "the frame closes when the guard is dropped"]
pub struct OutlinedGuard(ManuallyDrop<Guard>);

/// [`enter`] in a call to this crate instead of inlined into the caller: what `#[profile]`
/// expands to in builds with debug assertions (the dev and test profiles).
///
/// There the caller is usually compiled without optimisation, and an inlined probe would be
/// too: about 200 ns a call against 10 in an optimised build. Out of line, the probe is this
/// crate's code, compiled once with this crate's settings, so that
/// `[profile.dev.package.pipelinescope-core] opt-level = 3` makes it fast in a debug build
/// (about 14 ns a call), and the caller's build does not compile the probe's code into every
/// function it instruments. Optimised builds without debug assertions inline [`enter`]: the
/// call costs about 2 ns more than the inlined probe.
///
/// Its fast path is an untimed call of a registered site on a path the thread has seen (most
/// calls of a sampled function), handled without a call; everything else goes to the general
/// path, out of line, which also reads a timed call's start: the calibration measures the
/// inlined form, so a debug build's compensation is approximate either way.
#[inline(never)]
pub fn enter_outlined(site: &'static Site) -> OutlinedGuard {
    match untimed(site) {
        Untimed::Open(open) => OutlinedGuard(ManuallyDrop::new(Guard { open: Some(open) })),
        Untimed::Off => OutlinedGuard(ManuallyDrop::new(Guard { open: None })),
        Untimed::No => outlined_general(site),
    }
}

/// [`enter_outlined`] for every call its fast path leaves.
#[inline(never)]
fn outlined_general(site: &'static Site) -> OutlinedGuard {
    OutlinedGuard(ManuallyDrop::new(general(site).started()))
}

impl Drop for OutlinedGuard {
    #[inline(never)]
    fn drop(&mut self) {
        // The inner guard's drop, with a timed call's exit out of line (it reads the clock).
        if let Some((td, frame)) = &self.0.open {
            td.exit_call_lean(frame);
        }
    }
}
