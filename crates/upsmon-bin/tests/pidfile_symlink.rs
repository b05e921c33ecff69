//! upsmon's privileged parent takes its PID file as root in /run/nut, a directory the nut
//! user can write to: a symlink planted there (by a compromised nut process) must be refused
//! and its target left untouched (docs/issues.md: issue 12 item 11, the security review's repro).

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nut_harness::{Impl, StackBuilder};

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn a_planted_pid_file_symlink_is_refused_and_its_target_untouched() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "upsmon's privileged parent needs root; run this test as root"
    );
    let nut = nix::unistd::User::from_name("nut")
        .unwrap()
        .expect("the nut account (apt-get install nut-client creates it)");
    let stack = StackBuilder::new()
        .upsd(Impl::Debian)
        .driver(Impl::Debian)
        .dummy("dummy", "dummy.dev", "ups.status: OL\n")
        .start();
    let dir = stack.dir();
    let conf = dir.join("mon-conf");
    std::fs::create_dir(&conf).unwrap();
    std::fs::write(
        conf.join("upsmon.conf"),
        format!(
            "MONITOR dummy@127.0.0.1:{} 1 monuser monpass secondary\nSHUTDOWNCMD \"/bin/true\"\n",
            stack.port()
        ),
    )
    .unwrap();
    // Like /run/nut: 0770 root:nut.
    let run: PathBuf = dir.join("mon-run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o770)).unwrap();
    nix::unistd::chown(&run, Some(nix::unistd::Uid::from_raw(0)), Some(nut.gid)).unwrap();
    let victim = dir.join("victim");
    let content = b"root-only secret content\n".to_vec();
    std::fs::write(&victim, &content).unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = run.join("upsmon.pid");
    std::os::unix::fs::symlink(&victim, &link).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_upsmon"))
        .arg("-F")
        .env("NUT_CONFPATH", &conf)
        .env("NUT_PIDPATH", &run)
        .env("NUT_STATEPATH", &run)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Until upsmon exits or the victim changes (what the unfixed upsmon did at once).
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if std::fs::read(&victim).unwrap() != content || start.elapsed() > Duration::from_secs(30) {
            // Kill the whole pair (the parent relays SIGTERM to its child).
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        content,
        "upsmon wrote through the symlink:\n{text}"
    );
    assert_eq!(code, Some(73), "{text}");
    assert!(
        text.contains(&format!(
            "refusing PID file {}: it is a symbolic link",
            link.display()
        )),
        "{text}"
    );
}
