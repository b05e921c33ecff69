//! What the four tools share: the process entry point, the version banner, the answer to `-h`
//! and unknown options, NUT's messages for bad UPS identifiers, connecting, and the
//! username/password/value prompts.

use std::fs::OpenOptions;
use std::io::{self, BufRead, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::Duration;

use nut_client::blocking::Client;
use nut_client::{ConnectOptions, TlsMode, TlsSettings, UpsId};
use nut_core::conf::HostPort;
use nut_core::conf::UpsIdError;
use nut_core::conf::ups_id::UpsIdErrorKind;

use crate::getopt::Opt;

/// The NUT version the tools present themselves as (the one the rest of nut-rs matches).
pub const VERSION: &str = nut_core::net::reply::UPSD_VERSION;

/// Where a tool writes: the real stdout/stderr in the binaries, buffers in tests.
pub struct Io<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
}

impl Io<'_> {
    /// Write to stdout (errors writing to a closed pipe are ignored, as C's printf does).
    pub fn out(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }

    /// Write to stderr.
    pub fn err(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
        let _ = self.err.flush();
    }

    /// Write `text` and a newline to stderr.
    pub fn errln(&mut self, text: &str) {
        self.err(&format!("{text}\n"));
    }
}

/// The body of every tool's binary: `run` on the process's arguments, stdout and stderr, its
/// result as the exit status.
pub fn run_process(run: fn(&[String], &mut Io<'_>) -> u8) -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let (mut out, mut err) = (io::stdout(), io::stderr());
    let mut io = Io {
        out: &mut out,
        err: &mut err,
    };
    ExitCode::from(run(&argv, &mut io))
}

/// How upsc, upscmd and upsrw answer `-h` or an option they do not know: glibc's diagnostic
/// for the latter, then the usage text; exit status 0 (NUT's, even for a bad option).
pub fn answer_with_usage(io: &mut Io<'_>, opt: &Opt, usage: impl FnOnce(&mut Io<'_>)) -> u8 {
    if let Opt::Invalid(message) = opt {
        io.errln(message);
    }
    usage(io);
    0
}

/// The basename of `argv[0]` (NUT prints it in usage lines).
pub fn prog_name(argv0: Option<&str>, default: &str) -> String {
    argv0
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| default.to_owned())
}

/// libupsclient's diagnostic line for a malformed identifier, printed before the tool's own
/// "invalid UPS definition" message. Forms libupsclient accepts but we reject (e.g. text
/// after `]`, `ups:port` without a host) get our own explanation instead.
pub fn splitaddr_message(input: &str, error: &UpsIdError) -> String {
    match error.kind {
        UpsIdErrorKind::EmptyName if input.is_empty() => {
            "upscli_splitname: can't parse empty string".to_owned()
        }
        UpsIdErrorKind::EmptyHost => "upscli_splitaddr: can't parse empty string".to_owned(),
        UpsIdErrorKind::UnclosedBracket => {
            "upscli_splitaddr: missing closing bracket in [domain literal]".to_owned()
        }
        UpsIdErrorKind::BadPort | UpsIdErrorKind::BareIpv6 => {
            "upscli_splitaddr: no port specified after ':' separator".to_owned()
        }
        _ => format!("Error: {error}"),
    }
}

/// Parse a `upsname[@host[:port]]`; on error the lines to print before the tool's message.
pub fn parse_ups(input: Option<&str>) -> Result<UpsId, Option<String>> {
    let input = input.ok_or(None)?;
    UpsId::parse(input).map_err(|e| Some(splitaddr_message(input, &e)))
}

/// Parse `host[:port]` for `upsc -l`; defaults to localhost:3493.
pub fn parse_host(input: Option<&str>) -> Result<HostPort, String> {
    HostPort::parse(input.unwrap_or("localhost"))
        .map_err(|e| splitaddr_message(input.unwrap_or_default(), &e))
}

/// Connect to upsd with opportunistic TLS (NUT clients' default: STARTTLS, clear text if the
/// server cannot do TLS); upslog's connection.
pub fn connect(host: &str, port: u16) -> nut_client::Result<Client> {
    Client::connect(&ConnectOptions::new(host, port).tls(TlsMode::Opportunistic))
}

