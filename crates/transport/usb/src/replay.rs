//! The replay transport: a device spec served with the semantics of the rig's libusb stand-in
//! (tests/rig/usb/fakeusb.c), transfer for transfer and log line for log line.
//!
//! * GET_DESCRIPTOR device / HID / report / string, any length; string 0 lists one LANGID.
//! * GET_REPORT answers the recorded report (Input and Feature stand in for each other); an
//!   unrecorded id STALLs unless the spec says `unknown zero`.
//! * SET_REPORT is stored, so a read-back sees it; SET_IDLE is accepted; any other control
//!   request STALLs.
//! * Interrupt IN delivers what a Q1 bridge has queued, then the `intr` queue, else times out
//!   (waiting at most 100 ms, so a driver's loop keeps its pace). An [`InterruptPipe`] instead
//!   waits until the events file changes (inotify) and wakes only then.
//! * Before every transfer and every enumeration the events file is read for new complete lines,
//!   which are applied like spec lines (`intr`, `feature`, `q1`, `unplug`, `replug` ...).
//! * `unplug`: open transports fail with [`UsbError::NoDevice`] and enumeration finds nothing;
//!   `replug [n]`: the device is back (under device number n), and only a new open reaches it.
//!
//! [`ReplayDevice`] is the pure state machine; [`Replay`] adds the spec file, the events file and
//! the transfer log (`FAKEUSB_LOG` format) around it, shared by every transport opened from it.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::bridge::{Bridge, escape, hex_line};
use crate::spec::{self, Directive, UnknownReport};
use crate::{
    ControlSetup, DeviceIdentity, InterruptPipe, PipeFuture, UsbError, UsbTransport, requests,
};

const REPORT_MAX: usize = 1024;
const DESC_MAX: usize = 65536;
const MAX_INTR: usize = 4096;
/// The longest a replayed interrupt IN waits before it times out.
pub const QUIET_WAIT: Duration = Duration::from_millis(100);

/// What a device-to-host or host-to-device transfer gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interrupt {
    Data(Vec<u8>),
    /// Nothing to read: the caller waits (at most [`QUIET_WAIT`]) and reports a timeout.
    Quiet,
}

/// The device descriptor fields the enumeration shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptor {
    pub vendor_id: u16,
    pub product_id: u16,
    pub bcd_device: u16,
    pub imanufacturer: u8,
    pub iproduct: u8,
    pub iserial: u8,
    pub bus: u8,
    pub device: u8,
    pub port: u8,
    pub interface: u8,
}

/// The simulated device: spec state, Q1 bridge, plug state. No I/O; log lines accumulate in
/// [`ReplayDevice::take_log`].
pub struct ReplayDevice {
    vid: u16,
    pid: u16,
    bcd: u16,
    bus: u8,
    iface: u8,
    devnum: u8,
    port: u8,
    langid: u16,
    imfr: u8,
    iprod: u8,
    iser: u8,
    strings: Vec<Option<Vec<u8>>>,
    desc: Vec<u8>,
    feature: Vec<Vec<u8>>,
    input: Vec<Vec<u8>>,
    intr: VecDeque<Vec<u8>>,
    intr_total: usize,
    unknown: UnknownReport,
    bridge: Bridge,
    unplugged: bool,
    generation: u64,
    log: Vec<String>,
}

impl Default for ReplayDevice {
    fn default() -> Self {
        ReplayDevice {
            vid: 0xffff,
            pid: 0xffff,
            bcd: 0x0100,
            bus: 1,
            iface: 0,
            devnum: 2,
            port: 1,
            langid: 0x0409,
            imfr: 0,
            iprod: 0,
            iser: 0,
            strings: vec![None; 256],
            desc: Vec::new(),
            feature: vec![Vec::new(); 256],
            input: vec![Vec::new(); 256],
            intr: VecDeque::new(),
            intr_total: 0,
            unknown: UnknownReport::Stall,
            bridge: Bridge::default(),
            unplugged: false,
            generation: 1,
            log: Vec::new(),
        }
    }
}

impl ReplayDevice {
    /// A device from spec directives (as [`spec::parse`] returns them).
    pub fn new(directives: Vec<Directive>) -> ReplayDevice {
        let mut d = ReplayDevice::default();
        for x in directives {
            d.apply(x, false);
        }
        d
    }

