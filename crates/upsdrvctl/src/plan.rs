//! What upsdrvctl will do, decided without side effects: the command line, the UPSes
//! concerned and, for each, the exact driver invocation and timing (docs/nut-behaviour.md §8.7).

use std::path::{Path, PathBuf};
use std::time::Duration;

use nut_core::conf::UpsConf;
use nut_daemon::getopt::{Arg, Getopt, GetoptError};

/// Debian's driver directory.
pub const DEFAULT_DRIVERPATH: &str = "/lib/nut";

/// The command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `start`.
    Start,
    /// `stop`.
    Stop,
    /// `shutdown`.
    Shutdown,
}

/// The parsed command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cli {
    /// `-h` (or no command at all).
    pub help: bool,
    /// `-t`: print what would be done.
    pub testing: bool,
    /// `-D` count.
    pub debug: u32,
    /// `-d`: pass the debug level on to the drivers.
    pub pass_debug: bool,
    /// `-F`: foreground and supervise (restart drivers that die).
    pub foreground: bool,
    /// `-u <user>`.
    pub user: Option<String>,
    /// `-r <dir>`.
    pub chroot: Option<String>,
    /// The command and optional UPS.
    pub command: Option<(Command, Option<String>)>,
}

/// A command-line problem: message and exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage(pub String);

/// upsdrvctl's options; no leading `+`, so its command words may come anywhere.
const OPTSTRING: &str = "htDdFu:r:";

/// Parse arguments (without the program name), getopt style (`-tD`, `-u nut`, `-unut`).
pub fn parse_cli(prog: &str, args: &[String]) -> Result<Cli, Usage> {
    let mut cli = Cli::default();
    let mut rest = Vec::new();
    for arg in Getopt::new(OPTSTRING, args.iter().cloned()) {
        match arg {
            Ok(Arg::Opt(c, value)) => match (c, value) {
                ('t', _) => cli.testing = true,
                ('D', _) => cli.debug += 1,
                ('d', _) => cli.pass_debug = true,
                ('F', _) => cli.foreground = true,
                ('u', value) => cli.user = value,
                ('r', value) => cli.chroot = value,
                // 'h', the one character of OPTSTRING left.
                _ => cli.help = true,
            },
            // Operands may come before, between or after the options (GNU getopt permutes).
            Ok(Arg::Operand(word)) => rest.push(word),
            Err(e @ GetoptError::Unknown(_)) => {
                return Err(Usage(format!(
                    "{prog}: {e}\nError: unknown option -?. Try -h for help."
                )));
            }
            Err(e @ GetoptError::MissingArgument(_)) => return Err(Usage(format!("{prog}: {e}"))),
        }
    }
    if cli.help || rest.is_empty() {
        cli.help = true;
        return Ok(cli);
    }
    let command = match rest[0].as_str() {
        "start" => Command::Start,
        "stop" => Command::Stop,
        "shutdown" => Command::Shutdown,
        other => return Err(Usage(format!("Error: unrecognized command [{other}]"))),
    };
    cli.command = Some((command, rest.get(1).cloned()));
    Ok(cli)
}

/// One driver to act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// UPS name.
    pub ups: String,
    /// Driver name (ups.conf `driver`).
    pub driver: String,
    /// `port`, for the legacy PID file name.
    pub port: String,
    /// The driver program.
    pub program: PathBuf,
    /// Its arguments for the command (start, or shutdown with `-k`).
    pub args: Vec<String>,
    /// `maxretry`: how many start attempts.
    pub attempts: u32,
    /// `retrydelay`.
    pub retry_delay: Duration,
    /// `maxstartdelay`.
    pub max_start_delay: Duration,
    /// `sdorder`.
    pub sdorder: i32,
}

