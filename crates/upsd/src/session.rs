//! One client connection as a sans-IO state machine: tokenized request lines in, reply
//! bytes (appended to a caller-owned buffer) and [`SessionAction`]s out.
//!
//! The checks run in upsd 2.8.0's order (docs/nut-behaviour.md §2.2, §2.3): tokenizer errors (no
//! reply), command word, USERNAME/PASSWORD presence for privileged commands, argument
//! count, then each command's own checks — `UNKNOWN-UPS`, availability, permission, and so
//! on, as the handlers below spell out.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Instant;

use nut_core::net::reply::{self, DESC_UNAVAILABLE, HELP_TEXT, PROTOCOL_VERSION};
use nut_core::net::reply::{UPSD_URL, UPSD_VERSION, UPSDESC_UNAVAILABLE};
use nut_core::net::{Command, ErrCode, GetQuery, ListQuery, OkReply, Request, VarType};
use nut_core::sock::ServerMsg;
use nut_core::token::{LineRef, TokenError};

use crate::server::{ClientId, DRIVER_QUEUE_LIMIT, Level, Noise, Server};
use crate::ups::{Ups, UpsKey};
use nut_core::conf::{Action, User};

/// What the shell must do after a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum SessionAction {
    /// Flush the reply, then start the TLS handshake on the same socket.
    StartTls,
    /// Flush the reply, then close the connection (LOGOUT).
    Close,
}

/// One client connection.
#[derive(Debug)]
pub struct Session {
    id: ClientId,
    addr: IpAddr,
    username: Option<String>,
    password: Option<String>,
    login: Option<UpsKey>,
    tracking: bool,
    tls: bool,
    closing: bool,
}

type Reply = Result<(), ErrCode>;

impl Session {
    /// Register a new connection from `addr` with the server.
    pub fn new(server: &mut Server, addr: IpAddr, now: Instant) -> Session {
        let id = server.client_connected(addr, now);
        Session {
            id,
            addr,
            username: None,
            password: None,
            login: None,
            tracking: false,
            tls: false,
            closing: false,
        }
    }

    // ---- getters --------------------------------------------------------------------------

    /// The server's handle of this connection.
    pub fn id(&self) -> ClientId {
        self.id
    }

    /// The client's address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// Whether the connection runs TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Whether LOGOUT was received. upsd still answers the rest of what it already read
    /// from the socket, then closes; the shell does the same.
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    // ---- input ----------------------------------------------------------------------------

    /// The TLS handshake after `OK STARTTLS` succeeded.
    pub fn handle_tls_established(&mut self) {
        self.tls = true;
    }

    /// Bytes arrived (even a partial line keeps the connection alive, as in upsd). The
    /// server keeps the idle clock of every connection: its [`Server::handle_timeout`]
    /// disconnects the silent ones ([`crate::server::ServerEvent::KickClient`]).
    pub fn handle_activity(&self, now: Instant, server: &mut Server) {
        server.client_heard(self.id, now);
    }

    /// The connection is gone: release its LOGIN.
    pub fn handle_close(self, server: &mut Server) {
        server.client_disconnected(self.id);
    }

    /// Handle one tokenized request line, appending the reply to `out`.
    pub fn handle_line(
        &mut self,
        now: Instant,
        line: &LineRef<'_>,
        server: &mut Server,
        out: &mut String,
    ) -> Option<SessionAction> {
        server.client_request(self.id, now);
        match &line.error {
            Some(TokenError::LineTooLong { .. }) => {
                // A deliberate difference: upsd truncates words and carries on; we refuse
                // the whole line (see the crate docs, "Request line limit").
                reply::write_err(out, &ErrCode::InvalidArgument);
                return None;
            }
            Some(err) => {
                // upsd logs a parse error and sends nothing.
                server.log(
                    Level::Debug(1),
                    format!("Parse error on sock: {err} (client {})", self.addr),
                );
                return None;
            }
            None => {}
        }
        let result = self.dispatch(now, line.words, server, out);
        match result {
            Ok(action) => action,
            Err(code) => {
                if code == ErrCode::AccessDenied {
                    self.log_denied(now, line.words, server);
                }
                reply::write_err(out, &code);
                None
            }
        }
    }

