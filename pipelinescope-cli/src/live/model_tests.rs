use super::*;
use crate::live::testdata::{first, resources, second, snapshot};

fn row<'a>(f: &'a Frame, name: &str) -> &'a FunctionRow {
    f.functions.iter().find(|r| r.name == name).unwrap()
}

fn stage<'a>(f: &'a Frame, name: &str) -> &'a StageRow {
    f.stages.iter().find(|r| r.name == name).unwrap()
}

#[test]
fn the_interval_is_the_difference_of_two_snapshots() {
    let (a, b) = (first(), second());
    let f = diff(Some(&a), &b);
    assert_eq!(f.program, "etl_job");
    assert_eq!(f.run_id, "run_20260101T000000Z_7");
    assert_eq!(f.pid, 7);
    assert_eq!(f.uptime_ns, 3_000_000_000);
    assert_eq!(f.interval_ns, 2_000_000_000);
    assert!(!f.since_start);

    // parse: 4000 calls and 0.8 s of self time in 2 s; those calls took 200 ns each.
    let parse = row(&f, "parse");
    assert_eq!(parse.calls_per_s, 2000.0);
    assert_eq!(parse.self_share, 0.4);
    assert_eq!(parse.p99_ns, Some(200));
    assert_eq!(parse.calls_total, 5000);
    assert_eq!(parse.self_total_ns, 1_000_000_000);
    assert_eq!(parse.module, "etl::parse");
    // write_rows: idle in the interval, still listed with its totals.
    let w = row(&f, "write_rows");
    assert_eq!((w.calls_per_s, w.self_share, w.p99_ns), (0.0, 0.0, None));
    assert_eq!(w.calls_total, 10);
    // late_starter: new in the interval, all of it counts.
    let late = row(&f, "late_starter");
    assert_eq!(late.calls_per_s, 15.0);
    assert_eq!(late.self_share, 0.15);
    assert_eq!(late.p99_ns, Some(150));
    assert_eq!(f.calls_total, 5040);
    assert_eq!(f.calls_per_s, 2015.0);

    // Stages, in pipeline order.
    let names: Vec<_> = f.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["source", "transform", "sink"]);
    let src = stage(&f, "source");
    assert_eq!((src.in_per_s, src.out_per_s), (0.0, 1000.0));
    let t = stage(&f, "transform");
    assert_eq!((t.in_per_s, t.out_per_s), (1000.0, 500.0));
    let sink = stage(&f, "sink");
    assert_eq!((sink.in_per_s, sink.out_per_s), (500.0, 0.0));
    // Own time in the interval: 200 + 700 + 100 ms.
    assert_eq!(src.own_share, 0.2);
    assert_eq!(t.own_share, 0.7);
    assert_eq!(sink.own_share, 0.1);
    assert_eq!(t.out_total, 2000);
    // The bottleneck now is transform, although sink has the most own time since the start.
    assert_eq!(f.bottleneck.as_deref(), Some("transform"));
    let marked: Vec<_> = f.stages.iter().filter(|s| s.is_bottleneck).collect();
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0].name, "transform");
}

#[test]
fn the_first_snapshot_is_read_over_the_whole_run() {
    let f = diff(None, &first());
    assert!(f.since_start);
    assert_eq!(f.interval_ns, 1_000_000_000);
    let parse = row(&f, "parse");
    assert_eq!(parse.calls_per_s, 1000.0);
    assert_eq!(parse.self_share, 0.2);
    assert_eq!(parse.p99_ns, Some(100));
    assert_eq!(f.bottleneck.as_deref(), Some("sink"));
    assert_eq!(stage(&f, "sink").own_share, 1_500.0 / 1_800.0);
}

#[test]
fn a_new_run_at_the_same_address_starts_over() {
    let a = second();
    // Another run (the program restarted on a fixed address): not subtracted.
    let mut b = first();
    b.meta.run_id = "run_20260101T000100Z_8".to_string();
    b.meta.pid = 8;
    let f = diff(Some(&a), &b);
    assert!(f.since_start);
    assert_eq!(f.interval_ns, 1_000_000_000);
    assert_eq!(row(&f, "parse").calls_per_s, 1000.0);
    // Same run id but a clock that went back: not the same run either.
    let mut c = first();
    c.meta.wall_ns = 500_000_000;
    assert!(!same_run(&a, &c));
    assert!(diff(Some(&a), &c).since_start);
}

