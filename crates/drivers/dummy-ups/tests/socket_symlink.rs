//! A driver running as root binds its socket in a directory the nut user can write to: a
//! symlink planted at the socket path must be replaced by the socket, never followed (no
//! chmod or chown of its target), and the socket gets mode 0660 from the umask.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

use nut_harness::{Impl, STARTUP_TIMEOUT, StackBuilder, poll_until};

#[test]
fn a_planted_symlink_at_the_socket_path_is_never_followed() {
    assert!(
        std::fs::metadata("/proc/self").unwrap().uid() == 0,
        "the driver must run as root for this test; run it as root"
    );
    let mut stack = StackBuilder::new()
        .no_upsd()
        .driver(Impl::Ours)
        .dummy("a", "a.dev", "ups.status: OL\n")
        .start();
    stack.kill_driver("a");
    let socket = stack.driver_socket("a");
    let victim = stack.dir().join("victim");
    std::fs::write(&victim, "root-only secret content\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = std::fs::metadata(&victim).unwrap();
    let _ = std::fs::remove_file(&socket);
    std::os::unix::fs::symlink(&victim, &socket).unwrap();
    // `-u root`: the driver keeps root, the case where following the link would hurt.
    let mut cmd = stack.command(Impl::Ours, "dummy-ups");
    cmd.args(["-F", "-a", "a", "-u", "root"]);
    let driver = stack.spawn(cmd);
    let meta = poll_until(STARTUP_TIMEOUT, || {
        std::fs::symlink_metadata(&socket)
            .ok()
            .filter(|m| m.file_type().is_socket())
    })
    .unwrap_or_else(|| panic!("no socket:\n{}", driver.output_so_far()));
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
}
