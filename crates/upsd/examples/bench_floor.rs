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
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use nut_daemon::epoll::{Epoll, Interest};

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
    epoll.add(listener.as_raw_fd(), LISTENER, Interest::Read)?;

    let mut clients: Vec<Option<TcpStream>> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut out = Vec::with_capacity(16 * 1024);
    let mut events = Vec::with_capacity(256);
    let mut last_work = Instant::now();
    loop {
        // Spinning: only look, without sleeping.
        let deadline = (!spin.is_zero() && last_work.elapsed() < spin).then(Instant::now);
        epoll.wait(&mut events, deadline)?;
        if events.is_empty() {
            continue;
        }
        for &event in &events {
            let key = event.key();
            if key == LISTENER {
                while let Ok((stream, _)) = listener.accept() {
                    stream.set_nonblocking(true)?;
                    stream.set_nodelay(true)?;
                    let slot = clients.iter().position(Option::is_none).unwrap_or_else(|| {
                        clients.push(None);
                        clients.len() - 1
                    });
                    epoll.add(stream.as_raw_fd(), slot as u64, Interest::Read)?;
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
