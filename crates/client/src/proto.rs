//! The sans-IO request/reply core shared by the blocking and the async client.
//!
//! Both clients do exactly three things with this module: turn a command into a [`Call`]
//! (the request and how to read its reply), write [`Call::line`] to the socket, and feed the
//! reply lines, split by a [`LineReader`], to an [`Exchange`] until it yields the typed
//! result. Every protocol decision — how a request is spelled, how a reply is validated
//! against it (nut-core's [`ReplyParser`]), how it becomes a Rust value — lives here, once.

use nut_core::net::{
    ErrCode, GetQuery, ListItem, ListQuery, OkReply, Reply, ReplyError, ReplyParser, Request,
    TrackingId, TrackingStatus, VarType,
};

use crate::error::{Error, Result};

/// Longest reply line accepted. upsd never sends more than 512 bytes per line; the margin
/// tolerates other servers while keeping a misbehaving peer from growing memory unbounded.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// One UPS as listed by `LIST UPS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpsEntry {
    /// The UPS name (ups.conf section).
    pub name: String,
    /// Its `desc`, or `Description unavailable`.
    pub description: String,
}

/// A variable and its value (`LIST VAR`, `LIST RW`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    /// Variable name.
    pub name: String,
    /// Current value.
    pub value: String,
}

/// One allowed interval of a RANGE variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// Lower bound (inclusive).
    pub min: i64,
    /// Upper bound (inclusive).
    pub max: i64,
}

/// A request and the function that turns its complete reply into `T`.
#[must_use = "a Call does nothing until a client runs it"]
pub struct Call<T> {
    request: Request,
    finish: fn(Reply) -> Result<T>,
}

impl<T> Call<T> {
    /// A call whose reply is converted by `finish`.
    pub fn new(request: Request, finish: fn(Reply) -> Result<T>) -> Self {
        Call { request, finish }
    }

    /// The request.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The request line to send, LF included.
    pub fn line(&self) -> String {
        self.request.to_line()
    }

    /// The request for messages: its line without LF, but never a password.
    pub fn describe(&self) -> String {
        match &self.request {
            Request::Password(_) => "PASSWORD".to_owned(),
            other => other.to_line().trim_end().to_owned(),
        }
    }

    /// Start reading the reply.
    pub fn exchange(self) -> Exchange<T> {
        Exchange {
            parser: ReplyParser::new(&self.request),
            finish: self.finish,
        }
    }
}

/// The reply side of one [`Call`]: feed it lines until it yields the result.
pub struct Exchange<T> {
    parser: ReplyParser,
    finish: fn(Reply) -> Result<T>,
}

impl<T> Exchange<T> {
    /// Feed one reply line (without LF). `Ok(None)`: more lines are needed (LIST replies).
    pub fn push_line(&mut self, line: &str) -> Result<Option<T>> {
        match self.parser.push_line(line) {
            Ok(None) => Ok(None),
            Ok(Some(reply)) => (self.finish)(reply).map(Some),
            Err(ReplyError::Server(code)) => Err(Error::Server {
                code,
                line: line.to_owned(),
            }),
            Err(ReplyError::TooLarge(what)) => Err(Error::ReplyTooLarge(what)),
            Err(other) => Err(Error::Protocol(other.to_string())),
        }
    }
}

/// Splits received bytes into lines (LF-terminated, a CR before the LF dropped), bounded by
/// [`MAX_LINE_BYTES`].
#[derive(Debug, Default)]
pub struct LineReader {
    buf: Vec<u8>,
}

