//! Writing the stack's config files, readable by daemons that dropped privileges.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::unistd::{Gid, Group, Uid, User, chown};

/// One `[name]` section of ups.conf.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub name: String,
    /// `Some(..)` for a UPS the harness starts a driver for.
    pub driver: Option<SectionDriver>,
    /// Raw lines appended after the generated ones.
    pub extra: String,
}

/// The driver of a section the harness starts.
#[derive(Debug, Clone)]
pub(crate) struct SectionDriver {
    /// Program name: `dummy-ups`, `nutdrv_qx`, `blazer_ser`, …
    pub program: String,
    /// The `port` value.
    pub port: String,
    /// Whether `port` is written inside double quotes (device paths) or bare (dummy-ups
    /// file names, as the existing tests expect).
    pub quote_port: bool,
    /// Which implementation; `None` = the builder's `.driver(Impl)` (dummy-ups).
    pub which: Option<crate::Impl>,
}

impl Section {
    pub fn new(name: &str) -> Section {
        Section {
            name: name.to_owned(),
            driver: None,
            extra: String::new(),
        }
    }
}

/// The users files default to when the test gives none: an administrator that may do
/// everything (same credentials as docs/nut-behaviour.md §C3.2) and a plain upsmon
/// secondary.
pub(crate) const DEFAULT_USERS: &str = "\
[admin]
\tpassword = adminpass
\tactions = SET FSD
\tinstcmds = ALL
\tupsmon primary

[monuser]
\tpassword = monpass
\tupsmon secondary
";

pub(crate) fn render_ups_conf(global: &str, sections: &[Section]) -> String {
    let mut out = String::new();
    push_lines(&mut out, global, "");
    for s in sections {
        out.push_str(&format!("\n[{}]\n", s.name));
        if let Some(d) = &s.driver {
            out.push_str(&format!("\tdriver = {}\n", d.program));
            if d.quote_port {
                out.push_str(&format!("\tport = {}\n", nut_core::token::quote(&d.port)));
            } else {
                out.push_str(&format!("\tport = {}\n", d.port));
            }
        }
        push_lines(&mut out, &s.extra, "\t");
    }
    out
}

pub(crate) fn render_upsd_conf(port: u16, extra: &str) -> String {
    let mut out = format!("LISTEN 127.0.0.1 {port}\n");
    push_lines(&mut out, extra, "");
    out
}

/// Appends `text` line by line with `indent`, making sure it ends with a newline.
fn push_lines(out: &mut String, text: &str, indent: &str) {
    for line in text.lines() {
        out.push_str(indent);
        out.push_str(line);
        out.push('\n');
    }
}

/// The `nut` account when we are root (then daemons drop privileges to it and our
/// files must be theirs); `None` otherwise (daemons keep our identity).
fn nut_owner() -> Option<(Uid, Gid)> {
    if !Uid::effective().is_root() {
        return None;
    }
    let user = User::from_name("nut").ok().flatten()?;
    Some((user.uid, user.gid))
}

/// Makes `dir` usable by the daemons: mode 0770, owned by `nut` when root.
pub(crate) fn prepare_dir(dir: &Path) {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o770))
        .unwrap_or_else(|e| panic!("nut-harness: chmod {}: {e}", dir.display()));
    give_to_nut(dir);
}

/// Creates `dir` (and parents) usable by the daemons, like [`prepare_dir`].
pub(crate) fn make_dir(dir: &Path) {
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("nut-harness: mkdir {}: {e}", dir.display()));
    prepare_dir(dir);
}

/// Writes `dir/name` (mode 0640, owned by `nut` when root). Config files are not
/// world-readable so that NUT does not warn about it in the logs we compare.
pub(crate) fn write_file(dir: &Path, name: &str, contents: &[u8]) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("nut-harness: mkdir {}: {e}", parent.display()));
    }
    fs::write(&path, contents)
        .unwrap_or_else(|e| panic!("nut-harness: write {}: {e}", path.display()));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640))
        .unwrap_or_else(|e| panic!("nut-harness: chmod {}: {e}", path.display()));
    give_to_nut(&path);
}

/// Adds execute permission for owner and group (0750).
pub(crate) fn make_executable(path: &Path) {
    fs::set_permissions(path, fs::Permissions::from_mode(0o750))
        .unwrap_or_else(|e| panic!("nut-harness: chmod +x {}: {e}", path.display()));
}

fn give_to_nut(path: &Path) {
    if let Some((uid, gid)) = nut_owner() {
        chown(path, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("nut-harness: chown nut {}: {e}", path.display()));
    }
}

/// Debian 2.8.0's upsmon and upslog write their PID files to /run/nut whatever the
/// environment says; create it like the package does (0770 root:nut) when missing.
pub(crate) fn ensure_run_nut() {
    let dir = Path::new("/run/nut");
    if dir.is_dir() || !Uid::effective().is_root() {
        return;
    }
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("nut-harness: mkdir /run/nut: {e}"));
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o770));
    let gid = Group::from_name("nut").ok().flatten().map(|g| g.gid);
    let _ = chown(dir, Some(Uid::from_raw(0)), gid);
}
