//! Repeater mode: mirror a UPS of a remote upsd (`port = ups@host[:port]`), the proxy of
//! the NUT FAQ, with three improvements over NUT 2.8.0's repeater (which copies every value
//! as a 32-character RW string, offers only `load.off` and forwards nothing):
//!
//! * types are mirrored: RW, STRING length, enums and ranges as the remote upsd reports
//!   them, and the remote UPS's instant commands;
//! * SET and INSTCMD are forwarded to the remote upsd, logged in with the section's
//!   `username`/`password`, and their tracked result becomes the local result;
//! * while the remote upsd cannot be reached the data is marked stale (NUT keeps serving
//!   the last values as fresh); the framework retries with back-off;
//! * TLS toward the remote upsd can be required, in NUT's words (upsmon.conf, nutauth.conf):
//!   `certverify = yes` with `certpath = <CA file or dir>` (and `certhost = <name>`), or
//!   `certpin = <the remote's certificate>`, or `forcessl = yes` (encrypted, not
//!   authenticated); a password about to go out in clear text is warned about.
//!
//! Forwarded commands run in a task of their own, on a connection of their own: waiting up
//! to [`TRACKING_TIMEOUT`] for a remote result must not stop the driver from polling and
//! serving its socket (the framework answers the client's tracking id when the result
//! arrives: [`Outcome::Later`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nut_client::aio::Client;
use nut_client::{ConnectOptions, ErrCode, Error, TlsSettings, TrackingStatus, UpsId, ValueKind};
use nut_driver::{CmdStatus, DriverConfig, DriverError, Outcome, State, VarFlags};
use tokio::sync::{mpsc, oneshot};

/// Bound on every exchange with the remote upsd, so a hung server cannot freeze the driver.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on each request's whole reply, however steadily the remote drips it.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The ups.conf keys of the TLS policy ([`TlsSettings`] keywords).
const TLS_KEYS: [&str; 5] = ["forcessl", "certverify", "certpath", "certhost", "certpin"];
/// Already warned that the password goes out in clear text (once per process: both the
/// polling connection and the forwarding one log in).
static WARNED_CLEAR: AtomicBool = AtomicBool::new(false);
/// How long a forwarded SET/INSTCMD may take to report its result.
const TRACKING_TIMEOUT: Duration = Duration::from_secs(10);

/// The repeater.
pub struct Repeater {
    target: UpsId,
    options: ConnectOptions,
    username: Option<String>,
    password: Option<String>,
    strict_start: bool,
    client: Option<Client>,
    tracking: bool,
    /// Lower-cased names of the variables taken from the remote, with their value.
    mirrored: BTreeMap<String, String>,
    commands: BTreeSet<String>,
    /// The connection broke after having worked: say so when it is back.
    lost: bool,
    /// The forwarding task, started with the first forwarded command.
    forwarder: Option<mpsc::UnboundedSender<Job>>,
}

fn describe(e: &Error) -> String {
    e.client_message()
}

impl Repeater {
    /// Check the port and the options.
    pub fn new(cfg: &DriverConfig) -> Result<Self, DriverError> {
        let target = UpsId::parse(&cfg.port).map_err(|_| {
            DriverError::new(
                "Error: invalid UPS definition.\nRequired format: upsname[@hostname[:port]]",
            )
        })?;
        let mut tls = TlsSettings::default();
        for key in TLS_KEYS {
            if let Some(value) = cfg.value(key) {
                tls.set(key, value)
                    .map_err(|e| DriverError::new(format!("Error: ups.conf: {e}")))?;
            }
        }
        let mode = tls.mode().map_err(|e| {
            // In ups.conf the keywords are spelled in lower case.
            let e = TLS_KEYS
                .iter()
                .fold(e, |e, key| e.replace(&key.to_ascii_uppercase(), key));
            DriverError::new(format!("Error: ups.conf: {e}"))
        })?;
        mode.check()
            .map_err(|e| DriverError::new(format!("Error: ups.conf: {e}")))?;
        if tls.requires_tls() && !tls.verifies_server() && cfg.value("password").is_some() {
            nut_driver::warning!(
                "Warning: forcessl without certverify or certpin: the password is encrypted \
                 but the remote upsd is not authenticated"
            );
        }
        let options = ConnectOptions::for_ups(&target)
            .connect_timeout(Some(IO_TIMEOUT))
            .io_timeout(Some(IO_TIMEOUT))
            .call_timeout(Some(CALL_TIMEOUT))
            .tls(mode);
        Ok(Self {
            target,
            options,
            username: cfg.value("username").map(str::to_owned),
            password: cfg.value("password").map(str::to_owned),
            strict_start: !cfg.flag("repeater_disable_strict_start"),
            client: None,
            tracking: false,
            mirrored: BTreeMap::new(),
            commands: BTreeSet::new(),
            lost: false,
            forwarder: None,
        })
    }