    /// Every refused request is logged with the peer's address (throttled with the other
    /// refusals), never with a password.
    fn log_denied(&self, now: Instant, words: &[String], server: &mut Server) {
        let reason = if server.settings().force_tls && !self.tls {
            "not a TLS connection (FORCESSL)"
        } else if self.user(server).is_none() {
            "unknown user or wrong password"
        } else {
            "not permitted for this user"
        };
        let text = format!(
            "Access denied: {}@{} {} ({reason})",
            self.user_label(),
            self.addr,
            describe_request(words)
        );
        server.log_noisy(Noise::Refusal, now, text);
    }

    fn dispatch(
        &mut self,
        now: Instant,
        words: &[String],
        server: &mut Server,
        out: &mut String,
    ) -> Result<Option<SessionAction>, ErrCode> {
        let command = words
            .first()
            .and_then(|w| Command::from_word(w))
            .ok_or(ErrCode::UnknownCommand)?;
        command.check_credentials_present(self.username.is_some(), self.password.is_some())?;
        // The hot request, answered from the words as they are: what Request::parse_args
        // makes of it (GET VAR needs no TLS; words after the variable are ignored), without
        // copying the names.
        if let (Command::Get, [sub, ups, var, ..]) = (command, &words[1..])
            && sub.eq_ignore_ascii_case("VAR")
        {
            self.get_var(now, ups, var, server, out)?;
            return Ok(None);
        }
        let request = Request::parse_args(command, &words[1..])?;
        if server.settings().force_tls && !self.tls && needs_tls(&request) {
            return Err(ErrCode::AccessDenied);
        }
        match request {
            Request::Ver => {
                reply::write_text(out, &reply::server_info(UPSD_VERSION, UPSD_URL));
            }
            Request::NetVer | Request::ProtVer => reply::write_text(out, PROTOCOL_VERSION),
            Request::Help => reply::write_text(out, HELP_TEXT),
            Request::StartTls => return self.starttls(server, out),
            Request::Username(name) => {
                if self.username.is_some() {
                    let text = format!(
                        "Client {}@{} tried to set a username twice",
                        self.user_label(),
                        self.addr
                    );
                    server.log_noisy(Noise::Misuse, now, text);
                    return Err(ErrCode::AlreadySetUsername);
                }
                self.username = Some(name);
                self.note_valid_credentials(server);
                reply::write_ok(out);
            }
            Request::Password(password) => {
                if self.password.is_some() {
                    let text = format!(
                        "Client {}@{} tried to set a password twice",
                        self.user_label(),
                        self.addr
                    );
                    server.log_noisy(Noise::Misuse, now, text);
                    return Err(ErrCode::AlreadySetPassword);
                }
                self.password = Some(password);
                self.note_valid_credentials(server);
                reply::write_ok(out);
            }
            Request::Login { ups } => self.login(now, &ups, server, out)?,
            Request::Logout => {
                if let Some(ups) = self.login.and_then(|k| server.ups(k)) {
                    let text = format!(
                        "User {}@{} logged out from UPS [{}]",
                        self.user_label(),
                        self.addr,
                        ups.name()
                    );
                    server.log(Level::Info, text);
                }
                OkReply::Goodbye.write_to(out);
                self.closing = true;
                return Ok(Some(SessionAction::Close));
            }
            Request::Primary { ups } => self.primary(&ups, server, out, OkReply::PrimaryGranted)?,
            Request::Master { ups } => self.primary(&ups, server, out, OkReply::MasterGranted)?,
            Request::Fsd { ups } => self.fsd(&ups, server, out)?,
            Request::Get(query) => self.get(now, &query, server, out)?,
            Request::List(query) => self.list(now, &query, server, out)?,
            Request::SetVar { ups, var, value } => {
                self.set_var(now, &ups, &var, &value, server, out)?;
            }
            Request::SetTracking(on) => {
                self.tracking = on;
                reply::write_ok(out);
            }
            Request::InstCmd { ups, cmd, param } => {
                // upsd passes a parameter only when it is the last word: with more words
                // after it, the command goes to the driver without one.
                let param = param.filter(|_| words.len() == 4);
                self.instcmd(now, &ups, &cmd, param.as_deref(), server, out)?;
            }
        }
        Ok(None)
    }

