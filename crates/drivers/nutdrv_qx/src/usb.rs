//! The USB subdrivers: how a Megatec command travels over the serial-over-USB bridges NUT
//! supports, as transfer operations ([`UsbOp`]) a transport executes and whose results are
//! fed back ([`UsbResult`]), plus the VID:PID table NUT 2.8.0 uses to pick a subdriver.
//!
//! Usage: `let mut x = UsbExchange::new(sub, cmd, &cfg, &mut state)`; then loop on
//! [`UsbExchange::step`]: `UsbStep::Op(op)` → execute it, call `step` again with the result;
//! `UsbStep::Done(outcome)` → [`UsbOutcome::reply`] is what [`crate::Qx::feed`] wants, and
//! [`UsbOutcome::recovery`] says what NUT would do with the device after a failure.
//!
//! Each framing is written as straight-line code over a "tape" of results: to find the next
//! operation the framing is re-run from the start with the results so far (it is a pure
//! function of them), and stops at the first operation without a result. Exchanges are a few
//! dozen transfers at most, so this costs nothing and keeps each framing readable.

use crate::engine::Reply;
use crate::options::Variant;

/// NUT's answer buffer for one command (its `item->answer` minus the NUL).
pub const BUFLEN: usize = 511;

/// `libusb_control_transfer` request types used here.
pub mod rt {
    /// Host-to-device, class, interface (`USB_ENDPOINT_OUT + USB_TYPE_CLASS + USB_RECIP_INTERFACE`).
    pub const CLASS_IFACE_OUT: u8 = 0x21;
    /// Device-to-host, class, interface.
    pub const CLASS_IFACE_IN: u8 = 0xA1;
    /// Host-to-device, vendor, endpoint.
    pub const VENDOR_EP_OUT: u8 = 0x42;
    /// Device-to-host, standard, device (GET_DESCRIPTOR).
    pub const STD_DEVICE_IN: u8 = 0x80;
}

/// One USB operation for the transport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsbOp {
    /// Control transfer, host to device; result: bytes written.
    ControlOut {
        /// bmRequestType.
        request_type: u8,
        /// bRequest.
        request: u8,
        /// wValue.
        value: u16,
        /// wIndex.
        index: u16,
        /// Data stage (its length is wLength).
        data: Vec<u8>,
        /// Timeout.
        timeout_ms: u32,
    },
    /// Control transfer, device to host; result: the bytes received.
    ControlIn {
        /// bmRequestType.
        request_type: u8,
        /// bRequest.
        request: u8,
        /// wValue.
        value: u16,
        /// wIndex.
        index: u16,
        /// wLength.
        length: u16,
        /// Timeout.
        timeout_ms: u32,
    },
    /// Interrupt IN transfer of up to `length` bytes; result: the bytes received.
    InterruptIn {
        /// Endpoint address (0x81 …).
        endpoint: u8,
        /// Buffer size.
        length: usize,
        /// Timeout.
        timeout_ms: u32,
    },
    /// Interrupt OUT transfer; result: bytes written.
    InterruptOut {
        /// Endpoint address (0x02 …).
        endpoint: u8,
        /// Data.
        data: Vec<u8>,
        /// Timeout.
        timeout_ms: u32,
    },
    /// `libusb_clear_halt`.
    ClearHalt {
        /// Endpoint address.
        endpoint: u8,
    },
    /// Wait this long before the next operation (the device needs time; NUT sleeps).
    Wait {
        /// Milliseconds.
        ms: u32,
    },
}

/// Error of a transfer (libusb's codes that NUT tells apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsbError {
    /// Timed out.
    Timeout,
    /// Endpoint stalled.
    Pipe,
    /// Device gone.
    NoDevice,
    /// Permission denied.
    Access,
    /// I/O error.
    Io,
    /// Entity not found.
    NotFound,
    /// Claimed by another driver.
    Busy,
    /// More data than the buffer.
    Overflow,
    /// Invalid parameter (NUT's own argument checks end up here too).
    InvalidParam,
    /// Anything else.
    Other,
}

/// Result of a [`UsbOp`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsbResult {
    /// IN transfer: bytes received (possibly none).
    Data(Vec<u8>),
    /// OUT transfer: bytes written; ClearHalt / Wait: 0.
    Written(usize),
    /// The transfer failed.
    Err(UsbError),
}

/// What to do with the device after a failed exchange (nutdrv_qx's `qx_command`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// Nothing: try again at the next poll.
    None,
    /// Another driver took the device: NUT exits ("Got disconnected by another driver").
    Fatal,
    /// Clear the halt on endpoint 0x81; if that fails, reset the device and reopen it.
    ClearHaltOrReset,
    /// Close and reopen the device.
    Reopen,
}

/// Result of one command exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsbOutcome {
    /// The reply buffer as NUT's subdriver leaves it (NUL padding removed at the end).
    pub buf: Vec<u8>,
    /// The subdriver's return value: length of the reply (0 = nothing), or the error.
    pub ret: Result<usize, UsbError>,
}

impl UsbOutcome {
    /// The reply for [`crate::Qx::feed`].
    pub fn reply(&self) -> Reply<'_> {
        match self.ret {
            Ok(len) => Reply::Raw {
                buf: &self.buf,
                len,
            },
            Err(_) => Reply::Error,
        }
    }

    /// NUT's reaction to a failed exchange.
    pub fn recovery(&self) -> Recovery {
        match self.ret {
            Ok(_) => Recovery::None,
            Err(UsbError::Busy) => Recovery::Fatal,
            Err(UsbError::Pipe) => Recovery::ClearHaltOrReset,
            Err(UsbError::NoDevice | UsbError::Access | UsbError::Io | UsbError::NotFound) => {
                Recovery::Reopen
            }
            Err(_) => Recovery::None,
        }
    }
}

