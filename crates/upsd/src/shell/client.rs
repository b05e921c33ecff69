//! Client connections: accepting, reading request bytes into the [`Session`], writing each
//! batch of replies with one write, STARTTLS, the idle limit, and kicks after a reload.
//!
//! Plain connections read through one thread-local buffer (`readable()` + `try_read`), so an
//! idle client costs its task, its session and its socket, not a read buffer.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use nut_core::token::{Limits, Tokenizer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::Shared;
use crate::logging;
use crate::session::{Session, SessionAction};

/// Read size; also the largest burst of pipelined requests handled in one borrow.
const READ_CHUNK: usize = 16 * 1024;
/// Reply buffers bigger than this are not kept between requests.
const KEEP_OUT_CAPACITY: usize = 64 * 1024;
/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed accept (e.g. out of file descriptors) before trying again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_CHUNK]);
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
                if shared.server.borrow().client_count() >= shared.maxconn.get() {
                    logging::info(&format!(
                        "Rejecting connection from {}: MAXCONN ({}) reached",
                        peer.ip(),
                        shared.maxconn.get()
                    ));
                    continue;
                }
                let _ = stream.set_nodelay(true);
                tokio::task::spawn_local(client_task(shared.clone(), stream, peer));
            }
            Err(e) => {
                logging::debug(1, &format!("accept failed: {e}"));
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
}

async fn client_task(shared: Rc<Shared>, stream: TcpStream, peer: SocketAddr) {
    let ip = peer.ip();
    let mut session = Session::new(
        &mut shared.server.borrow_mut(),
        ip,
        Instant::now().into_std(),
    );
    let kick = Rc::new(Notify::new());
    shared.kicks.borrow_mut().insert(session.id(), kick.clone());
    logging::debug(2, &format!("Connect from {ip}"));
    let mut tok = Tokenizer::new(request_limits());
    let mut stream = stream;
    let step = serve_plain(&shared, &mut session, &mut tok, &mut stream, &kick).await;
    if let Step::StartTls { clean } = step {
        let acceptor = shared.tls.borrow().clone();
        match (clean, acceptor) {
            (true, Some(acceptor)) => {
                let handshake =
                    tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                match handshake {
                    Ok(Ok(mut tls)) => {
                        session.handle_tls_established();
                        logging::debug(1, &format!("TLS handshake done with client {ip}"));
                        serve_stream(&shared, &mut session, &mut tok, &mut tls, &kick).await;
                    }
                    Ok(Err(e)) => logging::info(&format!("TLS handshake with {ip} failed: {e}")),
                    Err(_) => logging::info(&format!("TLS handshake with {ip} timed out")),
                }
            }
            _ => logging::info(&format!(
                "Disconnect {ip}: data after STARTTLS before the TLS handshake"
            )),
        }
    }
    shared.kicks.borrow_mut().remove(&session.id());
    session.handle_close(&mut shared.server.borrow_mut());
    shared.pump();
    logging::debug(2, &format!("Disconnect from {ip}"));
}

/// Feed `bytes` to the session, line by line, appending replies to `out`. Stops at
/// STARTTLS; after LOGOUT the rest of `bytes` is still answered (as upsd does).
fn process(
    shared: &Rc<Shared>,
    session: &mut Session,
    tok: &mut Tokenizer,
    bytes: &[u8],
    out: &mut String,
) -> Step {
    let now = Instant::now().into_std();
    let mut step = Step::Continue;
    {
        let mut server = shared.server.borrow_mut();
        session.handle_activity(now);
        for (i, &b) in bytes.iter().enumerate() {
            let Some(line) = tok.push(b) else { continue };
            match session.handle_line(now, &line, &mut server, out) {
                None => {}
                // LOGOUT: upsd answers what is left of this read, then closes.
                Some(SessionAction::Close) => step = Step::Close,
                Some(SessionAction::StartTls) => {
                    step = Step::StartTls {
                        clean: i + 1 == bytes.len() && !tok.is_mid_line(),
                    };
                    break;
                }
            }
        }
    }
    shared.pump();
    step
}

async fn serve_plain(
    shared: &Rc<Shared>,
    session: &mut Session,
    tok: &mut Tokenizer,
    stream: &mut TcpStream,
    kick: &Notify,
) -> Step {
    let mut out = String::new();
    loop {
        let deadline = Instant::from_std(session.poll_timeout());
        tokio::select! {
            ready = tokio::time::timeout_at(deadline, stream.readable()) => match ready {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Step::Close,
                Err(_) => {
                    logging::debug(1, "Client idle for too long: disconnecting");
                    return Step::Close;
                }
            },
            _ = kick.notified() => return Step::Close,
        }
        let read = SCRATCH.with(|scratch| {
            let mut buf = scratch.borrow_mut();
            match stream.try_read(&mut buf) {
                Ok(0) => Err(None),
                Ok(n) => Ok(Some(process(shared, session, tok, &buf[..n], &mut out))),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
                Err(e) => Err(Some(e)),
            }
        });
        let step = match read {
            Ok(Some(step)) => step,
            Ok(None) => continue,
            Err(_) => return Step::Close,
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
                let _ = stream.shutdown().await;
                return Step::Close;
            }
            start_tls @ Step::StartTls { .. } => return start_tls,
        }
    }
}

/// One write in the common case (the reply fits the socket buffer); the rest waits.
async fn write_all_plain(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    match stream.try_write(bytes) {
        Ok(n) if n == bytes.len() => Ok(()),
        Ok(n) => stream.write_all(&bytes[n..]).await,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => stream.write_all(bytes).await,
        Err(e) => Err(e),
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
    kick: &Notify,
) {
    let mut buf = vec![0u8; 4096];
    let mut out = String::new();
    loop {
        let deadline = Instant::from_std(session.poll_timeout());
        let n = tokio::select! {
            read = tokio::time::timeout_at(deadline, stream.read(&mut buf)) => match read {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
                Ok(Ok(n)) => n,
            },
            _ = kick.notified() => return,
        };
        let step = process(shared, session, tok, &buf[..n], &mut out);
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
