//! Reading every thread's size classes: the exited threads' aggregate plus the live threads.

use crate::profile::SizeBucket;
use crate::threads::registered;
use crate::threads::size_merge::{SizeMerged, buckets};

/// Every thread's size classes, merged.
pub(crate) fn collect() -> SizeMerged {
    let (threads, exited) = registered();
    let mut all = exited.map_or_else(SizeMerged::default, |e| e.sizes.clone());
    for td in &threads {
        all.add_thread(td);
    }
    all
}

/// The buckets of function site `id` (empty when it recorded no size).
pub(crate) fn function(m: &SizeMerged, id: u32, scale: f64) -> Vec<SizeBucket> {
    m.functions
        .get(&id)
        .map_or_else(Vec::new, |c| buckets(c, scale))
}

/// The buckets of stage `id` (empty when it recorded no size).
pub(crate) fn stage(m: &SizeMerged, id: u32, scale: f64) -> Vec<SizeBucket> {
    m.stages
        .get(&id)
        .map_or_else(Vec::new, |c| buckets(c, scale))
}
