//! Issue 4 (docs/issues.md) acceptance, part 3: clients that run inside `cargo test`, against Debian's upsd
//! and ours:
//!
//! * the `rups` crate (crates.io, blocking API) called in-process;
//! * a faithful replay of go.nut — the Go library under nut_exporter (Prometheus) and
//!   Telegraf's `inputs.upsd` — which cannot be installed here (no Go module proxy). The
//!   replay sends go.nut's exact request sequence and applies its parsing rules
//!   (docs/nut-behaviour.md §C1.4, §C1.9): a fresh 4 KiB read buffer per command (bytes read
//!   past a reply are lost, so the server must never send more than the reply), replies
//!   recognised by `line == "END " + request`, a 2 s deadline per response, values split
//!   on `"`, numbers recognised by `^-?[0-9.]+$`.

use crate::real_support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use nut_harness::Impl;
use real_support::*;
use rups::blocking::Connection;
use rups::{Auth, ClientError, ConfigBuilder, Host, NutError, Variable};

both_impls!(rups_client, gonut_replay);

// ---- rups ----------------------------------------------------------------------------------

fn rups_connect(addr: SocketAddr, auth: Option<(&str, &str)>) -> Connection {
    let config = ConfigBuilder::new()
        .with_host(Host::from(addr))
        .with_auth(auth.map(|(u, p)| Auth::new(u.to_owned(), Some(p.to_owned()))))
        .with_timeout(Duration::from_secs(5))
        .build();
    // Connection::new sends NETVER, then USERNAME/PASSWORD when configured.
    Connection::new(&config).unwrap_or_else(|e| panic!("rups could not connect to {addr}: {e}"))
}

/// The NUT error a call failed with, as rups shows it. rups 0.6.1's blocking client maps
/// only ACCESS-DENIED, UNKNOWN-UPS and FEATURE-NOT-CONFIGURED to their own variants; any
/// other code arrives as `Generic("Server error: <CODE> ")`.
fn nut_error<T: std::fmt::Debug>(result: rups::Result<T>) -> String {
    match result {
        Err(ClientError::Nut(e)) => format!("{e:?}"),
        other => panic!("expected a NUT error, got {other:?}"),
    }
}

fn generic(code: &str) -> String {
    format!("{:?}", NutError::Generic(format!("Server error: {code} ")))
}

fn variant(e: NutError) -> String {
    format!("{e:?}")
}