/// The UPSes concerned, in ups.conf order; `Err` names an unknown UPS.
pub fn targets(
    conf: &UpsConf,
    cli: &Cli,
    command: Command,
    only: Option<&str>,
    driverpath: &Path,
) -> Result<Vec<Target>, String> {
    let sections: Vec<_> = match only {
        Some(name) => vec![
            conf.section(name)
                .ok_or_else(|| format!("UPS {name} not found in ups.conf"))?,
        ],
        None => conf.sections.iter().collect(),
    };
    Ok(sections
        .into_iter()
        .map(|s| {
            let mut args = vec!["-a".to_owned(), s.name.clone()];
            if cli.pass_debug {
                args.extend((0..cli.debug).map(|_| "-D".to_owned()));
            }
            if let Some(u) = &cli.user {
                args.extend(["-u".to_owned(), u.clone()]);
            }
            if let Some(r) = &cli.chroot {
                args.extend(["-r".to_owned(), r.clone()]);
            }
            match command {
                Command::Shutdown => args.push("-k".to_owned()),
                _ if cli.foreground => args.push("-F".to_owned()),
                _ => {}
            }
            Target {
                ups: s.name.clone(),
                driver: s.driver.clone(),
                port: s.port.clone(),
                program: driverpath.join(&s.driver),
                args,
                attempts: conf.effective_maxretry(s).max(1),
                retry_delay: Duration::from_secs(u64::from(conf.effective_retrydelay(s))),
                max_start_delay: Duration::from_secs(u64::from(conf.effective_maxstartdelay(s))),
                sdorder: s.sdorder,
            }
        })
        .collect())
}

/// Shutdown order: groups by `sdorder` ascending, `-1` left out (ups.conf order within a
/// group).
pub fn shutdown_order(targets: &[Target]) -> Vec<Vec<&Target>> {
    let mut orders: Vec<i32> = targets
        .iter()
        .map(|t| t.sdorder)
        .filter(|o| *o >= 0)
        .collect();
    orders.sort_unstable();
    orders.dedup();
    orders
        .into_iter()
        .map(|o| targets.iter().filter(|t| t.sdorder == o).collect())
        .collect()
}

/// `exec:  <program> <args…>` as NUT prints it at debug level 2.
pub fn exec_line(t: &Target) -> String {
    let mut s = format!("exec:  {}", t.program.display());
    for a in &t.args {
        s.push(' ');
        s.push_str(a);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use nut_core::conf::parse_ups_conf;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn command_line() {
        let cli = parse_cli("upsdrvctl", &args("-tDd -u nut start ups1")).unwrap();
        assert!(cli.testing && cli.pass_debug);
        assert_eq!(cli.debug, 1);
        assert_eq!(cli.user.as_deref(), Some("nut"));
        assert_eq!(cli.command, Some((Command::Start, Some("ups1".into()))));
        assert!(parse_cli("upsdrvctl", &[]).unwrap().help);
        assert_eq!(
            parse_cli("upsdrvctl", &args("bogus")).unwrap_err(),
            Usage("Error: unrecognized command [bogus]".into())
        );
        // Options may follow the command words; "--" ends the options as in NUT.
        let cli = parse_cli("upsdrvctl", &args("stop -t ups1 -runused")).unwrap();
        assert!(cli.testing);
        assert_eq!(cli.chroot.as_deref(), Some("unused"));
        assert_eq!(cli.command, Some((Command::Stop, Some("ups1".into()))));
        let cli = parse_cli("upsdrvctl", &args("-t -- shutdown")).unwrap();
        assert_eq!(cli.command, Some((Command::Shutdown, None)));
        assert_eq!(
            parse_cli("upsdrvctl", &args("-tx start")).unwrap_err(),
            Usage(
                "upsdrvctl: invalid option -- 'x'\nError: unknown option -?. Try -h for help."
                    .into()
            )
        );
        assert_eq!(
            parse_cli("upsdrvctl", &args("start -u")).unwrap_err(),
            Usage("upsdrvctl: option requires an argument -- 'u'".into())
        );
    }

    #[test]
    fn targets_and_shutdown_groups() {
        let conf = parse_ups_conf(
            "maxretry = 3\nretrydelay = 1\n[a]\ndriver = dummy-ups\nport = a.dev\nsdorder = 2\n\
             [b]\ndriver = usbhid-ups\nport = auto\n[c]\ndriver = x\nport = y\nsdorder = -1\n",
            "ups.conf",
        )
        .unwrap()
        .config;
        let cli = parse_cli("upsdrvctl", &args("-F start")).unwrap();
        let t = targets(&conf, &cli, Command::Start, None, Path::new("/lib/nut")).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].attempts, 3);
        assert_eq!(t[0].args, ["-a", "a", "-F"]);
        assert_eq!(exec_line(&t[1]), "exec:  /lib/nut/usbhid-ups -a b -F");
        let groups: Vec<Vec<&str>> = shutdown_order(&t)
            .iter()
            .map(|g| g.iter().map(|t| t.ups.as_str()).collect())
            .collect();
        assert_eq!(groups, [vec!["b"], vec!["a"]]);
        assert_eq!(
            targets(&conf, &cli, Command::Start, Some("zz"), Path::new("/")).unwrap_err(),
            "UPS zz not found in ups.conf"
        );
    }
}