    /// Apply one directive; `from_events` makes a `q1` line replace its request's replies.
    pub fn apply(&mut self, d: Directive, from_events: bool) {
        match d {
            Directive::Vid(v) => self.vid = v,
            Directive::Pid(v) => self.pid = v,
            Directive::Bcd(v) => self.bcd = v,
            Directive::Bus(v) => self.bus = v,
            Directive::Iface(v) => self.iface = v,
            Directive::Devnum(v) => self.devnum = v,
            Directive::Port(v) => self.port = v,
            Directive::Langid(v) => self.langid = v,
            Directive::IManufacturer(v) => self.imfr = v,
            Directive::IProduct(v) => self.iprod = v,
            Directive::ISerial(v) => self.iser = v,
            Directive::Unknown(u) => self.unknown = u,
            Directive::String { index, text } => {
                self.strings[usize::from(index)] = Some(text.into_bytes())
            }
            Directive::Desc(bytes) => {
                let room = DESC_MAX - self.desc.len();
                self.desc.extend(bytes.into_iter().take(room));
            }
            Directive::Feature { id, mut bytes } => {
                bytes.truncate(REPORT_MAX);
                self.feature[usize::from(id)] = bytes;
            }
            Directive::Input { id, mut bytes } => {
                bytes.truncate(REPORT_MAX);
                self.input[usize::from(id)] = bytes;
            }
            Directive::Intr(mut bytes) => {
                if self.intr_total < MAX_INTR {
                    bytes.truncate(REPORT_MAX);
                    self.intr.push_back(bytes);
                    self.intr_total += 1;
                }
            }
            Directive::Bridge(kind) => self.bridge.kind = Some(kind),
            Directive::Q1 { request, reply } => self.bridge.add_q1(request, reply, from_events),
            Directive::Unplug => {
                self.unplugged = true;
                self.generation += 1;
            }
            Directive::Replug(devnum) => {
                if let Some(n) = devnum {
                    self.devnum = n;
                }
                self.unplugged = false;
                self.generation += 1;
            }
        }
    }

    /// The log lines since the last call (each ends in a newline).
    pub fn take_log(&mut self) -> Vec<String> {
        std::mem::take(&mut self.log)
    }

    /// The "loaded" lines the stand-in writes when it has read its spec.
    pub fn log_loaded(&mut self, spec_name: &str) {
        self.log.push(format!(
            "loaded {spec_name}: {:04x}:{:04x}, report descriptor {} bytes, {} queued interrupt reports\n",
            self.vid,
            self.pid,
            self.desc.len(),
            self.intr.len()
        ));
        if let Some(b) = self.bridge.kind {
            self.log.push(format!(
                "bridge {b}: {} q1 requests\n",
                self.bridge.request_count()
            ));
        }
    }

    /// The device as the bus lists it, or `None` while it is unplugged (or is neither a HID device
    /// nor a bridge: a spec without a report descriptor and without `bridge` lists nothing).
    pub fn enumerate(&self) -> Option<Descriptor> {
        if self.unplugged || (self.desc.is_empty() && self.bridge.kind.is_none()) {
            return None;
        }
        Some(Descriptor {
            vendor_id: self.vid,
            product_id: self.pid,
            bcd_device: self.bcd,
            imanufacturer: self.imfr,
            iproduct: self.iprod,
            iserial: self.iser,
            bus: self.bus,
            device: self.devnum,
            port: self.port,
            interface: self.iface,
        })
    }

    /// Open the device: the handle is its current generation (a later unplug/replug kills it).
    pub fn open(&self) -> Result<u64, UsbError> {
        if self.unplugged {
            return Err(UsbError::NoDevice);
        }
        Ok(self.generation)
    }

    fn gone(&mut self, handle: u64, what: &str) -> Result<(), UsbError> {
        if !self.unplugged && handle == self.generation {
            return Ok(());
        }
        self.log.push(format!("{what} -> NO_DEVICE\n"));
        Err(UsbError::NoDevice)
    }

    fn hid_descriptor(&self) -> Vec<u8> {
        let n = self.desc.len();
        vec![
            9,
            requests::DT_HID,
            0x10,
            0x01,
            0,
            1,
            requests::DT_REPORT,
            n as u8,
            (n >> 8) as u8,
        ]
    }

