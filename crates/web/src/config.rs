//! The command line and the list of UPSes to show (hosts.conf `MONITOR` lines and `-m`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nut_client::TlsSettings;
use nut_core::conf::{UpsId, parse_hosts_conf};

use crate::listen::{DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS, Limits};

/// nut_exporter's port, so existing scrape configs only need the host changed.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9199";
/// How long one server may take to answer (connect, and each reply).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// One UPS to show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// The identifier as the administrator wrote it (`ups@host`).
    pub system: String,
    /// The UPS name on its server.
    pub ups: String,
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// The hosts.conf description, if any and not empty (otherwise the server's `GET UPSDESC`
    /// is shown).
    pub description: Option<String>,
}

impl Target {
    fn from_id(system: &str, id: &UpsId, description: Option<String>) -> Self {
        Self {
            system: system.to_owned(),
            ups: id.name.clone(),
            host: id.host_or_default().to_owned(),
            port: id.port_or_default(),
            description,
        }
    }

    /// `host:port` (IPv6 literals in brackets): the `server` label and the grouping key.
    pub fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `ups@host:port`: the unambiguous identifier used in URLs.
    pub fn id(&self) -> String {
        format!("{}@{}", self.ups, self.server())
    }

    /// Whether a `?ups=` filter selects this UPS: its name, the identifier as written, or
    /// the full `ups@host:port`.
    pub fn matches(&self, filter: &str) -> bool {
        filter == self.ups || filter == self.system || filter == self.id()
    }
}

/// Everything the command line says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `-f FILE`: hosts.conf to read.
    pub hosts_file: Option<PathBuf>,
    /// `-m ups@host[:port]`, in order.
    pub monitors: Vec<String>,
    /// `-l ADDR:PORT`.
    pub listen: SocketAddr,
    /// `-t SECONDS`.
    pub timeout: Duration,
    /// `--forcessl`, `--certverify`, `--certpath`, `--certhost`, `--certpin` (over the
    /// `NUT_FORCESSL`… environment variables): TLS to the NUT servers.
    pub tls: TlsSettings,
    /// `--max-connections N`, `--header-timeout SECONDS`.
    pub limits: Limits,
}

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Serve.
    Run(Options),
    /// `-h`.
    Help,
    /// `-V`.
    Version,
}

/// A command-line or configuration problem, as the one line to print.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Bad command line (exit 64).
    #[error("{0}")]
    Usage(String),
    /// Missing, unreadable or invalid configuration (exit 78).
    #[error("{0}")]
    Config(String),
}

/// The `-h` text.
pub fn usage(program: &str) -> String {
    format!(
        "usage: {program} [OPTIONS]\n\
         Serve a status page, a JSON API and Prometheus metrics for NUT servers.\n\n\
         \x20 -f, --hosts FILE        read MONITOR lines from FILE (default $NUT_CONFPATH/hosts.conf)\n\
         \x20 -m, --monitor UPS@HOST[:PORT]  show this UPS too (repeatable; without -f, only these)\n\
         \x20 -l, --listen ADDR:PORT  address to serve HTTP on (default {DEFAULT_LISTEN})\n\
         \x20 -t, --timeout SECONDS   per-server connect and reply timeout (default {})\n\
         \x20     --max-connections N HTTP connections at once (default {DEFAULT_MAX_CONNECTIONS},\n\
         \x20                         fewer when the descriptor limit is low)\n\
         \x20     --header-timeout SECONDS  time a client has to send its request (default {})\n\
         \x20     --forcessl          never talk to a NUT server in clear text\n\
         \x20     --certverify        verify the servers' certificates (needs --certpath)\n\
         \x20     --certpath PATH     CA certificate file or directory for --certverify\n\
         \x20     --certhost NAME     name the server certificates must carry (default: the host)\n\
         \x20     --certpin FILE      accept only this server certificate (PEM)\n\
         \x20 -h, --help              this text\n\
         \x20 -V, --version           version\n\n\
         Environment: NUT_WEB_USERNAME / NUT_WEB_PASSWORD log in to servers that require it;\n\
         NUT_FORCESSL, NUT_CERTVERIFY, NUT_CERTPATH, NUT_CERTHOST, NUT_CERTPIN as the flags.\n\
         Endpoints: /  /ups/<ups@host:port>  /metrics[?ups=NAME]  /api/v1/upses  /json  /healthz\n",
        DEFAULT_TIMEOUT.as_secs(),
        DEFAULT_HEADER_TIMEOUT.as_secs()
    )
}

