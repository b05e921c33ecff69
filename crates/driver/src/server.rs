//! The driver's Unix socket server: any number of clients, each with a reader task that
//! tokenizes and parses its lines and a writer task fed through a bounded queue.
//!
//! Nothing here can be broken by a client: a client that vanishes (even in the middle of a
//! broadcast) is simply forgotten — there is no shared descriptor set to corrupt, unlike
//! NUT 2.8.0's crash (docs/nut-behaviour.md §3.5) — and a client that stops reading is dropped once
//! its queue is full, so it can neither block the driver nor grow its memory.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nut_core::sock::{ParseError, ServerMsg};
use nut_core::token::{Limits, TokenError, Tokenizer};
use nut_daemon::alarm::Alarm;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Messages queued for one client before it counts as not reading and is dropped.
const QUEUE_DEPTH: usize = 1024;

/// First pause of `accept` after it failed (out of descriptors, …), doubled while it keeps
/// failing, up to [`ACCEPT_BACKOFF_MAX`]: a failing accept must not spin a core.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(50);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// A client connection id.
pub type ConnId = u64;

/// A line that is not a valid request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadLine {
    /// The tokenizer rejected it.
    Token(TokenError),
    /// The words are not a request.
    Parse(ParseError, Vec<String>),
}

/// What happened on the socket.
#[derive(Debug)]
pub enum Event {
    /// A client connected.
    Connected(ConnId),
    /// A client sent a line.
    Request(ConnId, Result<ServerMsg, BadLine>),
    /// A client went away.
    Closed(ConnId),
}

