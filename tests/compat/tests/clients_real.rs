//! Issue 4 (docs/issues.md) acceptance, part 1: NUT's own clients (Debian 2.8.0 upsc, upscmd, upsrw, upslog,
//! upsmon as primary and as secondary) and the Nagios plugin check_ups, each driven
//! against Debian's upsd and against ours on the fixture of docs/nut-behaviour.md §C3.2.
//!
//! Every expectation here was observed with Debian's upsd; the `ours` variant of each
//! test must see exactly the same. How each client is driven: docs/nut-behaviour.md §C3.2.

use crate::real_support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use nut_harness::{Daemon, Impl, Stack, bin, wait_until};
use real_support::*;

both_impls!(
    upsc,
    upscmd,
    upsrw,
    upslog,
    upsmon_primary,
    upsmon_secondary,
    check_ups
);

fn host(stack: &Stack) -> String {
    format!("127.0.0.1:{}", stack.port())
}

fn client(stack: &Stack, name: &str, args: &[&str]) -> Ran {
    let mut cmd = debian_client(stack, name);
    cmd.args(args);
    run(cmd, CLIENT_TIMEOUT)
}

// ---- upsc ------------------------------------------------------------------------------------

fn upsc(which: Impl) {
    let stack = stack(which);
    let host = host(&stack);
    let dummy = stack.ups_id("dummy");

    let r = client(&stack, "upsc", &["-l", &host]);
    r.assert_code(0, "upsc -l");
    assert_eq!(r.stdout, "dummy\nUPS1\n", "upsc -l");

    let r = client(&stack, "upsc", &["-L", &host]);
    r.assert_code(0, "upsc -L");
    assert_eq!(
        r.stdout,
        format!("dummy: {DUMMY_DESC}\nUPS1: {UPS1_DESC}\n"),
        "upsc -L"
    );

    let r = client(&stack, "upsc", &[&dummy]);
    r.assert_code(0, "upsc dummy@");
    let want: String = expected_vars(DUMMY_DEV, "dummy.dev")
        .iter()
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect();
    assert_eq!(r.stdout, want, "upsc dummy@ (LIST VAR)");

    let r = client(&stack, "upsc", &[&dummy, "ups.status"]);
    r.assert_code(0, "upsc dummy@ ups.status");
    assert_eq!(r.stdout, "OL CHRG\n");

    // Upper-case spelling of the UPS: upsd matches case-insensitively.
    let r = client(&stack, "upsc", &[&stack.ups_id("DUMMY"), "battery.charge"]);
    r.assert_code(0, "upsc DUMMY@ battery.charge");
    assert_eq!(r.stdout, "100\n");

    let r = client(&stack, "upsc", &[&stack.ups_id("UPS1"), "ups.id"]);
    r.assert_code(1, "upsc UPS1@ ups.id");
    assert!(
        r.stderr.contains("Error: Variable not supported by UPS"),
        "{r:#?}"
    );

    let r = client(&stack, "upsc", &[&stack.ups_id("bogus")]);
    r.assert_code(1, "upsc bogus@");
    assert!(r.stderr.contains("Error: Unknown UPS"), "{r:#?}");

    // -c lists the addresses of sessions LOGged IN to the UPS.
    let r = client(&stack, "upsc", &["-c", &dummy]);
    r.assert_code(0, "upsc -c (nobody logged in)");
    assert_eq!(r.stdout, "");
    let mut session = admin_conn(&stack);
    assert_eq!(session.request("LOGIN dummy"), ["OK"]);
    let r = client(&stack, "upsc", &["-c", &dummy]);
    r.assert_code(0, "upsc -c (one login)");
    assert_eq!(r.stdout, "127.0.0.1\n");
}

// ---- upscmd ----------------------------------------------------------------------------------

