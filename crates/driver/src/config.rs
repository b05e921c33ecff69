//! Turning the command line and the ups.conf section into a driver's configuration, with
//! NUT's acceptance rules and messages (docs/nut-behaviour.md §5.1, §8.1).
//!
//! Every key of the section, then every `-x`, is checked in order. Keys the driver core
//! understands are taken; the others must have been declared by the driver (`-L` lists
//! them) or the driver stops with NUT's "not a valid variable name" message. Accepted
//! values of `port`, `pollinterval`, `synchronous` and the driver's own variables are
//! published as `driver.parameter.<key>`, accepted flags as `driver.flag.<key>` — the set
//! NUT 2.8.0 publishes (`desc`, `sdorder`, `user`, `group`, `override.*`, … are not).

use std::collections::BTreeMap;
use std::time::Duration;

use nut_core::conf::ups_conf::{DEFAULT_POLLINTERVAL, Synchronous};
use nut_core::conf::{UpsConf, parse_bool, parse_ups_conf};

use nut_daemon::exit::Exit;

use crate::cli::{Cli, Target};
use crate::health::ReconnectPolicy;
use crate::{DriverInfo, VarKind};

/// Keys the driver core takes without publishing them.
const SILENT_KEYS: &[&str] = &[
    "desc",
    "sdorder",
    "maxstartdelay",
    "maxretry",
    "retrydelay",
    "chroot",
    "nowait",
];

/// The configuration a driver runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverConfig {
    /// The UPS (section) name.
    pub ups_name: String,
    /// `port`.
    pub port: String,
    /// `pollinterval`.
    pub poll_interval: Duration,
    /// `synchronous`.
    pub synchronous: Synchronous,
    /// `user` to run as.
    pub user: Option<String>,
    /// `group` owning the socket.
    pub group: Option<String>,
    /// `chroot`.
    pub chroot: Option<String>,
    /// `debug_min`.
    pub debug_min: Option<u32>,
    /// `nolock` flag.
    pub nolock: bool,
    /// `ignorelb` flag.
    pub ignorelb: bool,
    /// `allow_killpower` flag.
    pub allow_killpower: bool,
    /// `sdcommands`.
    pub sdcommands: Option<String>,
    /// `reconnect_max_tries` and `reconnect_report_freq` (NUT ≥ 2.8.1).
    pub reconnect: ReconnectPolicy,
    /// Values of the driver's own declared variables.
    pub values: BTreeMap<String, String>,
    /// The driver's own declared flags that are set.
    pub flags: Vec<String>,
    /// `override.<var> = value`, in order.
    pub overrides: Vec<(String, String)>,
    /// `default.<var> = value`, in order.
    pub defaults: Vec<(String, String)>,
    /// `driver.parameter.*` / `driver.flag.*` variables to publish, in order.
    pub published: Vec<(String, String)>,
    /// Messages to log once logging is set up.
    pub notices: Vec<String>,
}

impl DriverConfig {
    /// A declared variable's value.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether a declared flag is set.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
}

/// Why the configuration is unusable: the lines to print and the exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Message lines (NUT's wording where NUT has one).
    pub lines: Vec<String>,
    /// Exit status (NUT exits 0 after "not a valid variable name"; otherwise
    /// `nut_daemon::exit`'s `EX_CONFIG`, or `EX_USAGE` for a missing `-a`/`-s`).
    pub exit_code: i32,
}

impl ConfigError {
    fn fail(line: impl Into<String>) -> Self {
        Self {
            lines: vec![line.into()],
            exit_code: Exit::Config.status(),
        }
    }

    fn invalid(key: &str, what: &str) -> Self {
        Self {
            lines: vec![
                String::new(),
                format!("Fatal error: '{key}' is not a valid {what} for this driver."),
                String::new(),
                "Look in the man page or call this driver with -h for a list of".into(),
                "valid variable names and flags.".into(),
            ],
            exit_code: 0,
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.lines.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

/// `reconnect_max_tries`: a negative number means forever.
fn max_tries(value: &str) -> Result<Option<u32>, ConfigError> {
    match value.trim().parse::<i64>() {
        Ok(n) if n < 0 => Ok(None),
        Ok(n) => Ok(Some(u32::try_from(n).unwrap_or(u32::MAX))),
        Err(_) => Err(ConfigError::fail(format!(
            "Error: invalid reconnect_max_tries: {value}"
        ))),
    }
}

fn positive(key: &str, value: &str) -> Result<u32, ConfigError> {
    match value.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ConfigError::fail(format!("Error: invalid {key}: {value}"))),
    }
}

struct Builder<'a> {
    info: &'a DriverInfo,
    cfg: DriverConfig,
    poll: Option<u32>,
    sync: Option<Synchronous>,
}

