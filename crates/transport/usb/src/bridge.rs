//! The Megatec/Q1 UPS behind a USB bridge chip, as the replay serves it: the same framing, reply
//! choice and log lines as `bridge_*`/`q1_*` in tests/rig/usb/fakeusb.c (keep them in step).
//! Pure state, no I/O: log lines are pushed into the caller's vector.

use std::collections::VecDeque;

use crate::spec::BridgeKind;

/// Replies the C stand-in can hold in its fixed buffers (`char reply[256]`).
const PACKET_REPLY_MAX: usize = 254;
const STRING_REPLY_MAX: usize = 254;
const MAX_PACKETS: usize = 1024;
const PACKET_MAX: usize = 256;

struct Q1Entry {
    request: Vec<u8>,
    /// `None` = the UPS stays silent for this request.
    replies: Vec<Option<Vec<u8>>>,
    next: usize,
}

#[derive(Default)]
pub(crate) struct Bridge {
    pub(crate) kind: Option<BridgeKind>,
    table: Vec<Q1Entry>,
    cmd: Vec<u8>,
    packets: VecDeque<Vec<u8>>,
    ablerex_reply: Vec<u8>,
}

/// Text for a log line: printable ASCII as is, backslash and everything else escaped.
pub(crate) fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

pub(crate) fn hex_line(what: &str, a: u32, b: u32, data: &[u8]) -> String {
    use std::fmt::Write as _;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(what.len() + 24 + 3 * data.len());
    let _ = write!(s, "{what} {a} {b}:");
    for x in data {
        s.push(' ');
        s.push(char::from(HEX[usize::from(x >> 4)]));
        s.push(char::from(HEX[usize::from(x & 0xf)]));
    }
    s.push('\n');
    s
}

impl Bridge {
    pub(crate) fn request_count(&self) -> usize {
        self.table.len()
    }

    /// A `q1` line: the spec file appends to the request's replies, the events file replaces them.
    pub(crate) fn add_q1(&mut self, request: Vec<u8>, reply: Option<Vec<u8>>, replace: bool) {
        let pos = match self.table.iter().position(|e| e.request == request) {
            Some(p) => p,
            None => {
                self.table.push(Q1Entry {
                    request,
                    replies: Vec::new(),
                    next: 0,
                });
                self.table.len() - 1
            }
        };
        let e = &mut self.table[pos];
        if replace {
            e.replies.clear();
            e.next = 0;
        }
        e.replies.push(reply);
    }

    fn is_string_bridge(&self) -> bool {
        self.kind.is_some_and(BridgeKind::is_string_bridge)
    }

