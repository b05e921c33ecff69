//! Client requests: the command words, the typed [`Request`], its parser (upsd's argument
//! rules) and its renderer (what a correct client sends).
//!
//! # Who checks what, and in which order (upsd 2.8.0)
//!
//! For every tokenized line upsd does, in this order:
//!
//! 1. **Tokenizer error** (e.g. `#` inside quotes): the line is logged and *no reply* is sent.
//!    (Not this module: the caller sees [`crate::token::Line::error`].)
//! 2. **Command word** (case-insensitive): empty line or unknown word →
//!    `ERR UNKNOWN-COMMAND` ([`Command::from_word`]).
//! 3. **Credentials present** for [`Command::needs_user`] commands (LOGIN, PRIMARY, MASTER,
//!    FSD, SET, INSTCMD): no USERNAME → `ERR USERNAME-REQUIRED`, then no PASSWORD →
//!    `ERR PASSWORD-REQUIRED` ([`Command::check_credentials_present`]). This happens *before*
//!    any argument is looked at: `SET` or `INSTCMD` alone without USERNAME answers
//!    `USERNAME-REQUIRED`, not `INVALID-ARGUMENT` (verified against Debian's upsd 2.8.0).
//! 4. **Arguments**: count and sub-command word → `ERR INVALID-ARGUMENT`
//!    ([`Request::parse_args`]). Extra words are ignored where upsd ignores them.
//! 5. **Server state**, done by the server, not here, in the per-command order of the
//!    docs/nut-behaviour.md §2.3: e.g. for `SET VAR`: `UNKNOWN-UPS` → `DRIVER-NOT-CONNECTED` /
//!    `DATA-STALE` → `ACCESS-DENIED` → `VAR-NOT-SUPPORTED` → `READONLY` → `SET-FAILED` /
//!    `TOO-LONG` → `INVALID-VALUE`; for `INSTCMD`: `UNKNOWN-UPS` → availability →
//!    `CMD-NOT-SUPPORTED` → `ACCESS-DENIED`; `LOGIN`: `ALREADY-LOGGED-IN` → `UNKNOWN-UPS` →
//!    `ACCESS-DENIED`; `USERNAME`/`PASSWORD`: `ALREADY-SET-*` (after the argument count).
//!
//! A server does steps 2–4 in one call with [`Request::parse_with_credentials`] (or step by
//! step with [`Command::from_word`], [`Command::check_credentials_present`] and
//! [`Request::parse_args`]); [`Request::parse`] does steps 2 and 4 only, for callers without
//! credentials state (tests, proxies).
//!
//! Names (UPS, variable, command) keep the client's spelling: replies echo them. Sub-command
//! words are matched case-insensitively and echoed in canonical upper case (`list var Ups` →
//! `BEGIN LIST VAR Ups`). One exception upsd makes: `GET VAR <ups> SERVER.VERSION` is answered
//! with the canonical `server.version` / `server.info` name.
//!
//! Arguments beyond those a command uses are ignored, as upsd does, for GET, LIST, SET,
//! INSTCMD and STARTTLS; VER, NETVER, PROTVER, HELP and LOGOUT take none, and USERNAME,
//! PASSWORD, LOGIN, PRIMARY, MASTER and FSD exactly one (else `INVALID-ARGUMENT`).

use std::fmt;

use super::errors::ErrCode;
use super::tracking::TrackingId;
use crate::token;

/// A command word (the first word of a request line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// `VER`
    Ver,
    /// `NETVER`
    NetVer,
    /// `PROTVER` (alias of NETVER since 2.8.0)
    ProtVer,
    /// `HELP`
    Help,
    /// `STARTTLS`
    StartTls,
    /// `USERNAME`
    Username,
    /// `PASSWORD`
    Password,
    /// `LOGIN`
    Login,
    /// `LOGOUT`
    Logout,
    /// `PRIMARY` (since 2.8.0)
    Primary,
    /// `MASTER` (deprecated alias of PRIMARY)
    Master,
    /// `FSD`
    Fsd,
    /// `GET`
    Get,
    /// `LIST`
    List,
    /// `SET`
    Set,
    /// `INSTCMD`
    InstCmd,
}

