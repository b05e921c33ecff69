//! upsmon's command line, scanned by [`nut_daemon::getopt`] with NUT's option string: flags
//! may be bundled (`-DF`), option arguments attached (`-cfsd`) or separate (`-c fsd`), and the
//! first non-option word ends the options.

use std::path::PathBuf;
use std::time::Duration;

use nut_daemon::control::Command;
use nut_daemon::getopt::{Arg, Getopt, GetoptError};

/// NUT's option string for upsmon.
const OPTSTRING: &str = "+DFBhic:P:f:pu:VK46W:";

/// What `upsmon` was asked to do.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cli {
    /// `-c <cmd>`: signal the running instance instead of starting one.
    pub command: Option<Command>,
    /// `-P <pid>`: the process to signal with `-c` (bypassing the PID file).
    pub pid: Option<i32>,
    /// Number of `-D`.
    pub debug: u8,
    /// Number of `-F` (`-FF` is accepted; upsmon has no separate meaning for it).
    pub foreground: u8,
    /// `-B`: background even when debugging.
    pub background: bool,
    /// `-K`: check POWERDOWNFLAG and exit.
    pub check_killpower: bool,
    /// `-p`: one privileged process, no split.
    pub privileged: bool,
    /// `-u <user>`: the unprivileged user.
    pub user: Option<String>,
    /// `-f <file>`: the configuration file.
    pub config: Option<PathBuf>,
    /// `-4` / `-6`.
    pub family: Option<Family>,
    /// `-W <secs>`: connect timeout.
    pub connect_timeout: Option<Duration>,
    /// `-h`.
    pub help: bool,
    /// `-V`.
    pub version: bool,
}

/// Address family restriction (`-4`, `-6`): the one every nut-rs daemon uses.
pub use nut_daemon::family::Family;

impl Cli {
    /// Whether to stay in the foreground: NUT stays there with `-F`, or with `-D` unless `-B`.
    pub fn stays_foreground(&self) -> bool {
        if self.background {
            return false;
        }
        self.foreground > 0 || self.debug > 0
    }
}

/// Parse the arguments after the program name. Errors are the message to print before the
/// usage text.
pub fn parse<I, S>(args: I) -> Result<Cli, String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut cli = Cli::default();
    for arg in Getopt::new(OPTSTRING, args) {
        match arg.map_err(|e| e.to_string())? {
            Arg::Opt(flag, Some(value)) => apply_valued(&mut cli, flag, &value)?,
            Arg::Opt(flag, None) => match flag {
                'D' => cli.debug = cli.debug.saturating_add(1),
                'F' => cli.foreground = cli.foreground.saturating_add(1),
                'B' => cli.background = true,
                'h' => cli.help = true,
                // NUT lists -i in its optstring without a meaning; accept it likewise.
                'i' => {}
                'p' => cli.privileged = true,
                'V' => cli.version = true,
                'K' => cli.check_killpower = true,
                '4' => cli.family = Some(Family::V4),
                '6' => cli.family = Some(Family::V6),
                other => return Err(GetoptError::Unknown(other).to_string()),
            },
            // upsmon takes no operands; the first one ends the options.
            Arg::Operand(_) => break,
        }
    }
    Ok(cli)
}

fn apply_valued(cli: &mut Cli, flag: char, value: &str) -> Result<(), String> {
    match flag {
        'c' => {
            let allowed = [Command::Fsd, Command::Stop, Command::Reload];
            cli.command = Some(
                Command::parse(value, &allowed)
                    .ok_or_else(|| format!("Invalid command [{value}]"))?,
            );
        }
        'P' => {
            let pid: i64 = value
                .trim()
                .parse()
                .map_err(|_| format!("Ignoring invalid pid number {value}"))?;
            // Below 2 is refused as NUT does: 0 would signal our process group, 1 is init.
            cli.pid = Some(
                i32::try_from(pid)
                    .ok()
                    .filter(|p| *p >= 2)
                    .ok_or_else(|| format!("Ignoring invalid pid number {value}"))?,
            );
        }
        'f' => cli.config = Some(PathBuf::from(value)),
        'u' => cli.user = Some(value.to_owned()),
        'W' => {
            cli.connect_timeout = Some(
                nut_client::parse_timeout(value)
                    .ok_or_else(|| format!("Invalid connection timeout [{value}]"))?,
            );
        }
        _ => unreachable!("only flags with arguments get here"),
    }
    Ok(())
}