    fn device_descriptor(&self) -> Vec<u8> {
        let (v, p, b) = (
            self.vid.to_le_bytes(),
            self.pid.to_le_bytes(),
            self.bcd.to_le_bytes(),
        );
        vec![
            18, 1, 0x10, 0x01, 0, 0, 0, 8, v[0], v[1], p[0], p[1], b[0], b[1], self.imfr,
            self.iprod, self.iser, 1,
        ]
    }

    /// String descriptor `idx` (UTF-16LE), or `None` for a STALL. On a string bridge a command
    /// index is a Megatec request: asking for it makes the UPS answer.
    fn string_descriptor(&mut self, idx: u8) -> Option<Vec<u8>> {
        if idx == 0 {
            let l = self.langid.to_le_bytes();
            return Some(vec![4, requests::DT_STRING, l[0], l[1]]);
        }
        let text = match self.bridge.string_reply(idx, &mut self.log) {
            Some(Some(reply)) => reply,
            Some(None) => return None,
            None => self.strings[usize::from(idx)].clone()?,
        };
        let mut d = vec![0u8, requests::DT_STRING];
        let mut pos = 0;
        while pos < text.len() && text[pos] != 0 && d.len() < 254 {
            let c = next_codepoint(&text, &mut pos);
            d.push((c & 0xff) as u8);
            d.push((c >> 8) as u8);
        }
        d[0] = d.len() as u8;
        Some(d)
    }

    /// A control transfer. For IN requests (bit 7 of the request type) the reply is returned; for
    /// OUT requests `data` is what the host sends and the result is empty.
    pub fn control(
        &mut self,
        handle: u64,
        setup: ControlSetup,
        data: &[u8],
        length: u16,
    ) -> Result<Vec<u8>, UsbError> {
        self.gone(handle, "control")?;
        let ControlSetup {
            request_type: rtype,
            request: req,
            value,
            index,
        } = setup;
        let len = usize::from(length);
        let is_in = rtype & 0x80 != 0;

        if req == requests::GET_DESCRIPTOR && rtype & 0xe0 == 0x80 {
            let (ty, di) = ((value >> 8) as u8, (value & 0xff) as u8);
            let reply = match ty {
                requests::DT_DEVICE => Some(self.device_descriptor()),
                requests::DT_HID => Some(self.hid_descriptor()),
                requests::DT_REPORT => Some(self.desc.clone()),
                requests::DT_STRING => self.string_descriptor(di),
                _ => None,
            };
            return match reply {
                Some(mut r) => {
                    r.truncate(len);
                    self.log.push(format!(
                        "get_descriptor type 0x{ty:02x} index {di} len {length} -> {}\n",
                        r.len()
                    ));
                    Ok(r)
                }
                None => {
                    self.log.push(format!(
                        "get_descriptor type 0x{ty:02x} index {di} len {length} -> -9\n"
                    ));
                    Err(UsbError::Stall)
                }
            };
        }

        if !is_in && self.bridge.vendor_out(&setup, data, &mut self.log) {
            return Ok(Vec::new());
        }

        if rtype & 0x60 == 0x20 {
            let kind = u32::from(value >> 8);
            let id = usize::from(value & 0xff);
            if req == requests::HID_SET_REPORT
                && !is_in
                && self.bridge.set_report(value, data, &mut self.log)
            {
                return Ok(Vec::new());
            }
            if req == requests::HID_GET_REPORT && is_in {
                if let Some(d) = self.bridge.ablerex_get_report(value, len) {
                    self.log.push(hex_line("get_report", kind, id as u32, &d));
                    return Ok(d);
                }
                let (mine, other) = if kind == 1 {
                    (&self.input[id], &self.feature[id])
                } else {
                    (&self.feature[id], &self.input[id])
                };
                let r = if mine.is_empty() { other } else { mine };
                if r.is_empty() {
                    if self.unknown == UnknownReport::Stall {
                        self.log
                            .push(hex_line("get_report STALL", kind, id as u32, &[]));
                        return Err(UsbError::Stall);
                    }
                    let mut d = vec![0u8; len];
                    if let Some(first) = d.first_mut() {
                        *first = id as u8;
                    }
                    self.log
                        .push(hex_line("get_report zero", kind, id as u32, &d));
                    return Ok(d);
                }
                let d = r[..r.len().min(len)].to_vec();
                self.log.push(hex_line("get_report", kind, id as u32, &d));
                return Ok(d);
            }
            if req == requests::HID_SET_REPORT && !is_in {
                let slot = if kind == 1 {
                    &mut self.input[id]
                } else {
                    &mut self.feature[id]
                };
                *slot = data[..data.len().min(REPORT_MAX)].to_vec();
                self.log.push(hex_line("set_report", kind, id as u32, data));
                return Ok(Vec::new());
            }
            if req == requests::HID_SET_IDLE && !is_in {
                self.log.push(format!("set_idle 0x{value:04x}\n"));
                return Ok(Vec::new());
            }
        }
        self.log.push(format!(
            "control rtype={rtype:02x} req={req:02x} value={value:04x} index={index:04x} len={length} -> STALL\n"
        ));
        Err(UsbError::Stall)
    }

