//! Every daemon's start-up failures end with one clear "Fatal error" line and their own
//! exit code, from the one table in `nut_daemon::exit` (sysexits.h values):
//! 64 usage, 67 unknown user, 69 unavailable (port in use), 73 can't create,
//! 75 already running, 77 no permission, 78 bad configuration.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use nut_harness::{Daemon, Impl, bin, free_port, wait_until};

const EX_USAGE: i32 = 64;
const EX_NOUSER: i32 = 67;
const EX_UNAVAILABLE: i32 = 69;
const EX_CANTCREAT: i32 = 73;
const EX_TEMPFAIL: i32 = 75;
const EX_NOPERM: i32 = 77;
const EX_CONFIG: i32 = 78;

/// A private NUT root: configuration, state and PID files all in one temp directory.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new() -> Root {
        Root {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).unwrap();
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin(Impl::Ours, program));
        cmd.args(args);
        for var in [
            "NUT_CONFPATH",
            "NUT_STATEPATH",
            "NUT_ALTPIDPATH",
            "NUT_PIDPATH",
        ] {
            cmd.env(var, self.path());
        }
        cmd.env_remove("NOTIFY_SOCKET");
        cmd
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program, args).output().unwrap()
    }
}

/// The run failed with `code`, exactly one line says why (contains `needle`), and there is
/// no second fatal line.
fn assert_fails(out: &Output, code: i32, needle: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: exit code\nstderr:\n{stderr}\nstdout:\n{stdout}"
    );
    let all = format!("{stdout}{stderr}");
    let explaining = all.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(explaining, 1, "{what}: one line says why\n{all}");
    let fatal = all
        .lines()
        .filter(|l| l.starts_with("Fatal error") || l.starts_with("Error"))
        .count();
    assert!(fatal <= 1, "{what}: at most one fatal line\n{all}");
}

fn upsd_root(port: u16) -> Root {
    let root = Root::new();
    root.write("upsd.conf", &format!("LISTEN 127.0.0.1 {port}\n"));
    root.write("ups.conf", "[x]\n\tdriver = dummy-ups\n\tport = x.dev\n");
    root.write("upsd.users", "");
    root
}

#[test]
fn upsd_start_up_failures_have_distinct_codes() {
    // Bad configuration.
    let root = upsd_root(free_port());
    root.write("upsd.conf", "MAXAGE abc\n");
    let out = root.run("upsd", &["-F"]);
    assert_fails(&out, EX_CONFIG, "configuration error", "upsd bad upsd.conf");

    // Unknown user.
    let root = upsd_root(free_port());
    let out = root.run("upsd", &["-F", "-u", "nosuchuser"]);
    assert_fails(&out, EX_NOUSER, "nosuchuser", "upsd -u nosuchuser");

    // The only listening address is taken.
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let root = upsd_root(port);
    let out = root.run("upsd", &["-F"]);
    assert_fails(
        &out,
        EX_UNAVAILABLE,
        "no listening interface",
        "upsd port in use",
    );
}

fn dummy_root() -> Root {
    let root = Root::new();
    root.write("ups.conf", "[x]\n\tdriver = dummy-ups\n\tport = x.dev\n");
    root.write("x.dev", "ups.status: OL\nbattery.charge: 100\n");
    root
}

#[test]
fn driver_start_up_failures_have_distinct_codes() {
    // Bad configuration: the section does not exist.
    let root = dummy_root();
    let out = root.run("dummy-ups", &["-a", "nosuch", "-F"]);
    assert_fails(&out, EX_CONFIG, "nosuch", "driver unknown section");

    // Unknown user.
    let out = root.run("dummy-ups", &["-a", "x", "-F", "-u", "nosuchuser"]);
    assert_fails(&out, EX_NOUSER, "nosuchuser", "driver -u nosuchuser");

    // Missing permission: the state directory (0700 root) is closed to the `nut` user the
    // driver runs as.
    let out = root.run("dummy-ups", &["-a", "x", "-F"]);
    assert_fails(
        &out,
        EX_NOPERM,
        "Permission denied",
        "driver state dir closed",
    );

    // Second instance (the state directory now open to the driver's user).
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let first = Daemon::spawn("dummy-ups x", root.command("dummy-ups", &["-a", "x", "-F"]));
    let socket = root.path().join("dummy-ups-x");
    wait_until("the first driver's socket", Duration::from_secs(10), || {
        socket.exists().then_some(())
    });
    let out = root.run("dummy-ups", &["-a", "x", "-F"]);
    assert_fails(
        &out,
        EX_TEMPFAIL,
        "already running",
        "driver second instance",
    );
    assert!(first.is_running(), "{}", first.labelled_output());
}