impl Builder<'_> {
    fn publish(&mut self, name: String, value: String) {
        self.cfg.published.retain(|(n, _)| *n != name);
        self.cfg.published.push((name, value));
    }

    fn value(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        match key {
            "port" => {
                self.cfg.port = value.to_owned();
                self.publish("driver.parameter.port".into(), value.to_owned());
            }
            "pollinterval" => self.poll = Some(positive(key, value)?),
            "synchronous" => {
                self.sync = Some(Synchronous::parse(value).ok_or_else(|| {
                    ConfigError::fail(format!("Error: invalid synchronous value: {value}"))
                })?);
            }
            "user" => self.cfg.user = Some(value.to_owned()),
            "group" => self.cfg.group = Some(value.to_owned()),
            "sdcommands" => self.cfg.sdcommands = Some(value.to_owned()),
            "reconnect_max_tries" => {
                self.cfg.reconnect.max_tries = max_tries(value)?;
            }
            "reconnect_report_freq" => {
                self.cfg.reconnect.report_freq = value.trim().parse().map_err(|_| {
                    ConfigError::fail(format!("Error: invalid reconnect_report_freq: {value}"))
                })?;
            }
            "sddelay" => self
                .cfg
                .notices
                .push("Obsolete value sddelay found in ups.conf".into()),
            k if k.eq_ignore_ascii_case("debug_min") => {
                self.cfg.debug_min = value.trim().parse().ok();
            }
            k if k.eq_ignore_ascii_case("LIBUSB_DEBUG") => {}
            k if SILENT_KEYS.contains(&k) => {
                if k == "chroot" {
                    self.cfg.chroot = Some(value.to_owned());
                }
            }
            k if k.starts_with("override.") && k.len() > "override.".len() => {
                let var = &k["override.".len()..];
                self.cfg.overrides.retain(|(v, _)| v != var);
                self.cfg.overrides.push((var.to_owned(), value.to_owned()));
            }
            k if k.starts_with("default.") && k.len() > "default.".len() => {
                let var = &k["default.".len()..];
                self.cfg.defaults.retain(|(v, _)| v != var);
                self.cfg.defaults.push((var.to_owned(), value.to_owned()));
            }
            k => {
                let decl = self
                    .info
                    .vars
                    .iter()
                    .find(|d| d.name == k && d.kind == VarKind::Value)
                    .ok_or_else(|| ConfigError::invalid(k, "variable name"))?;
                self.cfg.values.insert(k.to_owned(), value.to_owned());
                if !decl.sensitive {
                    self.publish(format!("driver.parameter.{k}"), value.to_owned());
                }
            }
        }
        Ok(())
    }

    fn flag(&mut self, key: &str) -> Result<(), ConfigError> {
        match key {
            "nolock" => self.cfg.nolock = true,
            "ignorelb" => self.cfg.ignorelb = true,
            // Accepted (NUT 2.8.3+), not published: 2.8.0 has no such flag to show.
            "allow_killpower" => {
                self.cfg.allow_killpower = true;
                return Ok(());
            }
            "nowait" => return Ok(()),
            k => {
                if !self
                    .info
                    .vars
                    .iter()
                    .any(|d| d.name == k && d.kind == VarKind::Flag)
                {
                    return Err(ConfigError::invalid(k, "flag"));
                }
                if !self.cfg.flags.iter().any(|f| f == k) {
                    self.cfg.flags.push(k.to_owned());
                }
            }
        }
        self.publish(format!("driver.flag.{key}"), "enabled".into());
        Ok(())
    }
}