struct Conn {
    tx: mpsc::Sender<Arc<str>>,
    broadcast: bool,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

/// What the server's tasks hand to [`Server::next_event`], through one channel.
enum Inbound {
    /// The accepting task took a new connection.
    Accepted(UnixStream),
    /// A client's reader task saw a request or the end of the connection.
    Client(Event),
}

/// The listening socket and its clients.
///
/// Accepting runs in a task of its own, like each client's reading: the driver's loop then
/// waits on one channel for everything the socket brings, and a wake-up for a poll of the
/// UPS does not look at the listener.
pub struct Server {
    path: PathBuf,
    conns: HashMap<ConnId, Conn>,
    next_id: ConnId,
    inbound_tx: mpsc::UnboundedSender<Inbound>,
    inbound_rx: mpsc::UnboundedReceiver<Inbound>,
    acceptor: JoinHandle<()>,
    /// `synchronous = yes`: wait for a slow client instead of dropping it.
    blocking: bool,
}

impl Server {
    /// Bind `path` (a stale socket file is removed first), mode 0660, optionally handing the
    /// socket to `group`; never through a planted symlink ([`nut_daemon::socket`]).
    pub fn bind(path: &Path, group: Option<nix::unistd::Gid>) -> io::Result<Self> {
        let listener = nut_daemon::socket::bind_unix_listener(path, 0o660, group)?;
        listener.set_nonblocking(true)?;
        let listener = UnixListener::from_std(listener)?;
        let (inbound_tx, inbound_rx) = mpsc::unbounded_channel();
        // Armed only while accepting is paused: no cost to the loop otherwise.
        let pause_timer = Alarm::new()?;
        let acceptor = tokio::spawn(accept_loop(
            listener,
            pause_timer,
            path.to_path_buf(),
            inbound_tx.clone(),
        ));
        Ok(Self {
            path: path.to_path_buf(),
            conns: HashMap::new(),
            next_id: 1,
            inbound_tx,
            inbound_rx,
            acceptor,
            blocking: false,
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of connected clients.
    pub fn client_count(&self) -> usize {
        self.conns.len()
    }

    /// `synchronous = yes` (NUT's blocking socket writes): when a client's queue is full
    /// the driver waits for it to read instead of dropping it. Otherwise (`no`, `auto`) a
    /// client that does not read is dropped once its queue is full.
    pub fn set_blocking(&mut self, on: bool) {
        self.blocking = on;
    }

    /// Wait for the next event: a new client, a request, a client gone.
    pub async fn next_event(&mut self) -> Event {
        loop {
            let Some(inbound) = self.inbound_rx.recv().await else {
                // The server holds a sender itself: the channel never closes.
                return std::future::pending().await;
            };
            if let Some(ev) = self.event_of(inbound) {
                return ev;
            }
        }
    }

    /// The next event that has already arrived, without waiting.
    pub fn try_next_event(&mut self) -> Option<Event> {
        while let Ok(inbound) = self.inbound_rx.try_recv() {
            if let Some(ev) = self.event_of(inbound) {
                return Some(ev);
            }
        }
        None
    }

    /// What the tasks handed over means to the loop (nothing, for a client already dropped).
    fn event_of(&mut self, inbound: Inbound) -> Option<Event> {
        match inbound {
            Inbound::Accepted(stream) => Some(Event::Connected(self.register(stream))),
            // Only report clients we still know (not ones we dropped).
            Inbound::Client(Event::Closed(id)) => self.forget(id).then_some(Event::Closed(id)),
            Inbound::Client(Event::Request(id, _)) if !self.conns.contains_key(&id) => None,
            Inbound::Client(ev) => Some(ev),
        }
    }

    fn register(&mut self, stream: UnixStream) -> ConnId {
        let id = self.next_id;
        self.next_id += 1;
        let (mut rd, mut wr) = stream.into_split();
        let (tx, mut rx) = mpsc::channel::<Arc<str>>(QUEUE_DEPTH);
        let writer = tokio::spawn(async move {
            while let Some(text) = rx.recv().await {
                if wr.write_all(text.as_bytes()).await.is_err() {
                    return;
                }
            }
            let _ = wr.shutdown().await;
        });
        let events = self.inbound_tx.clone();
        let reader = tokio::spawn(async move {
            let mut tokenizer = Tokenizer::new(Limits::default());
            let mut buf = vec![0u8; 4096];
            loop {
                let n = match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                for line in tokenizer.push_slice(&buf[..n]) {
                    let request = match line.into_result() {
                        Err(e) => Err(BadLine::Token(e)),
                        Ok(words) if words.is_empty() => continue,
                        Ok(words) => ServerMsg::parse(&words).map_err(|e| BadLine::Parse(e, words)),
                    };
                    if events
                        .send(Inbound::Client(Event::Request(id, request)))
                        .is_err()
                    {
                        return;
                    }
                }
            }
            let _ = events.send(Inbound::Client(Event::Closed(id)));
        });
        self.conns.insert(
            id,
            Conn {
                tx,
                broadcast: true,
                reader,
                writer,
            },
        );
        id
    }

    fn forget(&mut self, id: ConnId) -> bool {
        match self.conns.remove(&id) {
            Some(conn) => {
                conn.reader.abort();
                true
            }
            None => false,
        }
    }

    /// Queue `text` for one client. A client whose queue is full (not reading) is dropped,
    /// unless the server is [blocking](Self::set_blocking): then this waits for room.
    pub async fn send(&mut self, id: ConnId, text: Arc<str>) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let dropped = match conn.tx.try_send(text) {
            Ok(()) => false,
            Err(mpsc::error::TrySendError::Full(text)) if self.blocking => {
                let tx = conn.tx.clone();
                tx.send(text).await.is_err()
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                crate::notice!("Dropping socket client {id}: it stopped reading");
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => true,
        };
        if dropped {
            self.forget(id);
        }
    }

    /// Queue `text` for every client that has broadcasts enabled.
    pub async fn broadcast(&mut self, text: Arc<str>) {
        if self.conns.is_empty() {
            return;
        }
        let ids: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.broadcast)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.send(id, text.clone()).await;
        }
    }

    /// Enable or disable broadcasts to one client (NOBROADCAST / BROADCAST).
    pub fn set_broadcast(&mut self, id: ConnId, on: bool) {
        if let Some(c) = self.conns.get_mut(&id) {
            c.broadcast = on;
        }
    }

    /// Stop reading from a client and close it once its queue is written (LOGOUT).
    pub fn close_after_flush(&mut self, id: ConnId) {
        // Dropping the sender lets the writer finish the queue, then shut the socket down.
        self.forget(id);
    }
}

/// Accept connections on `listener` for as long as the server lives. When `accept` fails
/// (EMFILE, ENFILE, ENOBUFS…) it pauses with a doubling back-off while the connected
/// clients keep being served: a failing accept must not spin a core.
async fn accept_loop(
    listener: UnixListener,
    mut pause_timer: Alarm,
    path: PathBuf,
    to: mpsc::UnboundedSender<Inbound>,
) {
    let mut backoff: Option<Duration> = None;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                if backoff.take().is_some() {
                    crate::debug!(1, "accept on {} works again", path.display());
                }
                if to.send(Inbound::Accepted(stream)).is_err() {
                    return;
                }
            }
            Err(e) => {
                let pause = match backoff {
                    Some(p) => (p * 2).min(ACCEPT_BACKOFF_MAX),
                    None => {
                        crate::notice!(
                            "accept on {}: {} (pausing new connections)",
                            path.display(),
                            crate::process::strerror(&e)
                        );
                        ACCEPT_BACKOFF_MIN
                    }
                };
                crate::debug!(
                    2,
                    "accept on {}: {e}; next try in {pause:?}",
                    path.display()
                );
                backoff = Some(pause);
                // A timer that cannot be set (it never fails but for a bad descriptor)
                // leaves the pause to the next try.
                if pause_timer.set(Some(Instant::now() + pause)).is_ok() {
                    let _ = pause_timer.ring().await;
                }
            }
        }
    }
}

