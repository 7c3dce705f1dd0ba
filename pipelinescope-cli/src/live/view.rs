//! Drawing the live view: header, functions table, stages table, CPU and memory sparklines,
//! key help. Plain characters and the basic colours only, so that it reads the same over ssh and
//! as plain text (`--once` prints the same drawing without its colours).

use pipelinescope_report::console::{fmt_bytes, fmt_ns, fmt_pct};
use ratatui::Frame as Canvas;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Sparkline, Table, Widget};

use super::app::{App, Focus, RunState};
use super::model::{Frame, FunctionSort, StageSort};

/// Lines of the header.
const HEADER: u16 = 2;
/// Lines of the sparkline boxes (borders and two lines of bars).
const SPARKS: u16 = 4;
/// Lines a table takes besides its rows: borders and the column headings.
const TABLE_CHROME: u16 = 3;

/// How the view is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// On the terminal: fits the screen, with a line of key help.
    Interactive,
    /// As plain text (`--once`): every row of the frame, no key help.
    Text,
}

/// Draws the whole view into the terminal's frame.
pub fn draw(canvas: &mut Canvas<'_>, app: &App) {
    let area = canvas.area();
    render(app, Mode::Interactive, area, canvas.buffer_mut());
}

/// Lines that [`Mode::Text`] needs to show every row of the app's frame.
pub fn text_height(app: &App) -> u16 {
    let Some(f) = &app.frame else {
        return HEADER;
    };
    let rows = |n: usize| TABLE_CHROME + n.max(1) as u16;
    let stages = if f.stages.is_empty() {
        0
    } else {
        rows(f.stages.len())
    };
    HEADER + rows(f.functions.len()) + stages + SPARKS
}

/// Draws the whole view into a buffer.
pub fn render(app: &App, mode: Mode, area: Rect, buf: &mut Buffer) {
    let interactive = mode == Mode::Interactive;
    let footer = u16::from(interactive);
    let body = area.height.saturating_sub(HEADER + SPARKS + footer);
    let n_stages = app.frame.as_ref().map_or(0, |f| f.stages.len()) as u16;
    let stages_h = if n_stages == 0 {
        0
    } else if !interactive {
        n_stages + TABLE_CHROME
    } else {
        // Stages are few and each matters: all of them when they fit in two fifths of the
        // body, but the functions table keeps at least three rows.
        (n_stages + TABLE_CHROME)
            .min((body * 2 / 5).max(TABLE_CHROME + 1))
            .min(body.saturating_sub(TABLE_CHROME + 3))
    };
    let [header, functions, stages, sparks, keys] = Layout::vertical([
        Constraint::Length(HEADER),
        Constraint::Min(0),
        Constraint::Length(stages_h),
        Constraint::Length(SPARKS),
        Constraint::Length(footer),
    ])
    .areas(area);
    render_header(app, header, buf);
    let Some(frame) = &app.frame else {
        return;
    };
    render_functions(app, frame, functions, buf);
    if stages_h > 0 {
        render_stages(app, frame, stages, buf);
    }
    render_sparks(frame, sparks, buf);
    if interactive {
        render_keys(app, keys, buf);
    }
}

