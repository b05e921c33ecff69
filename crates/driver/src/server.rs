//! The driver's Unix socket server: any number of clients on non-blocking sockets in the
//! loop's epoll set (the private `reactor` module), each with its tokenizer and a bounded
//! queue of what is still to be written to it.
//!
//! The loop hands the server what its epoll set reported ([`Server::ready`]), takes the
//! events that produced ([`Server::next_event`]), queues answers and broadcasts, and
//! writes them out once per turn ([`Server::flush`]): one `writev` a client.
//!
//! Nothing here can be broken by a client: a client that vanishes (even in the middle of a
//! broadcast) is simply forgotten — there is no shared descriptor set to corrupt, unlike
//! NUT 2.8.0's crash (docs/nut-behaviour.md §3.5) — and a client that stops reading is
//! dropped once its queue is full, so it can neither block the driver nor grow its memory.

use std::collections::{HashMap, VecDeque};
use std::io::{self, IoSlice, Read as _, Write as _};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nut_core::sock::{ParseError, ServerMsg};
use nut_core::token::{Limits, TokenError, Tokenizer};
use nut_daemon::epoll::{Epoll, Interest, Ready};

/// Messages queued for one client before it counts as not reading and is dropped.
const QUEUE_DEPTH: usize = 1024;

/// Queued messages handed to one `writev`.
const WRITE_BATCH: usize = 64;

/// First pause of `accept` after it failed (out of descriptors, …), doubled while it keeps
/// failing, up to [`ACCEPT_BACKOFF_MAX`]: a failing accept must not spin a core.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(50);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// The epoll keys of the server: the listener, then one per client (its id added). The
/// loop's own descriptors use keys below.
pub const FIRST_KEY: u64 = 16;
const LISTENER_KEY: u64 = FIRST_KEY;

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
    /// A client went away, or was dropped for not reading.
    Closed(ConnId),
}

struct Conn {
    stream: UnixStream,
    tokenizer: Tokenizer,
    /// What is still to be written, the first message from `written` bytes on.
    queue: VecDeque<Arc<str>>,
    written: usize,
    broadcast: bool,
    /// LOGOUT: nothing more is read; closed once the queue is written.
    closing: bool,
    /// Registered for room to write (the socket buffer was full).
    waiting_for_room: bool,
}