fn upscmd(which: Impl) {
    let stack = stack(which);
    let dummy = stack.ups_id("dummy");

    let r = client(&stack, "upscmd", &["-l", &dummy]);
    r.assert_code(0, "upscmd -l");
    assert_eq!(
        r.stdout,
        "Instant commands supported on UPS [dummy]:\n\nload.off - Turn off the load immediately\n"
    );

    let admin = ["-u", "admin", "-p", "adminpass"];
    let r = client(
        &stack,
        "upscmd",
        &[&admin[..], &[&dummy, "load.off"]].concat(),
    );
    r.assert_code(0, "upscmd load.off");
    assert_eq!(r.stderr.trim_end(), "OK", "{r:#?}");

    // -w: SET TRACKING ON, INSTCMD → OK TRACKING <id>, GET TRACKING <id> until the driver
    // answered. Debian's dummy-ups answers load.off with "unknown command", which upscmd
    // prints as ERR UNKNOWN (exit status 0).
    let r = client(
        &stack,
        "upscmd",
        &[&admin[..], &["-w", "-t", "10", &dummy, "load.off"]].concat(),
    );
    r.assert_code(0, "upscmd -w load.off");
    assert_eq!(r.stderr.trim_end(), "ERR UNKNOWN", "{r:#?}");

    let r = client(
        &stack,
        "upscmd",
        &[&admin[..], &[&dummy, "no.such"]].concat(),
    );
    r.assert_code(1, "upscmd no.such");
    assert!(
        r.stderr
            .contains("Unexpected response from upsd: ERR CMD-NOT-SUPPORTED"),
        "{r:#?}"
    );

    let r = client(
        &stack,
        "upscmd",
        &["-u", "viewer", "-p", "viewpass", &dummy, "load.off"],
    );
    r.assert_code(1, "upscmd as a user without instcmds");
    assert!(
        r.stderr
            .contains("Unexpected response from upsd: ERR ACCESS-DENIED"),
        "{r:#?}"
    );

    let r = client(
        &stack,
        "upscmd",
        &["-u", "admin", "-p", "wrong", &dummy, "load.off"],
    );
    r.assert_code(1, "upscmd with a wrong password");
    assert!(
        r.stderr
            .contains("Unexpected response from upsd: ERR ACCESS-DENIED"),
        "{r:#?}"
    );
}

// ---- upsrw -----------------------------------------------------------------------------------

fn upsrw(which: Impl) {
    let stack = stack(which);
    let dummy = stack.ups_id("dummy");

    // Listing: LIST RW, then GET TYPE / GET DESC / GET VAR (and LIST ENUM/RANGE) per variable.
    let r = client(&stack, "upsrw", &[&dummy]);
    r.assert_code(0, "upsrw dummy@");
    for block in [
        "[ups.id]\nUPS system identifier\nType: STRING\nMaximum length: 16\nValue: myid\n",
        "[battery.charge]\nBattery charge (percent of full)\nType: NUMBER\nValue: 100\n",
        "[ups.status]\nUPS status\nType: STRING\nMaximum length: 32\nValue: OL CHRG\n",
        "[device.mfr]\nDescription unavailable\nType: STRING\nMaximum length: 32\nValue: Acme\n",
    ] {
        assert!(
            r.stdout.contains(block),
            "upsrw listing lacks {block:?}:\n{}",
            r.stdout
        );
    }
    assert_eq!(
        r.stdout.matches("\n[").count() + 1,
        expected_vars(DUMMY_DEV, "dummy.dev")
            .iter()
            .filter(|(k, _)| !k.starts_with("driver."))
            .count(),
        "upsrw should list every writable (non-driver) variable:\n{}",
        r.stdout
    );

    let admin = ["-u", "admin", "-p", "adminpass"];
    let r = client(
        &stack,
        "upsrw",
        &[&admin[..], &["-s", "ups.id=abc", &dummy]].concat(),
    );
    r.assert_code(0, "upsrw -s ups.id=abc");
    assert_eq!(r.stderr.trim_end(), "OK", "{r:#?}");
    wait_for_value(&stack, "dummy", "ups.id", "abc");

    // -w: tracked SET; dummy-ups reports the SET handled.
    let r = client(
        &stack,
        "upsrw",
        &[
            &admin[..],
            &["-w", "-t", "10", "-s", "battery.charge=77", &dummy],
        ]
        .concat(),
    );
    r.assert_code(0, "upsrw -w -s battery.charge=77");
    assert_eq!(r.stderr.trim_end(), "SUCCESS", "{r:#?}");
    wait_for_value(&stack, "dummy", "battery.charge", "77");

    let r = client(
        &stack,
        "upsrw",
        &[
            &admin[..],
            &["-s", "ups.id=this is longer than sixteen", &dummy],
        ]
        .concat(),
    );
    r.assert_code(1, "upsrw -s with a too long value");
    assert!(
        r.stderr
            .contains("Unexpected response from upsd: ERR TOO-LONG"),
        "{r:#?}"
    );

    let r = client(
        &stack,
        "upsrw",
        &[&admin[..], &["-s", "driver.name=x", &dummy]].concat(),
    );
    r.assert_code(1, "upsrw -s on a read-only variable");
    assert!(
        r.stderr
            .contains("Unexpected response from upsd: ERR READONLY"),
        "{r:#?}"
    );

    let r = client(
        &stack,
        "upsrw",
        &["-u", "viewer", "-p", "viewpass", "-s", "ups.id=x", &dummy],
    );
    r.assert_code(1, "upsrw -s as a user without SET");
    assert!(
        r.stderr
            .contains("Unexpected response from upsd: ERR ACCESS-DENIED"),
        "{r:#?}"
    );
}

