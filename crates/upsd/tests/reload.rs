//! Reload (SIGHUP and `upsd -c reload`), `upsd -c stop`, the PID file and sd_notify.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use nut_harness::notify::NotifySocket;
use nut_harness::{Conn, Impl, STARTUP_TIMEOUT, Stack, StackBuilder, bin, poll_until, wait_until};

const DEV_A: &str = "ups.status: OL\nbattery.charge: 100\n";
const DEV_B: &str = "ups.status: OB\nbattery.charge: 50\n";

const USERS: &str = "[admin]\n password = old\n actions = SET FSD\n instcmds = ALL\n";
const USERS_CHANGED: &str = "[admin]\n password = new\n actions = SET FSD\n instcmds = ALL\n";

fn upsd_ctl(stack: &Stack, args: &[&str]) -> std::process::Output {
    stack
        .command(Impl::Ours, "upsd")
        .args(args)
        .output()
        .expect("run upsd -c")
}

fn wait_reply(conn: &mut Conn, request: &str, want: &[&str]) {
    let mut last = Vec::new();
    let ok = poll_until(STARTUP_TIMEOUT, || {
        last = conn.request(request);
        (last == want).then_some(())
    });
    assert!(ok.is_some(), "{request}: wanted {want:?}, last {last:?}");
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn sighup_adds_a_ups_without_dropping_clients() {
    let mut stack = StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Debian)
        .dummy("a", "a.dev", DEV_A)
        .file("b.dev", DEV_B)
        .start();
    let mut client = stack.conn();
    assert_eq!(
        client.request("GET VAR a ups.status"),
        ["VAR a ups.status \"OL\""]
    );
    // A new section, its driver, then SIGHUP.
    let ups_conf = std::fs::read_to_string(stack.dir().join("ups.conf")).unwrap();
    stack.write_file(
        "ups.conf",
        format!("{ups_conf}\n[b]\n\tdriver = dummy-ups\n\tport = b.dev\n\tdesc = \"added\"\n"),
    );
    let mut driver = Command::new(bin(Impl::Debian, "dummy-ups"));
    driver.args(["-F", "-a", "b"]);
    stack.spawn(driver);
    let socket = stack.dir().join("dummy-ups-b");
    wait_until("driver b's socket", STARTUP_TIMEOUT, || {
        socket.exists().then_some(())
    });
    stack
        .upsd_daemon()
        .unwrap()
        .signal(nut_harness::Signal::SIGHUP);
    // The connected client sees the new UPS (put first, as upsd does) and its data.
    wait_reply(
        &mut client,
        "LIST UPS",
        &[
            "BEGIN LIST UPS",
            "UPS b \"added\"",
            "UPS a \"Description unavailable\"",
            "END LIST UPS",
        ],
    );
    wait_reply(
        &mut client,
        "GET VAR b ups.status",
        &["VAR b ups.status \"OB\""],
    );
    assert_eq!(
        client.request("GET VAR a ups.status"),
        ["VAR a ups.status \"OL\""]
    );
    // Removing it again.
    stack.write_file("ups.conf", &ups_conf);
    stack
        .upsd_daemon()
        .unwrap()
        .signal(nut_harness::Signal::SIGHUP);
    wait_reply(&mut client, "GET VAR b ups.status", &["ERR UNKNOWN-UPS"]);
    assert_eq!(
        client.request("GET VAR a ups.status"),
        ["VAR a ups.status \"OL\""]
    );
    let log = stack.upsd_daemon().unwrap().output_so_far();
    assert!(log.contains("SIGHUP: reloading configuration"), "{log}");
}

