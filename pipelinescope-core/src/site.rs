//! Call sites: one `static` per instrumented function, registered lazily on its first call.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What kind of code a site instruments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteKind {
    /// A plain function.
    Sync,
    /// An `async fn`.
    Async,
}

/// Static description of one instrumented function. The macros emit one per function.
pub struct Site {
    id: AtomicU32,
    /// Display name.
    pub name: &'static str,
    /// `module_path!()` of the function.
    pub module: &'static str,
    /// `file!()` of the function.
    pub file: &'static str,
    /// `line!()` of the function.
    pub line: u32,
    /// Sync or async.
    pub kind: SiteKind,
}

/// Id 0 is the call tree's root; real sites start at 1.
static SITES: Mutex<Vec<&'static Site>> = Mutex::new(Vec::new());

pub(crate) fn registry() -> MutexGuard<'static, Vec<&'static Site>> {
    // A panic while holding this lock cannot leave the list inconsistent (push is the only
    // mutation), so a poisoned lock is still good.
    SITES.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Site {
    /// A new, unregistered site.
    pub const fn new(
        name: &'static str,
        module: &'static str,
        file: &'static str,
        line: u32,
        kind: SiteKind,
    ) -> Site {
        Site {
            id: AtomicU32::new(0),
            name,
            module,
            file,
            line,
            kind,
        }
    }

    /// The site's id, registering it on first use.
    #[inline(always)]
    pub fn id(&'static self) -> u32 {
        let id = self.id.load(Relaxed);
        if id != 0 { id } else { self.register() }
    }

    #[cold]
    #[inline(never)]
    fn register(&'static self) -> u32 {
        // The probe's cost is measured before the first call of the process is recorded, so
        // that every call closes with it known; not under the registry's lock, which the
        // calibration's own site takes.
        crate::calibrate::ensure();
        register_once(&mut registry(), self, &self.id, Some(&ROOT))
    }
}

/// Appends `item` to a registry the first time, stores its id in `id` and returns it; a
/// concurrent registration of the same item returns the id the winner stored. With `root`, the
/// registry's slot 0 holds it and ids are positions; without, ids are positions plus one (0
/// stays "none"). Shared by function sites and stage sites.
pub(crate) fn register_once<T>(
    list: &mut Vec<&'static T>,
    item: &'static T,
    id: &AtomicU32,
    root: Option<&'static T>,
) -> u32 {
    // Growing the registry is the profiler's memory, not the caller's.
    #[cfg(feature = "alloc")]
    let _quiet = crate::alloc::quiet_here();
    crate::clock::mark_first_use();
    // Another thread may have registered it while this one waited for the lock.
    let current = id.load(Relaxed);
    if current != 0 {
        return current;
    }
    if let (Some(r), true) = (root, list.is_empty()) {
        list.push(r);
    }
    list.push(item);
    let new = (list.len() - usize::from(root.is_some())) as u32;
    id.store(new, Relaxed);
    new
}

/// Placeholder for id 0.
static ROOT: Site = Site::new("<root>", "", "", 0, SiteKind::Sync);