    /// libusb's `libusb_get_string_descriptor_ascii` (see [`UsbTransport::string_ascii`]).
    pub fn string_ascii(
        &mut self,
        handle: u64,
        idx: u8,
        buffer_len: usize,
    ) -> Result<Vec<u8>, UsbError> {
        self.gone(handle, "string")?;
        let desc = if idx == 0 || buffer_len < 1 {
            None
        } else {
            self.string_descriptor(idx)
        };
        let Some(desc) = desc else {
            self.log.push(format!("string {idx} -> STALL\n"));
            return Err(UsbError::Stall);
        };
        let mut out = Vec::new();
        let mut si = 2;
        while si + 1 < desc.len() && out.len() + 1 < buffer_len {
            let (lo, hi) = (desc[si], desc[si + 1]);
            out.push(if hi != 0 || lo >= 0x80 { b'?' } else { lo });
            si += 2;
        }
        self.log.push(format!("string {idx}: {}\n", escape(&out)));
        Ok(out)
    }

    /// An interrupt IN transfer of at most `length` bytes.
    pub fn interrupt_in(
        &mut self,
        handle: u64,
        endpoint: u8,
        length: usize,
    ) -> Result<Interrupt, UsbError> {
        self.gone(handle, "interrupt")?;
        let next = self.bridge.next_packet().or_else(|| self.intr.pop_front());
        match next {
            Some(mut d) => {
                d.truncate(length);
                self.log.push(hex_line(
                    "interrupt",
                    u32::from(endpoint),
                    d.len() as u32,
                    &d,
                ));
                Ok(Interrupt::Data(d))
            }
            None => Ok(Interrupt::Quiet),
        }
    }

    /// An interrupt OUT transfer; returns the number of bytes taken.
    pub fn interrupt_out(
        &mut self,
        handle: u64,
        endpoint: u8,
        data: &[u8],
    ) -> Result<usize, UsbError> {
        self.gone(handle, "interrupt")?;
        self.log.push(hex_line(
            "interrupt_out",
            u32::from(endpoint),
            data.len() as u32,
            data,
        ));
        self.bridge.interrupt_out(data, &mut self.log);
        Ok(data.len())
    }
}

/// fakeusb.c's lenient UTF-8 decoder: one code point (U+FFFD for invalid input), BMP only.
fn next_codepoint(s: &[u8], pos: &mut usize) -> u32 {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut p = *pos;
    let mut c = u32::from(at(p));
    p += 1;
    let mut n = 0;
    if c >= 0xf0 {
        c &= 0x07;
        n = 3;
    } else if c >= 0xe0 {
        c &= 0x0f;
        n = 2;
    } else if c >= 0xc0 {
        c &= 0x1f;
        n = 1;
    } else if c >= 0x80 {
        c = 0xfffd;
    }
    while n > 0 {
        n -= 1;
        if at(p) & 0xc0 != 0x80 {
            c = 0xfffd;
            break;
        }
        c = (c << 6) | u32::from(at(p) & 0x3f);
        p += 1;
    }
    *pos = p;
    if c > 0xffff { 0xfffd } else { c }
}

/// Where the replay writes its transfer log and which events file it tails. The rig's variables
/// `FAKEUSB_LOG` and `FAKEUSB_EVENTS` mean the same for our drivers as for Debian's under the
/// stand-in, so one test environment serves both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayOptions {
    pub log: Option<PathBuf>,
    pub events: Option<PathBuf>,
}

