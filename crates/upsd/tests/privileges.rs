//! upsd's privileged start-up, run as root against our upsd: the PID file is taken as the
//! `nut` user and never through a planted symlink, `-r` without `-u` still drops to `nut`
//! (the account is looked up before chroot), and a missing account is fatal (exit 67).
//!
//! These tests need root (as the whole upsd suite does, to drop privileges) and the `nut`
//! account that Debian's nut-server package creates; without them they fail loudly.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nut_harness::{Conn, Daemon, Impl, STARTUP_TIMEOUT, Stack, StackBuilder, poll_until};

fn nut_account() -> nix::unistd::User {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests start upsd as root; run them as root"
    );
    nix::unistd::User::from_name("nut")
        .unwrap()
        .expect("the nut account (apt-get install nut-server creates it)")
}

/// A stack whose upsd we start ourselves (it may refuse to start).
fn stack() -> Stack {
    StackBuilder::new()
        .no_upsd()
        .upsd(Impl::Ours)
        .upsd_conf("ALLOW_NO_DEVICE true")
        .start()
}

/// A root-owned 0600 file with known content.
fn victim(dir: &Path) -> (PathBuf, Vec<u8>) {
    let path = dir.join("victim");
    let content = b"root-only secret content\n".to_vec();
    std::fs::write(&path, &content).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    (path, content)
}

/// A PID directory like /run/nut: 0770 root:nut.
fn run_dir(stack: &Stack, nut: &nix::unistd::User) -> PathBuf {
    let dir = stack.dir().join("run");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
    nix::unistd::chown(&dir, Some(nix::unistd::Uid::from_raw(0)), Some(nut.gid)).unwrap();
    dir
}

/// Wait until upsd answers VER (true) or exits (false).
fn serving(stack: &Stack, upsd: &Daemon) -> bool {
    poll_until(STARTUP_TIMEOUT, || {
        if upsd.try_wait().is_some() {
            return Some(false);
        }
        let mut conn = Conn::try_connect(stack.addr()).ok()?;
        conn.set_timeout(Duration::from_secs(2));
        conn.send_line("VER");
        matches!(conn.try_read_line(), Ok(Some(_))).then_some(true)
    })
    .unwrap_or_else(|| panic!("upsd neither served nor exited:\n{}", upsd.output_so_far()))
}

/// The output of an exited program once it holds `needle` (the capture threads may still be
/// draining the pipes when the exit status is known).
fn output_with(daemon: &Daemon, needle: &str) -> String {
    poll_until(STARTUP_TIMEOUT, || {
        let out = daemon.output_so_far();
        out.contains(needle).then_some(out)
    })
    .unwrap_or_else(|| panic!("no {needle:?} in:\n{}", daemon.output_so_far()))
}

fn uid_of(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_planted_pid_file_symlink_is_refused_and_its_target_untouched() {
    let nut = nut_account();
    let mut stack = stack();
    let run = run_dir(&stack, &nut);
    let (victim, content) = victim(stack.dir());
    std::os::unix::fs::symlink(&victim, run.join("upsd.pid")).unwrap();
    let mut cmd = stack.command(Impl::Ours, "upsd");
    cmd.arg("-FF").env("NUT_ALTPIDPATH", &run);
    let upsd = stack.spawn(cmd);
    let served = serving(&stack, &upsd);
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        content,
        "upsd wrote through the symlink:\n{}",
        upsd.output_so_far()
    );
    assert!(!served, "upsd must refuse the planted PID file");
    let status = upsd.wait_exit(STARTUP_TIMEOUT);
    // The output threads may still be draining the pipes.
    let out = output_with(&upsd, "Fatal error");
    assert_eq!(status.code(), Some(73), "{out}");
    assert!(
        out.contains(&format!(
            "refusing PID file {}: it is a symbolic link",
            run.join("upsd.pid").display()
        )),
        "{out}"
    );
}

#[test]
fn the_pid_file_is_written_after_dropping_privileges() {
    let nut = nut_account();
    let mut stack = stack();
    let run = run_dir(&stack, &nut);
    let mut cmd = stack.command(Impl::Ours, "upsd");
    cmd.arg("-FF").env("NUT_ALTPIDPATH", &run);
    let upsd = stack.spawn(cmd);
    assert!(serving(&stack, &upsd), "{}", upsd.output_so_far());
    let pid_file = run.join("upsd.pid");
    let meta = std::fs::symlink_metadata(&pid_file).unwrap();
    assert_eq!(
        meta.uid(),
        nut.uid.as_raw(),
        "the PID file was created as uid {} instead of nut",
        meta.uid()
    );
    let text = std::fs::read_to_string(&pid_file).unwrap();
    assert_eq!(text, format!("{}\n", upsd.pid()));
    assert_eq!(uid_of(upsd.pid()), nut.uid.as_raw());
}

/// A jail with copies of the stack's ups.conf and upsd.users at the same path inside, and
/// no account database at all.
fn jail(stack: &Stack, nut: &nix::unistd::User) -> tempfile::TempDir {
    let jail = tempfile::tempdir().unwrap();
    std::fs::set_permissions(jail.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let inside = jail.path().join(stack.dir().strip_prefix("/").unwrap());
    std::fs::create_dir_all(&inside).unwrap();
    for dir in inside
        .ancestors()
        .take_while(|d| d.starts_with(jail.path()))
    {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for name in ["ups.conf", "upsd.users"] {
        let copy = inside.join(name);
        std::fs::copy(stack.dir().join(name), &copy).unwrap();
        nix::unistd::chown(&copy, Some(nut.uid), Some(nut.gid)).unwrap();
    }
    jail
}

#[test]
fn chroot_without_dash_u_still_drops_to_nut() {
    let nut = nut_account();
    let mut stack = stack();
    let jail = jail(&stack, &nut);
    assert!(!jail.path().join("etc/passwd").exists());
    let mut cmd = stack.command(Impl::Ours, "upsd");
    cmd.arg("-F").arg("-r").arg(jail.path());
    let upsd = stack.spawn(cmd);
    assert!(serving(&stack, &upsd), "{}", upsd.output_so_far());
    let root = std::fs::read_link(format!("/proc/{}/root", upsd.pid())).unwrap();
    assert_eq!(root, jail.path(), "upsd is not in the jail");
    assert_eq!(
        uid_of(upsd.pid()),
        nut.uid.as_raw(),
        "upsd serves in the jail as root:\n{}",
        upsd.output_so_far()
    );
}

#[test]
fn a_missing_account_is_one_fatal_line_and_exit_67() {
    let nut = nut_account();
    let mut stack = stack();
    let jail = jail(&stack, &nut);
    for chroot in [false, true] {
        let mut cmd: Command = stack.command(Impl::Ours, "upsd");
        cmd.args(["-F", "-u", "no-such-user-nut-rs"]);
        if chroot {
            cmd.arg("-r").arg(jail.path());
        }
        let upsd = stack.spawn(cmd);
        let status = upsd.wait_exit(STARTUP_TIMEOUT);
        let out = output_with(&upsd, "Fatal error");
        assert_eq!(status.code(), Some(67), "{out}");
        let fatal: Vec<&str> = out.lines().filter(|l| l.contains("Fatal error")).collect();
        assert_eq!(fatal.len(), 1, "{out}");
        assert!(
            fatal[0].ends_with("Fatal error: user no-such-user-nut-rs not found"),
            "{out}"
        );
    }
}
