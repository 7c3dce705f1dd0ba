//! The `Profile` data model: what a run measured, as plain serde data.
//!
//! This is the contract between the recorder (which fills it) and everything that reads it (the
//! HTML report, the console table, the command-line tools). It is exactly what
//! `profile_data.json` holds; `docs/profile-schema.md` documents every field. All durations are
//! nanoseconds.

mod functions;
mod lines;
mod meta;
mod resources;
mod sizes;
mod stages;

pub use functions::*;
pub use lines::*;
pub use meta::*;
pub use resources::*;
pub use sizes::*;
pub use stages::*;

use serde::{Deserialize, Serialize};

/// Version of the `profile_data.json` layout. Bump it on any change a reader could trip on.
pub const SCHEMA_VERSION: u32 = 2;

/// Everything one run measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Profile {
    /// Layout version of this document, see [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Who, where and when.
    pub meta: RunMeta,
    /// One row per instrumented function, merged over all threads.
    pub functions: Vec<FunctionStats>,
    /// The calling-context tree, merged over all threads by call path.
    pub call_tree: CallTree,
    /// One row per live thread that ran instrumented code, then one row for every thread that
    /// has exited (see [`ThreadStats::exited_threads`]).
    pub threads: Vec<ThreadStats>,
    /// Pipeline stages (`#[stage]`), in pipeline order.
    #[serde(default)]
    pub stages: Vec<StageStats>,
    /// Which stage pulls from which.
    #[serde(default)]
    pub pipeline_edges: Vec<PipelineEdge>,
    /// Sampled CPU, memory and GPU figures, when the resource sampler ran.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Projection from the sample size to the expected size.
    #[serde(default)]
    pub extrapolation: Option<Extrapolation>,
    /// The runs a merged profile was built from (`pipelinescope merge`), one per input, in input
    /// order; empty for a profile written by a single run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceRun>,
    /// Per-line figures of the functions annotated `#[profile(lines)]` (schema 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<FunctionLines>,
    /// Each call path's self time before the clamp at zero, for [`Profile::since`]. Only a
    /// snapshot taken in this process has it; never serialized.
    #[serde(skip)]
    #[doc(hidden)]
    pub unclamped_self: UnclampedSelf,
}

/// The signed self times of a snapshot's call paths, in nanoseconds, in
/// [`CallTree::nodes`] order. Taking the probe's cost off can bring a path's summed self time
/// below zero, and the snapshot shows zero there; the difference of two snapshots subtracts
/// these sums instead, so that it does not depend on what the earlier one clamped. Not part of
/// the profile's value: any two compare equal.
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct UnclampedSelf(pub Vec<i64>);

impl PartialEq for UnclampedSelf {
    fn eq(&self, _: &UnclampedSelf) -> bool {
        true
    }
}

impl UnclampedSelf {
    /// The sums, when they still describe `nodes` (same count: nothing was spliced out since).
    pub(crate) fn of<'a>(&'a self, nodes: &[CallNode]) -> Option<&'a [i64]> {
        (self.0.len() == nodes.len() && !nodes.is_empty()).then_some(self.0.as_slice())
    }
}

/// One input of a merged profile: where it came from and its own metadata.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SourceRun {
    /// Path of the `profile_data.json` it was read from, as given on the command line.
    pub path: String,
    /// Its metadata, unchanged.
    pub meta: RunMeta,
}

impl Profile {
    /// Looks a function up by display name.
    pub fn function(&self, name: &str) -> Option<&FunctionStats> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// Functions sorted by descending cumulative time.
    pub fn by_cumulative(&self) -> Vec<&FunctionStats> {
        let mut v: Vec<_> = self.functions.iter().collect();
        v.sort_by(|a, b| {
            b.cumulative_ns
                .cmp(&a.cumulative_ns)
                .then(a.name.cmp(&b.name))
        });
        v
    }

