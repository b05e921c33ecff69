//! The blocking client: std sockets, rustls' `StreamOwned`, no runtime.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use nut_core::net::{TrackingId, TrackingStatus, VarType};
use rustls::{ClientConnection, StreamOwned};

use crate::config::{ConnectOptions, TlsMode};
use crate::error::{Error, Result};
use crate::proto::{self, Call, LineReader, Range, UpsEntry, Variable};
use crate::tls::{self, StartTls};

enum Transport {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Transport {
    /// The TCP socket under the (possibly TLS) stream, for its timeouts.
    fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(s) => s,
            Transport::Tls(s) => &s.sock,
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.read(buf),
            Transport::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.write(buf),
            Transport::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(s) => s.flush(),
            Transport::Tls(s) => s.flush(),
        }
    }
}

/// A blocking connection to upsd.
///
/// ```no_run
/// use nut_client::{blocking::Client, ConnectOptions};
/// let mut client = Client::connect(&ConnectOptions::new("localhost", 3493))?;
/// println!("{}", client.get_var("myups", "ups.status")?);
/// # Ok::<(), nut_client::Error>(())
/// ```
pub struct Client {
    transport: Transport,
    reader: LineReader,
    io_timeout: Option<Duration>,
    call_timeout: Option<Duration>,
    /// A reply was abandoned half-read (deadline, size limit): the stream is out of step.
    broken: bool,
}

/// The socket timeout for the next read or write: the I/O timeout, shortened to what is
/// left until the call's deadline. `Err(())` when the deadline has passed.
fn step_timeout(io: Option<Duration>, deadline: Option<Instant>) -> Result<Option<Duration>, ()> {
    let Some(deadline) = deadline else {
        return Ok(io);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(());
    }
    Ok(Some(io.map_or(left, |io| io.min(left))))
}

impl Client {
    /// Connect (trying every address of the host within the connect timeout) and apply the
    /// TLS policy.
    pub fn connect(options: &ConnectOptions) -> Result<Client> {
        let tcp = connect_tcp(options)?;
        tcp.set_read_timeout(options.io_timeout)
            .map_err(Error::read)?;
        tcp.set_write_timeout(options.io_timeout)
            .map_err(Error::write)?;
        let _ = tcp.set_nodelay(true);
        let mut client = Client {
            transport: Transport::Plain(tcp),
            reader: LineReader::new(),
            io_timeout: options.io_timeout,
            call_timeout: options.call_timeout,
            broken: false,
        };
        if !matches!(options.tls, TlsMode::Disabled) {
            let result = client.call(proto::starttls());
            if tls::after_starttls(&options.tls, result)? == StartTls::Handshake {
                client.handshake(options)?;
            }
        }
        Ok(client)
    }

