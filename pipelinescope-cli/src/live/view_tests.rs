use super::*;
use crate::live::fetch::FetchError;
use crate::live::testdata::{first, function, resources, second, snapshot, stage};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn app_with(snapshots: Vec<pipelinescope_core::Profile>) -> App {
    let mut app = App::new("http://127.0.0.1:9464".to_string());
    for s in snapshots {
        assert!(app.on_fetch(Ok(s)));
    }
    app
}

/// The screen at `w` x `h` as text, one line per row.
fn screen(app: &App, w: u16, h: u16) -> Vec<String> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|c| draw(c, app)).unwrap();
    let text = buffer_text(t.backend().buffer());
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.resize(h as usize, String::new());
    lines
}

fn line_of(lines: &[String], needle: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{}", lines.join("\n")))
}

/// Two functions whose order by self time and by calls/s are opposite, and the test stages.
fn contrasting() -> Vec<pipelinescope_core::Profile> {
    let stages = |k: u64| {
        vec![
            stage("source", 0, 0, 1000 * k, 100_000_000 * k),
            stage("transform", 1, 1000 * k, 1000 * k, 700_000_000 * k),
            stage("sink", 2, 1000 * k, 0, 200_000_000 * k),
        ]
    };
    vec![
        snapshot(0, vec![], stages(0)),
        snapshot(
            1_000_000_000,
            vec![
                function("hot_loop", 10_000_000, &[(100, 100_000)]),
                function("slow_call", 500_000_000, &[(250, 2)]),
            ],
            stages(1),
        ),
    ]
}

#[test]
fn a_frame_fits_80_by_24() {
    let mut a = first();
    a.resources = Some(resources(&[
        (500.0, 50.0, 100 << 20),
        (1000.0, 70.0, 150 << 20),
    ]));
    let mut b = second();
    b.resources = Some(resources(&[
        (2000.0, 180.0, 200 << 20),
        (3000.0, 220.0, 210 << 20),
    ]));
    let app = app_with(vec![a, b]);
    let lines = screen(&app, 80, 24);
    let text = lines.join("\n");
    assert!(lines.iter().all(|l| l.chars().count() <= 80));
    // Header: program, run, uptime, state; the interval's figures.
    assert!(lines[0].starts_with("etl_job  run_20260101T000000Z_7  pid 7  up 3.0s  running"));
    assert!(
        lines[1]
            .starts_with("last 2.0s: 2.02k calls/s  bottleneck now: transform  total 5.04k calls"),
        "{:?}",
        lines[1]
    );
    // Functions, busiest first, with the interval's figures.
    let parse = &lines[line_of(&lines, "│parse")];
    assert!(parse.contains("40.0%") && parse.contains("2.00k") && parse.contains("200 ns"));
    assert!(line_of(&lines, "│parse") < line_of(&lines, "│late_starter"));
    assert!(line_of(&lines, "│late_starter") < line_of(&lines, "│write_rows"));
    // Stages in pipeline order, the bottleneck now marked.
    assert!(line_of(&lines, "│source") < line_of(&lines, "│transform ◀ bottleneck"));
    assert!(line_of(&lines, "│transform") < line_of(&lines, "│sink"));
    let t = &lines[line_of(&lines, "│transform")];
    assert!(t.contains("70.0%") && t.contains("500"), "{t}");
    // Sparklines and the key help.
    assert!(text.contains("CPU 200% (max 200%)"), "{text}");
    assert!(text.contains("RSS 210.0 MiB (peak 210.0 MiB)"), "{text}");
    assert!(lines[23].starts_with("s sort Tab table p pause q quit"));
}