fn rups_client(which: Impl) {
    let stack = stack(which);
    let mut conn = rups_connect(stack.addr(), None);

    let version = conn.get_server_version().expect("VER");
    assert!(version.starts_with("Network UPS Tools upsd "), "{version}");
    assert_eq!(conn.get_network_version().expect("NETVER"), "1.3");
    assert_eq!(
        conn.list_ups().expect("LIST UPS"),
        [
            ("dummy".to_owned(), DUMMY_DESC.to_owned()),
            ("UPS1".to_owned(), UPS1_DESC.to_owned())
        ]
    );
    let vars: Vec<(String, String)> = conn
        .list_vars("dummy")
        .expect("LIST VAR")
        .iter()
        .map(|v| (v.name().to_owned(), v.value()))
        .collect();
    assert_eq!(vars, expected_vars(DUMMY_DEV, "dummy.dev"));
    assert_eq!(
        conn.get_var("dummy", "ups.status").expect("GET VAR"),
        Variable::Other(("ups.status".to_owned(), "OL CHRG".to_owned()))
    );
    assert_eq!(
        conn.get_var("dummy", "device.serial").expect("GET VAR"),
        Variable::DeviceSerial("ABC123".to_owned())
    );
    let rw = conn.list_mutable_vars("dummy").expect("LIST RW");
    assert_eq!(
        rw.len(),
        vars.iter()
            .filter(|(k, _)| !k.starts_with("driver."))
            .count()
    );

    let ty = conn.get_var_type("dummy", "ups.id").expect("GET TYPE");
    assert!(
        ty.is_mutable() && ty.is_string() && !ty.is_number(),
        "{ty:?}"
    );
    assert_eq!(ty.get_string_length(), Some(16));
    let ty = conn
        .get_var_type("dummy", "battery.charge")
        .expect("GET TYPE");
    assert!(ty.is_mutable() && ty.is_number(), "{ty:?}");

    assert_eq!(
        conn.get_var_description("dummy", "ups.status")
            .expect("GET DESC"),
        "UPS status"
    );
    assert_eq!(
        conn.get_var_description("dummy", "no.such.var")
            .expect("GET DESC"),
        "Description unavailable"
    );
    assert_eq!(conn.list_commands("dummy").expect("LIST CMD"), ["load.off"]);
    assert_eq!(
        conn.get_command_description("dummy", "load.off")
            .expect("GET CMDDESC"),
        "Turn off the load immediately"
    );
    assert_eq!(
        conn.get_ups_description("UPS1").expect("GET UPSDESC"),
        UPS1_DESC
    );
    assert_eq!(conn.get_num_logins("dummy").expect("GET NUMLOGINS"), 0);
    assert!(conn.list_clients("dummy").expect("LIST CLIENT").is_empty());
    assert!(
        conn.list_var_enum("dummy", "ups.status")
            .expect("LIST ENUM")
            .is_empty()
    );
    assert!(
        conn.list_var_range("dummy", "ups.status")
            .expect("LIST RANGE")
            .is_empty()
    );

    // ERR codes as rups reports them.
    assert_eq!(
        nut_error(conn.get_var("nosuch", "ups.status")),
        variant(NutError::UnknownUps)
    );
    assert_eq!(
        nut_error(conn.get_var("UPS1", "ups.id")),
        generic("VAR-NOT-SUPPORTED")
    );
    assert_eq!(
        nut_error(conn.list_vars("nosuch")),
        variant(NutError::UnknownUps)
    );
    // rups 0.6.1's run_command(cmd, param) sends `INSTCMD <cmd> [param]` without a UPS
    // name; passing the UPS as `cmd` and the command as `param` yields the right request.
    assert_eq!(
        nut_error(conn.run_command("dummy", Some("load.off"))),
        generic("USERNAME-REQUIRED")
    );
    conn.close().expect("LOGOUT");

    let mut admin = rups_connect(stack.addr(), Some(("admin", "adminpass")));
    admin
        .run_command("dummy", Some("load.off"))
        .expect("INSTCMD as admin");
    assert_eq!(
        nut_error(admin.run_command("dummy", Some("no.such.cmd"))),
        generic("CMD-NOT-SUPPORTED")
    );
    admin.close().expect("LOGOUT");

    let mut viewer = rups_connect(stack.addr(), Some(("viewer", "viewpass")));
    assert_eq!(
        nut_error(viewer.run_command("dummy", Some("load.off"))),
        variant(NutError::AccessDenied)
    );
    viewer.close().expect("LOGOUT");
}

// ---- go.nut replay ---------------------------------------------------------------------------

/// go.nut's per-response deadline as nut_exporter and Telegraf use it.
const GONUT_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Debug)]
#[allow(dead_code)] // the payloads are read through Debug in failure messages
enum GoNutError {
    /// `ERR <code>` as the first reply line (go.nut keeps only the code).
    Nut(String),
    /// A socket error, EOF or the deadline.
    Io(String),
    /// A reply go.nut cannot parse (it would fail the scrape, or panic).
    Parse(String),
}

type GoResult<T> = Result<T, GoNutError>;

#[derive(Debug, Clone, PartialEq)]
enum GoValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
struct GoVariable {
    name: String,
    /// The value text as split out of the VAR line, before conversion.
    raw: String,
    value: GoValue,
    /// go.nut's Type after conversion: STRING, INTEGER, FLOAT_64, BOOLEAN, or the raw type.
    kind: String,
    original_type: String,
    description: String,
    writeable: bool,
    maximum_length: i64,
}

#[derive(Debug)]
struct GoUps {
    name: String,
    description: String,
    number_of_logins: i64,
    clients: Vec<String>,
    commands: Vec<(String, String)>,
    variables: Vec<GoVariable>,
}

struct GoNutClient {
    stream: TcpStream,
    version: String,
    protocol_version: String,
}

impl GoNutClient {
    /// `NewClient`: dial, then `VER` and `NETVER`.
    fn connect(addr: SocketAddr) -> GoResult<GoNutClient> {
        let stream = TcpStream::connect_timeout(&addr, GONUT_DEADLINE)
            .map_err(|e| GoNutError::Io(format!("dial: {e}")))?;
        let mut client = GoNutClient {
            stream,
            version: String::new(),
            protocol_version: String::new(),
        };
        client.version = client.send_command("VER")?.remove(0);
        client.protocol_version = client.send_command("NETVER")?.remove(0);
        Ok(client)
    }

