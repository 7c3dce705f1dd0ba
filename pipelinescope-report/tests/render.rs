//! The page's content, escaping, size and robustness, without a browser.

use pipelinescope_core::profile::{
    CallNode, CallTree, Extrapolation, FunctionStats, GpuInfo, Profile, Resources, StageStats,
};
use pipelinescope_report::html::{self, HtmlOptions, synthetic};

const EVIL: &str = "<script>alert(1)</script>";

fn hostile() -> Profile {
    let mut p = synthetic::profile(20, 200);
    p.meta.title = EVIL.to_owned();
    p.meta.warnings.push(EVIL.to_owned());
    p.meta.host = EVIL.to_owned();
    p.meta.command_line = vec![EVIL.to_owned()];
    p.functions[0].name = EVIL.to_owned();
    p.functions[1].module = EVIL.to_owned();
    p.stages[1].name = EVIL.to_owned();
    p.pipeline_edges[0].to = EVIL.to_owned();
    p.pipeline_edges
        .push(pipelinescope_core::profile::PipelineEdge {
            from: EVIL.to_owned(),
            to: "sink</script>".to_owned(),
            records: 3,
        });
    if let Some(r) = p.resources.as_mut() {
        r.per_function[0].name = EVIL.to_owned();
        r.allocations[0].name = EVIL.to_owned();
        r.gpu.reason = Some(EVIL.to_owned());
    }
    p
}

#[test]
fn user_strings_are_escaped() {
    let html = html::render(&hostile(), &HtmlOptions::default());
    assert!(!html.contains(EVIL), "raw script tag in the page");
    assert!(!html.contains("alert(1)</script>"));
    // Exactly the page's own two scripts plus the data block, none from the data.
    assert_eq!(html.matches("<script").count(), 3);
    assert_eq!(html.matches("</script>").count(), 3);
    // The names are there, escaped, in the static parts and in the data.
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(html.contains(r"\u003cscript\u003ealert(1)\u003c/script\u003e"));
}

