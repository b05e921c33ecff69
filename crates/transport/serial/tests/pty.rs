//! The serial transport on real pseudo-terminals: the test holds the master side (the
//! "device") and the transport opens the slave path like a serial port.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::pty::openpty;
use nix::sys::termios::{self, BaudRate, ControlFlags, LocalFlags};
use nut_driver::{DriverError, Transport as _};
use nut_serial::{Reply, SerialConfig, SerialPort, Timeouts};

const Q1_REPLY: &[u8] = b"(230.0 230.0 230.0 012 50.0 13.6 25.0 00001001\r";

struct Pty {
    master: File,
    /// Kept open so the line stays up and its input queue can be inspected.
    slave: OwnedFd,
    path: String,
}

fn pty() -> Pty {
    let p = openpty(None, None).expect("openpty");
    let path = nix::unistd::ttyname(&p.slave)
        .expect("ttyname")
        .to_string_lossy()
        .into_owned();
    Pty {
        master: File::from(p.master),
        slave: p.slave,
        path,
    }
}

fn config(path: &str) -> SerialConfig {
    SerialConfig {
        path: path.to_owned(),
        speed: 2400,
        lock: true,
        dtr: Some(true),
        rts: Some(false),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A device on the master side: answers each request ending in `\r` with the next reply
/// (None: stays silent), and returns the requests it saw.
fn device(master: &File, replies: Vec<Option<&'static [u8]>>) -> JoinHandle<Vec<Vec<u8>>> {
    let mut master = master.try_clone().expect("dup master");
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for reply in replies {
            let mut req = Vec::new();
            let mut b = [0u8; 1];
            while master.read_exact(&mut b).is_ok() {
                if b[0] == b'\r' {
                    break;
                }
                req.push(b[0]);
            }
            seen.push(req);
            if let Some(r) = reply {
                master.write_all(r).expect("device writes");
            }
        }
        seen
    })
}

/// Generous: the device is a thread that must answer in time on a loaded machine.
const T: Timeouts = Timeouts {
    gap: Duration::from_secs(3),
    total: Duration::from_secs(5),
};

#[test]
fn query_round_trip_over_raw_8n1_at_the_configured_speed() {
    let p = pty();
    let rt = runtime();
    let dev = device(
        &p.master,
        vec![Some(Q1_REPLY), Some(b"#UPS-MAKER  MODEL 1KVA 1.0\r")],
    );
    rt.block_on(async {
        let mut port = SerialPort::new(config(&p.path));
        port.open().await.expect("opens");
        let tio = termios::tcgetattr(&p.slave).expect("tcgetattr");
        assert!(
            tio.control_flags
                .contains(ControlFlags::CS8 | ControlFlags::CLOCAL | ControlFlags::CREAD)
        );
        assert!(
            !tio.control_flags
                .contains(ControlFlags::PARENB | ControlFlags::CSTOPB)
        );
        assert!(
            !tio.local_flags
                .intersects(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG)
        );
        assert_eq!(termios::cfgetispeed(&tio), BaudRate::B2400);
        assert_eq!(termios::cfgetospeed(&tio), BaudRate::B2400);
        let line = Reply::Terminated {
            end: b'\r',
            ignore: b"\n",
            max: 128,
        };
        let mut r = Vec::new();
        port.query(b"Q1\r", line, T, &mut r).expect("reply");
        assert_eq!(r, &Q1_REPLY[..Q1_REPLY.len() - 1]);
        port.query(b"I\r", line, T, &mut r).expect("reply");
        assert_eq!(r, b"#UPS-MAKER  MODEL 1KVA 1.0");
    });
    assert_eq!(dev.join().unwrap(), vec![b"Q1".to_vec(), b"I".to_vec()]);
}

#[test]
fn a_second_open_of_a_locked_port_fails_with_nuts_message() {
    let p = pty();
    let rt = runtime();
    rt.block_on(async {
        let mut first = SerialPort::new(config(&p.path));
        first.open().await.expect("first open");
        let mut second = SerialPort::new(config(&p.path));
        let err = second.open().await.expect_err("locked");
        assert!(matches!(err, DriverError::Config(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("{} is locked by another process", p.path)
        );
        // nolock: no lock taken, no lock checked.
        let mut unlocked = SerialPort::new(SerialConfig {
            lock: false,
            ..config(&p.path)
        });
        unlocked.open().await.expect("nolock opens a locked port");
        // Closing releases the lock; the framework's reopen then works.
        first.close();
        second.open().await.expect("free again");
        first.open().await.expect_err("now held by the second");
    });
}

#[test]
fn silence_is_a_timeout_and_a_short_reply_a_protocol_error() {
    let p = pty();
    let rt = runtime();
    let dev = device(&p.master, vec![None, Some(b"(230.0 22")]);
    rt.block_on(async {
        let mut port = SerialPort::new(config(&p.path));
        port.open().await.expect("opens");
        let line = Reply::line(b'\r', 128);
        // Each wait for more bytes is bounded by the gap: silence ends after one gap, the
        // short reply one gap after its last byte.
        let quick = Timeouts {
            gap: Duration::from_secs(1),
            total: Duration::from_secs(3),
        };
        let mut r = Vec::new();
        let err = port
            .query(b"Q1\r", line, quick, &mut r)
            .expect_err("silence");
        assert!(matches!(err, DriverError::Timeout(_)), "{err:?}");
        assert!(err.is_comm_failure() && !err.needs_reconnect());
        let err = port.query(b"Q1\r", line, quick, &mut r).expect_err("short");
        assert!(
            matches!(err, DriverError::Protocol(ref m) if m.contains("(230.0 22")),
            "{err:?}"
        );
    });
    dev.join().unwrap();
}

#[test]
fn stale_input_is_flushed_before_a_request() {
    let p = pty();
    let rt = runtime();
    rt.block_on(async {
        let mut port = SerialPort::new(config(&p.path));
        port.open().await.expect("opens");
        // An unsolicited line is waiting in the port's input queue.
        (&p.master).write_all(b"junk from before\r").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while pending_input(&p.slave) == 0 {
            assert!(Instant::now() < deadline, "the junk never arrived");
            tokio::task::yield_now().await;
        }
        let dev = device(&p.master, vec![Some(Q1_REPLY)]);
        let mut r = Vec::new();
        port.query(b"Q1\r", Reply::line(b'\r', 128), T, &mut r)
            .expect("reply");
        assert_eq!(r, &Q1_REPLY[..Q1_REPLY.len() - 1]);
        dev.join().unwrap();
    });
}

fn pending_input(fd: &OwnedFd) -> libc::c_int {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut n) };
    assert_eq!(r, 0, "FIONREAD");
    n
}

