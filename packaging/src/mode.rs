//! `ExecCondition=` for the units: does nut.conf's `MODE` want this part of NUT to run here?
//!
//! NUT's convention: `standalone` and `netserver` run drivers, upsd and upsmon; `netclient`
//! runs only upsmon (and upslog); `none` — or no `MODE` at all, or no nut.conf — runs
//! nothing, which is how Debian's packages ship (nothing starts before the administrator has
//! configured it). The file is read with nut-core's nut.conf parser, not with `grep`.

use std::path::Path;

use nut_core::conf::{Mode, parse_nut_conf};

/// A part of NUT that a unit starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Drivers (`nut-driver@.service`).
    Driver,
    /// upsd (`nut-server.service`).
    Server,
    /// upsmon (`nut-monitor.service`).
    Monitor,
    /// upslog (`nut-logger.service`).
    Logger,
}

impl Role {
    /// Parse the role word of `nut-systemd mode-allows <role>`.
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "driver" => Self::Driver,
            "server" => Self::Server,
            "monitor" => Self::Monitor,
            "logger" => Self::Logger,
            _ => return None,
        })
    }

    /// Whether `mode` runs this role.
    pub fn runs_in(self, mode: Mode) -> bool {
        match self {
            Self::Driver | Self::Server => matches!(mode, Mode::Standalone | Mode::NetServer),
            Self::Monitor | Self::Logger => {
                matches!(mode, Mode::Standalone | Mode::NetServer | Mode::NetClient)
            }
        }
    }
}

/// The outcome for `ExecCondition=`: exit 0 runs the unit, 1 skips it quietly, 255 fails it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Start the unit.
    Run,
    /// Skip it, with the reason (one line).
    Skip(String),
    /// nut.conf cannot be read or makes no sense: fail the unit, with the reason.
    Fail(String),
}

impl Verdict {
    /// The `ExecCondition=` exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Run => 0,
            Self::Skip(_) => 1,
            Self::Fail(_) => 255,
        }
    }
}

/// Decide for `role` from the nut.conf at `path`.
pub fn check(path: &Path, role: Role) -> Verdict {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Verdict::Skip(format!(
                "{} does not exist: MODE is none, nothing to start",
                path.display()
            ));
        }
        Err(e) => return Verdict::Fail(format!("can't read {}: {e}", path.display())),
    };
    let name = path.display().to_string();
    let conf = match parse_nut_conf(&text, &name) {
        Ok(parsed) => parsed.config,
        Err(e) => return Verdict::Fail(e.to_string()),
    };
    if conf.mode.is_none()
        && let Some(raw) = conf.get("MODE")
    {
        return Verdict::Fail(format!(
            "{}: MODE={raw:?} is not one of none, standalone, netserver, netclient",
            path.display()
        ));
    }
    let mode = conf.mode();
    if role.runs_in(mode) {
        Verdict::Run
    } else {
        Verdict::Skip(format!(
            "{}: MODE={} does not run this service",
            path.display(),
            mode.as_str()
        ))
    }
}

/// The value of `key` in the nut.conf at `path`, for shell scripts that must not source the
/// file (the late-shutdown hook): `Ok(None)` when the file or the key is missing, `Err` with
/// the reason when the file cannot be read or is not valid nut.conf.
pub fn value(path: &Path, key: &str) -> Result<Option<String>, String> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("can't read {}: {e}", path.display())),
    };
    let conf = parse_nut_conf(&text, &path.display().to_string()).map_err(|e| e.to_string())?;
    Ok(conf.config.get(key).map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(text: Option<&str>, role: Role) -> Verdict {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("nut.conf");
        if let Some(text) = text {
            std::fs::write(&path, text).unwrap();
        }
        check(&path, role)
    }

    #[test]
    fn modes_select_roles() {
        for (mode, server, monitor) in [
            ("standalone", true, true),
            ("netserver", true, true),
            ("netclient", false, true),
            ("none", false, false),
        ] {
            let text = format!("MODE={mode}\n");
            assert_eq!(verdict(Some(&text), Role::Server) == Verdict::Run, server);
            assert_eq!(verdict(Some(&text), Role::Driver) == Verdict::Run, server);
            assert_eq!(verdict(Some(&text), Role::Monitor) == Verdict::Run, monitor);
            assert_eq!(verdict(Some(&text), Role::Logger) == Verdict::Run, monitor);
        }
        assert_eq!(
            verdict(Some("MODE=\"standalone\" # quoted\n"), Role::Server),
            Verdict::Run
        );
    }

    #[test]
    fn missing_or_unset_mode_skips_and_nonsense_fails() {
        assert_eq!(verdict(None, Role::Monitor).exit_code(), 1);
        assert_eq!(verdict(Some("# nothing\n"), Role::Monitor).exit_code(), 1);
        assert_eq!(
            verdict(Some("MODE=bogus\n"), Role::Monitor).exit_code(),
            255
        );
    }

    #[test]
    fn values_are_read_with_the_shell_rules_and_errors_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("nut.conf");
        assert_eq!(value(&path, "MODE"), Ok(None), "no file, no value");
        std::fs::write(
            &path,
            "MODE=standalone\nPOWEROFF_WAIT=\"1m 30s\" # race\nPOWEROFF_WAIT='5s'\n",
        )
        .unwrap();
        assert_eq!(value(&path, "MODE").unwrap().as_deref(), Some("standalone"));
        assert_eq!(
            value(&path, "POWEROFF_WAIT").unwrap().as_deref(),
            Some("5s"),
            "the last assignment wins"
        );
        assert_eq!(value(&path, "POWEROFF_QUIET"), Ok(None));
        std::fs::write(&path, "MODE = standalone\n").unwrap();
        let err = value(&path, "MODE").unwrap_err();
        assert!(err.contains("nut.conf"), "{err}");
    }
}
