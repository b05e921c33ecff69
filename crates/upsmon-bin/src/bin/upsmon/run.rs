//! The monitoring process: the decision logic ([`Monitor`]) wired to upsd sessions,
//! notifications, signals, the privileged parent and the clock.
//!
//! Everything runs on one current-thread runtime. The loop carries out the monitor's actions,
//! then waits for whichever comes first: a session's reply, the monitor's next deadline, a
//! signal, the parent's death, or a watchdog tick.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal;
use nut_daemon::detach::Readiness;
use nut_daemon::notify::{Watchdog, watchdog_due};
use nut_daemon::signals;
use nut_upsmon::{Action, Monitor, MonitorId, PollResult, Time};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::cli::Family;
use super::notifier::Notifier;
use super::privsep::{self, ToParent};
use super::session::{self, Reach, Request};
use super::settings::{self, Settings};

/// Who carries out SHUTDOWNCMD and talks to the service manager.
pub enum Supervisor {
    /// The privileged parent, over the request pipe.
    Parent {
        /// The request pipe.
        pipe: File,
    },
    /// This process itself (`upsmon -p`).
    Direct {
        /// SHUTDOWNCMD.
        shutdowncmd: Option<String>,
        /// POWERDOWNFLAG.
        powerdownflag: Option<PathBuf>,
        /// Release a waiting launcher once ready.
        readiness: Readiness,
    },
}

impl Supervisor {
    fn tell(&mut self, request: ToParent) {
        match self {
            Self::Parent { pipe, .. } => {
                if !privsep::send(pipe, request) && request == ToParent::Shutdown {
                    tracing::error!("Unable to call parent pipe for shutdown");
                }
            }
            Self::Direct { readiness, .. } => request.report(readiness),
        }
    }

    async fn shutdown(&mut self) {
        match self {
            Self::Parent { .. } => self.tell(ToParent::Shutdown),
            Self::Direct {
                shutdowncmd,
                powerdownflag,
                ..
            } => {
                if !nix::unistd::geteuid().is_root() {
                    tracing::warn!("Not root, shutdown may fail");
                }
                let cmd = shutdowncmd.clone();
                let flag = powerdownflag.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    privsep::run_shutdown(cmd.as_deref(), flag.as_deref());
                })
                .await;
            }
        }
    }

    fn is_split(&self) -> bool {
        matches!(self, Self::Parent { .. })
    }
}

/// What the monitoring process starts with.
pub struct Start {
    /// upsmon.conf.
    pub settings: Settings,
    /// Carries out SHUTDOWNCMD.
    pub supervisor: Supervisor,
    /// Connect / I/O timeout.
    pub timeout: Duration,
    /// `-4` / `-6`.
    pub family: Option<Family>,
    /// systemd's watchdog interval, if it asked for one.
    pub watchdog: Option<Duration>,
    /// The parent's pipe whose EOF means it died (split mode).
    pub lifeline: Option<OwnedFd>,
    /// Whether the process was detached by a parent that is not the service manager's
    /// process (its stdio then goes to /dev/null once ready).
    pub detached_child: bool,
}

/// Build the runtime and run until exit; returns the exit code.
pub fn main(start: Start) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("Can't start the runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(run(start))
}

/// Replies held back until every earlier request has been answered, so that the monitor sees
/// outcomes in the order it asked (NUT polls its UPSes one after the other; ours are polled
/// at the same time, but notifications still come out in MONITOR order).
///
/// A request that is not answered must not hold back the others: a reply waits at most
/// [`ORDER_HOLD`] for earlier ones ([`InOrder::hold_until`]), then [`InOrder::release`] hands
/// over whatever has arrived and passes the unanswered tickets by; their replies are delivered
/// as soon as they come. Servers that answer (within milliseconds of each other) keep the
/// order; a hung one costs the others no more than the hold.
#[derive(Default)]
struct InOrder {
    next_seq: u64,
    /// Tickets in order, with the reply and when it arrived once it has.
    waiting: BTreeMap<u64, Option<(MonitorId, PollResult, Time)>>,
    passed_by: std::collections::BTreeSet<u64>,
}

