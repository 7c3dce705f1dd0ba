//! summary.html in a real browser: headless Chromium driven over WebDriver.
//!
//! Needs Debian's `chromium` and `chromium-driver` (or `CHROME_BIN` / `CHROMEDRIVER` pointing at
//! them). Without them the test prints why it is skipped and passes, unless `CI` is set, where a
//! missing browser is a failure.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use pipelinescope_core::profile::Profile;
use pipelinescope_report::html::{self, HtmlOptions, synthetic};
use serde_json::{Value, json};

const EVIL: &str = "<script>alert(1)</script>";

fn find_binary(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// Kills chromedriver (and with it the browser) when the test ends, however it ends.
struct Driver {
    child: Child,
    port: u16,
    profile_dir: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile_dir);
    }
}

fn start_driver(chromedriver: &Path) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port");
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile_dir =
        std::env::temp_dir().join(format!("ps-chromium-{}-{port}", std::process::id()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver {
        child,
        port,
        profile_dir,
    }
}

async fn connect(driver: &Driver, chromium: &Path, extra: &[&str]) -> Client {
    let mut args = vec![
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--no-first-run".to_owned(),
        "--allow-file-access-from-files".to_owned(),
        format!(
            "--user-data-dir={}",
            driver.profile_dir.join(extra.join("")).display()
        ),
        "--window-size=1280,900".to_owned(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args },
        "goog:loggingPrefs": { "browser": "ALL" }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("WebDriver session with headless Chromium")
}

fn file_url(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).expect("report file exists");
    format!("file://{}", abs.display())
}

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

async fn errors(c: &Client) -> Vec<String> {
    let v = js(c, "return window.__errors || ['error hook missing'];").await;
    serde_json::from_value(v).unwrap_or_default()
}

/// Scrolls `css` to the middle of the viewport and clicks it like a user would.
async fn click(c: &Client, css: &str) {
    let el = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'});",
        vec![serde_json::to_value(&el).unwrap()],
    )
    .await
    .expect("scroll");
    el.click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn screenshot(c: &Client, path: &Path) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(path, png).expect("screenshot written");
    println!("screenshot: {}", path.display());
}

/// Call counts of the hotspot rows, top to bottom.
async fn hotspot_column(
    c: &Client,
    p: &Profile,
    key: fn(&pipelinescope_core::profile::FunctionStats) -> u64,
) -> Vec<u64> {
    let ids = js(c, "return Array.from(document.querySelectorAll('#hotspots-table tbody tr')).map(r => +r.dataset.i);").await;
    ids.as_array()
        .expect("row ids")
        .iter()
        .map(|i| key(&p.functions[i.as_u64().unwrap() as usize]))
        .collect()
}

fn hostile_profile() -> Profile {
    let mut p = synthetic::profile(60, 600);
    p.meta.title = format!("Nightly ETL {EVIL}");
    p.meta.warnings.push(format!("bad key {EVIL}"));
    p.functions[3].name = EVIL.to_owned();
    p.stages[1].name = EVIL.to_owned();
    p.pipeline_edges[0].to = EVIL.to_owned();
    p.pipeline_edges[1].from = EVIL.to_owned();
    // A source view for the hostile function, its name and source text hostile too.
    p.lines.push(pipelinescope_core::profile::FunctionLines {
        function: EVIL.to_owned(),
        file: "src/evil.rs".to_owned(),
        line: 1,
        total_ns: 10,
        source: format!("fn evil() {{\n    // {EVIL}\n}}"),
        first_line: 1,
        lines: vec![pipelinescope_core::profile::LineStats {
            line: 1,
            hits: 1,
            time_ns: 10,
            ..Default::default()
        }],
        ..Default::default()
    });
    p
}

