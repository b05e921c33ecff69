//! The simulator core, sans-IO: request bytes and the time in, reply bytes (with the time
//! they are due) out. It knows the two serial framings (Megatec/Q1: CR-terminated text
//! requests; APC Smart: one byte per command), picks replies from a recorded table, and
//! applies the test's power script and fault mode. Every byte in and out is logged.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::fixture::{self, FixtureError, Reply, Table};

/// The serial framing a simulator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Megatec/Q1 family (megatec, megatec/old, mustek, zinto, mecer, bestups, voltronic-qs,
    /// voltronic "P" commands…): a request is text ending in CR, the reply text ends in CR;
    /// an unknown command is echoed back (as many real units do).
    Megatec,
    /// APC Smart: every byte is a command, replies end in CR LF; unknown commands answer
    /// `NA`.
    ApcSmart,
}

impl Protocol {
    fn terminator(self) -> &'static [u8] {
        match self {
            Protocol::Megatec => b"\r",
            Protocol::ApcSmart => b"\r\n",
        }
    }
}

/// A power situation the simulator can be switched to. Q1 family: the utility-fail and
/// battery-low bits of every status reply (see [`status_bits_at`]: Megatec `Q1`-style
/// `… b7b6b5b4b3b2b1b0`, Voltronic `QGS`) are rewritten and on battery the input voltage
/// field reads zero. APC Smart: the `Q` status byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    /// On line: utility present, battery not low (`OL`).
    Online,
    /// On battery (`OB`).
    OnBattery,
    /// On battery, battery low (`OB LB`).
    LowBattery,
}

/// A misbehaviour of the device, applied to every reply (or to one command's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No reply at all.
    Silent,
    /// Deterministic noise of the reply's length (at least 8 bytes), then the terminator.
    Garbage,
    /// Only the first n bytes of the reply, then the terminator.
    Short(usize),
    /// Only the first n bytes of the reply, without a terminator.
    Truncated(usize),
    /// The whole reply, this long after the request.
    Slow(Duration),
}

/// Which way bytes went, seen from the simulated device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the driver to the device.
    Received,
    /// From the device to the driver.
    Sent,
}

/// Bytes as they crossed the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    pub at: Duration,
    pub direction: Direction,
    pub bytes: Vec<u8>,
}

/// One request and what the simulator did about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// When the request was complete (time since the simulator started).
    pub at: Duration,
    /// The request as received, terminator included (Megatec `Q1\r`, APC `Q`).
    pub request: Vec<u8>,
    /// The request without terminator (the table key).
    pub command: Vec<u8>,
    /// The reply bytes queued (terminator included), `None` when it stayed silent.
    pub reply: Option<Vec<u8>>,
    /// Whether this was a status query (counted by [`Simulator::status_polls`]).
    pub status_query: bool,
}

/// Reply bytes to write once `due` has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub due: Duration,
    pub bytes: Vec<u8>,
}

/// What a simulator serves; built from a fixture and adjusted with the builder methods.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub proto: Protocol,
    pub table: Table,
    /// Always the first recorded reply instead of cycling through them.
    pub fixed: bool,
    /// After this many status queries, every command repeats its last reply (no more
    /// cycling): the published data then stays put, so two drivers can be compared.
    pub freeze_after: Option<u64>,
    /// `(n, power)`: switch to `power` when the n-th status query (1-based) comes in.
    pub script: Vec<(u64, Power)>,
}

impl SimConfig {
    /// An empty table (every Megatec command echoed, every APC command `NA`).
    pub fn new(proto: Protocol) -> SimConfig {
        SimConfig {
            proto,
            table: Table::new(),
            fixed: false,
            freeze_after: None,
            script: Vec::new(),
        }
    }

    /// The exchanges recorded in the fixture at `path`.
    pub fn from_fixture(
        proto: Protocol,
        path: impl AsRef<Path>,
    ) -> Result<SimConfig, FixtureError> {
        let mut config = SimConfig::new(proto);
        config.table = fixture::load(path.as_ref(), proto)?;
        if proto == Protocol::ApcSmart {
            config
                .table
                .entry(b"Y".to_vec())
                .or_insert_with(|| vec![Reply::Bytes(b"SM".to_vec())]);
        }
        Ok(config)
    }