    /// The probe's estimated cost over the whole profile: timed calls at the timed cost,
    /// untimed calls at the untimed cost (a profile from before the split: every call at
    /// `probe_overhead_ns`).
    pub fn probe_cost_ns(&self) -> f64 {
        let m = &self.meta;
        let timed: u64 = self.functions.iter().map(|f| f.timed_calls).sum();
        if timed == 0 {
            return m.total_calls as f64 * m.probe_overhead_ns;
        }
        timed as f64 * m.probe_overhead_ns
            + m.total_calls.saturating_sub(timed) as f64 * m.probe_untimed_ns
    }

    /// Functions sorted by descending self time.
    pub fn by_self(&self) -> Vec<&FunctionStats> {
        let mut v: Vec<_> = self.functions.iter().collect();
        v.sort_by(|a, b| b.self_ns.cmp(&a.self_ns).then(a.name.cmp(&b.name)));
        v
    }
}

impl Profile {
    /// Removes the functions for which `drop` is true, as if they had not been instrumented:
    /// their call-tree nodes are spliced out (children move up to the caller) and their self
    /// time is charged to the caller, whose self time grows accordingly.
    pub fn remove_functions(&mut self, mut drop: impl FnMut(&FunctionStats) -> bool) {
        let removed: Vec<bool> = self.functions.iter().map(&mut drop).collect();
        if !removed.iter().any(|&r| r) {
            return;
        }
        // The paths are rebuilt: the signed sums no longer match them.
        self.unclamped_self = UnclampedSelf::default();
        let mut new_fn: Vec<Option<u32>> = Vec::with_capacity(removed.len());
        let mut kept = Vec::new();
        for (f, &r) in std::mem::take(&mut self.functions)
            .into_iter()
            .zip(&removed)
        {
            if r {
                new_fn.push(None);
            } else {
                new_fn.push(Some(kept.len() as u32));
                kept.push(f);
            }
        }
        for (i, f) in kept.iter_mut().enumerate() {
            f.id = i as u32;
        }
        // Rebuild the tree: nodes of removed functions map to their (new) parent.
        let old = std::mem::take(&mut self.call_tree.nodes);
        let mut map: Vec<u32> = vec![0; old.len()];
        let mut nodes: Vec<CallNode> = Vec::with_capacity(old.len());
        let mut by_path: std::collections::HashMap<(u32, u32), u32> = Default::default();
        for n in &old {
            let (Some(p), Some(f)) = (n.parent, n.function) else {
                // The root.
                map[n.id as usize] = nodes.len() as u32;
                nodes.push(CallNode {
                    children: Vec::new(),
                    ..n.clone()
                });
                continue;
            };
            let parent = map[p as usize];
            match new_fn.get(f as usize).copied().flatten() {
                None => {
                    map[n.id as usize] = parent;
                    if parent != 0 {
                        nodes[parent as usize].self_ns += n.self_ns;
                    }
                }
                Some(nf) => {
                    // Splicing can bring two paths together: merge them.
                    let id = *by_path.entry((parent, nf)).or_insert_with(|| {
                        let id = nodes.len() as u32;
                        nodes.push(CallNode {
                            id,
                            parent: Some(parent),
                            function: Some(nf),
                            ..CallNode::default()
                        });
                        nodes[parent as usize].children.push(id);
                        id
                    });
                    let m = &mut nodes[id as usize];
                    m.calls += n.calls;
                    m.cumulative_ns += n.cumulative_ns;
                    m.self_ns += n.self_ns;
                    m.panics += n.panics;
                    map[n.id as usize] = id;
                }
            }
        }
        let mut self_by_fn = vec![0u64; kept.len()];
        for n in &nodes {
            if let Some(f) = n.function {
                self_by_fn[f as usize] += n.self_ns;
            }
        }
        for (f, s) in kept.iter_mut().zip(self_by_fn) {
            f.self_ns = s;
        }
        self.functions = kept;
        self.call_tree.nodes = nodes;
        self.meta.total_calls = self.functions.iter().map(|f| f.calls).sum();
    }
}