impl LineReader {
    /// An empty reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append received bytes.
    pub fn extend(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes received but not yet returned as a line.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete line, if one was received. Bytes outside printable ASCII are kept
    /// lossily (upsd only sends ASCII). A line longer than [`MAX_LINE_BYTES`] is an error.
    pub fn next_line(&mut self) -> Result<Option<String>> {
        let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
            if self.buf.len() > MAX_LINE_BYTES {
                return Err(Error::Protocol(format!(
                    "reply line longer than {MAX_LINE_BYTES} bytes"
                )));
            }
            return Ok(None);
        };
        let mut line: Vec<u8> = self.buf.drain(..=end).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.len() > MAX_LINE_BYTES {
            return Err(Error::Protocol(format!(
                "reply line longer than {MAX_LINE_BYTES} bytes"
            )));
        }
        Ok(Some(String::from_utf8_lossy(&line).into_owned()))
    }
}

fn unexpected(reply: &Reply) -> Error {
    Error::Protocol(format!("unexpected reply {:?}", reply.to_text().trim_end()))
}

fn list_items(reply: Reply) -> Result<Vec<ListItem>> {
    match reply {
        Reply::List { items, .. } => Ok(items),
        other => Err(unexpected(&other)),
    }
}

fn text(reply: Reply) -> Result<String> {
    match reply {
        Reply::Text(text) => Ok(text),
        other => Err(unexpected(&other)),
    }
}

fn ok(reply: Reply) -> Result<OkReply> {
    match reply {
        Reply::Ok(ok) => Ok(ok),
        other => Err(unexpected(&other)),
    }
}

fn ok_unit(reply: Reply) -> Result<()> {
    ok(reply).map(drop)
}

/// `OK` or `OK TRACKING <id>`: the id when the server tracks the command.
fn ok_tracking(reply: Reply) -> Result<Option<TrackingId>> {
    Ok(match ok(reply)? {
        OkReply::Tracking(id) => Some(id),
        _ => None,
    })
}

fn var_value(reply: Reply) -> Result<String> {
    match reply {
        Reply::Var { value, .. } => Ok(value),
        other => Err(unexpected(&other)),
    }
}

fn get(query: GetQuery) -> Request {
    Request::Get(query)
}

fn list(query: ListQuery) -> Request {
    Request::List(query)
}

/// `VER`: the server's version line.
pub fn ver() -> Call<String> {
    Call::new(Request::Ver, text)
}

/// `NETVER`: the protocol version (`1.3`).
pub fn netver() -> Call<String> {
    Call::new(Request::NetVer, text)
}

/// `PROTVER`: alias of NETVER (upsd 2.8.0 and later).
pub fn protver() -> Call<String> {
    Call::new(Request::ProtVer, text)
}

/// `HELP`: the server's command list line.
pub fn help() -> Call<String> {
    Call::new(Request::Help, text)
}

/// `STARTTLS`: `Ok(())` means the TLS handshake must follow at once.
pub fn starttls() -> Call<()> {
    Call::new(Request::StartTls, ok_unit)
}

/// `USERNAME <name>` (sent quoted when it needs to be).
pub fn username(name: &str) -> Call<()> {
    Call::new(Request::Username(name.to_owned()), ok_unit)
}

/// `PASSWORD <password>` (sent quoted when it needs to be).
pub fn password(password: &str) -> Call<()> {
    Call::new(Request::Password(password.to_owned()), ok_unit)
}

/// `LOGIN <ups>`: register as a client of the UPS (upsmon).
pub fn login(ups: &str) -> Call<()> {
    let ups = ups.to_owned();
    Call::new(Request::Login { ups }, ok_unit)
}

/// `LOGOUT`.
pub fn logout() -> Call<()> {
    Call::new(Request::Logout, ok_unit)
}

/// `PRIMARY <ups>`: check the primary-role permission.
pub fn primary(ups: &str) -> Call<()> {
    let ups = ups.to_owned();
    Call::new(Request::Primary { ups }, ok_unit)
}

/// `MASTER <ups>`: the pre-2.8 spelling of PRIMARY.
pub fn master(ups: &str) -> Call<()> {
    let ups = ups.to_owned();
    Call::new(Request::Master { ups }, ok_unit)
}

/// `FSD <ups>`: set the forced-shutdown flag.
pub fn fsd(ups: &str) -> Call<()> {
    let ups = ups.to_owned();
    Call::new(Request::Fsd { ups }, ok_unit)
}