/// The `-h` text.
pub fn usage(program: &str) -> String {
    format!(
        "Monitors UPS servers and may initiate shutdown if necessary.\n\
         \n\
         usage: {program} [OPTIONS]\n\
         \n\
         \x20 -c <cmd>\tsend command to running process\n\
         \t\tcommands:\n\
         \t\t - fsd: shutdown all primary-mode UPSes (use with caution)\n\
         \t\t - reload: reread configuration\n\
         \t\t - stop: stop monitoring and exit\n\
         \x20 -P <pid>\tsend the signal above to specified PID (bypassing PID file)\n\
         \x20 -D\t\traise debugging level (and stay foreground by default)\n\
         \x20 -F\t\tstay foregrounded even if no debugging is enabled\n\
         \x20 -B\t\tstay backgrounded even if debugging is bumped\n\
         \x20 -f <file>\tread this configuration file instead of upsmon.conf\n\
         \x20 -h\t\tdisplay this help\n\
         \x20 -K\t\tchecks POWERDOWNFLAG, sets exit code to 0 if set\n\
         \x20 -p\t\talways run privileged (disable privileged parent)\n\
         \x20 -u <user>\trun child as user <user> (ignored when using -p)\n\
         \x20 -W <secs>\tconnection timeout (default: 10, or NUT_DEFAULT_CONNECT_TIMEOUT)\n\
         \x20 -4\t\tIPv4 only\n\
         \x20 -6\t\tIPv6 only\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_bundle_and_values_attach_or_follow() {
        let cli = parse(["-DFp", "-cfsd", "-u", "nut", "-P", "42"]).unwrap();
        assert_eq!(cli.debug, 1);
        assert_eq!(cli.foreground, 1);
        assert!(cli.privileged);
        assert_eq!(cli.command, Some(Command::Fsd));
        assert_eq!(cli.user.as_deref(), Some("nut"));
        assert_eq!(cli.pid, Some(42));
        let cli = parse(["-c", "rel", "-W", "2.5", "-f", "/x/upsmon.conf", "-6"]).unwrap();
        assert_eq!(cli.command, Some(Command::Reload));
        assert_eq!(cli.connect_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(cli.config, Some(PathBuf::from("/x/upsmon.conf")));
        assert_eq!(cli.family, Some(Family::V6));
    }

    #[test]
    fn foreground_rules() {
        assert!(!parse(Vec::<String>::new()).unwrap().stays_foreground());
        assert!(parse(["-F"]).unwrap().stays_foreground());
        assert!(parse(["-FF"]).unwrap().stays_foreground());
        assert!(parse(["-D"]).unwrap().stays_foreground());
        assert!(!parse(["-D", "-B"]).unwrap().stays_foreground());
    }

    #[test]
    fn errors_and_option_end() {
        assert!(parse(["-c"]).is_err());
        assert!(parse(["-c", "bogus"]).is_err());
        assert!(parse(["-x"]).is_err());
        assert!(parse(["-P", "0"]).is_err());
        // 1 is init; NUT refuses to signal it.
        assert!(parse(["-P", "1"]).is_err());
        assert!(parse(["-P", "abc"]).is_err());
        // The first non-option ends option parsing.
        let cli = parse(["-F", "extra", "-p"]).unwrap();
        assert!(!cli.privileged);
        assert_eq!(cli.foreground, 1);
    }
}