/// A USB subdriver of nutdrv_qx / blazer_usb.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subdriver {
    /// Cypress USB-serial bridge: 8-byte SET_REPORT writes, 8-byte interrupt reads.
    Cypress,
    /// Phoenixtec (Masterguard): vendor control write, interrupt reads.
    Phoenixtec,
    /// Phoenix: cypress with a flush of stale input first.
    Phoenix,
    /// Ippon: cypress writes (wValue 2), one 64-byte interrupt read.
    Ippon,
    /// Krauler: commands mapped to string descriptor indexes.
    Krauler,
    /// Fabula: string descriptor indexes, shutdown delays encoded in the index.
    Fabula,
    /// Hunnox: fabula with a lock-step string handshake.
    Hunnox,
    /// Fuji: 8-byte interrupt OUT query frames.
    Fuji,
    /// SGS: length-prefixed 7-byte chunks.
    Sgs,
    /// SNR: string descriptors (needs `langid_fix`).
    Snr,
    /// Ablerex: class SET_REPORT/GET_REPORT 0x305.
    Ablerex,
    /// Armac (Richcomm PowerManagerII): 3-byte chunks, 6-byte interrupt reads.
    Armac,
}

const QX_SUBDRIVERS: &[Subdriver] = &[
    Subdriver::Cypress,
    Subdriver::Phoenixtec,
    Subdriver::Phoenix,
    Subdriver::Ippon,
    Subdriver::Krauler,
    Subdriver::Fabula,
    Subdriver::Hunnox,
    Subdriver::Fuji,
    Subdriver::Sgs,
    Subdriver::Snr,
    Subdriver::Ablerex,
    Subdriver::Armac,
];

const BLAZER_SUBDRIVERS: &[Subdriver] = &[
    Subdriver::Cypress,
    Subdriver::Phoenix,
    Subdriver::Ippon,
    Subdriver::Krauler,
];

impl Subdriver {
    /// Name as in `subdriver =`.
    pub fn name(self) -> &'static str {
        match self {
            Subdriver::Cypress => "cypress",
            Subdriver::Phoenixtec => "phoenixtec",
            Subdriver::Phoenix => "phoenix",
            Subdriver::Ippon => "ippon",
            Subdriver::Krauler => "krauler",
            Subdriver::Fabula => "fabula",
            Subdriver::Hunnox => "hunnox",
            Subdriver::Fuji => "fuji",
            Subdriver::Sgs => "sgs",
            Subdriver::Snr => "snr",
            Subdriver::Ablerex => "ablerex",
            Subdriver::Armac => "armac",
        }
    }

    /// The subdrivers `variant` accepts, in NUT's help order.
    pub fn all(variant: Variant) -> &'static [Subdriver] {
        match variant {
            Variant::NutdrvQx => QX_SUBDRIVERS,
            Variant::BlazerUsb => BLAZER_SUBDRIVERS,
            Variant::BlazerSer => &[],
        }
    }

    /// Look a subdriver up by name (case-insensitive).
    pub fn from_name(name: &str, variant: Variant) -> Option<Subdriver> {
        Self::all(variant)
            .iter()
            .copied()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

/// One row of the auto-selection table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsbId {
    /// Vendor ID.
    pub vid: u16,
    /// Product ID.
    pub pid: u16,
    /// iManufacturer must equal this (case-insensitive), if set.
    pub vendor: Option<&'static str>,
    /// iProduct must equal this (case-insensitive), if set.
    pub product: Option<&'static str>,
    /// Subdriver chosen.
    pub subdriver: Subdriver,
    /// The device NUT names for it.
    pub comment: &'static str,
}

const fn id(
    vid: u16,
    pid: u16,
    vendor: Option<&'static str>,
    product: Option<&'static str>,
    subdriver: Subdriver,
    comment: &'static str,
) -> UsbId {
    UsbId {
        vid,
        pid,
        vendor,
        product,
        subdriver,
        comment,
    }
}

/// nutdrv_qx 2.8.0's table, in its order (first match wins).
#[rustfmt::skip]
pub const QX_USB_IDS: &[UsbId] = &[
    id(0x05b8, 0x0000, None, None, Subdriver::Cypress, "Agiler UPS"),
    id(0xffff, 0x0000, None, None, Subdriver::Ablerex, "Ablerex 625L USB"),
    id(0x1cb0, 0x0035, None, None, Subdriver::Krauler, "Legrand Daker DK / DK Plus"),
    id(0x0665, 0x5161, None, None, Subdriver::Cypress, "Belkin F6C1200-UNV/Voltronic Power UPSes"),
    id(0x06da, 0x0002, Some("Phoenixtec Power"), Some("USB Cable (V2.00)"), Subdriver::Phoenixtec, "Masterguard A Series"),
    id(0x06da, 0x0002, None, None, Subdriver::Cypress, "Online Yunto YQ450"),
    id(0x06da, 0x0003, None, None, Subdriver::Ippon, "Mustek Powermust"),
    id(0x06da, 0x0004, None, None, Subdriver::Cypress, "Phoenixtec Innova 3/1 T"),
    id(0x06da, 0x0005, None, None, Subdriver::Cypress, "Phoenixtec Innova RT"),
    id(0x06da, 0x0201, None, None, Subdriver::Cypress, "Phoenixtec Innova T"),
    id(0x06da, 0x0601, None, None, Subdriver::Phoenix, "Online Zinto A"),
    id(0x0f03, 0x0001, None, None, Subdriver::Cypress, "Unitek Alpha 1200Sx"),
    id(0x14f0, 0x00c9, None, None, Subdriver::Phoenix, "GE EP series"),
    id(0x0483, 0x0035, None, None, Subdriver::Sgs, "TS Shara UPSes"),
    id(0x0001, 0x0000, Some("MEC"), Some("MEC0003"), Subdriver::Fabula, "Fideltronik/MEC LUPUS 500 USB"),
    id(0x0001, 0x0000, None, Some("MEC0003"), Subdriver::Hunnox, "Hunnox HNX 850"),
    id(0x0001, 0x0000, Some("ATCL FOR UPS"), Some("ATCL FOR UPS"), Subdriver::Fuji, "Fuji UPSes"),
    id(0x0001, 0x0000, None, None, Subdriver::Krauler, "Krauler UP-M500VA"),
    // Never reached by auto-selection (the Hunnox row above matches first), as in NUT.
    id(0x0001, 0x0000, None, Some("MEC0003"), Subdriver::Snr, "SNR-UPS-LID-XXXX UPSes"),
    id(0x0925, 0x1234, None, None, Subdriver::Armac, "Armac UPS"),
];