    // ---- helpers --------------------------------------------------------------------------

    fn user_label(&self) -> &str {
        self.username.as_deref().unwrap_or("(null)")
    }

    /// The user this connection's USERNAME/PASSWORD authenticate, if they do. Checked at
    /// every privileged command, so a reload that changes a password applies at once.
    fn user<'s>(&self, server: &'s Server) -> Option<&'s User> {
        match (&self.username, &self.password) {
            (Some(u), Some(p)) => server.users().authenticate(u, p),
            _ => None,
        }
    }

    /// Valid credentials protect the connection from eviction at MAXCONN.
    fn note_valid_credentials(&self, server: &mut Server) {
        if self.user(server).is_some() {
            server.client_trusted(self.id);
        }
    }

    fn require(&self, server: &Server, action: Action) -> Reply {
        if self.user(server).is_some_and(|u| u.can(action)) {
            Ok(())
        } else {
            Err(ErrCode::AccessDenied)
        }
    }

    fn find<'s>(server: &'s Server, name: &str) -> Result<&'s Ups, ErrCode> {
        server.find(name).ok_or(ErrCode::UnknownUps)
    }

    fn find_available<'s>(
        server: &'s Server,
        name: &str,
        now: Instant,
    ) -> Result<&'s Ups, ErrCode> {
        let ups = Self::find(server, name)?;
        ups.availability(now, server.settings().maxage)?;
        Ok(ups)
    }

    /// Refuse a command for a driver that has not read what it was sent already (it is
    /// hung, or floods of commands outpace it): the queue stays bounded.
    fn check_driver_backlog(
        &self,
        now: Instant,
        key: UpsKey,
        ups: &str,
        what: &str,
        server: &mut Server,
    ) -> Result<(), ()> {
        if server.driver_backlog(key) < DRIVER_QUEUE_LIMIT {
            return Ok(());
        }
        let text = format!(
            "{what} from {}@{} on UPS [{ups}] refused: the driver is not reading its socket \
             ({} bytes queued)",
            self.user_label(),
            self.addr,
            server.driver_backlog(key)
        );
        server.log_noisy(Noise::Refusal, now, text);
        Err(())
    }

    // ---- commands -------------------------------------------------------------------------

    fn starttls(
        &mut self,
        server: &Server,
        out: &mut String,
    ) -> Result<Option<SessionAction>, ErrCode> {
        if self.tls {
            return Err(ErrCode::AlreadySslMode);
        }
        if !server.settings().tls_available {
            return Err(ErrCode::FeatureNotConfigured);
        }
        OkReply::StartTls.write_to(out);
        Ok(Some(SessionAction::StartTls))
    }

    fn login(&mut self, now: Instant, name: &str, server: &mut Server, out: &mut String) -> Reply {
        if self.login.is_some() {
            let text = format!(
                "Client {}@{} tried to login twice",
                self.user_label(),
                self.addr
            );
            server.log_noisy(Noise::Misuse, now, text);
            return Err(ErrCode::AlreadyLoggedIn);
        }
        let ups = Self::find(server, name)?;
        let (key, canonical) = (ups.key, ups.name().to_owned());
        self.require(server, Action::Login)?;
        self.login = Some(key);
        server.client_login(self.id, key);
        let tls = if self.tls { " (TLS)" } else { "" };
        let text = format!(
            "User {}@{} logged into UPS [{canonical}]{tls}",
            self.user_label(),
            self.addr
        );
        server.log(Level::Info, text);
        reply::write_ok(out);
        Ok(())
    }

    fn primary(&self, name: &str, server: &mut Server, out: &mut String, ok: OkReply) -> Reply {
        let ups = Self::find(server, name)?;
        let canonical = ups.name().to_owned();
        // MASTER is the old name of the PRIMARY action; either grants both commands.
        self.require(server, Action::Primary)?;
        if ok == OkReply::MasterGranted {
            let text = format!(
                "WARNING: Client {}@{} requested MASTER level for device {canonical} - which is \
                 deprecated in favor of PRIMARY since NUT 2.8.0",
                self.user_label(),
                self.addr
            );
            server.log(Level::Info, text);
        }
        ok.write_to(out);
        Ok(())
    }

    fn fsd(&self, name: &str, server: &mut Server, out: &mut String) -> Reply {
        let ups = Self::find(server, name)?;
        let (key, canonical) = (ups.key, ups.name().to_owned());
        self.require(server, Action::Fsd)?;
        server.set_fsd(key);
        let text = format!(
            "Client {}@{} set FSD on UPS [{canonical}]",
            self.user_label(),
            self.addr
        );
        server.log(Level::Info, text);
        OkReply::FsdSet.write_to(out);
        Ok(())
    }

    fn get_var(
        &self,
        now: Instant,
        ups: &str,
        var: &str,
        server: &Server,
        out: &mut String,
    ) -> Reply {
        if var.len() >= 7 && var[..7].eq_ignore_ascii_case("server.") {
            let suffix = &var[7..];
            if suffix.eq_ignore_ascii_case("info") {
                let info = reply::server_info(UPSD_VERSION, UPSD_URL);
                reply::write_var(out, ups, "server.info", &info);
            } else if suffix.eq_ignore_ascii_case("version") {
                reply::write_var(out, ups, "server.version", UPSD_VERSION);
            } else {
                return Err(ErrCode::VarNotSupported);
            }
            return Ok(());
        }
        let u = Self::find_available(server, ups, now)?;
        let v = u.data.var(var).ok_or(ErrCode::VarNotSupported)?;
        reply::write_var(out, ups, var, &u.shown_value(var, &v.value));
        Ok(())
    }

    fn get(&self, now: Instant, query: &GetQuery, server: &Server, out: &mut String) -> Reply {
        match query {
            GetQuery::TrackingMode => reply::write_tracking_mode(out, self.tracking),
            GetQuery::Tracking(id) => {
                if !self.tracking {
                    return Err(ErrCode::FeatureNotConfigured);
                }
                server.tracking_status(id, now).write_line(out);
            }
            GetQuery::NumLogins { ups } => {
                let u = Self::find_available(server, ups, now)?;
                reply::write_numlogins(out, ups, u.numlogins);
            }
            GetQuery::UpsDesc { ups } => {
                let u = Self::find(server, ups)?;
                let desc = u.def.desc.as_deref().unwrap_or(UPSDESC_UNAVAILABLE);
                reply::write_upsdesc(out, ups, desc);
            }
            GetQuery::Var { ups, var } => self.get_var(now, ups, var, server, out)?,
            GetQuery::Type { ups, var } => {
                let u = Self::find_available(server, ups, now)?;
                let v = u.data.var(var).ok_or(ErrCode::VarNotSupported)?;
                let ty = VarType::from_flags(
                    v.flags.rw,
                    v.flags.string,
                    v.aux,
                    !v.enums.is_empty(),
                    !v.ranges.is_empty(),
                );
                reply::write_type(out, ups, var, &ty);
            }
            GetQuery::Desc { ups, var } => {
                Self::find_available(server, ups, now)?;
                let desc = server
                    .descriptions()
                    .var_desc(var)
                    .unwrap_or(DESC_UNAVAILABLE);
                reply::write_desc(out, ups, var, desc);
            }
            GetQuery::CmdDesc { ups, cmd } => {
                Self::find_available(server, ups, now)?;
                let desc = server
                    .descriptions()
                    .cmd_desc(cmd)
                    .unwrap_or(DESC_UNAVAILABLE);
                reply::write_cmddesc(out, ups, cmd, desc);
            }
        }
        Ok(())
    }

    fn list(&self, now: Instant, query: &ListQuery, server: &Server, out: &mut String) -> Reply {
        // Validate first: an error must not leave a half-written BEGIN in `out`.
        let ups = match query {
            ListQuery::Ups => None,
            ListQuery::Client { ups } => Some(Self::find(server, ups)?),
            ListQuery::Var { ups } | ListQuery::Rw { ups } | ListQuery::Cmd { ups } => {
                Some(Self::find_available(server, ups, now)?)
            }
            ListQuery::Enum { ups, var } | ListQuery::Range { ups, var } => {
                let u = Self::find_available(server, ups, now)?;
                u.data.var(var).ok_or(ErrCode::VarNotSupported)?;
                Some(u)
            }
        };
        reply::write_begin_list(out, query);
        match (query, ups) {
            (ListQuery::Ups, _) => {
                for u in server.upses() {
                    let desc = u.def.desc.as_deref().unwrap_or(DESC_UNAVAILABLE);
                    reply::write_list_ups(out, u.name(), desc);
                }
            }
            (ListQuery::Var { ups: name }, Some(u)) => {
                for v in u.data.vars() {
                    reply::write_list_var(out, name, &v.name, &u.shown_value(&v.name, &v.value));
                }
            }
            (ListQuery::Rw { ups: name }, Some(u)) => {
                for v in u.data.vars().filter(|v| v.flags.rw) {
                    reply::write_list_rw(out, name, &v.name, &v.value);
                }
            }
            (ListQuery::Cmd { ups: name }, Some(u)) => {
                for cmd in u.data.commands() {
                    reply::write_list_cmd(out, name, cmd);
                }
            }
            (ListQuery::Client { .. }, Some(u)) => {
                for addr in server.clients_of(u.key) {
                    reply::write_list_client(out, u.name(), &addr.to_string());
                }
            }
            (ListQuery::Enum { ups: name, var }, Some(u)) => {
                if let Some(v) = u.data.var(var) {
                    for e in &v.enums {
                        reply::write_list_enum(out, name, var, e);
                    }
                }
            }
            (ListQuery::Range { ups: name, var }, Some(u)) => {
                if let Some(v) = u.data.var(var) {
                    for r in &v.ranges {
                        reply::write_list_range(out, name, var, r.min, r.max);
                    }
                }
            }
            _ => {}
        }
        reply::write_end_list(out, query);
        Ok(())
    }

    fn set_var(
        &self,
        now: Instant,
        name: &str,
        var: &str,
        value: &str,
        server: &mut Server,
        out: &mut String,
    ) -> Reply {
        let ups = Self::find_available(server, name, now)?;
        let (key, canonical) = (ups.key, ups.name().to_owned());
        self.require(server, Action::Set)?;
        let v = ups.data.var(var).ok_or(ErrCode::VarNotSupported)?;
        if !v.flags.rw {
            return Err(ErrCode::Readonly);
        }
        if v.flags.string {
            if v.aux < 1 {
                return Err(ErrCode::SetFailed);
            }
            if i64::try_from(value.len()).unwrap_or(i64::MAX) > v.aux {
                return Err(ErrCode::TooLong);
            }
        }
        if !v.enums.is_empty() && !v.enums.iter().any(|e| e == value) {
            return Err(ErrCode::InvalidValue);
        }
        if !v.ranges.is_empty() && !in_ranges(value, &v.ranges) {
            return Err(ErrCode::InvalidValue);
        }
        self.check_driver_backlog(now, key, &canonical, "SET", server)
            .map_err(|()| ErrCode::SetFailed)?;
        let tracking = self.tracking.then(|| server.new_tracking(now));
        server.send_to_driver(
            key,
            &ServerMsg::Set {
                var: var.to_owned(),
                value: value.to_owned(),
                tracking: tracking.as_ref().map(|t| t.as_str().to_owned()),
            },
        );
        let text = format!(
            "Set variable: {}@{} set {var} on {canonical} to {value} (tracking ID: {})",
            self.user_label(),
            self.addr,
            tracking.as_ref().map_or("disabled", |t| t.as_str())
        );
        server.log(Level::Info, text);
        write_ok_tracking(out, tracking);
        Ok(())
    }

    fn instcmd(
        &self,
        now: Instant,
        name: &str,
        cmd: &str,
        param: Option<&str>,
        server: &mut Server,
        out: &mut String,
    ) -> Reply {
        let ups = Self::find_available(server, name, now)?;
        let (key, canonical) = (ups.key, ups.name().to_owned());
        if !ups.data.has_command(cmd) {
            return Err(ErrCode::CmdNotSupported);
        }
        if !self.user(server).is_some_and(|u| u.can_instcmd(cmd)) {
            return Err(ErrCode::AccessDenied);
        }
        self.check_driver_backlog(now, key, &canonical, "INSTCMD", server)
            .map_err(|()| ErrCode::InstcmdFailed)?;
        let tracking = self.tracking.then(|| server.new_tracking(now));
        // Deliberate fix (docs/nut-behaviour.md §12 item 2): the parameter goes to the driver quoted, so
        // one with spaces stays one argument.
        server.send_to_driver(
            key,
            &ServerMsg::InstCmd {
                cmd: cmd.to_owned(),
                param: param.map(str::to_owned),
                tracking: tracking.as_ref().map(|t| t.as_str().to_owned()),
            },
        );
        let mut text = format!(
            "Instant command: {}@{} did {cmd}",
            self.user_label(),
            self.addr
        );
        if let Some(p) = param {
            let _ = write!(text, " with value {p}");
        }
        let _ = write!(
            text,
            " on {canonical} (tracking ID: {})",
            tracking.as_ref().map_or("disabled", |t| t.as_str())
        );
        server.log(Level::Info, text);
        write_ok_tracking(out, tracking);
        Ok(())
    }
}