impl Server {
    /// Stop: close every client once what is queued for it is written (the answer to
    /// `driver.exit` or `driver.killpower`), waiting at most `within` for slow readers.
    pub async fn close(mut self, within: Duration) {
        let writers: Vec<JoinHandle<()>> = self
            .conns
            .drain()
            .map(|(_, conn)| {
                conn.reader.abort();
                conn.writer
            })
            .collect();
        let all_written = async {
            for w in writers {
                let _ = w.await;
            }
        };
        // Without a timer (out of descriptors) nobody is waited for.
        let Ok(mut limit) = Alarm::new() else {
            return;
        };
        if limit.set(Some(Instant::now() + within)).is_err() {
            return;
        }
        tokio::select! {
            () = all_written => {}
            _ = limit.ring() => {}
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.acceptor.abort();
        for (_, conn) in self.conns.drain() {
            conn.reader.abort();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    async fn server_with_a_client_that_does_not_read(
        dir: &Path,
    ) -> (Server, std::os::unix::net::UnixStream) {
        let path = dir.join("sock");
        let mut server = Server::bind(&path, None).expect("bind");
        let client = std::os::unix::net::UnixStream::connect(&path).expect("connect");
        assert!(matches!(server.next_event().await, Event::Connected(_)));
        (server, client)
    }

    fn line() -> Arc<str> {
        Arc::from(format!("SETINFO ups.id \"{}\"\n", "x".repeat(200)))
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_client_that_stops_reading_is_dropped_when_not_synchronous() {
        let dir = tempfile::tempdir().unwrap();
        let (mut server, _client) = server_with_a_client_that_does_not_read(dir.path()).await;
        for _ in 0..=QUEUE_DEPTH {
            server.broadcast(line()).await;
        }
        assert_eq!(server.client_count(), 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn close_waits_for_a_slow_reader_only_so_long() {
        let dir = tempfile::tempdir().unwrap();
        let (mut server, _client) = server_with_a_client_that_does_not_read(dir.path()).await;
        server.set_blocking(true);
        // Fill the socket buffers and part of the queue: the writer cannot finish.
        let filled = tokio::time::timeout(Duration::from_millis(300), async {
            loop {
                server.broadcast(line()).await;
            }
        })
        .await;
        assert!(filled.is_err(), "the client read everything");
        let closed = tokio::time::timeout(
            Duration::from_secs(20),
            server.close(Duration::from_millis(100)),
        )
        .await;
        assert!(
            closed.is_ok(),
            "close waited past its limit for a client that does not read"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn synchronous_yes_waits_for_a_slow_client_instead_of_dropping_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mut server, mut client) = server_with_a_client_that_does_not_read(dir.path()).await;
        server.set_blocking(true);
        // More than the queue and the socket buffers hold: broadcasting must wait.
        let total = QUEUE_DEPTH * 8;
        let mut sent = 0;
        let blocked = tokio::time::timeout(Duration::from_millis(500), async {
            while sent < total {
                server.broadcast(line()).await;
                sent += 1;
            }
        })
        .await
        .is_err();
        assert!(
            blocked,
            "all {total} lines fitted without the client reading"
        );
        assert_eq!(server.client_count(), 1, "the slow client was dropped");
        // The client reads: everything arrives, nothing was lost.
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            let mut lines = 0;
            while lines < total {
                let n = client.read(&mut buf).expect("read");
                assert!(n > 0, "closed after {lines} lines");
                lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
            }
            lines
        });
        while sent < total {
            server.broadcast(line()).await;
            sent += 1;
        }
        // Let the writer task finish the queue while the reader drains it.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !reader.is_finished() {
            assert!(Instant::now() < deadline, "the reader never got everything");
            tokio::task::yield_now().await;
        }
        assert_eq!(reader.join().unwrap(), total);
        assert_eq!(server.client_count(), 1);
    }
}