/// How long sd_notify messages may take to arrive.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(20);

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn reload_command_changes_passwords_and_stop_removes_the_pid_file() {
    let notify_dir = tempfile::tempdir().unwrap();
    // upsd drops privileges to `nut` when started as root; it must still reach the socket.
    std::fs::set_permissions(notify_dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let notify = NotifySocket::bind(notify_dir.path());
    let stack = StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Debian)
        .dummy("a", "a.dev", DEV_A)
        .upsd_users(USERS)
        // -F from the harness plus this one: -FF, foreground with a PID file.
        .upsd_args(&["-F"])
        .env("NOTIFY_SOCKET", notify.path().to_str().unwrap())
        .start();
    let log = |stack: &Stack| stack.upsd_daemon().unwrap().output_so_far();
    let (ready, _) = notify.expect_line(0, "READY=1", NOTIFY_TIMEOUT, || log(&stack));

    let pid_file = stack.dir().join("upsd.pid");
    let pid = stack.upsd_daemon().unwrap().pid();
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap().trim(),
        pid.to_string()
    );
    // A second instance is refused with one clear line.
    let second = stack
        .command(Impl::Ours, "upsd")
        .arg("-F")
        .output()
        .unwrap();
    // EX_TEMPFAIL: another instance is running.
    assert_eq!(second.status.code(), Some(75));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [format!(
            "Fatal error: A previous upsd instance is already running (PID {pid})! \
             Either stop it first, or use the 'reload' command."
        )],
        "{stderr}"
    );

    let mut old = stack.conn();
    old.request("USERNAME admin");
    old.request("PASSWORD old");
    assert_eq!(old.request("SET VAR a battery.charge 90"), ["OK"]);

    stack.write_file("upsd.users", USERS_CHANGED);
    let out = upsd_ctl(&stack, &["-c", "reload"]);
    assert!(out.status.success(), "{out:?}");
    let (reloading, _) =
        notify.expect_line(ready + 1, "RELOADING=1", NOTIFY_TIMEOUT, || log(&stack));
    let (ready, _) = notify.expect_line(reloading + 1, "READY=1", NOTIFY_TIMEOUT, || log(&stack));
    // Credentials are checked at each command: the old password no longer works, the new
    // one does, and the connected client was not dropped.
    assert_eq!(
        old.request("SET VAR a battery.charge 80"),
        ["ERR ACCESS-DENIED"]
    );
    let mut new = stack.conn();
    new.request("USERNAME admin");
    new.request("PASSWORD new");
    assert_eq!(new.request("SET VAR a battery.charge 70"), ["OK"]);

    let out = upsd_ctl(&stack, &["-c", "stop"]);
    assert!(out.status.success(), "{out:?}");
    let status = stack.upsd_daemon().unwrap().wait_exit(STARTUP_TIMEOUT);
    assert!(status.success(), "{status:?}");
    assert!(!pid_file.exists(), "the PID file must be removed at exit");
    notify.expect_line(ready + 1, "STOPPING=1", NOTIFY_TIMEOUT, || log(&stack));
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn unbindable_listen_address_is_a_warning_when_another_works() {
    let stack = StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Debian)
        .dummy("a", "a.dev", DEV_A)
        // TEST-NET-1 is never a local address.
        .upsd_conf("LISTEN 192.0.2.1 3493\nLISTEN ::1")
        .start();
    let mut conn = stack.conn();
    assert_eq!(
        conn.request("GET VAR a ups.status"),
        ["VAR a ups.status \"OL\""]
    );
    let log = stack.upsd_daemon().unwrap().output_so_far();
    assert!(
        log.contains("not listening on 192.0.2.1 port 3493"),
        "{log}"
    );
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn a_broken_file_on_reload_keeps_the_running_configuration() {
    let stack = StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Debian)
        .dummy("a", "a.dev", DEV_A)
        .upsd_users(USERS)
        .start();
    // An upsmon role that does not exist is an error for nut_core's parser.
    stack.write_file("upsd.users", "[admin]\n password = new\n upsmon boss\n");
    let daemon = stack.upsd_daemon().unwrap();
    daemon.signal(nut_harness::Signal::SIGHUP);
    daemon.wait_output("keeping the old configuration", STARTUP_TIMEOUT);
    let mut conn = stack.conn();
    conn.request("USERNAME admin");
    conn.request("PASSWORD old");
    assert_eq!(conn.request("SET VAR a battery.charge 90"), ["OK"]);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn backgrounded_upsd_writes_its_pid_file_and_stops_on_command() {
    let stack = StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Debian)
        .dummy("a", "a.dev", DEV_A)
        .no_upsd()
        .start();
    let pid_file = stack.dir().join("upsd.pid");
    // Without -F the launcher forks, the child keeps running, the launcher exits 0.
    let launch = stack.command(Impl::Ours, "upsd").output().unwrap();
    assert!(launch.status.success(), "{launch:?}");
    let pid: i32 = wait_until("upsd.pid", STARTUP_TIMEOUT, || {
        std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok()
    });
    // Make sure the daemon is stopped even if an assertion below fails.
    struct KillOnDrop(i32);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.0),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    let _guard = KillOnDrop(pid);
    stack.wait_ups_ready("a");
    let mut conn = stack.conn();
    assert_eq!(
        conn.request("GET VAR a ups.status"),
        ["VAR a ups.status \"OL\""]
    );
    let out = upsd_ctl(&stack, &["-c", "stop"]);
    assert!(out.status.success(), "{out:?}");
    wait_until("the PID file to go", STARTUP_TIMEOUT, || {
        (!pid_file.exists()).then_some(())
    });
    // The process is gone too: not our child, so look at /proc (a zombie counts as gone,
    // whoever reaps it).
    wait_until("upsd to exit", STARTUP_TIMEOUT, || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next());
        matches!(state, None | Some("Z") | Some("X")).then_some(())
    });
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn forcessl_turned_on_by_a_reload_applies_at_once_and_warns_without_tls() {
    let stack = StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Debian)
        .dummy("a", "a.dev", DEV_A)
        .start();
    let mut conn = stack.conn();
    assert_eq!(conn.request("USERNAME monuser"), ["OK"]);
    // CERTFILE and FORCESSL added: the certificate needs a restart, FORCESSL does not.
    let path = stack.dir().join("upsd.conf");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("\nCERTFILE upsd.pem\nFORCESSL 1\n");
    stack.write_file("upsd.conf", text);
    stack
        .upsd_daemon()
        .unwrap()
        .signal(nut_harness::Signal::SIGHUP);
    let mut plain = stack.conn();
    wait_reply(&mut plain, "USERNAME monuser", &["ERR ACCESS-DENIED"]);
    let out = stack
        .upsd_daemon()
        .unwrap()
        .wait_output("FORCESSL is set but TLS is not running", STARTUP_TIMEOUT);
    assert!(
        out.contains("privileged commands are refused until upsd is restarted"),
        "{out}"
    );
    // A connection that set its name before the reload cannot go on in clear either.
    assert_eq!(conn.request("PASSWORD monpass"), ["ERR ACCESS-DENIED"]);
    assert_eq!(conn.request("LOGIN a"), ["ERR PASSWORD-REQUIRED"]);
}
