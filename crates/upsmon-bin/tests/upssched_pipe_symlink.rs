//! upssched's timer daemon binds PIPEFN in a directory other accounts may write to: a symlink
//! planted at PIPEFN is replaced by the socket, never followed (no chmod of its target), and
//! the socket gets mode 0660 from the umask.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::process::{Command, Stdio};
use std::time::Duration;

use nut_harness::poll_until;

#[test]
fn a_planted_symlink_at_pipefn_is_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join("sched")).unwrap();
    let script = d.join("cmd.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" >> {}/cmd.log\n", d.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let pipe = d.join("sched/upssched.pipe");
    std::fs::write(
        d.join("upssched.conf"),
        format!(
            "CMDSCRIPT {}\nPIPEFN {}\nLOCKFN {}/sched/upssched.lock\n\
             AT ONBATT * START-TIMER onbatt 1\n",
            script.display(),
            pipe.display(),
            d.display()
        ),
    )
    .unwrap();
    let victim = d.join("victim");
    std::fs::write(&victim, "root-only secret content\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = std::fs::metadata(&victim).unwrap();
    std::os::unix::fs::symlink(&victim, &pipe).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_upssched"))
        .arg("on battery")
        .env("NUT_CONFPATH", d)
        .env("NUT_ALTPIDPATH", d)
        .env("UPSNAME", "ups")
        .env("NOTIFYTYPE", "ONBATT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    // The invocation returns once the daemon listens.
    let meta = std::fs::symlink_metadata(&pipe).unwrap();
    assert!(
        meta.file_type().is_socket(),
        "PIPEFN is not the daemon's socket"
    );
    assert_eq!(meta.mode() & 0o777, 0o660);
    let after = std::fs::metadata(&victim).unwrap();
    assert_eq!(
        (after.mode(), after.uid(), after.gid()),
        (before.mode(), before.uid(), before.gid())
    );
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "root-only secret content\n"
    );
    // The daemon works through that socket: the timer fires (then it exits, idle).
    let fired = poll_until(Duration::from_secs(30), || {
        std::fs::read_to_string(d.join("cmd.log"))
            .ok()
            .filter(|log| log.contains("onbatt"))
    });
    assert!(fired.is_some(), "the timer never fired");
}