/// How long one read or write may stall: NUT's clients give up after 5 s
/// (`DEFAULT_NETWORK_TIMEOUT`); the whole reply also has nut-client's call deadline.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// Connect to upsd with the TLS policy of the `NUT_FORCESSL`, `NUT_CERTVERIFY`,
/// `NUT_CERTPATH`, `NUT_CERTHOST` and `NUT_CERTPIN` variables (NUT's keywords, see
/// [`nut_client::TlsSettings`]): without them, opportunistic TLS (NUT clients' default:
/// STARTTLS, clear text if the server cannot do TLS). A `NUT_DEFAULT_CONNECT_TIMEOUT` that
/// is not a usable number of seconds is ignored with a warning, as NUT does. The error is
/// the message to print after `Error: `.
pub fn open_connection(io: &mut Io<'_>, host: &str, port: u16) -> Result<Client, String> {
    let connect_timeout = match nut_client::connect_timeout_env() {
        Ok(timeout) => timeout,
        Err(e) => {
            io.errln(&format!(
                "Warning: {}={:?} ignored: {e}",
                nut_client::CONNECT_TIMEOUT_ENV,
                std::env::var(nut_client::CONNECT_TIMEOUT_ENV).unwrap_or_default()
            ));
            None
        }
    };
    let tls = TlsSettings::from_env()
        .and_then(|settings| settings.mode())
        .map_err(|e| format!("TLS settings: {e}"))?;
    let options = ConnectOptions::new(host, port)
        .connect_timeout(connect_timeout)
        .io_timeout(Some(IO_TIMEOUT))
        .tls(tls);
    Client::connect(&options).map_err(|e| e.client_message())
}

/// The login name of the calling user, for the `Username (<name>): ` prompt.
pub fn current_user_name() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// Read one line from stdin: `None` at end of input; the newline is not included.
pub fn read_stdin_line() -> Option<String> {
    let mut line = String::new();
    match io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            if line.ends_with('\n') {
                line.pop();
            }
            Some(line)
        }
    }
}

/// Ask for a password like getpass(3): on the controlling terminal without echo when there
/// is one, else with the prompt on stderr and the answer from stdin. End of input gives an
/// empty password.
pub fn prompt_password(prompt: &str) -> String {
    if let Ok(tty) = OpenOptions::new().read(true).write(true).open("/dev/tty")
        && let Some(password) = read_without_echo(&tty, prompt)
    {
        return password;
    }
    let _ = write!(io::stderr(), "{prompt}");
    let _ = io::stderr().flush();
    read_stdin_line().unwrap_or_default()
}

fn read_without_echo(tty: &std::fs::File, prompt: &str) -> Option<String> {
    use nix::sys::termios::{self, LocalFlags, SetArg};
    let saved = termios::tcgetattr(tty.as_fd()).ok()?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    let mut writer = tty;
    let _ = write!(writer, "{prompt}");
    let _ = writer.flush();
    termios::tcsetattr(tty.as_fd(), SetArg::TCSAFLUSH, &quiet).ok()?;
    let mut line = String::new();
    let read = io::BufReader::new(tty).read_line(&mut line);
    let _ = termios::tcsetattr(tty.as_fd(), SetArg::TCSAFLUSH, &saved);
    let _ = writeln!(writer);
    read.ok()?;
    if line.ends_with('\n') {
        line.pop();
    }
    Some(line)
}

pub use nut_core::cnum::atoi;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nut_messages_for_bad_identifiers() {
        let msg = |s: &str| parse_ups(Some(s)).unwrap_err().unwrap();
        assert_eq!(msg(""), "upscli_splitname: can't parse empty string");
        assert_eq!(msg("ups@"), "upscli_splitaddr: can't parse empty string");
        assert_eq!(
            msg("ups@[::1"),
            "upscli_splitaddr: missing closing bracket in [domain literal]"
        );
        assert_eq!(
            msg("ups@h:0"),
            "upscli_splitaddr: no port specified after ':' separator"
        );
        assert!(msg("ups:1").starts_with("Error: 'ups:1': "));
        assert_eq!(parse_ups(None), Err(None));
        assert_eq!(parse_host(None).unwrap().host, "localhost");
    }
}