    fn handshake(&mut self, options: &ConnectOptions) -> Result<()> {
        if self.reader.buffered() > 0 {
            return Err(Error::Protocol("data after OK STARTTLS".into()));
        }
        let (config, name) = tls::client_setup(&options.tls, &options.host)?;
        let Transport::Plain(tcp) = &self.transport else {
            return Err(Error::Protocol("STARTTLS on a TLS connection".into()));
        };
        let tcp = tcp.try_clone().map_err(Error::read)?;
        // The handshake is bounded like a call.
        let deadline = self
            .call_timeout
            .and_then(|t| Instant::now().checked_add(t));
        let limit = step_timeout(self.io_timeout, deadline).unwrap_or(self.io_timeout);
        tcp.set_read_timeout(limit).map_err(Error::read)?;
        tcp.set_write_timeout(limit).map_err(Error::write)?;
        let conn = ClientConnection::new(config, name).map_err(|e| Error::Tls(e.to_string()))?;
        let mut stream = StreamOwned::new(conn, tcp);
        while stream.conn.is_handshaking() {
            stream
                .conn
                .complete_io(&mut stream.sock)
                .map_err(|e| Error::Tls(e.to_string()))?;
        }
        self.transport = Transport::Tls(Box::new(stream));
        Ok(())
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self.transport, Transport::Tls(_))
    }

    /// The server's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.transport.tcp().peer_addr()
    }

    /// Whether a password sent now would cross a network in clear text (no TLS, and the
    /// server is not on this machine's loopback); callers warn before sending one.
    pub fn password_in_clear(&self) -> bool {
        tls::password_in_clear(self.is_tls(), self.peer_addr().ok())
    }

    /// Send one request and read its whole reply, within the call deadline
    /// ([`ConnectOptions::call_timeout`]).
    pub fn call<T>(&mut self, call: Call<T>) -> Result<T> {
        if self.broken {
            return Err(Error::Disconnected);
        }
        let deadline = self
            .call_timeout
            .and_then(|t| Instant::now().checked_add(t));
        let result = self.exchange(call, deadline);
        if matches!(
            result,
            Err(Error::CallTimeout { .. } | Error::ReplyTooLarge(_))
        ) {
            self.broken = true;
        }
        result
    }

    fn exchange<T>(&mut self, call: Call<T>, deadline: Option<Instant>) -> Result<T> {
        let call_limit = self.call_timeout.unwrap_or_default();
        let timed_out = |call: &Call<T>| Error::CallTimeout {
            request: call.describe(),
            limit: call_limit,
        };
        let limit = step_timeout(self.io_timeout, deadline).map_err(|()| timed_out(&call))?;
        self.transport
            .tcp()
            .set_write_timeout(limit)
            .map_err(Error::write)?;
        self.transport
            .write_all(call.line().as_bytes())
            .and_then(|()| self.transport.flush())
            .map_err(Error::write)?;
        let description = call.describe();
        let mut exchange = call.exchange();
        loop {
            let line = match self.read_line(deadline) {
                Err(Error::CallTimeout { limit, .. }) => {
                    return Err(Error::CallTimeout {
                        request: description,
                        limit,
                    });
                }
                other => other?,
            };
            if let Some(value) = exchange.push_line(&line)? {
                return Ok(value);
            }
        }
    }

    fn read_line(&mut self, deadline: Option<Instant>) -> Result<String> {
        let mut chunk = [0u8; 4096];
        let call_limit = self.call_timeout.unwrap_or_default();
        let timed_out = || Error::CallTimeout {
            request: String::new(),
            limit: call_limit,
        };
        loop {
            if let Some(line) = self.reader.next_line()? {
                return Ok(line);
            }
            let limit = step_timeout(self.io_timeout, deadline).map_err(|()| timed_out())?;
            self.transport
                .tcp()
                .set_read_timeout(limit)
                .map_err(Error::read)?;
            let n = match self.transport.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A peer that closes the TLS session without close_notify still closed it.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) && step_timeout(None, deadline).is_err() =>
                {
                    return Err(timed_out());
                }
                Err(e) => return Err(Error::read(e)),
            };
            if n == 0 {
                return Err(Error::Disconnected);
            }
            self.reader.extend(&chunk[..n]);
        }
    }

    proto::command_methods!(;);

    /// Poll `GET TRACKING <id>` once a second until the command finishes or `timeout`
    /// passes; `Ok(None)` on timeout.
    pub fn wait_for_tracking(
        &mut self,
        id: &TrackingId,
        timeout: Duration,
    ) -> Result<Option<TrackingStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            if Instant::now() >= deadline {
                return Ok(None);
            }
            let status = self.tracking_status(id)?;
            if status.is_final() {
                return Ok(Some(status));
            }
            std::thread::sleep(proto::TRACKING_POLL_INTERVAL.min(deadline - Instant::now()));
        }
    }

    /// Say `LOGOUT` (ignoring the answer) and close.
    pub fn close(mut self) {
        let _ = self.logout();
    }
}

/// Resolve `options.host` and connect to the first address that answers.
fn connect_tcp(options: &ConnectOptions) -> Result<TcpStream> {
    let addrs: Vec<SocketAddr> = (options.host.as_str(), options.port)
        .to_socket_addrs()
        .map_err(|_| Error::NoSuchHost {
            host: options.host.clone(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(Error::NoSuchHost {
            host: options.host.clone(),
        });
    }
    let deadline = options.connect_timeout.map(|t| Instant::now() + t);
    let mut last = None;
    for addr in addrs {
        let attempt = match deadline {
            None => TcpStream::connect(addr),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                TcpStream::connect_timeout(&addr, left)
            }
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    let timed_out = last.as_ref().is_none_or(|e| {
        matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        )
    });
    match last {
        Some(e) if !timed_out || deadline.is_none() => Err(Error::Connect {
            host: options.host.clone(),
            port: options.port,
            source: e.into(),
        }),
        _ => Err(Error::ConnectTimeout {
            host: options.host.clone(),
            port: options.port,
        }),
    }
}