    /// Adds or replaces the reply to `command` (a single fixed reply).
    pub fn set(mut self, command: impl AsRef<[u8]>, reply: impl AsRef<[u8]>) -> SimConfig {
        self.table.insert(
            command.as_ref().to_vec(),
            vec![Reply::Bytes(reply.as_ref().to_vec())],
        );
        self
    }

    /// Makes `command` go unanswered.
    pub fn silence(mut self, command: impl AsRef<[u8]>) -> SimConfig {
        self.table
            .insert(command.as_ref().to_vec(), vec![Reply::Silence]);
        self
    }

    /// Always the first recorded reply.
    pub fn fixed(mut self) -> SimConfig {
        self.fixed = true;
        self
    }

    /// See [`SimConfig::freeze_after`].
    pub fn freeze_after(mut self, status_queries: u64) -> SimConfig {
        self.freeze_after = Some(status_queries);
        self
    }

    /// Switch to `power` at the `nth` status query (1-based).
    pub fn at_status_query(mut self, nth: u64, power: Power) -> SimConfig {
        self.script.push((nth, power));
        self
    }

    /// APC Smart: answer `a` (protocol version, alerts, commands) from the commands the
    /// table knows, as a unit with that command set would. No recording has an `a` reply.
    pub fn apc_caps(mut self) -> SimConfig {
        let mut commands: Vec<u8> = self
            .table
            .keys()
            .filter(|k| k.len() == 1)
            .map(|k| k[0])
            .chain(*b"QYRa")
            .collect();
        commands.sort_unstable();
        commands.dedup();
        let mut reply = b"3.!$%+?=#|.".to_vec();
        reply.extend(commands);
        self.table
            .entry(b"a".to_vec())
            .or_insert_with(|| vec![Reply::Bytes(reply)]);
        self
    }
}

/// Longest Megatec request kept while waiting for its CR; a longer one is logged (as an
/// exchange without command or reply) and dropped through its CR.
const MAX_REQUEST: usize = 512;

/// The simulator state machine.
#[derive(Debug)]
pub struct Simulator {
    config: SimConfig,
    served: BTreeMap<Vec<u8>, usize>,
    last: BTreeMap<Vec<u8>, Reply>,
    pending: Vec<u8>,
    discarding: bool,
    power: Option<Power>,
    fault: Option<(Fault, Option<Vec<u8>>)>,
    status_polls: u64,
    garbage_state: u32,
    exchanges: Vec<Exchange>,
    raw: Vec<RawEvent>,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Simulator {
        Simulator {
            config,
            served: BTreeMap::new(),
            last: BTreeMap::new(),
            pending: Vec::new(),
            discarding: false,
            power: None,
            fault: None,
            status_polls: 0,
            garbage_state: 0x2545_f491,
            exchanges: Vec::new(),
            raw: Vec::new(),
        }
    }

    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Switches the power situation now (`None`: the status replies as recorded).
    pub fn set_power(&mut self, power: Option<Power>) {
        self.power = power;
    }

    /// Switches to `power` when the `after`-th status query from now comes in (1 = the
    /// next one): scripts relative to the driver's start-up, however many queries its
    /// detection took.
    pub fn schedule(&mut self, after: u64, power: Power) {
        self.config.script.push((self.status_polls + after, power));
    }

    pub fn power(&self) -> Option<Power> {
        self.power
    }

    /// Sets (or clears) the fault applied to every reply.
    pub fn set_fault(&mut self, fault: Option<Fault>) {
        self.fault = fault.map(|f| (f, None));
    }

    /// Sets a fault for the replies to one command only (replacing any other fault).
    pub fn set_fault_for(&mut self, command: impl AsRef<[u8]>, fault: Fault) {
        self.fault = Some((fault, Some(command.as_ref().to_vec())));
    }

