//! A scripted Megatec device for tests: replies from a recording (first reply per command,
//! like `serialsim.py --fixed`), unknown commands echoed, every request logged.

use std::collections::HashMap;
use std::path::PathBuf;

use nutdrv_qx::{DetectStep, Detector, Outcome, Qx, QxOptions, Reply, Step, Variant};

pub struct Device {
    pub replies: HashMap<String, Vec<u8>>,
    pub log: Vec<String>,
    pub silent: bool,
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures/serial")
        .join(name)
}

impl Device {
    /// Load a recording (`CMD -> REPLY` or `... [CMD] -> REPLY`), first reply wins.
    #[allow(
        clippy::disallowed_methods,
        reason = "tests read their recordings from tests/fixtures"
    )]
    pub fn from_fixture(name: &str) -> Device {
        let text = std::fs::read_to_string(fixture(name)).expect("fixture readable");
        Self::from_text(&text)
    }

    /// Parse recording text (same rules as [`Device::from_fixture`]).
    pub fn from_text(text: &str) -> Device {
        let mut replies = HashMap::new();
        for line in text.lines() {
            if line.trim_start().starts_with('#') || !line.contains(" -> ") {
                continue;
            }
            let (left, reply) = line.split_once(" -> ").unwrap();
            let cmd = match (left.rfind('['), left.trim_end().ends_with(']')) {
                (Some(p), true) => left[p + 1..left.trim_end().len() - 1].to_string(),
                _ => left.trim().to_string(),
            };
            let cmd = cmd.strip_suffix("\\r").unwrap_or(&cmd).to_string();
            let reply = reply.strip_suffix("\\r").unwrap_or(reply);
            let bytes = if reply.trim() == "(no reply)" {
                Vec::new()
            } else {
                format!("{reply}\r").into_bytes()
            };
            replies.entry(cmd).or_insert(bytes);
        }
        Device {
            replies,
            log: Vec::new(),
            silent: false,
        }
    }

    pub fn set(&mut self, cmd: &str, reply: &str) {
        self.replies
            .insert(cmd.to_string(), format!("{reply}\r").into_bytes());
    }

    /// Raw reply bytes (binary protocols), CR added.
    pub fn set_bytes(&mut self, cmd: &str, reply: &[u8]) {
        let mut r = reply.to_vec();
        r.push(b'\r');
        self.replies.insert(cmd.to_string(), r);
    }

    /// The device takes `cmd` without answering (what Megatec units do for accepted commands).
    pub fn mute(&mut self, cmd: &str) {
        self.replies.insert(cmd.to_string(), Vec::new());
    }

    pub fn answer(&mut self, req: &[u8]) -> Vec<u8> {
        let cmd = String::from_utf8_lossy(req)
            .trim_end_matches('\r')
            .to_string();
        self.log.push(cmd.clone());
        if self.silent {
            return Vec::new();
        }
        match self.replies.get(&cmd) {
            Some(r) => r.clone(),
            None => req.to_vec(),
        }
    }
}

/// Run a step to completion against the device.
pub fn drive(qx: &mut Qx, mut step: Step, dev: &mut Device) -> Outcome {
    loop {
        match step {
            Step::Send(b) => {
                let r = dev.answer(&b);
                step = qx.feed(Reply::Data(&r));
            }
            Step::Done(o) => return o,
        }
    }
}

pub fn detect(dev: &mut Device, opts: QxOptions) -> Option<Box<Qx>> {
    let mut d = Detector::new(opts);
    let mut step = d.start();
    loop {
        match step {
            DetectStep::Send(b) => {
                let r = dev.answer(&b);
                step = d.feed(Reply::Data(&r));
            }
            DetectStep::Found(qx) => return Some(qx),
            DetectStep::NotSupported => return None,
        }
    }
}

pub fn opts(pairs: &[(&str, Option<&str>)]) -> QxOptions {
    QxOptions::parse(Variant::NutdrvQx, pairs.iter().copied()).expect("valid options")
}

/// Detect, init and one poll (what `-d 1` publishes); returns the engine.
pub fn start(dev: &mut Device, o: QxOptions) -> Box<Qx> {
    let mut qx =
        detect(dev, o).unwrap_or_else(|| panic!("device not claimed; exchange: {:?}", dev.log));
    let s = qx.init(1000.0);
    assert_eq!(drive(&mut qx, s, dev), Outcome::Init(Ok(())));
    let s = qx.poll(1001.0);
    assert!(matches!(
        drive(&mut qx, s, dev),
        Outcome::Poll(nutdrv_qx::PollResult::Ok { .. })
    ));
    qx
}

/// `var: value` lines like a `-d 1` dump, with ups.status, minus framework variables.
pub fn dump(qx: &Qx) -> Vec<String> {
    let mut v: Vec<String> = qx
        .dstate()
        .vars()
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.value))
        .collect();
    v.push(format!("ups.status: {}", qx.status_string()));
    if !qx.alarms().is_empty() {
        v.push(format!("ups.alarm: {}", qx.alarms().join(" ")));
    }
    v.sort();
    v
}

pub fn lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    v.sort();
    v
}
