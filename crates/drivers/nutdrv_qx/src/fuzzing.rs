//! Entry points for fuzzers (cargo-fuzz targets are one line each): arbitrary bytes drive a
//! whole session — detection, initialisation, polls, every instant command, SETs, shutdown —
//! for one protocol, blazer, or one USB subdriver. They must never panic; the results are
//! thrown away.

use crate::engine::{Outcome, Reply, Step};
use crate::options::{QxOptions, Variant};
use crate::protocol::ProtocolId;
use crate::usb::{Subdriver, UsbConfig, UsbError, UsbExchange, UsbResult, UsbState, UsbStep};
use crate::{Blazer, DetectStep, Detector, Qx};

/// Cuts fuzzer input into device answers: records separated by 0xFE; a record starting with
/// 0xFF is an I/O error. Runs dry after a bounded number of answers.
pub struct Answers<'a> {
    parts: std::iter::Cycle<std::slice::Iter<'a, &'a [u8]>>,
    budget: usize,
    empty: bool,
}

impl<'a> Answers<'a> {
    /// Answers from `records` (cycled), at most `budget` of them.
    pub fn new(records: &'a [&'a [u8]], budget: usize) -> Self {
        Answers {
            parts: records.iter().cycle(),
            budget,
            empty: records.is_empty(),
        }
    }

    /// The next answer, or `None` when the budget is spent.
    pub fn next_reply(&mut self) -> Option<Reply<'a>> {
        if self.budget == 0 {
            return None;
        }
        self.budget -= 1;
        if self.empty {
            return Some(Reply::Data(&[]));
        }
        let r: &'a [u8] = self.parts.next().copied().unwrap_or(&[]);
        Some(if r.first() == Some(&0xff) {
            Reply::Error
        } else {
            Reply::Data(r)
        })
    }
}

/// Split fuzzer input into records (see [`Answers`]).
pub fn records(data: &[u8]) -> Vec<&[u8]> {
    data.split(|&b| b == 0xfe).collect()
}

fn run(mut next: impl FnMut(Step) -> Option<Step>, mut s: Step) -> Option<Outcome> {
    loop {
        match s {
            Step::Send(_) => s = next(s)?,
            Step::Done(o) => return Some(o),
        }
    }
}

/// A nutdrv_qx session with `protocol` selected, answered from `data`.
pub fn qx_session(protocol: ProtocolId, data: &[u8], extra: Option<&str>) {
    let recs = records(data);
    let mut a = Answers::new(&recs, 600);
    let Ok(opts) = QxOptions::parse(Variant::NutdrvQx, [("protocol", Some(protocol.name()))])
    else {
        return;
    };
    let mut d = Detector::new(opts);
    let mut step = d.start();
    let mut qx: Box<Qx> = loop {
        match step {
            DetectStep::Send(_) => match a.next_reply() {
                Some(r) => step = d.feed(r),
                None => return,
            },
            DetectStep::Found(q) => break q,
            DetectStep::NotSupported => return,
        }
    };
    macro_rules! go {
        ($s:expr) => {{
            let s = $s;
            if run(|_| a.next_reply().map(|r| qx.feed(r)), s).is_none() {
                return;
            }
        }};
    }
    go!(qx.init(0.0));
    for i in 0..4 {
        go!(qx.poll(f64::from(i) * 40.0));
    }
    let cmds: Vec<String> = qx.dstate().commands().iter().cloned().collect();
    for c in &cmds {
        go!(qx.instcmd(c, extra));
    }
    let rws: Vec<String> = qx
        .dstate()
        .vars()
        .iter()
        .filter(|(_, v)| v.flags & crate::item::stf::RW != 0)
        .map(|(k, _)| k.clone())
        .collect();
    for v in &rws {
        go!(qx.setvar(v, extra.unwrap_or("60")));
    }
    go!(qx.shutdown());
    let _ = qx.take_log();
    let _ = qx.dstate_mut().take_updates();
}

/// A blazer_ser session answered from `data`.
pub fn blazer_session(data: &[u8], extra: Option<&str>) {
    let recs = records(data);
    let mut a = Answers::new(&recs, 300);
    let Ok(opts) = QxOptions::parse(Variant::BlazerSer, [("runtimecal", Some("240,100,720,50"))])
    else {
        return;
    };
    let Ok(mut b) = Blazer::new(opts) else { return };
    macro_rules! go {
        ($s:expr) => {{
            let s = $s;
            if run(|_| a.next_reply().map(|r| b.feed(r)), s).is_none() {
                return;
            }
        }};
    }
    go!(b.init(0.0));
    for i in 0..3 {
        go!(b.poll(f64::from(i) * 5.0));
    }
    for c in [
        "shutdown.return",
        "shutdown.stayoff",
        "test.battery.start",
        "beeper.toggle",
    ] {
        go!(b.instcmd(c, extra));
    }
    go!(b.shutdown());
}

/// One exchange of `cmd` through `sub`, transfer results taken from `data` (records: first
/// byte 0xFF = error, 0xFD = "written", else IN data).
pub fn usb_exchange(sub: Subdriver, cmd: &[u8], langid_fix: Option<u16>, data: &[u8]) {
    let recs = records(data);
    let mut it = recs.iter().cycle().take(2000);
    let cfg = UsbConfig {
        langid_fix,
        blazer: false,
    };
    let mut x = UsbExchange::new(sub, cmd, &cfg, &UsbState::default());
    let mut s = x.step(None);
    while let UsbStep::Op(_) = s {
        let r = match it.next() {
            None => UsbResult::Err(UsbError::Timeout),
            Some(r) => match r.first() {
                Some(0xff) => UsbResult::Err(UsbError::Io),
                Some(0xfd) => UsbResult::Written(r.len()),
                _ => UsbResult::Data(r.to_vec()),
            },
        };
        s = x.step(Some(r));
    }
    if let UsbStep::Done(o) = s {
        let _ = o.reply();
        let _ = o.recovery();
    }
}
