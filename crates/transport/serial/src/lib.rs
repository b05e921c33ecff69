//! `nut-serial`: the serial transport of nut-rs hardware drivers (NUT's `drivers/serial.c`).
//!
//! A [`SerialPort`] opens its port the way NUT 2.8.0's drivers do — `O_RDWR | O_NOCTTY |
//! O_EXCL | O_NONBLOCK`, then an exclusive `flock` unless `nolock` is set (a second driver
//! on the same port fails with `<port> is locked by another process`), then raw 8N1 at the
//! configured speed (`CS8 | CLOCAL | CREAD`, `IGNPAR`, `VMIN = 1`, `VTIME = 0`, input
//! flushed) — and implements [`nut_driver::Transport`], so the framework opens it before
//! `init_info` and reopens it after a lost device.
//!
//! Exchanges are async with timeouts, so a silent device costs a bounded wait and never a
//! hung driver: [`SerialPort::query`] flushes stale input, writes a request and reads the
//! reply framed by a [`Reply`] (an end byte with ignored bytes and a maximum length, or a
//! fixed length), each read bounded by a per-read gap and the whole by a total timeout.
//! The framing itself is pure ([`Framer`]); [`Exchange`] (the framework's request/reply
//! seam) is implemented by `query`.
//!
//! Modem lines: DTR and RTS can be set or cleared; on a device without modem lines (a
//! pseudo-terminal, some USB adapters) the kernel answers ENOTTY or EINVAL, which is
//! logged at debug level and ignored, as NUT effectively does (it does not check).

use std::fs::File;
use std::io::{self, Read as _, Write as _};
use std::os::fd::AsRawFd as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::rc::Rc;
use std::time::Duration;

use nix::sys::termios::{
    self, BaudRate, ControlFlags, FlushArg, InputFlags, LocalFlags, OutputFlags, SetArg,
    SpecialCharacterIndices,
};
use nut_driver::{DriverConfig, DriverError, Transport};
use std::time::Instant;

use nut_daemon::alarm::Alarm;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

pub use nut_driver::link::{Exchange, Framer, Reply, Timeouts};

/// How to open a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerialConfig {
    /// The device path (ups.conf `port`).
    pub path: String,
    /// Line speed in bits per second.
    pub speed: u32,
    /// Take the exclusive lock (false with the `nolock` flag).
    pub lock: bool,
    /// Set (`Some(true)`) or clear (`Some(false)`) DTR after opening.
    pub dtr: Option<bool>,
    /// Set or clear RTS after opening.
    pub rts: Option<bool>,
}

impl SerialConfig {
    /// The port of a driver's configuration (`port`, `nolock`) at `speed`.
    pub fn from_driver(cfg: &DriverConfig, speed: u32) -> Self {
        Self {
            path: cfg.port.clone(),
            speed,
            lock: !cfg.nolock,
            dtr: None,
            rts: None,
        }
    }
}

/// The modem status lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModemLines {
    /// Clear To Send.
    pub cts: bool,
    /// Data Set Ready.
    pub dsr: bool,
    /// Data Carrier Detect.
    pub dcd: bool,
    /// Ring Indicator.
    pub ri: bool,
}

/// A serial port (closed until [`Transport::open`] or [`SerialPort::open_now`]).
#[derive(Debug)]
pub struct SerialPort {
    cfg: SerialConfig,
    fd: Option<AsyncFd<File>>,
    /// The deadline of a read or write: the driver loop's timer once it is lent
    /// ([`Transport::lend_alarm`]), until then one of the port's own, made when first
    /// needed. Kept across reopens.
    alarm: Option<Rc<Alarm>>,
    /// Whether `alarm` is the loop's, which re-arms it after every exchange: then a
    /// deadline left set costs nothing and is not disarmed.
    lent: bool,
}

/// The termios speed for `bps`, if the kernel has one.
pub fn baud_rate(bps: u32) -> Option<BaudRate> {
    use BaudRate::*;
    Some(match bps {
        50 => B50,
        75 => B75,
        110 => B110,
        134 => B134,
        150 => B150,
        200 => B200,
        300 => B300,
        600 => B600,
        1200 => B1200,
        1800 => B1800,
        2400 => B2400,
        4800 => B4800,
        9600 => B9600,
        19200 => B19200,
        38400 => B38400,
        57600 => B57600,
        115200 => B115200,
        230400 => B230400,
        460800 => B460800,
        _ => return None,
    })
}