/// How long a reply waits for the replies to earlier requests.
const ORDER_HOLD: Duration = Duration::from_millis(250);

impl InOrder {
    fn ticket(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.waiting.insert(seq, None);
        seq
    }

    /// Record a reply that arrived at `now`; return the replies that can now be delivered,
    /// in order.
    fn arrived(
        &mut self,
        seq: u64,
        id: MonitorId,
        result: PollResult,
        now: Time,
    ) -> Vec<(MonitorId, PollResult)> {
        if self.passed_by.remove(&seq) {
            return vec![(id, result)];
        }
        if let Some(slot) = self.waiting.get_mut(&seq) {
            *slot = Some((id, result, now));
        }
        let mut ready = Vec::new();
        while let Some(entry) = self.waiting.first_entry() {
            if entry.get().is_none() {
                break;
            }
            if let Some((id, result, _)) = entry.remove() {
                ready.push((id, result));
            }
        }
        ready
    }

    /// When the oldest held reply has waited long enough for earlier ones.
    fn hold_until(&self) -> Option<Time> {
        let hold = Time::from_duration(ORDER_HOLD).as_millis();
        self.waiting
            .values()
            .flatten()
            .map(|(_, _, at)| at.plus_millis(hold))
            .min()
    }

    /// Every reply that has arrived, in order, passing by the tickets still unanswered.
    fn release(&mut self) -> Vec<(MonitorId, PollResult)> {
        let mut ready = Vec::new();
        for (seq, reply) in std::mem::take(&mut self.waiting) {
            match reply {
                Some((id, result, _)) => ready.push((id, result)),
                None => {
                    self.passed_by.insert(seq);
                }
            }
        }
        ready
    }
}

/// Feeds the service manager's watchdog only while the monitor makes progress (NUT pings
/// from its main loop, once per poll round and from inside the shutdown waits): a monitor
/// that stopped deciding gets no ping, so `WatchdogSec=` restarts the service.
struct WatchdogGate {
    interval: Duration,
    reported: bool,
}

impl WatchdogGate {
    /// Whether to ping now; logs once when pings are withheld.
    fn should_ping(&mut self, monitor: &Monitor, now: Time) -> bool {
        // A deadline may be overdue by a little while the loop is busy; more than half the
        // watchdog interval means nothing is deciding any more.
        if monitor.is_stalled(now, self.interval / 2) {
            if !self.reported {
                self.reported = true;
                tracing::error!(
                    "The monitoring loop has stalled: not feeding the watchdog any more"
                );
            }
            return false;
        }
        self.reported = false;
        true
    }
}

struct Shell {
    settings: Settings,
    supervisor: Supervisor,
    timeout: Duration,
    family: Option<Family>,
    epoch: Instant,
    monitor: Monitor,
    sessions: BTreeMap<MonitorId, session::Handle>,
    results: mpsc::UnboundedSender<session::Reply>,
    in_order: InOrder,
    /// Status polls sent to each session and not answered yet.
    polls_outstanding: BTreeMap<MonitorId, u64>,
    notifier: Notifier,
}

impl Shell {
    fn now(&self) -> Time {
        Time::from_duration(self.epoch.elapsed())
    }

    fn reach(&self, system: &str) -> Option<(settings::Target, Reach)> {
        let target = self.settings.target(system)?.clone();
        let tls = self
            .settings
            .tls
            .mode_for(target.id.host_or_default(), target.id.port_or_default());
        Some((
            target,
            Reach {
                tls,
                timeout: self.timeout,
                family: self.family,
                log_throttle: self.settings.pollfail_log_throttle_max,
            },
        ))
    }

