//! Call sites: one `static` per instrumented function ([`Site`]) and per stage ([`StageSite`]),
//! each given an id on its first use by one registration mechanism (`Registry`).
//!
//! Plain descriptions and their lists: a function site's first use also measures the probe's
//! cost first, which is the probes' business (`probe::function`).

use crate::profile::StageKind;
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

/// Static description of one instrumented place: a function ([`Site`]) or a stage
/// ([`StageSite`]). The macros emit one per annotated function.
pub struct Described<K: 'static> {
    id: SiteId,
    /// Display name.
    pub name: &'static str,
    /// `module_path!()` of the function.
    pub module: &'static str,
    /// `file!()` of the function.
    pub file: &'static str,
    /// `line!()` of the function.
    pub line: u32,
    /// Sync or async (a function); lazy or eager (a stage).
    pub kind: K,
}

/// Static description of one instrumented function.
pub type Site = Described<SiteKind>;

/// Static description of one stage: lazy (returns an iterator) or eager (returns a
/// collection).
pub type StageSite = Described<StageKind>;

impl<K> Described<K> {
    /// A new, unregistered site.
    pub const fn new(
        name: &'static str,
        module: &'static str,
        file: &'static str,
        line: u32,
        kind: K,
    ) -> Described<K> {
        Described {
            id: SiteId(AtomicU32::new(0)),
            name,
            module,
            file,
            line,
            kind,
        }
    }

    /// The site's id, or 0 before it registers.
    #[inline(always)]
    pub(crate) fn id_made(&self) -> u32 {
        self.id.0.load(Relaxed)
    }

    /// The site's id (never 0), made by `register` on first use.
    #[inline(always)]
    pub(crate) fn id_or(&'static self, register: impl FnOnce(&'static Self) -> u32) -> u32 {
        let id = self.id_made();
        if id != 0 { id } else { register(self) }
    }
}

impl StageSite {
    /// The stage's id (never 0), registering it on first use.
    #[inline(always)]
    pub fn id(&'static self) -> u32 {
        self.id_or(register_stage)
    }
}

#[cold]
#[inline(never)]
fn register_stage(s: &'static StageSite) -> u32 {
    STAGES.register(s)
}

/// A site's id: 0 until the site registers.
struct SiteId(AtomicU32);

/// The sites of one kind in the order they registered; an id is a position in it.
pub(crate) struct Registry<T: 'static> {
    list: Mutex<Vec<&'static Described<T>>>,
    /// Held at position 0 when set (ids are positions); without, ids are positions plus one.
    /// Either way 0 is never a real site's id.
    root: Option<&'static Described<T>>,
}

impl<T> Registry<T> {
    const fn new(root: Option<&'static Described<T>>) -> Registry<T> {
        Registry {
            list: Mutex::new(Vec::new()),
            root,
        }
    }

    /// The sites registered so far.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Vec<&'static Described<T>>> {
        // A panic while holding this lock cannot leave the list inconsistent (push is the only
        // mutation), so a poisoned lock is still good.
        self.list.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `item` the first time, stores its id in `id` and returns it; a concurrent
    /// registration of the same item returns the id the winner stored.
    pub(crate) fn register(&self, item: &'static Described<T>) -> u32 {
        let mut list = self.lock();
        // Growing the registry is the profiler's memory, not the caller's.
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        crate::clock::mark_first_use();
        // Another thread may have registered it while this one waited for the lock.
        let id = &item.id.0;
        let current = id.load(Relaxed);
        if current != 0 {
            return current;
        }
        if let (Some(r), true) = (self.root, list.is_empty()) {
            list.push(r);
        }
        list.push(item);
        let new = (list.len() - usize::from(self.root.is_some())) as u32;
        id.store(new, Relaxed);
        new
    }
}

/// Placeholder for id 0: the call tree's root; real sites start at 1.
static ROOT: Site = Site::new("<root>", "", "", 0, SiteKind::Sync);

/// Registered function sites; id `n` is at index `n`.
pub(crate) static SITES: Registry<SiteKind> = Registry::new(Some(&ROOT));

/// Registered stages; id `n` is at index `n - 1` (id 0 means "no stage").
static STAGES: Registry<StageKind> = Registry::new(None);

/// The function sites registered so far, by id.
pub(crate) fn registry() -> MutexGuard<'static, Vec<&'static Site>> {
    SITES.lock()
}

/// The stages registered so far, by id less one.
pub(crate) fn stages() -> MutexGuard<'static, Vec<&'static StageSite>> {
    STAGES.lock()
}

/// Name of the stage with id `id` (as published in `ThreadData::current_stage`), for samplers.
pub fn stage_name(id: u32) -> Option<&'static str> {
    let i = (id as usize).checked_sub(1)?;
    stages().get(i).map(|s| s.name)
}
