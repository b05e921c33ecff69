//! The tokio shell around [`Server`] and [`crate::Session`]: a current-thread runtime where
//! every task shares the server through `Rc<RefCell<_>>` (one thread, no locks). After each
//! change the task calls [`Shared::pump`], which carries out what the server queued:
//! driver writes, driver tasks to start or stop, clients to kick, log lines.
//!
//! Time: the main loop sleeps on one [`Alarm`] set to the earliest of the server's
//! [`Server::poll_timeout`], the tasks' pauses (`Shared::pause_until`: driver reconnects,
//! accept errors, TLS handshakes) and the systemd watchdog, and calls
//! [`Server::handle_timeout`] when it rings. With nothing due (no driver connected, no
//! client, no tracking id) it never wakes; a change that creates an earlier deadline
//! ([`Server::poll_timer_changed`], a new pause) re-arms it. The runtime has no timer
//! driver at all: tokio's would cost every request its bookkeeping when the loop parks.

mod client;
mod driver;
pub mod listen;
pub mod tls;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use nut_daemon::alarm::Alarm;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::server::{ClientId, Level, LogLine, Server, ServerEvent};
use crate::ups::UpsKey;

/// Lines a driver task may have waiting. The server refuses commands long before this
/// ([`crate::server::DRIVER_QUEUE_LIMIT`] bytes); it is the backstop for everything else.
const DRIVER_CHANNEL_LINES: usize = 16 * 1024;

struct DriverHandle {
    tx: mpsc::Sender<String>,
    task: JoinHandle<()>,
}

/// Log a line from the server state or the config readers.
pub fn log_line(line: &LogLine) {
    match line.level {
        Level::Info => tracing::info!("{}", line.text),
        Level::Debug(1) => tracing::debug!("{}", line.text),
        Level::Debug(_) => tracing::trace!("{}", line.text),
    }
}

/// What every task of the shell shares.
pub struct Shared {
    server: RefCell<Server>,
    statepath: PathBuf,
    tls: RefCell<Option<tokio_rustls::TlsAcceptor>>,
    drivers: RefCell<HashMap<UpsKey, DriverHandle>>,
    /// Connected clients, for kicks.
    clients: RefCell<HashMap<ClientId, client::ClientSlot>>,
    /// Wakes the main loop to re-arm its alarm for an earlier deadline.
    rearm: Notify,
    /// The tasks waiting for a moment, by (deadline, id).
    pauses: RefCell<Pauses>,
}

/// The pending [`Pause`]s, woken by the main loop's alarm.
#[derive(Default)]
struct Pauses {
    waiting: BTreeMap<(Instant, u64), Waker>,
    next_id: u64,
    /// What the main loop's alarm is set to.
    alarm: Option<Instant>,
}

impl Pauses {
    fn first(&self) -> Option<Instant> {
        self.waiting.keys().next().map(|&(at, _)| at)
    }

    /// Wake every pause due at `now`.
    fn wake_due(&mut self, now: Instant) {
        while let Some(entry) = self.waiting.first_entry() {
            if entry.key().0 > now {
                break;
            }
            entry.remove().wake();
        }
    }
}

/// A task's wait until a moment, on the main loop's alarm ([`Shared::pause_until`]).
pub(super) struct Pause {
    shared: Rc<Shared>,
    at: Instant,
    key: Option<(Instant, u64)>,
}

impl Future for Pause {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut pauses = this.shared.pauses.borrow_mut();
        if Instant::now() >= this.at {
            if let Some(key) = this.key.take() {
                pauses.waiting.remove(&key);
            }
            return Poll::Ready(());
        }
        let key = *this.key.get_or_insert_with(|| {
            pauses.next_id += 1;
            (this.at, pauses.next_id)
        });
        pauses.waiting.insert(key, cx.waker().clone());
        if pauses.alarm.is_none_or(|alarm| this.at < alarm) {
            this.shared.rearm.notify_one();
        }
        Poll::Pending
    }
}

impl Drop for Pause {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.pauses.borrow_mut().waiting.remove(&key);
        }
    }
}

impl Shared {
    /// Carry out everything the server queued.
    pub fn pump(self: &Rc<Self>) {
        if self.server.borrow_mut().poll_timer_changed() {
            self.rearm.notify_one();
        }
        loop {
            let (transmit, event, log) = {
                let mut s = self.server.borrow_mut();
                (s.poll_driver_transmit(), s.poll_event(), s.poll_log())
            };
            if transmit.is_none() && event.is_none() && log.is_none() {
                break;
            }
            if let Some(line) = log {
                log_line(&line);
            }
            if let Some((key, line)) = transmit {
                let len = line.len();
                let sent = self
                    .drivers
                    .borrow()
                    .get(&key)
                    .is_some_and(|handle| handle.tx.try_send(line).is_ok());
                if !sent {
                    // The task is gone (the UPS is shown as down anyway) or hopelessly
                    // behind: the line is dropped and no longer counts as queued.
                    self.server.borrow_mut().driver_written(key, len);
                }
            }
            match event {
                Some(ServerEvent::StartDriver(key, socket)) => self.start_driver(key, socket),
                Some(ServerEvent::StopDriver(key)) => {
                    if let Some(handle) = self.drivers.borrow_mut().remove(&key) {
                        handle.task.abort();
                    }
                }
                Some(ServerEvent::KickClient(id)) => {
                    if let Some(slot) = self.clients.borrow().get(&id) {
                        slot.shut_down();
                    }
                }
                None => {}
            }
        }
    }

