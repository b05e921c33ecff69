//! `nut-serial`: the serial transport of nut-rs hardware drivers (NUT's `drivers/serial.c`).
//!
//! A [`SerialPort`] opens its port the way NUT 2.8.0's drivers do — `O_RDWR | O_NOCTTY |
//! O_EXCL | O_NONBLOCK`, then an exclusive `flock` unless `nolock` is set (a second driver
//! on the same port fails with `<port> is locked by another process`), then raw 8N1 at the
//! configured speed (`CS8 | CLOCAL | CREAD`, `IGNPAR`, `VMIN = 1`, `VTIME = 0`, input
//! flushed) — and implements [`nut_driver::Transport`], so the framework opens it before
//! `init_info` and reopens it after a lost device.
//!
//! An exchange is a bounded synchronous operation on the calling (driver loop) thread, as
//! in NUT's drivers, which block in `select` during a command: [`SerialPort::query`]
//! flushes stale input, writes a request and reads the reply framed by a [`Reply`] (an end
//! byte with ignored bytes and a maximum length, or a fixed length), each read bounded by a
//! per-read gap and the whole by a total timeout, so a silent device costs a bounded wait
//! and never a hung driver. The port stays non-blocking and the waits are `poll(2)` with
//! the time left as its timeout: no timer and no reactor registration, so a steady
//! exchange is `TCFLSH`, `write`, `poll`, `read`. The driver loop does not serve its
//! socket during a poll anyway (connections only buffer), so nothing is lost by not
//! yielding. The framing itself is pure ([`Framer`]); [`Exchange`] (the framework's
//! request/reply seam, async for the links that need it) is implemented by `query`, as a
//! future that completes when first polled.
//!
//! Modem lines: DTR and RTS can be set or cleared; on a device without modem lines (a
//! pseudo-terminal, some USB adapters) the kernel answers ENOTTY or EINVAL, which is
//! logged at debug level and ignored, as NUT effectively does (it does not check).

