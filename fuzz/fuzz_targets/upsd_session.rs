//! upsd's sans-IO core (`nut_upsd::Server` with its `Session`s) under arbitrary sequences of
//! client connections, request bytes (raw, and well-formed requests from upsd's vocabulary),
//! driver connections and driver lines, tracked-command results, time steps, idle
//! disconnections and reloads, driven the way the tokio shell drives it. Never panics, and:
//!
//! * every reply to a request that parses is a reply nut-core's client parser accepts for
//!   that request (a valid reply or an `ERR`), LF-terminated;
//! * the server counts exactly the connections that are open, and each UPS's LOGIN count is
//!   the number of open connections whose LOGIN to it was answered `OK`.
#![no_main]

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use nut_core::conf::{parse_cmdvartab, parse_upsd_users};
use nut_core::net::{ReplyError, Request, parse_reply};
use nut_core::sock::{CmdStatus, DriverMsg, ServerMsg};
use nut_core::token::{Limits, Tokenizer, push_quoted};
use nut_upsd::server::ServerEvent;
use nut_upsd::ups::{UpsDef, UpsKey};
use nut_upsd::{MAX_REQUEST_LINE, Server, Session, SessionAction, Settings};

const USERS: &[u8] = b"[admin]\n password = adminpass\n actions = SET FSD\n instcmds = ALL\n\
    upsmon primary\n[mon]\n password = monpass\n upsmon secondary\n[ro]\n password = ro\n";
const CMDVARTAB: &[u8] =
    b"VARDESC ups.status \"UPS status\"\nCMDDESC load.off \"Turn off the load\"\n";
const UPSES: &[&str] = &["a", "B", "c"];
const VARS: &[&str] = &[
    "ups.status",
    "battery.charge",
    "ups.id",
    "input.transfer.high",
    "nope",
];
const CMDS: &[&str] = &["load.off", "beeper.enable", "nope"];
const USERNAMES: &[&str] = &["admin", "mon", "ro", "who"];
const PASSWORDS: &[&str] = &["adminpass", "monpass", "ro", "wrong"];

/// A request line from upsd's vocabulary, with arguments picked from small lists.
#[derive(Arbitrary, Debug)]
struct Req {
    template: u8,
    ups: u8,
    var: u8,
    cmd: u8,
    user: u8,
    value: String,
}

#[derive(Arbitrary, Debug)]
enum DriverLine {
    SetInfo(u8, String),
    DelInfo(u8),
    AddEnum(u8, String),
    AddRange(u8, i64, i64),
    SetAux(u8, i64),
    SetFlags(u8, bool, bool),
    AddCmd(u8),
    DelCmd(u8),
    DataOk,
    DataStale,
    DumpDone,
    Pong,
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Op {
    Connect(u8),
    Close(u8),
    Bytes(u8, Vec<u8>),
    Request(u8, Req),
    TlsUp(u8),
    DriverUp(u8),
    DriverDown(u8),
    Driver(u8, DriverLine),
    /// The driver answers the oldest tracked command it was sent.
    TrackingResult(i8),
    Advance(u16),
    /// Reload with the UPSes whose bits are set, MAXAGE and tracking delay.
    Reload(u8, u8, u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    tls_available: bool,
    maxage: u8,
    ops: Vec<Op>,
}

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

/// Printable ASCII: all the protocol carries (the tokenizer drops other bytes, as NUT's).
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| (' '..='~').contains(c))
        .take(40)
        .collect()
}

impl Req {
    fn line(&self) -> String {
        let ups = pick(UPSES, self.ups);
        let var = pick(VARS, self.var);
        let cmd = pick(CMDS, self.cmd);
        let mut value = String::new();
        push_quoted(&mut value, &clean(&self.value));
        match self.template % 34 {
            0 => "VER".into(),
            1 => "NETVER".into(),
            2 => "HELP".into(),
            3 => "STARTTLS".into(),
            4 => format!("USERNAME {}", pick(USERNAMES, self.user)),
            5 => format!("PASSWORD {}", pick(PASSWORDS, self.user)),
            6 => format!("LOGIN {ups}"),
            7 => "LOGOUT".into(),
            8 => format!("PRIMARY {ups}"),
            9 => format!("MASTER {ups}"),
            10 => format!("FSD {ups}"),
            11 => format!("GET VAR {ups} {var}"),
            12 => format!("GET TYPE {ups} {var}"),
            13 => format!("GET DESC {ups} {var}"),
            14 => format!("GET CMDDESC {ups} {cmd}"),
            15 => format!("GET UPSDESC {ups}"),
            16 => format!("GET NUMLOGINS {ups}"),
            17 => "LIST UPS".into(),
            18 => format!("LIST VAR {ups}"),
            19 => format!("LIST RW {ups}"),
            20 => format!("LIST CMD {ups}"),
            21 => format!("LIST ENUM {ups} {var}"),
            22 => format!("LIST RANGE {ups} {var}"),
            23 => format!("LIST CLIENT {ups}"),
            24 => format!("SET VAR {ups} {var} {value}"),
            25 => format!("INSTCMD {ups} {cmd}"),
            26 => format!("INSTCMD {ups} {cmd} {value}"),
            27 => "SET TRACKING ON".into(),
            28 => "SET TRACKING OFF".into(),
            29 => "GET TRACKING".into(),
            30 => format!("GET TRACKING {value}"),
            31 => "PROTVER".into(),
            32 => format!("GET VAR {value} {value}"),
            _ => format!("LIST VAR {value}"),
        }
    }
}