    fn name(&self) -> &'static str {
        self.kind.map_or("none", BridgeKind::name)
    }

    /// The UPS answers `cmd`: the next recorded reply (cycling), else the bridge's default (echo;
    /// "UPS No Ack" on the string bridges; silence on armac). At most `max` bytes.
    fn answer(&mut self, cmd: &[u8], max: usize, log: &mut Vec<String>) -> Option<Vec<u8>> {
        let (string_bridge, armac) = (
            self.is_string_bridge(),
            self.kind == Some(BridgeKind::Armac),
        );
        let recorded = self
            .table
            .iter_mut()
            .find(|e| e.request == cmd && !e.replies.is_empty());
        let reply: Option<Vec<u8>> = match recorded {
            Some(e) => {
                let r = e.replies[e.next % e.replies.len()].clone();
                e.next = (e.next + 1) % e.replies.len();
                r
            }
            None if string_bridge => Some(b"UPS No Ack".to_vec()),
            None if armac => None,
            None => Some(cmd.to_vec()),
        };
        let shown = match &reply {
            Some(r) => escape(r),
            None => "(none)".to_string(),
        };
        log.push(format!("q1 {}: {} -> {shown}\n", self.name(), escape(cmd)));
        reply.map(|mut r| {
            r.truncate(max);
            r
        })
    }

    /// The Megatec command a string bridge maps descriptor index `idx` to.
    fn string_command(&self, idx: u8) -> Option<Vec<u8>> {
        let fixed: &[u8] = match (self.kind?, idx) {
            (BridgeKind::Krauler, 0x03) => b"Q1",
            (BridgeKind::Krauler, 0x0d) => b"F",
            (BridgeKind::Krauler, 0x0c) => b"I",
            (BridgeKind::Krauler, 0x04) => b"T",
            (BridgeKind::Krauler, 0x05) => b"TL",
            (BridgeKind::Krauler, 0x07) => b"Q",
            (BridgeKind::Krauler, 0x0b) => b"C",
            (BridgeKind::Fabula | BridgeKind::Hunnox, 0x03) => b"Q1",
            (BridgeKind::Fabula | BridgeKind::Hunnox, 0x0d) => b"F",
            (BridgeKind::Fabula | BridgeKind::Hunnox, 0x0c) => b"I",
            (BridgeKind::Fabula | BridgeKind::Hunnox, 0x07) => b"Q",
            (BridgeKind::Fabula | BridgeKind::Hunnox, 0x0a) => b"C",
            (BridgeKind::Fabula | BridgeKind::Hunnox, i) if i >= 0x10 && i & 0x07 == 0 => {
                // shutdowns: high nibble 1..5 = .5 to .9 minutes, 6..15 = 1..10; bit 3 = return
                let n = i >> 4;
                let stay = if i & 8 != 0 { "" } else { "R0000" };
                let s = if n <= 5 {
                    format!("S.{}{stay}", n + 4)
                } else {
                    format!("S{:02}{stay}", n - 5)
                };
                return Some(s.into_bytes());
            }
            (BridgeKind::Snr, 0x03) => b"Q1",
            (BridgeKind::Snr, 0x0d) => b"F",
            (BridgeKind::Snr, 0x0c) => b"I",
            _ => return None,
        };
        Some(fixed.to_vec())
    }

    /// String descriptor text for `idx` on a string bridge: `Some(Some(text))` for a command index
    /// the UPS answers, `Some(None)` for one it stays silent on (STALL), `None` when `idx` is no
    /// command (the ordinary string table applies).
    pub(crate) fn string_reply(
        &mut self,
        idx: u8,
        log: &mut Vec<String>,
    ) -> Option<Option<Vec<u8>>> {
        if !self.is_string_bridge() {
            return None;
        }
        let cmd = self.string_command(idx)?;
        let with_cr = matches!(self.kind, Some(BridgeKind::Hunnox | BridgeKind::Snr));
        // NUT's hunnox and snr subdrivers add no CR: their devices end the string with it.
        Some(self.answer(&cmd, STRING_REPLY_MAX, log).map(|mut r| {
            if with_cr {
                r.push(b'\r');
            }
            r
        }))
    }

    fn queue(&mut self, packet: Vec<u8>) {
        if self.packets.len() < MAX_PACKETS {
            self.packets.push_back(packet);
        }
    }

    /// A complete command arrived over a serial-like bridge: queue the reply as that bridge frames it.
    fn command(&mut self, cmd: &[u8], log: &mut Vec<String>) {
        if self.kind == Some(BridgeKind::Phoenixtec) && phoenixtec_silent(cmd) {
            log.push(format!("q1 phoenixtec: {} -> (none)\n", escape(cmd)));
            return;
        }
        let Some(mut reply) = self.answer(cmd, PACKET_REPLY_MAX, log) else {
            return;
        };
        reply.push(b'\r');
        match self.kind {
            Some(BridgeKind::Ippon) => {
                let mut p = vec![0u8; 64];
                let n = reply.len().min(64);
                p[..n].copy_from_slice(&reply[..n]);
                self.queue(p);
            }
            Some(BridgeKind::Sgs) => {
                for chunk in reply.chunks(7) {
                    let mut p = vec![0u8; 8];
                    p[0] = chunk.len() as u8;
                    p[1..=chunk.len()].copy_from_slice(chunk);
                    self.queue(p);
                }
            }
            Some(BridgeKind::Armac) => {
                for chunk in reply.chunks(5) {
                    let mut p = vec![0u8; 6];
                    p[0] = 0xa0 | chunk.len() as u8;
                    p[1..=chunk.len()].copy_from_slice(chunk);
                    self.queue(p);
                }
                let mut end = vec![0u8; 6];
                end[0] = 0xa0;
                self.queue(end);
            }
            Some(BridgeKind::Phoenixtec) => {
                reply.truncate(PACKET_MAX);
                self.queue(reply);
            }
            Some(BridgeKind::Ablerex) => {
                reply.truncate(64);
                self.ablerex_reply = reply;
            }
            _ => {
                for chunk in reply.chunks(8) {
                    let mut p = vec![0u8; 8];
                    p[..chunk.len()].copy_from_slice(chunk);
                    self.queue(p);
                }
            }
        }
    }

    /// Bytes of a command on a serial-like bridge: NULs are padding, a CR completes the command.
    fn bytes(&mut self, data: &[u8], log: &mut Vec<String>) {
        for &b in data {
            match b {
                0 => {}
                b'\r' => {
                    let cmd = std::mem::take(&mut self.cmd);
                    self.command(&cmd, log);
                }
                _ if self.cmd.len() < 255 => self.cmd.push(b),
                _ => {}
            }
        }
    }

    /// A class SET_REPORT to the interface: the command path of cypress, phoenix, ippon, sgs, armac
    /// and ablerex. Returns false when this bridge does not take commands that way.
    pub(crate) fn set_report(&mut self, value: u16, data: &[u8], log: &mut Vec<String>) -> bool {
        let (kind, id) = (u32::from(value >> 8), u32::from(value & 0xff));
        let len = data.len();
        match self.kind {
            Some(BridgeKind::Cypress | BridgeKind::Phoenix | BridgeKind::Ippon) => {
                // the chunk ends at its first NUL (NUT's ippon leaves stack bytes after the string)
                log.push(hex_line("set_report", kind, id, data));
                let end = data.iter().position(|&b| b == 0).unwrap_or(len);
                self.bytes(&data[..end], log);
            }
            Some(BridgeKind::Sgs) => {
                log.push(hex_line("set_report", kind, id, data));
                let k = if len > 0 {
                    usize::from(data[0].min(7))
                } else {
                    0
                };
                let k = k.min(len.saturating_sub(1));
                if k > 0 {
                    self.bytes(&data[1..=k], log);
                }
            }
            Some(BridgeKind::Armac) => {
                log.push(hex_line("set_report", kind, id, data));
                let k = if len > 0 {
                    usize::from(data[0] & 0x0f)
                } else {
                    0
                };
                let k = k.min(3).min(len.saturating_sub(1));
                if k > 0 {
                    self.bytes(&data[1..=k], log);
                }
            }
            Some(BridgeKind::Ablerex) => {
                // 05 00 <n> <n command bytes incl. CR>; NUT leaves the rest of the report uninitialised
                let k = if len >= 3 {
                    usize::from(data[2]).min(len - 3)
                } else {
                    0
                };
                let shown = if len >= 3 { 3 + k } else { len };
                log.push(hex_line("set_report", kind, id, &data[..shown]));
                if len >= 3 && data[0] == 0x05 {
                    self.cmd.clear();
                    self.bytes(&data[3..3 + k], log);
                }
            }
            _ => return false,
        }
        true
    }

    /// The Masterguard (phoenixtec) command path: a vendor request 0x0d to the endpoint, carrying
    /// the whole command. Returns false when this is not that request on that bridge.
    pub(crate) fn vendor_out(
        &mut self,
        setup: &crate::ControlSetup,
        data: &[u8],
        log: &mut Vec<String>,
    ) -> bool {
        if self.kind != Some(BridgeKind::Phoenixtec)
            || setup.request_type != 0x42
            || setup.request != 0x0d
        {
            return false;
        }
        log.push(hex_line(
            "vendor_out",
            u32::from(setup.value),
            u32::from(setup.index),
            data,
        ));
        self.cmd.clear();
        self.bytes(data, log);
        true
    }

    /// Ablerex keeps its reply in feature report 5 until the next command.
    pub(crate) fn ablerex_get_report(&self, value: u16, length: usize) -> Option<Vec<u8>> {
        if self.kind != Some(BridgeKind::Ablerex) || value != 0x0305 {
            return None;
        }
        let mut d = vec![0u8; length];
        let n = self.ablerex_reply.len().min(length);
        d[..n].copy_from_slice(&self.ablerex_reply[..n]);
        Some(d)
    }

    /// An interrupt OUT transfer (fuji: `80 06 <n+1> 03 <command> <padding> <reply length>`).
    pub(crate) fn interrupt_out(&mut self, data: &[u8], log: &mut Vec<String>) {
        if self.kind != Some(BridgeKind::Fuji)
            || data.len() < 8
            || data[0] != 0x80
            || data[1] != 0x06
            || data[3] != 0x03
        {
            return;
        }
        let n = usize::from(data[2].saturating_sub(1)).min(3);
        let raw = &data[4..4 + n];
        let cmd = &raw[..raw.iter().position(|&b| b == 0).unwrap_or(n)];
        if data[7] != 0 {
            let cmd = cmd.to_vec();
            self.command(&cmd, log);
        } else {
            log.push(format!("q1 fuji: {} -> (none)\n", escape(&data[4..4 + n])));
        }
    }

    /// The next interrupt IN packet the bridge has queued.
    pub(crate) fn next_packet(&mut self) -> Option<Vec<u8>> {
        self.packets.pop_front()
    }
}

/// Masterguard (phoenixtec) commands the UPS acts on without answering: the command starts with one
/// of these and does not go on with another capital letter ("M" but not "MSO").
fn phoenixtec_silent(cmd: &[u8]) -> bool {
    const SILENT: [&[u8]; 13] = [
        b"T", b"TL", b"S", b"C", b"CT", b"M", b"N", b"O", b"SRC", b"FCLR", b"SS", b"TUD", b"SSN",
    ];
    SILENT
        .iter()
        .any(|s| cmd.starts_with(s) && !cmd.get(s.len()).is_some_and(u8::is_ascii_uppercase))
}
