//! Client connections: accepting, reading request bytes into the [`Session`], writing each
//! batch of replies with one write, STARTTLS, and ending the connections the server kicks
//! (idle limit, MAXCONN eviction, removed UPS).
//!
//! The hot path costs what upsd's costs — one `epoll_wait`, one `read`, one `write` per
//! request — and an idle client costs only its task, session and socket:
//!
//! * plain connections are driven through `AsyncFd` and read into one thread-local buffer;
//!   readiness is cleared after a short read, so no extra `read` returns `EAGAIN`;
//! * there is no timer and no wake-up channel per connection: the server keeps every
//!   client's idle clock and MAXCONN policy; a [`crate::server::ServerEvent::KickClient`]
//!   shuts the socket down ([`ClientSlot::shut_down`]), which the connection's task sees
//!   as end of file.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::time::{Duration, Instant};

use nut_core::token::{Limits, Tokenizer};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use super::Shared;
use crate::server::Room;
use crate::session::{Session, SessionAction};

/// Read size; also the largest burst of pipelined requests handled in one borrow.
const READ_CHUNK: usize = 16 * 1024;
/// Reply buffers bigger than this are not kept between requests.
const KEEP_OUT_CAPACITY: usize = 64 * 1024;
/// Replies are written once this many bytes are pending, before more requests are handled.
const FLUSH_AT: usize = 32 * 1024;
/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed accept (e.g. out of file descriptors) before trying again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_CHUNK]);
}

/// What the shell knows of a connection, to end it on the server's word.
pub(super) struct ClientSlot {
    fd: RawFd,
}

impl ClientSlot {
    /// End the connection: its task reads end of file and cleans up. The descriptor is
    /// valid: a task removes its slot before it closes its socket.
    pub(super) fn shut_down(&self) {
        // SAFETY: plain syscall on a descriptor owned by a live connection task.
        unsafe { libc::shutdown(self.fd, libc::SHUT_RDWR) };
    }
}

/// What the connection does next.
enum Step {
    Continue,
    Close,
    /// STARTTLS accepted; `clean` is false when bytes followed the request in the same read
    /// (a client must wait for `OK STARTTLS` before its handshake).
    StartTls {
        clean: bool,
    },
}

fn request_limits() -> Limits {
    Limits {
        max_line_bytes: Some(crate::MAX_REQUEST_LINE),
        ..Limits::default()
    }
}

/// Accept clients on one listener forever.
pub(super) async fn accept_loop(shared: Rc<Shared>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let room = shared
                    .server
                    .borrow_mut()
                    .handle_accept(peer.ip(), Instant::now());
                // Carries out an eviction (a KickClient) before the new client registers.
                shared.pump();
                if room == Room::Full {
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let registered = stream.into_std().and_then(|std| {
                    // SAFETY: the std stream owns its descriptor and the AsyncFd owns the
                    // stream, so the descriptor stays open and the same while registered.
                    unsafe { AsyncFd::register(std) }.map_err(io::Error::from)
                });
                match registered {
                    Ok(fd) => {
                        tokio::task::spawn_local(client_task(shared.clone(), fd, peer));
                    }
                    Err(e) => tracing::debug!("cannot register a client: {e}"),
                }
            }
            Err(e) => {
                tracing::debug!("accept failed: {e}");
                shared
                    .pause_until(Instant::now() + ACCEPT_ERROR_PAUSE)
                    .await;
            }
        }
    }
}

async fn client_task(shared: Rc<Shared>, stream: AsyncFd<std::net::TcpStream>, peer: SocketAddr) {
    let ip = peer.ip();
    let now = Instant::now();
    let mut session = Session::new(&mut shared.server.borrow_mut(), ip, now);
    let slot = ClientSlot {
        fd: stream.as_raw_fd(),
    };
    shared.clients.borrow_mut().insert(session.id(), slot);
    // Its idle deadline may be the next one.
    shared.pump();
    tracing::trace!("Connect from {ip}");
    let mut tok = Tokenizer::new(request_limits());
    let step = serve_plain(&shared, &mut session, &mut tok, &stream).await;
    let mut tls_stream = None;
    if let Step::StartTls { clean } = step {
        // Boxed: the TLS state is large, and only connections that use it should pay.
        let tls = Box::pin(start_tls(&shared, &mut session, &mut tok, stream, clean));
        tls_stream = tls.await;
    }
    // The slot goes before the socket closes (see ClientSlot::shut_down).
    shared.clients.borrow_mut().remove(&session.id());
    drop(tls_stream);
    session.handle_close(&mut shared.server.borrow_mut());
    shared.pump();
    tracing::trace!("Disconnect from {ip}");
}

/// The TLS handshake after `OK STARTTLS`, then the rest of the connection over TLS.
/// Returns the stream so that it is closed only after the slot is gone.
async fn start_tls(
    shared: &Rc<Shared>,
    session: &mut Session,
    tok: &mut Tokenizer,
    stream: AsyncFd<std::net::TcpStream>,
    clean: bool,
) -> Option<tokio_rustls::server::TlsStream<tokio::net::TcpStream>> {
    let ip = session.addr();
    let acceptor = shared.tls.borrow().clone();
    let tcp = tokio::net::TcpStream::from_std(stream.into_inner());
    let (true, Some(acceptor), Ok(tcp)) = (clean, acceptor, tcp) else {
        tracing::info!("Disconnect {ip}: data after STARTTLS before the TLS handshake");
        return None;
    };
    let handshake = tokio::select! {
        done = acceptor.accept(tcp) => Ok(done),
        () = shared.pause_until(Instant::now() + HANDSHAKE_TIMEOUT) => Err(()),
    };
    match handshake {
        Ok(Ok(mut tls)) => {
            session.handle_tls_established();
            tracing::debug!("TLS handshake done with client {ip}");
            serve_stream(shared, session, tok, &mut tls).await;
            Some(tls)
        }
        Ok(Err(e)) => {
            tracing::info!("TLS handshake with {ip} failed: {e}");
            None
        }
        Err(_) => {
            tracing::info!("TLS handshake with {ip} timed out");
            None
        }
    }
}

