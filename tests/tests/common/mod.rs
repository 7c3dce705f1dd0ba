//! Helpers shared by the behaviour tests.
#![allow(dead_code)]

use pipelinescope::{CallNode, FunctionStats, Profile, StageStats};
use std::time::{Duration, Instant};

/// The one function row named `name` (each test uses its own function names, since tests in a
/// binary share the process and its profile).
pub fn function(profile: &Profile, name: &str) -> FunctionStats {
    let mut rows = profile.functions.iter().filter(|f| f.name == name);
    let row = rows
        .next()
        .unwrap_or_else(|| panic!("no function named {name:?} in the profile"));
    assert!(rows.next().is_none(), "two functions named {name:?}");
    row.clone()
}

/// Whether a function named `name` is in the profile.
pub fn has_function(profile: &Profile, name: &str) -> bool {
    profile.functions.iter().any(|f| f.name == name)
}

/// The call-tree nodes of the function named `name`.
pub fn nodes<'a>(profile: &'a Profile, name: &str) -> Vec<&'a CallNode> {
    let id = function(profile, name).id;
    profile
        .call_tree
        .nodes
        .iter()
        .filter(|n| n.function == Some(id))
        .collect()
}

/// The function name of a call-tree node's parent (`None` for a root call).
pub fn parent_name(profile: &Profile, node: &CallNode) -> Option<String> {
    let parent = &profile.call_tree.nodes[node.parent? as usize];
    let f = parent.function?;
    Some(profile.functions[f as usize].name.clone())
}

/// Busy-waits for `d` (a sleep would be descheduled and make times noisy in another way).
pub fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Asserts `actual` is within `rel` (relative) of `expected`, or within 2 µs for tiny values.
#[track_caller]
pub fn assert_close(actual: u64, expected: u64, rel: f64, what: &str) {
    let diff = actual.abs_diff(expected) as f64;
    let allowed = (expected as f64 * rel).max(2_000.0);
    assert!(
        diff <= allowed,
        "{what}: {actual} ns vs {expected} ns (difference {diff} > allowed {allowed})"
    );
}

/// The stage named `name` in a fresh snapshot.
pub fn stage_named(name: &str) -> StageStats {
    let p = pipelinescope::snapshot();
    p.stages
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("no stage {name} in {:#?}", p.stages))
}

/// The records on the pipeline edge from stage `from` to stage `to` in a fresh snapshot (None:
/// no such edge).
pub fn edge_records(from: &str, to: &str) -> Option<u64> {
    pipelinescope::snapshot()
        .pipeline_edges
        .iter()
        .find(|e| e.from == from && e.to == to)
        .map(|e| e.records)
}