    fn start_driver(self: &Rc<Self>, key: UpsKey, socket: String) {
        let (tx, rx) = mpsc::channel(DRIVER_CHANNEL_LINES);
        let task = tokio::task::spawn_local(driver::run(self.clone(), key, socket, rx));
        if let Some(old) = self
            .drivers
            .borrow_mut()
            .insert(key, DriverHandle { tx, task })
        {
            old.task.abort();
        }
    }

    /// Wait until `at` (a task's pause, woken by the main loop's alarm).
    pub(super) fn pause_until(self: &Rc<Self>, at: Instant) -> Pause {
        Pause {
            shared: self.clone(),
            at,
            key: None,
        }
    }

    /// Replace the state after a reload (SIGHUP).
    pub fn reload(self: &Rc<Self>, apply: impl FnOnce(&mut Server)) {
        apply(&mut self.server.borrow_mut());
        self.pump();
    }
}

/// Everything the shell needs to start.
pub struct ShellConfig {
    /// The initial server state.
    pub server: Server,
    /// Bound listeners.
    pub listeners: Vec<std::net::TcpListener>,
    /// Where driver sockets live.
    pub statepath: PathBuf,
    /// TLS, when CERTFILE is set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// systemd's watchdog interval (`WatchdogSec=`), if it watches.
    pub watchdog: Option<Duration>,
}

/// What ended [`run`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// SIGTERM / SIGINT / SIGQUIT.
    Signal(i32),
}

/// Hooks the daemon provides for the run loop.
pub trait Control {
    /// SIGHUP: re-read the configuration and apply it to the server.
    fn reload(&mut self, server: &mut Server);
    /// Called once everything listens and the drivers are being connected.
    fn ready(&mut self);
    /// Called from the main loop whenever a ping is due (half of [`ShellConfig::watchdog`]),
    /// so that a stuck loop stops the pings.
    fn watchdog(&mut self);
}

/// Run the server until a terminating signal. Must be called inside a `LocalSet`.
///
/// The main loop (signals, timers, watchdog) runs as a task of its own: a `LocalSet` polls
/// the future it was given at every wake-up of any of its tasks, so as that future the loop
/// would poll its signal streams and timers once per client request.
pub async fn run(
    config: ShellConfig,
    mut control: impl Control + 'static,
) -> std::io::Result<Exit> {
    let main = tokio::task::spawn_local(async move { main_loop(config, &mut control).await });
    match main.await {
        Ok(exit) => exit,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(std::io::Error::other(e)),
    }
}

async fn main_loop(config: ShellConfig, control: &mut dyn Control) -> std::io::Result<Exit> {
    use nix::sys::signal::Signal;
    use nut_daemon::notify::Watchdog;
    let shared = Rc::new(Shared {
        server: RefCell::new(config.server),
        statepath: config.statepath,
        tls: RefCell::new(config.tls.map(tokio_rustls::TlsAcceptor::from)),
        drivers: RefCell::new(HashMap::new()),
        clients: RefCell::new(HashMap::new()),
        rearm: Notify::new(),
        pauses: RefCell::new(Pauses::default()),
    });
    let mut alarm = Alarm::new()?;
    let mut signals = nut_daemon::signals::Signals::new(&nut_daemon::signals::DAEMON)?;
    for listener in config.listeners {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        tokio::task::spawn_local(client::accept_loop(shared.clone(), listener));
    }
    shared.pump();
    control.ready();
    // The watchdog rides on the loop's one timerfd (no tokio timer: upsd's runtime has no
    // time driver).
    let mut watchdog = config
        .watchdog
        .map(|interval| Watchdog::new(interval, Instant::now()));
    loop {
        let next = [
            shared.server.borrow().poll_timeout(),
            shared.pauses.borrow().first(),
            watchdog.as_ref().map(Watchdog::deadline),
        ]
        .into_iter()
        .flatten()
        .min();
        alarm.set(next)?;
        shared.server.borrow_mut().handle_alarm_set(next);
        shared.pauses.borrow_mut().alarm = next;
        tokio::select! {
            rang = alarm.ring() => {
                rang?;
                let now = Instant::now();
                if watchdog.as_mut().is_some_and(|w| w.advance(now)) {
                    control.watchdog();
                }
                shared.pauses.borrow_mut().wake_due(now);
                shared.server.borrow_mut().handle_timeout(now);
                shared.pump();
            }
            () = shared.rearm.notified() => {}
            signal = signals.recv() => match signal {
                Signal::SIGHUP => {
                    tracing::info!("SIGHUP: reloading configuration");
                    shared.reload(|s| control.reload(s));
                }
                stop => return Ok(Exit::Signal(stop as i32)),
            },
        }
    }
}