impl DriverLine {
    fn words(&self) -> Vec<String> {
        let var = |i: u8| pick(VARS, i).to_owned();
        let msg = match self {
            Self::SetInfo(v, value) => DriverMsg::SetInfo {
                var: var(*v),
                value: clean(value),
            },
            Self::DelInfo(v) => DriverMsg::DelInfo { var: var(*v) },
            Self::AddEnum(v, value) => DriverMsg::AddEnum {
                var: var(*v),
                value: clean(value),
            },
            Self::AddRange(v, min, max) => DriverMsg::AddRange {
                var: var(*v),
                min: *min,
                max: *max,
            },
            Self::SetAux(v, aux) => DriverMsg::SetAux {
                var: var(*v),
                aux: *aux,
            },
            Self::SetFlags(v, rw, string) => DriverMsg::SetFlags {
                var: var(*v),
                flags: nut_core::sock::VarFlags {
                    rw: *rw,
                    string: *string,
                    ..Default::default()
                },
            },
            Self::AddCmd(c) => DriverMsg::AddCmd {
                cmd: pick(CMDS, *c).to_owned(),
            },
            Self::DelCmd(c) => DriverMsg::DelCmd {
                cmd: pick(CMDS, *c).to_owned(),
            },
            Self::DataOk => DriverMsg::DataOk,
            Self::DataStale => DriverMsg::DataStale,
            Self::DumpDone => DriverMsg::DumpDone,
            Self::Pong => DriverMsg::Pong,
            Self::Raw(bytes) => {
                return nut_core::token::split_bytes(bytes).unwrap_or_default();
            }
        };
        nut_core::token::split_line(msg.to_line().trim_end()).expect("rendered lines split")
    }
}

struct Client {
    session: Session,
    tokenizer: Tokenizer,
    /// The UPS (canonical name) whose LOGIN was answered OK.
    login: Option<String>,
}

struct World {
    server: Server,
    now: Instant,
    clients: Vec<Client>,
    /// Tracking ids the drivers were sent, oldest first.
    tracking: Vec<(UpsKey, String)>,
}

fn defs(mask: u8) -> Vec<UpsDef> {
    UPSES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(i, name)| UpsDef {
            name: (*name).to_owned(),
            driver: if i == 2 {
                "other".into()
            } else {
                "dummy-ups".into()
            },
            desc: (i == 0).then(|| "first \"UPS\"".to_owned()),
        })
        .collect()
}

fn settings(tls: bool, maxage: u8, tracking: u8) -> Settings {
    Settings {
        maxage: Duration::from_secs(u64::from(maxage % 60) + 1),
        tracking_delay: Duration::from_secs(u64::from(tracking % 120)),
        tls_available: tls,
        force_tls: maxage & 0x80 != 0,
        maxconn: 8,
        idle_timeout: Duration::from_secs(60),
    }
}

impl World {
    fn key(&self, i: u8) -> Option<UpsKey> {
        let upses = self.server.upses();
        (!upses.is_empty()).then(|| upses[usize::from(i) % upses.len()].key)
    }

    fn client(&mut self, i: u8) -> Option<usize> {
        (!self.clients.is_empty()).then(|| usize::from(i) % self.clients.len())
    }

    fn close(&mut self, index: usize) {
        let c = self.clients.remove(index);
        c.session.handle_close(&mut self.server);
    }

    /// Feed bytes to one client; `Some(action)` if the session asked to close.
    fn bytes(&mut self, index: usize, bytes: &[u8]) {
        let now = self.now;
        let lines = self.clients[index].tokenizer.push_slice(bytes);
        self.clients[index]
            .session
            .handle_activity(now, &mut self.server);
        for line in lines {
            let mut out = String::new();
            let client = &mut self.clients[index];
            let action = client
                .session
                .handle_line(now, &line.borrowed(), &mut self.server, &mut out);
            if let Some(words) = line.words.first().map(|_| &line.words)
                && line.error.is_none()
                && let Ok(request) = Request::parse(words)
            {
                check_reply(&request, &out);
                if let Request::Login { ups } = &request
                    && out == "OK\n"
                {
                    let canonical = self.server.find(ups).map(|u| u.name().to_owned());
                    client.login = canonical;
                }
            }
            match action {
                Some(SessionAction::Close) => {
                    self.close(index);
                    return;
                }
                Some(SessionAction::StartTls) => client.session.handle_tls_established(),
                None => {}
            }
        }
    }

