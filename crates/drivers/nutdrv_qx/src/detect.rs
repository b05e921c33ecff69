//! Protocol auto-detection (`subdriver_matcher`): each candidate protocol's claim is tried up
//! to [`MAXTRIES`] times, in NUT 2.8.0's order, unless `protocol` selects one.

use crate::engine::{MAXTRIES, Outcome, Qx, Reply, Request, Step};
use crate::options::QxOptions;
use crate::protocol::{ProtocolId, candidates};

/// What the detector wants next.
#[derive(Debug)]
pub enum DetectStep {
    /// Send these bytes, then call [`Detector::feed`] with the answer.
    Send(Request),
    /// A protocol claimed the device; continue with [`Qx::init`].
    Found(Box<Qx>),
    /// No protocol claimed the device ("Device not supported!").
    NotSupported,
}

/// The detection state machine.
#[derive(Debug)]
pub struct Detector {
    opts: QxOptions,
    order: Vec<ProtocolId>,
    cand: usize,
    tries: u32,
    current: Option<Box<Qx>>,
    presets: Vec<(String, String, bool)>,
    log: Vec<(crate::engine::Level, String)>,
}

impl Detector {
    /// Detector for `opts` (its variant decides the candidates; `protocol` restricts them).
    pub fn new(opts: QxOptions) -> Self {
        let order: Vec<ProtocolId> = candidates(opts.variant)
            .iter()
            .copied()
            .filter(|p| opts.protocol.is_none_or(|sel| sel == *p))
            .collect();
        Detector {
            opts,
            order,
            cand: 0,
            tries: 0,
            current: None,
            presets: Vec::new(),
            log: Vec::new(),
        }
    }

    /// What failed claims logged so far (e.g. "Protocol \[PI05\] is not supported by this
    /// driver"), in NUT's wording; the claiming protocol's own log is in [`Qx::take_log`].
    pub fn take_log(&mut self) -> Vec<(crate::engine::Level, String)> {
        std::mem::take(&mut self.log)
    }

    /// Values from ups.conf that exist before the device is read: `default.<var>` (`false`)
    /// and `override.<var>` (`true`), given without the prefix. They are in place during the
    /// claim already, as in NUT (see [`crate::dstate::Dstate::preset`]).
    pub fn with_presets<I, S>(mut self, presets: I) -> Self
    where
        I: IntoIterator<Item = (S, S, bool)>,
        S: Into<String>,
    {
        self.presets = presets
            .into_iter()
            .map(|(k, v, o)| (k.into(), v.into(), o))
            .collect();
        self
    }

    /// Start (or restart) detection.
    pub fn start(&mut self) -> DetectStep {
        self.cand = 0;
        self.tries = 0;
        self.current = None;
        self.next_attempt()
    }

    fn next_attempt(&mut self) -> DetectStep {
        loop {
            let Some(&id) = self.order.get(self.cand) else {
                return DetectStep::NotSupported;
            };
            let proto = id.protocol();
            if self.tries >= MAXTRIES {
                self.cand += 1;
                self.tries = 0;
                continue;
            }
            self.tries += 1;
            let mut qx = Box::new(Qx::new(proto, self.opts.clone()));
            for (k, v, o) in &self.presets {
                qx.dstate_mut().preset(k, v, *o);
            }
            let step = qx.claim();
            self.current = Some(qx);
            if let Some(d) = self.handle(step) {
                return d;
            }
        }
    }

    fn handle(&mut self, step: Step) -> Option<DetectStep> {
        match step {
            Step::Send(b) => Some(DetectStep::Send(b)),
            Step::Done(Outcome::Claim(true)) => {
                let mut qx = self.current.take()?;
                (qx.proto.initups)(&mut qx);
                let v = qx.proto.version;
                qx.logm(crate::engine::Level::Info, format!("Using protocol: {v}"));
                Some(DetectStep::Found(qx))
            }
            Step::Done(_) => {
                if let Some(mut qx) = self.current.take() {
                    self.log.extend(qx.take_log());
                }
                None
            }
        }
    }

    /// Feed the answer to the last command.
    pub fn feed(&mut self, reply: Reply<'_>) -> DetectStep {
        let step = match self.current.as_mut() {
            Some(qx) => qx.feed(reply),
            None => return self.next_attempt(),
        };
        match self.handle(step) {
            Some(d) => d,
            None => self.next_attempt(),
        }
    }
}