// ---- upslog ----------------------------------------------------------------------------------

fn upslog(which: Impl) {
    let mut stack = stack(which);
    let dummy = stack.ups_id("dummy");
    let mut cmd = debian_client(&stack, "upslog");
    cmd.args([
        "-s",
        &dummy,
        "-l",
        "-",
        "-i",
        "1",
        "-f",
        "%UPSHOST%|%VAR ups.status%|%VAR battery.charge%|%VAR ups.load%|%VAR no.such%",
    ]);
    let logger = stack.spawn(with_private_run_nut(&stack, "run-upslog", &cmd));
    let first = format!("{dummy}|OL CHRG|100|23.0|NA\n");
    logger.wait_output(&first, Duration::from_secs(30));

    // A change on the device shows up in the next lines.
    set_var(&stack, "dummy", "ups.status", "OB DISCHRG");
    logger.wait_output(
        &format!("{dummy}|OB DISCHRG|100|23.0|NA\n"),
        Duration::from_secs(30),
    );

    // upslog survives a server restart (it reconnects) and keeps logging. The restarted
    // driver has re-read dummy.dev, so the status is back to OL CHRG.
    restart_server(&mut stack);
    set_var(&stack, "dummy", "battery.charge", "64");
    logger.wait_output(
        &format!("{dummy}|OL CHRG|64|23.0|NA\n"),
        Duration::from_secs(30),
    );
    assert!(logger.is_running(), "upslog died:\n{}", stack.logs());
}

// ---- upsmon ----------------------------------------------------------------------------------

/// One Debian upsmon of the test, with its own config dir, PID dir and log files.
struct Monitor {
    tag: &'static str,
    daemon: Daemon,
}

const NOTIFY_TYPES: &[&str] = &[
    "ONLINE", "ONBATT", "LOWBATT", "FSD", "COMMOK", "COMMBAD", "SHUTDOWN",
];

fn start_upsmon(stack: &mut Stack, tag: &'static str, monitor: &str, hostsync: u32) -> Monitor {
    let dir = stack.dir().to_path_buf();
    let conf_dir = dir.join(format!("{tag}-conf"));
    std::fs::create_dir_all(&conf_dir).expect("mkdir upsmon conf dir");
    let notify = format!("{tag}-notify.sh");
    stack.write_file(
        &notify,
        format!(
            "#!/bin/sh\necho \"$NOTIFYTYPE $*\" >> '{}/{tag}-notify.log'\n",
            dir.display()
        ),
    );
    std::fs::set_permissions(dir.join(&notify), std::fs::Permissions::from_mode(0o750))
        .expect("chmod notify script");
    let mut conf = format!(
        "MONITOR {monitor}\n\
         MINSUPPLIES 1\n\
         SHUTDOWNCMD \"/bin/sh -c 'echo SHUTDOWN-CALLED >> {dir}/{tag}-shutdown.log'\"\n\
         NOTIFYCMD {dir}/{notify}\n\
         POLLFREQ 1\n\
         POLLFREQALERT 1\n\
         HOSTSYNC {hostsync}\n\
         DEADTIME 15\n\
         FINALDELAY 0\n\
         POWERDOWNFLAG {dir}/{tag}-killpower\n",
        dir = dir.display()
    );
    for t in NOTIFY_TYPES {
        conf.push_str(&format!("NOTIFYFLAG {t} SYSLOG+EXEC\n"));
    }
    stack.write_file(&format!("{tag}-conf/upsmon.conf"), conf);
    // write_file hands files to `nut`; the conf dir it created must be readable too.
    give_dir_to_nut(&conf_dir);

    let mut cmd = Command::new(bin(Impl::Debian, "upsmon"));
    cmd.arg("-F")
        .env("NUT_CONFPATH", &conf_dir)
        .current_dir(&dir);
    let wrapped = with_private_run_nut(stack, &format!("{tag}-run"), &cmd);
    Monitor {
        tag,
        daemon: stack.spawn(wrapped),
    }
}

