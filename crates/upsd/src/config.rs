//! Reading upsd's configuration files: upsd.conf at start-up, and the reloadable part
//! (ups.conf, upsd.users, cmdvartab) at start-up and on every reload.
//!
//! Nothing here logs: what a file has to say (warnings, diagnostics) is collected in a
//! [`Notes`] list that the caller logs, because at start-up the logger can only be set up
//! once upsd.conf has been read (its `DEBUG_MIN` sets the level).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use nut_core::conf::{
    CmdVarTab, ConfResult, UpsdConf, UpsdUsers, parse_bool, parse_cmdvartab, parse_upsd_conf,
    parse_upsd_users,
};
use nut_daemon::paths;

use crate::server::{Level, LogLine, Settings};
use crate::ups::UpsDef;

/// Messages about the files read, in order, for the caller to log.
pub type Notes = Vec<LogLine>;

fn info(text: String) -> LogLine {
    LogLine {
        level: Level::Info,
        text,
    }
}

/// Where upsd finds things.
#[derive(Clone, Debug)]
pub struct Paths {
    /// `NUT_CONFPATH`.
    pub confpath: PathBuf,
    /// Driver sockets: `NUT_STATEPATH`, else upsd.conf's STATEPATH, else the default.
    pub statepath: PathBuf,
    /// The PID file.
    pub pid_file: PathBuf,
}

impl Paths {
    /// From the environment, before upsd.conf is read.
    pub fn from_env() -> Paths {
        Paths {
            confpath: paths::confpath(),
            statepath: paths::statepath(),
            pid_file: paths::altpidpath().join("upsd.pid"),
        }
    }

    /// Apply upsd.conf's STATEPATH, which the environment overrides.
    pub fn with_conf(mut self, conf: &UpsdConf) -> Paths {
        let env_set = std::env::var_os("NUT_STATEPATH").is_some_and(|v| !v.is_empty());
        if let Some(dir) = conf.statepath.as_ref().filter(|_| !env_set) {
            self.statepath = PathBuf::from(dir);
        }
        self
    }
}

/// The reloadable part of the configuration.
pub struct Reloadable {
    /// ups.conf's sections.
    pub defs: Vec<UpsDef>,
    /// upsd.users.
    pub users: UpsdUsers,
    /// cmdvartab's descriptions.
    pub descriptions: CmdVarTab,
}

/// upsd.conf, with ALLOW_NO_DEVICE / ALLOW_NOT_ALL_LISTENERS from the environment winning.
pub fn read_upsd_conf(paths: &Paths, notes: &mut Notes) -> Result<UpsdConf> {
    let path = paths.confpath.join("upsd.conf");
    let text = std::fs::read(&path).with_context(|| format!("Can't open {}", path.display()))?;
    note_world_readable(&path, notes);
    let mut conf = checked(parse_upsd_conf(&text, &path.display().to_string()), notes)?;
    if let Some(v) = env_allow("ALLOW_NO_DEVICE") {
        conf.allow_no_device = v;
    }
    if let Some(v) = env_allow("ALLOW_NOT_ALL_LISTENERS") {
        conf.allow_not_all_listeners = v;
    }
    Ok(conf)
}

/// ups.conf, upsd.users and cmdvartab.
pub fn load_reloadable(paths: &Paths, conf: &UpsdConf, notes: &mut Notes) -> Result<Reloadable> {
    let ups_conf_path = paths.confpath.join("ups.conf");
    let text = std::fs::read(&ups_conf_path)
        .with_context(|| format!("Can't open {}", ups_conf_path.display()))?;
    let parsed = nut_core::conf::parse_ups_conf(&text, "ups.conf")
        .map_err(|e| anyhow!("in parseconf(ups.conf): {e}"))?;
    // ups.conf belongs to the drivers, which report its problems; upsd only mentions them
    // when debugging.
    let (ups_conf, warnings) = parsed.into_parts();
    notes.extend(warnings.iter().map(|w| LogLine {
        level: Level::Debug(1),
        text: w.to_string(),
    }));
    let defs = ups_conf
        .sections
        .iter()
        .map(|s| UpsDef {
            name: s.name.clone(),
            driver: s.driver.clone(),
            desc: s.desc.clone(),
        })
        .collect();

    let users_path = paths.confpath.join("upsd.users");
    let users = match std::fs::read(&users_path) {
        Ok(text) => {
            note_world_readable(&users_path, notes);
            checked(
                parse_upsd_users(&text, &users_path.display().to_string()),
                notes,
            )?
        }
        Err(e) => {
            notes.push(info(format!(
                "Can't open {}: {}",
                users_path.display(),
                nut_daemon::log::strerror(&e)
            )));
            UpsdUsers::default()
        }
    };

    let datapath = conf
        .datapath
        .as_ref()
        .map_or_else(paths::datapath, PathBuf::from);
    let cmdvartab = datapath.join("cmdvartab");
    let descriptions = match std::fs::read(&cmdvartab) {
        // Descriptions are optional: a broken table only loses them.
        Ok(text) => checked(
            parse_cmdvartab(&text, &cmdvartab.display().to_string()),
            notes,
        )
        .unwrap_or_else(|e| {
            notes.push(info(format!("{e:#} - disabling descriptions")));
            CmdVarTab::default()
        }),
        Err(_) => {
            notes.push(info(format!(
                "{} not found - disabling descriptions",
                cmdvartab.display()
            )));
            CmdVarTab::default()
        }
    };
    Ok(Reloadable {
        defs,
        users,
        descriptions,
    })
}

