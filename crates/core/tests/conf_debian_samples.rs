//! Debian's NUT 2.8.0 sample configs and cmdvartab, read from where the packages install
//! them, must parse with no error and no warning. The files are GPL text and stay out of the
//! repository; a missing one fails the test and says which packages to install.

#![allow(
    clippy::disallowed_methods,
    reason = "reading fixture files is what these tests are for; nut-core itself reads none"
)]

use std::path::Path;

use nut_core::conf::{self, ConfResult};

const INSTALL_HINT: &str = "install Debian's NUT: apt-get install nut-server nut-client \
                            (the CI runs .ci/peers.sh, which does this)";

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}; {INSTALL_HINT}"))
}

fn assert_clean<T: std::fmt::Debug>(path: &str, result: ConfResult<T>) -> T {
    match result {
        Ok(parsed) => {
            let warnings: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
            assert!(
                warnings.is_empty(),
                "{path} gave warnings:\n{}",
                warnings.join("\n")
            );
            parsed.config
        }
        Err(e) => panic!("{path} failed to parse:\n{e}\nwarnings: {:#?}", e.warnings),
    }
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn ups_conf() {
    let path = "/etc/nut/ups.conf";
    let c = assert_clean(path, conf::parse_ups_conf(read(path), path));
    // Debian's sample sets only the global maxretry.
    assert_eq!(c.global.maxretry, Some(3));
    assert!(c.sections.is_empty());
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn upsd_conf() {
    let path = "/etc/nut/upsd.conf";
    let c = assert_clean(path, conf::parse_upsd_conf(read(path), path));
    assert_eq!(c.maxage, conf::upsd_conf::DEFAULT_MAXAGE);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn upsd_users() {
    let path = "/etc/nut/upsd.users";
    let c = assert_clean(path, conf::parse_upsd_users(read(path), path));
    assert!(c.users.is_empty(), "every example user is commented out");
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn upsmon_conf() {
    let path = "/etc/nut/upsmon.conf";
    let c = assert_clean(path, conf::parse_upsmon_conf(read(path), path));
    assert!(c.monitors.is_empty());
    assert_eq!(c.shutdowncmd, Some(vec!["/sbin/shutdown -h +0".to_owned()]));
    assert_eq!(c.powerdownflag.as_deref(), Some("/etc/killpower"));
    assert_eq!(c.rbwarntime, 43200);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn upssched_conf() {
    let path = "/etc/nut/upssched.conf";
    let c = assert_clean(path, conf::parse_upssched_conf(read(path), path));
    assert_eq!(c.cmdscript, Some(vec!["/bin/upssched-cmd".to_owned()]));
    assert!(c.rules.is_empty());
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nut_conf() {
    let path = "/etc/nut/nut.conf";
    let c = assert_clean(path, conf::parse_nut_conf(read(path), path));
    // The package ships MODE=none; an administrator may have changed it since.
    assert!(c.mode.is_some(), "Debian's sample sets MODE");
}

#[test]
fn hosts_conf_if_installed() {
    // hosts.conf comes with nut-cgi, which the tests do not require.
    let path = "/etc/nut/hosts.conf";
    if Path::new(path).exists() {
        assert_clean(path, conf::parse_hosts_conf(read(path), path));
    }
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn cmdvartab() {
    let path = "/usr/share/nut/cmdvartab";
    let text = read(path);
    let t = assert_clean(path, conf::parse_cmdvartab(&text, path));
    assert_eq!(t.var_desc("ups.status"), Some("UPS status"));
    assert_eq!(
        t.var_desc("BATTERY.CHARGE"),
        Some("Battery charge (percent of full)")
    );
    assert_eq!(
        t.cmd_desc("load.off"),
        Some("Turn off the load immediately")
    );
    assert_eq!(
        t.cmd_desc("test.battery.start"),
        Some("Start a battery test")
    );
    assert_eq!(t.var_desc("no.such.variable"), None);
    // Nothing lost: one entry per line of each kind (Debian 2.8.0 has 167 and 36).
    let count = |prefix: &str| {
        String::from_utf8_lossy(&text)
            .lines()
            .filter(|l| l.starts_with(prefix))
            .count()
    };
    assert_eq!(t.var_count(), count("VARDESC "));
    assert_eq!(t.cmd_count(), count("CMDDESC "));
    assert!(t.var_count() > 100 && t.cmd_count() > 20);
}