fn give_dir_to_nut(dir: &std::path::Path) {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o770)).expect("chmod");
    if let Some(nut) = nix::unistd::User::from_name("nut").ok().flatten() {
        nix::unistd::chown(dir, Some(nut.uid), Some(nut.gid)).expect("chown nut");
    }
}

impl Monitor {
    fn file(&self, stack: &Stack, suffix: &str) -> String {
        std::fs::read_to_string(stack.dir().join(format!("{}-{suffix}.log", self.tag)))
            .unwrap_or_default()
    }

    /// Waits until this upsmon's `<tag>-<suffix>.log` contains `needle`.
    fn wait_log(&self, stack: &Stack, suffix: &str, needle: &str) -> String {
        let found = nut_harness::poll_until(Duration::from_secs(45), || {
            let text = self.file(stack, suffix);
            text.contains(needle).then_some(text)
        });
        found.unwrap_or_else(|| {
            panic!(
                "{} upsmon: {suffix}.log never contained {needle:?}; it has {:?}\n{}",
                self.tag,
                self.file(stack, suffix),
                stack.logs()
            )
        })
    }
}

/// Waits until `GET NUMLOGINS dummy` reports `n` (upsmons logged in with LOGIN).
fn wait_numlogins(stack: &Stack, n: u32) {
    let want = format!("NUMLOGINS dummy {n}");
    let mut conn = stack.conn();
    wait_until(
        &format!("{n} upsmon login(s) on dummy"),
        Duration::from_secs(30),
        || (conn.request("GET NUMLOGINS dummy") == [want.clone()]).then_some(()),
    );
}

/// Sets `dummy`'s status without waiting for it to be served: upsmon may add FSD first.
fn set_status_now(stack: &Stack, status: &str) {
    let mut conn = admin_conn(stack);
    assert_eq!(
        conn.request(&format!("SET VAR dummy ups.status \"{status}\"")),
        ["OK"]
    );
}

fn upsmon_primary(which: Impl) {
    let mut stack = stack(which);
    let monitor = format!("{} 1 admin adminpass primary", stack.ups_id("dummy"));
    let primary = start_upsmon(&mut stack, "primary", &monitor, 3);
    wait_numlogins(&stack, 1);

    set_var(&stack, "dummy", "ups.status", "OB DISCHRG");
    primary.wait_log(&stack, "notify", "ONBATT");

    set_status_now(&stack, "OB LB");
    primary.wait_log(&stack, "shutdown", "SHUTDOWN-CALLED");
    let notes = primary.wait_log(&stack, "notify", "SHUTDOWN");
    assert!(notes.contains("LOWBATT"), "notifications: {notes}");

    // The primary set the FSD latch in upsd before shutting down.
    let mut conn = stack.conn();
    assert_eq!(
        conn.request("GET VAR dummy ups.status"),
        ["VAR dummy ups.status \"FSD OB LB\""]
    );
    let status = primary.daemon.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "upsmon exit: {status}\n{}", stack.logs());
}