    /// Hand a request to the session of `id`, starting it if needed.
    fn send(&mut self, id: MonitorId, request: Request) {
        if request == Request::Poll {
            // The session is still busy with an earlier poll (a server that is slow to answer
            // or a connect timeout): its answer, when it comes, serves this round as well.
            // Queuing another would pile up polls behind a hung server.
            let outstanding = self.polls_outstanding.entry(id).or_default();
            if *outstanding > 0 {
                tracing::debug!("poll of {id} still outstanding, not queuing another");
                return;
            }
            *outstanding += 1;
        }
        let seq = self.in_order.ticket();
        if !self.sessions.contains_key(&id) {
            // Every monitor entry comes from the settings, so the target is always found.
            let found = self
                .monitor
                .entry(id)
                .map(|e| e.system.clone())
                .and_then(|system| self.reach(&system));
            if let Some((target, reach)) = found {
                let handle = session::spawn(id, target, reach, self.results.clone());
                self.sessions.insert(id, handle);
            }
        }
        let sent = self
            .sessions
            .get(&id)
            .is_some_and(|handle| handle.send(seq, request));
        if !sent {
            let failure = match request {
                Request::SetFsd => PollResult::FsdFailed,
                _ => PollResult::CommFailure,
            };
            self.deliver(seq, id, request, failure);
        }
    }

    /// A session's reply, passed on to the monitor in request order.
    fn deliver(&mut self, seq: u64, id: MonitorId, request: Request, result: PollResult) {
        if request == Request::Poll
            && let Some(n) = self.polls_outstanding.get_mut(&id)
        {
            *n = n.saturating_sub(1);
        }
        let arrived = self.now();
        for (id, result) in self.in_order.arrived(seq, id, result, arrived) {
            let now = self.now();
            self.monitor.handle_poll(now, id, result);
        }
    }

