//! One upsd session per MONITOR line, as a task: it connects (STARTTLS as configured), logs in
//! (`USERNAME`, `PASSWORD`, `LOGIN`, and `PRIMARY` — or `MASTER` for old servers — for a
//! primary), and answers the decision logic's requests one at a time: a status poll, `FSD`,
//! `GET NUMLOGINS`, and finally `LOGOUT`.
//!
//! Every request gets exactly one reply, so the monitor's poll rounds always complete. A
//! connection that failed at the socket level is dropped and re-made by the next status poll;
//! `FSD` and `GET NUMLOGINS` (the shutdown sequence) only use an existing connection and fail
//! at once without one. An `ERR` reply leaves the connection open (NUT does the same).

use std::time::Duration;

use nut_client::aio::Client;
use nut_client::{ConnectOptions, Error, TlsMode};
use nut_core::names::{Status, StatusToken};
use nut_upsmon::{MonitorId, PollResult};
use tokio::sync::mpsc;

use super::cli::Family;
use super::settings::Target;

/// What the monitor asks of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Read the status (connecting and logging in first if needed).
    Poll,
    /// `FSD <ups>`.
    SetFsd,
    /// `GET NUMLOGINS <ups>`.
    NumLogins,
}

/// How to reach upsd, shared by all sessions.
#[derive(Clone, Debug)]
pub struct Reach {
    /// TLS policy for this target, or why none can be applied (then connecting fails).
    pub tls: Result<TlsMode, String>,
    /// Connect and I/O timeout (NUT uses the connect timeout for both).
    pub timeout: Duration,
    /// `-4` / `-6`.
    pub family: Option<Family>,
    /// POLLFAIL_LOG_THROTTLE_MAX.
    pub log_throttle: i32,
}

/// The monitor's side of a session task.
#[derive(Debug)]
pub struct Handle {
    requests: mpsc::UnboundedSender<Msg>,
    done: tokio::task::JoinHandle<()>,
}

enum Msg {
    Request(u64, Request),
    Close,
}

/// A reply: the request's sequence number, the UPS, the request, the outcome.
pub type Reply = (u64, MonitorId, Request, PollResult);

impl Handle {
    /// Queue a request tagged `seq`; its result arrives on the results channel given to
    /// [`spawn`]. Returns `false` if the task is gone (then no reply will come).
    pub fn send(&self, seq: u64, request: Request) -> bool {
        self.requests.send(Msg::Request(seq, request)).is_ok()
    }

    /// Say `LOGOUT` after the queued requests and end the task; resolves when it is done.
    pub async fn close(self) {
        let _ = self.requests.send(Msg::Close);
        let _ = self.done.await;
    }
}

/// Start the session task for `target`.
pub fn spawn(
    id: MonitorId,
    target: Target,
    reach: Reach,
    results: mpsc::UnboundedSender<Reply>,
) -> Handle {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let done = tokio::spawn(async move {
        let mut session = Session {
            target,
            reach,
            client: None,
            buzzwords: Buzzwords::Unknown,
            failures: 0,
        };
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Request(seq, request) => {
                    let result = session.handle(request).await;
                    if results.send((seq, id, request, result)).is_err() {
                        break;
                    }
                }
                Msg::Close => break,
            }
        }
        session.logout().await;
    });
    Handle { requests: tx, done }
}

/// Whether the UPS publishes an economy-mode variable (asked once per connection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Buzzwords {
    Unknown,
    Var(&'static str),
    None,
}

const BUZZWORD_VARS: [&str; 2] = ["ups.mode.buzzwords", "experimental.ups.mode.buzzwords"];

/// Why a session could not be set up.
enum SetupError {
    /// No connection (refused, timed out, TLS failure…).
    Connect,
    /// Connected, but the login was refused; the connection is still usable for reading.
    Login(Client),
}

struct Session {
    target: Target,
    reach: Reach,
    client: Option<Client>,
    buzzwords: Buzzwords,
    /// Consecutive failed polls, for POLLFAIL_LOG_THROTTLE_MAX.
    failures: u64,
}

impl Session {
    fn sys(&self) -> &str {
        &self.target.entry.system
    }

    fn ups(&self) -> &str {
        &self.target.id.name
    }