    /// Replaces the reply to `command` from now on (single fixed reply).
    pub fn set_reply(&mut self, command: impl AsRef<[u8]>, reply: impl AsRef<[u8]>) {
        let command = command.as_ref().to_vec();
        self.served.remove(&command);
        self.last.remove(&command);
        self.config
            .table
            .insert(command, vec![Reply::Bytes(reply.as_ref().to_vec())]);
    }

    /// How many status queries were answered (or went unanswered) so far.
    pub fn status_polls(&self) -> u64 {
        self.status_polls
    }

    /// Every complete request so far, in order.
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }

    /// Every byte in and out so far, in order.
    pub fn raw(&self) -> &[RawEvent] {
        &self.raw
    }

    /// Feeds bytes the driver wrote; returns the replies to write (each when due).
    pub fn receive(&mut self, bytes: &[u8], now: Duration) -> Vec<Output> {
        if bytes.is_empty() {
            return Vec::new();
        }
        self.raw.push(RawEvent {
            at: now,
            direction: Direction::Received,
            bytes: bytes.to_vec(),
        });
        let mut out = Vec::new();
        match self.config.proto {
            Protocol::ApcSmart => {
                for &b in bytes {
                    out.extend(self.request(vec![b], vec![b], now));
                }
            }
            Protocol::Megatec => {
                for &b in bytes {
                    if self.discarding {
                        // The rest of an overlong request, through its CR.
                        self.discarding = b != b'\r';
                        continue;
                    }
                    self.pending.push(b);
                    if b == b'\r' {
                        let request = std::mem::take(&mut self.pending);
                        let command: Vec<u8> = request
                            .iter()
                            .copied()
                            .filter(|&c| c != b'\r' && c != b'\n')
                            .collect();
                        out.extend(self.request(request, command, now));
                    } else if self.pending.len() > MAX_REQUEST {
                        self.discarding = true;
                        let request = std::mem::take(&mut self.pending);
                        self.exchanges.push(Exchange {
                            at: now,
                            request,
                            command: Vec::new(),
                            reply: None,
                            status_query: false,
                        });
                    }
                }
            }
        }
        out
    }

    /// Records bytes the shell actually wrote to the driver.
    pub fn sent(&mut self, bytes: &[u8], now: Duration) {
        self.raw.push(RawEvent {
            at: now,
            direction: Direction::Sent,
            bytes: bytes.to_vec(),
        });
    }

    fn request(&mut self, request: Vec<u8>, command: Vec<u8>, now: Duration) -> Option<Output> {
        let status_query = self.is_status_query(&command);
        let frozen = self
            .config
            .freeze_after
            .is_some_and(|n| self.status_polls >= n);
        if status_query {
            self.status_polls += 1;
            let nth = self.status_polls;
            if let Some(&(_, power)) = self.config.script.iter().rev().find(|(n, _)| *n == nth) {
                self.power = Some(power);
            }
        }
        let reply = self.pick(&command, frozen);
        let reply = match reply {
            Reply::Silence => None,
            Reply::Bytes(mut body) => {
                if status_query && let Some(power) = self.power {
                    body = self.rewrite_status(&command, body, power);
                }
                Some(body)
            }
        };
        let fault = match &self.fault {
            Some((fault, None)) => Some(*fault),
            Some((fault, Some(only))) if *only == command => Some(*fault),
            _ => None,
        };
        let terminator = self.config.proto.terminator();
        let (bytes, delay) = match (reply, fault) {
            (None, _) | (Some(_), Some(Fault::Silent)) => (None, Duration::ZERO),
            (Some(body), None) => (Some([&body[..], terminator].concat()), Duration::ZERO),
            (Some(body), Some(Fault::Slow(delay))) => {
                (Some([&body[..], terminator].concat()), delay)
            }
            (Some(body), Some(Fault::Short(n))) => (
                Some([&body[..n.min(body.len())], terminator].concat()),
                Duration::ZERO,
            ),
            (Some(body), Some(Fault::Truncated(n))) => {
                (Some(body[..n.min(body.len())].to_vec()), Duration::ZERO)
            }
            (Some(body), Some(Fault::Garbage)) => {
                let mut noise = self.garbage(body.len().max(8));
                noise.extend_from_slice(terminator);
                (Some(noise), Duration::ZERO)
            }
        };
        self.exchanges.push(Exchange {
            at: now,
            request,
            command,
            reply: bytes.clone(),
            status_query,
        });
        bytes.map(|bytes| Output {
            due: now + delay,
            bytes,
        })
    }

    /// Megatec: a command whose (first) recorded reply has the Q1 status shape. APC: `Q`.
    fn is_status_query(&self, command: &[u8]) -> bool {
        match self.config.proto {
            Protocol::ApcSmart => command == b"Q",
            Protocol::Megatec => match self.config.table.get(command).and_then(|r| r.first()) {
                Some(Reply::Bytes(body)) => status_bits_at(body).is_some(),
                _ => false,
            },
        }
    }

    fn pick(&mut self, command: &[u8], frozen: bool) -> Reply {
        let Some(replies) = self.config.table.get(command).filter(|r| !r.is_empty()) else {
            return match self.config.proto {
                Protocol::Megatec => Reply::Bytes(command.to_vec()),
                Protocol::ApcSmart if command == b"Q" && self.power.is_some() => {
                    Reply::Bytes(b"08".to_vec())
                }
                Protocol::ApcSmart => Reply::Bytes(b"NA".to_vec()),
            };
        };
        let reply = if frozen && let Some(last) = self.last.get(command) {
            last.clone()
        } else if self.config.fixed || frozen {
            replies[0].clone()
        } else {
            let count = self.served.entry(command.to_vec()).or_insert(0);
            let reply = replies[*count % replies.len()].clone();
            *count += 1;
            reply
        };
        self.last.insert(command.to_vec(), reply.clone());
        reply
    }

    fn rewrite_status(&self, command: &[u8], mut body: Vec<u8>, power: Power) -> Vec<u8> {
        match self.config.proto {
            Protocol::ApcSmart => {
                debug_assert_eq!(command, b"Q");
                let byte: &[u8] = match power {
                    Power::Online => b"08",
                    Power::OnBattery => b"10",
                    Power::LowBattery => b"50",
                };
                byte.to_vec()
            }
            Protocol::Megatec => {
                let Some(bits) = status_bits_at(&body) else {
                    return body;
                };
                let (fail, low) = match power {
                    Power::Online => (b'0', b'0'),
                    Power::OnBattery => (b'1', b'0'),
                    Power::LowBattery => (b'1', b'1'),
                };
                body[bits] = fail;
                body[bits + 1] = low;
                if power != Power::Online {
                    // The first field (input voltage) reads zero, same width. (Each reply is
                    // a fresh copy of the recorded one, so going back on line restores it.)
                    for b in body.iter_mut().skip(1) {
                        match *b {
                            b'0'..=b'9' => *b = b'0',
                            b' ' => break,
                            _ => {}
                        }
                    }
                }
                body
            }
        }
    }

    /// xorshift32 noise, never CR or LF (so the driver sees one reply, not several).
    fn garbage(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let mut x = self.garbage_state;
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            self.garbage_state = x;
            let b = (x >> 24) as u8;
            if b != b'\r' && b != b'\n' {
                out.push(b);
            }
        }
        out
    }
}

