//! upsd's command line, scanned by [`nut_daemon::getopt`] with NUT's option string.

use nut_daemon::control::Command;
pub use nut_daemon::family::Family;
use nut_daemon::getopt::{Arg, Getopt, GetoptError};

/// NUT's option string for upsd: the first operand ends the options.
const OPTSTRING: &str = "+h46p:qr:i:fu:Vc:P:DFB";

/// The `-c` words upsd knows.
const COMMANDS: [Command; 2] = [Command::Reload, Command::Stop];

/// What the command line asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-D` count: debug level (implies foreground).
    pub debug: u8,
    /// `-F` count: 1 = foreground without PID file, 2 = foreground with PID file.
    pub foreground: u8,
    /// `-B`: background even when debugging.
    pub background: bool,
    /// `-q` count.
    pub quiet: u8,
    /// `-u <user>`.
    pub user: Option<String>,
    /// `-r <dir>`.
    pub chroot: Option<String>,
    /// `-4` / `-6`: only that address family for default listeners.
    pub family: Option<Family>,
    /// `-c <command>`: signal a running upsd.
    pub signal: Option<Command>,
    /// `-P <pid>`: whom `-c` signals (instead of the PID file).
    pub pid: Option<i32>,
    /// `-h`.
    pub help: bool,
    /// `-V`.
    pub version: bool,
}

/// A command line upsd refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// An option upsd does not know, or one missing its value.
    #[error("{0}")]
    Usage(String),
    /// `-p` / `-i`.
    #[error(
        "Specifying a listening addresses with '-i <address>' and '-p <port>' is deprecated \
         and no longer supported - use LISTEN in upsd.conf instead"
    )]
    Obsolete,
    /// `-c` with an unknown word.
    #[error("Unrecognized command [{0}]")]
    BadCommand(String),
}

impl Options {
    /// Parse the arguments after the program name.
    pub fn parse<I, S>(args: I) -> Result<Options, CliError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut o = Options::default();
        let words = args.into_iter().map(|a| a.as_ref().to_owned());
        for arg in Getopt::new(OPTSTRING, words) {
            let (c, value) = match arg.map_err(|e| CliError::Usage(e.to_string()))? {
                Arg::Opt(c, value) => (c, value),
                // upsd takes no operands; the first one ends the options.
                Arg::Operand(_) => break,
            };
            match (c, value) {
                ('D', _) => o.debug = o.debug.saturating_add(1),
                ('F', _) => o.foreground = o.foreground.saturating_add(1),
                ('B', _) => o.background = true,
                ('q', _) => o.quiet = o.quiet.saturating_add(1),
                // As in upsd, `-h` shows the help at once: what follows is not looked at.
                ('h', _) => {
                    o.help = true;
                    break;
                }
                ('V', _) => o.version = true,
                ('4', _) => o.family = Some(Family::V4),
                ('6', _) => o.family = Some(Family::V6),
                ('f', _) => {}
                ('p' | 'i', _) => return Err(CliError::Obsolete),
                ('u', v) => o.user = v,
                ('r', v) => o.chroot = v,
                ('P', Some(v)) => o.pid = Some(parse_pid(&v)?),
                ('c', Some(v)) => o.signal = Some(parse_command(&v)?),
                // Only the option string's characters get here; keep getopt's word anyway.
                (other, _) => return Err(CliError::Usage(GetoptError::Unknown(other).to_string())),
            }
        }
        Ok(o)
    }

    /// Whether upsd stays in the foreground.
    pub fn is_foreground(&self) -> bool {
        (self.foreground > 0 || self.debug > 0) && !self.background
    }

    /// Whether a PID file is written (backgrounded, or `-FF`).
    pub fn writes_pid_file(&self) -> bool {
        !self.is_foreground() || self.foreground >= 2
    }
}

/// The `-P` value. PIDs below 2 are refused as NUT refuses them: 0 or a negative number
/// would signal a whole process group, 1 is init.
fn parse_pid(text: &str) -> Result<i32, CliError> {
    text.trim()
        .parse()
        .ok()
        .filter(|pid| *pid >= 2)
        .ok_or_else(|| CliError::Usage(format!("Invalid PID number: {text}")))
}

/// upsd accepts any prefix of the command words (`-c rel`).
fn parse_command(word: &str) -> Result<Command, CliError> {
    Command::parse(word, &COMMANDS).ok_or_else(|| CliError::BadCommand(word.to_owned()))
}

/// The first line upsd prints on stdout on every invocation (`-h`, `-V`, `-c`, start).
pub fn banner() -> String {
    format!(
        "Network UPS Tools upsd {}",
        nut_core::net::reply::UPSD_VERSION
    )
}

/// The line `upsd -D -h` logs at debug level 1 (current NUT's wording, which NUT's
/// integration suite greps to decide whether to test STARTTLS): rustls reads CERTFILE as
/// OpenSSL builds do and has no CERTIDENT, and CERTREQUEST validates client certificates.
pub const TLS_BUILD_INFO: &str = "NUT data server was built with SSL support: \
     rustls (as OpenSSL sans CERTIDENT); with client certificate validation";

/// The `-h` text (after the banner), in upsd 2.8.0's order.
pub const USAGE: &str = "\
Network server for UPS data.

usage: upsd [OPTIONS]

  -c <command>\tsend <command> via signal to background process
\t\tcommands:
\t\t - reload: reread configuration files
\t\t - stop: stop process and exit
  -P <pid>\tsend the signal above to specified PID (bypassing PID file)
  -D\t\traise debugging level (and stay foreground by default)
  -F\t\tstay foregrounded even if no debugging is enabled
  -FF\t\tstay foregrounded and still save the PID file
  -B\t\tstay backgrounded even if debugging is bumped
  -h\t\tdisplay this help
  -r <dir>\tchroots to <dir>
  -q\t\traise log level threshold
  -u <user>\tswitch to <user> (if started as root)
  -V\t\tdisplay the version of this software
  -4\t\tIPv4 only
  -6\t\tIPv6 only
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_flags_and_values() {
        let o = Options::parse(["-FF", "-DD", "-u", "nut", "-crel", "-P", "42"]).unwrap();
        assert_eq!(o.foreground, 2);
        assert_eq!(o.debug, 2);
        assert_eq!(o.user.as_deref(), Some("nut"));
        assert_eq!(o.signal, Some(Command::Reload));
        assert_eq!(o.pid, Some(42));
        assert!(o.is_foreground() && o.writes_pid_file());
        let o = Options::parse(["-F"]).unwrap();
        assert!(o.is_foreground() && !o.writes_pid_file());
        assert!(
            Options::parse::<[&str; 0], &str>([])
                .unwrap()
                .writes_pid_file()
        );
        assert_eq!(Options::parse(["-p", "1"]), Err(CliError::Obsolete));
        assert_eq!(
            Options::parse(["-c", "bogus"]),
            Err(CliError::BadCommand("bogus".into()))
        );
        assert!(Options::parse(["-x"]).is_err());
        assert!(Options::parse(["-u"]).is_err());
        for bad in ["0", "1", "-5", "x"] {
            assert_eq!(
                Options::parse(["-P", bad]),
                Err(CliError::Usage(format!("Invalid PID number: {bad}")))
            );
        }
        // The first operand ends the options; "--" too.
        assert_eq!(Options::parse(["-D", "x", "-y"]).unwrap().debug, 1);
        assert_eq!(Options::parse(["--", "-y"]), Ok(Options::default()));
    }
}