/// Feed `bytes` to the session, line by line, appending replies to `out`, and return how
/// many bytes were used. Stops early at STARTTLS, and when `out` holds [`FLUSH_AT`] bytes
/// (the caller writes them and feeds the rest again), so a client that pipelines many
/// LISTs without reading costs bounded memory. After LOGOUT the rest is still answered, as
/// upsd does, and the connection closes when it is used up.
fn process(
    shared: &Rc<Shared>,
    session: &mut Session,
    tok: &mut Tokenizer,
    bytes: &[u8],
    out: &mut String,
) -> (Step, usize) {
    let now = Instant::now();
    let mut result = (Step::Continue, bytes.len());
    {
        let mut server = shared.server.borrow_mut();
        let mut any_line = false;
        for (i, &b) in bytes.iter().enumerate() {
            let Some(line) = tok.push_borrowed(b) else {
                continue;
            };
            any_line = true;
            let action = session.handle_line(now, &line, &mut server, out);
            if action == Some(SessionAction::StartTls) {
                let clean = i + 1 == bytes.len() && !tok.is_mid_line();
                result = (Step::StartTls { clean }, i + 1);
                break;
            }
            if out.len() >= FLUSH_AT && i + 1 < bytes.len() {
                result.1 = i + 1;
                break;
            }
        }
        if !any_line {
            // Only part of a line: it still counts against the idle limit (a request line
            // already did, at the same instant).
            session.handle_activity(now, &mut server);
        }
    }
    shared.pump();
    if matches!(result.0, Step::Continue) && session.is_closing() && result.1 == bytes.len() {
        result.0 = Step::Close;
    }
    result
}

async fn serve_plain(
    shared: &Rc<Shared>,
    session: &mut Session,
    tok: &mut Tokenizer,
    stream: &AsyncFd<std::net::TcpStream>,
) -> Step {
    let mut out = String::new();
    // Bytes read but not processed yet (only after a reply reached FLUSH_AT).
    let mut backlog: Vec<u8> = Vec::new();
    loop {
        let step = if backlog.is_empty() {
            let Ok(mut guard) = stream.readable().await else {
                return Step::Close;
            };
            let read = SCRATCH.with(|scratch| {
                let mut buf = scratch.borrow_mut();
                match stream.get_ref().read(&mut buf) {
                    Ok(0) => Err(()),
                    Ok(n) => {
                        if n < buf.len() {
                            // Drained: wait for the next event instead of a read that would
                            // return EAGAIN (tokio keeps the readiness if an event came since).
                            guard.clear_ready();
                        }
                        let (step, used) = process(shared, session, tok, &buf[..n], &mut out);
                        backlog.extend_from_slice(&buf[used..n]);
                        Ok(Some(step))
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        guard.clear_ready();
                        Ok(None)
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
                    Err(_) => Err(()),
                }
            });
            match read {
                Ok(Some(step)) => step,
                Ok(None) => continue,
                Err(()) => return Step::Close,
            }
        } else {
            let (step, used) = process(shared, session, tok, &backlog, &mut out);
            backlog.drain(..used);
            step
        };
        if !out.is_empty() {
            if write_all_plain(stream, out.as_bytes()).await.is_err() {
                return Step::Close;
            }
            recycle(&mut out);
        }
        match step {
            Step::Continue => {}
            Step::Close => {
                let _ = stream.get_ref().shutdown(std::net::Shutdown::Both);
                return Step::Close;
            }
            Step::StartTls { clean } => {
                return Step::StartTls {
                    clean: clean && backlog.is_empty(),
                };
            }
        }
    }
}

/// One `write` in the common case (the reply fits the socket buffer); the rest waits for
/// the socket to drain.
async fn write_all_plain(
    stream: &AsyncFd<std::net::TcpStream>,
    mut bytes: &[u8],
) -> io::Result<()> {
    loop {
        match stream.get_ref().write(bytes) {
            Ok(n) if n == bytes.len() => return Ok(()),
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let mut guard = stream.writable().await?;
                guard.clear_ready();
            }
            Err(e) => return Err(e),
        }
    }
}

fn recycle(out: &mut String) {
    out.clear();
    if out.capacity() > KEEP_OUT_CAPACITY {
        *out = String::new();
    }
}

/// The loop for any stream (TLS): a per-connection buffer, otherwise as [`serve_plain`].
async fn serve_stream<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Rc<Shared>,
    session: &mut Session,
    tok: &mut Tokenizer,
    stream: &mut S,
) {
    let mut buf = vec![0u8; 4096];
    let mut backlog: Vec<u8> = Vec::new();
    let mut out = String::new();
    loop {
        let step = if backlog.is_empty() {
            let n = match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let (step, used) = process(shared, session, tok, &buf[..n], &mut out);
            backlog.extend_from_slice(&buf[used..n]);
            step
        } else {
            let (step, used) = process(shared, session, tok, &backlog, &mut out);
            backlog.drain(..used);
            step
        };
        if !out.is_empty() {
            if stream.write_all(out.as_bytes()).await.is_err() || stream.flush().await.is_err() {
                return;
            }
            recycle(&mut out);
        }
        match step {
            Step::Continue => {}
            // STARTTLS inside TLS is answered ALREADY-SSL-MODE by the session, so only
            // LOGOUT ends up here.
            Step::Close | Step::StartTls { .. } => {
                let _ = stream.shutdown().await;
                return;
            }
        }
    }
}
