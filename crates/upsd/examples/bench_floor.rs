//! The benchmark's floor: a server that does nothing but the system calls any NUT server must
//! make for a closed-loop GET VAR — `epoll_wait`, one `read`, one `write` — and answers every
//! line with one fixed `VAR` reply. No parsing, no state, no allocation per request.
//!
//! `scripts/bench-upsd` measures it beside Debian's upsd and ours in the same run. Its rps is
//! the most any server can reach on that machine with that load generator, so "ours ÷ Debian"
//! can be read against "floor ÷ Debian": where the floor itself is level with Debian, the limit
//! is the machine (kernel TCP on loopback and the load generator sharing the cores), not upsd.
//!
//! Usage: `bench_floor PORT [SPIN_MICROS]` — listens on 127.0.0.1:PORT. With SPIN_MICROS, it
//! polls without sleeping for that long after each batch of work before it blocks again: the
//! busy-poll experiment documented in docs/benchmarks.md (upsd itself never spins).

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

const REPLY: &[u8] = b"VAR dummy ups.status \"OL CHRG\"\n";
const LISTENER: u64 = u64::MAX;

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| io::Error::other("usage: bench_floor PORT [SPIN_MICROS]"))?;
    let spin = Duration::from_micros(args.next().and_then(|s| s.parse().ok()).unwrap_or(0));
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    listener.set_nonblocking(true)?;
    let epoll = Epoll::new()?;
    epoll.add(listener.as_raw_fd(), LISTENER)?;

    let mut clients: Vec<Option<TcpStream>> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut out = Vec::with_capacity(16 * 1024);
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    let mut last_work = Instant::now();
    loop {
        let timeout = if !spin.is_zero() && last_work.elapsed() < spin {
            0
        } else {
            -1
        };
        let ready = epoll.wait(&mut events, timeout)?;
        if ready == 0 {
            continue;
        }
        for event in &events[..ready] {
            let key = event.u64;
            if key == LISTENER {
                while let Ok((stream, _)) = listener.accept() {
                    stream.set_nonblocking(true)?;
                    stream.set_nodelay(true)?;
                    let slot = clients.iter().position(Option::is_none).unwrap_or_else(|| {
                        clients.push(None);
                        clients.len() - 1
                    });
                    epoll.add(stream.as_raw_fd(), slot as u64)?;
                    clients[slot] = Some(stream);
                }
                continue;
            }
            let slot = key as usize;
            let Some(stream) = clients[slot].as_mut() else {
                continue;
            };
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => clients[slot] = None,
                Ok(n) => {
                    out.clear();
                    for _ in buf[..n].iter().filter(|&&b| b == b'\n') {
                        out.extend_from_slice(REPLY);
                    }
                    if stream.write_all(&out).is_err() {
                        clients[slot] = None;
                    }
                }
            }
        }
        last_work = Instant::now();
    }
}

/// The few epoll calls the floor needs (level-triggered, like upsd's `poll`).
struct Epoll(RawFd);

impl Epoll {
    fn new() -> io::Result<Self> {
        // SAFETY: plain syscall; the result is checked.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Self(fd))
    }

    fn add(&self, fd: RawFd, key: u64) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: key,
        };
        // SAFETY: `event` outlives the call; both descriptors are open.
        if unsafe { libc::epoll_ctl(self.0, libc::EPOLL_CTL_ADD, fd, &mut event) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> io::Result<usize> {
        // SAFETY: the kernel writes at most `events.len()` entries into the slice.
        let n = unsafe {
            libc::epoll_wait(self.0, events.as_mut_ptr(), events.len() as i32, timeout_ms)
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(0)
            } else {
                Err(e)
            };
        }
        Ok(n as usize)
    }
}
