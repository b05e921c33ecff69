//! NUT's common driver command line (docs/nut-behaviour.md §8.1), scanned by [`nut_daemon::getopt`] with
//! NUT's option string: options may be grouped (`-DDa ups`), an option's argument may be
//! attached (`-aups`) or separate, and parsing stops at the first non-option word. Options
//! act in order: `-h`, `-V` and `-L` end parsing where they stand.

use std::fmt;

use nut_core::cnum::atoi;
use nut_daemon::getopt::{Arg, Getopt};

/// Which configuration the driver runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `-a <id>`: the ups.conf section `<id>`.
    Section(String),
    /// `-s <id>`: no ups.conf; `-x` arguments only.
    Standalone(String),
}

impl Target {
    /// The UPS name.
    pub fn name(&self) -> &str {
        match self {
            Self::Section(n) | Self::Standalone(n) => n,
        }
    }
}

/// What the invocation asks for, when it is not a normal run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Serve the UPS (the normal case; `-k` and `-d` are variations of it).
    Run,
    /// `-h`.
    Help,
    /// `-V`.
    Version,
    /// `-L`.
    ListVars,
}

/// A command for an already running driver (`-c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// `reload`: SIGHUP.
    Reload,
    /// `reload-or-exit`: SIGUSR1.
    ReloadOrExit,
    /// `reload-or-restart`: SIGUSR2.
    ReloadOrRestart,
    /// `reload-or-error`: SIGHUP (the result is only visible in the driver's log).
    ReloadOrError,
    /// `exit`: SIGTERM.
    Exit,
}

impl Signal {
    /// Parse a `-c` word.
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "reload" => Self::Reload,
            "reload-or-exit" => Self::ReloadOrExit,
            "reload-or-restart" => Self::ReloadOrRestart,
            "reload-or-error" => Self::ReloadOrError,
            "exit" => Self::Exit,
            _ => return None,
        })
    }
}

/// The parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cli {
    /// What to do.
    pub action: Action,
    /// `-a` / `-s` (the last one wins).
    pub target: Option<Target>,
    /// `-D` count.
    pub debug: u32,
    /// `-d <n>` with `n > 0`: dump the tree after NUT's `n + 2` updates and exit.
    pub dump_after: Option<u32>,
    /// `-F` count (1: foreground; 2: foreground with PID file).
    pub foreground: u32,
    /// `-B`: background even when debugging.
    pub background: bool,
    /// `-q` count.
    pub quiet: u32,
    /// `-k`: kill power.
    pub kill_power: bool,
    /// `-r <dir>`.
    pub chroot: Option<String>,
    /// `-u <user>`.
    pub user: Option<String>,
    /// `-g <group>`.
    pub group: Option<String>,
    /// `-x var=val` / `-x flag`, in order.
    pub extra: Vec<(String, Option<String>)>,
    /// `-i <seconds>`.
    pub pollinterval: Option<u32>,
    /// `-c <command>`.
    pub signal: Option<Signal>,
    /// `-P <pid>`: signal this process instead of the one in the PID file.
    pub pid: Option<i32>,
}

impl Default for Cli {
    fn default() -> Self {
        Self {
            action: Action::Run,
            target: None,
            debug: 0,
            dump_after: None,
            foreground: 0,
            background: false,
            quiet: 0,
            kill_power: false,
            chroot: None,
            user: None,
            group: None,
            extra: Vec::new(),
            pollinterval: None,
            signal: None,
            pid: None,
        }
    }
}

/// A command-line error: the lines to print on stderr; the exit status is 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliError {
    /// Message lines, NUT's wording.
    pub lines: Vec<String>,
}