    /// When [`Shell::timeout`] is due: the monitor's deadline, or a held reply's.
    fn deadline(&self) -> Option<Time> {
        match (self.monitor.poll_timeout(), self.in_order.hold_until()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The monitor's deadline or a reply's hold has passed: first hand the monitor every reply
    /// that has arrived (a request still unanswered must not hold them back any longer), then
    /// the timeout (which does nothing before the monitor's own deadline).
    fn timeout(&mut self) {
        for (id, result) in self.in_order.release() {
            let now = self.now();
            self.monitor.handle_poll(now, id, result);
        }
        let now = self.now();
        self.monitor.handle_timeout(now);
    }

    /// Carry out every pending action. Returns `true` when the monitor asked to exit.
    async fn act(&mut self) -> bool {
        while let Some(action) = self.monitor.poll_action() {
            match action {
                Action::Poll(id) => self.send(id, Request::Poll),
                Action::SetFsd(id) => self.send(id, Request::SetFsd),
                Action::QueryNumLogins(id) => self.send(id, Request::NumLogins),
                Action::Notify(n) => self.notifier.notify(&n),
                Action::AnnounceShutdown => {
                    // The monitor has logged it already.
                    self.notifier
                        .wall("Executing automatic power-fail shutdown");
                }
                Action::Shutdown => self.supervisor.shutdown().await,
                Action::Disconnect(id) => {
                    if let Some(handle) = self.sessions.remove(&id) {
                        // Its queued requests are still answered (see `deliver`), but a new
                        // session starts with nothing outstanding.
                        self.polls_outstanding.remove(&id);
                        tokio::spawn(handle.close());
                    }
                }
                Action::Exit => {
                    tracing::info!("Exiting upsmon program after initiating shutdown");
                    return true;
                }
            }
        }
        false
    }

    fn reload(&mut self) {
        tracing::info!("Reloading configuration");
        self.supervisor.tell(ToParent::Reloading);
        match settings::load(&self.settings.path) {
            Ok((new, warnings)) => {
                for w in warnings {
                    tracing::warn!("{w}");
                }
                for note in &new.ignored {
                    tracing::warn!("Warning: {note}");
                }
                if self.supervisor.is_split() {
                    for directive in self.settings.parent_only_changes(&new) {
                        tracing::warn!("Warning: {directive} redefined in split-process mode!");
                        tracing::warn!("You must restart upsmon for this change to work");
                    }
                }
                match self.monitor.reload(new.monitor.clone(), new.entries()) {
                    Ok(()) => {
                        self.notifier
                            .reconfigure(new.notify.clone(), new.notifycmd.clone());
                        if let Supervisor::Direct {
                            shutdowncmd,
                            powerdownflag,
                            ..
                        } = &mut self.supervisor
                        {
                            shutdowncmd.clone_from(&new.shutdowncmd);
                            powerdownflag.clone_from(&new.powerdownflag);
                        }
                        self.settings = new;
                    }
                    Err(e) => tracing::error!("Not reloading {}: {e}", new.path.display()),
                }
            }
            Err(e) => tracing::error!("Not reloading: {e}"),
        }
        self.supervisor.tell(ToParent::Reloaded);
    }

    /// Log out of every upsd, all at once, for at most [`CLOSE_LIMIT`]: a session still
    /// waiting on a server that does not answer must not keep the process from exiting
    /// (after SHUTDOWNCMD, or on a stop request).
    async fn close_sessions(&mut self) {
        let mut closing = tokio::task::JoinSet::new();
        for (_, handle) in std::mem::take(&mut self.sessions) {
            closing.spawn(handle.close());
        }
        let all = async { while closing.join_next().await.is_some() {} };
        if tokio::time::timeout(CLOSE_LIMIT, all).await.is_err() {
            tracing::warn!(
                "Not waiting any longer for {} upsd session(s) to log out",
                closing.len()
            );
        }
    }
}

async fn run(start: Start) -> u8 {
    let epoch = Instant::now();
    let monitor = match Monitor::new(
        start.settings.monitor.clone(),
        start.settings.entries(),
        Time::ZERO,
    ) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!("{e}");
            return 1;
        }
    };
    let (results_tx, mut results) = mpsc::unbounded_channel();
    let notifier = Notifier::new(
        start.settings.notify.clone(),
        start.settings.notifycmd.clone(),
    );
    let mut signals = match Signals::new() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("Can't set up signal handling: {e}");
            return 1;
        }
    };
    let mut shell = Shell {
        settings: start.settings,
        supervisor: start.supervisor,
        timeout: start.timeout,
        family: start.family,
        epoch,
        monitor,
        sessions: BTreeMap::new(),
        results: results_tx,
        in_order: InOrder::default(),
        polls_outstanding: BTreeMap::new(),
        notifier,
    };
    // The monitor's deadlines on one timerfd: tokio's timer wheel wakes the loop up to twice
    // early before a deadline seconds away (two extra wake-ups per poll of an idle upsmon).
    let mut alarm = match nut_daemon::alarm::Alarm::new() {
        Ok(a) => a,
        Err(e) => {
            tracing::error!("Can't set up the loop's timer: {e}");
            return 1;
        }
    };
    let parent_gone = parent_death(start.lifeline);
    tokio::pin!(parent_gone);
    let mut parent_is_gone = false;
    let mut gate = start.watchdog.map(|interval| WatchdogGate {
        interval,
        reported: false,
    });
    let mut watchdog = start
        .watchdog
        .map(|interval| Watchdog::new(interval, std::time::Instant::now()));

    shell.supervisor.tell(ToParent::Ready);
    if start.detached_child {
        nut_daemon::detach::stdio_to_null();
    }

    // A stop request that came while a decided shutdown had to be finished.
    let mut deferred_stop: Option<i32> = None;
    loop {
        if shell.act().await {
            break;
        }
        if let Some(n) = deferred_stop
            && !shell.monitor.must_finish_shutdown()
        {
            tracing::info!("Signal {n}: exiting now that the shutdown has been carried out");
            shell.supervisor.tell(ToParent::Stopping);
            break;
        }
        let deadline = shell.deadline().map(|t| epoch.into_std() + t.as_duration());
        if let Err(e) = alarm.set(deadline) {
            tracing::error!("Can't set the loop's timer: {e}");
            return 1;
        }
        tokio::select! {
            Some((seq, id, request, result)) = results.recv() => {
                shell.deliver(seq, id, request, result);
            }
            rang = alarm.ring() => match rang {
                Ok(()) => shell.timeout(),
                Err(e) => {
                    tracing::error!("The loop's timer failed: {e}");
                    return 1;
                }
            },
            () = &mut parent_gone, if !parent_is_gone => {
                parent_is_gone = true;
            }
            () = watchdog_due(&mut watchdog) => {
                let now = shell.now();
                if gate.as_mut().is_some_and(|g| g.should_ping(&shell.monitor, now)) {
                    shell.supervisor.tell(ToParent::Watchdog);
                }
            }
            signal = signals.next() => match signal {
                Sig::Stop(n) if shell.monitor.must_finish_shutdown() => {
                    // As NUT: once the shutdown is decided it is carried out (FSD is latched
                    // upstream, the secondaries are going down); the stop request is ignored.
                    tracing::warn!(
                        "Signal {n}: shutdown in progress, not exiting before it is carried out"
                    );
                    deferred_stop = Some(n);
                }
                Sig::Stop(n) => {
                    tracing::info!("Signal {n}: exiting");
                    shell.supervisor.tell(ToParent::Stopping);
                    break;
                }
                Sig::Reload => shell.reload(),
                Sig::Fsd => {
                    tracing::info!("Signal 10: User requested FSD");
                    tracing::info!("Got an FSD signal, initiating forced shutdown");
                    let now = shell.now();
                    shell.monitor.request_fsd(now);
                }
            },
        }
        if parent_is_gone {
            // The monitor limits NOPARENT to one every two minutes.
            let now = shell.now();
            shell.monitor.handle_parent_gone(now);
        }
    }
    shell.close_sessions().await;
    shell.notifier.flush(FLUSH_LIMIT).await;
    0
}

