//! systemd's side of `sd_notify`: a `NOTIFY_SOCKET` datagram socket with `SO_PASSCRED`, so
//! that each message comes with the PID that sent it and a test can apply `NotifyAccess=main`
//! the way systemd does (systemd ignores messages from any other process; tests flag them).
//! A thread receives every datagram; tests wait for one with a deadline.

use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};

/// One datagram.
#[derive(Clone, Debug)]
pub struct Notification {
    /// The sender's PID, from the kernel's credentials.
    pub pid: Option<i32>,
    /// The raw text (`READY=1\nSTATUS=…\n`).
    pub text: String,
    /// When the receiving thread got it.
    pub received: Instant,
}

impl Notification {
    /// Whether the message has the assignment `key=value`.
    pub fn has(&self, key: &str, value: &str) -> bool {
        self.text
            .lines()
            .any(|l| l.split_once('=') == Some((key, value)))
    }

    /// Whether one line of the message is exactly `line` (e.g. `READY=1`).
    pub fn has_line(&self, line: &str) -> bool {
        self.text.lines().any(|l| l == line)
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.text
            .lines()
            .find_map(|l| l.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
    }
}

/// The socket and everything received on it so far.
pub struct NotifySocket {
    path: PathBuf,
    received: Arc<Mutex<Vec<Notification>>>,
    stop: Arc<AtomicBool>,
}

impl NotifySocket {
    /// Bind `dir/notify.sock` (world-writable, as systemd's, because daemons that dropped
    /// privileges still notify) and start receiving.
    pub fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path)
            .unwrap_or_else(|e| panic!("cannot bind {}: {e}", path.display()));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
        setsockopt(&socket, sockopt::PassCred, &true).expect("SO_PASSCRED");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (sink, stopped) = (Arc::clone(&received), Arc::clone(&stop));
        std::thread::spawn(move || receive(socket, sink, stopped));
        NotifySocket {
            path,
            received,
            stop,
        }
    }

    /// The value for `NOTIFY_SOCKET`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Everything received so far.
    pub fn all(&self) -> Vec<Notification> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many messages have arrived (to wait for something *after* this point).
    pub fn count(&self) -> usize {
        self.all().len()
    }

    /// The first message at index >= `from` that satisfies `pred`, with its index; polls
    /// until `timeout`. `None` on timeout.
    pub fn wait(
        &self,
        from: usize,
        timeout: Duration,
        pred: impl Fn(&Notification) -> bool,
    ) -> Option<(usize, Notification)> {
        crate::poll_until(timeout, || {
            self.all()
                .into_iter()
                .enumerate()
                .skip(from)
                .find(|(_, n)| pred(n))
        })
    }

    /// The first message at index >= `from` with the line `line` (e.g. `READY=1`), with its
    /// index; waits up to `timeout`, then fails the test showing every message received and
    /// what `context` returns then (e.g. the daemon's output).
    pub fn expect_line(
        &self,
        from: usize,
        line: &str,
        timeout: Duration,
        context: impl FnOnce() -> String,
    ) -> (usize, Notification) {
        self.wait(from, timeout, |n| n.has_line(line))
            .unwrap_or_else(|| {
                panic!(
                    "nut-harness: no sd_notify {line} (from message {from}) within {timeout:?}\n\
                     received:\n{}{}",
                    self.transcript(),
                    context()
                )
            })
    }

    /// Every message so far, one per line, for failure messages.
    pub fn transcript(&self) -> String {
        self.all()
            .iter()
            .map(|n| format!("  pid {:?}: {:?}\n", n.pid, n.text))
            .collect()
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::fs::remove_file(&self.path);
    }
}

fn receive(socket: UnixDatagram, sink: Arc<Mutex<Vec<Notification>>>, stop: Arc<AtomicBool>) {
    let mut buf = vec![0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let mut cmsg = nix::cmsg_space!(nix::sys::socket::UnixCredentials);
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let (len, pid) = match recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        ) {
            Ok(msg) => {
                let pid = msg.cmsgs().ok().and_then(|mut c| {
                    c.find_map(|m| match m {
                        ControlMessageOwned::ScmCredentials(cred) => Some(cred.pid()),
                        _ => None,
                    })
                });
                (msg.bytes, pid)
            }
            Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        };
        let text = String::from_utf8_lossy(&buf[..len]).into_owned();
        sink.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Notification {
                pid,
                text,
                received: Instant::now(),
            });
    }
}
