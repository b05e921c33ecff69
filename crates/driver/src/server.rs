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

use nut_core::sock::{ParseError, ServerMsg};
use nut_core::token::{Limits, TokenError, Tokenizer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Messages queued for one client before it counts as not reading and is dropped.
const QUEUE_DEPTH: usize = 1024;

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
}

/// The listening socket and its clients.
pub struct Server {
    listener: UnixListener,
    path: PathBuf,
    conns: HashMap<ConnId, Conn>,
    next_id: ConnId,
    events_tx: mpsc::UnboundedSender<Event>,
    events_rx: mpsc::UnboundedReceiver<Event>,
}

impl Server {
    /// Bind `path` (a stale socket file is removed first), mode 0660, optionally handing the
    /// socket to `group`; never through a planted symlink ([`nut_daemon::socket`]).
    pub fn bind(path: &Path, group: Option<nix::unistd::Gid>) -> io::Result<Self> {
        let listener = nut_daemon::socket::bind_unix_listener(path, 0o660, group)?;
        listener.set_nonblocking(true)?;
        let listener = UnixListener::from_std(listener)?;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        Ok(Self {
            listener,
            path: path.to_path_buf(),
            conns: HashMap::new(),
            next_id: 1,
            events_tx,
            events_rx,
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

    /// Wait for the next event (accepting new clients along the way).
    pub async fn next_event(&mut self) -> Event {
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    match accepted {
                        Ok((stream, _)) => return Event::Connected(self.register(stream)),
                        Err(e) => {
                            crate::debug!(1, "accept on {}: {e}", self.path.display());
                            // Out of descriptors and the like: let other work proceed.
                            tokio::task::yield_now().await;
                        }
                    }
                }
                Some(ev) = self.events_rx.recv() => {
                    if let Event::Closed(id) = ev {
                        // Only report clients we still know (not ones we dropped).
                        if self.forget(id) {
                            return ev;
                        }
                        continue;
                    }
                    if let Event::Request(id, _) = &ev
                        && !self.conns.contains_key(id)
                    {
                        continue;
                    }
                    return ev;
                }
            }
        }
    }

    fn register(&mut self, stream: UnixStream) -> ConnId {
        let id = self.next_id;
        self.next_id += 1;
        let (mut rd, mut wr) = stream.into_split();
        let (tx, mut rx) = mpsc::channel::<Arc<str>>(QUEUE_DEPTH);
        tokio::spawn(async move {
            while let Some(text) = rx.recv().await {
                if wr.write_all(text.as_bytes()).await.is_err() {
                    return;
                }
            }
            let _ = wr.shutdown().await;
        });
        let events = self.events_tx.clone();
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
                    if events.send(Event::Request(id, request)).is_err() {
                        return;
                    }
                }
            }
            let _ = events.send(Event::Closed(id));
        });
        self.conns.insert(
            id,
            Conn {
                tx,
                broadcast: true,
                reader,
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

    /// Queue `text` for one client. A client whose queue is full (not reading) or gone is
    /// dropped; returns false then.
    pub fn send(&mut self, id: ConnId, text: Arc<str>) -> bool {
        let Some(conn) = self.conns.get(&id) else {
            return false;
        };
        match conn.tx.try_send(text) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                crate::notice!("Dropping socket client {id}: it stopped reading");
                self.forget(id);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.forget(id);
                false
            }
        }
    }

    /// Queue `text` for every client that has broadcasts enabled.
    pub fn broadcast(&mut self, text: &str) {
        if self.conns.is_empty() {
            return;
        }
        let text: Arc<str> = Arc::from(text);
        let ids: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.broadcast)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.send(id, text.clone());
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

impl Drop for Server {
    fn drop(&mut self) {
        for (_, conn) in self.conns.drain() {
            conn.reader.abort();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}
