//! `pipelinescope live [TARGET]`: a terminal view of a running program, refreshed from its live
//! endpoint (`GET /profile.json`, the profile of the run so far).
//!
//! - `target`: TARGET to an address (a run directory's `live.addr`, `latest`);
//! - `fetch`: one GET of the profile;
//! - `model`: two snapshots to the rows of a frame (rates over the interval between them);
//! - `app`: the view's state and what keys and fetches do to it;
//! - `view`: drawing a frame with ratatui;
//! - here: the terminal (raw mode, restored on every way out), the fetch thread and `--once`.

mod app;
mod fetch;
mod model;
mod target;
#[cfg(test)]
mod testdata;
mod view;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use clap::Args;
use pipelinescope_core::Profile;
use pipelinescope_report::load::PROFILE_FILE;
use ratatui::backend::Backend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{self, Event};
use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::layout::Rect;
use ratatui::{DefaultTerminal, Terminal};

use app::App;
use fetch::{FetchError, Fetcher};

const TARGET_HELP: &str = "TARGET is the address of a running program's live endpoint \
(127.0.0.1:9464 or http://127.0.0.1:9464), a run directory (its live.addr file holds the address \
the program bound), or `latest`: the run started last under ./.pipelinescope_output (DIR/latest: \
under DIR). Start the program with PIPELINESCOPE_LIVE=127.0.0.1:0 (or live = \"127.0.0.1:0\" in \
pipelinescope.toml) to serve it.";

/// Rows of the functions table in a `--once` frame.
const ONCE_FUNCTIONS: usize = 20;
/// Width of a `--once` frame when standard output is not a terminal.
const ONCE_WIDTH: u16 = 100;

/// Arguments of `pipelinescope live`.
#[derive(Args)]
pub struct LiveArgs {
    /// Address, run directory or `latest`.
    #[arg(default_value = "latest", long_help = TARGET_HELP)]
    target: String,
    /// Seconds between two fetches (fractions allowed). With --once, 0 fetches once and shows
    /// figures over the whole run so far.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    interval: f64,
    /// Fetch twice, one interval apart, print one frame as plain text and exit.
    #[arg(long)]
    once: bool,
}

/// Runs the command; the error is the one line to print (exit code 2).
pub fn run(a: LiveArgs) -> Result<ExitCode, String> {
    if !a.interval.is_finite() || a.interval < 0.0 || (a.interval == 0.0 && !a.once) {
        return Err(format!(
            "--interval {}: must be a number of seconds above 0 (0 only with --once)",
            a.interval
        ));
    }
    let interval = Duration::from_secs_f64(a.interval.min(86_400.0));
    if !a.once && !std::io::stdout().is_terminal() {
        return Err("standard output is not a terminal: use --once for plain text".to_string());
    }
    let endpoint = target::resolve(&a.target)?;
    let fetcher = Fetcher::new(endpoint.profile_url());
    // The first fetch happens before the terminal is touched, so that a wrong target is one
    // plain line on stderr.
    let first = fetcher.fetch().map_err(|e| first_failure(&e, &endpoint))?;
    check_same_run(&first, &endpoint)?;
    let mut app = App::new(endpoint.label());
    app.on_fetch(Ok(first));
    if a.once {
        return once(app, &fetcher, interval);
    }
    interactive(app, fetcher, interval)
}

fn first_failure(e: &FetchError, endpoint: &target::Endpoint) -> String {
    match (e, &endpoint.run_dir) {
        (FetchError::Unreachable(_), Some(dir)) if dir.join(PROFILE_FILE).is_file() => format!(
            "run {} has ended (nothing answers at {} any more): read it with `pipelinescope top {}`",
            dir.display(),
            endpoint.base_url,
            dir.display()
        ),
        (FetchError::Unreachable(_), Some(dir)) => format!(
            "{e} (the program of run {} is not serving: it has stopped, or has not started yet)",
            dir.display()
        ),
        (FetchError::Unreachable(_), None) => {
            format!("{e} (is the program running with PIPELINESCOPE_LIVE set to this address?)")
        }
        _ => e.to_string(),
    }
}

/// A run directory's `live.addr` outlives its program: another run may have bound the same
/// address since. Its figures are not the named run's.
fn check_same_run(p: &Profile, endpoint: &target::Endpoint) -> Result<(), String> {
    let Some(dir) = &endpoint.run_dir else {
        return Ok(());
    };
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    match name {
        Some(name) if !p.meta.run_id.is_empty() && p.meta.run_id != name => Err(format!(
            "run {} has ended; {} now serves run {} (watch it with `pipelinescope live {}`)",
            dir.display(),
            endpoint.base_url,
            p.meta.run_id,
            endpoint.base_url
        )),
        _ => Ok(()),
    }
}

/// `--once`: a second fetch one interval later, then the frame as plain text.
fn once(mut app: App, fetcher: &Fetcher, interval: Duration) -> Result<ExitCode, String> {
    if !interval.is_zero() {
        std::thread::sleep(interval);
        match fetcher.fetch() {
            // The program ended in between: its last figures, marked as such.
            Err(e) if e.is_unreachable() => app.on_fetch(Err(e)),
            Err(e) => return Err(e.to_string()),
            Ok(p) => app.on_fetch(Ok(p)),
        };
    }
    if let Some(f) = &mut app.frame {
        f.functions.truncate(ONCE_FUNCTIONS);
    }
    let width = if std::io::stdout().is_terminal() {
        terminal::size().map_or(ONCE_WIDTH, |(w, _)| w.max(60))
    } else {
        ONCE_WIDTH
    };
    crate::print_out(&once_text(&app, width));
    Ok(ExitCode::SUCCESS)
}