/// Offset of the utility-fail bit (the battery-low bit follows it) in a status reply of
/// the Q1 family: `(` then blank-separated fields, the last one made of `0`/`1` only and
/// either eight long (Megatec `Q1`/`D`/`QS`: b7 utility fail, b6 battery low, … b0) or
/// twelve (Voltronic `QGS`: two UPS-type digits, then utility fail, battery low, …).
pub fn status_bits_at(body: &[u8]) -> Option<usize> {
    if body.first() != Some(&b'(') {
        return None;
    }
    let trimmed = body.len() - body.iter().rev().take_while(|&&b| b == b' ').count();
    let start = body[..trimmed].iter().rposition(|&b| b == b' ')? + 1;
    let bits = &body[start..trimmed];
    if start < 2 || !bits.iter().all(|b| matches!(b, b'0' | b'1')) {
        return None;
    }
    match bits.len() {
        8 => Some(start),
        12 => Some(start + 2),
        _ => None,
    }
}

/// One exchange as a log line: `12.345 "Q1\r" -> "(229.4 …\r"` (or `-> (silence)`).
pub fn format_exchange(exchange: &Exchange) -> String {
    let reply = match &exchange.reply {
        Some(bytes) => format!("\"{}\"", bytes.escape_ascii()),
        None => "(silence)".to_owned(),
    };
    format!(
        "{:.3} \"{}\" -> {reply}",
        exchange.at.as_secs_f64(),
        exchange.request.escape_ascii()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q1: &str = "(229.4 229.4 229.4 013 49.9 13.1 25.0 00001001";

    fn megatec() -> Simulator {
        let table = fixture::parse(
            &format!("Q1 -> {Q1}\nQ1 -> (230.0 229.4 229.4 013 49.9 13.1 25.0 00001001\nF -> #230.0 004 12.00 50.0\n"),
            Protocol::Megatec,
        )
        .unwrap();
        let mut config = SimConfig::new(Protocol::Megatec);
        config.table = table;
        Simulator::new(config)
    }

    fn ask(sim: &mut Simulator, request: &[u8]) -> Vec<u8> {
        let out = sim.receive(request, Duration::ZERO);
        out.into_iter().flat_map(|o| o.bytes).collect()
    }

    #[test]
    fn replies_cycle_unknown_commands_echo_and_requests_may_arrive_in_pieces() {
        let mut sim = megatec();
        assert_eq!(ask(&mut sim, b"Q1\r"), format!("{Q1}\r").as_bytes());
        assert_eq!(ask(&mut sim, b"Q"), b"");
        assert_eq!(
            ask(&mut sim, b"1\r"),
            b"(230.0 229.4 229.4 013 49.9 13.1 25.0 00001001\r"
        );
        assert_eq!(ask(&mut sim, b"Q1\r"), format!("{Q1}\r").as_bytes());
        assert_eq!(ask(&mut sim, b"T\r"), b"T\r");
        assert_eq!(sim.status_polls(), 3);
        let requests: Vec<&[u8]> = sim.exchanges().iter().map(|e| &e.request[..]).collect();
        assert_eq!(requests, [&b"Q1\r"[..], b"Q1\r", b"Q1\r", b"T\r"]);
        assert_eq!(sim.raw().len(), 5);
    }

    #[test]
    fn freeze_repeats_the_last_reply() {
        let mut sim = Simulator::new(megatec().config().clone().freeze_after(1));
        assert_eq!(ask(&mut sim, b"Q1\r"), format!("{Q1}\r").as_bytes());
        assert_eq!(ask(&mut sim, b"Q1\r"), format!("{Q1}\r").as_bytes());
        assert_eq!(ask(&mut sim, b"Q1\r"), format!("{Q1}\r").as_bytes());
    }

    #[test]
    fn power_script_rewrites_status_bits_and_input_voltage() {
        let config = megatec()
            .config()
            .clone()
            .fixed()
            .at_status_query(2, Power::OnBattery)
            .at_status_query(3, Power::LowBattery)
            .at_status_query(4, Power::Online);
        let mut sim = Simulator::new(config);
        assert_eq!(ask(&mut sim, b"Q1\r"), format!("{Q1}\r").as_bytes());
        assert_eq!(
            ask(&mut sim, b"Q1\r"),
            b"(000.0 229.4 229.4 013 49.9 13.1 25.0 10001001\r"
        );
        assert_eq!(
            ask(&mut sim, b"Q1\r"),
            b"(000.0 229.4 229.4 013 49.9 13.1 25.0 11001001\r"
        );
        assert_eq!(ask(&mut sim, b"Q1\r"), format!("{Q1}\r").as_bytes());
        // Not a status query: untouched.
        sim.set_power(Some(Power::OnBattery));
        assert_eq!(ask(&mut sim, b"F\r"), b"#230.0 004 12.00 50.0\r");
    }

    #[test]
    fn faults() {
        let mut sim = megatec();
        sim.set_fault(Some(Fault::Silent));
        assert!(sim.receive(b"Q1\r", Duration::ZERO).is_empty());
        assert_eq!(sim.exchanges()[0].reply, None);
        sim.set_fault(Some(Fault::Short(6)));
        assert_eq!(ask(&mut sim, b"F\r"), b"#230.0\r");
        sim.set_fault(Some(Fault::Truncated(4)));
        assert_eq!(ask(&mut sim, b"F\r"), b"#230");
        sim.set_fault(Some(Fault::Garbage));
        let noise = ask(&mut sim, b"F\r");
        assert_eq!(noise.len(), "#230.0 004 12.00 50.0".len() + 1);
        assert_eq!(noise.iter().filter(|&&b| b == b'\r').count(), 1);
        assert_ne!(&noise[..], b"#230.0 004 12.00 50.0\r");
        sim.set_fault(Some(Fault::Slow(Duration::from_millis(300))));
        let out = sim.receive(b"F\r", Duration::from_secs(1));
        assert_eq!(out[0].due, Duration::from_millis(1300));
        sim.set_fault_for("F", Fault::Silent);
        assert!(sim.receive(b"F\r", Duration::ZERO).is_empty());
        assert!(!sim.receive(b"Q1\r", Duration::ZERO).is_empty());
        sim.set_fault(None);
        assert_eq!(ask(&mut sim, b"F\r"), b"#230.0 004 12.00 50.0\r");
    }

    #[test]
    fn schedule_counts_from_now() {
        let mut sim = Simulator::new(megatec().config().clone().fixed());
        ask(&mut sim, b"Q1\r");
        ask(&mut sim, b"Q1\r");
        sim.schedule(2, Power::LowBattery);
        assert_eq!(ask(&mut sim, b"Q1\r"), format!("{Q1}\r").as_bytes());
        assert_eq!(
            ask(&mut sim, b"Q1\r"),
            b"(000.0 229.4 229.4 013 49.9 13.1 25.0 11001001\r"
        );
    }

    #[test]
    fn endless_input_without_cr_is_dropped_not_hoarded() {
        let mut sim = megatec();
        assert!(sim.receive(&[b'x'; 2000], Duration::ZERO).is_empty());
        assert_eq!(ask(&mut sim, b"\rQ1\r"), format!("{Q1}\r").as_bytes());
        assert_eq!(sim.exchanges()[0].request.len(), MAX_REQUEST + 1);
        assert_eq!(sim.exchanges().len(), 2);
    }

    #[test]
    fn apc_smart_bytes_are_commands() {
        let mut config = SimConfig::new(Protocol::ApcSmart);
        config.table = fixture::parse("^A -> SMART-UPS\nf -> 100.0\n", Protocol::ApcSmart).unwrap();
        let mut sim = Simulator::new(config.apc_caps());
        assert_eq!(ask(&mut sim, b"\x01f"), b"SMART-UPS\r\n100.0\r\n");
        assert_eq!(ask(&mut sim, b"a"), b"3.!$%+?=#|.\x01QRYaf\r\n");
        assert_eq!(ask(&mut sim, b"z"), b"NA\r\n");
        assert_eq!(ask(&mut sim, b"Q"), b"NA\r\n");
        sim.set_power(Some(Power::LowBattery));
        assert_eq!(ask(&mut sim, b"Q"), b"50\r\n");
    }

    #[test]
    fn status_shape() {
        assert_eq!(status_bits_at(Q1.as_bytes()), Some(38));
        assert_eq!(
            status_bits_at(b"(228.6 228.7 228.6 000 50.0 13.5 --.- 00001000  "),
            Some(38)
        );
        assert_eq!(status_bits_at(b"#230.0 004 12.00 50.0"), None);
        assert_eq!(status_bits_at(b"(00001000"), None);
        assert_eq!(status_bits_at(b"(1 0000100x"), None);
        assert_eq!(status_bits_at(b"(1 000010"), None);
        let qgs = b"(231.4 50.0 230.9 50.0 001.2 012 367.0 ---.- 027.3 ---.- 024.0 100000000100";
        assert_eq!(status_bits_at(qgs), Some(65));
    }
}