/// blazer_usb 2.8.0's table.
#[rustfmt::skip]
pub const BLAZER_USB_IDS: &[UsbId] = &[
    id(0x05b8, 0x0000, None, None, Subdriver::Cypress, "Agiler UPS"),
    id(0x0001, 0x0000, None, None, Subdriver::Krauler, "Krauler UP-M500VA"),
    id(0xffff, 0x0000, None, None, Subdriver::Krauler, "Ablerex 625L USB"),
    id(0x0665, 0x5161, None, None, Subdriver::Cypress, "Belkin F6C1200-UNV"),
    id(0x06da, 0x0002, None, None, Subdriver::Cypress, "Online Yunto YQ450"),
    id(0x06da, 0x0003, None, None, Subdriver::Ippon, "Mustek Powermust"),
    id(0x06da, 0x0004, None, None, Subdriver::Cypress, "Phoenixtec Innova 3/1 T"),
    id(0x06da, 0x0005, None, None, Subdriver::Cypress, "Phoenixtec Innova RT"),
    id(0x06da, 0x0201, None, None, Subdriver::Cypress, "Phoenixtec Innova T"),
    id(0x06da, 0x0601, None, None, Subdriver::Phoenix, "Online Zinto A"),
    id(0x0f03, 0x0001, None, None, Subdriver::Cypress, "Unitek Alpha 1200Sx"),
    id(0x14f0, 0x00c9, None, None, Subdriver::Phoenix, "GE EP series"),
];

/// How a device matches the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// A row matched: use this subdriver.
    Supported(Subdriver),
    /// The vendor ID is known but nothing matched.
    PossiblySupported,
    /// Unknown vendor.
    NotSupported,
}

/// Pick the subdriver for a device (`vendor`/`product`: its iManufacturer/iProduct strings).
pub fn select(
    variant: Variant,
    vid: u16,
    pid: u16,
    vendor: Option<&str>,
    product: Option<&str>,
) -> Support {
    let table = match variant {
        Variant::BlazerUsb => BLAZER_USB_IDS,
        _ => QX_USB_IDS,
    };
    let mut ret = Support::NotSupported;
    for row in table {
        if row.vid != vid {
            continue;
        }
        ret = Support::PossiblySupported;
        if row.pid != pid {
            continue;
        }
        let str_ok = |want: Option<&str>, have: Option<&str>| match want {
            None => true,
            Some(w) => have.is_some_and(|h| h.eq_ignore_ascii_case(w)),
        };
        if !str_ok(row.vendor, vendor) || !str_ok(row.product, product) {
            continue;
        }
        return Support::Supported(row.subdriver);
    }
    ret
}

/// Settings of the USB link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsbConfig {
    /// `langid_fix`: language ID for string requests (enables the raw-descriptor path).
    pub langid_fix: Option<u16>,
    /// blazer_usb's older copies of the framings: cypress/phoenix stop looking for the CR at
    /// a NUL, ippon's length is "up to the first CR (inclusive)", krauler adds no CR and only
    /// retries on an answer that is exactly "UPS No Ack".
    pub blazer: bool,
}

/// State kept between exchanges (only the hunnox handshake has any).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsbState {
    hunnox_step: u8,
}

/// Next thing for the transport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsbStep {
    /// Execute this operation and pass its result to [`UsbExchange::step`].
    Op(UsbOp),
    /// The exchange is finished.
    Done(UsbOutcome),
}

/// One command sent through a subdriver.
#[derive(Debug)]
pub struct UsbExchange {
    sub: Subdriver,
    cmd: Vec<u8>,
    cfg: UsbConfig,
    state: UsbState,
    results: Vec<UsbResult>,
    done: bool,
}

struct Need(UsbOp);

struct Tape<'a> {
    results: &'a [UsbResult],
    pos: usize,
}

impl Tape<'_> {
    fn op(&mut self, op: UsbOp) -> Result<UsbResult, Need> {
        match self.results.get(self.pos) {
            Some(r) => {
                self.pos += 1;
                Ok(r.clone())
            }
            None => Err(Need(op)),
        }
    }
}

/// Result of a transfer as NUT's `int ret`: bytes (IN data / OUT count) or the error.
fn ret_of(r: &UsbResult) -> Result<usize, UsbError> {
    match r {
        UsbResult::Data(d) => Ok(d.len()),
        UsbResult::Written(n) => Ok(*n),
        UsbResult::Err(e) => Err(*e),
    }
}

/// The first `n` bytes of `d` (fewer if it is shorter).
fn head(d: &[u8], n: usize) -> &[u8] {
    &d[..n.min(d.len())]
}

fn data_of(r: &UsbResult) -> &[u8] {
    match r {
        UsbResult::Data(d) => d,
        _ => &[],
    }
}

impl UsbExchange {
    /// Send `cmd` (e.g. `b"Q1\r"`) through `sub`. `state` is the per-device state kept by the
    /// caller between exchanges; [`UsbExchange::state`] gives the updated one at the end.
    pub fn new(sub: Subdriver, cmd: &[u8], cfg: &UsbConfig, state: &UsbState) -> Self {
        UsbExchange {
            sub,
            cmd: crate::cnum::c_str(cmd).to_vec(),
            cfg: *cfg,
            state: *state,
            results: Vec::new(),
            done: false,
        }
    }

    /// The per-device state after this exchange (give it to the next exchange).
    pub fn state(&self) -> UsbState {
        let mut st = self.state;
        // The hunnox handshake advances with every command it maps to a string index.
        if self.sub == Subdriver::Hunnox && hunnox_index(&self.cmd).is_some() {
            st.hunnox_step = next_hunnox_step(self.state.hunnox_step);
        }
        st
    }