/// The frame drawn into a buffer tall enough for every row, as plain text.
fn once_text(app: &App, width: u16) -> String {
    let area = Rect::new(0, 0, width, view::text_height(app));
    let mut buf = Buffer::empty(area);
    view::render(app, view::Mode::Text, area, &mut buf);
    view::buffer_text(&buf)
}

/// Whether the fetch thread should fetch, and whether it should end.
#[derive(Default)]
struct Control {
    active: AtomicBool,
    stop: AtomicBool,
}

/// Fetches every `interval` (from the start of one fetch to the next) while `active`.
fn poll_loop(
    fetcher: Fetcher,
    interval: Duration,
    control: Arc<Control>,
    tx: Sender<Result<Profile, FetchError>>,
) {
    let mut next = Instant::now() + interval;
    loop {
        while Instant::now() < next {
            if control.stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep((next - Instant::now()).min(Duration::from_millis(50)));
        }
        next += interval;
        if next < Instant::now() {
            // A fetch took longer than the interval: start over from now rather than catch up.
            next = Instant::now() + interval;
        }
        if control.stop.load(Ordering::Relaxed) {
            return;
        }
        if !control.active.load(Ordering::Relaxed) {
            continue;
        }
        if tx.send(fetcher.fetch()).is_err() {
            return;
        }
    }
}

/// The terminal in raw mode on the alternate screen; put back as it was when dropped (the
/// normal way out and early returns) and by the panic hook (a panic anywhere while it is up).
struct TerminalGuard {
    terminal: DefaultTerminal,
}

impl TerminalGuard {
    fn enter() -> std::io::Result<Self> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
            // The view cannot go on without its terminal or its fetch thread: end the process
            // rather than leave the main loop drawing on a restored screen.
            if std::thread::current().name() != Some("main") {
                std::process::exit(101);
            }
        }));
        terminal::enable_raw_mode()?;
        TERMINAL_TAKEN.store(true, Ordering::SeqCst);
        let guard_on_error = |e: std::io::Error| {
            restore_terminal();
            e
        };
        execute!(std::io::stdout(), terminal::EnterAlternateScreen).map_err(guard_on_error)?;
        let backend = ratatui::backend::CrosstermBackend::new(std::io::stdout());
        let terminal = Terminal::new(backend).map_err(guard_on_error)?;
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Whether the terminal is in raw mode on the alternate screen.
static TERMINAL_TAKEN: AtomicBool = AtomicBool::new(false);

/// Leaves raw mode and the alternate screen and shows the cursor, once: a panic restores from
/// its hook and again from the guard's drop while unwinding, and leaving the alternate screen a
/// second time would move the cursor back over the panic message.
fn restore_terminal() {
    if !TERMINAL_TAKEN.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
}

fn interactive(mut app: App, fetcher: Fetcher, interval: Duration) -> Result<ExitCode, String> {
    let control = Arc::new(Control::default());
    control.active.store(true, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel();
    let thread_control = Arc::clone(&control);
    std::thread::Builder::new()
        .name("pipelinescope-live-fetch".to_string())
        .spawn(move || poll_loop(fetcher, interval, thread_control, tx))
        .map_err(|e| format!("cannot start the fetch thread: {e}"))?;
    let mut guard =
        TerminalGuard::enter().map_err(|e| format!("cannot set up the terminal: {e}"))?;
    let result = event_loop(
        &mut guard.terminal,
        &mut app,
        next_terminal_event,
        &rx,
        &control,
    );
    drop(guard);
    control.stop.store(true, Ordering::Relaxed);
    result.map(|()| ExitCode::SUCCESS)
}

fn next_terminal_event(timeout: Duration) -> std::io::Result<Option<Event>> {
    if event::poll(timeout)? {
        event::read().map(Some)
    } else {
        Ok(None)
    }
}

/// Draws, reads keys and takes fetched snapshots until the user quits. `next_event` waits up to
/// the given time for a terminal event.
fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    mut next_event: impl FnMut(Duration) -> std::io::Result<Option<Event>>,
    fetched: &Receiver<Result<Profile, FetchError>>,
    control: &Control,
) -> Result<(), String> {
    let mut dirty = true;
    loop {
        if dirty {
            terminal
                .draw(|canvas| view::draw(canvas, app))
                .map_err(|e| format!("cannot draw: {e}"))?;
            dirty = false;
        }
        if app.quit {
            return Ok(());
        }
        match next_event(Duration::from_millis(100))
            .map_err(|e| format!("cannot read the terminal: {e}"))?
        {
            Some(Event::Key(k)) => dirty |= app.on_key(k),
            Some(Event::Resize(..)) => dirty = true,
            _ => {}
        }
        while let Ok(r) = fetched.try_recv() {
            dirty |= app.on_fetch(r);
        }
        control.active.store(app.wants_fetch(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
