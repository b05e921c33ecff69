//! The settings the decision logic needs: [`MonitorConfig`] (the global upsmon.conf
//! directives) and [`MonitorEntry`] (one `MONITOR` line).
//!
//! Reading upsmon.conf is not done here; the parser lives in `nut_core::conf`. Values that NUT
//! reads with `atoi` and that only make sense as non-negative numbers are `u64` here; the
//! conversion from the parsed file clamps negatives the way NUT's comparisons would treat them
//! (a negative `HOSTSYNC` behaves like 0). Settings where NUT gives a negative number a meaning
//! (`OFFDURATION`, `OVERDURATION`, `SHUTDOWNEXIT`) have their own types.

use std::collections::HashSet;

use nut_core::conf::{UpsmonConf, upsmon_conf};

/// The role a MONITOR line gives this host for a UPS (shared with the config parser).
pub use nut_core::conf::Role;

/// Global upsmon.conf settings used by [`crate::Monitor`]. Durations are whole seconds, as in
/// the file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MonitorConfig {
    /// `MINSUPPLIES`: the summed power value of healthy UPSes below which the system shuts
    /// down. 0 makes a monitoring-only instance that never shuts down.
    pub min_supplies: u32,
    /// `POLLFREQ`: seconds between polls while nothing is alarming.
    pub poll_freq: u64,
    /// `POLLFREQALERT`: seconds between polls while some UPS is on battery, off, on bypass,
    /// calibrating, overloaded or in alarm.
    pub poll_freq_alert: u64,
    /// `HOSTSYNC`: how long a primary waits for its secondaries to log out, and how long a
    /// secondary waits for the primary to raise FSD once a UPS is on battery and low.
    pub host_sync: u64,
    /// `DEADTIME`: how long a UPS may go unanswered while last seen on battery before it is
    /// treated as on battery and low.
    pub dead_time: u64,
    /// `FINALDELAY`: seconds between the SHUTDOWN notification and running SHUTDOWNCMD.
    pub final_delay: u64,
    /// `RBWARNTIME`: minimum seconds between two REPLBATT notifications for one UPS.
    pub rb_warn_time: u64,
    /// `NOCOMMWARNTIME`: how long a UPS must be unreachable before NOCOMM, and the minimum
    /// interval between two NOCOMM notifications.
    pub nocomm_warn_time: u64,
    /// `OFFDURATION`: how long `OFF` must persist before the UPS counts as not feeding the
    /// load. `Some(0)`: at once; `None` (a negative value in the file): never.
    pub off_duration: Option<u64>,
    /// `OBLBDURATION`: how long `OB LB` must persist before it is critical; 0 means at once.
    pub oblb_duration: u64,
    /// `OVERDURATION`: how long `OVER` must have lasted, with the UPS unreachable, before it
    /// is critical. `None` (a negative value in the file, the default): never.
    pub over_duration: Option<u64>,
    /// `ALARMCRITICAL`: whether a UPS last seen in `ALARM` is critical once unreachable.
    pub alarm_critical: bool,
    /// `SHUTDOWNEXIT`: what the monitor does after asking for SHUTDOWNCMD.
    pub shutdown_exit: ShutdownExit,
}

impl Default for MonitorConfig {
    /// NUT's built-in defaults (upsmon.conf(5)).
    fn default() -> Self {
        Self {
            // One healthy supply keeps a single-UPS system up.
            min_supplies: 1,
            poll_freq: 5,
            poll_freq_alert: 5,
            host_sync: 15,
            // Three default polling intervals.
            dead_time: 15,
            final_delay: 5,
            // Twelve hours.
            rb_warn_time: 43_200,
            // Five minutes.
            nocomm_warn_time: 300,
            // Some UPSes report OFF for a few seconds before CAL when a calibration starts.
            off_duration: Some(30),
            oblb_duration: 0,
            over_duration: None,
            alarm_critical: true,
            shutdown_exit: ShutdownExit::Exit,
        }
    }
}