/// Whether `FORCESSL` keeps `request` off plaintext connections: whatever carries a
/// credential or needs one. (`SET TRACKING` changes only the connection's own mode.)
fn needs_tls(request: &Request) -> bool {
    matches!(
        request,
        Request::Username(_)
            | Request::Password(_)
            | Request::Login { .. }
            | Request::Primary { .. }
            | Request::Master { .. }
            | Request::Fsd { .. }
            | Request::SetVar { .. }
            | Request::InstCmd { .. }
    )
}

/// A refused request for the log: its first words (SET VAR keeps the variable), each cut to
/// a sane length, and never a password.
fn describe_request(words: &[String]) -> String {
    const MAX_WORD: usize = 64;
    let first = words.first().map(String::as_str).unwrap_or_default();
    let keep = if first.eq_ignore_ascii_case("PASSWORD") {
        1
    } else if first.eq_ignore_ascii_case("SET") {
        4
    } else {
        3
    };
    let shown: Vec<&str> = words
        .iter()
        .take(keep)
        .map(|w| match w.char_indices().nth(MAX_WORD) {
            Some((at, _)) => &w[..at],
            None => w.as_str(),
        })
        .collect();
    shown.join(" ")
}

fn write_ok_tracking(out: &mut String, tracking: Option<nut_core::net::TrackingId>) {
    match tracking {
        Some(id) => OkReply::Tracking(id).write_to(out),
        None => reply::write_ok(out),
    }
}

/// Whether `value` lies in one of the ranges.
///
/// Deliberate fix (docs/nut-behaviour.md §12 item 5): upsd reads the value with `atoi`, so `"12abc"`
/// passes as 12 and `"130.5"` as 130. We require the whole value to be a decimal number and
/// compare it exactly; integer values behave as in upsd.
pub fn in_ranges(value: &str, ranges: &[nut_core::sock::Range]) -> bool {
    let trimmed = value.trim();
    let valid_chars = !trimmed.is_empty()
        && trimmed
            .trim_start_matches(['-', '+'])
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.');
    let Some(number) = valid_chars.then(|| trimmed.parse::<f64>().ok()).flatten() else {
        return false;
    };
    ranges
        .iter()
        .any(|r| (r.min as f64) <= number && number <= (r.max as f64))
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