/// The items of a LIST reply, each taken apart by `pick`. [`ReplyParser`] has already checked
/// that every item is of the kind the request asked for, so an item handed back by `pick` only
/// means the two disagree: reported as a protocol error rather than trusted or panicked on.
fn items<T>(reply: Reply, pick: fn(ListItem) -> Result<T, ListItem>) -> Result<Vec<T>> {
    list_items(reply)?
        .into_iter()
        .map(|item| {
            pick(item).map_err(|other| {
                let mut text = String::new();
                other.write_to(&mut text);
                Error::Protocol(format!("unexpected LIST item {:?}", text.trim_end()))
            })
        })
        .collect()
}

/// `LIST UPS`.
pub fn list_ups() -> Call<Vec<UpsEntry>> {
    Call::new(list(ListQuery::Ups), |reply| {
        items(reply, |item| match item {
            ListItem::Ups { name, desc } => Ok(UpsEntry {
                name,
                description: desc,
            }),
            other => Err(other),
        })
    })
}

/// The name and value of each VAR or RW item.
fn variables(reply: Reply) -> Result<Vec<Variable>> {
    items(reply, |item| match item {
        ListItem::Var { var, value, .. } | ListItem::Rw { var, value, .. } => {
            Ok(Variable { name: var, value })
        }
        other => Err(other),
    })
}

/// `LIST VAR <ups>`: every variable, in server order.
pub fn list_vars(ups: &str) -> Call<Vec<Variable>> {
    let ups = ups.to_owned();
    Call::new(list(ListQuery::Var { ups }), variables)
}

/// `LIST RW <ups>`: the writable variables.
pub fn list_rw(ups: &str) -> Call<Vec<Variable>> {
    let ups = ups.to_owned();
    Call::new(list(ListQuery::Rw { ups }), variables)
}

/// The one value of each CMD, CLIENT or ENUM item (command name, address, allowed value);
/// the parser has already matched the item kind to the request, as for [`variables`].
fn item_values(reply: Reply) -> Result<Vec<String>> {
    items(reply, |item| match item {
        ListItem::Cmd { cmd: value, .. }
        | ListItem::Client { address: value, .. }
        | ListItem::Enum { value, .. } => Ok(value),
        other => Err(other),
    })
}

/// `LIST CMD <ups>`: the instant command names.
pub fn list_commands(ups: &str) -> Call<Vec<String>> {
    let ups = ups.to_owned();
    Call::new(list(ListQuery::Cmd { ups }), item_values)
}

/// `LIST CLIENT <ups>`: addresses of the clients logged in to the UPS.
pub fn list_clients(ups: &str) -> Call<Vec<String>> {
    let ups = ups.to_owned();
    Call::new(list(ListQuery::Client { ups }), item_values)
}

/// `LIST ENUM <ups> <var>`: the allowed values.
pub fn list_enum(ups: &str, var: &str) -> Call<Vec<String>> {
    let (ups, var) = (ups.to_owned(), var.to_owned());
    Call::new(list(ListQuery::Enum { ups, var }), item_values)
}

/// `LIST RANGE <ups> <var>`: the allowed intervals.
pub fn list_range(ups: &str, var: &str) -> Call<Vec<Range>> {
    let (ups, var) = (ups.to_owned(), var.to_owned());
    Call::new(list(ListQuery::Range { ups, var }), |reply| {
        items(reply, |item| match item {
            ListItem::Range { min, max, .. } => Ok(Range { min, max }),
            other => Err(other),
        })
    })
}

/// `GET VAR <ups> <var>`: the value.
pub fn get_var(ups: &str, var: &str) -> Call<String> {
    let (ups, var) = (ups.to_owned(), var.to_owned());
    Call::new(get(GetQuery::Var { ups, var }), var_value)
}

