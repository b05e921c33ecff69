//! upslog's log file, opened as root in a directory the `nut` account can write to
//! (`/var/log/nut`): a planted symlink, a special file or a file owned by someone else is
//! refused and left untouched; root's and the run-as user's own files are appended to.
//!
//! Run as root (upslog only opens files as root when started as root); the `nut` account
//! must exist. Both are checked loudly.

use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

fn nut_account() -> nix::unistd::User {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests start upslog as root; run them as root"
    );
    nix::unistd::User::from_name("nut")
        .unwrap()
        .expect("the nut account (apt-get install nut-client creates it)")
}

/// A loopback port nobody listens on (upslog then logs without data, which is enough).
fn closed_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn upslog(dir: &Path, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_upslog"))
        .args(["-F", "-i", "1", "-u", "nut", "-f", "line %ETIME%"])
        .arg("-s")
        .arg(format!("ups@127.0.0.1:{}", closed_port()))
        .arg("-l")
        .arg(log)
        .arg("-p")
        .arg(dir.join("upslog.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait until `child` exits (its exit code and output), or `harmed()` says the file it must
/// not touch was changed, or the deadline passes (then it is killed and `None` returned for
/// the code).
fn finish(mut child: Child, harmed: impl Fn() -> bool) -> (Option<i32>, String) {
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if harmed() || start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (code, text)
}

/// A root-owned 0600 file with known content.
fn victim(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let path = dir.join("victim");
    let content = b"root-only secret content\n".to_vec();
    std::fs::write(&path, &content).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    (path, content)
}

/// Wait until `path` holds a logged line, then stop upslog.
fn logs_a_line(mut child: Child, path: &Path) -> String {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains("line ") {
            let _ = child.kill();
            let _ = child.wait();
            return text;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let (_, out) = finish(child, || false);
            panic!(
                "upslog exited ({status}) without logging to {}:\n{out}",
                path.display()
            );
        }
        assert!(
            start.elapsed() < DEADLINE,
            "nothing logged to {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_planted_symlink_is_refused_and_its_target_untouched() {
    let _nut = nut_account();
    let tmp = tempfile::tempdir().unwrap();
    let (victim, content) = victim(tmp.path());
    let log = tmp.path().join("ups.log");
    std::os::unix::fs::symlink(&victim, &log).unwrap();
    let changed = || std::fs::read(&victim).unwrap() != content;
    let (code, out) = finish(upslog(tmp.path(), &log), changed);
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        content,
        "upslog appended through the symlink:\n{out}"
    );
    assert_eq!(code, Some(77), "{out}");
    assert!(
        out.contains(&format!(
            "could not open logfile {}: refused, it is a symbolic link",
            log.display()
        )),
        "{out}"
    );
}

#[test]
fn special_files_and_other_owners_are_refused() {
    let nut = nut_account();
    let tmp = tempfile::tempdir().unwrap();
    // Someone else's file (neither root nor nut).
    let foreign = tmp.path().join("foreign.log");
    std::fs::write(&foreign, "theirs\n").unwrap();
    nix::unistd::chown(&foreign, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let changed = || std::fs::read_to_string(&foreign).unwrap() != "theirs\n";
    let (code, out) = finish(upslog(tmp.path(), &foreign), changed);
    assert_eq!(
        std::fs::read_to_string(&foreign).unwrap(),
        "theirs\n",
        "{out}"
    );
    assert_eq!(code, Some(77), "{out}");
    assert!(
        out.contains(&format!(
            "refused, it is owned by uid 65534, neither root nor uid {}",
            nut.uid
        )),
        "{out}"
    );
    // A hard link to root's file.
    let (victim, content) = victim(tmp.path());
    let linked = tmp.path().join("linked.log");
    std::fs::hard_link(&victim, &linked).unwrap();
    let changed = || std::fs::read(&victim).unwrap() != content;
    let (code, out) = finish(upslog(tmp.path(), &linked), changed);
    assert_eq!(std::fs::read(&victim).unwrap(), content, "{out}");
    assert_eq!(code, Some(77), "{out}");
    assert!(
        out.contains("refused, it has more than one hard link"),
        "{out}"
    );
    // A FIFO: refused at once, not waited on.
    let fifo = tmp.path().join("fifo.log");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let (code, out) = finish(upslog(tmp.path(), &fifo), || false);
    assert_eq!(code, Some(77), "{out}");
    assert!(out.contains("refused, it is not a regular file"), "{out}");
}

#[test]
fn files_of_root_and_of_the_run_as_user_are_appended_to() {
    let nut = nut_account();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let roots = tmp.path().join("root.log");
    std::fs::write(&roots, "old\n").unwrap();
    let text = logs_a_line(upslog(tmp.path(), &roots), &roots);
    assert!(text.starts_with("old\nline "), "{text}");
    let nuts = tmp.path().join("nut.log");
    std::fs::write(&nuts, "old\n").unwrap();
    nix::unistd::chown(&nuts, Some(nut.uid), Some(nut.gid)).unwrap();
    let text = logs_a_line(upslog(tmp.path(), &nuts), &nuts);
    assert!(text.starts_with("old\nline "), "{text}");
}
