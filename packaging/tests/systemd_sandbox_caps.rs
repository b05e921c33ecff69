//! upsd and a driver started as root inside their units' capability bounding sets and
//! `NoNewPrivileges=` (applied with setpriv(1), as systemd would apply them; there is no
//! service manager here) still start, drop to the nut user, serve data, and take
//! `ExecReload=`'s `-c reload` from root. This is what the bounding sets in
//! packaging/systemd must never take away (docs/systemd.md, "Sandboxing").
//!
//! One test in its own binary (its own `[[test]]` in Cargo.toml, outside tests/tests.rs): it
//! points the harness at wrapper scripts through `NUT_RS_BIN_DIR`, a process-wide setting.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use nut_harness::{Impl, StackBuilder, bin};

mod units;

fn unit_setting(unit: &str, key: &str) -> Option<String> {
    units::setting(&units::unit_text(unit), key)
}

/// setpriv's options for the unit's CapabilityBoundingSet= and NoNewPrivileges=.
fn setpriv_args(unit: &str) -> Vec<String> {
    let caps = unit_setting(unit, "CapabilityBoundingSet")
        .unwrap_or_else(|| panic!("{unit} has no CapabilityBoundingSet="));
    let mut bounding = String::from("-all");
    for cap in caps.split_whitespace() {
        let name = cap
            .strip_prefix("CAP_")
            .unwrap_or_else(|| panic!("{unit}: {cap}"));
        bounding.push_str(",+");
        bounding.push_str(&name.to_ascii_lowercase());
    }
    let mut args = vec![format!("--bounding-set={bounding}")];
    if unit_setting(unit, "NoNewPrivileges").as_deref() == Some("yes") {
        args.push("--no-new-privs".to_owned());
    }
    args
}

/// A script named `name` in `dir` that runs our `name` under setpriv with `args`.
fn wrapper(dir: &Path, name: &str, args: &[String]) {
    let real = bin(Impl::Ours, name);
    let script = format!(
        "#!/bin/sh\nexec setpriv {} {} \"$@\"\n",
        args.join(" "),
        real.display()
    );
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `Uid:`, `CapBnd:` and `NoNewPrivs:` of a process.
fn status_of(pid: u32) -> (u32, u64, bool) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
            .to_owned()
    };
    let uid = field("Uid:")
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let bnd = u64::from_str_radix(&field("CapBnd:"), 16).unwrap();
    (uid, bnd, field("NoNewPrivs:") == "1")
}

#[test]
fn upsd_and_driver_work_inside_their_units_bounds() {
    assert_eq!(
        status_of(std::process::id()).0,
        0,
        "this test starts the daemons as root, as systemd does"
    );
    let id = Command::new("id").args(["-u", "nut"]).output().unwrap();
    assert!(
        id.status.success(),
        "the nut account (the daemons drop to it)"
    );
    let nut_uid: u32 = String::from_utf8_lossy(&id.stdout).trim().parse().unwrap();
    let wrappers = tempfile::tempdir().unwrap();
    let upsd_args = setpriv_args("nut-server.service");
    let driver_args = setpriv_args("nut-driver@.service");
    wrapper(wrappers.path(), "upsd", &upsd_args);
    wrapper(wrappers.path(), "dummy-ups", &driver_args);
    // The companion a repeater run is handed to, next to dummy-ups.
    std::os::unix::fs::symlink(
        bin(Impl::Ours, "dummy-ups-repeater"),
        wrappers.path().join("dummy-ups-repeater"),
    )
    .unwrap();
    // SAFETY: the only test of this binary; nothing else reads the environment meanwhile.
    unsafe { std::env::set_var("NUT_RS_BIN_DIR", wrappers.path()) };

    let stack = StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Ours)
        .dummy("a", "a.dev", "ups.status: OL\nbattery.charge: 90\n")
        .start();
    let mut conn = stack.conn();
    assert_eq!(
        conn.request("GET VAR a battery.charge"),
        ["VAR a battery.charge \"90\""]
    );
    let upsd = stack.upsd_daemon().unwrap().pid();
    let driver = stack.driver_daemon("a").unwrap().pid();
    for (what, pid) in [("upsd", upsd), ("dummy-ups", driver)] {
        let (uid, bounding, no_new_privs) = status_of(pid);
        assert_eq!(uid, nut_uid, "{what} runs as nut");
        assert!(no_new_privs, "{what} runs with no_new_privs");
        assert_ne!(bounding, u64::MAX >> 23, "{what}: the bounding set applies");
    }
    // ExecReload: root, inside the same bounds, signals the nut-owned daemons.
    let reload = |name: &str, args: &[&str]| {
        let out = Command::new(wrappers.path().join(name))
            .args(args)
            .envs(stack.env_vars())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    reload("upsd", &["-c", "reload", "-P", &upsd.to_string()]);
    stack
        .upsd_daemon()
        .unwrap()
        .wait_output("SIGHUP: reloading", nut_harness::STARTUP_TIMEOUT);
    reload(
        "dummy-ups",
        &["-a", "a", "-c", "reload", "-P", &driver.to_string()],
    );
    assert_eq!(
        conn.request("GET VAR a battery.charge"),
        ["VAR a battery.charge \"90\""]
    );
}
