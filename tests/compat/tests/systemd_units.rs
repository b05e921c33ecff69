//! issue 7 (docs/issues.md), acceptance (a) and the rules every nut-rs unit follows: `systemd-analyze verify`
//! is clean on every unit (with the workspace's programs standing in for the installed ones),
//! the NUT unit names are kept, the services are `Type=notify` with the runtime directory
//! handled the same way everywhere, tmpfiles creates /run/nut as 0770 root:nut, nut.conf's
//! MODE gates each service, and the generator names instances exactly as systemd escapes them.

use crate::systemd_support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nut_harness::{Impl, bin, workspace_root};
use systemd_support::service::{INSTALLED_BIN_DIR, Root, Service, nut_group, run_once};
use systemd_support::unit::{Unit, expand_env, split_command, unit_dir};

/// NUT's unit names, kept so that drop-ins and habits carry over.
const UNITS: &[&str] = &[
    "nut-driver.target",
    "nut-driver@.service",
    "nut-logger.service",
    "nut-monitor.service",
    "nut-server.service",
    "nut-sleep.service",
    "nut-web.service",
    "nut.target",
];
const SERVICES: &[&str] = &[
    "nut-driver@.service",
    "nut-logger.service",
    "nut-monitor.service",
    "nut-server.service",
];

/// A system tool the tests need; panics with the fix when missing.
fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        let path = Path::new(dir).join(name);
        if path.exists() {
            return path;
        }
    }
    panic!("{name} is missing: install the `systemd` package (bash .ci/run does)")
}

/// Replace every `/usr/lib/nut-rs/bin/<program>` by the workspace's build of it.
fn with_built_programs(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find(INSTALLED_BIN_DIR) {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + INSTALLED_BIN_DIR.len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(after.len());
        out.push_str(&bin(Impl::Ours, &after[..end]).display().to_string());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_unit_set_keeps_nut_names() {
    let mut found: Vec<String> = std::fs::read_dir(unit_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(found, UNITS);
    assert_eq!(
        Unit::load("nut-server.service")
            .get("Install", "Alias")
            .as_deref(),
        Some("upsd.service")
    );
    assert_eq!(
        Unit::load("nut-monitor.service").all("Install", "Alias"),
        ["upsmon.service", "nut-client.service"]
    );
    // deb-systemd-helper reads one name per Alias= line; a list would leave links behind.
    for name in UNITS {
        for alias in Unit::load(name).all("Install", "Alias") {
            assert!(
                !alias.contains(' '),
                "{name}: one name per Alias= line: {alias:?}"
            );
        }
    }
}

#[test]
fn systemd_analyze_verify_passes_on_every_unit() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for name in UNITS {
        let text = std::fs::read_to_string(unit_dir().join(name)).unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, with_built_programs(&text)).unwrap();
        files.push(path);
    }
    // A driver instance as the generator makes it: instance link plus drop-in.
    let instance = dir.path().join("nut-driver@ups\\x2d1.service");
    std::os::unix::fs::symlink("nut-driver@.service", &instance).unwrap();
    let drop_ins = dir.path().join("nut-driver@ups\\x2d1.service.d");
    std::fs::create_dir(&drop_ins).unwrap();
    let plan = "[ups-1]\n\tdriver = dummy-ups\n\tport = x.dev\n";
    let root = Root::new();
    root.write_conf("ups.conf", plan);
    let generated = dir.path().join("generated");
    let mut cmd = Command::new(bin(Impl::Ours, "nut-systemd"));
    cmd.arg("generate")
        .arg(&generated)
        .env("NUT_CONFPATH", root.etc());
    let (status, output) = run_once("generator", cmd);
    assert!(status.success(), "{output}");
    std::fs::copy(
        generated.join("nut-driver@ups\\x2d1.service.d/50-nut-driver.conf"),
        drop_ins.join("50-nut-driver.conf"),
    )
    .unwrap();
    files.push(instance);

    let mut verify = Command::new(tool("systemd-analyze"));
    verify.args(["verify", "--man=no"]).args(&files);
    let (status, output) = run_once("systemd-analyze", verify);
    assert!(
        status.success() && output.trim().is_empty(),
        "systemd-analyze verify ({status}) must be silent:\n{output}"
    );
}

#[test]
fn services_are_notify_units_sharing_run_nut() {
    for name in SERVICES {
        let unit = Unit::load(name);
        let s = |key: &str| unit.get("Service", key);
        assert_eq!(s("Type").as_deref(), Some("notify"), "{name}");
        // Every daemon notifies from the process systemd started (upsmon's root parent
        // relays its child's state), so nothing else may speak for the unit.
        assert_eq!(s("NotifyAccess").as_deref(), Some("main"), "{name}");
        assert_eq!(s("PIDFile"), None, "{name}: systemd knows the main PID");
        assert_eq!(s("RuntimeDirectory").as_deref(), Some("nut"), "{name}");
        assert_eq!(s("RuntimeDirectoryMode").as_deref(), Some("0770"), "{name}");
        assert_eq!(
            s("RuntimeDirectoryPreserve").as_deref(),
            Some("yes"),
            "{name}: stopping one unit must not delete the others' sockets"
        );
        assert_eq!(
            s("Group").as_deref(),
            Some("nut"),
            "{name}: /run/nut is root:nut"
        );
        let condition = s("ExecCondition").expect("ExecCondition");
        assert!(
            condition.starts_with("/usr/lib/nut-rs/bin/nut-systemd mode-allows "),
            "{name}: {condition}"
        );
        assert!(
            unit.all("Service", "EnvironmentFile")
                .contains(&"-/etc/nut/nut.conf".to_owned()),
            "{name}: nut.conf's variables reach the daemon, as with NUT's units"
        );
        let start = split_command(&s("ExecStart").unwrap()).words.join(" ");
        let reload = split_command(&s("ExecReload").unwrap()).words.join(" ");
        match *name {
            "nut-server.service" => {
                assert_eq!(start, "/usr/lib/nut-rs/bin/upsd -FF");
                assert_eq!(reload, "/usr/lib/nut-rs/bin/upsd -c reload -P $MAINPID");
            }
            "nut-monitor.service" => {
                assert_eq!(start, "/usr/lib/nut-rs/bin/upsmon -F");
                assert_eq!(reload, "/usr/lib/nut-rs/bin/upsmon -c reload -P $MAINPID");
            }
            "nut-driver@.service" => {
                assert!(
                    start.contains("-FF -a \"$1\"' nut-driver %I")
                        || start.contains("-FF -a \"$1\" nut-driver %I"),
                    "{start}"
                );
                assert!(
                    reload.contains("-c reload -P \"$2\"") && reload.ends_with("%I $MAINPID"),
                    "{reload}"
                );
            }
            "nut-logger.service" => {
                assert_eq!(start, "/usr/lib/nut-rs/bin/upslog -F $UPSLOG_ARGS");
                assert_eq!(reload, "/bin/kill -HUP $MAINPID");
            }
            other => panic!("unexpected {other}"),
        }
    }
}

#[test]
fn tmpfiles_creates_run_nut_0770_root_nut() {
    let conf = workspace_root().join("packaging/tmpfiles.d/nut-rs.conf");
    let root = tempfile::tempdir().unwrap();
    // systemd-tmpfiles resolves names in the root's own user database.
    std::fs::create_dir(root.path().join("etc")).unwrap();
    for db in ["passwd", "group"] {
        std::fs::copy(Path::new("/etc").join(db), root.path().join("etc").join(db)).unwrap();
    }
    let mut cmd = Command::new(tool("systemd-tmpfiles"));
    cmd.arg("--create")
        .arg("--root")
        .arg(root.path())
        .arg(&conf);
    let (status, output) = run_once("systemd-tmpfiles", cmd);
    assert!(status.success() && output.is_empty(), "{status}: {output}");
    let meta = std::fs::metadata(root.path().join("run/nut")).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o770);
    if let Some(gid) = nut_group() {
        assert_eq!((meta.uid(), meta.gid()), (0, gid.as_raw()));
    }
}