impl Command {
    /// Every command, in upsd's dispatch-table order.
    pub const ALL: [Command; 16] = [
        Command::Ver,
        Command::NetVer,
        Command::ProtVer,
        Command::Help,
        Command::StartTls,
        Command::Get,
        Command::List,
        Command::Username,
        Command::Password,
        Command::Login,
        Command::Logout,
        Command::Primary,
        Command::Master,
        Command::Fsd,
        Command::Set,
        Command::InstCmd,
    ];

    /// The canonical (upper-case) word.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Ver => "VER",
            Command::NetVer => "NETVER",
            Command::ProtVer => "PROTVER",
            Command::Help => "HELP",
            Command::StartTls => "STARTTLS",
            Command::Username => "USERNAME",
            Command::Password => "PASSWORD",
            Command::Login => "LOGIN",
            Command::Logout => "LOGOUT",
            Command::Primary => "PRIMARY",
            Command::Master => "MASTER",
            Command::Fsd => "FSD",
            Command::Get => "GET",
            Command::List => "LIST",
            Command::Set => "SET",
            Command::InstCmd => "INSTCMD",
        }
    }

    /// The command for a word, compared case-insensitively; `None` → `ERR UNKNOWN-COMMAND`.
    pub fn from_word(word: &str) -> Option<Command> {
        Command::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(word))
    }

    /// Whether upsd requires USERNAME *and* PASSWORD to have been sent before it even looks
    /// at the arguments (upsd's `FLAG_USER`): LOGIN, PRIMARY, MASTER, FSD, SET, INSTCMD.
    /// Whether the credentials are *valid* is checked later, by each command, against
    /// upsd.users.
    pub fn needs_user(self) -> bool {
        matches!(
            self,
            Command::Login
                | Command::Primary
                | Command::Master
                | Command::Fsd
                | Command::Set
                | Command::InstCmd
        )
    }

    /// Step 3 of the check order: for a [`needs_user`](Self::needs_user) command,
    /// `USERNAME-REQUIRED` if no USERNAME was sent, else `PASSWORD-REQUIRED` if no PASSWORD
    /// was sent. Always `Ok` for other commands.
    pub fn check_credentials_present(
        self,
        has_username: bool,
        has_password: bool,
    ) -> Result<(), ErrCode> {
        if !self.needs_user() {
            Ok(())
        } else if !has_username {
            Err(ErrCode::UsernameRequired)
        } else if !has_password {
            Err(ErrCode::PasswordRequired)
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `GET` sub-requests.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GetQuery {
    /// `GET TRACKING` → `ON`/`OFF`.
    TrackingMode,
    /// `GET TRACKING <id>` → `PENDING`/`SUCCESS`/`ERR …`.
    Tracking(TrackingId),
    /// `GET NUMLOGINS <ups>`.
    NumLogins {
        /// UPS name as the client spelled it.
        ups: String,
    },
    /// `GET UPSDESC <ups>`.
    UpsDesc {
        /// UPS name as the client spelled it.
        ups: String,
    },
    /// `GET VAR <ups> <var>`.
    Var {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name as the client spelled it.
        var: String,
    },
    /// `GET TYPE <ups> <var>`.
    Type {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name as the client spelled it.
        var: String,
    },
    /// `GET DESC <ups> <var>`.
    Desc {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name as the client spelled it.
        var: String,
    },
    /// `GET CMDDESC <ups> <cmd>`.
    CmdDesc {
        /// UPS name as the client spelled it.
        ups: String,
        /// Command name as the client spelled it.
        cmd: String,
    },
}

impl GetQuery {
    /// The words after `GET` (sub-command canonical, names as spelled). For the replies that
    /// echo them (NUMLOGINS, UPSDESC, VAR, TYPE, DESC, CMDDESC) these are also the words a
    /// reply must start with; the TRACKING replies echo nothing.
    pub fn words(&self) -> Vec<&str> {
        match self {
            GetQuery::TrackingMode => vec!["TRACKING"],
            GetQuery::Tracking(id) => vec!["TRACKING", id.as_str()],
            GetQuery::NumLogins { ups } => vec!["NUMLOGINS", ups],
            GetQuery::UpsDesc { ups } => vec!["UPSDESC", ups],
            GetQuery::Var { ups, var } => vec!["VAR", ups, var],
            GetQuery::Type { ups, var } => vec!["TYPE", ups, var],
            GetQuery::Desc { ups, var } => vec!["DESC", ups, var],
            GetQuery::CmdDesc { ups, cmd } => vec!["CMDDESC", ups, cmd],
        }
    }

    /// The UPS name this query is about, if any.
    pub fn ups(&self) -> Option<&str> {
        match self {
            GetQuery::TrackingMode | GetQuery::Tracking(_) => None,
            GetQuery::NumLogins { ups }
            | GetQuery::UpsDesc { ups }
            | GetQuery::Var { ups, .. }
            | GetQuery::Type { ups, .. }
            | GetQuery::Desc { ups, .. }
            | GetQuery::CmdDesc { ups, .. } => Some(ups),
        }
    }

    fn parse<S: AsRef<str>>(args: &[S]) -> Result<GetQuery, ErrCode> {
        let word = |i: usize| args.get(i).map(AsRef::as_ref);
        let owned = |i: usize| word(i).unwrap_or_default().to_owned();
        let Some(sub) = word(0) else {
            return Err(ErrCode::InvalidArgument);
        };
        if sub.eq_ignore_ascii_case("TRACKING") {
            // upsd only looks at the second word; more are ignored.
            return Ok(match word(1) {
                None => GetQuery::TrackingMode,
                Some(id) => GetQuery::Tracking(TrackingId::from_wire(id)),
            });
        }
        if args.len() < 2 {
            return Err(ErrCode::InvalidArgument);
        }
        if sub.eq_ignore_ascii_case("NUMLOGINS") {
            return Ok(GetQuery::NumLogins { ups: owned(1) });
        }
        if sub.eq_ignore_ascii_case("UPSDESC") {
            return Ok(GetQuery::UpsDesc { ups: owned(1) });
        }
        if args.len() < 3 {
            return Err(ErrCode::InvalidArgument);
        }
        let (ups, name) = (owned(1), owned(2));
        if sub.eq_ignore_ascii_case("VAR") {
            Ok(GetQuery::Var { ups, var: name })
        } else if sub.eq_ignore_ascii_case("TYPE") {
            Ok(GetQuery::Type { ups, var: name })
        } else if sub.eq_ignore_ascii_case("DESC") {
            Ok(GetQuery::Desc { ups, var: name })
        } else if sub.eq_ignore_ascii_case("CMDDESC") {
            Ok(GetQuery::CmdDesc { ups, cmd: name })
        } else {
            Err(ErrCode::InvalidArgument)
        }
    }
}

/// The `LIST` sub-requests.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListQuery {
    /// `LIST UPS`.
    Ups,
    /// `LIST VAR <ups>`.
    Var {
        /// UPS name as the client spelled it.
        ups: String,
    },
    /// `LIST RW <ups>`.
    Rw {
        /// UPS name as the client spelled it.
        ups: String,
    },
    /// `LIST CMD <ups>`.
    Cmd {
        /// UPS name as the client spelled it.
        ups: String,
    },
    /// `LIST CLIENT <ups>`.
    Client {
        /// UPS name as the client spelled it.
        ups: String,
    },
    /// `LIST ENUM <ups> <var>`.
    Enum {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name as the client spelled it.
        var: String,
    },
    /// `LIST RANGE <ups> <var>`.
    Range {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name as the client spelled it.
        var: String,
    },
}

impl ListQuery {
    /// The words after `LIST`: the `<query>` repeated in `BEGIN LIST <query>` /
    /// `END LIST <query>`, and the words every item line starts with.
    pub fn words(&self) -> Vec<&str> {
        match self {
            ListQuery::Ups => vec!["UPS"],
            ListQuery::Var { ups } => vec!["VAR", ups],
            ListQuery::Rw { ups } => vec!["RW", ups],
            ListQuery::Cmd { ups } => vec!["CMD", ups],
            ListQuery::Client { ups } => vec!["CLIENT", ups],
            ListQuery::Enum { ups, var } => vec!["ENUM", ups, var],
            ListQuery::Range { ups, var } => vec!["RANGE", ups, var],
        }
    }

    /// The sub-command word (`UPS`, `VAR`, `RW`, `CMD`, `CLIENT`, `ENUM`, `RANGE`), which is
    /// also the first word of each item line.
    pub fn kind_word(&self) -> &'static str {
        match self {
            ListQuery::Ups => "UPS",
            ListQuery::Var { .. } => "VAR",
            ListQuery::Rw { .. } => "RW",
            ListQuery::Cmd { .. } => "CMD",
            ListQuery::Client { .. } => "CLIENT",
            ListQuery::Enum { .. } => "ENUM",
            ListQuery::Range { .. } => "RANGE",
        }
    }

    /// The UPS name this query is about (`None` for `LIST UPS`).
    pub fn ups(&self) -> Option<&str> {
        match self {
            ListQuery::Ups => None,
            ListQuery::Var { ups }
            | ListQuery::Rw { ups }
            | ListQuery::Cmd { ups }
            | ListQuery::Client { ups }
            | ListQuery::Enum { ups, .. }
            | ListQuery::Range { ups, .. } => Some(ups),
        }
    }

    /// Append the `<query>` words as upsd prints them: the canonical sub-command word, then
    /// the names raw, exactly as the client spelled them (upsd prints them with `%s`).
    pub fn write_query(&self, out: &mut String) {
        out.push_str(self.kind_word());
        match self {
            ListQuery::Ups => {}
            ListQuery::Var { ups }
            | ListQuery::Rw { ups }
            | ListQuery::Cmd { ups }
            | ListQuery::Client { ups } => {
                out.push(' ');
                out.push_str(ups);
            }
            ListQuery::Enum { ups, var } | ListQuery::Range { ups, var } => {
                out.push(' ');
                out.push_str(ups);
                out.push(' ');
                out.push_str(var);
            }
        }
    }

    fn parse<S: AsRef<str>>(args: &[S]) -> Result<ListQuery, ErrCode> {
        let word = |i: usize| args.get(i).map(AsRef::as_ref);
        let owned = |i: usize| word(i).unwrap_or_default().to_owned();
        let Some(sub) = word(0) else {
            return Err(ErrCode::InvalidArgument);
        };
        if sub.eq_ignore_ascii_case("UPS") {
            return Ok(ListQuery::Ups);
        }
        if args.len() < 2 {
            return Err(ErrCode::InvalidArgument);
        }
        let ups = owned(1);
        if sub.eq_ignore_ascii_case("VAR") {
            return Ok(ListQuery::Var { ups });
        }
        if sub.eq_ignore_ascii_case("RW") {
            return Ok(ListQuery::Rw { ups });
        }
        if sub.eq_ignore_ascii_case("CMD") {
            return Ok(ListQuery::Cmd { ups });
        }
        if sub.eq_ignore_ascii_case("CLIENT") {
            return Ok(ListQuery::Client { ups });
        }
        if args.len() < 3 {
            return Err(ErrCode::InvalidArgument);
        }
        let var = owned(2);
        if sub.eq_ignore_ascii_case("ENUM") {
            Ok(ListQuery::Enum { ups, var })
        } else if sub.eq_ignore_ascii_case("RANGE") {
            Ok(ListQuery::Range { ups, var })
        } else {
            Err(ErrCode::InvalidArgument)
        }
    }
}

