//! The link between a lazy stage's output and its inputs: how the output asks its inputs to
//! time their pulls (arming, epochs, joining), shared by one stage call's wrappers.

use super::recording;
use crate::site::StageSite;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};

/// Ties a lazy stage's inputs to its output, so that the output can ask the inputs to time their
/// pulls. The macro makes one per stage call that has iterator inputs.
pub struct StageLink(pub(super) Option<Arc<Link>>);

pub(super) struct Link {
    pub(super) id: u32,
    /// Inputs look at every pull while set (and time those made while `timing`).
    pub(super) armed: AtomicBool,
    /// Bumped each time the output arms the link; each input joins an epoch once.
    pub(super) epoch: AtomicU32,
    /// Inputs that joined the current epoch.
    pub(super) joined: AtomicU32,
    /// Inputs that can still be pulled (made, not yet exhausted or dropped).
    pub(super) live: AtomicU32,
    /// Pulls between two looks at `armed` by an input that is not timing.
    pub(super) poll: AtomicU32,
    /// A timed call of the output is open: armed inputs time their pulls while it is.
    pub(super) timing: AtomicBool,
    /// The invocation's records in, records out and own ticks, and the outputs that finished
    /// (`invocation`).
    pub(super) inv_in: AtomicU64,
    pub(super) inv_out: AtomicU64,
    pub(super) inv_own: AtomicU64,
    pub(super) inv_outputs: AtomicU32,
}

/// Adds to a counter of a link: only the thread using the stage writes it.
pub(super) fn add(c: &AtomicU32, by: u32) {
    c.store(c.load(Relaxed).wrapping_add(by), Relaxed);
}

impl StageLink {
    /// A link for one call of the stage `site` (inert when not recording).
    pub fn new(site: &'static StageSite) -> StageLink {
        if !recording() {
            return StageLink(None);
        }
        // The recorder's own memory is not the program's.
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        StageLink::with_id(site.id())
    }

    /// A live link for stage `id`, its first call timed with its pulls.
    pub(super) fn with_id(id: u32) -> StageLink {
        StageLink(Some(Arc::new(Link {
            id,
            armed: AtomicBool::new(true),
            epoch: AtomicU32::new(1),
            joined: AtomicU32::new(0),
            live: AtomicU32::new(0),
            poll: AtomicU32::new(1),
            timing: AtomicBool::new(false),
            inv_in: AtomicU64::new(0),
            inv_out: AtomicU64::new(0),
            inv_own: AtomicU64::new(0),
            inv_outputs: AtomicU32::new(0),
        })))
    }

    pub(super) fn get(&self) -> Option<&Link> {
        self.0.as_deref()
    }

    /// The link of the calibration stage (id 0, see `calibrate`), recording or not.
    pub(super) fn calibrating() -> StageLink {
        StageLink::with_id(0)
    }

    /// A link that is not recording.
    pub(super) fn off() -> StageLink {
        StageLink(None)
    }
}

impl Clone for StageLink {
    fn clone(&self) -> Self {
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        StageLink(self.0.clone())
    }
}

impl Drop for StageLink {
    fn drop(&mut self) {
        // Freeing the link is the recorder's business too.
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        self.0.take();
    }
}