    fn drain(&mut self) {
        while let Some((key, line)) = self.server.poll_driver_transmit() {
            assert!(line.ends_with('\n'), "{line:?}");
            let msg = ServerMsg::parse_line(line.trim_end()).expect("upsd sends valid lines");
            let id = match msg {
                ServerMsg::InstCmd { tracking, .. } | ServerMsg::Set { tracking, .. } => tracking,
                _ => None,
            };
            if let Some(id) = id {
                self.tracking.push((key, id));
            }
        }
        while let Some(event) = self.server.poll_event() {
            if let ServerEvent::KickClient(id) = event
                && let Some(i) = self.clients.iter().position(|c| c.session.id() == id)
            {
                self.close(i);
            }
        }
        while self.server.poll_log().is_some() {}
    }

    fn check(&self) {
        assert_eq!(self.server.client_count(), self.clients.len());
        let mut logins: BTreeMap<&str, u64> = BTreeMap::new();
        for c in &self.clients {
            if let Some(ups) = &c.login {
                *logins.entry(ups.as_str()).or_default() += 1;
            }
        }
        for ups in self.server.upses() {
            let expected = logins.get(ups.name()).copied().unwrap_or(0);
            assert_eq!(ups.numlogins, expected, "LOGIN count of {}", ups.name());
        }
    }
}

/// A reply is LF-terminated and, for a request that parses, one the client parser accepts.
fn check_reply(request: &Request, out: &str) {
    if out.is_empty() {
        return;
    }
    assert!(out.ends_with('\n'), "{request:?}: {out:?}");
    match parse_reply(request, out) {
        Ok(_) | Err(ReplyError::Server(_)) => {}
        Err(e) => panic!("{request:?}: reply {out:?} does not parse: {e}"),
    }
}

fuzz_target!(|input: Input| {
    let (users, _) = parse_upsd_users(USERS, "upsd.users").unwrap().into_parts();
    let (descs, _) = parse_cmdvartab(CMDVARTAB, "cmdvartab")
        .unwrap()
        .into_parts();
    let server = Server::new(
        settings(input.tls_available, input.maxage, 60),
        defs(0b111),
        users.clone(),
        descs.clone(),
        7,
    );
    let mut w = World {
        server,
        now: Instant::now(),
        clients: Vec::new(),
        tracking: Vec::new(),
    };
    w.drain();
    for op in input.ops.into_iter().take(200) {
        match op {
            Op::Connect(n) => {
                if w.clients.len() < 16 {
                    let addr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, n));
                    let session = Session::new(&mut w.server, addr, w.now);
                    let tokenizer = Tokenizer::new(Limits {
                        max_line_bytes: Some(MAX_REQUEST_LINE),
                        ..Limits::default()
                    });
                    w.clients.push(Client {
                        session,
                        tokenizer,
                        login: None,
                    });
                }
            }
            Op::Close(i) => {
                if let Some(i) = w.client(i) {
                    w.close(i);
                }
            }
            Op::Bytes(i, bytes) => {
                if let Some(i) = w.client(i) {
                    w.bytes(i, &bytes);
                }
            }
            Op::Request(i, req) => {
                if let Some(i) = w.client(i) {
                    let line = req.line() + "\n";
                    w.bytes(i, line.as_bytes());
                }
            }
            Op::TlsUp(i) => {
                if let Some(i) = w.client(i) {
                    w.clients[i].session.handle_tls_established();
                }
            }
            Op::DriverUp(u) => {
                if let Some(key) = w.key(u) {
                    let now = w.now;
                    w.server.driver_connected(key, "sock", now);
                }
            }
            Op::DriverDown(u) => {
                if let Some(key) = w.key(u) {
                    let now = w.now;
                    w.server.driver_disconnected(key, now);
                }
            }
            Op::Driver(u, line) => {
                if let Some(key) = w.key(u) {
                    let now = w.now;
                    w.server.driver_line(key, &line.words(), now);
                }
            }
            Op::TrackingResult(code) => {
                if !w.tracking.is_empty() {
                    let (key, id) = w.tracking.remove(0);
                    let status = CmdStatus::from_code(i32::from(code));
                    let line = DriverMsg::Tracking { id, status }.to_line();
                    let words = nut_core::token::split_line(line.trim_end()).unwrap();
                    let now = w.now;
                    w.server.driver_line(key, &words, now);
                }
            }
            Op::Advance(ms) => {
                w.now += Duration::from_millis(u64::from(ms) * 10);
                let now = w.now;
                // The server's deadlines include every client's idle limit: a silent
                // client comes back as a KickClient event, which the event drain closes.
                if w.server.poll_timeout().is_some_and(|t| t <= now) {
                    w.server.handle_timeout(now);
                }
            }
            Op::Reload(mask, maxage, tracking) => {
                w.server.reload(
                    settings(input.tls_available, maxage, tracking),
                    defs(mask),
                    users.clone(),
                    descs.clone(),
                );
                // A LOGIN to a removed UPS went with its kicked connection (below).
            }
        }
        w.drain();
        w.check();
    }
});
