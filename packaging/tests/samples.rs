//! The sample configuration the package installs is read by nut-core's parsers (the ones
//! every daemon uses) without a single warning, and names nothing that does not exist.

use std::path::PathBuf;

use nut_core::conf::{self, Diagnostic};

fn sample(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("conf")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn clean<T>(name: &str, parsed: Result<conf::Parsed<T>, conf::ConfError>) -> T {
    match parsed {
        Ok(p) => {
            let warnings: Vec<String> = p.warnings.iter().map(Diagnostic::to_string).collect();
            assert!(warnings.is_empty(), "{name}: {warnings:#?}");
            p.config
        }
        Err(e) => panic!("{name}: {e}"),
    }
}

#[test]
fn every_sample_parses_without_warnings() {
    let nut = clean(
        "nut.conf",
        conf::parse_nut_conf(sample("nut.conf"), "nut.conf"),
    );
    assert_eq!(
        nut.mode(),
        conf::Mode::None,
        "nothing starts before it is configured"
    );
    let ups = clean(
        "ups.conf",
        conf::parse_ups_conf(sample("ups.conf"), "ups.conf"),
    );
    assert!(ups.sections.is_empty());
    clean(
        "upsd.conf",
        conf::parse_upsd_conf(sample("upsd.conf"), "upsd.conf"),
    );
    clean(
        "upsd.users",
        conf::parse_upsd_users(sample("upsd.users"), "upsd.users"),
    );
    clean(
        "upsmon.conf",
        conf::parse_upsmon_conf(sample("upsmon.conf"), "upsmon.conf"),
    );
    clean(
        "upssched.conf",
        conf::parse_upssched_conf(sample("upssched.conf"), "upssched.conf"),
    );
    let hosts = clean(
        "hosts.conf",
        conf::parse_hosts_conf(sample("hosts.conf"), "hosts.conf"),
    );
    assert!(
        hosts.monitors.is_empty(),
        "nut-web shows nothing until configured"
    );
}

/// Uncomment the example lines: `#\t<setting>` and `# <directive> …` for the directives the
/// samples show as examples (the grammar lines use `#   ` and stay comments).
fn uncommented(name: &str) -> Vec<u8> {
    const EXAMPLES: &[&str] = &[
        "[",
        "MONITOR ",
        "LISTEN ",
        "MAXAGE ",
        "CERTFILE ",
        "NOTIFYCMD ",
        "NOTIFYFLAG ",
    ];
    String::from_utf8(sample(name))
        .unwrap()
        .lines()
        .map(|l| {
            if let Some(setting) = l.strip_prefix('#').filter(|r| r.starts_with('\t')) {
                return setting;
            }
            match l.strip_prefix("# ") {
                Some(rest) if EXAMPLES.iter().any(|e| rest.starts_with(e)) => rest,
                _ => l,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

#[test]
fn the_commented_examples_parse_too() {
    // Uncommenting the examples (what an administrator does first) gives valid files.
    let ups = clean(
        "ups.conf",
        conf::parse_ups_conf(uncommented("ups.conf"), "ups.conf"),
    );
    // The simulated UPS and the repeater with TLS required.
    assert_eq!(ups.sections.len(), 2);
    assert!(ups.sections.iter().all(|s| s.driver == "dummy-ups"));
    let upsd = clean(
        "upsd.conf",
        conf::parse_upsd_conf(uncommented("upsd.conf"), "upsd.conf"),
    );
    assert_eq!(upsd.listen.len(), 2);
    let users = clean(
        "upsd.users",
        conf::parse_upsd_users(uncommented("upsd.users"), "upsd.users"),
    );
    assert_eq!(users.users.len(), 1);
    let upsmon = clean(
        "upsmon.conf",
        conf::parse_upsmon_conf(uncommented("upsmon.conf"), "upsmon.conf"),
    );
    assert_eq!(upsmon.monitors.len(), 1);
    let hosts = clean(
        "hosts.conf",
        conf::parse_hosts_conf(uncommented("hosts.conf"), "hosts.conf"),
    );
    assert_eq!(hosts.monitors.len(), 1);
    assert_eq!(hosts.monitors[0].system, "simulated@localhost");
}

#[test]
fn the_upssched_sample_passes_the_check_postinst_runs() {
    // postinst runs `upssched -t` over /etc/nut/upssched.conf; the sample it installs passes.
    let conf = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conf");
    let out = std::process::Command::new(nut_harness::bin(nut_harness::Impl::Ours, "upssched"))
        .arg("-t")
        .env("NUT_CONFPATH", &conf)
        .output()
        .expect("run upssched -t");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