/// One client request, parsed or to be sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    /// `VER` → server version line.
    Ver,
    /// `NETVER` → `1.3`.
    NetVer,
    /// `PROTVER` → `1.3`.
    ProtVer,
    /// `HELP` → command list line.
    Help,
    /// `STARTTLS` → `OK STARTTLS` then a TLS handshake, or an error.
    StartTls,
    /// `USERNAME <name>` (stored, checked lazily).
    Username(String),
    /// `PASSWORD <password>` (stored, checked lazily).
    Password(String),
    /// `LOGIN <ups>` (upsmon registers as a client of the UPS).
    Login {
        /// UPS name as the client spelled it.
        ups: String,
    },
    /// `LOGOUT` → `OK Goodbye`, then the server closes.
    Logout,
    /// `PRIMARY <ups>` → `OK PRIMARY-GRANTED` (permission probe).
    Primary {
        /// UPS name as the client spelled it.
        ups: String,
    },
    /// `MASTER <ups>` → `OK MASTER-GRANTED` (deprecated spelling of PRIMARY).
    Master {
        /// UPS name as the client spelled it.
        ups: String,
    },
    /// `FSD <ups>` → `OK FSD-SET`.
    Fsd {
        /// UPS name as the client spelled it.
        ups: String,
    },
    /// `GET …`.
    Get(GetQuery),
    /// `LIST …` (multi-line reply).
    List(ListQuery),
    /// `SET VAR <ups> <var> <value>`.
    SetVar {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name as the client spelled it.
        var: String,
        /// The new value (unescaped).
        value: String,
    },
    /// `SET TRACKING ON|OFF`.
    SetTracking(bool),
    /// `INSTCMD <ups> <cmd> [<param>]`.
    InstCmd {
        /// UPS name as the client spelled it.
        ups: String,
        /// Command name as the client spelled it.
        cmd: String,
        /// The optional parameter (unescaped).
        param: Option<String>,
    },
}