/// Build the configuration from the command line and (for `-a`) the parsed ups.conf.
pub fn build(
    info: &DriverInfo,
    cli: &Cli,
    ups_conf: Option<&UpsConf>,
) -> Result<DriverConfig, ConfigError> {
    let target = cli.target.as_ref().ok_or_else(|| ConfigError {
        lines: vec![
            "Error: specifying '-a id' or '-s id' is now mandatory. Try -h for help.".into(),
        ],
        exit_code: Exit::Usage.status(),
    })?;
    let mut b = Builder {
        info,
        cfg: DriverConfig {
            ups_name: target.name().to_owned(),
            port: String::new(),
            poll_interval: Duration::from_secs(u64::from(DEFAULT_POLLINTERVAL)),
            synchronous: Synchronous::Auto,
            user: None,
            group: None,
            chroot: None,
            debug_min: None,
            nolock: false,
            ignorelb: false,
            allow_killpower: false,
            sdcommands: None,
            reconnect: ReconnectPolicy::default(),
            values: BTreeMap::new(),
            flags: Vec::new(),
            overrides: Vec::new(),
            defaults: Vec::new(),
            published: Vec::new(),
            notices: Vec::new(),
        },
        poll: None,
        sync: None,
    };
    if let Target::Section(name) = target {
        let conf = ups_conf.ok_or_else(|| ConfigError::fail("Error: can't read ups.conf"))?;
        let g = &conf.global;
        b.poll = g.pollinterval;
        b.sync = g.synchronous;
        b.cfg.user = g.user.clone();
        b.cfg.group = g.group.clone();
        b.cfg.chroot = g.chroot.clone();
        b.cfg.debug_min = g.debug_min;
        if let Some(n) = g.reconnect_max_tries {
            b.cfg.reconnect.max_tries = u32::try_from(n).ok();
        }
        if let Some(n) = g.reconnect_report_freq {
            b.cfg.reconnect.report_freq = n;
        }
        let section = conf.section(name).ok_or_else(|| {
            ConfigError::fail(format!("Error: Section {name} not found in ups.conf"))
        })?;
        if section.driver != info.name {
            return Err(ConfigError::fail(format!(
                "Error: UPS [{name}] is for driver {}, but I'm {}!",
                section.driver, info.name
            )));
        }
        for e in &section.entries {
            match (&e.key[..], &e.value) {
                ("driver", _) => {}
                (k, Some(v)) => b.value(k, v)?,
                (k, None) => b.flag(k)?,
            }
        }
    }
    for (k, v) in &cli.extra {
        match v {
            Some(v) => b.value(k, v)?,
            None => b.flag(k)?,
        }
    }
    if b.cfg.port.is_empty() {
        return Err(ConfigError {
            lines: vec![
                "Error: you must specify a port name in ups.conf or in '-x port=...' argument."
                    .into(),
                "Try -h for help.".into(),
            ],
            exit_code: Exit::Config.status(),
        });
    }
    let poll = cli.pollinterval.or(b.poll).unwrap_or(DEFAULT_POLLINTERVAL);
    b.cfg.poll_interval = Duration::from_secs(u64::from(poll));
    b.cfg.synchronous = b.sync.unwrap_or(Synchronous::Auto);
    if let Some(u) = &cli.user {
        b.cfg.user = Some(u.clone());
    }
    if let Some(g) = &cli.group {
        b.cfg.group = Some(g.clone());
    }
    if let Some(r) = &cli.chroot {
        b.cfg.chroot = Some(r.clone());
    }
    let sync_word = match b.cfg.synchronous {
        Synchronous::Yes => "yes",
        Synchronous::No => "no",
        Synchronous::Auto => "auto",
    };
    b.publish("driver.parameter.pollinterval".into(), poll.to_string());
    b.publish("driver.parameter.synchronous".into(), sync_word.into());
    Ok(b.cfg)
}

/// Read and parse `<CONFPATH>/ups.conf` (drivers and upsdrvctl). Its warnings go to the
/// debug log, as NUT shows them only when debugging; an error is the lines to print.
pub fn read_ups_conf() -> Result<UpsConf, Vec<String>> {
    let path = nut_daemon::paths::conf_file("ups.conf");
    let text = std::fs::read(&path).map_err(|e| {
        vec![format!(
            "Can't open {}: {}",
            path.display(),
            crate::process::strerror(&e)
        )]
    })?;
    match parse_ups_conf(&text, &path.display().to_string()) {
        Ok(parsed) => {
            let (conf, warnings) = parsed.into_parts();
            for w in warnings {
                crate::debug!(1, "{w}");
            }
            Ok(conf)
        }
        Err(e) => Err(e.diagnostics().iter().map(ToString::to_string).collect()),
    }
}