#[test]
fn s_changes_the_order_of_the_focused_table() {
    let mut app = app_with(contrasting());
    let lines = screen(&app, 80, 24);
    assert!(line_of(&lines, "│slow_call") < line_of(&lines, "│hot_loop"));
    assert!(line_of(&lines, "Functions by self %") + 1 == line_of(&lines, "self %▼"));

    assert!(app.on_key(key('s')));
    let lines = screen(&app, 80, 24);
    assert!(line_of(&lines, "│hot_loop") < line_of(&lines, "│slow_call"));
    assert!(line_of(&lines, "Functions by calls/s") + 1 == line_of(&lines, "calls/s▼"));
    // The stages kept their order: `s` sorted the focused table only.
    assert!(line_of(&lines, "│source") < line_of(&lines, "│transform"));

    // Tab: now `s` sorts the stages, by own time first.
    assert!(app.on_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
    assert!(app.on_key(key('s')));
    let lines = screen(&app, 80, 24);
    assert!(line_of(&lines, "Stages by own %") > 0);
    assert!(line_of(&lines, "│transform") < line_of(&lines, "│sink"));
    assert!(line_of(&lines, "│sink") < line_of(&lines, "│source"));
    assert!(line_of(&lines, "│hot_loop") < line_of(&lines, "│slow_call"));
    // Four presses bring the functions back to their first order.
    app.focus = Focus::Functions;
    for _ in 0..3 {
        app.on_key(key('s'));
    }
    let lines = screen(&app, 80, 24);
    assert!(line_of(&lines, "│slow_call") < line_of(&lines, "│hot_loop"));
}

#[test]
fn quit_keys() {
    for k in [
        key('q'),
        KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
    ] {
        let mut app = app_with(vec![first()]);
        app.on_key(k);
        assert!(app.quit, "{k:?}");
        assert!(!app.wants_fetch());
    }
    let mut app = app_with(vec![first()]);
    assert!(!app.on_key(key('x')));
    assert!(!app.quit);
}

#[test]
fn pause_keeps_the_frame_and_stops_fetching() {
    let mut app = app_with(vec![first()]);
    app.on_key(key('p'));
    assert!(app.paused && !app.wants_fetch());
    let before = app.frame.clone();
    // A snapshot fetched before the pause took effect is not shown.
    assert!(!app.on_fetch(Ok(second())));
    assert_eq!(app.frame, before);
    let lines = screen(&app, 80, 24);
    assert!(lines[0].ends_with("paused"), "{}", lines[0]);
    assert!(lines[23].contains("p resume"));
    app.on_key(key('p'));
    assert!(app.wants_fetch());
    assert!(app.on_fetch(Ok(second())));
    // The interval after a pause spans it: from the last snapshot shown.
    assert_eq!(app.frame.as_ref().unwrap().interval_ns, 2_000_000_000);
}

#[test]
fn the_end_of_the_program_keeps_the_last_frame() {
    let mut app = app_with(vec![first(), second()]);
    let before = app.frame.clone();
    app.on_fetch(Err(FetchError::Timeout("slow".to_string())));
    assert!(app.wants_fetch());
    assert!(screen(&app, 80, 24)[0].contains("no answer: slow"));
    app.on_fetch(Err(FetchError::Unreachable("refused".to_string())));
    assert_eq!(app.state, RunState::Ended);
    assert!(!app.wants_fetch());
    assert_eq!(app.frame, before);
    let lines = screen(&app, 80, 24);
    assert!(lines[0].ends_with("program ended"), "{}", lines[0]);
    assert!(lines.iter().any(|l| l.contains("late_starter")));
}

#[test]
fn small_and_empty_screens_do_not_break() {
    let app = app_with(vec![first(), second()]);
    for (w, h) in [(20, 5), (80, 8), (10, 1), (200, 60)] {
        let lines = screen(&app, w, h);
        assert_eq!(lines.len(), h as usize);
    }
    let empty = App::new("127.0.0.1:1".to_string());
    assert!(screen(&empty, 80, 24)[0].starts_with("connecting to 127.0.0.1:1"));
    // A program without functions or stages yet.
    let bare = app_with(vec![snapshot(1_000_000_000, vec![], vec![])]);
    let text = screen(&bare, 80, 24).join("\n");
    assert!(text.contains("CPU and memory: resource sampler off"));
    assert!(!text.contains("Stages"));
}

#[test]
fn text_mode_shows_every_row_without_control_codes() {
    let app = app_with(vec![first(), second()]);
    let h = text_height(&app);
    assert_eq!(h, HEADER + 3 + 3 + 3 + 3 + SPARKS);
    let area = Rect::new(0, 0, 100, h);
    let mut buf = Buffer::empty(area);
    render(&app, Mode::Text, area, &mut buf);
    let text = buffer_text(&buf);
    assert!(!text.contains('\x1b'));
    for name in [
        "parse",
        "late_starter",
        "write_rows",
        "source",
        "transform",
        "sink",
    ] {
        assert!(text.contains(name), "{name}:\n{text}");
    }
    assert!(!text.contains("q quit"));
    assert!(!text.contains("more)"));
}

#[test]
fn number_formats() {
    assert_eq!(fmt_uptime(4_200_000_000), "4.2s");
    assert_eq!(fmt_uptime(125_000_000_000), "2m 05s");
    assert_eq!(fmt_uptime(3_723_000_000_000), "1h 02m 03s");
    assert_eq!(fmt_count(15.0), "15");
    assert_eq!(fmt_count(2.5), "2.5");
    assert_eq!(fmt_count(2015.0), "2.02k");
    assert_eq!(fmt_count(1_500_000.0), "1.50M");
    assert_eq!(fmt_count(f64::NAN), "-");
}