impl ReplayOptions {
    pub fn from_env() -> ReplayOptions {
        let path = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        ReplayOptions {
            log: path("FAKEUSB_LOG"),
            events: path("FAKEUSB_EVENTS"),
        }
    }
}

/// A spec that could not be loaded: `path:line: message`, or the file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    #[error("{path}:{line}: {message}")]
    Spec {
        path: String,
        line: usize,
        message: String,
    },
    #[error("cannot read device spec {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open replay log {path}: {source}")]
    Log {
        path: String,
        source: std::io::Error,
    },
}

struct Inner {
    device: ReplayDevice,
    log: Option<File>,
    events: Option<PathBuf>,
    events_offset: u64,
    /// Bumped when event lines were applied (interrupt pipes waiting on it look again).
    signal: Arc<Signal>,
}

/// A change counter with the wakers of the futures waiting for it to move (a replayed
/// interrupt pipe waits here, so it wakes only when the device state changed).
#[derive(Default)]
struct Signal {
    state: Mutex<(u64, Vec<std::task::Waker>)>,
}

impl Signal {
    fn lock(&self) -> MutexGuard<'_, (u64, Vec<std::task::Waker>)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn count(&self) -> u64 {
        self.lock().0
    }

    fn bump(&self) {
        let wakers = {
            let mut g = self.lock();
            g.0 = g.0.wrapping_add(1);
            std::mem::take(&mut g.1)
        };
        for w in wakers {
            w.wake();
        }
    }

    /// Completes once the counter is no longer `seen`.
    fn changed(&self, seen: u64) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let mut g = self.lock();
            if g.0 != seen {
                return std::task::Poll::Ready(());
            }
            if !g.1.iter().any(|w| w.will_wake(cx.waker())) {
                g.1.push(cx.waker().clone());
            }
            std::task::Poll::Pending
        })
    }
}

impl Inner {
    fn flush_log(&mut self) {
        // Drained, not taken: the line list keeps its room for the next transfer.
        let lines = self.device.log.drain(..);
        if let Some(f) = &mut self.log {
            for l in lines {
                // The log is a test aid; a full disk must not stop the driver.
                let _ = f.write_all(l.as_bytes());
            }
        }
    }

    /// Apply the complete lines appended to the events file since the last call.
    fn poll_events(&mut self) {
        let Some(path) = &self.events else { return };
        let Ok(mut f) = File::open(path) else { return };
        if f.seek(SeekFrom::Start(self.events_offset)).is_err() {
            return;
        }
        let mut buf = Vec::new();
        if f.read_to_end(&mut buf).is_err() {
            return;
        }
        let mut start = 0;
        if buf.contains(&b'\n') {
            self.signal.bump();
        }
        while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
            let raw = &buf[start..=start + nl];
            start += nl + 1;
            self.events_offset += raw.len() as u64;
            let line = String::from_utf8_lossy(raw);
            self.device.log.push(format!("event: {line}"));
            match spec::parse_line(&line) {
                Ok(Some(d)) => self.device.apply(d, true),
                Ok(None) => {}
                Err(e) => eprintln!("replay: {}: ignored event line: {e}", path.display()),
            }
        }
    }
}

/// A replayed device with its spec, events file and log, shared by every transport opened from it
/// (so an unplug seen by one is seen by all, and reports written stay written).
#[derive(Clone)]
pub struct Replay {
    inner: Arc<Mutex<Inner>>,
    signal: Arc<Signal>,
    /// Set once the events file is watched (by the first interrupt pipe).
    watching: Arc<std::sync::OnceLock<()>>,
}