impl Request {
    /// The command word of this request.
    pub fn command(&self) -> Command {
        match self {
            Request::Ver => Command::Ver,
            Request::NetVer => Command::NetVer,
            Request::ProtVer => Command::ProtVer,
            Request::Help => Command::Help,
            Request::StartTls => Command::StartTls,
            Request::Username(_) => Command::Username,
            Request::Password(_) => Command::Password,
            Request::Login { .. } => Command::Login,
            Request::Logout => Command::Logout,
            Request::Primary { .. } => Command::Primary,
            Request::Master { .. } => Command::Master,
            Request::Fsd { .. } => Command::Fsd,
            Request::Get(_) => Command::Get,
            Request::List(_) => Command::List,
            Request::SetVar { .. } | Request::SetTracking(_) => Command::Set,
            Request::InstCmd { .. } => Command::InstCmd,
        }
    }

    /// Parse a tokenized request line without credentials state: steps 2 and 4 of the
    /// [module's check order](self). Errors are exactly upsd's: `UNKNOWN-COMMAND` for an
    /// empty line or unknown word, `INVALID-ARGUMENT` for bad arguments.
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Request, ErrCode> {
        let command = words
            .first()
            .and_then(|w| Command::from_word(w.as_ref()))
            .ok_or(ErrCode::UnknownCommand)?;
        Request::parse_args(command, &words[1..])
    }