#[test]
fn exec_condition_follows_nut_conf_mode() {
    let cases = [
        ("standalone", [true, true, true, true]),
        ("netserver", [true, true, true, true]),
        ("netclient", [false, false, true, true]),
        ("none", [false, false, false, false]),
    ];
    // In SERVICES order: driver, logger, monitor, server.
    let order = [
        "nut-driver@.service",
        "nut-server.service",
        "nut-monitor.service",
        "nut-logger.service",
    ];
    for (mode, expected) in cases {
        let root = Root::new();
        root.write_conf("nut.conf", &format!("# test\nMODE={mode}\n"));
        // nut-logger.service needs its own EnvironmentFile (ConditionPathExists=).
        root.write_conf("upslog.conf", "UPSLOG_ARGS=\"-s ups@localhost\"\n");
        for (unit, runs) in order.iter().zip(expected) {
            let service = Service::new(Unit::load(unit), &root);
            let (status, output) = service.condition();
            let want = if runs { Some(0) } else { Some(1) };
            assert_eq!(status.code(), want, "{unit} with MODE={mode}: {output}");
        }
    }
    // No nut.conf at all: nothing starts (Debian's packages ship MODE=none for the same
    // reason), and the reason is one line in the journal.
    let root = Root::new();
    let (status, output) = Service::new(Unit::load("nut-server.service"), &root).condition();
    assert_eq!(status.code(), Some(1));
    assert_eq!(output.lines().count(), 1, "{output}");
    // A MODE that means nothing fails the unit instead of silently skipping it.
    root.write_conf("nut.conf", "MODE=standalon\n");
    let (status, output) = Service::new(Unit::load("nut-server.service"), &root).condition();
    assert_eq!(status.code(), Some(255), "{output}");
    assert!(output.contains("standalon"), "{output}");
}