/// How long an exiting upsmon waits for queued NOTIFYCMDs to start (each waits
/// [`super::notifier::ORDER_GRACE`] at most).
const FLUSH_LIMIT: Duration = Duration::from_secs(5);

/// How long an exiting upsmon waits for its sessions to log out.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// Resolves when the parent's end of the lifeline closes (never without a parent).
async fn parent_death(lifeline: Option<OwnedFd>) {
    let Some(fd) = lifeline else {
        return std::future::pending().await;
    };
    let Ok(mut pipe) = tokio::net::unix::pipe::Receiver::from_owned_fd(fd) else {
        return std::future::pending().await;
    };
    let mut buf = [0u8; 16];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => {
                tracing::error!("Parent died - shutdown impossible");
                return;
            }
            Ok(_) => {}
        }
    }
}

/// The signals the monitoring process reacts to.
enum Sig {
    /// SIGTERM, SIGINT, SIGQUIT (with the number, for the log line).
    Stop(i32),
    /// SIGHUP.
    Reload,
    /// SIGUSR1.
    Fsd,
}

/// upsmon's signals ([`signals::DRIVER`]: USR1 requests FSD, USR2 is ignored as in NUT).
struct Signals(signals::Signals);

impl Signals {
    fn new() -> std::io::Result<Self> {
        signals::Signals::new(&signals::DRIVER).map(Self)
    }