/// Parse the command line (without the program name). Accepts `-x VALUE`, `-xVALUE`,
/// `--long VALUE` and `--long=VALUE`.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, ConfigError> {
    let mut hosts_file = None;
    let mut monitors = Vec::new();
    let mut listen = DEFAULT_LISTEN.to_owned();
    let mut timeout = DEFAULT_TIMEOUT;
    let mut tls = TlsSettings::from_env().map_err(ConfigError::Usage)?;
    let mut limits = Limits::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (key, attached) = split_option(&arg)?;
        let takes_value = matches!(key, 'f' | 'm' | 'l' | 't' | 'C' | 'R' | 'P' | 'H' | 'N');
        let value = if takes_value {
            match attached.or_else(|| args.next()) {
                Some(v) => v,
                None => return Err(usage_error(format!("option {arg} needs a value"))),
            }
        } else if attached.is_some() {
            return Err(usage_error(format!("option {arg} takes no value")));
        } else {
            String::new()
        };
        match key {
            'h' => return Ok(Command::Help),
            'V' => return Ok(Command::Version),
            'f' => hosts_file = Some(PathBuf::from(value)),
            'm' => monitors.push(value),
            'l' => listen = value,
            't' => {
                timeout = nut_client::parse_timeout_checked(&value)
                    .map_err(|e| usage_error(format!("-t: {e}")))?;
            }
            'R' => {
                limits.header_timeout = nut_client::parse_timeout_checked(&value)
                    .map_err(|e| usage_error(format!("--header-timeout: {e}")))?;
            }
            'C' => {
                limits.max_connections =
                    value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        usage_error(format!("--max-connections: {value:?} is not a count"))
                    })?;
            }
            'S' => tls.forcessl = true,
            'Y' => tls.certverify = true,
            'P' | 'H' | 'N' => {
                let keyword = match key {
                    'P' => "CERTPATH",
                    'H' => "CERTHOST",
                    _ => "CERTPIN",
                };
                tls.set(keyword, &value)
                    .map_err(|e| usage_error(format!("--{}", e.to_ascii_lowercase())))?;
            }
            _ => unreachable!("split_option only returns known options"),
        }
    }
    let listen = listen.parse::<SocketAddr>().map_err(|_| {
        usage_error(format!(
            "invalid listen address {listen:?} (want ADDR:PORT)"
        ))
    })?;
    // CERTVERIFY without CERTPATH and the like are refused now rather than at each poll.
    tls.mode().map_err(usage_error)?;
    Ok(Command::Run(Options {
        hosts_file,
        monitors,
        listen,
        timeout,
        tls,
        limits,
    }))
}

fn usage_error(message: String) -> ConfigError {
    ConfigError::Usage(format!("{message}; try -h"))
}

/// The option letter and any value attached to the same word.
fn split_option(arg: &str) -> Result<(char, Option<String>), ConfigError> {
    const LONG: &[(&str, char)] = &[
        ("hosts", 'f'),
        ("monitor", 'm'),
        ("listen", 'l'),
        ("timeout", 't'),
        ("max-connections", 'C'),
        ("header-timeout", 'R'),
        ("forcessl", 'S'),
        ("certverify", 'Y'),
        ("certpath", 'P'),
        ("certhost", 'H'),
        ("certpin", 'N'),
        ("help", 'h'),
        ("version", 'V'),
    ];
    if let Some(long) = arg.strip_prefix("--") {
        let (name, value) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (long, None),
        };
        return LONG
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| (*c, value))
            .ok_or_else(|| usage_error(format!("unknown option {arg}")));
    }
    let mut chars = arg.chars();
    match (chars.next(), chars.next()) {
        (Some('-'), Some(c)) if "fmlthV".contains(c) => {
            let rest = chars.as_str();
            Ok((c, (!rest.is_empty()).then(|| rest.to_owned())))
        }
        (Some('-'), Some(_)) => Err(usage_error(format!("unknown option {arg}"))),
        _ => Err(usage_error(format!("unexpected argument {arg:?}"))),
    }
}

/// The targets to show: hosts.conf's MONITOR lines (the `-f` file, or the default one when no
/// `-m` is given) then each `-m`, without duplicates. Returns the warnings to log.
pub fn load_targets(
    options: &Options,
    default_hosts: &Path,
) -> Result<(Vec<Target>, Vec<String>), ConfigError> {
    let mut targets: Vec<Target> = Vec::new();
    let mut warnings = Vec::new();
    let hosts_file = match (&options.hosts_file, options.monitors.is_empty()) {
        (Some(file), _) => Some(file.as_path()),
        (None, true) => Some(default_hosts),
        (None, false) => None,
    };
    if let Some(file) = hosts_file {
        let name = file.display().to_string();
        let text = std::fs::read(file).map_err(|e| {
            ConfigError::Config(format!(
                "{name}: cannot open: {}",
                nut_daemon::log::strerror(&e)
            ))
        })?;
        let parsed = parse_hosts_conf(text, &name)
            .map_err(|e| ConfigError::Config(e.to_string().replace('\n', "; ")))?;
        let (conf, warns) = parsed.into_parts();
        warnings.extend(warns.iter().map(ToString::to_string));
        for entry in &conf.monitors {
            // An empty description ("") lets the server's own description show.
            let description = Some(entry.description.clone()).filter(|d| !d.is_empty());
            let target = Target::from_id(&entry.system, &entry.ups, description);
            push_unique(&mut targets, target);
        }
    }
    for system in &options.monitors {
        let id =
            UpsId::parse(system).map_err(|e| ConfigError::Usage(format!("-m {system}: {e}")))?;
        push_unique(&mut targets, Target::from_id(system, &id, None));
    }
    if targets.is_empty() {
        let source = hosts_file.map_or_else(|| "-m".to_owned(), |f| f.display().to_string());
        return Err(ConfigError::Config(format!(
            "{source}: no UPS to show (add MONITOR <ups@host[:port]> \"<description>\" lines or use -m)"
        )));
    }
    Ok((targets, warnings))
}