/// `GET TYPE <ups> <var>`.
pub fn get_type(ups: &str, var: &str) -> Call<VarType> {
    let (ups, var) = (ups.to_owned(), var.to_owned());
    Call::new(get(GetQuery::Type { ups, var }), |reply| match reply {
        Reply::Type { ty, .. } => Ok(ty),
        other => Err(unexpected(&other)),
    })
}

/// The text of a DESC, CMDDESC or UPSDESC reply; the parser has already matched the reply
/// kind to the request, so one conversion serves all three.
fn description(reply: Reply) -> Result<String> {
    match reply {
        Reply::Desc { desc, .. } | Reply::CmdDesc { desc, .. } | Reply::UpsDesc { desc, .. } => {
            Ok(desc)
        }
        other => Err(unexpected(&other)),
    }
}

/// `GET DESC <ups> <var>`: the variable's description.
pub fn get_desc(ups: &str, var: &str) -> Call<String> {
    let (ups, var) = (ups.to_owned(), var.to_owned());
    Call::new(get(GetQuery::Desc { ups, var }), description)
}

/// `GET CMDDESC <ups> <cmd>`: the command's description.
pub fn get_cmd_desc(ups: &str, cmd: &str) -> Call<String> {
    let (ups, cmd) = (ups.to_owned(), cmd.to_owned());
    Call::new(get(GetQuery::CmdDesc { ups, cmd }), description)
}

/// `GET UPSDESC <ups>`: the UPS's `desc` (or `Unavailable`).
pub fn get_ups_desc(ups: &str) -> Call<String> {
    let ups = ups.to_owned();
    Call::new(get(GetQuery::UpsDesc { ups }), description)
}

/// `GET NUMLOGINS <ups>`.
pub fn get_num_logins(ups: &str) -> Call<u64> {
    let ups = ups.to_owned();
    Call::new(get(GetQuery::NumLogins { ups }), |reply| match reply {
        Reply::NumLogins { count, .. } => Ok(count),
        other => Err(unexpected(&other)),
    })
}

/// `SET VAR <ups> <var> "<value>"`: the tracking id if tracking is on.
pub fn set_var(ups: &str, var: &str, value: &str) -> Call<Option<TrackingId>> {
    let request = Request::SetVar {
        ups: ups.to_owned(),
        var: var.to_owned(),
        value: value.to_owned(),
    };
    Call::new(request, ok_tracking)
}

/// `INSTCMD <ups> <cmd> ["<param>"]`: the tracking id if tracking is on.
pub fn instcmd(ups: &str, cmd: &str, param: Option<&str>) -> Call<Option<TrackingId>> {
    let request = Request::InstCmd {
        ups: ups.to_owned(),
        cmd: cmd.to_owned(),
        param: param.map(str::to_owned),
    };
    Call::new(request, ok_tracking)
}

/// `SET TRACKING ON|OFF`.
pub fn set_tracking(on: bool) -> Call<()> {
    Call::new(Request::SetTracking(on), ok_unit)
}

/// `GET TRACKING`: whether tracking is on for this connection.
pub fn tracking_mode() -> Call<bool> {
    Call::new(get(GetQuery::TrackingMode), |reply| match reply {
        Reply::TrackingMode(on) => Ok(on),
        other => Err(unexpected(&other)),
    })
}

/// `GET TRACKING <id>`: the status of a tracked command. An `ERR` answer is a status here
/// ([`TrackingStatus::Error`]), not an error.
pub fn tracking_status(id: &TrackingId) -> Call<TrackingStatus> {
    Call::new(get(GetQuery::Tracking(id.clone())), |reply| match reply {
        Reply::Tracking(status) => Ok(status),
        other => Err(unexpected(&other)),
    })
}

