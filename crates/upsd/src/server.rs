//! The server state shared by every client session: the UPS table, users, descriptions,
//! connected clients (for `LIST CLIENT`), tracking results, and the driver links.
//!
//! Sans-IO: the shell feeds it driver lines, connection changes and the time, and drains
//! what it produced with the `poll_*` methods:
//!
//! * [`Server::poll_driver_transmit`] — lines to write to a driver socket;
//! * [`Server::poll_event`] — driver tasks to start/stop, clients to disconnect;
//! * [`Server::poll_log`] — log lines;
//! * [`Server::poll_timeout`] — when [`Server::handle_timeout`] must run next.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use nut_core::net::{TrackingId, TrackingStatus};
use nut_core::sock::mirror::Applied;
use nut_core::sock::{DriverMsg, ServerMsg};

use crate::ups::{CONNECT_FAILURE_LOG_INTERVAL, Link, Ups, UpsDef, UpsKey};
use nut_core::conf::{CmdVarTab, UpsdUsers};

/// Settings that come from upsd.conf and the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// MAXAGE.
    pub maxage: Duration,
    /// TRACKINGDELAY.
    pub tracking_delay: Duration,
    /// Whether STARTTLS can be offered (a usable certificate is loaded).
    pub tls_available: bool,
    /// `FORCESSL`: USERNAME, PASSWORD and privileged commands only over TLS.
    pub force_tls: bool,
    /// MAXCONN: clients connected at once ([`Server::handle_accept`]).
    pub maxconn: usize,
    /// A client that sends nothing for longer than this is disconnected.
    pub idle_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            maxage: Duration::from_secs(u64::from(nut_core::conf::upsd_conf::DEFAULT_MAXAGE)),
            tracking_delay: Duration::from_secs(u64::from(
                nut_core::conf::upsd_conf::DEFAULT_TRACKINGDELAY,
            )),
            tls_available: false,
            force_tls: false,
            maxconn: DEFAULT_MAXCONN,
            idle_timeout: IDLE_TIMEOUT,
        }
    }
}

/// MAXCONN when neither upsd.conf nor the descriptor limit says otherwise.
pub const DEFAULT_MAXCONN: usize = 1024;

/// A client not heard from for longer than this is disconnected (upsd 2.8.0: 60 s).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Deadlines are one millisecond after the instant from which a limit counts as exceeded
/// (the checks use `>`).
const TICK: Duration = Duration::from_millis(1);

/// Bytes queued for one driver and not yet written to its socket beyond which SET and
/// INSTCMD for its UPS are refused (`SET-FAILED` / `INSTCMD-FAILED`): a driver that stops
/// reading cannot make upsd's memory grow.
pub const DRIVER_QUEUE_LIMIT: usize = 512 * 1024;

/// Tracking ids kept at most; past that the oldest is forgotten first (its status then reads
/// `ERR UNKNOWN`, as after TRACKINGDELAY).
pub const TRACKING_LIMIT: usize = 10_000;

/// Log lines of one [`Noise`] class shown per [`LOG_WINDOW`]; the rest are counted and the
/// count is logged when the window ends.
pub const LOG_BURST: u32 = 20;
/// See [`LOG_BURST`].
pub const LOG_WINDOW: Duration = Duration::from_secs(60);

/// Log lines any client can cause at will, throttled per class so that a flood of one kind
/// cannot hide the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Noise {
    /// Protocol misuse: USERNAME, PASSWORD or LOGIN repeated.
    Misuse,
    /// Refused requests: ACCESS-DENIED, FORCESSL, a driver that does not read.
    Refusal,
}

impl Noise {
    const ALL: [Noise; 2] = [Noise::Misuse, Noise::Refusal];

    fn index(self) -> usize {
        self as usize
    }

    fn what(self) -> &'static str {
        match self {
            Noise::Misuse => "protocol misuse messages",
            Noise::Refusal => "refused requests",
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Throttle {
    /// Start of the current window.
    since: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

/// A connected client's handle, issued by [`Server`] only (the field is private to the crate,
/// so a shell cannot make up one that names another client).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub(crate) u64);

/// How important a log line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Always logged.
    Info,
    /// Debug level n (shown with `-D` repeated n times).
    Debug(u8),
}

/// A log line for the shell to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Importance.
    pub level: Level,
    /// The text.
    pub text: String,
}

/// Something the shell has to carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// Start a driver connection task for this UPS (socket file name in STATEPATH).
    StartDriver(UpsKey, String),
    /// Stop the driver connection task of this UPS (removed, or its socket name changed).
    StopDriver(UpsKey),
    /// Disconnect this client (idle for too long, evicted to make room, or its UPS was
    /// removed).
    KickClient(ClientId),
}

#[derive(Clone, Debug)]
struct ClientInfo {
    addr: IpAddr,
    login: Option<UpsKey>,
    /// Its USERNAME and PASSWORD are valid: never evicted to make room.
    trusted: bool,
    /// When it last sent a complete request (or connected).
    last_request: Instant,
    /// When it last sent any bytes (or connected), for the idle limit.
    last_heard: Instant,
    /// Evicted to make room or idle for too long: its connection is being shut down.
    ending: bool,
}

/// What to do with a new connection ([`Server::make_room`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Room {
    /// Below MAXCONN: accept it.
    Free,
    /// MAXCONN reached: disconnect this client, then accept.
    Evict(ClientId),
    /// MAXCONN reached and every client is authenticated: refuse it.
    Full,
}

#[derive(Clone, Debug)]
struct TrackingEntry {
    status: TrackingStatus,
    created: Instant,
}