#[test]
fn generator_names_instances_like_systemd_escape() {
    let sections = ["ups-1", "rack.2", "x+y", "ups@2", "a:b_c", ".dot"];
    let root = Root::new();
    let mut text = String::from("driverpath = /opt/drivers\n");
    for (i, s) in sections.iter().enumerate() {
        text.push_str(&format!("[{s}]\n\tdriver = dummy-ups\n\tport = {i}.dev\n"));
    }
    root.write_conf("ups.conf", &text);
    // Invoked the way systemd invokes it: by its generator name, with three directories.
    let dirs = tempfile::tempdir().unwrap();
    let generator = dirs.path().join("nut-driver-generator");
    std::os::unix::fs::symlink(bin(Impl::Ours, "nut-systemd"), &generator).unwrap();
    let [normal, early, late] = ["normal", "early", "late"].map(|d| dirs.path().join(d));
    let mut cmd = Command::new(&generator);
    cmd.arg(&normal)
        .arg(&early)
        .arg(&late)
        .env("NUT_CONFPATH", root.etc());
    let (status, output) = run_once("nut-driver-generator", cmd);
    assert!(status.success() && output.is_empty(), "{status}: {output}");

    let mut links: Vec<String> = std::fs::read_dir(normal.join("nut-driver.target.wants"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    links.sort();
    let mut escape = Command::new(tool("systemd-escape"));
    escape.arg("--template=nut-driver@.service").args(sections);
    let (status, escaped) = run_once("systemd-escape", escape);
    assert!(status.success(), "{escaped}");
    let mut expected: Vec<String> = escaped.split_whitespace().map(str::to_owned).collect();
    expected.sort();
    assert_eq!(links, expected);
    for link in &links {
        assert_eq!(
            std::fs::read_link(normal.join("nut-driver.target.wants").join(link)).unwrap(),
            Path::new("/usr/lib/systemd/system/nut-driver@.service")
        );
        let drop_in =
            std::fs::read_to_string(normal.join(format!("{link}.d/50-nut-driver.conf"))).unwrap();
        assert!(
            drop_in.contains("Environment=\"NUT_DRIVER_PATH=/opt/drivers/dummy-ups\""),
            "{drop_in}"
        );
    }
    assert!(!early.exists() && !late.exists());

    // `nut-systemd list` tells an administrator the same.
    let mut list = Command::new(bin(Impl::Ours, "nut-systemd"));
    list.arg("list").env("NUT_CONFPATH", root.etc());
    let (status, output) = run_once("nut-systemd list", list);
    assert!(status.success(), "{output}");
    assert_eq!(output.lines().count(), sections.len(), "{output}");
    assert!(output.contains("nut-driver@ups\\x2d1.service\tups-1\t/opt/drivers/dummy-ups"));
}

#[test]
fn generator_generates_nothing_for_a_broken_ups_conf() {
    let root = Root::new();
    root.write_conf(
        "ups.conf",
        "[a]\n\tdriver = dummy-ups\n\tport = a.dev\n[a]\n\tdriver = x\n\tport = y\n",
    );
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(bin(Impl::Ours, "nut-systemd"));
    cmd.arg("generate")
        .arg(out.path().join("gen"))
        .env("NUT_CONFPATH", root.etc());
    let (status, output) = run_once("generator", cmd);
    assert_eq!(status.code(), Some(1), "{output}");
    assert!(output.contains("ups.conf"), "{output}");
    assert!(!out.path().join("gen").exists());
}

#[test]
fn command_lines_split_and_expand_like_systemd() {
    let line =
        split_command(r#"-/bin/sh -c 'exec "$${P:?unset}" -a "$1"' nut-driver %I $MAINPID ${X}y"#);
    assert!(line.ignore_failure);
    assert_eq!(line.words[0], "/bin/sh");
    assert_eq!(line.words[2], r#"exec "$${P:?unset}" -a "$1""#);
    let env = vec![
        ("MAINPID".to_owned(), "42".to_owned()),
        ("X".to_owned(), "x".to_owned()),
    ];
    let words = expand_env(&line.words, &env);
    assert_eq!(words[2], r#"exec "${P:?unset}" -a "$1""#);
    assert_eq!(&words[3..], ["nut-driver", "%I", "42", "xy"]);
    let args = expand_env(
        &["$ARGS".to_owned()],
        &[("ARGS".into(), "-s a  -i 1".into())],
    );
    assert_eq!(args, ["-s", "a", "-i", "1"]);
    let unit = Unit::load_instance("nut-driver@.service", "ups\\x2d1", "ups-1");
    assert_eq!(
        unit.specifiers("%i %I %N %p %%"),
        "ups\\x2d1 ups-1 nut-driver@ups\\x2d1 nut-driver %"
    );
}