#[test]
fn an_interval_without_time_has_no_rates() {
    let a = first();
    let f = diff(Some(&a), &a);
    assert_eq!(f.interval_ns, 0);
    assert!(!f.since_start);
    assert!(
        f.functions
            .iter()
            .all(|r| r.calls_per_s == 0.0 && r.self_share == 0.0 && r.p99_ns.is_none())
    );
    assert!(
        f.stages
            .iter()
            .all(|s| s.out_per_s == 0.0 && s.own_share == 0.0)
    );
    assert_eq!(f.bottleneck, None);
    assert_eq!(f.calls_total, 1010);
}

#[test]
fn sorting_cycles_through_the_columns() {
    let mut rows = diff(Some(&first()), &second()).functions;
    let names = |rows: &[FunctionRow]| rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    sort_functions(&mut rows, FunctionSort::SelfShare);
    assert_eq!(names(&rows), ["parse", "late_starter", "write_rows"]);
    sort_functions(&mut rows, FunctionSort::CallsPerS);
    assert_eq!(names(&rows), ["parse", "late_starter", "write_rows"]);
    sort_functions(&mut rows, FunctionSort::P99);
    // write_rows had no call in the interval: no p99, last.
    assert_eq!(names(&rows), ["parse", "late_starter", "write_rows"]);
    sort_functions(&mut rows, FunctionSort::SelfTotal);
    assert_eq!(names(&rows), ["parse", "late_starter", "write_rows"]);
    let mut s = FunctionSort::default();
    let mut seen = vec![s];
    for _ in 0..4 {
        s = s.next();
        seen.push(s);
    }
    assert_eq!(seen[4], FunctionSort::SelfShare);
    assert_eq!(
        seen[..4],
        [
            FunctionSort::SelfShare,
            FunctionSort::CallsPerS,
            FunctionSort::P99,
            FunctionSort::SelfTotal
        ]
    );

    let mut stages = diff(Some(&first()), &second()).stages;
    let order = |rows: &[StageRow]| rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    sort_stages(&mut stages, StageSort::OwnShare);
    assert_eq!(order(&stages), ["transform", "source", "sink"]);
    sort_stages(&mut stages, StageSort::OutPerS);
    assert_eq!(order(&stages), ["source", "transform", "sink"]);
    sort_stages(&mut stages, StageSort::Pipeline);
    assert_eq!(order(&stages), ["source", "transform", "sink"]);
    assert_eq!(StageSort::OutPerS.next(), StageSort::Pipeline);
}

#[test]
fn sort_orders_differ_where_the_figures_do() {
    use crate::live::testdata::function;
    // hot: many cheap calls; slow: few long calls with much self time.
    let a = snapshot(0, vec![], vec![]);
    let b = snapshot(
        1_000_000_000,
        vec![
            function("hot", 10_000_000, &[(100, 100_000)]),
            function("slow", 500_000_000, &[(250, 2)]),
        ],
        vec![],
    );
    let mut rows = diff(Some(&a), &b).functions;
    sort_functions(&mut rows, FunctionSort::SelfShare);
    assert_eq!(rows[0].name, "slow");
    sort_functions(&mut rows, FunctionSort::CallsPerS);
    assert_eq!(rows[0].name, "hot");
    assert_eq!(rows[0].calls_per_s, 100_000.0);
}

#[test]
fn cpu_and_memory_per_interval() {
    // Samples every 0.5 s; snapshots at 1 s and 3 s.
    let r = resources(&[
        (500.0, 50.0, 100),
        (1000.0, 70.0, 150),
        (1500.0, 100.0, 200),
        (2500.0, 200.0, 300),
    ]);
    assert_eq!(interval_resources(&r, 0, 1_000_000_000), Some((60.0, 150)));
    assert_eq!(
        interval_resources(&r, 1_000_000_000, 3_000_000_000),
        Some((150.0, 300))
    );
    // No sample inside: the last one before the end.
    assert_eq!(
        interval_resources(&r, 3_000_000_000, 4_000_000_000),
        Some((200.0, 300))
    );
    assert_eq!(interval_resources(&resources(&[]), 0, 1), None);

    let mut m = Model::default();
    let mut a = first();
    a.resources = Some(resources(&[(500.0, 50.0, 100), (1000.0, 70.0, 150)]));
    let f = m.push(a);
    assert_eq!(f.cpu_history, [60.0]);
    assert_eq!(f.mem_history, [150]);
    assert_eq!(f.peak_rss_bytes, Some(150));
    assert_eq!(f.resources_note, None);
    let mut b = second();
    b.resources = Some(r);
    let f = m.push(b);
    assert_eq!(f.cpu_history, [60.0, 150.0]);
    assert_eq!(f.mem_history, [150, 300]);
    assert!(!f.since_start);
    assert_eq!(row(&f, "parse").calls_per_s, 2000.0);
}