/// `SHUTDOWNEXIT`: whether upsmon exits after it asked for SHUTDOWNCMD.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShutdownExit {
    /// `yes` (or 0, the default): exit at once.
    #[default]
    Exit,
    /// A positive number: keep the upsd sessions alive this many seconds, then exit.
    After(u64),
    /// `no` (or a negative number): never exit by itself.
    Never,
}

impl ShutdownExit {
    /// NUT's reading of the numeric form: 0 exits, a negative value never does.
    pub fn from_secs(secs: i64) -> Self {
        match u64::try_from(secs) {
            Ok(0) => Self::Exit,
            Ok(n) => Self::After(n),
            Err(_) => Self::Never,
        }
    }
}

/// One `MONITOR <system> <powervalue> <user> <password> <role>` line.
#[derive(Clone, PartialEq, Eq)]
pub struct MonitorEntry {
    /// The UPS as written: `ups[@host[:port]]`. Notifications name the UPS this way, and
    /// upssched matches it against `AT` lines.
    pub system: String,
    /// How many of this host's power supplies the UPS feeds; 0 means monitor only.
    pub power_value: u32,
    /// upsd user name.
    pub username: String,
    /// upsd password.
    pub password: String,
    /// Primary or secondary.
    pub role: Role,
}

impl std::fmt::Debug for MonitorEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Passwords stay out of logs.
        f.debug_struct("MonitorEntry")
            .field("system", &self.system)
            .field("power_value", &self.power_value)
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("role", &self.role)
            .finish()
    }
}

impl MonitorEntry {
    /// A new entry.
    pub fn new(
        system: impl Into<String>,
        power_value: u32,
        username: impl Into<String>,
        password: impl Into<String>,
        role: Role,
    ) -> Self {
        Self {
            system: system.into(),
            power_value,
            username: username.into(),
            password: password.into(),
            role,
        }
    }

    /// Whether this host is the primary for the UPS.
    pub fn is_primary(&self) -> bool {
        self.role == Role::Primary
    }
}

impl From<&UpsmonConf> for MonitorConfig {
    /// The decision-relevant settings of a parsed upsmon.conf.
    fn from(conf: &UpsmonConf) -> Self {
        let non_negative = |v: i32| u64::try_from(v).ok();
        Self {
            min_supplies: conf.minsupplies,
            poll_freq: u64::from(conf.pollfreq),
            poll_freq_alert: u64::from(conf.pollfreqalert),
            host_sync: u64::from(conf.hostsync),
            dead_time: u64::from(conf.deadtime),
            final_delay: u64::from(conf.finaldelay),
            rb_warn_time: u64::from(conf.rbwarntime),
            nocomm_warn_time: u64::from(conf.nocommwarntime),
            off_duration: non_negative(conf.offduration),
            oblb_duration: u64::from(conf.oblbduration),
            over_duration: non_negative(conf.overduration),
            alarm_critical: conf.alarmcritical,
            shutdown_exit: match conf.shutdownexit {
                upsmon_conf::ShutdownExit::Exit => ShutdownExit::Exit,
                upsmon_conf::ShutdownExit::Never => ShutdownExit::Never,
                upsmon_conf::ShutdownExit::Linger(secs) => ShutdownExit::from_secs(i64::from(secs)),
            },
        }
    }
}

impl From<&upsmon_conf::Monitor> for MonitorEntry {
    fn from(m: &upsmon_conf::Monitor) -> Self {
        Self::new(
            m.system.clone(),
            m.power_value,
            m.user.clone(),
            m.password.clone(),
            m.role,
        )
    }
}

