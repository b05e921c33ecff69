//! What a configuration reload changes (SIGHUP, `-c reload`, `driver.reload*`), decided
//! purely from the old and the new configuration. As in NUT, `pollinterval`,
//! `synchronous`, `sdcommands`, `debug_min`, `allow_killpower` and `reconnect_*` apply at
//! once; anything else (port, user, group, chroot, `nolock`, `ignorelb`, overrides and
//! defaults, the driver's own options) needs a restart.

use crate::DriverConfig;

/// The outcome of comparing two configurations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReloadDiff {
    /// The settings that changed and were applied (ups.conf key names).
    pub applied: Vec<&'static str>,
    /// The settings that changed but need a restart (ups.conf key names).
    pub need_restart: Vec<&'static str>,
}

impl ReloadDiff {
    /// Compare `old` with `new`.
    pub fn between(old: &DriverConfig, new: &DriverConfig) -> Self {
        let mut applied = Vec::new();
        let mut need_restart = Vec::new();
        let mut check = |changed: bool, key: &'static str, reloadable: bool| {
            if changed {
                if reloadable {
                    applied.push(key);
                } else {
                    need_restart.push(key);
                }
            }
        };
        check(old.poll_interval != new.poll_interval, "pollinterval", true);
        check(old.synchronous != new.synchronous, "synchronous", true);
        check(old.sdcommands != new.sdcommands, "sdcommands", true);
        check(old.debug_min != new.debug_min, "debug_min", true);
        check(
            old.allow_killpower != new.allow_killpower,
            "allow_killpower",
            true,
        );
        check(old.reconnect != new.reconnect, "reconnect_max_tries", true);
        check(old.port != new.port, "port", false);
        check(old.user != new.user, "user", false);
        check(old.group != new.group, "group", false);
        check(old.chroot != new.chroot, "chroot", false);
        check(old.nolock != new.nolock, "nolock", false);
        check(old.ignorelb != new.ignorelb, "ignorelb", false);
        check(old.overrides != new.overrides, "override.*", false);
        check(old.defaults != new.defaults, "default.*", false);
        check(
            old.values != new.values || old.flags != new.flags,
            "driver options",
            false,
        );
        Self {
            applied,
            need_restart,
        }
    }

    /// Apply the reloadable settings of `new` to `cfg`.
    pub fn apply(&self, cfg: &mut DriverConfig, new: &DriverConfig) {
        cfg.poll_interval = new.poll_interval;
        cfg.synchronous = new.synchronous;
        cfg.sdcommands = new.sdcommands.clone();
        cfg.debug_min = new.debug_min;
        cfg.allow_killpower = new.allow_killpower;
        cfg.reconnect = new.reconnect;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cli;
    use crate::{DriverInfo, VarDecl};

    static INFO: DriverInfo = DriverInfo {
        name: "dummy-ups",
        description: "test",
        version: "0",
        vars: &[VarDecl::value("mode", "mode")],
    };

    fn cfg(section: &str) -> DriverConfig {
        let text = format!("pollinterval = 2\n[u]\ndriver = dummy-ups\n{section}");
        let conf = nut_core::conf::parse_ups_conf(text.as_bytes(), "ups.conf")
            .expect("parses")
            .config;
        let cli = cli::parse("dummy-ups", &["-a".into(), "u".into()]).expect("cli");
        crate::config::build(&INFO, &cli, Some(&conf)).expect("config")
    }

    #[test]
    fn reloadable_settings_apply_and_others_need_a_restart() {
        let old = cfg("port = a.dev\n");
        let new = cfg("port = a.dev\npollinterval = 7\nsdcommands = load.off\n");
        let d = ReloadDiff::between(&old, &new);
        assert_eq!(d.applied, vec!["pollinterval", "sdcommands"]);
        assert!(d.need_restart.is_empty());
        let mut cur = old.clone();
        d.apply(&mut cur, &new);
        assert_eq!(cur.poll_interval, Duration::from_secs(7));
        assert_eq!(cur.sdcommands.as_deref(), Some("load.off"));

        let new = cfg("port = b.dev\nmode = dummy-once\nnolock\n");
        let d = ReloadDiff::between(&old, &new);
        assert!(d.applied.is_empty());
        assert_eq!(d.need_restart, vec!["port", "nolock", "driver options"]);
        assert_eq!(ReloadDiff::between(&old, &old.clone()).applied.len(), 0);
    }
}