#[test]
fn the_history_is_bounded_and_restarts_with_a_new_run() {
    let mut m = Model::default();
    for i in 1..=(HISTORY as u64 + 10) {
        let mut p = snapshot(i * 1_000_000_000, vec![], vec![]);
        p.resources = Some(resources(&[(i as f64 * 1000.0, i as f64, i)]));
        let f = m.push(p);
        assert_eq!(f.cpu_history.len(), (i as usize).min(HISTORY));
        assert_eq!(*f.mem_history.last().unwrap(), i);
    }
    let mut other = snapshot(1_000_000_000, vec![], vec![]);
    other.meta.run_id = "run_other".to_string();
    other.resources = Some(resources(&[(900.0, 5.0, 9)]));
    let f = m.push(other);
    assert_eq!(f.cpu_history, [5.0]);
    assert_eq!(f.mem_history, [9]);
}

#[test]
fn missing_resources_are_explained() {
    let f = diff(None, &first());
    assert_eq!(f.resources_note.as_deref(), Some("resource sampler off"));
    assert_eq!(f.peak_rss_bytes, None);
    let mut p = first();
    p.resources = Some(Resources {
        sampler_error: Some("no /proc".to_string()),
        ..Default::default()
    });
    assert_eq!(
        diff(None, &p).resources_note.as_deref(),
        Some("resource sampler: no /proc")
    );
    p.resources = Some(resources(&[]));
    assert_eq!(
        diff(None, &p).resources_note.as_deref(),
        Some("no resource samples yet")
    );
}

#[test]
fn the_program_is_named_by_title_then_executable_then_run_id() {
    let mut p = first();
    assert_eq!(diff(None, &p).program, "etl_job");
    p.meta.title = "Nightly ETL".to_string();
    assert_eq!(diff(None, &p).program, "Nightly ETL");
    p.meta.title.clear();
    p.meta.command_line.clear();
    assert_eq!(diff(None, &p).program, "run_20260101T000000Z_7");
}

#[test]
fn a_stage_busy_without_records_still_has_own_time() {
    use crate::live::testdata::stage as st;
    let a = snapshot(
        1_000_000_000,
        vec![],
        vec![st("slow", 0, 10, 10, 100_000_000)],
    );
    let b = snapshot(
        2_000_000_000,
        vec![],
        vec![st("slow", 0, 10, 10, 900_000_000)],
    );
    let f = diff(Some(&a), &b);
    let s = stage(&f, "slow");
    assert_eq!((s.in_per_s, s.out_per_s, s.own_share), (0.0, 0.0, 1.0));
    assert_eq!(f.bottleneck.as_deref(), Some("slow"));
}

#[test]
fn calls_without_histogram_entries_have_no_p99() {
    use crate::live::testdata::function;
    let a = snapshot(1_000_000_000, vec![function("f", 10, &[(100, 5)])], vec![]);
    let mut b = snapshot(2_000_000_000, vec![function("f", 20, &[(100, 5)])], vec![]);
    // Counted calls the histogram has not caught up with.
    b.functions[0].calls = 8;
    let f = diff(Some(&a), &b);
    let r = row(&f, "f");
    assert_eq!(r.calls_per_s, 3.0);
    assert_eq!(r.p99_ns, None);
}

#[test]
fn stage_own_times_are_the_held_ones_of_the_interval() {
    use pipelinescope_core::profile::{PipelineEdge, StageStats};
    // src feeds sink; between the snapshots the raw own times grew by 7,000 and 6,000 ns in
    // 10,000 ns of active time, more than the time that passed: `since` holds them.
    let st = |name: &str, order: u32, own: u64, up: u64, active: u64| StageStats {
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
    let edge = |records| PipelineEdge {
        from: "src".into(),
        to: "sink".into(),
        records,
    };
    let mut a = snapshot(
        1_000_000,
        vec![],
        vec![
            st("src", 0, 9_000, 0, 10_000),
            st("sink", 1, 1_000, 9_000, 10_000),
        ],
    );
    a.pipeline_edges = vec![edge(100)];
    let mut b = snapshot(
        2_000_000,
        vec![],
        vec![
            st("src", 0, 16_000, 0, 20_000),
            st("sink", 1, 7_000, 11_000, 20_000),
        ],
    );
    b.pipeline_edges = vec![edge(200)];
    let held = b.since(&a);
    let own = |n: &str| held.stages.iter().find(|s| s.name == n).unwrap().own_ns as f64;
    let f = diff(Some(&a), &b);
    let share = stage(&f, "src").own_share;
    assert_eq!(share, own("src") / (own("src") + own("sink")));
    assert!(share < 7_000.0 / 13_000.0, "{share}");
    assert_eq!(stage(&f, "sink").out_per_s, 100.0 * 1e9 / 1_000_000.0);
}