    /// `SendCommand`: the end marker is `"END " + cmd + "\n"` (`"OK\n"` for a few
    /// commands); only `LIST` requests read more than one line.
    fn send_command(&mut self, cmd: &str) -> GoResult<Vec<String>> {
        let cmd = format!("{cmd}\n");
        let mut end_line = format!("END {cmd}");
        if ["USERNAME ", "PASSWORD ", "SET ", "HELP ", "VER ", "NETVER "]
            .iter()
            .any(|p| cmd.starts_with(p))
        {
            end_line = "OK\n".to_owned();
        }
        self.stream
            .write_all(cmd.as_bytes())
            .map_err(|e| GoNutError::Io(format!("write {cmd:?}: {e}")))?;
        let resp = self.read_response(&cmd, &end_line, cmd.starts_with("LIST "))?;
        let first = resp.first().cloned().unwrap_or_default();
        if first.starts_with("ERR ") {
            let code = first.split(' ').nth(1).unwrap_or_default().to_owned();
            return Err(GoNutError::Nut(code));
        }
        Ok(resp)
    }

    /// `ReadResponse`: a brand-new buffered reader for every command, like go.nut's
    /// `bufio.NewReader(conn)`. Whatever it read beyond the reply would be lost; a server
    /// that sends more than one reply per request desynchronises go.nut, so this replay
    /// treats leftover bytes as a failure.
    fn read_response(&self, cmd: &str, end_line: &str, multi: bool) -> GoResult<Vec<String>> {
        let deadline = Instant::now() + GONUT_DEADLINE;
        let mut reader = BufReader::with_capacity(4096, &self.stream);
        let mut response = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(GoNutError::Io(format!(
                    "deadline exceeded reading reply to {cmd:?}"
                )));
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|e| GoNutError::Io(e.to_string()))?;
            let mut raw = Vec::new();
            let n = reader
                .read_until(b'\n', &mut raw)
                .map_err(|e| GoNutError::Io(format!("reading reply to {cmd:?}: {e}")))?;
            if n == 0 {
                // go.nut would spin on EOF until its deadline: same outcome, a failed scrape.
                return Err(GoNutError::Io(format!(
                    "EOF before the end of the reply to {cmd:?}"
                )));
            }
            let line = String::from_utf8(raw)
                .map_err(|_| GoNutError::Parse(format!("non-UTF-8 reply to {cmd:?}")))?;
            response.extend(line.trim_end_matches('\n').split('\n').map(str::to_owned));
            if line == end_line || !multi {
                break;
            }
        }
        if !reader.buffer().is_empty() {
            return Err(GoNutError::Parse(format!(
                "server sent bytes after the reply to {cmd:?}; go.nut would lose them: {:?}",
                String::from_utf8_lossy(reader.buffer())
            )));
        }
        Ok(response)
    }

    /// `Authenticate`.
    fn authenticate(&mut self, user: &str, pass: &str) -> GoResult<bool> {
        let u = self.send_command(&format!("USERNAME {user}"))?;
        let p = self.send_command(&format!("PASSWORD {pass}"))?;
        Ok(u[0] == "OK" && p[0] == "OK")
    }

    /// `GetUPSList`: `LIST UPS`, then `NewUPS` for each; any error aborts the scrape.
    fn get_ups_list(&mut self) -> GoResult<Vec<GoUps>> {
        let resp = self.send_command("LIST UPS")?;
        let mut list = Vec::new();
        for line in resp {
            if let Some(rest) = line.strip_prefix("UPS ") {
                let name = rest
                    .split('"')
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches(' ');
                list.push(self.new_ups(name)?);
            }
        }
        Ok(list)
    }

    /// `Disconnect`: LOGOUT, accepting either server's goodbye.
    fn disconnect(&mut self) -> GoResult<bool> {
        let resp = self.send_command("LOGOUT")?;
        Ok(resp[0] == "OK Goodbye" || resp[0] == "Goodbye...")
    }

    /// `NewUPS`: clients, commands (+ descriptions), description, logins, variables
    /// (+ description and type each), in go.nut's order.
    fn new_ups(&mut self, name: &str) -> GoResult<GoUps> {
        let clients = list_body(&self.send_command(&format!("LIST CLIENT {name}"))?)?
            .iter()
            .map(|l| strip(l, &format!("CLIENT {name} ")))
            .collect();

        let mut commands = Vec::new();
        for line in list_body(&self.send_command(&format!("LIST CMD {name}"))?)? {
            let cmd = strip(&line, &format!("CMD {name} "));
            let resp = self.send_command(&format!("GET CMDDESC {name} {cmd}"))?;
            let desc = strip(&resp[0], &format!("CMDDESC {name} {cmd} ")).replace('"', "");
            commands.push((cmd, desc));
        }

        let resp = self.send_command(&format!("GET UPSDESC {name}"))?;
        let description = strip(&resp[0].replace('"', ""), &format!("UPSDESC {name} "));

        let resp = self.send_command(&format!("GET NUMLOGINS {name}"))?;
        let logins_text = strip(&resp[0], &format!("NUMLOGINS {name} "));
        let number_of_logins = logins_text
            .parse()
            .map_err(|_| GoNutError::Parse(format!("NUMLOGINS not an integer: {:?}", resp[0])))?;

        let mut variables = Vec::new();
        for line in list_body(&self.send_command(&format!("LIST VAR {name}"))?)? {
            variables.push(self.variable(name, &line)?);
        }
        Ok(GoUps {
            name: name.to_owned(),
            description,
            number_of_logins,
            clients,
            commands,
            variables,
        })
    }

    /// One `VAR` line of `GetVariables`, with its `GET DESC` and `GET TYPE`.
    fn variable(&mut self, ups: &str, line: &str) -> GoResult<GoVariable> {
        let cleaned = strip(line, &format!("VAR {ups} "));
        let parts: Vec<&str> = cleaned.split('"').collect();
        let Some(raw_value) = parts.get(1) else {
            // go.nut indexes splitLine[1] unconditionally: it would panic here.
            return Err(GoNutError::Parse(format!(
                "VAR line without a quoted value: {line:?}"
            )));
        };
        let raw_value = raw_value.trim_matches(' ').to_owned();
        let name = parts[0].trim_end_matches(' ').to_owned();

        let resp = self.send_command(&format!("GET DESC {ups} {name}"))?;
        let description = strip(&resp[0], &format!("DESC {ups} {name} ")).replace('"', "");

        let resp = self.send_command(&format!("GET TYPE {ups} {name}"))?;
        let type_line = strip(&resp[0], &format!("TYPE {ups} {name} "));
        let words: Vec<&str> = type_line.split(' ').collect();
        let writeable = words[0] == "RW";
        let mut var_type = words[0].to_owned();
        let mut maximum_length = 0;
        if writeable {
            var_type = words
                .get(1)
                .ok_or_else(|| GoNutError::Parse(format!("RW without a type: {:?}", resp[0])))?
                .to_string();
            if let Some(len) = var_type.strip_prefix("STRING:") {
                maximum_length = len
                    .parse()
                    .map_err(|_| GoNutError::Parse(format!("bad STRING length: {:?}", resp[0])))?;
                var_type = "STRING".to_owned();
            }
        }

        let mut var = GoVariable {
            name,
            raw: raw_value.clone(),
            value: GoValue::Str(raw_value.clone()),
            kind: var_type.clone(),
            original_type: String::new(),
            description,
            writeable,
            maximum_length,
        };
        if raw_value == "enabled" || raw_value == "disabled" {
            var.value = GoValue::Bool(raw_value == "enabled");
            var.kind = "BOOLEAN".to_owned();
        }
        let numeric = looks_numeric(&raw_value);
        if numeric {
            // A failed conversion leaves value and type as they were (go.nut's inner
            // `err` shadows the outer one).
            if raw_value.matches('.').count() == 1 {
                if let Ok(f) = raw_value.parse::<f64>() {
                    var.value = GoValue::Float(f);
                    var.kind = "FLOAT_64".to_owned();
                    var.original_type = var_type.clone();
                }
            } else if let Ok(i) = raw_value.parse::<i64>() {
                var.value = GoValue::Int(i);
                var.kind = "INTEGER".to_owned();
                var.original_type = var_type.clone();
            }
        } else {
            var.kind = "STRING".to_owned();
            var.original_type = var_type;
        }
        Ok(var)
    }
}