/// Overrides the 60-second idle limit, in whole seconds: for tests that check the limit is
/// applied without waiting a minute. Not a setting of upsd 2.8.0; unset in production.
pub const IDLE_TIMEOUT_ENV: &str = "NUT_RS_UPSD_IDLE_TIMEOUT";

/// How the process runs, beyond upsd.conf: MAXCONN's default (from the descriptor limit)
/// and the idle limit ([`IDLE_TIMEOUT_ENV`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// MAXCONN when upsd.conf does not set it.
    pub default_maxconn: usize,
    /// The idle limit.
    pub idle_timeout: Duration,
}

impl Limits {
    /// `default_maxconn` and the idle limit from the environment (60 s unless overridden by
    /// a positive whole number of seconds).
    pub fn new(default_maxconn: usize) -> Limits {
        let idle_timeout = std::env::var(IDLE_TIMEOUT_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|&secs| secs > 0)
            .map_or(crate::server::IDLE_TIMEOUT, Duration::from_secs);
        Limits {
            default_maxconn,
            idle_timeout,
        }
    }
}

/// The server settings upsd.conf gives.
pub fn settings(conf: &UpsdConf, tls_available: bool, limits: Limits) -> Settings {
    Settings {
        maxage: Duration::from_secs(u64::from(conf.maxage)),
        tracking_delay: Duration::from_secs(u64::from(conf.trackingdelay)),
        tls_available,
        force_tls: conf.force_ssl,
        maxconn: conf.maxconn.map_or(limits.default_maxconn, |m| {
            usize::try_from(m).unwrap_or(usize::MAX)
        }),
        idle_timeout: limits.idle_timeout,
    }
}

/// A parser's warnings become notes; with errors, every diagnostic does, and the error
/// names the file.
fn checked<T>(result: ConfResult<T>, notes: &mut Notes) -> Result<T> {
    match result {
        Ok(parsed) => {
            let (config, warnings) = parsed.into_parts();
            notes.extend(warnings.iter().map(|w| info(w.to_string())));
            Ok(config)
        }
        Err(e) => {
            notes.extend(e.diagnostics().into_iter().map(|d| info(d.to_string())));
            let file = e.errors.first().map(|d| d.file.clone()).unwrap_or_default();
            bail!(
                "{file}: {} configuration error(s), see above",
                e.errors.len()
            )
        }
    }
}

/// An ALLOW_* environment variable, read with [`allow_value`].
fn env_allow(name: &str) -> Option<bool> {
    allow_value(&std::env::var(name).ok()?)
}

/// An ALLOW_* value: NUT's boolean words ([`parse_bool`]: `true|on|yes|1`, `false|off|no|0`,
/// any case), or else a number read like C's `atoi` (its leading digits; non-zero is true).
fn allow_value(value: &str) -> Option<bool> {
    parse_bool(value).or_else(|| {
        value.starts_with(|c: char| c.is_ascii_digit()).then(|| {
            value
                .chars()
                .take_while(char::is_ascii_digit)
                .any(|c| c != '0')
        })
    })
}

fn note_world_readable(path: &Path, notes: &mut Notes) {
    if paths::is_world_readable(path) {
        notes.push(info(format!(
            "WARNING: {} is world readable (hope you don't have passwords there)",
            path.display()
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::allow_value;

    #[test]
    fn allow_values_take_the_boolean_words_and_numbers() {
        for (value, want) in [
            ("yes", true),
            ("ON", true),
            ("True", true),
            ("1", true),
            ("2", true),
            ("10", true),
            ("1x", true),
            ("no", false),
            ("OFF", false),
            ("false", false),
            ("0", false),
            ("00", false),
        ] {
            assert_eq!(allow_value(value), Some(want), "{value:?}");
        }
        for value in ["", "maybe", "enabled", " yes", "-1"] {
            assert_eq!(allow_value(value), None, "{value:?}");
        }
    }
}