fn errno_of(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

impl SerialPort {
    /// A port to be opened with `cfg`.
    pub fn new(cfg: SerialConfig) -> Self {
        Self {
            cfg,
            fd: None,
            alarm: None,
            lent: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SerialConfig {
        &self.cfg
    }

    /// Whether the port is open.
    pub fn is_open(&self) -> bool {
        self.fd.is_some()
    }

    /// Open, lock and configure the port now (needs a tokio runtime with I/O enabled).
    pub fn open_now(&mut self) -> Result<(), DriverError> {
        self.fd = None;
        let path = &self.cfg.path;
        let speed = baud_rate(self.cfg.speed).ok_or_else(|| {
            DriverError::Config(format!("Unsupported serial speed: {}", self.cfg.speed))
        })?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_EXCL | libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| open_error(path, &e))?;
        if self.cfg.lock {
            // SAFETY: flock on a descriptor we own; no memory is passed.
            let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if r != 0 {
                return Err(DriverError::Config(format!(
                    "{path} is locked by another process"
                )));
            }
        }
        let mut tio = termios::tcgetattr(&file)
            .map_err(|e| DriverError::io(format!("tcgetattr({path})"), e.into()))?;
        tio.control_flags = ControlFlags::CS8 | ControlFlags::CLOCAL | ControlFlags::CREAD;
        tio.input_flags = InputFlags::IGNPAR;
        tio.output_flags = OutputFlags::empty();
        tio.local_flags = LocalFlags::empty();
        tio.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        tio.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
        termios::cfsetispeed(&mut tio, speed)
            .and_then(|()| termios::cfsetospeed(&mut tio, speed))
            .map_err(|e| DriverError::io(format!("cfsetspeed({path})"), e.into()))?;
        let _ = termios::tcflush(&file, FlushArg::TCIFLUSH);
        termios::tcsetattr(&file, SetArg::TCSANOW, &tio)
            .map_err(|e| DriverError::io(format!("tcsetattr({path})"), e.into()))?;
        // Readable only: see [`SerialPort::write_all`].
        // SAFETY: the AsyncFd owns the file, so the descriptor stays open and the same
        // while registered.
        let fd = unsafe { AsyncFd::register_with_interest(file, Interest::READABLE) }
            .map_err(|e| DriverError::io(format!("poll {path}"), io::Error::from(e)))?;
        self.fd = Some(fd);
        if let Some(on) = self.cfg.dtr {
            self.set_dtr(on)?;
        }
        if let Some(on) = self.cfg.rts {
            self.set_rts(on)?;
        }
        nut_driver::debug!(1, "Opened {path} at {} bps", self.cfg.speed);
        Ok(())
    }

    fn file(&self) -> Result<&AsyncFd<File>, DriverError> {
        self.fd
            .as_ref()
            .ok_or_else(|| DriverError::Disconnected(format!("{} is not open", self.cfg.path)))
    }

    /// Discard what the device sent and nobody read (`ser_flush_in`).
    pub fn flush_input(&self) -> Result<(), DriverError> {
        let fd = self.file()?;
        termios::tcflush(fd.get_ref(), FlushArg::TCIFLUSH)
            .map_err(|e| DriverError::io(format!("tcflush({})", self.cfg.path), e.into()))
    }

    /// Discard both directions (`ser_flush_io`).
    pub fn flush_io(&self) -> Result<(), DriverError> {
        let fd = self.file()?;
        termios::tcflush(fd.get_ref(), FlushArg::TCIOFLUSH)
            .map_err(|e| DriverError::io(format!("tcflush({})", self.cfg.path), e.into()))
    }

    /// Write all of `bytes` within `timeout`.
    ///
    /// A plain non-blocking `write`: the port is registered for readability only (an
    /// interest in writability would wake the loop once per request, when the device has
    /// drained it), so only a full output queue (`EAGAIN`) waits for room, on a duplicate
    /// descriptor registered for writability for just that wait.
    pub async fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), DriverError> {
        let end = Instant::now() + timeout;
        let result = self.write_until(bytes, end).await;
        self.disarm()?;
        result
    }

    async fn write_until(&mut self, bytes: &[u8], end: Instant) -> Result<(), DriverError> {
        let Self { cfg, fd, alarm, .. } = self;
        let path = &cfg.path;
        let fd = fd
            .as_ref()
            .ok_or_else(|| DriverError::Disconnected(format!("{path} is not open")))?;
        let mut sent = 0;
        let mut room: Option<AsyncFd<File>> = None;
        while sent < bytes.len() {
            match fd.get_ref().write(&bytes[sent..]) {
                Ok(0) => {
                    return Err(DriverError::Disconnected(format!("{path}: write failed")));
                }
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if room.is_none() {
                        let dup = fd
                            .get_ref()
                            .try_clone()
                            .map_err(|e| DriverError::io(format!("write to {path}"), e))?;
                        // SAFETY: the AsyncFd owns the duplicate, so it stays open and the
                        // same while registered.
                        let registered =
                            unsafe { AsyncFd::register_with_interest(dup, Interest::WRITABLE) };
                        room = Some(registered.map_err(|e| {
                            DriverError::io(format!("write to {path}"), io::Error::from(e))
                        })?);
                    }
                    let Some(room) = room.as_ref() else {
                        continue;
                    };
                    tokio::select! {
                        biased;
                        ready = room.writable() => {
                            let mut guard = ready
                                .map_err(|e| DriverError::io(format!("write to {path}"), e))?;
                            // The next write says whether there is room now.
                            guard.clear_ready();
                        }
                        rang = ring_at(alarm, end) => {
                            rang.map_err(|e| DriverError::io(format!("write to {path}"), e))?;
                            return Err(DriverError::Timeout(format!("write to {path}")));
                        }
                    }
                }
                Err(e) => return Err(DriverError::io(format!("write to {path}"), e)),
            }
        }
        Ok(())
    }

    /// Read one reply framed by `reply`. No byte in time is a [`DriverError::Timeout`];
    /// part of a reply is a [`DriverError::Protocol`] error (a short reply); a port that
    /// went away is an I/O error that makes the framework reopen it.
    ///
    /// The timeouts are a timerfd ([`Alarm`]: the driver loop's once lent, else the port's
    /// own, disarmed before returning), armed only when a wait is needed: a tokio timer
    /// would wake the runtime once more per read (its registration signals the runtime's
    /// eventfd).
    pub async fn read_reply(&mut self, reply: Reply, t: Timeouts) -> Result<Vec<u8>, DriverError> {
        let result = self.read_until(reply, t).await;
        self.disarm()?;
        result
    }

    async fn read_until(&mut self, reply: Reply, t: Timeouts) -> Result<Vec<u8>, DriverError> {
        let Self { cfg, fd, alarm, .. } = self;
        let path = &cfg.path;
        let fd = fd
            .as_ref()
            .ok_or_else(|| DriverError::Disconnected(format!("{path} is not open")))?;
        let mut framer = Framer::new(reply);
        let end = Instant::now() + t.total;
        let mut chunk = [0u8; 64];
        while !framer.is_done() {
            let deadline = end.min(Instant::now() + t.gap);
            let mut guard = tokio::select! {
                biased;
                ready = fd.readable() => {
                    ready.map_err(|e| DriverError::io(format!("read from {path}"), e))?
                }
                rang = ring_at(alarm, deadline) => {
                    rang.map_err(|e| DriverError::io(format!("read from {path}"), e))?;
                    return Err(if framer.bytes().is_empty() {
                        DriverError::Timeout(format!("read from {path}"))
                    } else {
                        DriverError::Protocol(format!(
                            "short reply from {path}: {:?}",
                            String::from_utf8_lossy(framer.bytes())
                        ))
                    });
                }
            };
            match guard.get_inner().read(&mut chunk) {
                Ok(0) => {
                    return Err(DriverError::Disconnected(format!("{path}: hang-up")));
                }
                Ok(n) => {
                    if n < chunk.len() {
                        // Drained: the next byte is a new event. Without this, the next
                        // exchange would start with a read that returns EAGAIN.
                        guard.clear_ready();
                    }
                    // Whatever follows the end of the reply is dropped, as NUT does.
                    framer.push(&chunk[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
                Err(e) => return Err(DriverError::io(format!("read from {path}"), e)),
            }
        }
        Ok(framer.into_bytes())
    }

    /// Disarm the port's own alarm after an exchange, so that an unused deadline never
    /// wakes the driver. The loop's alarm is left as it is: the loop sets its next deadline
    /// right after.
    fn disarm(&mut self) -> Result<(), DriverError> {
        match self.alarm.as_ref() {
            Some(alarm) if !self.lent && alarm.deadline().is_some() => alarm
                .set(None)
                .map_err(|e| DriverError::io(format!("timer of {}", self.cfg.path), e)),
            _ => Ok(()),
        }
    }

    /// One exchange: drop stale input, send `request`, read the reply.
    pub async fn query(
        &mut self,
        request: &[u8],
        reply: Reply,
        t: Timeouts,
    ) -> Result<Vec<u8>, DriverError> {
        self.flush_input()?;
        self.write_all(request, t.total).await?;
        self.read_reply(reply, t).await
    }

    fn modem_ioctl(&self, request: libc::c_ulong, bits: &mut libc::c_int) -> io::Result<()> {
        let fd = self
            .file()
            .map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
        // SAFETY: TIOCMBIS/TIOCMBIC/TIOCMGET take a pointer to an int, which `bits` is.
        let r = unsafe { libc::ioctl(fd.get_ref().as_raw_fd(), request, bits as *mut libc::c_int) };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    fn set_line(&self, line: libc::c_int, name: &str, on: bool) -> Result<(), DriverError> {
        let mut bits = line;
        let request = if on { libc::TIOCMBIS } else { libc::TIOCMBIC };
        match self.modem_ioctl(request, &mut bits) {
            Ok(()) => Ok(()),
            Err(e) if matches!(errno_of(&e), libc::ENOTTY | libc::EINVAL) => {
                nut_driver::debug!(
                    1,
                    "{}: no modem lines, {name} not {}: {e}",
                    self.cfg.path,
                    if on { "set" } else { "cleared" }
                );
                Ok(())
            }
            Err(e) => Err(DriverError::io(
                format!("set {name} on {}", self.cfg.path),
                e,
            )),
        }
    }

    /// Set (`true`) or clear DTR (`ser_set_dtr`).
    pub fn set_dtr(&self, on: bool) -> Result<(), DriverError> {
        self.set_line(libc::TIOCM_DTR, "DTR", on)
    }

    /// Set (`true`) or clear RTS (`ser_set_rts`).
    pub fn set_rts(&self, on: bool) -> Result<(), DriverError> {
        self.set_line(libc::TIOCM_RTS, "RTS", on)
    }

    /// Read CTS, DSR, DCD and RI (`ser_get_cts` …); a device without modem lines is an
    /// [`DriverError::Unsupported`] error.
    pub fn modem_lines(&self) -> Result<ModemLines, DriverError> {
        let mut bits: libc::c_int = 0;
        match self.modem_ioctl(libc::TIOCMGET, &mut bits) {
            Ok(()) => Ok(ModemLines {
                cts: bits & libc::TIOCM_CTS != 0,
                dsr: bits & libc::TIOCM_DSR != 0,
                dcd: bits & libc::TIOCM_CAR != 0,
                ri: bits & libc::TIOCM_RNG != 0,
            }),
            Err(e) if matches!(errno_of(&e), libc::ENOTTY | libc::EINVAL) => Err(
                DriverError::Unsupported(format!("{}: no modem lines: {e}", self.cfg.path)),
            ),
            Err(e) => Err(DriverError::io(
                format!("read modem lines of {}", self.cfg.path),
                e,
            )),
        }
    }
}

/// Arm `alarm` for `at` and wait for it. Only polled when the descriptor is not ready, so
/// an exchange whose reply is already there never touches the timer.
async fn ring_at(alarm: &mut Option<Rc<Alarm>>, at: Instant) -> io::Result<()> {
    let alarm = match alarm {
        Some(alarm) => alarm,
        None => alarm.insert(Rc::new(Alarm::new()?)),
    };
    alarm.set(Some(at))?;
    alarm.ring().await
}

/// NUT's `ser_open_error`: what failed and what to try.
fn open_error(path: &str, e: &io::Error) -> DriverError {
    let why = nut_driver::process::strerror(e);
    let mut text = format!("Unable to open {path}: {why}\n\nThings to try:\n\n");
    if std::fs::metadata(path).is_err() {
        text.push_str(" - Check 'port=' in ups.conf\n\n");
        text.push_str(" - Check owner/permissions of all parts of path\n\n");
    } else {
        text.push_str(" - Use another port (with the right permissions)\n\n");
        text.push_str(" - Fix the port owner/group or permissions on this port\n\n");
        text.push_str(
            " - Run this driver as another user (upsdrvctl -u or 'user=...' in ups.conf).\n",
        );
        text.push_str("   See upsdrvctl(8) and ups.conf(5).\n\n");
    }
    text.push_str("Fatal error: unusable configuration");
    DriverError::Config(text)
}

impl Exchange for SerialPort {
    async fn exchange(
        &mut self,
        request: &[u8],
        reply: Reply,
        timeouts: Timeouts,
    ) -> Result<Vec<u8>, DriverError> {
        self.query(request, reply, timeouts).await
    }
}

impl Transport for SerialPort {
    async fn open(&mut self) -> Result<(), DriverError> {
        self.open_now()
    }

    fn close(&mut self) {
        // Closing the descriptor releases the lock.
        self.fd = None;
    }

    fn lend_alarm(&mut self, alarm: Rc<Alarm>) {
        self.alarm = Some(alarm);
        self.lent = true;
    }
}