/// go.nut's number test: `^-?[0-9.]+$`.
fn looks_numeric(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    !body.is_empty() && body.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// `strings.TrimPrefix`.
fn strip(s: &str, prefix: &str) -> String {
    s.strip_prefix(prefix).unwrap_or(s).to_owned()
}

/// `resp[1 : len(resp)-1]` — the lines between BEGIN and END.
fn list_body(resp: &[String]) -> GoResult<Vec<String>> {
    if resp.len() < 2 {
        return Err(GoNutError::Parse(format!("list reply too short: {resp:?}")));
    }
    Ok(resp[1..resp.len() - 1].to_vec())
}

/// One exporter scrape: connect, optionally authenticate, list everything, disconnect.
fn scrape(addr: SocketAddr, auth: Option<(&str, &str)>) -> (String, String, Vec<GoUps>) {
    let mut client = GoNutClient::connect(addr).unwrap_or_else(|e| panic!("go.nut connect: {e:?}"));
    if let Some((user, pass)) = auth {
        assert!(
            client
                .authenticate(user, pass)
                .expect("go.nut Authenticate"),
            "go.nut Authenticate returned false"
        );
    }
    let list = client
        .get_ups_list()
        .unwrap_or_else(|e| panic!("go.nut GetUPSList failed (the whole scrape is lost): {e:?}"));
    assert!(
        client.disconnect().expect("go.nut Disconnect"),
        "LOGOUT reply"
    );
    (client.version, client.protocol_version, list)
}

fn var<'a>(ups: &'a GoUps, name: &str) -> &'a GoVariable {
    ups.variables
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("go.nut saw no {name} on {}: {:#?}", ups.name, ups.variables))
}