impl Replay {
    /// Load a spec file. The log's first line names the spec as `path` is written.
    pub fn load(path: &Path, options: &ReplayOptions) -> Result<Replay, ReplayError> {
        let text = std::fs::read_to_string(path).map_err(|source| ReplayError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Replay::from_text(&path.display().to_string(), &text, options)
    }

    /// A spec given as text; `name` stands for its path in errors and the log.
    pub fn from_text(
        name: &str,
        text: &str,
        options: &ReplayOptions,
    ) -> Result<Replay, ReplayError> {
        let directives = spec::parse(text).map_err(|e| ReplayError::Spec {
            path: name.to_string(),
            line: e.line,
            message: e.message,
        })?;
        let log = match &options.log {
            Some(p) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|source| ReplayError::Log {
                        path: p.display().to_string(),
                        source,
                    })?,
            ),
            None => None,
        };
        let mut device = ReplayDevice::new(directives);
        device.log_loaded(name);
        let signal = Arc::new(Signal::default());
        let mut inner = Inner {
            device,
            log,
            events: options.events.clone(),
            events_offset: 0,
            signal: Arc::clone(&signal),
        };
        inner.flush_log();
        Ok(Replay {
            inner: Arc::new(Mutex::new(inner)),
            signal,
            watching: Arc::default(),
        })
    }

    /// Watches the events file (once per replay) on a thread of its own that sleeps until the
    /// file changes (inotify), then applies the new lines, which wakes the interrupt pipes.
    fn watch_events(&self) {
        let Some(path) = self.lock().events.clone() else {
            return;
        };
        self.watching.get_or_init(|| {
            let inner = Arc::downgrade(&self.inner);
            let spawned = std::thread::Builder::new()
                .name("replay-events".into())
                .spawn(move || watch_events(&path, &inner));
            if let Err(e) = spawned {
                eprintln!("replay: cannot watch the events file: {e}");
            }
        });
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the device half-updated in a way that
        // matters to a test device; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The device as the bus lists it now (after reading the events file).
    pub fn enumerate(&self) -> Option<Descriptor> {
        let mut g = self.lock();
        g.poll_events();
        g.flush_log();
        g.device.enumerate()
    }

    /// Open the device (no identity strings read yet).
    pub fn open(&self) -> Result<ReplayHandle, UsbError> {
        let g = self.lock();
        let generation = g.device.open()?;
        Ok(ReplayHandle {
            replay: self.clone(),
            generation,
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut ReplayDevice) -> T) -> T {
        let mut g = self.lock();
        g.poll_events();
        let r = f(&mut g.device);
        g.flush_log();
        r
    }
}

/// The events-file watcher: blocks on inotify (no wake-ups while nothing is written), or where
/// inotify is unavailable looks every [`QUIET_WAIT`]; the lines it applies bump the replay's
/// signal. Returns once the replay is gone.
fn watch_events(path: &Path, inner: &std::sync::Weak<Mutex<Inner>>) {
    use rustix::fs::inotify;
    let apply = || -> bool {
        let Some(inner) = inner.upgrade() else {
            return false;
        };
        let mut g = inner.lock().unwrap_or_else(|p| p.into_inner());
        g.poll_events();
        g.flush_log();
        true
    };
    let watched = inotify::init(inotify::CreateFlags::CLOEXEC).and_then(|fd| {
        // The file itself, or its directory until it exists.
        let flags = inotify::WatchFlags::MODIFY
            | inotify::WatchFlags::CLOSE_WRITE
            | inotify::WatchFlags::CREATE
            | inotify::WatchFlags::MOVED_TO;
        let target = if path.exists() {
            path
        } else {
            path.parent().unwrap_or(Path::new("."))
        };
        inotify::add_watch(&fd, target, flags)?;
        Ok(fd)
    });
    match watched {
        Ok(fd) => {
            let mut buf = [0u8; 4096];
            while let Ok(_) | Err(rustix::io::Errno::INTR) = rustix::io::read(&fd, &mut buf) {
                if !apply() {
                    return;
                }
            }
        }
        Err(e) => eprintln!(
            "replay: cannot watch {} ({e}); looking every {QUIET_WAIT:?}",
            path.display()
        ),
    }
    loop {
        std::thread::sleep(QUIET_WAIT);
        if !apply() {
            return;
        }
    }
}

/// A replayed interrupt pipe: takes the queued reports, and when there are none waits for the
/// events file to change.
struct ReplayPipe {
    replay: Replay,
    generation: u64,
    endpoint: u8,
    length: usize,
}

impl InterruptPipe for ReplayPipe {
    fn next(&mut self) -> PipeFuture<'_> {
        Box::pin(async move {
            let (g, endpoint, length) = (self.generation, self.endpoint, self.length);
            loop {
                let seen = self.replay.signal.count();
                match self.replay.with(|d| d.interrupt_in(g, endpoint, length))? {
                    Interrupt::Data(d) => return Ok(d),
                    Interrupt::Quiet => self.replay.signal.changed(seen).await,
                }
            }
        })
    }
}