    /// Parse a tokenized request line the way upsd does for a connection that has (or has
    /// not yet) sent USERNAME and PASSWORD: steps 2, 3 and 4 of the
    /// [module's check order](self), so `SET` alone before USERNAME gives
    /// `USERNAME-REQUIRED`, not `INVALID-ARGUMENT`.
    pub fn parse_with_credentials<S: AsRef<str>>(
        words: &[S],
        has_username: bool,
        has_password: bool,
    ) -> Result<Request, ErrCode> {
        let command = words
            .first()
            .and_then(|w| Command::from_word(w.as_ref()))
            .ok_or(ErrCode::UnknownCommand)?;
        command.check_credentials_present(has_username, has_password)?;
        Request::parse_args(command, &words[1..])
    }

    /// Parse the arguments (the words after the command word) of `command`: step 4 of the
    /// [module's check order](self). The only error is `INVALID-ARGUMENT`.
    pub fn parse_args<S: AsRef<str>>(command: Command, args: &[S]) -> Result<Request, ErrCode> {
        let exactly_one = || match args {
            [one] => Ok(one.as_ref().to_owned()),
            _ => Err(ErrCode::InvalidArgument),
        };
        let none = |request: Request| {
            if args.is_empty() {
                Ok(request)
            } else {
                Err(ErrCode::InvalidArgument)
            }
        };
        match command {
            Command::Ver => none(Request::Ver),
            Command::NetVer => none(Request::NetVer),
            Command::ProtVer => none(Request::ProtVer),
            Command::Help => none(Request::Help),
            // upsd 2.8.0 does not count STARTTLS's arguments (`STARTTLS x` is answered like
            // `STARTTLS`).
            Command::StartTls => Ok(Request::StartTls),
            Command::Logout => none(Request::Logout),
            Command::Username => exactly_one().map(Request::Username),
            Command::Password => exactly_one().map(Request::Password),
            Command::Login => exactly_one().map(|ups| Request::Login { ups }),
            Command::Primary => exactly_one().map(|ups| Request::Primary { ups }),
            Command::Master => exactly_one().map(|ups| Request::Master { ups }),
            Command::Fsd => exactly_one().map(|ups| Request::Fsd { ups }),
            Command::Get => GetQuery::parse(args).map(Request::Get),
            Command::List => ListQuery::parse(args).map(Request::List),
            Command::Set => parse_set(args),
            Command::InstCmd => match args {
                [ups, cmd, rest @ ..] => Ok(Request::InstCmd {
                    ups: ups.as_ref().to_owned(),
                    cmd: cmd.as_ref().to_owned(),
                    param: rest.first().map(|p| p.as_ref().to_owned()),
                }),
                _ => Err(ErrCode::InvalidArgument),
            },
        }
    }

