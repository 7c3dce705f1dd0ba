//! The event loop driven by scripted events on a test terminal.

use super::*;
use crate::live::model::FunctionSort;
use crate::live::testdata::{first, second};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// Runs the loop over `events` (each answered to one wait); panics if it asks for more.
fn run_loop(
    app: &mut App,
    events: Vec<Option<Event>>,
    rx: &Receiver<Result<Profile, FetchError>>,
) -> (Terminal<TestBackend>, Control) {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let control = Control::default();
    let mut events = events.into_iter();
    event_loop(
        &mut terminal,
        app,
        |_| {
            Ok(events
                .next()
                .expect("the loop went on after the script ended"))
        },
        rx,
        &control,
    )
    .unwrap();
    (terminal, control)
}

#[test]
fn q_ends_the_loop_and_keys_take_effect() {
    let mut app = App::new("test".to_string());
    app.on_fetch(Ok(first()));
    let (tx, rx) = mpsc::channel();
    tx.send(Ok(second())).unwrap();
    let (terminal, control) = run_loop(&mut app, vec![None, Some(key('s')), Some(key('q'))], &rx);
    assert!(app.quit);
    assert_eq!(app.fn_sort, FunctionSort::CallsPerS);
    // The fetched snapshot was taken in: the frame is the interval between the two.
    let f = app.frame.as_ref().unwrap();
    assert!(!f.since_start);
    assert_eq!(f.interval_ns, 2_000_000_000);
    assert!(!control.active.load(Ordering::Relaxed));
    let text = view::buffer_text(terminal.backend().buffer());
    assert!(text.contains("Functions by calls/s"), "{text}");
}

#[test]
fn ctrl_c_ends_the_loop_and_pause_stops_the_fetching() {
    let mut app = App::new("test".to_string());
    app.on_fetch(Ok(first()));
    let (_tx, rx) = mpsc::channel();
    let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let control = Control::default();
    control.active.store(true, Ordering::Relaxed);
    let mut script = vec![Some(key('p')), None, Some(ctrl_c)].into_iter();
    let mut active_seen = Vec::new();
    let mut waits = 0;
    event_loop(
        &mut terminal,
        &mut app,
        |_| {
            waits += 1;
            active_seen.push(control.active.load(Ordering::Relaxed));
            Ok(script.next().unwrap())
        },
        &rx,
        &control,
    )
    .unwrap();
    assert!(app.quit && app.paused);
    assert_eq!(waits, 3);
    // After `p` the fetch thread is told to stop fetching.
    assert_eq!(active_seen, [true, false, false]);
}

#[test]
fn the_fetch_thread_fetches_only_while_active_and_stops() {
    // Nothing listens on a port just closed: every fetch is an immediate refusal.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let fetcher = Fetcher::new(format!("http://127.0.0.1:{port}/profile.json"));
    let control = Arc::new(Control::default());
    let (tx, rx) = mpsc::channel();
    let c = Arc::clone(&control);
    let t = std::thread::spawn(move || poll_loop(fetcher, Duration::from_millis(20), c, tx));
    std::thread::sleep(Duration::from_millis(150));
    assert!(rx.try_recv().is_err(), "fetched while inactive");
    control.active.store(true, Ordering::Relaxed);
    let got = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(got.unwrap_err().is_unreachable());
    control.stop.store(true, Ordering::Relaxed);
    t.join().unwrap();
}