/// The whole server state.
#[derive(Debug)]
pub struct Server {
    settings: Settings,
    /// In `LIST UPS` order.
    upses: Vec<Ups>,
    next_ups: u64,
    users: UpsdUsers,
    descriptions: CmdVarTab,
    /// Keyed by connection order, so iterating backwards gives newest first.
    clients: BTreeMap<ClientId, ClientInfo>,
    /// Clients being disconnected (evicted or idle) whose connection has not ended yet.
    ending: usize,
    next_client: u64,
    tracking: HashMap<TrackingId, TrackingEntry>,
    /// Tracking ids oldest first (creation order), for expiry and the [`TRACKING_LIMIT`].
    tracking_order: VecDeque<TrackingId>,
    /// Bytes queued per driver link and not yet written ([`DRIVER_QUEUE_LIMIT`]).
    driver_queued: HashMap<UpsKey, usize>,
    throttles: [Throttle; 2],
    rng_state: u64,
    transmits: VecDeque<(UpsKey, String)>,
    events: VecDeque<ServerEvent>,
    logs: VecDeque<LogLine>,
    /// The deadline the shell's alarm is set to ([`Server::handle_alarm_set`]).
    alarm: Option<Instant>,
    /// The alarm must be set again ([`Server::poll_timer_changed`]).
    retime: bool,
}

impl Server {
    /// A server for the UPSes of ups.conf in file order. Emits a
    /// [`ServerEvent::StartDriver`] for each. `seed` feeds the tracking-id generator.
    pub fn new(
        settings: Settings,
        upses: Vec<UpsDef>,
        users: UpsdUsers,
        descriptions: CmdVarTab,
        seed: u64,
    ) -> Server {
        let mut server = Server {
            settings,
            upses: Vec::new(),
            next_ups: 0,
            users,
            descriptions,
            clients: BTreeMap::new(),
            ending: 0,
            next_client: 0,
            tracking: HashMap::new(),
            tracking_order: VecDeque::new(),
            driver_queued: HashMap::new(),
            throttles: [Throttle::default(); 2],
            rng_state: seed,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            logs: VecDeque::new(),
            alarm: None,
            retime: false,
        };
        for def in upses {
            let ups = server.new_ups(def);
            server.upses.push(ups);
        }
        server
    }

    fn new_ups(&mut self, def: UpsDef) -> Ups {
        let key = UpsKey(self.next_ups);
        self.next_ups += 1;
        self.events
            .push_back(ServerEvent::StartDriver(key, def.socket_name()));
        Ups::new(key, def)
    }

    // ---- getters --------------------------------------------------------------------------

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The users.
    pub fn users(&self) -> &UpsdUsers {
        &self.users
    }

    /// The cmdvartab descriptions.
    pub fn descriptions(&self) -> &CmdVarTab {
        &self.descriptions
    }

    /// Every UPS in `LIST UPS` order.
    pub fn upses(&self) -> &[Ups] {
        &self.upses
    }

    /// A UPS by name, ignoring ASCII case.
    pub fn find(&self, name: &str) -> Option<&Ups> {
        self.upses
            .iter()
            .find(|u| u.def.name.eq_ignore_ascii_case(name))
    }

    /// A UPS by name, ignoring ASCII case.
    pub fn find_mut(&mut self, name: &str) -> Option<&mut Ups> {
        self.upses
            .iter_mut()
            .find(|u| u.def.name.eq_ignore_ascii_case(name))
    }

    /// A UPS by handle.
    pub fn ups(&self, key: UpsKey) -> Option<&Ups> {
        self.upses.iter().find(|u| u.key == key)
    }

    fn ups_mut(&mut self, key: UpsKey) -> Option<&mut Ups> {
        self.upses.iter_mut().find(|u| u.key == key)
    }