fn upsmon_secondary(which: Impl) {
    let mut stack = stack(which);
    let dummy = stack.ups_id("dummy");
    let primary = start_upsmon(
        &mut stack,
        "primary",
        &format!("{dummy} 1 admin adminpass primary"),
        10,
    );
    // A long HOSTSYNC: the secondary would wait that long before "giving up on the
    // primary" by itself, so shutting down earlier proves it obeyed the FSD flag.
    let secondary = start_upsmon(
        &mut stack,
        "secondary",
        &format!("{dummy} 1 monuser monpass secondary"),
        120,
    );
    wait_numlogins(&stack, 2);
    assert_eq!(
        stack.conn().request("LIST CLIENT dummy"),
        [
            "BEGIN LIST CLIENT dummy",
            "CLIENT dummy 127.0.0.1",
            "CLIENT dummy 127.0.0.1",
            "END LIST CLIENT dummy"
        ]
    );

    set_status_now(&stack, "OB LB");
    let notes = secondary.wait_log(&stack, "notify", "FSD");
    secondary.wait_log(&stack, "shutdown", "SHUTDOWN-CALLED");
    assert!(
        !notes.contains("COMMBAD"),
        "secondary lost upsd: {notes}\n{}",
        stack.logs()
    );
    // The primary waits (≤ HOSTSYNC) for the secondary to log out, then shuts down too.
    primary.wait_log(&stack, "shutdown", "SHUTDOWN-CALLED");
    for m in [&primary, &secondary] {
        let status = m.daemon.wait_exit(Duration::from_secs(30));
        assert!(status.success(), "{} upsmon exit: {status}", m.tag);
    }
}

// ---- check_ups (monitoring-plugins-basic) ----------------------------------------------------

fn check_ups(which: Impl) {
    let plugin = require(
        "/usr/lib/nagios/plugins/check_ups",
        "check_ups (monitoring-plugins-basic)",
    );
    let stack = fixture(which).upsd_conf(SHORT_MAXAGE).start();
    let port = stack.port().to_string();
    let check = |ups: &str| {
        let mut cmd = Command::new(&plugin);
        cmd.args(["-H", "127.0.0.1", "-p", &port, "-u", ups]);
        run(cmd, CLIENT_TIMEOUT)
    };

    let r = check("dummy");
    r.assert_code(0, "check_ups dummy (online)");
    assert!(
        r.stdout.starts_with(
            "UPS OK - Status=Online, Charging Utility=230.1V Batt=100.0% Load=23.0% Temp=86.9F"
        ),
        "{r:#?}"
    );

    let r = check("UPS1");
    r.assert_code(1, "check_ups UPS1 (on battery)");
    assert!(
        r.stdout
            .starts_with("UPS WARNING - Status=On Battery, Discharging"),
        "{r:#?}"
    );

    let r = check("nosuch");
    r.assert_code(2, "check_ups nosuch");
    assert!(r.stdout.contains("CRITICAL - no such UPS"), "{r:#?}");

    // Low battery is critical.
    set_var(&stack, "UPS1", "ups.status", "OB LB");
    let r = check("UPS1");
    r.assert_code(2, "check_ups UPS1 (low battery)");
    assert!(
        r.stdout
            .starts_with("UPS CRITICAL - Status=On Battery, Low Battery"),
        "{r:#?}"
    );

    // A frozen driver: upsd answers ERR DATA-STALE, which check_ups reports as critical
    // (and upsc as "Error: Data stale", exit 1).
    let frozen = make_stale(&stack, "dummy");
    let r = check("dummy");
    r.assert_code(2, "check_ups dummy (stale)");
    assert!(r.stdout.contains("CRITICAL - UPS data is stale"), "{r:#?}");
    let r = client(&stack, "upsc", &[&stack.ups_id("dummy"), "ups.status"]);
    r.assert_code(1, "upsc on stale data");
    assert!(r.stderr.contains("Error: Data stale"), "{r:#?}");
    drop(frozen);
    let mut conn = stack.conn();
    wait_until(
        "dummy to recover from staleness",
        Duration::from_secs(30),
        || {
            (conn.request("GET VAR dummy ups.status") == ["VAR dummy ups.status \"OL CHRG\""])
                .then_some(())
        },
    );
    check("dummy").assert_code(0, "check_ups dummy (recovered)");
}
