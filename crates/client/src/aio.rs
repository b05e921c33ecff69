//! The async client, on tokio (any runtime flavour; NUT daemons use current_thread).

use std::io;
use std::time::Duration;

use nut_core::net::{TrackingId, TrackingStatus, VarType};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::config::{ConnectOptions, TlsMode};
use crate::error::{Error, Result};
use crate::proto::{self, Call, LineReader, Range, UpsEntry, Variable};
use crate::tls::{self, StartTls};

enum Transport {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// Only while the plain stream is being handed to the TLS handshake.
    Upgrading,
}

impl Transport {
    fn stream(&mut self) -> io::Result<&mut (dyn AsyncReadWrite + '_)> {
        match self {
            Transport::Plain(s) => Ok(s),
            Transport::Tls(s) => Ok(s.as_mut()),
            Transport::Upgrading => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }
}

trait AsyncReadWrite: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncReadWrite for T {}

/// An async connection to upsd. Same methods as [`crate::blocking::Client`], as `async fn`s.
///
/// ```no_run
/// # async fn demo() -> Result<(), nut_client::Error> {
/// use nut_client::{aio::Client, ConnectOptions};
/// let mut client = Client::connect(&ConnectOptions::new("localhost", 3493)).await?;
/// println!("{}", client.get_var("myups", "ups.status").await?);
/// # Ok(()) }
/// ```
pub struct Client {
    transport: Transport,
    reader: LineReader,
    io_timeout: Option<Duration>,
    call_timeout: Option<Duration>,
    /// A reply was abandoned half-read (deadline, size limit): the stream is out of step.
    broken: bool,
}

async fn with_timeout<T>(
    limit: Option<Duration>,
    fut: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    match limit {
        None => fut.await,
        Some(limit) => tokio::time::timeout(limit, fut)
            .await
            .unwrap_or_else(|_| Err(io::Error::from(io::ErrorKind::TimedOut))),
    }
}

impl Client {
    /// Connect (trying every address of the host within the connect timeout) and apply the
    /// TLS policy.
    pub async fn connect(options: &ConnectOptions) -> Result<Client> {
        let tcp = match options.connect_timeout {
            None => connect_tcp(options).await?,
            Some(limit) => tokio::time::timeout(limit, connect_tcp(options))
                .await
                .map_err(|_| Error::ConnectTimeout {
                    host: options.host.clone(),
                    port: options.port,
                })??,
        };
        let _ = tcp.set_nodelay(true);
        let mut client = Client {
            transport: Transport::Plain(tcp),
            reader: LineReader::new(),
            io_timeout: options.io_timeout,
            call_timeout: options.call_timeout,
            broken: false,
        };
        if matches!(options.tls, TlsMode::Disabled) {
            return Ok(client);
        }
        let result = client.call(proto::starttls()).await;
        if tls::after_starttls(&options.tls, result)? == StartTls::StayPlain {
            return Ok(client);
        }
        if client.reader.buffered() > 0 {
            return Err(Error::Protocol("data after OK STARTTLS".into()));
        }
        let (config, name) = tls::client_setup(&options.tls, &options.host)?;
        let Transport::Plain(tcp) = std::mem::replace(&mut client.transport, Transport::Upgrading)
        else {
            return Err(Error::Protocol("STARTTLS on a TLS connection".into()));
        };
        // The handshake is bounded like a call.
        let handshake = with_timeout(
            options.io_timeout,
            TlsConnector::from(config).connect(name, tcp),
        );
        let tls_stream = with_timeout(options.call_timeout, handshake)
            .await
            .map_err(|e| Error::Tls(e.to_string()))?;
        client.transport = Transport::Tls(Box::new(tls_stream));
        Ok(client)
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self.transport, Transport::Tls(_))
    }

    /// The server's address.
    pub fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        match &self.transport {
            Transport::Plain(s) => s.peer_addr(),
            Transport::Tls(s) => s.get_ref().0.peer_addr(),
            Transport::Upgrading => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }

    /// Whether a password sent now would cross a network in clear text (no TLS, and the
    /// server is not on this machine's loopback); callers warn before sending one.
    pub fn password_in_clear(&self) -> bool {
        tls::password_in_clear(self.is_tls(), self.peer_addr().ok())
    }

    /// Send one request and read its whole reply, within the call deadline
    /// ([`ConnectOptions::call_timeout`]).
    pub async fn call<T>(&mut self, call: Call<T>) -> Result<T> {
        if self.broken {
            return Err(Error::Disconnected);
        }
        let request = call.describe();
        let result = match self.call_timeout {
            None => self.exchange(call).await,
            Some(limit) => tokio::time::timeout(limit, self.exchange(call))
                .await
                .unwrap_or(Err(Error::CallTimeout { request, limit })),
        };
        if matches!(
            result,
            Err(Error::CallTimeout { .. } | Error::ReplyTooLarge(_))
        ) {
            self.broken = true;
        }
        result
    }

    async fn exchange<T>(&mut self, call: Call<T>) -> Result<T> {
        let line = call.line();
        let stream = self.transport.stream().map_err(Error::write)?;
        with_timeout(self.io_timeout, async {
            stream.write_all(line.as_bytes()).await?;
            stream.flush().await
        })
        .await
        .map_err(Error::write)?;
        let mut exchange = call.exchange();
        loop {
            let line = self.read_line().await?;
            if let Some(value) = exchange.push_line(&line)? {
                return Ok(value);
            }
        }
    }

    async fn read_line(&mut self) -> Result<String> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(line) = self.reader.next_line()? {
                return Ok(line);
            }
            let stream = self.transport.stream().map_err(Error::read)?;
            let n = match with_timeout(self.io_timeout, stream.read(&mut chunk)).await {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
                Err(e) => return Err(Error::read(e)),
            };
            if n == 0 {
                return Err(Error::Disconnected);
            }
            self.reader.extend(&chunk[..n]);
        }
    }

    proto::command_methods!(async; .await);

    /// Poll `GET TRACKING <id>` once a second until the command finishes or `timeout`
    /// passes; `Ok(None)` on timeout.
    pub async fn wait_for_tracking(
        &mut self,
        id: &TrackingId,
        timeout: Duration,
    ) -> Result<Option<TrackingStatus>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            let status = self.tracking_status(id).await?;
            if status.is_final() {
                return Ok(Some(status));
            }
            let next = tokio::time::Instant::now() + proto::TRACKING_POLL_INTERVAL;
            tokio::time::sleep_until(next.min(deadline)).await;
        }
    }

    /// Say `LOGOUT` (ignoring the answer) and close.
    pub async fn close(mut self) {
        let _ = self.logout().await;
    }
}

async fn connect_tcp(options: &ConnectOptions) -> Result<TcpStream> {
    let no_such_host = || Error::NoSuchHost {
        host: options.host.clone(),
    };
    let addrs: Vec<_> = tokio::net::lookup_host((options.host.as_str(), options.port))
        .await
        .map_err(|_| no_such_host())?
        .collect();
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    match last {
        None => Err(no_such_host()),
        Some(e) => Err(Error::Connect {
            host: options.host.clone(),
            port: options.port,
            source: e.into(),
        }),
    }
}