    /// Number of connected clients.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// The addresses of the clients logged into `key`, newest connection first.
    pub fn clients_of(&self, key: UpsKey) -> impl Iterator<Item = IpAddr> + '_ {
        self.clients
            .values()
            .rev()
            .filter(move |c| c.login == Some(key))
            .map(|c| c.addr)
    }

    // ---- clients --------------------------------------------------------------------------

    /// Register a new client connection.
    pub fn client_connected(&mut self, addr: IpAddr, now: Instant) -> ClientId {
        let id = ClientId(self.next_client);
        self.next_client += 1;
        let info = ClientInfo {
            addr,
            login: None,
            trusted: false,
            last_request: now,
            last_heard: now,
            ending: false,
        };
        self.clients.insert(id, info);
        self.arm(now + self.settings.idle_timeout + TICK);
        id
    }

    /// Forget a client; its LOGIN no longer counts.
    pub fn client_disconnected(&mut self, id: ClientId) {
        let Some(info) = self.clients.remove(&id) else {
            return;
        };
        if info.ending {
            self.ending = self.ending.saturating_sub(1);
        }
        if let Some(key) = info.login
            && let Some(ups) = self.ups_mut(key)
        {
            ups.numlogins = ups.numlogins.saturating_sub(1);
        }
    }

    /// A client sent a complete request line.
    pub(crate) fn client_request(&mut self, id: ClientId, now: Instant) {
        if let Some(info) = self.clients.get_mut(&id) {
            info.last_request = now;
            info.last_heard = now;
        }
    }

    /// A client sent bytes (even a partial line keeps it from being idle, as in upsd).
    pub(crate) fn client_heard(&mut self, id: ClientId, now: Instant) {
        if let Some(info) = self.clients.get_mut(&id) {
            info.last_heard = now;
        }
    }

    /// A new connection from `peer` arrives: [`Server::make_room`] with the configured
    /// MAXCONN. A client evicted to make room is disconnected through a
    /// [`ServerEvent::KickClient`]; on [`Room::Full`] the new connection must be closed.
    pub fn handle_accept(&mut self, peer: IpAddr, now: Instant) -> Room {
        let room = self.make_room(self.settings.maxconn, peer, now);
        if let Room::Evict(id) = room {
            self.events.push_back(ServerEvent::KickClient(id));
        }
        room
    }

    /// A client's USERNAME and PASSWORD turned out valid.
    pub(crate) fn client_trusted(&mut self, id: ClientId) {
        if let Some(info) = self.clients.get_mut(&id) {
            info.trusted = true;
        }
    }

    /// A new connection from `peer` arrives; `maxconn` clients may be connected at once.
    ///
    /// The policy, so that idle or hostile connections can never lock upsmon out: when
    /// MAXCONN is reached, the client that has not authenticated (no valid USERNAME and
    /// PASSWORD) and whose last complete request is the oldest is disconnected to make room;
    /// clients with valid credentials are never evicted. Only when every connected client
    /// has authenticated is the new connection refused, as upsd does.
    pub fn make_room(&mut self, maxconn: usize, peer: IpAddr, now: Instant) -> Room {
        if self.clients.len().saturating_sub(self.ending) < maxconn {
            return Room::Free;
        }
        let victim = self
            .clients
            .iter()
            .filter(|(_, c)| !c.trusted && !c.ending)
            .min_by_key(|(id, c)| (c.last_request, **id))
            .map(|(id, c)| (*id, c.addr));
        let Some((id, addr)) = victim else {
            let text = format!("Rejecting connection from {peer}: MAXCONN ({maxconn}) reached");
            self.log_noisy(Noise::Refusal, now, text);
            return Room::Full;
        };
        self.end_client(id);
        let text = format!(
            "MAXCONN ({maxconn}) reached: disconnecting unauthenticated client {addr}, \
             the longest idle, for {peer}"
        );
        self.log_noisy(Noise::Refusal, now, text);
        Room::Evict(id)
    }

    /// Mark a client as being disconnected: it no longer counts against MAXCONN.
    fn end_client(&mut self, id: ClientId) {
        if let Some(c) = self.clients.get_mut(&id)
            && !c.ending
        {
            c.ending = true;
            self.ending += 1;
        }
    }

    /// Record a client's LOGIN and count it.
    pub(crate) fn client_login(&mut self, id: ClientId, key: UpsKey) {
        if let Some(info) = self.clients.get_mut(&id) {
            info.login = Some(key);
        }
        if let Some(ups) = self.ups_mut(key) {
            ups.numlogins += 1;
        }
    }

    /// Set the FSD latch of a UPS.
    pub(crate) fn set_fsd(&mut self, key: UpsKey) {
        if let Some(ups) = self.ups_mut(key) {
            ups.fsd = true;
        }
    }

    // ---- tracking -------------------------------------------------------------------------

    /// A fresh tracking id, recorded as PENDING.
    pub(crate) fn new_tracking(&mut self, now: Instant) -> TrackingId {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_random().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_random().to_le_bytes());
        let id = TrackingId::new_v4(bytes);
        while self.tracking.len() >= TRACKING_LIMIT {
            let Some(oldest) = self.tracking_order.pop_front() else {
                break;
            };
            self.tracking.remove(&oldest);
        }
        let fresh = self
            .tracking
            .insert(
                id.clone(),
                TrackingEntry {
                    status: TrackingStatus::Pending,
                    created: now,
                },
            )
            .is_none();
        if fresh {
            self.tracking_order.push_back(id.clone());
            self.arm(now + self.settings.tracking_delay + TICK);
        }
        id
    }

    /// Number of tracking ids kept.
    pub fn tracking_count(&self) -> usize {
        self.tracking.len()
    }

    /// The status of a tracking id (`ERR UNKNOWN` when unknown or expired).
    pub(crate) fn tracking_status(&self, id: &TrackingId, now: Instant) -> TrackingStatus {
        match self.tracking.get(id) {
            Some(e) if now.saturating_duration_since(e.created) <= self.settings.tracking_delay => {
                e.status.clone()
            }
            _ => TrackingStatus::unknown_id(),
        }
    }

    fn next_random(&mut self) -> u64 {
        // splitmix64: ids only need to be unique and unguessable enough for a LAN protocol
        // whose commands need a password anyway; the seed comes from the OS.
        self.rng_state = self.rng_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    // ---- driver links ---------------------------------------------------------------------

    /// Queue a message for a UPS's driver.
    pub(crate) fn send_to_driver(&mut self, key: UpsKey, msg: &ServerMsg) {
        let line = msg.to_line();
        *self.driver_queued.entry(key).or_default() += line.len();
        self.transmits.push_back((key, line));
    }

    /// Bytes queued for the driver of `key` and not yet written.
    pub fn driver_backlog(&self, key: UpsKey) -> usize {
        self.driver_queued.get(&key).copied().unwrap_or(0)
    }

    /// `bytes` of what was queued for the driver of `key` were written to its socket (or
    /// dropped with a dead connection).
    pub fn driver_written(&mut self, key: UpsKey, bytes: usize) {
        if let Some(queued) = self.driver_queued.get_mut(&key) {
            *queued = queued.saturating_sub(bytes);
        }
    }

    /// The driver socket of `key` is connected: ask for a full dump and show `WAIT` until
    /// it arrives.
    pub fn driver_connected(&mut self, key: UpsKey, socket: &str, now: Instant) {
        // Whatever was queued for an earlier connection is void.
        self.driver_queued.remove(&key);
        let Some(ups) = self.ups_mut(key) else { return };
        ups.data.clear();
        ups.data.apply(DriverMsg::SetInfo {
            var: "ups.status".into(),
            value: "WAIT".into(),
        });
        ups.link = Link::Up {
            last_heard: now,
            last_ping: now,
        };
        // As in upsd 2.8.0, a (re)connection starts fresh without a word: no "no longer
        // stale" for a driver that was only not connected yet.
        ups.reported_dead = false;
        ups.last_connect_failure_log = None;
        let text = format!("Connected to UPS [{}]: {socket}", ups.def.name);
        self.log(Level::Info, text);
        self.arm(now + self.settings.maxage / 3 + TICK);
        self.send_to_driver(key, &ServerMsg::DumpAll);
    }

    /// Connecting to the driver socket of `key` failed (logged at most every 5 minutes).
    pub fn driver_connect_failed(&mut self, key: UpsKey, path: &str, error: &str, now: Instant) {
        let Some(ups) = self.ups_mut(key) else { return };
        let due = ups
            .last_connect_failure_log
            .is_none_or(|t| now.saturating_duration_since(t) >= CONNECT_FAILURE_LOG_INTERVAL);
        if due {
            ups.last_connect_failure_log = Some(now);
            let text = format!("Can't connect to UPS [{}] ({path}): {error}", ups.def.name);
            self.log(Level::Info, text);
        }
    }

    /// The driver socket of `key` closed: its data is gone (FSD latch and LOGINs stay).
    pub fn driver_disconnected(&mut self, key: UpsKey, now: Instant) {
        self.driver_queued.remove(&key);
        let Some(ups) = self.ups_mut(key) else { return };
        if ups.link == Link::Down {
            return;
        }
        ups.link = Link::Down;
        ups.data.clear();
        let text = format!(
            "sstate_dead: connection to driver socket for UPS [{}] lost",
            ups.def.name
        );
        self.log(Level::Debug(1), text);
        self.check_health(now);
    }

    /// One tokenized line from the driver of `key`.
    pub fn driver_line<S: AsRef<str>>(&mut self, key: UpsKey, words: &[S], now: Instant) {
        let Ok(msg) = DriverMsg::parse(words) else {
            // upsd ignores what it does not understand (and it does not count as news).
            return;
        };
        let Some(ups) = self.ups_mut(key) else { return };
        let mut answered_ping = false;
        if let Link::Up {
            last_heard,
            last_ping,
        } = &mut ups.link
        {
            // The first line after a PING moves the next PING (the likely next alarm) later.
            answered_ping = *last_ping > *last_heard;
            *last_heard = now;
        }
        if let Applied::Tracking { id, status } = ups.data.apply(msg) {
            let id = TrackingId::from_wire(id);
            if let Some(entry) = self.tracking.get_mut(&id) {
                entry.status = TrackingStatus::from_driver_result(i64::from(status.code()));
                let text = format!("tracking ID: {id}\tresult: {}", entry.status);
                self.log(Level::Debug(1), text);
            }
        }
        self.retime |= answered_ping;
        self.check_health(now);
    }

    // ---- time -----------------------------------------------------------------------------

    /// Send PINGs that are due, log stale/fresh transitions, expire tracking entries.
    pub fn handle_timeout(&mut self, now: Instant) {
        let third = self.settings.maxage / 3;
        let mut pings = Vec::new();
        for ups in &mut self.upses {
            if let Link::Up {
                last_heard,
                last_ping,
            } = &mut ups.link
                && now.saturating_duration_since(*last_heard) > third
                && now.saturating_duration_since(*last_ping) > third
            {
                *last_ping = now;
                pings.push(ups.key);
            }
        }
        for key in pings {
            self.send_to_driver(key, &ServerMsg::Ping);
        }
        let delay = self.settings.tracking_delay;
        while let Some(oldest) = self.tracking_order.front() {
            let expired = self
                .tracking
                .get(oldest)
                .is_none_or(|e| now.saturating_duration_since(e.created) > delay);
            if !expired {
                break;
            }
            if let Some(id) = self.tracking_order.pop_front() {
                self.tracking.remove(&id);
            }
        }
        for noise in Noise::ALL {
            let t = self.throttles[noise.index()];
            if t.since
                .is_some_and(|s| now.saturating_duration_since(s) >= LOG_WINDOW)
            {
                self.end_log_window(noise);
            }
        }
        self.check_health(now);
        self.drop_idle_clients(now);
    }

    /// Disconnect the clients silent for longer than the idle limit.
    fn drop_idle_clients(&mut self, now: Instant) {
        let limit = self.settings.idle_timeout;
        let idle: Vec<(ClientId, IpAddr)> = self
            .clients
            .iter()
            .filter(|(_, c)| !c.ending && now.saturating_duration_since(c.last_heard) > limit)
            .map(|(id, c)| (*id, c.addr))
            .collect();
        for (id, addr) in idle {
            self.end_client(id);
            self.events.push_back(ServerEvent::KickClient(id));
            self.log(
                Level::Debug(1),
                format!("Client {addr} idle for too long: disconnecting"),
            );
        }
    }

    /// When [`Server::handle_timeout`] should run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let third = self.settings.maxage / 3;
        let stale_after = self.settings.maxage + Duration::from_secs(1);
        let tick = TICK;
        let drivers = self.upses.iter().filter_map(|ups| match ups.link {
            Link::Up {
                last_heard,
                last_ping,
            } => {
                let ping = last_heard.max(last_ping) + third + tick;
                let stale = last_heard + stale_after + tick;
                Some(if ups.reported_dead {
                    ping
                } else {
                    ping.min(stale)
                })
            }
            Link::Down => None,
        });
        // Entries are created in order: the oldest expires first.
        let tracking = self
            .tracking_order
            .front()
            .and_then(|id| self.tracking.get(id))
            .map(|e| e.created + self.settings.tracking_delay + tick);
        let log_windows = self
            .throttles
            .iter()
            .filter(|t| t.suppressed > 0)
            .filter_map(|t| t.since.map(|s| s + LOG_WINDOW));
        let idle = self.settings.idle_timeout + tick;
        let clients = self
            .clients
            .values()
            .filter(|c| !c.ending)
            .map(|c| c.last_heard + idle)
            .min();
        drivers
            .chain(tracking)
            .chain(log_windows)
            .chain(clients)
            .min()
    }

    /// The shell set its alarm to `at` (what [`Server::poll_timeout`] said).
    pub fn handle_alarm_set(&mut self, at: Option<Instant>) {
        self.alarm = at;
        self.retime = false;
    }

    /// Whether the alarm must be set again from [`Server::poll_timeout`]: a change created a
    /// deadline before it (a client or a driver connected, a tracking id, a throttled log
    /// line), or a driver answered the PING the alarm was set for. Other deadlines only move
    /// later, by requests and driver lines: the alarm then rings early once and is set again,
    /// which costs one wake-up instead of a recomputation per request.
    pub fn poll_timer_changed(&mut self) -> bool {
        std::mem::take(&mut self.retime)
    }

    /// A change created a deadline at `at`.
    fn arm(&mut self, at: Instant) {
        if self.alarm.is_none_or(|alarm| at < alarm) {
            self.retime = true;
        }
    }

    /// Log the stale/fresh transitions of connected drivers. As in upsd 2.8.0, a driver
    /// that is not connected (not started yet, stopped, shutting down) is not judged: that
    /// is `Can't connect to UPS`'s business, and its staleness is forgotten at reconnection.
    fn check_health(&mut self, now: Instant) {
        let maxage = self.settings.maxage;
        let mut lines = Vec::new();
        for ups in &mut self.upses {
            if ups.link == Link::Down {
                continue;
            }
            let dead = ups.availability(now, maxage).is_err();
            if dead != ups.reported_dead {
                ups.reported_dead = dead;
                lines.push(if dead {
                    format!("Data for UPS [{}] is stale - check driver", ups.def.name)
                } else {
                    format!("UPS [{}] data is no longer stale", ups.def.name)
                });
            }
        }
        for text in lines {
            self.log(Level::Info, text);
        }
    }

    // ---- reload ---------------------------------------------------------------------------

    /// Apply re-read configuration: new UPSes are put first (as upsd does), known ones get
    /// their new `desc` (and a new driver connection if the socket name changed), vanished
    /// ones are removed after their logged-in clients are disconnected. Users,
    /// descriptions and settings are replaced.
    pub fn reload(
        &mut self,
        settings: Settings,
        defs: Vec<UpsDef>,
        users: UpsdUsers,
        descriptions: CmdVarTab,
    ) {
        self.settings = settings;
        self.users = users;
        self.descriptions = descriptions;
        // Removed UPSes.
        let removed: Vec<UpsKey> = self
            .upses
            .iter()
            .filter(|u| !defs.iter().any(|d| d.name == u.def.name))
            .map(|u| u.key)
            .collect();
        for key in removed {
            let kicked: Vec<ClientId> = self
                .clients
                .iter()
                .filter(|(_, c)| c.login == Some(key))
                .map(|(id, _)| *id)
                .collect();
            for id in kicked {
                if let Some(c) = self.clients.get_mut(&id) {
                    c.login = None;
                }
                self.events.push_back(ServerEvent::KickClient(id));
            }
            self.driver_queued.remove(&key);
            if let Some(pos) = self.upses.iter().position(|u| u.key == key) {
                let ups = self.upses.remove(pos);
                self.log(Level::Info, format!("Deleting UPS [{}]", ups.def.name));
            }
            self.events.push_back(ServerEvent::StopDriver(key));
        }
        // Updated and new UPSes.
        let mut added = Vec::new();
        for def in defs {
            match self.upses.iter_mut().find(|u| u.def.name == def.name) {
                Some(ups) => {
                    let socket_changed = ups.def.socket_name() != def.socket_name();
                    ups.def = def;
                    if socket_changed {
                        let key = ups.key;
                        self.driver_queued.remove(&key);
                        ups.link = Link::Down;
                        ups.data.clear();
                        let socket = ups.def.socket_name();
                        self.events.push_back(ServerEvent::StopDriver(key));
                        self.events.push_back(ServerEvent::StartDriver(key, socket));
                    }
                }
                None => added.push(def),
            }
        }
        // Each new one is prepended in file order, so the last new one ends up first.
        for def in added {
            let ups = self.new_ups(def);
            self.upses.insert(0, ups);
        }
    }

    // ---- output ---------------------------------------------------------------------------

    pub(crate) fn log(&mut self, level: Level, text: String) {
        self.logs.push_back(LogLine { level, text });
    }

    /// Log a line a client can cause at will: at most [`LOG_BURST`] of each class per
    /// [`LOG_WINDOW`], then only their number when the window ends.
    pub(crate) fn log_noisy(&mut self, noise: Noise, now: Instant, text: String) {
        let t = self.throttles[noise.index()];
        if t.since
            .is_none_or(|s| now.saturating_duration_since(s) >= LOG_WINDOW)
        {
            self.end_log_window(noise);
            self.throttles[noise.index()].since = Some(now);
        }
        let t = &mut self.throttles[noise.index()];
        if t.logged < LOG_BURST {
            t.logged += 1;
            self.log(Level::Info, text);
        } else {
            t.suppressed += 1;
            if t.suppressed == 1
                && let Some(since) = t.since
            {
                self.arm(since + LOG_WINDOW);
            }
        }
    }

    fn end_log_window(&mut self, noise: Noise) {
        let t = std::mem::take(&mut self.throttles[noise.index()]);
        if t.suppressed > 0 {
            let text = format!(
                "{} more {} not logged in the last {} seconds",
                t.suppressed,
                noise.what(),
                LOG_WINDOW.as_secs()
            );
            self.log(Level::Info, text);
        }
    }

    /// Next line to write to a driver socket.
    pub fn poll_driver_transmit(&mut self) -> Option<(UpsKey, String)> {
        self.transmits.pop_front()
    }

    /// Next action for the shell.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// Next log line.
    pub fn poll_log(&mut self) -> Option<LogLine> {
        self.logs.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn def(name: &str) -> UpsDef {
        UpsDef {
            name: name.into(),
            driver: "dummy-ups".into(),
            desc: None,
        }
    }

    fn server(names: &[&str]) -> Server {
        let defs = names.iter().map(|n| def(n)).collect();
        Server::new(
            Settings::default(),
            defs,
            UpsdUsers::default(),
            CmdVarTab::default(),
            7,
        )
    }

    fn words(line: &str) -> Vec<String> {
        nut_core::token::split_line(line).unwrap()
    }

    #[test]
    fn start_events_in_file_order() {
        let mut s = server(&["a", "b"]);
        assert_eq!(
            s.poll_event(),
            Some(ServerEvent::StartDriver(UpsKey(0), "dummy-ups-a".into()))
        );
        assert_eq!(
            s.poll_event(),
            Some(ServerEvent::StartDriver(UpsKey(1), "dummy-ups-b".into()))
        );
        assert_eq!(s.poll_event(), None);
    }

    #[test]
    fn driver_lifecycle_wait_dump_stale_and_back() {
        let t0 = Instant::now();
        let mut s = server(&["a"]);
        let key = UpsKey(0);
        let maxage = s.settings().maxage;
        assert_eq!(
            s.find("A").unwrap().availability(t0, maxage),
            Err(nut_core::net::ErrCode::DriverNotConnected)
        );
        s.driver_connected(key, "dummy-ups-a", t0);
        assert_eq!(
            s.poll_driver_transmit(),
            Some((key, "DUMPALL\n".to_owned()))
        );
        assert_eq!(s.find("a").unwrap().data.value("ups.status"), Some("WAIT"));
        s.driver_line(key, &words("SETINFO ups.status \"OL\""), t0);
        s.driver_line(key, &words("DATAOK"), t0);
        s.driver_line(key, &words("DUMPDONE"), t0);
        assert_eq!(s.find("a").unwrap().data.value("ups.status"), Some("OL"));
        assert!(s.find("a").unwrap().availability(t0, maxage).is_ok());
        // Silence: a PING after MAXAGE/3, stale after MAXAGE+1.
        let t = t0 + Duration::from_secs(6);
        assert!(s.poll_timeout().unwrap() <= t);
        s.handle_timeout(t);
        assert_eq!(s.poll_driver_transmit(), Some((key, "PING\n".to_owned())));
        s.handle_timeout(t + Duration::from_secs(1));
        assert_eq!(s.poll_driver_transmit(), None, "one PING per MAXAGE/3");
        let at_limit = t0 + Duration::from_secs(16);
        assert!(s.find("a").unwrap().availability(at_limit, maxage).is_ok());
        let late = t0 + Duration::from_millis(16_500);
        s.handle_timeout(late);
        assert_eq!(
            s.find("a").unwrap().availability(late, maxage),
            Err(nut_core::net::ErrCode::DataStale)
        );
        while let Some(l) = s.poll_log() {
            if l.text.contains("is stale") {
                assert_eq!(l.text, "Data for UPS [a] is stale - check driver");
            }
        }
        s.driver_line(key, &words("PONG"), late);
        assert!(s.find("a").unwrap().availability(late, maxage).is_ok());
        let logs: Vec<String> = std::iter::from_fn(|| s.poll_log())
            .map(|l| l.text)
            .collect();
        assert_eq!(logs, ["UPS [a] data is no longer stale"]);
        // The driver says stale.
        s.driver_line(key, &words("DATASTALE"), late);
        assert_eq!(
            s.find("a").unwrap().availability(late, maxage),
            Err(nut_core::net::ErrCode::DataStale)
        );
        // Unknown lines are not news.
        s.driver_line(key, &words("BOGUS"), late + Duration::from_secs(30));
        s.driver_disconnected(key, late);
        assert!(s.find("a").unwrap().data.var_count() == 0);
    }

    /// upsd 2.8.0 says nothing about drivers that are not connected: not at start-up, not
    /// when they connect, not when they go away (docs/issues.md: issue 16 item 3).
    #[test]
    fn no_staleness_lines_for_drivers_that_are_not_connected() {
        let t0 = Instant::now();
        let mut s = server(&["a"]);
        let key = UpsKey(0);
        let stale_lines = |s: &mut Server| -> Vec<String> {
            std::iter::from_fn(|| s.poll_log())
                .map(|l| l.text)
                .filter(|t| t.contains("stale"))
                .collect()
        };
        s.handle_timeout(t0 + Duration::from_secs(60));
        assert_eq!(stale_lines(&mut s), Vec::<String>::new(), "at start-up");
        let t1 = t0 + Duration::from_secs(61);
        s.driver_connected(key, "dummy-ups-a", t1);
        s.driver_line(key, &words("SETINFO ups.status \"OL\""), t1);
        s.driver_line(key, &words("DUMPDONE"), t1);
        assert_eq!(stale_lines(&mut s), Vec::<String>::new(), "at connection");
        s.driver_disconnected(key, t1);
        s.handle_timeout(t1 + Duration::from_secs(60));
        assert_eq!(stale_lines(&mut s), Vec::<String>::new(), "driver gone");
        // Stale while connected, then gone and back: fresh again without a word.
        let t2 = t1 + Duration::from_secs(61);
        s.driver_connected(key, "dummy-ups-a", t2);
        s.driver_line(key, &words("DUMPDONE"), t2);
        s.driver_line(key, &words("DATASTALE"), t2);
        assert_eq!(
            stale_lines(&mut s),
            ["Data for UPS [a] is stale - check driver"]
        );
        s.driver_disconnected(key, t2);
        s.driver_connected(key, "dummy-ups-a", t2);
        s.driver_line(key, &words("DUMPDONE"), t2);
        assert_eq!(stale_lines(&mut s), Vec::<String>::new(), "reconnected");
    }

    #[test]
    fn list_client_is_newest_first_and_logins_count() {
        let mut s = server(&["a"]);
        let ip = |n| IpAddr::V4(Ipv4Addr::new(127, 0, 0, n));
        let now = Instant::now();
        let c1 = s.client_connected(ip(1), now);
        let c2 = s.client_connected(ip(2), now);
        let c3 = s.client_connected(ip(3), now);
        s.client_login(c1, UpsKey(0));
        s.client_login(c3, UpsKey(0));
        assert_eq!(s.clients_of(UpsKey(0)).collect::<Vec<_>>(), [ip(3), ip(1)]);
        assert_eq!(s.find("a").unwrap().numlogins, 2);
        s.client_disconnected(c3);
        s.client_disconnected(c2);
        assert_eq!(s.find("a").unwrap().numlogins, 1);
    }

    #[test]
    fn reload_adds_first_updates_and_removes() {
        let mut s = server(&["a", "b"]);
        while s.poll_event().is_some() {}
        let c = s.client_connected(IpAddr::V4(Ipv4Addr::LOCALHOST), Instant::now());
        s.client_login(c, UpsKey(1));
        let mut a = def("a");
        a.desc = Some("new".into());
        s.reload(
            Settings::default(),
            vec![a, def("c"), def("d")],
            UpsdUsers::default(),
            CmdVarTab::default(),
        );
        let names: Vec<&str> = s.upses().iter().map(Ups::name).collect();
        assert_eq!(names, ["d", "c", "a"]);
        assert_eq!(s.find("a").unwrap().def.desc.as_deref(), Some("new"));
        let events: Vec<ServerEvent> = std::iter::from_fn(|| s.poll_event()).collect();
        assert_eq!(
            events,
            [
                ServerEvent::KickClient(c),
                ServerEvent::StopDriver(UpsKey(1)),
                ServerEvent::StartDriver(UpsKey(2), "dummy-ups-c".into()),
                ServerEvent::StartDriver(UpsKey(3), "dummy-ups-d".into()),
            ]
        );
    }

    #[test]
    fn tracking_results_and_expiry() {
        let t0 = Instant::now();
        let mut s = server(&["a"]);
        let id = s.new_tracking(t0);
        assert!(id.is_well_formed());
        assert_eq!(s.tracking_status(&id, t0), TrackingStatus::Pending);
        s.driver_connected(UpsKey(0), "x", t0);
        let lower = id.as_str().to_ascii_lowercase();
        s.driver_line(UpsKey(0), &["TRACKING", lower.as_str(), "3"], t0);
        assert_eq!(
            s.tracking_status(&id, t0),
            TrackingStatus::Error(nut_core::net::ErrCode::Failed)
        );
        let later = t0 + Duration::from_secs(3601);
        assert_eq!(s.tracking_status(&id, later), TrackingStatus::unknown_id());
        s.handle_timeout(later);
        assert!(s.tracking.is_empty());
        assert!(s.tracking_order.is_empty());
        let other = s.new_tracking(t0);
        assert_ne!(other, id);
    }

    #[test]
    fn at_maxconn_the_longest_idle_unauthenticated_client_makes_room() {
        let t0 = Instant::now();
        let mut s = server(&["a"]);
        let ip = |n| IpAddr::V4(Ipv4Addr::new(192, 0, 2, n));
        let at = |secs| t0 + Duration::from_secs(secs);
        let a = s.client_connected(ip(1), at(0));
        let b = s.client_connected(ip(2), at(1));
        let c = s.client_connected(ip(3), at(2));
        assert_eq!(s.make_room(4, ip(9), at(3)), Room::Free);
        // `a` keeps talking, `b` authenticated: `c` is the longest idle of the others.
        s.client_request(a, at(5));
        s.client_trusted(b);
        assert_eq!(s.make_room(3, ip(9), at(6)), Room::Evict(c));
        // Until `c` is gone it does not count, and it is not chosen twice.
        assert_eq!(s.make_room(3, ip(9), at(6)), Room::Free);
        let d = s.client_connected(ip(4), at(6));
        assert_eq!(s.make_room(3, ip(9), at(7)), Room::Evict(a));
        s.client_disconnected(c);
        s.client_disconnected(a);
        s.client_trusted(d);
        let e = s.client_connected(ip(5), at(8));
        s.client_trusted(e);
        // Everyone left has valid credentials: refuse.
        assert_eq!(s.make_room(3, ip(9), at(9)), Room::Full);
        let logs: Vec<String> = std::iter::from_fn(|| s.poll_log())
            .map(|l| l.text)
            .collect();
        assert_eq!(
            logs,
            [
                "MAXCONN (3) reached: disconnecting unauthenticated client 192.0.2.3, the longest idle, for 192.0.2.9",
                "MAXCONN (3) reached: disconnecting unauthenticated client 192.0.2.1, the longest idle, for 192.0.2.9",
                "Rejecting connection from 192.0.2.9: MAXCONN (3) reached",
            ]
        );
    }

    /// Lighter when idle: with nothing to do there is no deadline at all, and each thing
    /// that needs time asks for exactly its own deadline; a change that needs an earlier
    /// alarm than the one set says so through `poll_timer_changed`.
    #[test]
    fn deadlines_exist_only_for_work_and_earlier_ones_are_announced() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut s = server(&["a"]);
        assert_eq!(
            s.poll_timeout(),
            None,
            "no driver, no client, no tracking id"
        );
        s.handle_alarm_set(None);
        assert!(!s.poll_timer_changed());
        // A connected driver: its PING at MAXAGE/3.
        s.driver_connected(UpsKey(0), "dummy-ups-a", t0);
        assert!(s.poll_timer_changed());
        assert!(!s.poll_timer_changed(), "announced once");
        assert_eq!(s.poll_timeout(), Some(ms(5_001)));
        s.handle_alarm_set(Some(ms(5_001)));
        // A client: its idle limit is later than the alarm, so no news.
        let c = s.client_connected(IpAddr::V4(Ipv4Addr::LOCALHOST), t0);
        assert!(!s.poll_timer_changed());
        // The PING goes out; its answer moves the next one later: set the alarm again.
        s.handle_timeout(ms(5_001));
        assert_eq!(
            s.poll_driver_transmit(),
            Some((UpsKey(0), "DUMPALL\n".into()))
        );
        assert_eq!(s.poll_driver_transmit(), Some((UpsKey(0), "PING\n".into())));
        s.handle_alarm_set(s.poll_timeout());
        assert_eq!(s.poll_timeout(), Some(ms(10_002)));
        s.driver_line(UpsKey(0), &["PONG"], ms(5_500));
        assert!(s.poll_timer_changed(), "answered PING");
        assert_eq!(s.poll_timeout(), Some(ms(10_501)));
        s.driver_line(UpsKey(0), &["DATAOK"], ms(6_000));
        assert!(
            !s.poll_timer_changed(),
            "ordinary lines move deadlines later silently"
        );
        s.driver_disconnected(UpsKey(0), ms(6_000));
        assert_eq!(
            s.poll_timeout(),
            Some(ms(60_001)),
            "the client's idle limit"
        );
        s.client_disconnected(c);
        assert_eq!(s.poll_timeout(), None);
        // A tracking id expires after TRACKINGDELAY (1 hour by default).
        s.handle_alarm_set(None);
        let id = s.new_tracking(t0);
        assert!(s.poll_timer_changed());
        assert_eq!(s.poll_timeout(), Some(ms(3_600_001)));
        s.handle_timeout(ms(3_600_001));
        assert_eq!(s.tracking_status(&id, t0), TrackingStatus::unknown_id());
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn handle_accept_applies_the_configured_maxconn_and_kicks_the_evicted() {
        let t0 = Instant::now();
        let settings = Settings {
            maxconn: 2,
            ..Settings::default()
        };
        let mut s = Server::new(
            settings,
            Vec::new(),
            UpsdUsers::default(),
            CmdVarTab::default(),
            7,
        );
        let ip = |n| IpAddr::V4(Ipv4Addr::new(192, 0, 2, n));
        assert_eq!(s.handle_accept(ip(1), t0), Room::Free);
        let a = s.client_connected(ip(1), t0);
        assert_eq!(s.handle_accept(ip(2), t0), Room::Free);
        let b = s.client_connected(ip(2), t0);
        s.client_trusted(b);
        assert_eq!(s.handle_accept(ip(3), t0), Room::Evict(a));
        assert_eq!(s.poll_event(), Some(ServerEvent::KickClient(a)));
        let c = s.client_connected(ip(3), t0);
        s.client_trusted(c);
        s.client_disconnected(a);
        assert_eq!(s.handle_accept(ip(4), t0), Room::Full);
        assert_eq!(s.poll_event(), None);
        // An idle-kicked client no longer counts either.
        let idle = t0 + IDLE_TIMEOUT + TICK;
        s.handle_timeout(idle);
        assert_eq!(s.poll_event(), Some(ServerEvent::KickClient(b)));
        assert_eq!(s.poll_event(), Some(ServerEvent::KickClient(c)));
        assert_eq!(s.handle_accept(ip(4), idle), Room::Free);
    }

    #[test]
    fn the_tracking_table_is_bounded_oldest_first() {
        let t0 = Instant::now();
        let mut s = server(&["a"]);
        let first = s.new_tracking(t0);
        let second = s.new_tracking(t0);
        for _ in 0..TRACKING_LIMIT + 100 {
            s.new_tracking(t0 + Duration::from_secs(1));
        }
        let newest = s.new_tracking(t0 + Duration::from_secs(2));
        assert_eq!(s.tracking_count(), TRACKING_LIMIT);
        assert_eq!(s.tracking_status(&first, t0), TrackingStatus::unknown_id());
        assert_eq!(s.tracking_status(&second, t0), TrackingStatus::unknown_id());
        assert_eq!(s.tracking_status(&newest, t0), TrackingStatus::Pending);
        // Expiry still works on what is left, and empties both views.
        let later = t0 + Duration::from_secs(3600 + 3);
        assert!(s.poll_timeout().unwrap() <= later);
        s.handle_timeout(later);
        assert_eq!(s.tracking_count(), 0);
        assert!(s.tracking_order.is_empty());
    }
}