    /// Feed the result of the last operation (`None` on the first call) and get the next step.
    pub fn step(&mut self, result: Option<UsbResult>) -> UsbStep {
        if let Some(r) = result
            && !self.done
        {
            self.results.push(r);
        }
        let mut t = Tape {
            results: &self.results,
            pos: 0,
        };
        let mut buf = vec![0u8; BUFLEN];
        let r = match self.sub {
            Subdriver::Cypress => {
                cypress(&mut t, &self.cmd, &mut buf, 5000, false, self.cfg.blazer)
            }
            Subdriver::Phoenix => cypress(&mut t, &self.cmd, &mut buf, 1000, true, self.cfg.blazer),
            Subdriver::Sgs => sgs(&mut t, &self.cmd, &mut buf),
            Subdriver::Ippon => ippon(&mut t, &self.cmd, &mut buf, self.cfg.blazer),
            Subdriver::Krauler => strings(&mut t, &self.cmd, &mut buf, &self.cfg, StrKind::Krauler),
            Subdriver::Snr => strings(&mut t, &self.cmd, &mut buf, &self.cfg, StrKind::Snr),
            Subdriver::Fabula => fabula(&mut t, &self.cmd, &mut buf, &self.cfg, None),
            Subdriver::Hunnox => fabula(
                &mut t,
                &self.cmd,
                &mut buf,
                &self.cfg,
                Some(self.state.hunnox_step),
            ),
            Subdriver::Fuji => fuji(&mut t, &self.cmd, &mut buf),
            Subdriver::Phoenixtec => phoenixtec(&mut t, &self.cmd, &mut buf),
            Subdriver::Ablerex => ablerex(&mut t, &self.cmd, &mut buf),
            Subdriver::Armac => armac(&mut t, &self.cmd, &mut buf),
        };
        match r {
            Err(Need(op)) => UsbStep::Op(op),
            Ok(ret) => {
                self.done = true;
                // Trailing NUL padding carries no information.
                let end = buf.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                buf.truncate(end);
                UsbStep::Done(UsbOutcome { buf, ret })
            }
        }
    }
}

type Framed = Result<Result<usize, UsbError>, Need>;

fn has_cr(b: &[u8]) -> bool {
    b.contains(&b'\r')
}

fn strlen(b: &[u8]) -> usize {
    crate::cnum::c_str(b).len()
}

/// Add a CR after `len` bytes if the reply has none and there is room (several subdrivers).
fn add_cr(buf: &mut [u8], len: usize) -> usize {
    if len > 0 && !has_cr(&buf[..len.min(buf.len())]) && len < buf.len() - 1 {
        buf[len] = b'\r';
        return len + 1;
    }
    len
}

fn copy_into(buf: &mut [u8], at: usize, data: &[u8]) {
    let end = (at + data.len()).min(buf.len());
    if at < end {
        buf[at..end].copy_from_slice(&data[..end - at]);
    }
}