/// How long to wait between two `GET TRACKING` polls (NUT's clients wait one second).
pub const TRACKING_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether an [`ErrCode`] reply to `STARTTLS` means "this server does no TLS" (so an
/// opportunistic client may go on in clear text) rather than a real failure.
pub fn starttls_unsupported(code: &ErrCode) -> bool {
    matches!(
        code,
        ErrCode::FeatureNotConfigured | ErrCode::FeatureNotSupported | ErrCode::UnknownCommand
    )
}

/// Generates the typed command methods of a client from the [`Call`] constructors above, once
/// for the blocking client and once (with `async`/`.await`) for the async one, so the two
/// can never drift apart.
macro_rules! command_methods {
    ($($async:ident)? ; $($await:tt)*) => {
        /// `VER`: the server's version line.
        pub $($async)? fn ver(&mut self) -> Result<String> {
            self.call(proto::ver())$($await)*
        }
        /// `NETVER`: the protocol version.
        pub $($async)? fn netver(&mut self) -> Result<String> {
            self.call(proto::netver())$($await)*
        }
        /// `PROTVER`: the protocol version (upsd 2.8+ alias of NETVER).
        pub $($async)? fn protver(&mut self) -> Result<String> {
            self.call(proto::protver())$($await)*
        }
        /// `HELP`: the server's command list.
        pub $($async)? fn help(&mut self) -> Result<String> {
            self.call(proto::help())$($await)*
        }
        /// `USERNAME`: store the user name (checked later, by privileged commands).
        pub $($async)? fn username(&mut self, name: &str) -> Result<()> {
            self.call(proto::username(name))$($await)*
        }
        /// `PASSWORD`: store the password (checked later, by privileged commands).
        pub $($async)? fn password(&mut self, password: &str) -> Result<()> {
            self.call(proto::password(password))$($await)*
        }
        /// `USERNAME` then `PASSWORD`.
        pub $($async)? fn authenticate(&mut self, name: &str, password: &str) -> Result<()> {
            self.username(name)$($await)*?;
            self.password(password)$($await)*
        }
        /// `LOGIN <ups>`.
        pub $($async)? fn login(&mut self, ups: &str) -> Result<()> {
            self.call(proto::login(ups))$($await)*
        }
        /// `LOGOUT`; the server closes the connection afterwards.
        pub $($async)? fn logout(&mut self) -> Result<()> {
            self.call(proto::logout())$($await)*
        }
        /// `PRIMARY <ups>`.
        pub $($async)? fn primary(&mut self, ups: &str) -> Result<()> {
            self.call(proto::primary(ups))$($await)*
        }
        /// `MASTER <ups>` (old spelling of PRIMARY, for pre-2.8 servers).
        pub $($async)? fn master(&mut self, ups: &str) -> Result<()> {
            self.call(proto::master(ups))$($await)*
        }
        /// `FSD <ups>`.
        pub $($async)? fn fsd(&mut self, ups: &str) -> Result<()> {
            self.call(proto::fsd(ups))$($await)*
        }
        /// `LIST UPS`.
        pub $($async)? fn list_ups(&mut self) -> Result<Vec<UpsEntry>> {
            self.call(proto::list_ups())$($await)*
        }
        /// `LIST VAR <ups>`.
        pub $($async)? fn list_vars(&mut self, ups: &str) -> Result<Vec<Variable>> {
            self.call(proto::list_vars(ups))$($await)*
        }
        /// `LIST RW <ups>`.
        pub $($async)? fn list_rw(&mut self, ups: &str) -> Result<Vec<Variable>> {
            self.call(proto::list_rw(ups))$($await)*
        }
        /// `LIST CMD <ups>`.
        pub $($async)? fn list_commands(&mut self, ups: &str) -> Result<Vec<String>> {
            self.call(proto::list_commands(ups))$($await)*
        }
        /// `LIST CLIENT <ups>`.
        pub $($async)? fn list_clients(&mut self, ups: &str) -> Result<Vec<String>> {
            self.call(proto::list_clients(ups))$($await)*
        }
        /// `LIST ENUM <ups> <var>`.
        pub $($async)? fn list_enum(&mut self, ups: &str, var: &str) -> Result<Vec<String>> {
            self.call(proto::list_enum(ups, var))$($await)*
        }
        /// `LIST RANGE <ups> <var>`.
        pub $($async)? fn list_range(&mut self, ups: &str, var: &str) -> Result<Vec<Range>> {
            self.call(proto::list_range(ups, var))$($await)*
        }
        /// `GET VAR <ups> <var>`.
        pub $($async)? fn get_var(&mut self, ups: &str, var: &str) -> Result<String> {
            self.call(proto::get_var(ups, var))$($await)*
        }
        /// `GET TYPE <ups> <var>`.
        pub $($async)? fn get_type(&mut self, ups: &str, var: &str) -> Result<VarType> {
            self.call(proto::get_type(ups, var))$($await)*
        }
        /// `GET DESC <ups> <var>`.
        pub $($async)? fn get_desc(&mut self, ups: &str, var: &str) -> Result<String> {
            self.call(proto::get_desc(ups, var))$($await)*
        }
        /// `GET CMDDESC <ups> <cmd>`.
        pub $($async)? fn get_cmd_desc(&mut self, ups: &str, cmd: &str) -> Result<String> {
            self.call(proto::get_cmd_desc(ups, cmd))$($await)*
        }
        /// `GET UPSDESC <ups>`.
        pub $($async)? fn get_ups_desc(&mut self, ups: &str) -> Result<String> {
            self.call(proto::get_ups_desc(ups))$($await)*
        }
        /// `GET NUMLOGINS <ups>`.
        pub $($async)? fn get_num_logins(&mut self, ups: &str) -> Result<u64> {
            self.call(proto::get_num_logins(ups))$($await)*
        }
        /// `SET VAR <ups> <var> <value>`; the tracking id when tracking is on.
        pub $($async)? fn set_var(
            &mut self,
            ups: &str,
            var: &str,
            value: &str,
        ) -> Result<Option<TrackingId>> {
            self.call(proto::set_var(ups, var, value))$($await)*
        }
        /// `INSTCMD <ups> <cmd> [<param>]`; the tracking id when tracking is on.
        pub $($async)? fn instcmd(
            &mut self,
            ups: &str,
            cmd: &str,
            param: Option<&str>,
        ) -> Result<Option<TrackingId>> {
            self.call(proto::instcmd(ups, cmd, param))$($await)*
        }
        /// `SET TRACKING ON|OFF`.
        pub $($async)? fn set_tracking(&mut self, on: bool) -> Result<()> {
            self.call(proto::set_tracking(on))$($await)*
        }
        /// `GET TRACKING`: whether tracking is on for this connection.
        pub $($async)? fn tracking_mode(&mut self) -> Result<bool> {
            self.call(proto::tracking_mode())$($await)*
        }
        /// `GET TRACKING <id>`: one poll of a tracked command's status.
        pub $($async)? fn tracking_status(&mut self, id: &TrackingId) -> Result<TrackingStatus> {
            self.call(proto::tracking_status(id))$($await)*
        }
    };
}

pub(crate) use command_methods;

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(call: Call<T>, lines: &[&str]) -> Result<T> {
        let mut exchange = call.exchange();
        for line in lines {
            if let Some(value) = exchange.push_line(line)? {
                return Ok(value);
            }
        }
        panic!("reply incomplete");
    }

    #[test]
    fn requests_are_spelled_like_nut_clients() {
        assert_eq!(
            get_var("ups", "ups.status").line(),
            "GET VAR ups ups.status\n"
        );
        assert_eq!(
            set_var("ups", "ups.id", "a \"b\"").line(),
            "SET VAR ups ups.id \"a \\\"b\\\"\"\n"
        );
        assert_eq!(username("a b").line(), "USERNAME \"a b\"\n");
        assert_eq!(password("p#w").line(), "PASSWORD \"p\\#w\"\n");
        assert_eq!(
            instcmd("u", "load.off", None).line(),
            "INSTCMD u load.off\n"
        );
        assert_eq!(
            instcmd("u", "load.off", Some("5")).line(),
            "INSTCMD u load.off \"5\"\n"
        );
    }

    #[test]
    fn replies_become_values() {
        let vars = run(
            list_vars("dummy"),
            &[
                "BEGIN LIST VAR dummy",
                "VAR dummy battery.charge \"90\"",
                "VAR dummy ups.mfr \"Acme \\\"Power\\\"\"",
                "END LIST VAR dummy",
            ],
        )
        .unwrap();
        assert_eq!(vars[1].value, "Acme \"Power\"");
        let id = run(
            instcmd("dummy", "load.off", None),
            &["OK TRACKING F4F78A1F-D59B-4F21-82C6-9729871FA9DC"],
        )
        .unwrap();
        assert!(id.is_some());
        let status = run(tracking_status(&id.unwrap()), &["ERR UNKNOWN"]).unwrap();
        assert_eq!(status, TrackingStatus::Error(ErrCode::Unknown));
        let ranges = run(
            list_range("f", "x"),
            &[
                "BEGIN LIST RANGE f x",
                "RANGE f x \"120\" \"130\"",
                "END LIST RANGE f x",
            ],
        )
        .unwrap();
        assert_eq!(ranges, [Range { min: 120, max: 130 }]);
    }

    #[test]
    fn shared_conversions_serve_each_request_kind() {
        let clients = run(
            list_clients("u"),
            &[
                "BEGIN LIST CLIENT u",
                "CLIENT u 127.0.0.1",
                "CLIENT u ::1",
                "END LIST CLIENT u",
            ],
        )
        .unwrap();
        assert_eq!(clients, ["127.0.0.1", "::1"]);
        let commands = run(
            list_commands("u"),
            &["BEGIN LIST CMD u", "CMD u load.off", "END LIST CMD u"],
        )
        .unwrap();
        assert_eq!(commands, ["load.off"]);
        let desc = run(
            get_cmd_desc("u", "load.off"),
            &["CMDDESC u load.off \"Turn off the load\""],
        )
        .unwrap();
        assert_eq!(desc, "Turn off the load");
        let desc = run(get_ups_desc("u"), &["UPSDESC u \"Rack 2\""]).unwrap();
        assert_eq!(desc, "Rack 2");
        // The conversions accept several kinds only because the parser matches the kind to
        // the request first: an item of another kind must still be refused.
        let err = run(
            list_commands("u"),
            &["BEGIN LIST CMD u", "ENUM u x \"a\"", "END LIST CMD u"],
        )
        .unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
        let err = run(get_desc("u", "x"), &["CMDDESC u x \"d\""]).unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    }

    #[test]
    fn err_replies_keep_the_line() {
        let err = run(get_var("x", "ups.status"), &["ERR UNKNOWN-UPS"]).unwrap_err();
        assert!(err.is_unknown_ups());
        match err {
            Error::Server { line, .. } => assert_eq!(line, "ERR UNKNOWN-UPS"),
            other => panic!("{other:?}"),
        }
        let err = run(list_vars("x"), &["ERR DATA-STALE"]).unwrap_err();
        assert!(err.is_data_stale());
        let err = run(get_var("x", "y.z"), &["VAR other y.z \"1\""]).unwrap_err();
        assert!(matches!(err, Error::Protocol(_)));
    }

    #[test]
    fn line_reader_splits_and_bounds() {
        let mut reader = LineReader::new();
        reader.extend(b"OK\r\nVAR a");
        assert_eq!(reader.next_line().unwrap().as_deref(), Some("OK"));
        assert_eq!(reader.next_line().unwrap(), None);
        reader.extend(b" b \"c\"\n");
        assert_eq!(
            reader.next_line().unwrap().as_deref(),
            Some("VAR a b \"c\"")
        );
        assert_eq!(reader.buffered(), 0);
        reader.extend(&vec![b'x'; MAX_LINE_BYTES + 1]);
        assert!(reader.next_line().is_err());
    }
}
