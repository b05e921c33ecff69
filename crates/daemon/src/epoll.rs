//! A level-triggered epoll set: the few calls a loop that waits on its own descriptors needs
//! (a driver's loop: its socket, its clients, a signalfd and a wake-up eventfd).
//!
//! Level-triggered, as `select`/`poll` in NUT's loops: a descriptor that still has data is
//! reported again by the next wait, so a loop may read only part of what is there.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Instant;

/// What a registration waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    /// Data to read (or a connection to accept, a hang-up, an error).
    Read,
    /// Data to read or room to write.
    ReadWrite,
}

impl Interest {
    fn bits(self) -> u32 {
        match self {
            Interest::Read => libc::EPOLLIN as u32,
            Interest::ReadWrite => (libc::EPOLLIN | libc::EPOLLOUT) as u32,
        }
    }
}

/// One readiness report: the key the descriptor was registered with, and what it is ready
/// for. The kernel's own record, so a wait fills the caller's buffer directly.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Ready(libc::epoll_event);

impl std::fmt::Debug for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ready")
            .field("key", &self.key())
            .field("bits", &self.bits())
            .finish()
    }
}

impl Ready {
    /// The key given to [`Epoll::add`].
    pub fn key(self) -> u64 {
        self.0.u64
    }

    fn bits(self) -> u32 {
        self.0.events
    }

    /// Readable, or hung up / in error (a read then tells which).
    pub fn readable(self) -> bool {
        self.bits() & (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLRDHUP) as u32
            != 0
    }

    /// Writable, or in error (a write then tells which).
    pub fn writable(self) -> bool {
        self.bits() & (libc::EPOLLOUT | libc::EPOLLERR) as u32 != 0
    }
}

/// An epoll set. Clones share the set (a loop and the server registering its clients in it).
#[derive(Clone, Debug)]
pub struct Epoll {
    fd: Arc<OwnedFd>,
}

impl Epoll {
    /// A new, empty, close-on-exec set.
    pub fn new() -> io::Result<Self> {
        // SAFETY: plain system call; the result is checked.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a new descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self { fd: Arc::new(fd) })
    }

    /// Watch `fd` for `interest`, reported with `key`.
    pub fn add(&self, fd: RawFd, key: u64, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, key, interest)
    }

    /// Change what `fd` is watched for.
    pub fn modify(&self, fd: RawFd, key: u64, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, key, interest)
    }

    /// Stop watching `fd` (closing it does that too, once no duplicate is left open).
    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: a null event is allowed for EPOLL_CTL_DEL since Linux 2.6.9.
        let r = unsafe {
            libc::epoll_ctl(
                self.fd.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, key: u64, interest: Interest) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: interest.bits(),
            u64: key,
        };
        // SAFETY: `event` outlives the call; the kernel checks both descriptors.
        if unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut event) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Wait until a descriptor is ready or `deadline` passes (`None`: no deadline; a
    /// deadline already passed: only look), and put what is ready into `out` (cleared
    /// first, at most its capacity, at least one). Never returns before the deadline
    /// without something ready: the timeout is rounded up to the millisecond. A signal
    /// interrupting the wait counts as nothing ready.
    pub fn wait(&self, out: &mut Vec<Ready>, deadline: Option<Instant>) -> io::Result<()> {
        out.clear();
        let timeout = match deadline {
            None => -1,
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now());
                // Rounded up: waking before the deadline would only mean waiting again.
                let ms = left.as_nanos().div_ceil(1_000_000);
                i32::try_from(ms).unwrap_or(i32::MAX)
            }
        };
        if out.capacity() == 0 {
            out.reserve(1);
        }
        let room = out.spare_capacity_mut();
        let max = room.len();
        // SAFETY: the kernel writes at most `max` entries, the spare capacity, each an
        // `epoll_event`, which `Ready` wraps transparently.
        let n = unsafe {
            libc::epoll_wait(
                self.fd.as_raw_fd(),
                room.as_mut_ptr().cast(),
                libc::c_int::try_from(max).unwrap_or(libc::c_int::MAX),
                timeout,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(e)
            };
        }
        // SAFETY: the first `n` entries were written by the kernel.
        unsafe { out.set_len(n as usize) };
        Ok(())
    }
}

impl AsRawFd for Epoll {
    /// The set's own descriptor: readable while something in it is ready (so another loop
    /// can wait on the whole set).
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    use super::*;

    #[test]
    fn reports_what_is_ready_with_its_key_until_it_is_read() {
        let epoll = Epoll::new().unwrap();
        let (mut a, b) = UnixStream::pair().unwrap();
        epoll.add(b.as_raw_fd(), 7, Interest::Read).unwrap();
        let mut out = Vec::with_capacity(8);
        epoll
            .wait(&mut out, Some(Instant::now() + Duration::from_millis(1)))
            .unwrap();
        assert!(out.is_empty(), "nothing was sent: {out:?}");
        a.write_all(b"x").unwrap();
        epoll.wait(&mut out, None).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].key(), 7);
        assert!(out[0].readable() && !out[0].writable());
        // Level-triggered: still unread, so reported again.
        epoll.wait(&mut out, Some(Instant::now())).unwrap();
        assert_eq!(out.len(), 1);
        epoll.modify(b.as_raw_fd(), 8, Interest::ReadWrite).unwrap();
        epoll.wait(&mut out, Some(Instant::now())).unwrap();
        assert!(out[0].key() == 8 && out[0].writable());
        epoll.delete(b.as_raw_fd()).unwrap();
        epoll.wait(&mut out, Some(Instant::now())).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn does_not_return_before_the_deadline_with_nothing_ready() {
        let epoll = Epoll::new().unwrap();
        let mut out = Vec::with_capacity(1);
        let at = Instant::now() + Duration::from_micros(1500);
        epoll.wait(&mut out, Some(at)).unwrap();
        assert!(out.is_empty());
        assert!(Instant::now() >= at, "woke before the deadline");
    }
}