/// An open handle on a replayed device; becomes a [`ReplayTransport`] once its identity is known.
pub struct ReplayHandle {
    replay: Replay,
    generation: u64,
}

impl ReplayHandle {
    pub fn string_ascii(&mut self, index: u8, buffer_len: usize) -> Result<Vec<u8>, UsbError> {
        let g = self.generation;
        self.replay.with(|d| d.string_ascii(g, index, buffer_len))
    }

    pub fn into_transport(self, identity: DeviceIdentity) -> ReplayTransport {
        ReplayTransport {
            handle: self,
            identity,
        }
    }
}

/// [`UsbTransport`] over a replayed device.
pub struct ReplayTransport {
    handle: ReplayHandle,
    identity: DeviceIdentity,
}

impl UsbTransport for ReplayTransport {
    fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    fn interrupt_pipe(
        &mut self,
        endpoint: u8,
        length: usize,
    ) -> Result<Box<dyn InterruptPipe>, UsbError> {
        let generation = self.handle.generation;
        self.handle
            .replay
            .with(|d| d.gone(generation, "interrupt"))?;
        self.handle.replay.watch_events();
        Ok(Box::new(ReplayPipe {
            replay: self.handle.replay.clone(),
            generation,
            endpoint,
            length,
        }))
    }

    fn control_in(
        &mut self,
        setup: ControlSetup,
        length: u16,
        _timeout: Duration,
    ) -> Result<Vec<u8>, UsbError> {
        setup.expect_direction(true)?;
        let g = self.handle.generation;
        self.handle
            .replay
            .with(|d| d.control(g, setup, &[], length))
    }

    fn control_out(
        &mut self,
        setup: ControlSetup,
        data: &[u8],
        _timeout: Duration,
    ) -> Result<usize, UsbError> {
        setup.expect_direction(false)?;
        let length = u16::try_from(data.len()).map_err(|_| {
            UsbError::InvalidParam("control transfer longer than 65535 bytes".into())
        })?;
        let g = self.handle.generation;
        self.handle
            .replay
            .with(|d| d.control(g, setup, data, length))
            .map(|_| data.len())
    }

    fn interrupt_in(
        &mut self,
        endpoint: u8,
        length: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, UsbError> {
        let g = self.handle.generation;
        match self
            .handle
            .replay
            .with(|d| d.interrupt_in(g, endpoint, length))?
        {
            Interrupt::Data(d) => Ok(d),
            Interrupt::Quiet => {
                // The stand-in's quiet device: time out, but wait at most QUIET_WAIT.
                let wait = if timeout.is_zero() {
                    QUIET_WAIT
                } else {
                    timeout.min(QUIET_WAIT)
                };
                std::thread::sleep(wait);
                Err(UsbError::Timeout)
            }
        }
    }

    fn interrupt_out(
        &mut self,
        endpoint: u8,
        data: &[u8],
        _timeout: Duration,
    ) -> Result<usize, UsbError> {
        let g = self.handle.generation;
        self.handle
            .replay
            .with(|d| d.interrupt_out(g, endpoint, data))
    }

    fn string_ascii(
        &mut self,
        index: u8,
        buffer_len: usize,
        _timeout: Duration,
    ) -> Result<Vec<u8>, UsbError> {
        self.handle.string_ascii(index, buffer_len)
    }

    fn clear_halt(&mut self, _endpoint: u8) -> Result<(), UsbError> {
        Ok(())
    }

    fn reset(&mut self) -> Result<(), UsbError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codepoints_as_the_stand_in_decodes_them() {
        let s = "aé€😀".as_bytes();
        let mut pos = 0;
        let mut out = Vec::new();
        while pos < s.len() {
            out.push(next_codepoint(s, &mut pos));
        }
        assert_eq!(out, vec![0x61, 0xe9, 0x20ac, 0xfffd]);
        let bad = [0xc3u8, 0x41];
        let mut pos = 0;
        assert_eq!(next_codepoint(&bad, &mut pos), 0xfffd);
        assert_eq!(pos, 1);
        let mut pos = 0;
        assert_eq!(next_codepoint(&[0x80], &mut pos), 0xfffd);
    }
}