fn gonut_replay(which: Impl) {
    let stack = stack(which);

    let (version, protocol, list) = scrape(stack.addr(), None);
    assert!(version.starts_with("Network UPS Tools upsd "), "{version}");
    assert_eq!(protocol, "1.3");
    let names: Vec<&str> = list.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["dummy", "UPS1"]);

    let dummy = &list[0];
    assert_eq!(dummy.description, DUMMY_DESC);
    assert_eq!(dummy.number_of_logins, 0);
    assert!(dummy.clients.is_empty(), "{:?}", dummy.clients);
    assert_eq!(
        dummy.commands,
        [(
            "load.off".to_owned(),
            "Turn off the load immediately".to_owned()
        )]
    );
    let seen: Vec<(String, String)> = dummy
        .variables
        .iter()
        .map(|v| (v.name.clone(), v.raw.clone()))
        .collect();
    assert_eq!(seen, expected_vars(DUMMY_DEV, "dummy.dev"));

    let charge = var(dummy, "battery.charge");
    assert_eq!(charge.value, GoValue::Int(100));
    assert_eq!(
        (charge.kind.as_str(), charge.original_type.as_str()),
        ("INTEGER", "NUMBER")
    );
    assert!(charge.writeable);
    assert_eq!(charge.description, "Battery charge (percent of full)");
    let voltage = var(dummy, "input.voltage");
    assert_eq!(voltage.value, GoValue::Float(230.1));
    assert_eq!(voltage.kind, "FLOAT_64");
    let id = var(dummy, "ups.id");
    assert_eq!(id.value, GoValue::Str("myid".to_owned()));
    assert_eq!(
        (id.kind.as_str(), id.original_type.as_str()),
        ("STRING", "STRING")
    );
    assert_eq!((id.writeable, id.maximum_length), (true, 16));
    assert_eq!(
        var(dummy, "ups.status").value,
        GoValue::Str("OL CHRG".to_owned())
    );
    assert_eq!(
        var(dummy, "device.mfr").description,
        "Description unavailable"
    );
    // driver.* variables are read-only and carry no STRING flag, so upsd calls them
    // NUMBER; go.nut keeps that as the original type of a STRING value.
    let driver = var(dummy, "driver.name");
    assert!(!driver.writeable);
    assert_eq!(
        (driver.kind.as_str(), driver.original_type.as_str()),
        ("STRING", "NUMBER")
    );

    let ups1 = &list[1];
    assert_eq!(ups1.description, UPS1_DESC);
    assert_eq!(
        var(ups1, "ups.status").value,
        GoValue::Str("OB DISCHRG".to_owned())
    );
    assert_eq!(var(ups1, "input.voltage").value, GoValue::Float(0.0));

    // An authenticated scrape while an upsmon-style session is logged in to dummy.
    let mut session = admin_conn(&stack);
    assert_eq!(session.request("LOGIN dummy"), ["OK"]);
    let (_, _, list) = scrape(stack.addr(), Some(("admin", "adminpass")));
    assert_eq!(list[0].number_of_logins, 1);
    assert_eq!(list[0].clients, ["127.0.0.1"]);
    assert_eq!(list[1].number_of_logins, 0);
}