    /// Append the request line as a correct client sends it, LF included: names bare when
    /// safe (quoted otherwise), values always quoted and escaped, USERNAME/PASSWORD quoted
    /// when they need it (libupsclient does not, and breaks on such credentials).
    pub fn write_line(&self, out: &mut String) {
        out.push_str(self.command().as_str());
        let mut word = |w: &str| {
            out.push(' ');
            token::push_word(out, w);
        };
        match self {
            Request::Ver
            | Request::NetVer
            | Request::ProtVer
            | Request::Help
            | Request::StartTls
            | Request::Logout => {}
            Request::Username(s) | Request::Password(s) => word(s),
            Request::Login { ups }
            | Request::Primary { ups }
            | Request::Master { ups }
            | Request::Fsd { ups } => word(ups),
            Request::Get(query) => query.words().into_iter().for_each(word),
            Request::List(query) => query.words().into_iter().for_each(word),
            Request::SetVar { ups, var, value } => {
                word("VAR");
                word(ups);
                word(var);
                out.push(' ');
                token::push_quoted(out, value);
            }
            Request::SetTracking(on) => {
                word("TRACKING");
                word(if *on { "ON" } else { "OFF" });
            }
            Request::InstCmd { ups, cmd, param } => {
                word(ups);
                word(cmd);
                if let Some(param) = param {
                    out.push(' ');
                    token::push_quoted(out, param);
                }
            }
        }
        out.push('\n');
    }

    /// The request line, LF included (see [`write_line`](Self::write_line)).
    pub fn to_line(&self) -> String {
        let mut out = String::new();
        self.write_line(&mut out);
        out
    }
}

impl fmt::Display for Request {
    /// The request line without its LF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.to_line();
        f.write_str(line.trim_end_matches('\n'))
    }
}

fn parse_set<S: AsRef<str>>(args: &[S]) -> Result<Request, ErrCode> {
    let [sub, first, rest @ ..] = args else {
        return Err(ErrCode::InvalidArgument);
    };
    let sub = sub.as_ref();
    if sub.eq_ignore_ascii_case("VAR") {
        // SET VAR <ups> <var> <value>; words after the value are ignored.
        match rest {
            [var, value, ..] => Ok(Request::SetVar {
                ups: first.as_ref().to_owned(),
                var: var.as_ref().to_owned(),
                value: value.as_ref().to_owned(),
            }),
            _ => Err(ErrCode::InvalidArgument),
        }
    } else if sub.eq_ignore_ascii_case("TRACKING") {
        let value = first.as_ref();
        if value.eq_ignore_ascii_case("ON") {
            Ok(Request::SetTracking(true))
        } else if value.eq_ignore_ascii_case("OFF") {
            Ok(Request::SetTracking(false))
        } else {
            Err(ErrCode::InvalidArgument)
        }
    } else {
        Err(ErrCode::InvalidArgument)
    }
}
