//! Tests of run differences (`Profile::since`).

use super::*;

#[test]
fn a_histogram_is_fitted_to_its_count() {
    let mut h = Histogram {
        sigfig: 2,
        buckets: vec![(10, 5), (20, 10), (30, 5)],
    };
    fit_count(&mut h, 23);
    assert_eq!(h.buckets, vec![(10, 5), (20, 13), (30, 5)]);
    fit_count(&mut h, 10);
    assert_eq!(h.count(), 10);
    assert_eq!(h.buckets, vec![(10, 5), (30, 5)]);
}

/// Two lazy stages, `src` feeding `sink`, at two snapshots. Each snapshot was held on its
/// own (own + upstream within active time), but the figures that grew between them did not
/// grow in step: the difference alone would give own times adding up to more than the time
/// the stages were active in between.
#[test]
fn a_difference_of_snapshots_is_held_to_the_active_time_between_them() {
    let stage = |name: &str, order: u32, own: u64, up: u64, active: u64| StageStats {
        name: name.into(),
        order,
        invocations: active / 10_000,
        records_in: active / 100,
        records_out: active / 100,
        own_ns: own,
        upstream_ns: up,
        active_ns: active,
        ..StageStats::default()
    };
    let edge = |records: u64| PipelineEdge {
        from: "src".into(),
        to: "sink".into(),
        records,
    };
    let base = Profile {
        stages: vec![
            stage("src", 0, 9_000, 0, 10_000),
            stage("sink", 1, 1_000, 9_000, 10_000),
        ],
        pipeline_edges: vec![edge(100)],
        ..Profile::default()
    };
    let now = Profile {
        stages: vec![
            stage("src", 0, 9_000 + 7_000, 0, 20_000),
            stage("sink", 1, 1_000 + 6_000, 9_000 + 2_000, 20_000),
        ],
        pipeline_edges: vec![edge(200)],
        ..Profile::default()
    };
    let d = now.since(&base);
    let own: u64 = d.stages.iter().map(|s| s.own_ns).sum();
    // 7,000 + 6,000 grew in 10,000 ns of active time.
    assert!(own <= 10_000, "{own}");
    let sink = d.stages.iter().find(|s| s.name == "sink").unwrap();
    assert!(sink.own_ns + sink.upstream_ns <= 10_000);
    // The producer is held to what its consumer spent pulling from it.
    let src = d.stages.iter().find(|s| s.name == "src").unwrap();
    assert!(
        src.own_ns <= sink.upstream_ns,
        "{} <= {}",
        src.own_ns,
        sink.upstream_ns
    );
    assert_eq!(sink.records_out, 100);
}

fn func(name: &str, calls: u64, self_ns: u64, cum: u64) -> FunctionStats {
    FunctionStats {
        name: name.into(),
        calls,
        self_ns,
        cumulative_ns: cum,
        ..FunctionStats::default()
    }
}

/// The root, `parent` (function 0) and its callee `child` (function 1), on one path each.
fn tree(calls: u64, parent: (u64, u64), child: u64) -> CallTree {
    CallTree {
        nodes: vec![
            CallNode {
                children: vec![1],
                ..CallNode::default()
            },
            CallNode {
                id: 1,
                parent: Some(0),
                function: Some(0),
                children: vec![2],
                calls,
                self_ns: parent.0,
                cumulative_ns: parent.1,
                panics: 0,
            },
            CallNode {
                id: 2,
                parent: Some(1),
                function: Some(1),
                children: vec![],
                calls,
                self_ns: child,
                cumulative_ns: child,
                panics: 0,
            },
        ],
    }
}

/// A parent charged 15 us of self time before the base and less than none since (its
/// callee was charged more than the parent measured): the run's figures still have the
/// callee inside the parent, and the parent's times are the sums over its path.
#[test]
fn a_difference_keeps_callees_inside_their_callers() {
    let base = Profile {
        functions: vec![
            func("parent", 1, 15_000, 16_000),
            func("child", 1, 1_000, 1_000),
        ],
        call_tree: tree(1, (15_000, 16_000), 1_000),
        ..Profile::default()
    };
    // Cumulative: the parent's self time fell back (its clamped sum took a negative part)
    // while the child grew: the raw difference would give the parent 2,000 ns of
    // inclusive time around a child of 5,000.
    let now = Profile {
        functions: vec![
            func("parent", 2, 12_000, 18_000),
            func("child", 2, 6_000, 6_000),
        ],
        call_tree: tree(2, (12_000, 18_000), 6_000),
        ..Profile::default()
    };
    let d = now.since(&base);
    let parent = &d.functions[0];
    let child = &d.functions[1];
    assert_eq!(child.cumulative_ns, 5_000);
    assert_eq!(parent.self_ns, 0);
    assert_eq!(parent.cumulative_ns, 5_000);
    assert!(child.cumulative_ns <= parent.cumulative_ns);
    let n = &d.call_tree.nodes;
    assert_eq!(n[1].cumulative_ns, n[1].self_ns + n[2].cumulative_ns);
}

/// The same parent's compensated self time summed to -4,000 ns at the base (shown as 0) and to
/// +3,000 ns now: 7,000 ns of self time came between them, not the 3,000 the clamped figures
/// give. Without the signed sums (a profile read from a file) the clamped figures are used.
#[test]
fn a_difference_subtracts_the_signed_self_times() {
    let base = Profile {
        functions: vec![func("parent", 1, 0, 1_000), func("child", 1, 1_000, 1_000)],
        call_tree: tree(1, (0, 1_000), 1_000),
        unclamped_self: UnclampedSelf(vec![0, -4_000, 1_000]),
        ..Profile::default()
    };
    let now = Profile {
        functions: vec![
            func("parent", 2, 3_000, 9_000),
            func("child", 2, 6_000, 6_000),
        ],
        call_tree: tree(2, (3_000, 9_000), 6_000),
        unclamped_self: UnclampedSelf(vec![0, 3_000, 6_000]),
        ..Profile::default()
    };
    let d = now.since(&base);
    assert_eq!(d.functions[0].self_ns, 7_000);
    assert_eq!(d.functions[1].self_ns, 5_000);
    assert_eq!(d.functions[0].cumulative_ns, 12_000);
    assert_eq!(d.unclamped_self.0, vec![0, 7_000, 5_000]);

    let mut read_back = now.clone();
    read_back.unclamped_self = UnclampedSelf::default();
    let d = read_back.since(&base);
    assert_eq!(d.functions[0].self_ns, 3_000);
    assert!(d.unclamped_self.0.is_empty());
}
