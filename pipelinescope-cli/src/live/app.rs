//! The live view's state and what keys and fetches do to it, apart from any terminal, so that
//! tests drive it directly.

use pipelinescope_core::Profile;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::fetch::FetchError;
use super::model::{Frame, FunctionSort, Model, StageSort, sort_functions, sort_stages};

/// Which table `s` sorts (and which is drawn highlighted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    /// The functions table.
    #[default]
    Functions,
    /// The stages table.
    Stages,
}

/// What the last fetch said about the program.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// It answered.
    Running,
    /// It answered before and now does not answer late or wrongly: shown, fetching goes on.
    Stalled(String),
    /// Nothing listens any more: the program has ended. Fetching stops, the last frame stays.
    Ended,
}

/// Everything the view draws.
#[derive(Debug)]
pub struct App {
    model: Model,
    /// The frame of the last snapshot, rows sorted as chosen.
    pub frame: Option<Frame>,
    /// Sort order of the functions table.
    pub fn_sort: FunctionSort,
    /// Sort order of the stages table.
    pub stage_sort: StageSort,
    /// Which table has the focus.
    pub focus: Focus,
    /// Fetching stopped by the user; the frame stays.
    pub paused: bool,
    /// The program's state, from the last fetch.
    pub state: RunState,
    /// The user asked to quit.
    pub quit: bool,
    /// Where the profile comes from (an address or run directory), for the footer.
    pub source: String,
}

impl App {
    /// An app with no snapshot yet.
    pub fn new(source: String) -> Self {
        App {
            model: Model::default(),
            frame: None,
            fn_sort: FunctionSort::default(),
            stage_sort: StageSort::default(),
            focus: Focus::default(),
            paused: false,
            state: RunState::Running,
            quit: false,
            source,
        }
    }

    /// Whether snapshots should be fetched now.
    pub fn wants_fetch(&self) -> bool {
        !self.paused && self.state != RunState::Ended && !self.quit
    }

    /// Takes the result of one fetch; returns whether the screen changed.
    pub fn on_fetch(&mut self, result: Result<Profile, FetchError>) -> bool {
        if !self.wants_fetch() {
            // Fetched before the pause or the end was seen: the frame stays as it was.
            return false;
        }
        match result {
            Ok(p) => {
                self.frame = Some(self.model.push(p));
                self.state = RunState::Running;
                self.resort();
            }
            Err(e) if e.is_unreachable() && self.frame.is_some() => self.state = RunState::Ended,
            Err(e) => self.state = RunState::Stalled(e.to_string()),
        }
        true
    }

    /// Handles one key; returns whether the screen changed.
    pub fn on_key(&mut self, key: KeyEvent) -> bool {
        if key.kind == KeyEventKind::Release {
            return false;
        }
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => self.quit = true,
            KeyCode::Char('s') => {
                match self.focus {
                    Focus::Functions => self.fn_sort = self.fn_sort.next(),
                    Focus::Stages => self.stage_sort = self.stage_sort.next(),
                }
                self.resort();
            }
            KeyCode::Tab | KeyCode::BackTab => {
                self.focus = match self.focus {
                    Focus::Functions => Focus::Stages,
                    Focus::Stages => Focus::Functions,
                }
            }
            KeyCode::Char('p') | KeyCode::Char(' ') => self.paused = !self.paused,
            _ => return false,
        }
        true
    }

    fn resort(&mut self) {
        if let Some(f) = &mut self.frame {
            sort_functions(&mut f.functions, self.fn_sort);
            sort_stages(&mut f.stages, self.stage_sort);
        }
    }
}