/// The MONITOR entries of a parsed upsmon.conf, in file order.
pub fn entries_from(conf: &UpsmonConf) -> Vec<MonitorEntry> {
    conf.monitors.iter().map(MonitorEntry::from).collect()
}

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The power values of all MONITOR lines add up to less than MINSUPPLIES (NUT: `Fatal
    /// error: insufficient power configured!`).
    #[error(
        "insufficient power configured: sum of power values {total} < MINSUPPLIES {min_supplies}"
    )]
    InsufficientPower {
        /// Sum of the power values.
        total: u64,
        /// MINSUPPLIES.
        min_supplies: u32,
    },
    /// A reload arrived while a decided shutdown is being carried out. NUT's upsmon does not
    /// go back to its main loop once it shuts down, so a SIGHUP then changes nothing; neither
    /// does ours: the shutdown finishes with the settings it was decided with.
    #[error("a shutdown is in progress; the configuration is not reloaded")]
    ShutdownInProgress,
}

/// Drop repeated systems (NUT warns `ignoring duplicate UPS` and keeps the first) and check
/// the power sum.
pub(crate) fn validate(
    config: &MonitorConfig,
    entries: Vec<MonitorEntry>,
) -> Result<Vec<MonitorEntry>, ConfigError> {
    let mut seen = HashSet::new();
    let mut kept = Vec::with_capacity(entries.len());
    for entry in entries {
        if seen.insert(entry.system.clone()) {
            kept.push(entry);
        } else {
            tracing::warn!(ups = %entry.system, "ignoring duplicate UPS");
        }
    }
    let total: u64 = kept.iter().map(|e| u64::from(e.power_value)).sum();
    if total < u64::from(config.min_supplies) {
        return Err(ConfigError::InsufficientPower {
            total,
            min_supplies: config.min_supplies,
        });
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_parsed_upsmon_conf() {
        let text = "MONITOR ups@h:3493 2 mon pw master\nMINSUPPLIES 2\nOFFDURATION -1\n\
                    OVERDURATION 20\nSHUTDOWNEXIT 10\nHOSTSYNC 7\nPOLLFREQALERT 2\n";
        let parsed = nut_core::conf::parse_upsmon_conf(text, "upsmon.conf").expect("parses");
        let conf = &parsed.config;
        let config = MonitorConfig::from(conf);
        assert_eq!(config.min_supplies, 2);
        assert_eq!(config.off_duration, None);
        assert_eq!(config.over_duration, Some(20));
        assert_eq!(config.shutdown_exit, ShutdownExit::After(10));
        assert_eq!(config.host_sync, 7);
        assert_eq!(config.poll_freq_alert, 2);
        assert_eq!(config.poll_freq, 5);
        assert_eq!(
            entries_from(conf),
            vec![MonitorEntry::new(
                "ups@h:3493",
                2,
                "mon",
                "pw",
                Role::Primary
            )]
        );
        assert_eq!(
            MonitorConfig::from(&UpsmonConf::default()),
            MonitorConfig::default(),
            "both sides agree on NUT's defaults"
        );
        assert!(!format!("{:?}", entries_from(conf)).contains("pw\""));
    }

    #[test]
    fn shutdown_exit_numbers() {
        assert_eq!(ShutdownExit::from_secs(0), ShutdownExit::Exit);
        assert_eq!(ShutdownExit::from_secs(-1), ShutdownExit::Never);
        assert_eq!(ShutdownExit::from_secs(30), ShutdownExit::After(30));
    }

    #[test]
    fn validation_drops_duplicates_and_checks_power() {
        let e = |name: &str, pv| MonitorEntry::new(name, pv, "u", "p", Role::Primary);
        let kept = validate(
            &MonitorConfig::default(),
            vec![e("a", 1), e("a", 5), e("b", 0)],
        )
        .expect("valid");
        assert_eq!(kept, vec![e("a", 1), e("b", 0)]);
        let config = MonitorConfig {
            min_supplies: 2,
            ..MonitorConfig::default()
        };
        assert_eq!(
            validate(&config, vec![e("a", 1)]),
            Err(ConfigError::InsufficientPower {
                total: 1,
                min_supplies: 2
            })
        );
    }
}