/// Functions without histograms, call-tree ids that point nowhere, a stage without records,
/// resources without samples, NaN and infinite figures.
fn partial_profile() -> Profile {
    use pipelinescope_core::profile::{CallNode, CallTree, FunctionStats, Resources, StageStats};
    Profile {
        functions: vec![FunctionStats {
            name: "lonely".into(),
            calls: 3,
            cumulative_ns: 10,
            share_of_wall: f64::NAN,
            ..FunctionStats::default()
        }],
        call_tree: CallTree {
            nodes: vec![
                CallNode {
                    children: vec![1, 99],
                    ..CallNode::default()
                },
                CallNode {
                    id: 1,
                    parent: Some(0),
                    function: Some(42),
                    calls: 1,
                    cumulative_ns: 5,
                    ..CallNode::default()
                },
                CallNode {
                    id: 2,
                    parent: Some(7),
                    function: Some(0),
                    cumulative_ns: 5,
                    ..CallNode::default()
                },
            ],
        },
        stages: vec![StageStats {
            name: "empty".into(),
            throughput_per_s: f64::INFINITY,
            ..StageStats::default()
        }],
        resources: Some(Resources::default()),
        ..Profile::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_in_headless_chromium() {
    let chromium = find_binary(
        "CHROME_BIN",
        &[
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
        ],
    );
    let chromedriver = find_binary(
        "CHROMEDRIVER",
        &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
    );
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let msg = "chromium and chromedriver are not installed (apt-get install chromium chromium-driver, \
                   or set CHROME_BIN and CHROMEDRIVER)";
        if in_ci() {
            panic!("CI is set but {msg}");
        }
        println!("skipped: {msg}");
        return;
    };

    let out = target_dir().join("report-browser");
    std::fs::create_dir_all(&out).expect("output directory");
    let driver = start_driver(&chromedriver);
    let c = connect(&driver, &chromium, &[]).await;

    // ---- a small, hostile report ----
    let profile = hostile_profile();
    let small = out.join("summary.html");
    html::write(
        &profile,
        &HtmlOptions {
            top_n: 25,
            ..HtmlOptions::default()
        },
        &small,
    )
    .expect("report written");
    c.goto(&file_url(&small)).await.expect("page opens");
    c.wait()
        .for_element(Locator::Css("#hotspots-table tbody tr"))
        .await
        .expect("hotspots drawn");

    // The script tag named by the data rendered as text: no dialog, no such element.
    assert!(c.get_alert_text().await.is_err(), "an alert dialog opened");
    let injected = js(&c, "return Array.from(document.scripts).filter(s => s.textContent.trim() === 'alert(1)').length;").await;
    assert_eq!(injected, json!(0));
    let shown = js(&c, &format!(
        "const t = {}; return [document.querySelectorAll('.sname').length, Array.from(document.querySelectorAll('.sname')).filter(e => e.textContent === t).length, Array.from(document.querySelectorAll('#hotspots-table .nm')).filter(e => e.textContent === t).length, document.title.includes(t)];",
        json!(EVIL)
    )).await;
    assert_eq!(
        shown,
        json!([5, 1, 1, true]),
        "stage, function and title shown as text"
    );
    // The hostile function's source view: linked from its hotspots row, opened by the link.
    let opened = js(&c, "const a = document.querySelector('#hotspots-table a.srclink'); if (!a) return 'no link'; const d = document.getElementById(a.dataset.open); d.open = false; a.click(); return [document.querySelectorAll('#hotspots-table a.srclink').length, d.open, d.dataset.linesFn === a.closest('td').querySelector('.nm').textContent];").await;
    assert_eq!(
        opened,
        json!([1, true, true]),
        "source view linked and opened"
    );
    assert_eq!(
        errors(&c).await,
        Vec::<String>::new(),
        "console errors on load"
    );
    screenshot(&c, &target_dir().join("report-screenshot.png")).await;

    // ---- hotspots: sort by calls, both ways, and by name ----
    click(&c, "#hotspots-table th[data-k=c]").await;
    let calls = hotspot_column(&c, &profile, |f| f.calls).await;
    assert_eq!(calls.len(), 25, "top-N starts at the configured 25");
    assert!(
        calls.windows(2).all(|w| w[0] >= w[1]),
        "calls descending: {calls:?}"
    );
    let mut expect: Vec<u64> = profile.functions.iter().map(|f| f.calls).collect();
    expect.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(calls, expect[..25]);
    click(&c, "#hotspots-table th[data-k=c]").await;
    let calls = hotspot_column(&c, &profile, |f| f.calls).await;
    assert!(
        calls.windows(2).all(|w| w[0] <= w[1]),
        "calls ascending: {calls:?}"
    );
    assert_eq!(calls[0], *expect.last().unwrap());
    // Filter by module narrows the rows to that module.
    c.find(Locator::Css("#hs-filter"))
        .await
        .unwrap()
        .send_keys("pipeline::m7")
        .await
        .unwrap();
    let mods = js(&c, "return Array.from(document.querySelectorAll('#hotspots-table .mod')).map(e => e.textContent);").await;
    let mods: Vec<String> = serde_json::from_value(mods).unwrap();
    let want = profile
        .functions
        .iter()
        .filter(|f| f.module.contains("pipeline::m7"))
        .count();
    assert_eq!(mods.len(), want.min(25));
    assert!(mods.iter().all(|m| m.contains("pipeline::m7")));
    c.find(Locator::Css("#hs-filter"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    js(
        &c,
        "document.getElementById('hs-filter').dispatchEvent(new Event('input'));",
    )
    .await;

    // ---- call tree: the hot path is open, and a closed node opens on click ----
    let tree = &profile.call_tree.nodes;
    let mut hot = Vec::new();
    let mut cur = tree[0]
        .children
        .iter()
        .copied()
        .max_by_key(|&c| tree[c as usize].cumulative_ns);
    while let Some(n) = cur {
        hot.push(n);
        cur = tree[n as usize]
            .children
            .iter()
            .copied()
            .max_by_key(|&c| tree[c as usize].cumulative_ns);
    }
    let open = js(&c, "return Array.from(document.querySelectorAll('#ct .tnode')).filter(n => n.querySelector(':scope > .tkids')).map(n => +n.dataset.n);").await;
    let open: Vec<u32> = serde_json::from_value(open).unwrap();
    assert_eq!(open, hot[..hot.len() - 1], "hot path expanded on open");
    let target = js(&c, "const n = Array.from(document.querySelectorAll('#ct .tnode')).find(n => !n.querySelector(':scope > .tkids') && !n.querySelector(':scope > .trow .tg.leaf')); return n ? +n.dataset.n : null;").await;
    let target = target.as_u64().expect("a closed node with children") as usize;
    click(&c, &format!("#ct .tnode[data-n=\"{target}\"] > .trow")).await;
    let kids = js(&c, &format!("return document.querySelectorAll('#ct .tnode[data-n=\"{target}\"] > .tkids > .tnode').length;")).await;
    assert_eq!(
        kids,
        json!(tree[target].children.len().min(200)),
        "expanded node shows its children"
    );

    // ---- flame graph: click a frame, it fills the width ----
    let pick = js(&c, "const s = document.querySelector('#fg svg'); const W = +s.getAttribute('width'); const g = Array.from(s.querySelectorAll('g[data-n]')).find(g => { const w = +g.querySelector('rect').getAttribute('width'); return w > 20 && w < W / 3; }); return [W, +g.dataset.n, +g.querySelector('rect').getAttribute('width')];").await;
    let (w, node) = (pick[0].as_f64().unwrap(), pick[1].as_u64().unwrap());
    click(&c, &format!("#fg g[data-n=\"{node}\"] rect")).await;
    let after = js(&c, &format!("const s = document.querySelector('#fg svg'); const g = s.querySelector('g[data-n=\"{node}\"]:not(.anc)'); return [document.getElementById('fg').dataset.zoom, +g.querySelector('rect').getAttribute('width'), document.getElementById('fg-crumb').textContent];")).await;
    assert_eq!(
        after[0],
        json!(node.to_string()),
        "zoomed to the clicked frame"
    );
    assert!(
        (after[1].as_f64().unwrap() - (w - 0.5)).abs() < 0.01,
        "zoomed frame spans the graph: {after}"
    );
    assert!(after[2].as_str().unwrap().starts_with("zoomed to"));
    // Hover shows figures.
    let hover = js(&c, &format!("const r = document.querySelector('#fg g[data-n=\"{node}\"] rect'); const b = r.getBoundingClientRect(); r.dispatchEvent(new MouseEvent('mousemove', {{bubbles: true, clientX: b.x + 5, clientY: b.y + 5}})); const t = document.getElementById('tip'); return [t.hidden, t.textContent];")).await;
    assert_eq!(hover[0], json!(false));
    assert!(hover[1].as_str().unwrap().contains("cumulative"));

    // ---- extrapolation recomputes when a size changes ----
    let before = js(
        &c,
        "return document.querySelector('#ex-total .value').textContent;",
    )
    .await;
    js(&c, "const e = document.getElementById('ex-expected'); e.value = 2000000; e.dispatchEvent(new Event('input'));").await;
    let after = js(
        &c,
        "return document.querySelector('#ex-total .value').textContent;",
    )
    .await;
    assert_ne!(before, after, "projection follows the expected size");
    // Rows with a fit within the run follow it, and name it; the growth section plots each fit.
    let fitted = js(
        &c,
        "return [...document.querySelectorAll('#ex-table tbody td:first-child')]\
         .filter(td => td.textContent.includes('within the run')).length;",
    )
    .await;
    assert!(fitted.as_u64().unwrap_or(0) >= 1, "fitted rows: {fitted}");
    let plots = js(
        &c,
        "return [document.querySelectorAll('#growth figure').length, \
         document.querySelectorAll('#growth svg circle.pt').length];",
    )
    .await;
    assert!(plots[0].as_u64().unwrap_or(0) >= 2, "growth plots: {plots}");
    assert!(
        plots[1].as_u64().unwrap_or(0) >= 8,
        "growth points: {plots}"
    );
    js(
        &c,
        "document.getElementById('fg-reset').click(); window.scrollTo(0, 0);",
    )
    .await;
    assert_eq!(
        errors(&c).await,
        Vec::<String>::new(),
        "console errors after interaction"
    );

    // Whole page and sections, for looking at.
    c.set_window_size(1280, 5200).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    screenshot(&c, &target_dir().join("report-screenshot-full.png")).await;
    for id in [
        "pipeline",
        "hotspots",
        "latency",
        "flame",
        "calltree",
        "resources",
        "extrapolation",
    ] {
        let png = c
            .find(Locator::Id(id))
            .await
            .unwrap()
            .screenshot()
            .await
            .expect("section screenshot");
        std::fs::write(out.join(format!("section-{id}.png")), png).unwrap();
    }
    c.set_window_size(1280, 900).await.unwrap();

    // ---- empty profile: draws, no errors ----
    let empty = out.join("empty.html");
    html::write(&Profile::default(), &HtmlOptions::default(), &empty).unwrap();
    c.goto(&file_url(&empty)).await.unwrap();
    assert_eq!(
        errors(&c).await,
        Vec::<String>::new(),
        "console errors on an empty profile"
    );
    let ready = js(&c, "return typeof window.__ready;").await;
    assert_eq!(ready, json!("number"));

    // ---- partial, inconsistent data: draws, no errors ----
    let partial = out.join("partial.html");
    html::write(&partial_profile(), &HtmlOptions::default(), &partial).unwrap();
    c.goto(&file_url(&partial)).await.unwrap();
    assert_eq!(
        errors(&c).await,
        Vec::<String>::new(),
        "console errors on a partial profile"
    );
    assert_eq!(
        js(&c, "return typeof window.__ready;").await,
        json!("number")
    );

    // ---- 10,000 functions, 100,000 call paths: loads and responds within 2 s ----
    let big = out.join("large.html");
    let t = Instant::now();
    html::write(
        &synthetic::profile(10_000, 100_000),
        &HtmlOptions::default(),
        &big,
    )
    .unwrap();
    let render_ms = t.elapsed().as_secs_f64() * 1e3;
    let size = std::fs::metadata(&big).unwrap().len();
    let t = Instant::now();
    c.goto(&file_url(&big)).await.unwrap();
    let goto_ms = t.elapsed().as_secs_f64() * 1e3;
    let ready_ms = js(&c, "return window.__ready;")
        .await
        .as_f64()
        .expect("page finished drawing");
    let t = Instant::now();
    click(&c, "#hotspots-table th[data-k=p99]").await;
    let first = js(
        &c,
        "return document.querySelector('#hotspots-table tbody tr').dataset.i;",
    )
    .await;
    let sort_ms = t.elapsed().as_secs_f64() * 1e3;
    assert!(first.is_string());
    println!(
        "large page: {:.2} MB, written in {render_ms:.0} ms (debug build); browser: drawn {ready_ms:.0} ms after navigation start, \
         load event after {goto_ms:.0} ms, sort by p99 {sort_ms:.0} ms",
        size as f64 / 1e6
    );
    assert!(size < 10_000_000);
    assert_eq!(
        errors(&c).await,
        Vec::<String>::new(),
        "console errors on the large page"
    );
    assert!(
        ready_ms < 2_000.0,
        "large page drawn after {ready_ms:.0} ms"
    );
    assert!(
        goto_ms + sort_ms < 2_000.0 + 1_000.0,
        "large page interactive after {:.0} ms",
        goto_ms + sort_ms
    );
    screenshot(&c, &target_dir().join("report-screenshot-large.png")).await;
    c.close().await.expect("session closes");

    // ---- dark mode ----
    let c = connect(
        &driver,
        &chromium,
        &[
            "--force-dark-mode",
            "--blink-settings=preferredColorScheme=0",
        ],
    )
    .await;
    c.goto(&file_url(&small)).await.unwrap();
    let dark = js(
        &c,
        "return matchMedia('(prefers-color-scheme: dark)').matches;",
    )
    .await;
    println!("dark mode preference honoured: {dark}");
    c.set_window_size(1280, 5200).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    screenshot(&c, &target_dir().join("report-screenshot-dark.png")).await;
    assert_eq!(errors(&c).await, Vec::<String>::new());
    c.close().await.expect("session closes");
}