impl Conn {
    /// Write as much of the queue as the socket takes; `Ok(true)` once all is written.
    fn write_queued(&mut self) -> io::Result<bool> {
        while !self.queue.is_empty() {
            let mut slices = [IoSlice::new(&[]); WRITE_BATCH];
            let mut n = 0;
            for (i, text) in self.queue.iter().take(WRITE_BATCH).enumerate() {
                let from = if i == 0 { self.written } else { 0 };
                slices[i] = IoSlice::new(&text.as_bytes()[from..]);
                n += 1;
            }
            match (&self.stream).write_vectored(&slices[..n]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(mut done) => {
                    while let Some(front) = self.queue.front() {
                        let left = front.len() - self.written;
                        if done < left {
                            self.written += done;
                            break;
                        }
                        done -= left;
                        self.written = 0;
                        self.queue.pop_front();
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// The listening socket and its clients.
pub struct Server {
    path: PathBuf,
    listener: UnixListener,
    epoll: Epoll,
    conns: HashMap<ConnId, Conn>,
    next_id: ConnId,
    events: VecDeque<Event>,
    /// Some client's queue has something [`flush`](Self::flush) has not tried to write.
    unflushed: bool,
    /// `synchronous = yes`: wait for a slow client instead of dropping it.
    blocking: bool,
    /// While `accept` keeps failing: the current pause, and when accepting resumes.
    backoff: Option<Duration>,
    paused_until: Option<Instant>,
    buf: Box<[u8]>,
    /// The clients one [`broadcast`](Self::broadcast) or [`flush`](Self::flush) goes to,
    /// collected first (sending may drop a client); kept, so that a poll's broadcasts
    /// allocate no list.
    targets: Vec<ConnId>,
}

impl Server {
    /// Bind `path` (a stale socket file is removed first), mode 0660, optionally handing the
    /// socket to `group`; never through a planted symlink ([`nut_daemon::socket`]). The
    /// listener and the clients are watched in `epoll`, under keys from [`FIRST_KEY`] on.
    pub fn bind(path: &Path, group: Option<nix::unistd::Gid>, epoll: &Epoll) -> io::Result<Self> {
        let listener = nut_daemon::socket::bind_unix_listener(path, 0o660, group)?;
        listener.set_nonblocking(true)?;
        epoll.add(listener.as_raw_fd(), LISTENER_KEY, Interest::Read)?;
        Ok(Self {
            path: path.to_path_buf(),
            listener,
            epoll: epoll.clone(),
            conns: HashMap::new(),
            next_id: 1,
            events: VecDeque::new(),
            unflushed: false,
            blocking: false,
            backoff: None,
            paused_until: None,
            buf: vec![0; 4096].into_boxed_slice(),
            targets: Vec::new(),
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

    /// Whether an epoll key is one of the server's.
    pub fn owns(key: u64) -> bool {
        key >= FIRST_KEY
    }

    /// Handle what the loop's epoll set reported for one of the server's keys: accept new
    /// clients, read requests (one read a turn: the set is level-triggered), write what
    /// waited for room.
    pub fn ready(&mut self, ready: Ready) {
        if ready.key() == LISTENER_KEY {
            self.accept_all();
            return;
        }
        let id = ready.key() - FIRST_KEY;
        if ready.writable() {
            self.write_to(id);
        }
        if ready.readable() {
            self.read_from(id);
        }
    }

    /// The next event, in the order they happened.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn accept_all(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if self.backoff.take().is_some() {
                        crate::debug!(1, "accept on {} works again", self.path.display());
                    }
                    match self.register(stream) {
                        Ok(id) => self.events.push_back(Event::Connected(id)),
                        Err(e) => crate::debug!(1, "socket client not taken: {e}"),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.pause_accepting(&e);
                    return;
                }
            }
        }
    }

    /// `accept` failed (EMFILE, ENFILE, ENOBUFS…): stop watching the listener for a
    /// doubling pause while the connected clients keep being served; a listener that stays
    /// readable would otherwise spin a core.
    fn pause_accepting(&mut self, e: &io::Error) {
        let pause = match self.backoff {
            Some(p) => (p * 2).min(ACCEPT_BACKOFF_MAX),
            None => {
                crate::notice!(
                    "accept on {}: {} (pausing new connections)",
                    self.path.display(),
                    crate::process::strerror(e)
                );
                ACCEPT_BACKOFF_MIN
            }
        };
        crate::debug!(
            2,
            "accept on {}: {e}; next try in {pause:?}",
            self.path.display()
        );
        self.backoff = Some(pause);
        if self.epoll.delete(self.listener.as_raw_fd()).is_ok() {
            self.paused_until = Some(Instant::now() + pause);
        }
    }

    /// When accepting resumes after a failure (the loop wakes up then).
    pub fn resume_at(&self) -> Option<Instant> {
        self.paused_until
    }

    /// Watch the listener again once its pause is over.
    pub fn resume_if_due(&mut self, now: Instant) {
        if self.paused_until.is_some_and(|at| now >= at) {
            match self
                .epoll
                .add(self.listener.as_raw_fd(), LISTENER_KEY, Interest::Read)
            {
                Ok(()) => self.paused_until = None,
                Err(e) => self.pause_accepting(&e),
            }
        }
    }

    fn register(&mut self, stream: UnixStream) -> io::Result<ConnId> {
        stream.set_nonblocking(true)?;
        let id = self.next_id;
        self.epoll
            .add(stream.as_raw_fd(), FIRST_KEY + id, Interest::Read)?;
        self.next_id += 1;
        self.conns.insert(
            id,
            Conn {
                stream,
                tokenizer: Tokenizer::new(Limits::default()),
                queue: VecDeque::new(),
                written: 0,
                broadcast: true,
                closing: false,
                waiting_for_room: false,
            },
        );
        Ok(id)
    }

    fn read_from(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let n = match (&conn.stream).read(&mut self.buf) {
            Ok(0) => return self.drop_conn(id),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return;
            }
            Err(_) => return self.drop_conn(id),
        };
        // After LOGOUT what a client still sends is read (it must not keep the descriptor
        // readable) and ignored.
        if conn.closing {
            return;
        }
        for line in conn.tokenizer.push_slice(&self.buf[..n]) {
            let request = match line.into_result() {
                Err(e) => Err(BadLine::Token(e)),
                Ok(words) if words.is_empty() => continue,
                Ok(words) => ServerMsg::parse(&words).map_err(|e| BadLine::Parse(e, words)),
            };
            self.events.push_back(Event::Request(id, request));
        }
    }

    /// Forget a client (its descriptor closes, which takes it out of the epoll set) and
    /// report it gone.
    fn drop_conn(&mut self, id: ConnId) {
        if self.conns.remove(&id).is_some() {
            self.events.push_back(Event::Closed(id));
        }
    }

    /// Queue `text` for one client. A client whose queue is full (not reading) is dropped,
    /// unless the server is [blocking](Self::set_blocking): then this waits for room.
    pub fn send(&mut self, id: ConnId, text: Arc<str>) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.queue.len() >= QUEUE_DEPTH {
            if !self.blocking {
                crate::notice!("Dropping socket client {id}: it stopped reading");
                return self.drop_conn(id);
            }
            if let Err(e) = wait_for_room(conn) {
                crate::debug!(1, "socket client {id}: {e}");
                return self.drop_conn(id);
            }
        }
        conn.queue.push_back(text);
        self.unflushed = true;
    }

    /// Queue `text` for every client that has broadcasts enabled.
    pub fn broadcast(&mut self, text: Arc<str>) {
        if self.conns.is_empty() {
            return;
        }
        self.for_each_client(|c| c.broadcast, |s, id| s.send(id, text.clone()));
    }

    /// Enable or disable broadcasts to one client (NOBROADCAST / BROADCAST).
    pub fn set_broadcast(&mut self, id: ConnId, on: bool) {
        if let Some(c) = self.conns.get_mut(&id) {
            c.broadcast = on;
        }
    }

    /// Stop reading from a client and close it once its queue is written (LOGOUT).
    pub fn close_after_flush(&mut self, id: ConnId) {
        if let Some(c) = self.conns.get_mut(&id) {
            c.closing = true;
            self.unflushed = true;
        }
    }

    /// Write what is queued, to each client as far as it reads; the rest waits for the
    /// epoll set to report room.
    pub fn flush(&mut self) {
        if !std::mem::take(&mut self.unflushed) {
            return;
        }
        self.for_each_client(
            |c| (!c.queue.is_empty() || c.closing) && !c.waiting_for_room,
            Self::write_to,
        );
    }

    /// Run `act` for each client `pick` chooses, chosen before the first `act` (which may
    /// drop clients).
    fn for_each_client(
        &mut self,
        pick: impl Fn(&Conn) -> bool,
        mut act: impl FnMut(&mut Self, ConnId),
    ) {
        let mut ids = std::mem::take(&mut self.targets);
        ids.clear();
        ids.extend(
            self.conns
                .iter()
                .filter(|(_, c)| pick(c))
                .map(|(id, _)| *id),
        );
        for &id in &ids {
            act(self, id);
        }
        self.targets = ids;
    }

    fn write_to(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let all = match conn.write_queued() {
            Ok(all) => all,
            Err(_) => return self.drop_conn(id),
        };
        if all && conn.closing {
            // Gone on our side: not reported (the dispatcher closed it).
            self.conns.remove(&id);
            return;
        }
        if all != conn.waiting_for_room {
            return;
        }
        let interest = if all {
            Interest::Read
        } else {
            Interest::ReadWrite
        };
        match self
            .epoll
            .modify(conn.stream.as_raw_fd(), FIRST_KEY + id, interest)
        {
            Ok(()) => conn.waiting_for_room = !all,
            Err(_) => self.drop_conn(id),
        }
    }

    /// Stop: close every client once what is queued for it is written (the answer to
    /// `driver.exit` or `driver.killpower`), waiting at most `within` for slow readers.
    pub fn close(mut self, within: Duration) {
        let deadline = Instant::now() + within;
        let mut conns: Vec<Conn> = self.conns.drain().map(|(_, c)| c).collect();
        loop {
            conns.retain_mut(|c| matches!(c.write_queued(), Ok(false)));
            let left = deadline.saturating_duration_since(Instant::now());
            if conns.is_empty() || left.is_zero() {
                return;
            }
            let mut fds: Vec<PollFd<'_>> = conns
                .iter()
                .map(|c| PollFd::new(c.stream.as_fd(), PollFlags::POLLOUT))
                .collect();
            let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
            if poll(&mut fds, PollTimeout::from(ms)).is_err() {
                return;
            }
        }
    }
}

/// `synchronous = yes` and a full queue: write, waiting in `poll(2)` for the client to
/// read, until the queue has room again.
fn wait_for_room(conn: &mut Conn) -> io::Result<()> {
    loop {
        conn.write_queued()?;
        if conn.queue.len() < QUEUE_DEPTH {
            return Ok(());
        }
        let mut fds = [PollFd::new(conn.stream.as_fd(), PollFlags::POLLOUT)];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