    async fn handle(&mut self, request: Request) -> PollResult {
        if self.client.is_none() && request != Request::Poll {
            // FSD and NUMLOGINS are the shutdown sequence (and the keep-alive after it): use
            // the connection the polls made, or give up at once, as NUT does. Reconnecting
            // here could cost a connect timeout per step against a black-holed server.
            tracing::debug!("UPS [{}]: not connected, {request:?} not sent", self.sys());
            return match request {
                Request::SetFsd => PollResult::FsdFailed,
                _ => PollResult::CommFailure,
            };
        }
        if self.client.is_none() {
            match self.setup().await {
                Ok(client) => self.client = Some(client),
                Err(SetupError::Connect) => {
                    return match request {
                        Request::SetFsd => PollResult::FsdFailed,
                        _ => PollResult::CommFailure,
                    };
                }
                Err(SetupError::Login(client)) => {
                    // As NUT: the connection stays and later polls read the status (which
                    // needs no login); only this round goes without one.
                    self.client = Some(client);
                    if request == Request::Poll {
                        return PollResult::NoLogin;
                    }
                }
            }
        }
        match request {
            Request::Poll => self.poll().await,
            Request::SetFsd => self.set_fsd().await,
            Request::NumLogins => self.num_logins().await,
        }
    }

    /// Connect and log in (NUT's `try_connect` + `do_upsd_auth`).
    async fn setup(&mut self) -> Result<Client, SetupError> {
        let sys = self.sys().to_owned();
        let tls = match &self.reach.tls {
            Ok(mode) => mode.clone(),
            Err(why) => {
                self.log_failure(&format!("UPS [{sys}]: connect failed: {why}"));
                return Err(SetupError::Connect);
            }
        };
        let options = match self.options(tls).await {
            Ok(o) => o,
            Err(e) => {
                self.log_failure(&format!(
                    "UPS [{sys}]: connect failed: {}",
                    e.client_message()
                ));
                return Err(SetupError::Connect);
            }
        };
        let mut client = match Client::connect(&options).await {
            Ok(c) => c,
            Err(e) => {
                self.log_failure(&format!(
                    "UPS [{sys}]: connect failed: {}",
                    e.client_message()
                ));
                return Err(SetupError::Connect);
            }
        };
        tracing::debug!(
            "Connected to UPS [{sys}]{}",
            if client.is_tls() { " with TLS" } else { "" }
        );
        let entry = &self.target.entry;
        if let Err(e) = client.username(&entry.username).await {
            tracing::error!("Set username on [{sys}] failed: {}", e.client_message());
            return Err(setup_error(e, client));
        }
        if let Err(e) = client.password(&entry.password).await {
            tracing::error!("Set password on [{sys}] failed: {}", e.client_message());
            return Err(setup_error(e, client));
        }
        let ups = self.ups().to_owned();
        if let Err(e) = client.login(&ups).await {
            tracing::error!("Login on UPS [{sys}] failed - got [{}]", reply_text(&e));
            return Err(setup_error(e, client));
        }
        if entry.is_primary() {
            let granted = match client.primary(&ups).await {
                Ok(()) => Ok(()),
                // Servers before 2.8 only know the old word.
                Err(Error::Server { .. }) => client.master(&ups).await,
                Err(e) => Err(e),
            };
            if let Err(e) = granted {
                if !matches!(e, Error::Server { .. }) {
                    return Err(SetupError::Connect);
                }
                // The session stays: monitoring still works, only FSD will fail.
                tracing::error!("Primary managerial privileges unavailable on UPS [{sys}]");
                tracing::error!("Reason: {}", e.client_message());
            }
        }
        self.buzzwords = Buzzwords::Unknown;
        Ok(client)
    }

    async fn options(&self, tls: TlsMode) -> Result<ConnectOptions, Error> {
        let id = &self.target.id;
        let host = id.host_or_default().to_owned();
        let port = id.port_or_default();
        let mut tls = tls;
        let host = match self.reach.family {
            None => host,
            Some(family) => {
                // Connect to an address of the requested family; certificates are still
                // checked against the configured name.
                if let TlsMode::Required(o) = &mut tls
                    && o.server_name.is_none()
                {
                    o.server_name = Some(host.clone());
                }
                resolve(&host, port, family).await?
            }
        };
        Ok(ConnectOptions::new(host, port)
            .connect_timeout(Some(self.reach.timeout))
            .io_timeout(Some(self.reach.timeout))
            .tls(tls))
    }