/// `1h 02m 03s`, `2m 05s`, `4.2s`.
pub fn fmt_uptime(ns: u64) -> String {
    let s = ns / 1_000_000_000;
    if s >= 3600 {
        format!("{}h {:02}m {:02}s", s / 3600, s % 3600 / 60, s % 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", ns as f64 / 1e9)
    }
}

/// A count or rate with a metric suffix: `15.0`, `2.02k`, `1.50M`.
pub fn fmt_count(v: f64) -> String {
    if !v.is_finite() {
        "-".to_string()
    } else if v >= 1e9 {
        format!("{:.2}G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.2}k", v / 1e3)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn render_header(app: &App, area: Rect, buf: &mut Buffer) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let Some(f) = &app.frame else {
        Paragraph::new(format!("connecting to {} ...", app.source)).render(area, buf);
        return;
    };
    let (state, color) = match &app.state {
        RunState::Ended => ("program ended".to_string(), Color::Red),
        RunState::Stalled(e) => (format!("no answer: {e}"), Color::Yellow),
        RunState::Running if app.paused => ("paused".to_string(), Color::Yellow),
        RunState::Running => ("running".to_string(), Color::Green),
    };
    let paused = if app.paused && app.state != RunState::Running {
        " (paused)"
    } else {
        ""
    };
    let first = Line::from(vec![
        Span::styled(f.program.clone(), bold),
        Span::raw(format!(
            "  {}  pid {}  up {}  ",
            f.run_id,
            f.pid,
            fmt_uptime(f.uptime_ns)
        )),
        Span::styled(format!("{state}{paused}"), bold.fg(color)),
    ]);
    let span = if f.since_start {
        format!("since start ({})", fmt_uptime(f.interval_ns))
    } else {
        format!("last {}", fmt_uptime(f.interval_ns))
    };
    let bottleneck = f.bottleneck.as_deref().unwrap_or("-");
    let second = Line::from(vec![
        Span::raw(format!(
            "{span}: {} calls/s  bottleneck now: ",
            fmt_count(f.calls_per_s)
        )),
        Span::styled(bottleneck.to_string(), bold),
        Span::raw(format!("  total {} calls", fmt_count(f.calls_total as f64))),
    ]);
    Paragraph::new(vec![first, second]).render(area, buf);
}

fn table_block(title: String, focused: bool) -> Block<'static> {
    let style = if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    };
    Block::new()
        .borders(Borders::ALL)
        .border_style(style)
        .title(Span::styled(title, style))
}