    /// Connect and copy the remote UPS. Failing is fatal unless
    /// `repeater_disable_strict_start` is set.
    pub async fn start(&mut self, state: &mut State) -> Result<(), DriverError> {
        match self.refresh(state).await {
            Ok(()) => Ok(()),
            Err(e) if self.strict_start => Err(DriverError::new(format!(
                "Error: {}. Any errors encountered starting the repeater mode result in \
                 driver termination, perhaps you want to set the \
                 'repeater_disable_strict_start' option?",
                describe(&e)
            ))),
            Err(e) => {
                nut_driver::warning!("Warning: {}", describe(&e));
                state.data_stale();
                Ok(())
            }
        }
    }

    /// One poll: reconnect if needed, copy the remote variables. A remote that cannot be
    /// read is a lost device for the framework (stale data, retries with back-off); an
    /// `ERR` from a reachable upsd (its driver is down, its data stale) keeps the
    /// connection and makes our data stale at once.
    pub async fn update(&mut self, _now: Instant, state: &mut State) -> Result<(), DriverError> {
        match self.refresh(state).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let why = format!(
                    "Can't get data of {}@{}:{}: {}",
                    self.target.name,
                    self.target.host_or_default(),
                    self.target.port_or_default(),
                    describe(&e)
                );
                if matches!(e, Error::Server { .. }) {
                    return Err(DriverError::DataStale(why));
                }
                if self.client.take().is_some() {
                    self.lost = true;
                }
                Err(DriverError::Disconnected(why))
            }
        }
    }

    async fn connect(&mut self) -> Result<(), Error> {
        let (client, tracking) = connect(&self.link()).await?;
        self.tracking = tracking;
        if std::mem::take(&mut self.lost) {
            nut_driver::notice!(
                "Reconnected to {}@{}",
                self.target.name,
                self.target.host_or_default()
            );
        }
        self.client = Some(client);
        // Types and commands are read again on every connection: the remote may have
        // changed while we were away.
        self.mirrored.clear();
        Ok(())
    }

    /// What a connection to the remote needs.
    fn link(&self) -> Link {
        Link {
            target: self.target.clone(),
            options: self.options.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }

    async fn refresh(&mut self, state: &mut State) -> Result<(), Error> {
        let fresh = self.client.is_none();
        if fresh {
            self.connect().await?;
        }
        let ups = self.target.name.clone();
        let Some(client) = self.client.as_mut() else {
            return Err(Error::Disconnected);
        };
        let vars = client.list_vars(&ups).await?;
        let mut seen = BTreeMap::new();
        let mut new_names = Vec::new();
        for v in vars {
            if v.name.starts_with("driver.") {
                continue;
            }
            let key = v.name.to_ascii_lowercase();
            if !self.mirrored.contains_key(&key) {
                new_names.push(v.name.clone());
            }
            state.set_info(&v.name, &v.value);
            seen.insert(key, v.name);
        }
        for (key, name) in &self.mirrored {
            if !seen.contains_key(key) {
                state.del_info(name);
            }
        }
        for name in &new_names {
            let t = client.get_type(&ups, name).await?;
            let mut flags = VarFlags::NONE;
            flags.rw = t.rw;
            let mut aux = 0;
            if let Some(ValueKind::String { max_len }) = t.kind {
                flags.string = true;
                aux = max_len;
            }
            state.set_flags(name, flags);
            state.set_aux(name, aux);
            if t.enumerated {
                for e in client.list_enum(&ups, name).await? {
                    state.add_enum(name, &e);
                }
            }
            if t.range {
                for r in client.list_range(&ups, name).await? {
                    state.add_range(name, r.min, r.max);
                }
            }
        }
        if fresh {
            let remote: BTreeSet<String> = client.list_commands(&ups).await?.into_iter().collect();
            for gone in self.commands.difference(&remote) {
                state.del_cmd(gone);
            }
            for cmd in &remote {
                state.add_cmd(cmd);
            }
            self.commands = remote;
        }
        self.mirrored = seen;
        Ok(())
    }

    /// Hand a SET or INSTCMD to the forwarding task; its result comes later.
    fn forward(&mut self, what: Forward) -> Outcome {
        let (done, result) = oneshot::channel();
        let mut job = Job { what, done };
        if let Some(tx) = &self.forwarder {
            match tx.send(job) {
                Ok(()) => return Outcome::Later(result),
                Err(mpsc::error::SendError(j)) => job = j,
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(Forwarder::new(self.link()).run(rx));
        // A fresh channel whose receiver is alive: the send cannot fail.
        let _ = tx.send(job);
        self.forwarder = Some(tx);
        Outcome::Later(result)
    }

    /// Forward an instant command.
    pub fn instcmd(&mut self, cmd: &str, param: Option<&str>) -> Outcome {
        self.forward(Forward::Cmd(cmd.to_owned(), param.map(str::to_owned)))
    }

    /// Forward a SET.
    pub fn set_var(&mut self, var: &str, value: &str) -> Outcome {
        self.forward(Forward::Set(var.to_owned(), value.to_owned()))
    }
}

/// Where and as whom to connect.
#[derive(Clone)]
struct Link {
    target: UpsId,
    options: ConnectOptions,
    username: Option<String>,
    password: Option<String>,
}

/// Connect and log in; returns the client and whether tracking could be enabled.
async fn connect(link: &Link) -> Result<(Client, bool), Error> {
    let mut client = Client::connect(&link.options).await?;
    if let Some(user) = &link.username {
        client.username(user).await?;
        if let Some(pass) = &link.password {
            if client.password_in_clear() && !WARNED_CLEAR.swap(true, Ordering::Relaxed) {
                nut_driver::warning!(
                    "Warning: sending the password to {}:{} in clear text (it does not do \
                     TLS); set certverify and certpath, or certpin, to refuse",
                    link.target.host_or_default(),
                    link.target.port_or_default()
                );
            }
            client.password(pass).await?;
        }
    }
    let tracking = client.set_tracking(true).await.is_ok();
    nut_driver::debug!(
        1,
        "Connected to {}@{}",
        link.target.name,
        link.target.host_or_default()
    );
    Ok((client, tracking))
}

/// One forwarded command and where its result goes.
struct Job {
    what: Forward,
    done: oneshot::Sender<CmdStatus>,
}

/// The task that forwards SET and INSTCMD, one at a time, on its own connection.
struct Forwarder {
    link: Link,
    client: Option<Client>,
    tracking: bool,
}

impl Forwarder {
    fn new(link: Link) -> Self {
        Self {
            link,
            client: None,
            tracking: false,
        }
    }

    async fn run(mut self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        while let Some(job) = jobs.recv().await {
            let r = self.forward(&job.what).await;
            let status = self.status_of(r);
            // The driver may have stopped waiting (it is exiting): nothing to do then.
            let _ = job.done.send(status);
        }
    }

    fn status_of(&mut self, result: Result<Option<TrackingStatus>, Error>) -> CmdStatus {
        match result {
            Ok(None) => CmdStatus::Handled,
            Ok(Some(TrackingStatus::Success)) => CmdStatus::Handled,
            Ok(Some(TrackingStatus::Pending)) => CmdStatus::Unknown,
            Ok(Some(TrackingStatus::Error(code))) => map_code(&code),
            Err(Error::Server { code, .. }) => {
                if matches!(
                    code,
                    ErrCode::UsernameRequired | ErrCode::PasswordRequired | ErrCode::AccessDenied
                ) {
                    nut_driver::notice!(
                        "The remote upsd refused: {} (set username and password for this \
                         UPS in ups.conf)",
                        code.as_str()
                    );
                }
                map_code(&code)
            }
            Err(e) => {
                nut_driver::notice!("Forwarding to the remote upsd failed: {}", describe(&e));
                self.client = None;
                CmdStatus::Failed
            }
        }
    }

    /// Send a SET or INSTCMD and wait for its tracked result. A connection that turns out
    /// to be dead (the remote upsd restarted since the last command) is replaced once.
    async fn forward(&mut self, what: &Forward) -> Result<Option<TrackingStatus>, Error> {
        match self.forward_once(what).await {
            Err(e) if !matches!(e, Error::Server { .. }) => {
                nut_driver::debug!(1, "forwarding failed ({}); reconnecting", describe(&e));
                self.client = None;
                self.forward_once(what).await
            }
            other => other,
        }
    }

    async fn forward_once(&mut self, what: &Forward) -> Result<Option<TrackingStatus>, Error> {
        if self.client.is_none() {
            let (client, tracking) = connect(&self.link).await?;
            self.client = Some(client);
            self.tracking = tracking;
        }
        let ups = self.link.target.name.clone();
        let tracking = self.tracking;
        let Some(client) = self.client.as_mut() else {
            return Err(Error::Disconnected);
        };
        let id = match what {
            Forward::Set(var, value) => client.set_var(&ups, var, value).await?,
            Forward::Cmd(cmd, param) => client.instcmd(&ups, cmd, param.as_deref()).await?,
        };
        match id {
            Some(id) if tracking => Ok(Some(
                client
                    .wait_for_tracking(&id, TRACKING_TIMEOUT)
                    .await?
                    .unwrap_or(TrackingStatus::Pending),
            )),
            _ => Ok(None),
        }
    }
}

enum Forward {
    Set(String, String),
    Cmd(String, Option<String>),
}

fn map_code(code: &ErrCode) -> CmdStatus {
    match code {
        ErrCode::InvalidArgument
        | ErrCode::InvalidValue
        | ErrCode::TooLong
        | ErrCode::Readonly
        | ErrCode::VarNotSupported
        | ErrCode::CmdNotSupported => CmdStatus::Invalid,
        ErrCode::Unknown => CmdStatus::Unknown,
        _ => CmdStatus::Failed,
    }
}