#[test]
fn title_from_options_overrides_profile() {
    let p = synthetic::profile(3, 10);
    let opts = HtmlOptions {
        title: "Nightly ETL".into(),
        top_n: 25,
        min_time_threshold_ms: 1.5,
        min_time_percentage: 2.0,
    };
    let html = html::render(&p, &opts);
    assert!(html.contains("<title>Nightly ETL · PipelineScope</title>"));
    assert!(html.contains(r#""opts":{"top_n":25,"min_ms":1.5,"min_pct":2.0}"#));
    let html = html::render(&p, &HtmlOptions::default());
    assert!(html.contains("<title>Synthetic pipeline · PipelineScope</title>"));
}

fn data_block(html: &str) -> serde_json::Value {
    let start = html
        .find(r#"<script type="application/json" id="ps-data">"#)
        .expect("data block");
    let rest = &html[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest.find("</script>").unwrap();
    serde_json::from_str(&rest[open..close]).expect("data block is JSON")
}

#[test]
fn embedded_data_matches_profile() {
    let p = synthetic::profile(50, 500);
    let html = html::render(&p, &HtmlOptions::default());
    let d = data_block(&html);
    assert_eq!(d["fns"].as_array().unwrap().len(), 50);
    assert_eq!(d["tree"]["p"].as_array().unwrap().len(), 500);
    assert_eq!(d["tree"]["p"][0], -1);
    assert_eq!(d["fns"][7]["c"], p.functions[7].calls);
    assert_eq!(d["fns"][7]["t"], p.functions[7].cumulative_ns);
    assert_eq!(d["fns"][7]["q"].as_array().unwrap().len(), 20);
    assert_eq!(d["stages"].as_array().unwrap().len(), 5);
    assert_eq!(d["ext"]["sample"], 1_000_000);
    assert_eq!(d["ext"]["expected"], 250_000_000);
    assert_eq!(d["ext"]["configured"], true);
    assert_eq!(d["res"]["t"].as_array().unwrap().len(), 2_000);
}

#[test]
fn static_sections_show_figures() {
    let p = synthetic::profile(10, 100);
    let html = html::render(&p, &HtmlOptions::default());
    // Header.
    assert!(html.contains("20261121T051300Z-synthetic"));
    assert!(html.contains("target/release/etl --input data.csv"));
    assert!(html.contains("unknown key `sample_sise`"));
    assert!(html.contains("17.5 ns per timed call"));
    let at = html.find("17.5 ns per timed call").unwrap_or(0);
    let header = &html[at..(at + 200).min(html.len())];
    assert!(header.contains("inside its interval"), "{header}");
    assert!(header.contains("3 ns per untimed call"), "{header}");
    assert!(html.contains("taken off the figures"));
    // Pipeline: all stages in order, the bottleneck marked once.
    let pos: Vec<_> = ["read_csv", "parse", "validate", "enrich", "write_parquet"]
        .iter()
        .map(|s| {
            html.find(&format!(
                "<div class=\"sname\" title=\"{s} (synthetic::pipeline)\">{s}</div>"
            ))
            .unwrap()
        })
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(html.matches("class=\"stage bottleneck\"").count(), 1);
    assert!(html.contains("Bottleneck: <strong class=\"bn-name\">enrich</strong>"));
    assert!(html.contains("1.00 M rec"));
    // Resources: GPU reason, run summary.
    assert!(html.contains("not available"));
    assert!(html.contains("libnvidia-ml.so not found"));
    assert!(html.contains("Minor faults"));
}

#[test]
fn empty_profile_renders() {
    let html = html::render(&Profile::default(), &HtmlOptions::default());
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("PipelineScope report"));
    assert!(html.contains("No data, because no pipeline stages ran"));
    assert!(html.contains("No data, because the resource sampler did not run"));
    assert!(html.contains("No data, because no thread ran instrumented code"));
    let d = data_block(&html);
    assert_eq!(d["fns"].as_array().unwrap().len(), 0);
}

#[test]
fn partial_and_inconsistent_profiles_render() {
    // Functions without histograms, a tree whose ids point nowhere, stages without records,
    // resources without samples, NaN figures, an extrapolation with a zero sample.
    let mut p = Profile::default();
    p.functions.push(FunctionStats {
        name: "lonely".into(),
        calls: 3,
        cumulative_ns: 10,
        share_of_wall: f64::NAN,
        ..FunctionStats::default()
    });
    p.call_tree = CallTree {
        nodes: vec![
            CallNode {
                id: 0,
                children: vec![1, 99],
                ..CallNode::default()
            },
            CallNode {
                id: 1,
                parent: Some(0),
                function: Some(42),
                calls: 1,
                ..CallNode::default()
            },
            CallNode {
                id: 2,
                parent: Some(7),
                function: Some(0),
                ..CallNode::default()
            },
        ],
    };
    p.stages.push(StageStats {
        name: "empty".into(),
        throughput_per_s: f64::INFINITY,
        share_of_pipeline: f64::NAN,
        ..StageStats::default()
    });
    p.resources = Some(Resources {
        gpu: GpuInfo {
            available: true,
            ..GpuInfo::default()
        },
        ..Resources::default()
    });
    p.extrapolation = Some(Extrapolation::default());
    let html = html::render(
        &p,
        &HtmlOptions {
            top_n: 0,
            min_time_threshold_ms: f64::NAN,
            ..HtmlOptions::default()
        },
    );
    assert!(html.contains("lonely"));
    assert!(html.contains("No timeline, because the sampler recorded no samples"));
    data_block(&html);
    // No stages but resources with a GPU reason.
    let p = Profile {
        resources: Some(Resources::default()),
        ..Profile::default()
    };
    let html = html::render(&p, &HtmlOptions::default());
    assert!(html.contains("no reason recorded"));
}

#[test]
fn large_profile_stays_under_10_mb() {
    let p = synthetic::profile(10_000, 100_000);
    let html = html::render(&p, &HtmlOptions::default());
    let mb = html.len() as f64 / 1e6;
    println!("10,000 functions, 100,000 nodes: {:.2} MB", mb);
    assert!(html.len() < 10_000_000, "page is {mb:.2} MB");
    let d = data_block(&html);
    assert_eq!(d["fns"].as_array().unwrap().len(), 10_000);
    assert_eq!(d["tree"]["t"].as_array().unwrap().len(), 100_000);
}

#[test]
fn write_is_atomic_and_leaves_no_temp_file() {
    let dir = std::env::temp_dir().join(format!("ps-report-write-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("summary.html");
    std::fs::write(&path, "old").unwrap();
    html::write(&synthetic::profile(5, 20), &HtmlOptions::default(), &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("<!doctype html>"));
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("summary.html")]);
    // A directory that does not exist gives an error, not a panic.
    assert!(
        html::write(
            &Profile::default(),
            &HtmlOptions::default(),
            &dir.join("nope/summary.html")
        )
        .is_err()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_network_references() {
    let html = html::render(&synthetic::profile(10, 50), &HtmlOptions::default());
    for bad in [
        "http://", "https://", "//cdn", "@import", "url(", "<link", "src=",
    ] {
        assert!(!html.contains(bad), "page references {bad}");
    }
}