/// A column heading, marked when the table is sorted by it.
fn heading(text: &'static str, sorted: bool) -> Cell<'static> {
    if sorted {
        Cell::from(format!("{text}▼")).style(Style::new().add_modifier(Modifier::BOLD))
    } else {
        Cell::from(text)
    }
}

fn render_functions(app: &App, f: &Frame, area: Rect, buf: &mut Buffer) {
    let s = app.fn_sort;
    let header = Row::new(vec![
        Cell::from("function"),
        heading("self %", s == FunctionSort::SelfShare),
        heading("calls/s", s == FunctionSort::CallsPerS),
        heading("p99", s == FunctionSort::P99),
        Cell::from("calls"),
        heading("self total", s == FunctionSort::SelfTotal),
    ])
    .style(Style::new().add_modifier(Modifier::UNDERLINED));
    let rows = f.functions.iter().map(|r| {
        Row::new(vec![
            r.name.clone(),
            fmt_pct(r.self_share),
            fmt_count(r.calls_per_s),
            r.p99_ns.map_or("-".to_string(), |v| fmt_ns(v as f64)),
            fmt_count(r.calls_total as f64),
            fmt_ns(r.self_total_ns as f64),
        ])
    });
    let shown = area.height.saturating_sub(TABLE_CHROME) as usize;
    let more = f.functions.len().saturating_sub(shown);
    let title = if more > 0 {
        format!(" Functions by {} ({more} more) ", s.label())
    } else {
        format!(" Functions by {} ", s.label())
    };
    Table::new(
        rows,
        [
            Constraint::Min(12),
            Constraint::Length(7),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(8),
            Constraint::Length(10),
        ],
    )
    .header(header)
    .block(table_block(title, app.focus == Focus::Functions))
    .render(area, buf);
}

fn render_stages(app: &App, f: &Frame, area: Rect, buf: &mut Buffer) {
    let s = app.stage_sort;
    let header = Row::new(vec![
        Cell::from("stage"),
        Cell::from("in/s"),
        heading("out/s", s == StageSort::OutPerS),
        heading("own %", s == StageSort::OwnShare),
        Cell::from("out total"),
    ])
    .style(Style::new().add_modifier(Modifier::UNDERLINED));
    let rows = f.stages.iter().map(|r| {
        let name = if r.is_bottleneck {
            Cell::from(format!("{} ◀ bottleneck", r.name))
                .style(Style::new().fg(Color::Red).add_modifier(Modifier::BOLD))
        } else {
            Cell::from(r.name.clone())
        };
        Row::new(vec![
            name,
            Cell::from(fmt_count(r.in_per_s)),
            Cell::from(fmt_count(r.out_per_s)),
            Cell::from(fmt_pct(r.own_share)),
            Cell::from(fmt_count(r.out_total as f64)),
        ])
    });
    let shown = area.height.saturating_sub(TABLE_CHROME) as usize;
    let more = f.stages.len().saturating_sub(shown);
    let title = match (s, more) {
        (StageSort::Pipeline, 0) => " Stages in pipeline order ".to_string(),
        (StageSort::Pipeline, n) => format!(" Stages in pipeline order ({n} more) "),
        (_, 0) => format!(" Stages by {} ", s.label()),
        (_, n) => format!(" Stages by {} ({n} more) ", s.label()),
    };
    Table::new(
        rows,
        [
            Constraint::Min(16),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Length(10),
        ],
    )
    .header(header)
    .block(table_block(title, app.focus == Focus::Stages))
    .render(area, buf);
}

fn render_sparks(f: &Frame, area: Rect, buf: &mut Buffer) {
    let [cpu_area, mem_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let inner = cpu_area.width.saturating_sub(2) as usize;
    if let Some(note) = &f.resources_note {
        let text = format!(" CPU and memory: {note} ");
        Paragraph::new(String::new())
            .block(Block::new().borders(Borders::ALL).title(text))
            .render(area, buf);
        return;
    }
    let tail = |n: usize| n.saturating_sub(inner);
    let cpu: Vec<u64> = f.cpu_history[tail(f.cpu_history.len())..]
        .iter()
        .map(|&c| c.max(0.0).round() as u64)
        .collect();
    let cpu_now = f.cpu_history.last().copied().unwrap_or(0.0);
    // One core is the smallest full scale, so that an idle program does not look busy.
    let cpu_max = cpu.iter().copied().max().unwrap_or(0).max(100);
    Sparkline::default()
        .block(
            Block::new()
                .borders(Borders::ALL)
                .title(format!(" CPU {cpu_now:.0}% (max {cpu_max}%) ")),
        )
        .data(cpu)
        .max(cpu_max)
        .style(Style::new().fg(Color::Green))
        .render(cpu_area, buf);
    let mem = &f.mem_history[tail(f.mem_history.len())..];
    let mem_now = f.mem_history.last().copied().unwrap_or(0);
    let peak = f.peak_rss_bytes.unwrap_or(mem_now);
    Sparkline::default()
        .block(Block::new().borders(Borders::ALL).title(format!(
            " RSS {} (peak {}) ",
            fmt_bytes(mem_now as f64),
            fmt_bytes(peak as f64)
        )))
        .data(mem.iter().copied())
        .max(mem.iter().copied().max().unwrap_or(0).max(1))
        .style(Style::new().fg(Color::Blue))
        .render(mem_area, buf);
}

fn render_keys(app: &App, area: Rect, buf: &mut Buffer) {
    let key = Style::new().add_modifier(Modifier::REVERSED);
    let pause = if app.paused { " resume " } else { " pause " };
    let line = Line::from(vec![
        Span::styled("s", key),
        Span::raw(" sort "),
        Span::styled("Tab", key),
        Span::raw(" table "),
        Span::styled("p", key),
        Span::raw(pause),
        Span::styled("q", key),
        Span::raw(" quit  "),
        Span::styled(app.source.clone(), Style::new().fg(Color::DarkGray)),
    ]);
    Paragraph::new(line).render(area, buf);
}

/// The buffer as plain text: one line per row, trailing blanks and blank last lines dropped.
pub fn buffer_text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut lines: Vec<String> = (area.top()..area.bottom())
        .map(|y| {
            let row: String = (area.left()..area.right())
                .map(|x| buf[(x, y)].symbol())
                .collect();
            row.trim_end().to_string()
        })
        .collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