#[test]
fn modem_lines_on_a_pty_are_tolerated_or_reported_unsupported() {
    let p = pty();
    let rt = runtime();
    rt.block_on(async {
        // config() sets DTR and clears RTS on open: a pty has no modem lines.
        let mut port = SerialPort::new(config(&p.path));
        port.open()
            .await
            .expect("DTR/RTS errors on a pty are not fatal");
        port.set_dtr(false).expect("tolerated");
        port.set_rts(true).expect("tolerated");
        let err = port.modem_lines().expect_err("a pty has none");
        assert!(matches!(err, DriverError::Unsupported(_)), "{err:?}");
    });
}

#[test]
fn open_errors_say_what_to_check() {
    let rt = runtime();
    rt.block_on(async {
        let mut port = SerialPort::new(config("/dev/nut-rs-no-such-port"));
        let err = port.open().await.expect_err("missing");
        let text = err.to_string();
        assert!(
            text.starts_with("Unable to open /dev/nut-rs-no-such-port: No such file or directory"),
            "{text}"
        );
        assert!(text.contains(" - Check 'port=' in ups.conf"), "{text}");
        assert!(
            text.ends_with("Fatal error: unusable configuration"),
            "{text}"
        );
        let mut odd = SerialPort::new(SerialConfig {
            speed: 12345,
            ..config("/dev/null")
        });
        assert_eq!(
            odd.open().await.expect_err("speed").to_string(),
            "Unsupported serial speed: 12345"
        );
    });
}

#[test]
fn a_vanished_device_is_an_error_that_asks_for_a_reopen() {
    let p = pty();
    let rt = runtime();
    rt.block_on(async {
        let mut port = SerialPort::new(config(&p.path));
        port.open().await.expect("opens");
        // The device end goes away (like a USB-serial adapter unplugged).
        drop(p.master);
        let err = port
            .query(b"Q1\r", Reply::line(b'\r', 64), T, &mut Vec::new())
            .expect_err("hang-up");
        assert!(err.needs_reconnect(), "{err:?}");
    });
}

/// The lock is the one NUT's drivers take: while we hold a port, Debian's NUT 2.8.0
/// `blazer_ser` refuses it with the same message our second open gives, and exits 1.
#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn debians_driver_sees_our_lock() {
    let p = pty();
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    rt.block_on(async {
        let mut port = SerialPort::new(config(&p.path));
        port.open().await.expect("opens");
        let out = std::process::Command::new("/lib/nut/blazer_ser")
            .args([
                "-s",
                "locktest",
                "-x",
                &format!("port={}", p.path),
                "-D",
                "-u",
                "root",
            ])
            .env("NUT_STATEPATH", dir.path())
            .env("NUT_ALTPIDPATH", dir.path())
            .env("NUT_CONFPATH", dir.path())
            .output()
            .expect("Debian's /lib/nut/blazer_ser (package nut-server) runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = format!("{} is locked by another process", p.path);
        assert!(
            stderr.lines().any(|l| l
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
                == expected),
            "blazer_ser said: {stderr}"
        );
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        let mut ours = SerialPort::new(config(&p.path));
        assert_eq!(ours.open().await.expect_err("locked").to_string(), expected);
    });
}

/// The port is registered for readability only, so a full output queue is waited out on a
/// descriptor registered for writability just then: bounded by the write timeout while the
/// device reads nothing, and completed once it reads again.
#[test]
fn a_full_output_queue_waits_for_room_within_the_timeout() {
    let p = pty();
    let rt = runtime();
    let big = vec![b'x'; 256 * 1024];
    rt.block_on(async {
        let mut port = SerialPort::new(config(&p.path));
        port.open().await.expect("opens");
        let err = port
            .write_all(&big, Duration::from_millis(300))
            .expect_err("nobody reads: the queue fills up");
        assert!(matches!(err, DriverError::Timeout(_)), "{err:?}");
        // The device reads again (what the failed write left included) up to the CR.
        let mut master = p.master.try_clone().expect("dup master");
        let reader = std::thread::spawn(move || {
            let mut total = 0usize;
            let mut buf = [0u8; 4096];
            loop {
                let n = master.read(&mut buf).expect("device reads");
                assert!(n > 0, "end of file before the CR");
                total += n;
                if buf[n - 1] == b'\r' {
                    return total;
                }
            }
        });
        let mut request = big.clone();
        request.push(b'\r');
        port.write_all(&request, Duration::from_secs(30))
            .expect("room again once the device reads");
        let got = reader.join().unwrap();
        assert!(got > request.len(), "the device got {got} bytes");
    });
}
