//! Tests of merging profiles.

use super::*;

fn hist(values: &[u64]) -> Histogram {
    let mut all = Histogram {
        sigfig: 2,
        buckets: values.iter().map(|&v| (v, 1)).collect(),
    };
    all.buckets.sort();
    Histogram::from_hdr(&all.to_hdr())
}

fn func(id: u32, name: &str, values: &[u64]) -> FunctionStats {
    let histogram = hist(values);
    let total: u64 = values.iter().sum();
    let hdr = histogram.to_hdr();
    FunctionStats {
        id,
        name: name.into(),
        module: "m".into(),
        calls: values.len() as u64,
        cumulative_ns: total,
        self_ns: total / 2,
        percentiles: Percentiles::from_hdr(
            &hdr,
            *values.iter().min().unwrap(),
            *values.iter().max().unwrap(),
            total as f64 / values.len() as f64,
        ),
        histogram,
        ..Default::default()
    }
}

fn tree(edges: &[(u32, u32, u64)]) -> CallTree {
    // (parent node, function, calls); node ids in order starting at 1.
    let mut nodes = vec![CallNode::default()];
    for &(parent, f, calls) in edges {
        let id = nodes.len() as u32;
        nodes.push(CallNode {
            id,
            parent: Some(parent),
            function: Some(f),
            calls,
            cumulative_ns: calls * 10,
            self_ns: calls * 5,
            ..Default::default()
        });
        nodes[parent as usize].children.push(id);
    }
    CallTree { nodes }
}

#[test]
fn merges_exactly() {
    let a = Profile {
        schema_version: 1,
        meta: RunMeta {
            wall_ns: 1000,
            host: "a".into(),
            total_calls: 4,
            ..Default::default()
        },
        functions: vec![func(0, "f", &[100, 200, 300]), func(1, "g", &[5000])],
        call_tree: tree(&[(0, 0, 3), (1, 1, 1)]),
        ..Default::default()
    };
    let b = Profile {
        schema_version: 1,
        meta: RunMeta {
            wall_ns: 3000,
            host: "b".into(),
            total_calls: 3,
            ..Default::default()
        },
        // Different order of functions: ids differ, names match.
        functions: vec![func(0, "g", &[7000]), func(1, "f", &[400, 500])],
        call_tree: tree(&[(0, 1, 2), (1, 0, 1)]),
        ..Default::default()
    };
    let m = merge(&[("a".into(), a.clone()), ("b".into(), b.clone())]);
    assert_eq!(m.meta.wall_ns, 4000);
    assert_eq!(m.meta.total_calls, 7);
    assert_eq!(m.meta.host, "a, b");
    let f = m.function("f").unwrap();
    assert_eq!(f.calls, 5);
    assert_eq!(f.cumulative_ns, 1500);
    assert_eq!(f.histogram.count(), 5);
    assert_eq!(f.percentiles.min_ns, 100);
    assert_eq!(f.percentiles.max_ns, 500);
    assert!((f.percentiles.mean_ns - 300.0).abs() < 1e-9);
    // Pooling the same values directly gives the same buckets.
    assert_eq!(f.histogram, hist(&[100, 200, 300, 400, 500]));
    let g = m.function("g").unwrap();
    assert_eq!(g.calls, 2);
    // Tree: root -> f -> g, merged by path.
    assert_eq!(m.call_tree.nodes.len(), 3);
    let fnode = &m.call_tree.nodes[1];
    assert_eq!(m.functions[fnode.function.unwrap() as usize].name, "f");
    assert_eq!(fnode.calls, 5);
    let gnode = &m.call_tree.nodes[2];
    assert_eq!(gnode.parent, Some(1));
    assert_eq!(gnode.calls, 2);
    assert_eq!(m.sources.len(), 2);
    assert_eq!(m.sources[1].meta.host, "b");
    // Merging a merged profile keeps the flat list of sources.
    let mm = merge(&[("m".into(), m.clone()), ("a".into(), a)]);
    assert_eq!(mm.sources.len(), 3);
    assert_eq!(mm.function("f").unwrap().histogram.count(), 8);
}

#[test]
fn bucket_round_trip_is_exact() {
    let h = hist(&[3, 40_000, 40_100, 1_234_567, 99_999_999]);
    assert_eq!(h.count(), 5);
    assert_eq!(Histogram::from_hdr(&h.to_hdr()), h);
    assert_eq!(merge_histograms([&h, &h]).count(), 10);
    // Re-recorded buckets stay in place: the merge of h with itself has h's values.
    let values: Vec<u64> = merge_histograms([&h, &h])
        .buckets
        .iter()
        .map(|b| b.0)
        .collect();
    assert_eq!(values, h.buckets.iter().map(|b| b.0).collect::<Vec<_>>());
}

#[test]
fn merges_stages() {
    let st = |own: u64, out: u64| StageStats {
        name: "s".into(),
        records_in: out * 2,
        records_out: out,
        own_ns: own,
        invocations: 1,
        own_histogram: hist(&[own / out.max(1)]),
        ..Default::default()
    };
    let a = Profile {
        meta: RunMeta {
            wall_ns: 1_000_000,
            ..Default::default()
        },
        stages: vec![st(100_000, 10)],
        ..Default::default()
    };
    let b = Profile {
        meta: RunMeta {
            wall_ns: 1_000_000,
            ..Default::default()
        },
        stages: vec![st(300_000, 30)],
        ..Default::default()
    };
    let m = merge(&[("a".into(), a), ("b".into(), b)]);
    let s = &m.stages[0];
    assert_eq!((s.records_in, s.records_out, s.own_ns), (80, 40, 400_000));
    assert!((s.selectivity - 0.5).abs() < 1e-12);
    assert!((s.throughput_per_s - 100_000.0).abs() < 1e-6);
    assert!(s.is_bottleneck);
    assert_eq!(s.own_histogram.count(), 2);
    assert!((s.amdahl_if_free - 1.0 / 0.8).abs() < 1e-9);
}