use std::fs::File;
use std::io::{self, Read as _, Write as _};
use std::os::fd::{AsFd as _, AsRawFd as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::termios::{
    self, BaudRate, ControlFlags, FlushArg, InputFlags, LocalFlags, OutputFlags, SetArg,
    SpecialCharacterIndices,
};
use nut_driver::{DriverConfig, DriverError, Transport};
use std::time::Instant;

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
    /// The open port (non-blocking).
    fd: Option<File>,
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
        Self { cfg, fd: None }
    }

    /// The configuration.
    pub fn config(&self) -> &SerialConfig {
        &self.cfg
    }

    /// Whether the port is open.
    pub fn is_open(&self) -> bool {
        self.fd.is_some()
    }

    /// Open, lock and configure the port now.
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
        self.fd = Some(file);
        if let Some(on) = self.cfg.dtr {
            self.set_dtr(on)?;
        }
        if let Some(on) = self.cfg.rts {
            self.set_rts(on)?;
        }
        nut_driver::debug!(1, "Opened {path} at {} bps", self.cfg.speed);
        Ok(())
    }

    fn file(&self) -> Result<&File, DriverError> {
        self.fd
            .as_ref()
            .ok_or_else(|| DriverError::Disconnected(format!("{} is not open", self.cfg.path)))
    }

    /// Discard what the device sent and nobody read (`ser_flush_in`).
    pub fn flush_input(&self) -> Result<(), DriverError> {
        let fd = self.file()?;
        termios::tcflush(fd, FlushArg::TCIFLUSH)
            .map_err(|e| DriverError::io(format!("tcflush({})", self.cfg.path), e.into()))
    }

    /// Discard both directions (`ser_flush_io`).
    pub fn flush_io(&self) -> Result<(), DriverError> {
        let fd = self.file()?;
        termios::tcflush(fd, FlushArg::TCIOFLUSH)
            .map_err(|e| DriverError::io(format!("tcflush({})", self.cfg.path), e.into()))
    }

    /// Write all of `bytes` within `timeout`: a plain non-blocking `write`; only a full
    /// output queue (`EAGAIN`) waits for room, in `poll(2)` until the timeout.
    pub fn write_all(&self, bytes: &[u8], timeout: Duration) -> Result<(), DriverError> {
        let end = Instant::now() + timeout;
        let path = &self.cfg.path;
        let mut fd = self.file()?;
        let mut sent = 0;
        while sent < bytes.len() {
            match fd.write(&bytes[sent..]) {
                Ok(0) => {
                    return Err(DriverError::Disconnected(format!("{path}: write failed")));
                }
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // The next write says whether there is room now.
                    if !wait_until(fd, PollFlags::POLLOUT, end)
                        .map_err(|e| DriverError::io(format!("write to {path}"), e))?
                    {
                        return Err(DriverError::Timeout(format!("write to {path}")));
                    }
                }
                Err(e) => return Err(DriverError::io(format!("write to {path}"), e)),
            }
        }
        Ok(())
    }

    /// Read one reply framed by `reply` into `answer` (emptied first; on an error it holds
    /// what came). No byte in time is a [`DriverError::Timeout`]; part of a reply is a
    /// [`DriverError::Protocol`] error (a short reply); a port that went away is an I/O
    /// error that makes the framework reopen it.
    ///
    /// Each wait is one `poll(2)` whose timeout is the time left (the gap, within the
    /// total): no timer to arm or disarm.
    pub fn read_reply(
        &self,
        reply: Reply,
        t: Timeouts,
        answer: &mut Vec<u8>,
    ) -> Result<(), DriverError> {
        let mut framer = Framer::reusing(reply, std::mem::take(answer));
        let read = self.frame_reply(&mut framer, t);
        *answer = framer.into_bytes();
        read
    }

    fn frame_reply(&self, framer: &mut Framer, t: Timeouts) -> Result<(), DriverError> {
        let path = &self.cfg.path;
        let mut fd = self.file()?;
        let end = Instant::now() + t.total;
        let mut chunk = [0u8; 64];
        while !framer.is_done() {
            let deadline = end.min(Instant::now() + t.gap);
            if !wait_until(fd, PollFlags::POLLIN, deadline)
                .map_err(|e| DriverError::io(format!("read from {path}"), e))?
            {
                return Err(if framer.bytes().is_empty() {
                    DriverError::Timeout(format!("read from {path}"))
                } else {
                    DriverError::Protocol(format!(
                        "short reply from {path}: {:?}",
                        String::from_utf8_lossy(framer.bytes())
                    ))
                });
            }
            match fd.read(&mut chunk) {
                Ok(0) => {
                    return Err(DriverError::Disconnected(format!("{path}: hang-up")));
                }
                // Whatever follows the end of the reply is dropped, as NUT does.
                Ok(n) => {
                    framer.push(&chunk[..n]);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                    ) => {}
                Err(e) => return Err(DriverError::io(format!("read from {path}"), e)),
            }
        }
        Ok(())
    }

    /// One exchange: drop stale input, send `request`, read the reply into `answer` (as
    /// [`read_reply`](Self::read_reply)).
    pub fn query(
        &self,
        request: &[u8],
        reply: Reply,
        t: Timeouts,
        answer: &mut Vec<u8>,
    ) -> Result<(), DriverError> {
        self.flush_input()?;
        self.write_all(request, t.total)?;
        self.read_reply(reply, t, answer)
    }

    fn modem_ioctl(&self, request: libc::c_ulong, bits: &mut libc::c_int) -> io::Result<()> {
        let fd = self
            .file()
            .map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
        // SAFETY: TIOCMBIS/TIOCMBIC/TIOCMGET take a pointer to an int, which `bits` is.
        let r = unsafe { libc::ioctl(fd.as_raw_fd(), request, bits as *mut libc::c_int) };
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

/// Wait in `poll(2)` until `fd` has one of `events` (or an error or hang-up, which the
/// next read or write reports) or `deadline` passes: false on the deadline. The timeout is
/// rounded up to whole milliseconds, so a wait never ends before its deadline.
fn wait_until(fd: &File, events: PollFlags, deadline: Instant) -> io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = i32::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX);
        let mut fds = [PollFd::new(fd.as_fd(), events)];
        match poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
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
        answer: &mut Vec<u8>,
    ) -> Result<(), DriverError> {
        self.query(request, reply, timeouts, answer)
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
}