/// A value set on `driver.flag.allow_killpower` at run time: NUT's true words
/// ([`parse_bool`]) or anything starting with `enable` (any case, blanks around it ignored)
/// allow it; everything else, unknown words included, forbids it.
pub fn allow_killpower_value(value: &str) -> bool {
    let value = value.trim();
    parse_bool(value) == Some(true)
        || value
            .get(..6)
            .is_some_and(|head| head.eq_ignore_ascii_case("enable"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{VarDecl, cli};

    #[test]
    fn allow_killpower_values() {
        for value in ["1", "yes", "ON", " true ", "enable", "Enabled"] {
            assert!(allow_killpower_value(value), "{value:?}");
        }
        for value in ["0", "no", "off", "false", "2", "", "disabled", "junk"] {
            assert!(!allow_killpower_value(value), "{value:?}");
        }
    }

    const VARS: &[VarDecl] = &[
        VarDecl::value("mode", "Mode"),
        VarDecl::flag("repeater_disable_strict_start", "No strict start"),
    ];
    const INFO: DriverInfo = DriverInfo {
        name: "dummy-ups",
        description: "Device simulation and repeater driver",
        version: "0.15",
        vars: VARS,
    };

    fn run(conf: &str, args: &str) -> Result<DriverConfig, ConfigError> {
        let conf = parse_ups_conf(conf, "ups.conf")
            .expect("valid ups.conf")
            .config;
        let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
        let cli = cli::parse("dummy-ups", &args).expect("valid command line");
        build(&INFO, &cli, Some(&conf))
    }

    #[test]
    fn publishes_what_nut_2_8_0_publishes() {
        let cfg = run(
            "pollinterval = 5\n[u]\ndriver = dummy-ups\nport = a.dev\ndesc = \"x\"\nsdorder = 2\n\
             nolock\nuser = nut\noverride.ups.mfr = X\ndefault.ups.foo = Y\nmode = dummy-loop\n",
            "-a u -x repeater_disable_strict_start",
        )
        .unwrap();
        let published: BTreeMap<_, _> = cfg.published.iter().cloned().collect();
        let names: Vec<_> = published.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "driver.flag.nolock",
                "driver.flag.repeater_disable_strict_start",
                "driver.parameter.mode",
                "driver.parameter.pollinterval",
                "driver.parameter.port",
                "driver.parameter.synchronous",
            ]
        );
        assert_eq!(published["driver.parameter.pollinterval"], "5");
        assert_eq!(published["driver.parameter.synchronous"], "auto");
        assert_eq!(cfg.overrides, [("ups.mfr".to_owned(), "X".to_owned())]);
        assert_eq!(cfg.defaults, [("ups.foo".to_owned(), "Y".to_owned())]);
        assert_eq!(cfg.user.as_deref(), Some("nut"));
        assert!(cfg.flag("repeater_disable_strict_start"));
    }

    #[test]
    fn command_line_overrides_ups_conf() {
        let cfg = run(
            "[u]\ndriver = dummy-ups\nport = a.dev\n",
            "-a u -x port=b.dev -i 7",
        )
        .unwrap();
        assert_eq!(cfg.port, "b.dev");
        assert_eq!(cfg.poll_interval, Duration::from_secs(7));
    }

    #[test]
    fn nut_messages_for_bad_configurations() {
        let e = run("[u]\ndriver = dummy-ups\nport = a\nbogus = 1\n", "-a u").unwrap_err();
        assert_eq!(
            e.lines[1],
            "Fatal error: 'bogus' is not a valid variable name for this driver."
        );
        assert_eq!(e.exit_code, 0);
        let e = run("[u]\ndriver = dummy-ups\nport = a\nbogus\n", "-a u").unwrap_err();
        assert_eq!(
            e.lines[1],
            "Fatal error: 'bogus' is not a valid flag for this driver."
        );
        let e = run("[u]\ndriver = usbhid-ups\nport = a\n", "-a u").unwrap_err();
        assert_eq!(
            e.lines,
            ["Error: UPS [u] is for driver usbhid-ups, but I'm dummy-ups!"]
        );
        let e = run("[u]\ndriver = dummy-ups\nport = a\n", "-a nosuch").unwrap_err();
        assert_eq!(e.lines, ["Error: Section nosuch not found in ups.conf"]);
        let e = run("", "-s x").unwrap_err();
        assert_eq!(
            e.lines[0],
            "Error: you must specify a port name in ups.conf or in '-x port=...' argument."
        );
        let e = run("", "-s x -x port").unwrap_err();
        assert_eq!(
            e.lines[1],
            "Fatal error: 'port' is not a valid flag for this driver."
        );
    }
}