impl CliError {
    fn new(lines: impl IntoIterator<Item = String>) -> Self {
        Self {
            lines: lines.into_iter().collect(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lines.join("\n"))
    }
}

impl std::error::Error for CliError {}

/// NUT's option string for every driver: the first operand ends the options.
const OPTSTRING: &str = "+a:s:kDFBd:hx:Lqr:u:g:Vi:c:P:";

/// Split `-x` text into name and optional value (`var=val`; a lone word is a flag).
fn split_extra(text: &str) -> (String, Option<String>) {
    match text.split_once('=') {
        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
        None => (text.to_owned(), None),
    }
}

/// Parse `args` (without the program name). `prog` is `argv[0]`, used in getopt's messages.
pub fn parse(prog: &str, args: &[String]) -> Result<Cli, CliError> {
    let mut cli = Cli::default();
    let unknown = |line: String| {
        CliError::new([
            line,
            "Error: unknown option -?. Try -h for help.".to_owned(),
        ])
    };
    for arg in Getopt::new(OPTSTRING, args.iter().cloned()) {
        let (c, value) = match arg {
            Ok(Arg::Opt(c, value)) => (c, value),
            Err(e) => return Err(unknown(format!("{prog}: {e}"))),
            // The first operand ends the options, and the driver takes none.
            Ok(Arg::Operand(_)) => {
                return Err(CliError::new([
                    "Error: too many non-option arguments. Try -h for help.".to_owned(),
                ]));
            }
        };
        let Some(value) = value else {
            match c {
                'k' => cli.kill_power = true,
                'D' => cli.debug += 1,
                'F' => cli.foreground += 1,
                'B' => cli.background = true,
                'q' => cli.quiet += 1,
                'h' => cli.action = Action::Help,
                'L' => cli.action = Action::ListVars,
                _ => cli.action = Action::Version,
            }
            if cli.action != Action::Run {
                // -h, -V and -L act where they stand: whatever follows is not looked at.
                return Ok(cli);
            }
            continue;
        };
        match c {
            'a' => cli.target = Some(Target::Section(value)),
            's' => cli.target = Some(Target::Standalone(value)),
            // NUT dumps only for a count other than 0 (a negative one would make it update
            // without pause and never dump: a normal run here).
            'd' => {
                cli.dump_after = u32::try_from(atoi(&value)).ok().filter(|&n| n > 0);
            }
            'x' => cli.extra.push(split_extra(&value)),
            'r' => cli.chroot = Some(value),
            'u' => cli.user = Some(value),
            'g' => cli.group = Some(value),
            'i' => {
                let n = atoi(&value);
                if n <= 0 {
                    return Err(CliError::new([format!(
                        "Error: command-line: invalid pollinterval: {n}"
                    )]));
                }
                cli.pollinterval = u32::try_from(n).ok();
            }
            'c' => {
                let Some(sig) = Signal::parse(&value) else {
                    return Err(CliError::new([format!(
                        "Error: unknown command '{value}' for -c (expected reload, \
                         reload-or-exit, reload-or-restart, reload-or-error or exit). \
                         Try -h for help."
                    )]));
                };
                cli.signal = Some(sig);
            }
            _ => {
                // -P. Below 2 is refused as NUT does: 0 would signal our process group, 1 is init.
                let pid = atoi(&value);
                if pid < 2 {
                    return Err(CliError::new([format!(
                        "Error: invalid PID for -P: {value}"
                    )]));
                }
                cli.pid = Some(pid);
            }
        }
    }
    if cli.target.is_none() {
        return Err(CliError::new([
            "Error: specifying '-a id' or '-s id' is now mandatory. Try -h for help.".to_owned(),
        ]));
    }
    Ok(cli)
}

/// The `-h` text: common options, then the driver's own variables.
pub fn help_text(prog: &str, driver_vars: &[crate::VarDecl]) -> String {
    let mut out = format!(
        "usage: {prog} (-a <id>|-s <id>) [OPTIONS]\n\
  -a <id>        - configure from the ups.conf section <id>\n\
                 - note: -x given after -a overrides ups.conf settings\n\
\n\
  -s <id>        - configure from the command line only\n\
                 - note: give every driver parameter with -x\n\
                 - note: at least 'port' must be set\n\
                 - note: '-d 1' with NUT_STATEPATH=/tmp explores a device from an\n\
                   unprivileged account\n\
\n\
  -V             - print the version and exit\n\
  -L             - list this driver's variables in a parseable form\n\
  -D             - raise the debug level (and stay in the foreground)\n\
  -d <count>     - print the data after <count> update loops and exit\n\
  -F             - stay in the foreground even without debugging\n\
  -FF            - stay in the foreground and still write the PID file\n\
  -B             - go to the background even when debugging\n\
  -q             - raise the log level threshold\n\
  -h             - show this help\n\
  -k             - force shutdown (kill power)\n\
  -i <int>       - poll interval in seconds\n\
  -r <dir>       - chroot to <dir>\n\
  -u <user>      - run as <user> (when started as root)\n\
  -g <group>     - give the socket to <group> (when started as root)\n\
  -x <var>=<val> - set driver variable <var> to <val>\n\
                 - example: -x cable=940-0095B\n\
  -c <command>   - send <command> to the running driver: reload, reload-or-exit,\n\
                   reload-or-restart, reload-or-error, exit\n\
  -P <pid>       - with -c: signal this process instead of the PID file's\n"
    );
    if !driver_vars.is_empty() {
        out.push_str("\nAcceptable values for -x or ups.conf in this driver:\n\n");
        for v in driver_vars {
            match v.kind {
                crate::VarKind::Value => {
                    out.push_str(&format!("{} : -x {}=<value>\n", v.desc, v.name))
                }
                crate::VarKind::Flag => out.push_str(&format!("{} : -x {}\n", v.desc, v.name)),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &str) -> Result<Cli, CliError> {
        let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
        parse("/lib/nut/dummy-ups", &args)
    }

    #[test]
    fn grouped_and_attached_options() {
        let cli = p("-DDa ups -x port=a.dev -xmode -FF -i 5").unwrap();
        assert_eq!(cli.debug, 2);
        assert_eq!(cli.target, Some(Target::Section("ups".into())));
        assert_eq!(
            cli.extra,
            vec![("port".into(), Some("a.dev".into())), ("mode".into(), None)]
        );
        assert_eq!(cli.foreground, 2);
        assert_eq!(cli.pollinterval, Some(5));
        let cli = p("-aups -cexit").unwrap();
        assert_eq!(cli.target.unwrap().name(), "ups");
        assert_eq!(cli.signal, Some(Signal::Exit));
    }

    /// NUT's main loop dumps only for a non-zero count: `-d 0` is a normal run (NUT 2.8.0
    /// then even goes to the background).
    #[test]
    fn dump_count() {
        assert_eq!(p("-a ups -d 1").unwrap().dump_after, Some(1));
        assert_eq!(p("-a ups -d3").unwrap().dump_after, Some(3));
        assert_eq!(p("-a ups -d 0").unwrap().dump_after, None);
        assert_eq!(p("-a ups -d -1").unwrap().dump_after, None);
        assert_eq!(p("-a ups").unwrap().dump_after, None);
    }

    #[test]
    fn nut_error_messages() {
        assert_eq!(
            p("").unwrap_err().lines,
            ["Error: specifying '-a id' or '-s id' is now mandatory. Try -h for help."]
        );
        assert_eq!(
            p("-Z").unwrap_err().lines,
            [
                "/lib/nut/dummy-ups: invalid option -- 'Z'",
                "Error: unknown option -?. Try -h for help."
            ]
        );
        assert_eq!(
            p("-a").unwrap_err().lines[0],
            "/lib/nut/dummy-ups: option requires an argument -- 'a'"
        );
        assert_eq!(
            p("-a u extra").unwrap_err().lines,
            ["Error: too many non-option arguments. Try -h for help."]
        );
        assert_eq!(
            p("-a u -- extra").unwrap_err().lines,
            ["Error: too many non-option arguments. Try -h for help."]
        );
        assert!(p("-a u --").is_ok());
        assert_eq!(
            p("-a u -P 1 -c exit").unwrap_err().lines,
            ["Error: invalid PID for -P: 1"]
        );
        assert_eq!(
            p("-a u -i abc").unwrap_err().lines,
            ["Error: command-line: invalid pollinterval: 0"]
        );
    }

    #[test]
    fn terminal_options_act_where_they_stand() {
        assert_eq!(p("-h -Z").unwrap().action, Action::Help);
        assert!(p("-Z -h").is_err());
        assert_eq!(p("-V").unwrap().action, Action::Version);
        assert_eq!(p("-L").unwrap().action, Action::ListVars);
    }
}