/// 8-byte SET_REPORT writes of the command (zero padded), then 8-byte interrupt reads until a
/// CR arrives. `flush`: phoenix first drains up to 8 stale reads.
fn cypress(
    t: &mut Tape,
    cmd: &[u8],
    buf: &mut [u8],
    wtimeout: u32,
    flush: bool,
    blazer: bool,
) -> Framed {
    let value = 0x200;
    if flush {
        for _ in 0..8 {
            let r = t.op(UsbOp::InterruptIn {
                endpoint: 0x81,
                length: 8,
                timeout_ms: 1000,
            })?;
            match r {
                UsbResult::Err(UsbError::Pipe) => {
                    t.op(UsbOp::ClearHalt { endpoint: 0x81 })?;
                    break;
                }
                UsbResult::Err(_) => break,
                _ => {}
            }
        }
    }
    let mut tmp = cmd.to_vec();
    tmp.truncate(BUFLEN);
    let len = tmp.len();
    tmp.resize(len + 8, 0);
    let mut i = 0;
    while i < len {
        let r = t.op(UsbOp::ControlOut {
            request_type: rt::CLASS_IFACE_OUT,
            request: 0x09,
            value,
            index: 0,
            data: tmp[i..i + 8].to_vec(),
            timeout_ms: wtimeout,
        })?;
        match ret_of(&r) {
            Ok(0) => return Ok(Ok(0)),
            Ok(n) => i += n,
            Err(e) => return Ok(Err(e)),
        }
    }
    let mut i = 0;
    // blazer_usb uses strchr (stops at a NUL), nutdrv_qx memchr over the whole buffer.
    let cr = |b: &[u8]| {
        if blazer {
            has_cr(crate::cnum::c_str(b))
        } else {
            has_cr(b)
        }
    };
    while i + 8 <= buf.len() && !cr(buf) {
        let r = t.op(UsbOp::InterruptIn {
            endpoint: 0x81,
            length: 8,
            timeout_ms: 1000,
        })?;
        match ret_of(&r) {
            Ok(0) => return Ok(Ok(0)),
            Ok(n) => {
                copy_into(buf, i, head(data_of(&r), n.min(8)));
                i += n.min(8);
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(i))
}

/// Chunks of `<len><up to 7 bytes>`, both ways.
fn sgs(t: &mut Tape, cmd: &[u8], buf: &mut [u8]) -> Framed {
    let mut i = 0;
    while i < cmd.len() {
        let n = (cmd.len() - i).min(7);
        let mut tmp = vec![0u8; 8];
        tmp[0] = n as u8;
        tmp[1..1 + n].copy_from_slice(&cmd[i..i + n]);
        let r = t.op(UsbOp::ControlOut {
            request_type: rt::CLASS_IFACE_OUT,
            request: 0x09,
            value: 0x200,
            index: 0,
            data: tmp,
            timeout_ms: 5000,
        })?;
        match ret_of(&r) {
            Ok(0) => return Ok(Ok(0)),
            // NUT advances by what was written minus the length byte.
            Ok(w) => i += w - 1,
            Err(e) => return Ok(Err(e)),
        }
    }
    let mut i = 0;
    let mut empty = 0;
    while i + 8 <= buf.len() {
        let r = t.op(UsbOp::InterruptIn {
            endpoint: 0x81,
            length: 8,
            timeout_ms: 1000,
        })?;
        match ret_of(&r) {
            Err(UsbError::Timeout) => break,
            Err(e) => return Ok(Err(e)),
            Ok(0) => return Ok(Ok(0)),
            Ok(_) => {}
        }
        let d = data_of(&r);
        // The length byte is a signed char in NUT; a "negative" length ends the reply here.
        let n = d.first().copied().unwrap_or(0) as i8;
        if n < 0 {
            break;
        }
        let n = (n as usize).min(7).min(d.len().saturating_sub(1));
        if n == 0 {
            // NUT would loop until the device times out; bound it.
            empty += 1;
            if empty > 64 {
                break;
            }
            continue;
        }
        copy_into(buf, i, &d[1..1 + n]);
        i += n;
    }
    let i = add_cr(buf, i);
    Ok(Ok(i))
}

/// 8-byte writes with wValue 2, then one 64-byte interrupt read holding the whole reply.
fn ippon(t: &mut Tape, cmd: &[u8], buf: &mut [u8], blazer: bool) -> Framed {
    let mut tmp = cmd.to_vec();
    tmp.truncate(63);
    let len = tmp.len();
    tmp.resize(64 + 8, 0);
    let mut i = 0;
    while i < len {
        let r = t.op(UsbOp::ControlOut {
            request_type: rt::CLASS_IFACE_OUT,
            request: 0x09,
            value: 0x2,
            index: 0,
            data: tmp[i..i + 8].to_vec(),
            timeout_ms: 1000,
        })?;
        match ret_of(&r) {
            Ok(0) => return Ok(Ok(0)),
            Ok(n) => i += n,
            Err(e) => return Ok(Err(e)),
        }
    }
    let r = t.op(UsbOp::InterruptIn {
        endpoint: 0x81,
        length: 64,
        timeout_ms: 1000,
    })?;
    let ret = match ret_of(&r) {
        Ok(0) => return Ok(Ok(0)),
        Ok(n) => n,
        Err(e) => return Ok(Err(e)),
    };
    let d = data_of(&r);
    let d = &d[..ret.min(d.len()).min(64)];
    if blazer {
        // Up to the first CR or NUL; the CR counts when there is any text before it.
        let s = crate::cnum::c_str(d);
        let mut len = s.iter().position(|&c| c == b'\r').unwrap_or(s.len());
        if len > 0 {
            len += 1;
        }
        let len = len.min(buf.len() - 1).min(d.len());
        buf.iter_mut().for_each(|b| *b = 0);
        copy_into(buf, 0, &d[..len]);
        return Ok(Ok(len));
    }
    let mut len = d.iter().position(|&c| c == b'\r').map_or(0, |p| p + 1);
    if len == 0 {
        len = strlen(d);
    }
    let len = len.min(buf.len() - 1);
    buf.iter_mut().for_each(|b| *b = 0);
    copy_into(buf, 0, &d[..len]);
    Ok(Ok(add_cr(buf, len)))
}

/// `libusb_get_string_descriptor`: raw descriptor (length, type, UTF-16LE).
fn get_string_raw(t: &mut Tape, index: u8, langid: u16, length: usize) -> Result<UsbResult, Need> {
    t.op(UsbOp::ControlIn {
        request_type: rt::STD_DEVICE_IN,
        request: 0x06,
        value: 0x0300 | u16::from(index),
        index: langid,
        length: length.min(usize::from(u16::MAX)) as u16,
        timeout_ms: 1000,
    })
}

/// `libusb_get_string_descriptor_ascii` (libusb 1.0.26): first language of string 0, then the
/// string, non-ASCII as '?'. Writes into `buf` (NUL-terminated), returns its length.
fn get_string_ascii(
    t: &mut Tape,
    index: u8,
    buf: &mut [u8],
) -> Result<Result<usize, UsbError>, Need> {
    if index == 0 {
        return Ok(Err(UsbError::InvalidParam));
    }
    let r = get_string_raw(t, 0, 0, 255)?;
    let d = data_of(&r);
    if let Err(e) = ret_of(&r) {
        return Ok(Err(e));
    }
    if d.len() < 4 {
        return Ok(Err(UsbError::Io));
    }
    let langid = u16::from(d[2]) | (u16::from(d[3]) << 8);
    let r = get_string_raw(t, index, langid, 255)?;
    let n = match ret_of(&r) {
        Err(e) => return Ok(Err(e)),
        Ok(n) => n,
    };
    let d = data_of(&r);
    if d.len() < 2 || d[1] != 0x03 || usize::from(d[0]) > n {
        return Ok(Err(UsbError::Io));
    }
    let size = usize::from(d[0]);
    let mut di = 0;
    let mut si = 2;
    while si < size {
        if di + 1 >= buf.len() {
            break;
        }
        let lo = d.get(si).copied().unwrap_or(0);
        let hi = d.get(si + 1).copied().unwrap_or(0);
        buf[di] = if lo & 0x80 != 0 || hi != 0 { b'?' } else { lo };
        di += 1;
        si += 2;
    }
    buf[di] = 0;
    Ok(Ok(di))
}

/// NUT's in-place UTF-16 to ASCII conversion of a raw descriptor in `buf` (high byte set ->
/// '?'); returns the new length, or `None` when the descriptor's length byte disagrees with
/// the bytes received.
fn descriptor_to_ascii(buf: &mut [u8], ret: usize) -> Option<usize> {
    // buf[0] is a (signed) char compared with the int ret.
    let b0 = buf[0] as i8 as i64;
    if ret as i64 != b0 {
        return None;
    }
    let size = usize::from(buf[0]);
    let src = buf.to_vec();
    let (mut di, mut si) = (0, 2);
    while si < size {
        if di >= buf.len() - 1 {
            break;
        }
        buf[di] = if src.get(si + 1).copied().unwrap_or(0) != 0 {
            b'?'
        } else {
            src.get(si).copied().unwrap_or(0)
        };
        di += 1;
        si += 2;
    }
    // NUT leaves the rest of the descriptor behind the terminating NUL; nothing reads it.
    buf[di..].iter_mut().for_each(|b| *b = 0);
    Some(di)
}

fn is_no_ack(buf: &[u8]) -> bool {
    let cr = buf
        .iter()
        .position(|&c| c == b'\r' || c == 0)
        .unwrap_or(buf.len());
    cr == 10 && buf[..10].eq_ignore_ascii_case(b"UPS No Ack")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StrKind {
    Krauler,
    Snr,
}

const KRAULER: &[(&[u8], u8, u8)] = &[
    (b"Q1\r", 0x03, b'('),
    (b"F\r", 0x0d, b'#'),
    (b"I\r", 0x0c, b'#'),
    (b"T\r", 0x04, b'\r'),
    (b"TL\r", 0x05, b'\r'),
    (b"Q\r", 0x07, b'\r'),
    (b"C\r", 0x0b, b'\r'),
    (b"CT\r", 0x0b, b'\r'),
];

fn echo(cmd: &[u8], buf: &mut [u8]) -> Framed {
    let n = cmd.len().min(buf.len() - 1);
    copy_into(buf, 0, &cmd[..n]);
    Ok(Ok(n))
}

/// Krauler and SNR: each command is a string descriptor index; the first byte of the reply is
/// replaced by the expected leading character; "UPS No Ack" is retried (10 times).
fn strings(t: &mut Tape, cmd: &[u8], buf: &mut [u8], cfg: &UsbConfig, kind: StrKind) -> Framed {
    let table: &[(&[u8], u8, u8)] = match kind {
        StrKind::Krauler => KRAULER,
        StrKind::Snr => &KRAULER[..3],
    };
    let Some(&(_, index, prefix)) = table.iter().find(|(c, _, _)| *c == cmd) else {
        return echo(cmd, buf);
    };
    let buflen = if kind == StrKind::Snr {
        // Wakes the SNR unit up; the result does not matter.
        t.op(UsbOp::InterruptIn {
            endpoint: 0x81,
            length: 102,
            timeout_ms: 1000,
        })?;
        102
    } else {
        buf.len()
    };
    for _ in 0..10 {
        buf.iter_mut().for_each(|b| *b = 0);
        let langid = match (kind, cfg.langid_fix) {
            (_, Some(l)) => Some(l),
            // NUT 2.8.0 passes -1, which its libusb-1.0 wrapper refuses (fatal).
            (StrKind::Snr, None) => return Ok(Err(UsbError::InvalidParam)),
            (StrKind::Krauler, None) => None,
        };
        let mut ret = match langid {
            Some(l) => {
                let r = get_string_raw(t, index, l, buflen)?;
                match ret_of(&r) {
                    Ok(0) => return Ok(Ok(0)),
                    Ok(n) => {
                        copy_into(buf, 0, head(data_of(&r), n.min(buflen)));
                        n
                    }
                    Err(e) => return Ok(Err(e)),
                }
            }
            None => match get_string_ascii(t, index, &mut buf[..buflen])? {
                Ok(0) => return Ok(Ok(0)),
                Ok(n) => n,
                Err(e) => return Ok(Err(e)),
            },
        };
        if langid.is_some() {
            match descriptor_to_ascii(&mut buf[..buflen], ret) {
                Some(n) => ret = n,
                None => continue,
            }
        }
        if kind == StrKind::Krauler && !cfg.blazer {
            ret = add_cr(buf, ret);
        }
        let no_ack = if cfg.blazer {
            crate::cnum::c_str(buf).eq_ignore_ascii_case(b"UPS No Ack")
        } else {
            is_no_ack(buf)
        };
        if no_ack {
            continue;
        }
        buf[0] = prefix;
        return Ok(Ok(ret));
    }
    Ok(Ok(0))
}

/// Parse NUT's `sscanf(cmd, "S%lfR%d\r")` / `sscanf(cmd, "S%lf\r")` for shutdown commands:
/// (n, Some(m)) or (n, None).
fn parse_shutdown(cmd: &[u8]) -> Option<(f64, Option<i64>)> {
    let s = std::str::from_utf8(cmd).ok()?;
    let rest = s.strip_prefix('S')?;
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let start = i;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    let n: f64 = rest[start..i].parse().ok()?;
    let tail = &rest[i..];
    let m = tail.strip_prefix('R').and_then(|t| {
        let t = t.trim_start();
        let neg = t.starts_with('-');
        let t2 = t.trim_start_matches(['+', '-']);
        let nd = t2.bytes().take_while(u8::is_ascii_digit).count();
        if nd == 0 {
            return None;
        }
        let v: i64 = t2[..nd.min(18)].parse().ok()?;
        Some(if neg { -v } else { v })
    });
    Some((n, m))
}

const FABULA: &[(&[u8], u8)] = &[
    (b"Q1\r", 0x03),
    (b"F\r", 0x0d),
    (b"I\r", 0x0c),
    (b"Q\r", 0x07),
    (b"C\r", 0x0a),
];

/// The string index fabula/hunnox use for `cmd`, if any.
pub fn hunnox_index(cmd: &[u8]) -> Option<u8> {
    if let Some(&(_, i)) = FABULA.iter().find(|(c, _)| *c == cmd) {
        return Some(i);
    }
    let (n, m) = parse_shutdown(cmd)?;
    let delay = n.clamp(0.5, 10.0);
    let mut index = if delay < 1.0 {
        16 + ((delay - 0.5) * 10.0).round() as i64 * 16
    } else {
        96 + ((delay - 1.0) * 16.0) as i64
    };
    // "Sn" alone (no R) counts as a return too, as in NUT (val2 stays -1).
    if m != Some(0) {
        index += 8;
    }
    Some(index as u8)
}

fn next_hunnox_step(step: u8) -> u8 {
    let s = if step > 3 { 0 } else { step };
    let s = s + 1;
    if s > 3 { 1 } else { s }
}

/// Fabula (and hunnox with `hunnox_step`): commands and shutdown delays as string indexes;
/// "UPS No Ack" (the answer to every command) becomes an empty reply.
fn fabula(
    t: &mut Tape,
    cmd: &[u8],
    buf: &mut [u8],
    cfg: &UsbConfig,
    hunnox_step: Option<u8>,
) -> Framed {
    let Some(index) = hunnox_index(cmd) else {
        return echo(cmd, buf);
    };
    let mut buflen = buf.len();
    if let Some(step) = hunnox_step {
        let lang = cfg.langid_fix.unwrap_or(0x0409);
        match step {
            0 => {
                get_string_raw(t, 0x00, lang, 1026)?;
                get_string_raw(t, 0x00, lang, 1026)?;
                get_string_raw(t, 0x01, lang, 1026)?;
                t.op(UsbOp::Wait { ms: 10 })?;
            }
            1..=3 => {
                let want = [0x0d, 0x03, 0x0c][usize::from(step - 1)];
                if index != want {
                    get_string_raw(t, want, lang, 102)?;
                }
            }
            _ => {}
        }
        buflen = buflen.min(102);
    }
    let raw = hunnox_step.is_some() && cfg.langid_fix.is_some();
    let mut ret = if raw {
        let r = get_string_raw(t, index, cfg.langid_fix.unwrap_or(0x0409), buflen)?;
        match ret_of(&r) {
            Ok(0) => return Ok(Ok(0)),
            Ok(n) => {
                copy_into(buf, 0, head(data_of(&r), n.min(buflen)));
                n
            }
            Err(e) => return Ok(Err(e)),
        }
    } else {
        match get_string_ascii(t, index, &mut buf[..buflen])? {
            Ok(0) => return Ok(Ok(0)),
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        }
    };
    if raw {
        match descriptor_to_ascii(&mut buf[..buflen], ret) {
            Some(n) => ret = n,
            None => return Ok(Ok(0)),
        }
    }
    if hunnox_step.is_none() {
        ret = add_cr(buf, ret);
    }
    if is_no_ack(buf) {
        buf.iter_mut().for_each(|b| *b = 0);
        return Ok(Ok(0));
    }
    Ok(Ok(ret))
}

/// Fuji: `80 06 <len+1> 03 <cmd ≤3> <pad> <answer len>` as an interrupt OUT frame, replies in
/// 8-byte chunks padded with NULs.
fn fuji(t: &mut Tape, cmd: &[u8], buf: &mut [u8]) -> Framed {
    let cr = cmd.iter().position(|&c| c == b'\r').unwrap_or(cmd.len());
    let mut command = cmd[..cr].to_vec();
    if let Some((_, Some(m))) = parse_shutdown(cmd)
        && m != 0
    {
        command.truncate(3);
    }
    if command.len() > 3 {
        return echo(cmd, buf);
    }
    let answer_len = match command.as_slice() {
        b"Q1" => 47,
        b"F" => 22,
        b"I" => 39,
        _ => 0,
    };
    let mut tmp = vec![0u8; 8];
    tmp[0] = 0x80;
    tmp[1] = 0x06;
    tmp[2] = command.len() as u8 + 1;
    tmp[3] = 0x03;
    tmp[4..4 + command.len()].copy_from_slice(&command);
    tmp[7] = answer_len;
    let r = t.op(UsbOp::InterruptOut {
        endpoint: 0x02,
        data: tmp,
        timeout_ms: 5000,
    })?;
    match ret_of(&r) {
        Ok(0) => return Ok(Ok(0)),
        Ok(_) => {}
        Err(e) => return Ok(Err(e)),
    }
    let mut i = 0;
    while i + 8 <= buf.len() && !has_cr(buf) {
        let r = t.op(UsbOp::InterruptIn {
            endpoint: 0x81,
            length: 8,
            timeout_ms: 1000,
        })?;
        match ret_of(&r) {
            Ok(0) => return Ok(Ok(0)),
            Ok(n) => {
                copy_into(buf, i, head(data_of(&r), n.min(8)));
                i += n.min(8);
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(strlen(buf)))
}

/// Phoenixtec (Masterguard): the command as a vendor control write; commands that have no
/// answer end there, others read interrupt data until a CR.
fn phoenixtec(t: &mut Tape, cmd: &[u8], buf: &mut [u8]) -> Framed {
    let r = t.op(UsbOp::ControlOut {
        request_type: rt::VENDOR_EP_OUT,
        request: 0x0d,
        value: 0,
        index: 0,
        data: cmd.to_vec(),
        timeout_ms: 1000,
    })?;
    match ret_of(&r) {
        Ok(0) => return Ok(Ok(0)),
        Ok(_) => {}
        Err(e) => return Ok(Err(e)),
    }
    const NO_ANSWER: &[&[u8]] = &[
        b"T", b"TL", b"S", b"C", b"CT", b"M", b"N", b"O", b"SRC", b"FCLR", b"SS", b"TUD", b"SSN",
    ];
    for p in NO_ANSWER {
        if cmd.starts_with(p) {
            let next = cmd.get(p.len()).copied().unwrap_or(0);
            if !next.is_ascii_uppercase() {
                return Ok(Ok(0));
            }
        }
    }
    let mut p = 0;
    while p < buf.len() {
        let r = t.op(UsbOp::InterruptIn {
            endpoint: 0x81,
            length: buf.len() - p,
            timeout_ms: 1000,
        })?;
        let n = match ret_of(&r) {
            Ok(0) => {
                buf.iter_mut().for_each(|b| *b = 0);
                return Ok(Ok(0));
            }
            Ok(n) => n.min(buf.len() - p),
            Err(e) => {
                buf.iter_mut().for_each(|b| *b = 0);
                return Ok(Err(e));
            }
        };
        copy_into(buf, p, head(data_of(&r), n));
        if let Some(e) = buf[p..p + n].iter().position(|&c| c == b'\r') {
            let end = p + e + 1;
            if end < buf.len() {
                buf[end..].iter_mut().for_each(|b| *b = 0);
                return Ok(Ok(end));
            }
            break;
        }
        p += n;
    }
    buf.iter_mut().for_each(|b| *b = 0);
    Ok(Ok(0))
}

/// Ablerex: SET_REPORT 0x305 `05 00 <len> <cmd with CR>` (47 bytes), wait 500 ms, GET_REPORT
/// 0x305 (47 bytes); replies of the wrong length are retried (3 times).
fn ablerex(t: &mut Tape, cmd: &[u8], buf: &mut [u8]) -> Framed {
    let cr = cmd.iter().position(|&c| c == b'\r').unwrap_or(cmd.len());
    for _ in 0..3 {
        buf.iter_mut().for_each(|b| *b = 0);
        let mut tmp = vec![0u8; 47];
        tmp[0] = 0x05;
        tmp[1] = 0;
        let n = (1 + cr).min(44);
        tmp[2] = n as u8;
        for k in 0..n {
            tmp[3 + k] = cmd.get(k).copied().unwrap_or(0);
        }
        t.op(UsbOp::ControlOut {
            request_type: rt::CLASS_IFACE_OUT,
            request: 0x09,
            value: 0x305,
            index: 0,
            data: tmp,
            timeout_ms: 1000,
        })?;
        t.op(UsbOp::Wait { ms: 500 })?;
        let r = t.op(UsbOp::ControlIn {
            request_type: rt::CLASS_IFACE_IN,
            request: 0x01,
            value: 0x305,
            index: 0,
            length: 47,
            timeout_ms: 1000,
        })?;
        let mut rep = vec![0u8; 47];
        rep[0] = 0x05;
        copy_into(&mut rep, 0, data_of(&r));
        let mut len = 0;
        for (idx, &c) in rep.iter().enumerate() {
            buf[idx] = c;
            if c == b'\r' {
                len = idx;
                break;
            }
        }
        if len > 0 {
            len += 1;
        }
        match ret_of(&r) {
            Ok(0) => return Ok(Ok(0)),
            Ok(_) => {}
            Err(e) => return Ok(Err(e)),
        }
        let want = match cmd {
            c if c.eq_ignore_ascii_case(b"Q1\r") => Some(47),
            c if c.eq_ignore_ascii_case(b"I\r") => Some(39),
            c if c.eq_ignore_ascii_case(b"F\r") => Some(22),
            _ => None,
        };
        if want.is_some_and(|w| w != len) {
            continue;
        }
        if cmd.eq_ignore_ascii_case(b"Q5\r") && len != 22 {
            buf.iter_mut().for_each(|b| *b = 0);
            buf[0] = b'(';
            return Ok(Ok(22));
        }
        return Ok(Ok(len));
    }
    Ok(Ok(0))
}

/// Armac: `a0+n <n ≤ 3 bytes>` writes; 6-byte interrupt reads `<0x?n> <n bytes>` until n = 0.
fn armac(t: &mut Tape, cmd: &[u8], buf: &mut [u8]) -> Framed {
    const UNSUPPORTED: &[&[u8]] = &[b"QGS\r", b"QS\r", b"QPI\r", b"M\r", b"D\r"];
    if UNSUPPORTED.contains(&cmd) {
        return echo(cmd, buf);
    }
    let mut ret: Result<usize, UsbError> = Ok(0);
    let mut i = 0;
    while i < cmd.len() {
        let n = (cmd.len() - i).min(3);
        let mut tmp = vec![0u8; 4];
        tmp[0] = 0xa0 + n as u8;
        tmp[1..1 + n].copy_from_slice(&cmd[i..i + n]);
        let r = t.op(UsbOp::ControlOut {
            request_type: rt::CLASS_IFACE_OUT,
            request: 0x09,
            value: 0x200,
            index: 0,
            data: tmp,
            timeout_ms: 5000,
        })?;
        ret = ret_of(&r);
        i += n;
    }
    match ret {
        Ok(0) => return Ok(Ok(0)),
        Err(e) => return Ok(Err(e)),
        Ok(_) => {}
    }
    buf.iter_mut().for_each(|b| *b = 0);
    let mut pos = 0;
    while pos + 6 < buf.len() {
        let r = t.op(UsbOp::InterruptIn {
            endpoint: 0x81,
            length: 6,
            timeout_ms: 1000,
        })?;
        match ret_of(&r) {
            Ok(6) => {}
            other => return Ok(other),
        }
        let d = data_of(&r);
        let avail = usize::from(d.first().copied().unwrap_or(0) & 0x0f).min(5);
        if avail == 0 {
            break;
        }
        copy_into(buf, pos, head(d.get(1..).unwrap_or(&[]), avail));
        pos += avail;
        if avail <= 2 {
            t.op(UsbOp::Wait { ms: 15 })?;
        }
    }
    if pos + 6 >= buf.len() {
        // NUT returns -1 here, which is LIBUSB_ERROR_IO (so the device is reopened).
        return Ok(Err(UsbError::Io));
    }
    Ok(Ok(pos))
}

/// At start-up with `langid_fix` and without `noscanlangid`, NUT reads string descriptor 0
/// (the language list) with this request and logs the first language ID ("First supported
/// language ID: 0x… (please report to the NUT maintainer!)"); nothing else depends on it.
pub fn langid_probe() -> UsbOp {
    UsbOp::ControlIn {
        request_type: rt::STD_DEVICE_IN,
        request: 0x06,
        value: 0x0300,
        index: 0,
        length: 255,
        timeout_ms: 1000,
    }
}

/// The first language ID in the answer to [`langid_probe`] (NUT needs at least 4 bytes).
pub fn first_langid(answer: &[u8]) -> Option<u16> {
    (answer.len() >= 4).then(|| u16::from(answer[2]) | (u16::from(answer[3]) << 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn langid_probe_reads_string_zero() {
        assert_eq!(first_langid(&[4, 3, 0x09, 0x04]), Some(0x0409));
        assert_eq!(first_langid(&[2, 3]), None);
        assert!(matches!(
            langid_probe(),
            UsbOp::ControlIn {
                value: 0x0300,
                index: 0,
                length: 255,
                ..
            }
        ));
    }
}
