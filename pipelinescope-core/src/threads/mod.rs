//! Every thread: the thread-local handle that reaches the current thread's state, the registry
//! of the live threads' states, and the aggregate the exited threads fold into as they exit
//! (merged by the same code a snapshot merges live threads with).

#[cfg(feature = "alloc")]
pub(crate) mod alloc_totals;
pub(crate) mod exited;
mod handle;
pub(crate) mod merge;
mod registry;
pub(crate) mod size_merge;
pub(crate) mod stage_merge;

pub(crate) use handle::{current_thread, local, local_made, with_private_state};
pub(crate) use registry::{all_threads, registered};
pub(crate) mod lines;