fn upsmon_root() -> Root {
    let root = Root::new();
    root.write(
        "upsmon.conf",
        "MONITOR ups@127.0.0.1:9 1 u p primary\nSHUTDOWNCMD \"/bin/true\"\n",
    );
    root
}

#[test]
fn upsmon_start_up_failures_have_distinct_codes() {
    // Bad configuration: not enough power sources to ever run.
    let root = upsmon_root();
    root.write(
        "upsmon.conf",
        "MONITOR ups@127.0.0.1:9 1 u p primary\nMINSUPPLIES 2\nSHUTDOWNCMD \"/bin/true\"\n",
    );
    let out = root.run("upsmon", &["-F"]);
    assert_fails(&out, EX_CONFIG, "insufficient power", "upsmon MINSUPPLIES");

    // Unknown user.
    let root = upsmon_root();
    let out = root.run("upsmon", &["-F", "-u", "nosuchuser"]);
    assert_fails(&out, EX_NOUSER, "nosuchuser", "upsmon -u nosuchuser");

    // Second instance.
    let first = Daemon::spawn("upsmon", root.command("upsmon", &["-F"]));
    let pid_file = root.path().join("upsmon.pid");
    wait_until("upsmon's PID file", Duration::from_secs(10), || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .filter(|p| !p.trim().is_empty())
    });
    let out = root.run("upsmon", &["-F"]);
    assert_fails(
        &out,
        EX_TEMPFAIL,
        "already running",
        "upsmon second instance",
    );
    assert!(first.is_running(), "{}", first.labelled_output());
}

#[test]
fn upslog_start_up_failures_have_distinct_codes() {
    let root = Root::new();
    let log = root.path().join("x.log");
    let log = log.to_str().unwrap();
    let port = free_port();
    let target = format!("x@127.0.0.1:{port}");

    // Unknown user.
    let out = root.run("upslog", &["-s", &target, "-l", log, "-u", "nosuchuser"]);
    assert_fails(&out, EX_NOUSER, "nosuchuser", "upslog -u nosuchuser");

    // Bad command lines: an unknown option, a missing option argument, no UPS, the old
    // positional form cut short, a malformed -m tuple.
    let out = root.run("upslog", &["-x", "-s", &target, "-l", log, "-F"]);
    assert_fails(&out, EX_USAGE, "invalid option -- 'x'", "upslog -x");
    let out = root.run("upslog", &["-s", &target, "-l"]);
    assert_fails(
        &out,
        EX_USAGE,
        "option requires an argument -- 'l'",
        "upslog -l without its argument",
    );
    let out = root.run("upslog", &["-l", log, "-F"]);
    assert_fails(&out, EX_USAGE, "No UPS defined", "upslog without -s");
    let out = root.run("upslog", &[&target, log]);
    assert_fails(&out, EX_USAGE, "positional form", "upslog <ups> <logfile>");
    let out = root.run("upslog", &["-m", &target, "-F"]);
    assert_fails(&out, EX_USAGE, "exactly 2 components", "upslog -m <ups>");

    // The log file's directory does not exist: can't create.
    let missing = root.path().join("nosuchdir").join("x.log");
    let missing = missing.to_str().unwrap();
    let out = root.run("upslog", &["-s", &target, "-l", missing, "-F"]);
    assert_fails(
        &out,
        EX_CANTCREAT,
        &format!("could not open logfile {missing}: No such file or directory"),
        "upslog log directory missing",
    );

    // An unprivileged user's log file in a directory closed to it: no permission. (As root
    // the file would be opened anyway, so upslog runs as `nobody` here; the PID file goes to
    // the root directory, opened to everyone.)
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let closed_dir = root.path().join("closed");
    std::fs::create_dir(&closed_dir).unwrap();
    std::fs::set_permissions(&closed_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let closed = closed_dir.join("x.log");
    let closed = closed.to_str().unwrap();
    let nobody = nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("the `nobody` account (needed to be refused a file)");
    let out = root
        .command("upslog", &["-s", &target, "-l", closed, "-F"])
        .uid(nobody.uid.as_raw())
        .gid(nobody.gid.as_raw())
        .output()
        .unwrap();
    assert_fails(
        &out,
        EX_NOPERM,
        &format!("could not open logfile {closed}: Permission denied"),
        "upslog log directory closed",
    );
}