    async fn poll(&mut self) -> PollResult {
        let ups = self.ups().to_owned();
        let Some(client) = self.client.as_mut() else {
            return PollResult::CommFailure;
        };
        let status = match client.get_var(&ups, "ups.status").await {
            Ok(value) => value,
            Err(e) => return self.poll_failed(&e),
        };
        let status = Status::parse(&status);
        let alarm = if status.has(&StatusToken::Alarm) {
            client.get_var(&ups, "ups.alarm").await.ok()
        } else {
            None
        };
        let buzzwords = self.buzzwords(&ups).await;
        if self.failures > 0 {
            self.failures = 0;
        }
        PollResult::Status {
            status,
            alarm,
            buzzwords,
        }
    }

    /// The economy-mode variable, looked up once per connection.
    async fn buzzwords(&mut self, ups: &str) -> Option<String> {
        let client = self.client.as_mut()?;
        match self.buzzwords {
            Buzzwords::None => None,
            Buzzwords::Var(var) => client.get_var(ups, var).await.ok(),
            Buzzwords::Unknown => {
                for var in BUZZWORD_VARS {
                    if let Ok(value) = client.get_var(ups, var).await {
                        self.buzzwords = Buzzwords::Var(var);
                        return Some(value);
                    }
                }
                self.buzzwords = Buzzwords::None;
                None
            }
        }
    }

    fn poll_failed(&mut self, e: &Error) -> PollResult {
        let sys = self.sys().to_owned();
        let message = if e.is_unknown_ups() {
            format!(
                "Poll UPS [{sys}] failed - [{}] does not exist on server {}",
                self.ups(),
                self.target.id.host_or_default()
            )
        } else {
            format!("Poll UPS [{sys}] failed - {}", e.client_message())
        };
        self.log_failure(&message);
        self.drop_if_broken(e);
        PollResult::CommFailure
    }

    /// Log a failed poll as POLLFAIL_LOG_THROTTLE_MAX says: -1 every time, 0 only the first
    /// of a series, N every Nth.
    fn log_failure(&mut self, message: &str) {
        self.failures += 1;
        let throttle = self.reach.log_throttle;
        let log = match u64::try_from(throttle) {
            Err(_) => true,
            Ok(0) => self.failures == 1,
            Ok(n) => self.failures == 1 || self.failures.is_multiple_of(n),
        };
        if log {
            tracing::error!("{message}");
        }
    }

    fn drop_if_broken(&mut self, e: &Error) {
        if !matches!(e, Error::Server { .. }) {
            self.client = None;
        }
    }

    async fn set_fsd(&mut self) -> PollResult {
        let ups = self.ups().to_owned();
        let sys = self.sys().to_owned();
        let Some(client) = self.client.as_mut() else {
            return PollResult::FsdFailed;
        };
        match client.fsd(&ups).await {
            Ok(()) => {
                tracing::info!("Set FSD on UPS [{sys}]");
                PollResult::FsdSet
            }
            Err(e) => {
                tracing::error!("FSD set on UPS [{sys}] failed: {}", e.client_message());
                self.drop_if_broken(&e);
                PollResult::FsdFailed
            }
        }
    }

    async fn num_logins(&mut self) -> PollResult {
        let ups = self.ups().to_owned();
        let Some(client) = self.client.as_mut() else {
            return PollResult::CommFailure;
        };
        match client.get_num_logins(&ups).await {
            Ok(n) => PollResult::NumLogins(u32::try_from(n).unwrap_or(u32::MAX)),
            Err(e) => {
                tracing::debug!("GET NUMLOGINS {ups} failed: {e}");
                self.drop_if_broken(&e);
                PollResult::CommFailure
            }
        }
    }

    async fn logout(&mut self) {
        if let Some(client) = self.client.take() {
            // A server that no longer answers must not hold up the exit.
            let _ = tokio::time::timeout(self.reach.timeout, client.close()).await;
        }
    }
}

fn setup_error(e: Error, client: Client) -> SetupError {
    if matches!(e, Error::Server { .. }) {
        SetupError::Login(client)
    } else {
        SetupError::Connect
    }
}

/// The reply line of a server error, or the error text.
fn reply_text(e: &Error) -> String {
    match e {
        Error::Server { line, .. } => line.clone(),
        other => other.client_message(),
    }
}

/// The first address of `host` in `family`, as text for [`ConnectOptions`].
async fn resolve(host: &str, port: u16, family: Family) -> Result<String, Error> {
    let no_such_host = || Error::NoSuchHost {
        host: host.to_owned(),
    };
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| no_such_host())?;
    addrs
        .map(|a| a.ip())
        .find(|ip| match family {
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        })
        .map(|ip| ip.to_string())
        .ok_or_else(no_such_host)
}