fn push_unique(targets: &mut Vec<Target>, target: Target) {
    if !targets.iter().any(|t| t.id() == target.id()) {
        targets.push(target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Command, ConfigError> {
        parse_args(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn short_long_attached_and_separate_forms() {
        let Command::Run(o) = args(&[
            "-f",
            "h.conf",
            "-mups@a:1",
            "--monitor=b@c",
            "--listen",
            "127.0.0.1:1",
        ])
        .unwrap() else {
            panic!("not run")
        };
        assert_eq!(o.hosts_file.as_deref(), Some(Path::new("h.conf")));
        assert_eq!(o.monitors, ["ups@a:1", "b@c"]);
        assert_eq!(o.listen, "127.0.0.1:1".parse().unwrap());
        assert_eq!(args(&["-h"]).unwrap(), Command::Help);
        assert_eq!(args(&["--version"]).unwrap(), Command::Version);
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        for bad in [
            &["-x"][..],
            &["-l"],
            &["-l", "nowhere"],
            &["--bogus"],
            &["stray"],
            &["-t", "x"],
            &["--max-connections", "0"],
            &["--certverify"],
            &["--forcessl=1"],
            &["--certpath", ""],
        ] {
            assert!(matches!(args(bad), Err(ConfigError::Usage(_))), "{bad:?}");
        }
    }

    /// `-t 1e20` used to panic in `Duration::from_secs_f64`.
    #[test]
    fn huge_timeouts_are_usage_errors() {
        for flag in ["-t", "--header-timeout"] {
            let err = args(&[flag, "1e20"]).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Usage(m) if m.contains("too large")),
                "{err}"
            );
        }
    }

    #[test]
    fn tls_and_limit_flags() {
        let Command::Run(o) = args(&[
            "--certverify",
            "--certpath=/etc/nut/ca.pem",
            "--certhost",
            "ups.example",
            "--max-connections",
            "40",
            "--header-timeout",
            "2.5",
        ])
        .unwrap() else {
            panic!("not run")
        };
        assert!(o.tls.certverify && o.tls.verifies_server());
        assert_eq!(o.tls.certhost.as_deref(), Some("ups.example"));
        assert_eq!(o.limits.max_connections, 40);
        assert_eq!(o.limits.header_timeout, Duration::from_millis(2500));
    }

    #[test]
    fn targets_from_file_and_flags_without_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hosts.conf");
        std::fs::write(
            &file,
            "MONITOR a@h1 \"First\"\nMONITOR b@h2:4000 \"Second\"\n",
        )
        .unwrap();
        let options = Options {
            hosts_file: Some(file.clone()),
            monitors: vec!["a@h1:3493".into(), "c".into()],
            listen: DEFAULT_LISTEN.parse().unwrap(),
            timeout: DEFAULT_TIMEOUT,
            tls: TlsSettings::default(),
            limits: Limits::default(),
        };
        let (targets, _) = load_targets(&options, Path::new("/nonexistent")).unwrap();
        let ids: Vec<String> = targets.iter().map(Target::id).collect();
        assert_eq!(ids, ["a@h1:3493", "b@h2:4000", "c@localhost:3493"]);
        assert_eq!(targets[1].description.as_deref(), Some("Second"));
        assert!(targets[0].matches("a") && targets[0].matches("a@h1"));
    }

    #[test]
    fn bad_hosts_conf_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hosts.conf");
        std::fs::write(&file, "MONITOR a@h1 \"ok\"\nMONITOR\n").unwrap();
        let options = Options {
            hosts_file: Some(file.clone()),
            monitors: vec![],
            listen: DEFAULT_LISTEN.parse().unwrap(),
            timeout: DEFAULT_TIMEOUT,
            tls: TlsSettings::default(),
            limits: Limits::default(),
        };
        let err = load_targets(&options, Path::new("/x")).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Config(m) if m.starts_with(&format!("{}:2:", file.display()))),
            "{err}"
        );
        let missing = load_targets(
            &Options {
                hosts_file: None,
                ..options
            },
            &dir.path().join("none"),
        )
        .unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("cannot open: No such file or directory"),
            "{missing}"
        );
    }
}