    async fn next(&mut self) -> Sig {
        loop {
            match self.0.recv().await {
                Signal::SIGHUP => return Sig::Reload,
                Signal::SIGUSR1 => return Sig::Fsd,
                Signal::SIGUSR2 => {}
                stop => return Sig::Stop(stop as i32),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_delivered_in_request_order() {
        let mut order = InOrder::default();
        let (a, b, c) = (order.ticket(), order.ticket(), order.ticket());
        let id = |m: &Monitor, i: usize| m.monitor_ids().nth(i).expect("entry");
        let entries = vec![
            nut_upsmon::MonitorEntry::new("a@h", 1, "u", "p", nut_upsmon::Role::Primary),
            nut_upsmon::MonitorEntry::new("b@h", 1, "u", "p", nut_upsmon::Role::Primary),
        ];
        let monitor =
            Monitor::new(nut_upsmon::MonitorConfig::default(), entries, Time::ZERO).expect("valid");
        let (ua, ub) = (id(&monitor, 0), id(&monitor, 1));
        // The last reply first: held back.
        assert!(
            order
                .arrived(c, ub, PollResult::NumLogins(3), Time::ZERO)
                .is_empty()
        );
        assert!(
            order
                .arrived(b, ub, PollResult::NumLogins(2), Time::ZERO)
                .is_empty()
        );
        // The first one releases all three, in order.
        let out = order.arrived(a, ua, PollResult::NumLogins(1), Time::ZERO);
        assert_eq!(
            out,
            vec![
                (ua, PollResult::NumLogins(1)),
                (ub, PollResult::NumLogins(2)),
                (ub, PollResult::NumLogins(3)),
            ]
        );
        assert!(order.waiting.is_empty());
        // A reply for an unknown ticket is dropped.
        assert!(
            order
                .arrived(99, ua, PollResult::FsdSet, Time::ZERO)
                .is_empty()
        );
    }

    #[test]
    fn the_watchdog_is_fed_only_while_the_monitor_keeps_its_deadlines() {
        let entries = vec![nut_upsmon::MonitorEntry::new(
            "a@h",
            1,
            "u",
            "p",
            nut_upsmon::Role::Primary,
        )];
        let mut monitor =
            Monitor::new(nut_upsmon::MonitorConfig::default(), entries, Time::ZERO).expect("valid");
        while monitor.poll_action().is_some() {}
        let mut gate = WatchdogGate {
            interval: Duration::from_secs(10),
            reported: false,
        };
        // The round is open until POLLFREQ (5 s): fine, and a little after it as well.
        assert!(gate.should_ping(&monitor, Time::from_secs(4)));
        assert!(gate.should_ping(&monitor, Time::from_secs(10)));
        // Nobody served the deadline for more than half the interval: no ping.
        assert!(!gate.should_ping(&monitor, Time::from_millis(10_001)));
        assert!(gate.reported);
        // The loop catches up: pings again.
        monitor.handle_timeout(Time::from_millis(10_001));
        assert!(gate.should_ping(&monitor, Time::from_millis(10_002)));
        assert!(!gate.reported);
    }

    #[test]
    fn an_unanswered_request_holds_the_others_back_only_until_released() {
        let mut order = InOrder::default();
        let (a, b, c) = (order.ticket(), order.ticket(), order.ticket());
        let entries = vec![
            nut_upsmon::MonitorEntry::new("a@h", 1, "u", "p", nut_upsmon::Role::Primary),
            nut_upsmon::MonitorEntry::new("b@h", 1, "u", "p", nut_upsmon::Role::Primary),
        ];
        let monitor =
            Monitor::new(nut_upsmon::MonitorConfig::default(), entries, Time::ZERO).expect("valid");
        let ids: Vec<MonitorId> = monitor.monitor_ids().collect();
        // a hangs; b and c have answered and wait behind it.
        assert!(order.hold_until().is_none());
        let b_reply = order.arrived(b, ids[1], PollResult::status("OL"), Time::from_millis(100));
        assert!(b_reply.is_empty());
        let c_reply = order.arrived(c, ids[1], PollResult::NumLogins(1), Time::from_millis(300));
        assert!(c_reply.is_empty());
        // They wait for a at most ORDER_HOLD from the first arrival.
        assert_eq!(order.hold_until(), Some(Time::from_millis(350)));
        assert_eq!(
            order.release(),
            vec![
                (ids[1], PollResult::status("OL")),
                (ids[1], PollResult::NumLogins(1))
            ]
        );
        // Later tickets no longer wait for a.
        let d = order.ticket();
        assert_eq!(
            order.arrived(d, ids[1], PollResult::FsdSet, Time::from_secs(1)),
            vec![(ids[1], PollResult::FsdSet)]
        );
        // a's late answer is delivered when it comes.
        assert_eq!(
            order.arrived(a, ids[0], PollResult::CommFailure, Time::from_secs(2)),
            vec![(ids[0], PollResult::CommFailure)]
        );
        assert!(order.waiting.is_empty() && order.passed_by.is_empty());
    }
}
