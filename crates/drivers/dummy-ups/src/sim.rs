//! Dummy mode: play a data file into the state tree (docs/nut-behaviour.md §8.2).
//!
//! `dummy-once` applies the file once (pausing at `TIMER` lines), then re-reads it only
//! when its modification time changes, so values set with SET persist. `dummy-loop` plays
//! the file again from the top after reaching its end, re-reading it each time; a `TIMER`
//! at the end keeps SET values alive for that long.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use nut_driver::{DriverError, State, VarFlags};

use crate::datafile::{self, Action, Entry, RwKind};
use crate::table;

/// How the file is replayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Read once; re-read when the file changes.
    Once,
    /// Read again and again.
    Loop,
}

/// The simulation.
#[derive(Debug)]
pub struct Sim {
    mode: Mode,
    path: PathBuf,
    script: Vec<Entry>,
    pos: usize,
    resume_at: Option<Instant>,
    mtime: Option<SystemTime>,
    reported_mtime: Option<Option<SystemTime>>,
}

impl Sim {
    /// A simulation of the file at `path`.
    pub fn new(mode: Mode, path: PathBuf) -> Self {
        Self {
            mode,
            path,
            script: Vec::new(),
            pos: 0,
            resume_at: None,
            mtime: None,
            reported_mtime: None,
        }
    }

    fn current_mtime(&self) -> Option<SystemTime> {
        std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok()
    }

    /// Read and parse the file; its problems are logged once per version of the file.
    fn load(&mut self) -> Result<(), String> {
        let mtime = self.current_mtime();
        let text = std::fs::read(&self.path).map_err(|e| {
            format!(
                "Can't open dummy-ups definition file {}: {}",
                self.path.display(),
                nut_driver::process::strerror(&e)
            )
        })?;
        let parsed = datafile::parse(&text, &self.path.display().to_string());
        if self.reported_mtime != Some(mtime) {
            for p in &parsed.problems {
                nut_driver::warning!("{p}");
            }
            self.reported_mtime = Some(mtime);
        }
        self.script = parsed.entries;
        self.pos = 0;
        self.mtime = mtime;
        Ok(())
    }

    /// Publish dummy-ups' defaults, then play the file until its end or a TIMER. A missing
    /// file is fatal, as in NUT.
    pub fn start(&mut self, now: Instant, state: &mut State) -> Result<(), DriverError> {
        for (var, value) in [
            ("ups.mfr", "Dummy Manufacturer"),
            ("ups.model", "Dummy UPS"),
            ("ups.status", "OL"),
        ] {
            state.set_info(var, value);
            let (flags, aux) = table::flags_for(var);
            state.set_flags(var, flags);
            state.set_aux(var, aux);
        }
        self.load().map_err(DriverError::new)?;
        self.run(now, state);
        Ok(())
    }

    /// One poll.
    pub fn update(&mut self, now: Instant, state: &mut State) {
        if let Some(at) = self.resume_at {
            if now < at {
                return;
            }
            self.resume_at = None;
            self.run(now, state);
            return;
        }
        if self.pos < self.script.len() {
            self.run(now, state);
            return;
        }
        let reload = match self.mode {
            Mode::Loop => true,
            Mode::Once => self.current_mtime() != self.mtime,
        };
        if reload {
            match self.load() {
                Ok(()) => self.run(now, state),
                Err(e) => nut_driver::error!("{e}"),
            }
        }
    }

    /// When the current TIMER ends.
    pub fn next_update(&self) -> Option<Instant> {
        self.resume_at
    }

    fn run(&mut self, now: Instant, state: &mut State) {
        while let Some(entry) = self.script.get(self.pos) {
            self.pos += 1;
            if let Action::Timer { seconds } = entry.action {
                nut_driver::debug!(1, "suspending execution for {seconds} seconds...");
                self.resume_at = Some(now + Duration::from_secs(seconds));
                return;
            }
            apply(&entry.action, state);
        }
    }
}

/// Set a variable the way dummy-ups does, with the table's flags (or a 32-character RW
/// string for unknown names).
pub fn set_var(state: &mut State, var: &str, value: &str) {
    state.set_info(var, value);
    let (flags, aux) = table::flags_for(var);
    state.set_flags(var, flags);
    if flags.string {
        state.set_aux(var, aux);
    }
}

/// Set `ups.status` from tokens.
pub fn set_status<S: AsRef<str>>(state: &mut State, tokens: &[S]) {
    state.status_init();
    for t in tokens {
        state.status_set(t.as_ref());
    }
    state.status_commit();
}

fn apply(action: &Action, state: &mut State) {
    match action {
        Action::Set { var, value } => set_var(state, var, value),
        Action::Status { tokens } => set_status(state, tokens),
        Action::Cmd { name } => {
            state.add_cmd(name);
        }
        Action::Rw { var, kind } => {
            if state.get(var).is_none() {
                nut_driver::warning!("RW:{var}: no such variable (declare its value first)");
                return;
            }
            match kind {
                RwKind::String(len) => {
                    state.set_flags(var, VarFlags::RW | VarFlags::STRING);
                    state.set_aux(var, *len);
                }
                RwKind::Range(min, max) => {
                    state.set_flags(var, VarFlags::RW);
                    state.set_aux(var, 0);
                    state.add_range(var, *min, *max);
                }
                RwKind::Enum(value) => {
                    state.set_flags(var, VarFlags::RW);
                    state.set_aux(var, 0);
                    state.add_enum(var, value);
                }
            }
        }
        Action::Timer { .. } => {}
    }
}
