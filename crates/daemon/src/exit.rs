//! One exit-code scheme for every nut-rs daemon's start-up failures.
//!
//! NUT 2.8.0 exits 1 for every failure, so a service manager or a script cannot tell "fix the
//! config" from "try again later". Here each class of start-up failure has its own code, taken
//! from BSD's `sysexits.h` (the values most Unix tools and systemd's documentation already use):
//!
//! | code | name             | start-up failure                                            |
//! |------|------------------|-------------------------------------------------------------|
//! | 1    | —                | anything not classified below (NUT's code)                  |
//! | 64   | `EX_USAGE`       | bad command line                                            |
//! | 67   | `EX_NOUSER`      | the user to run as (`-u`, `RUN_AS_USER`) does not exist     |
//! | 69   | `EX_UNAVAILABLE` | address/port in use, no listener, a needed peer unreachable |
//! | 71   | `EX_OSERR`       | an OS call failed (fork, runtime, account database)         |
//! | 73   | `EX_CANTCREAT`   | can't create a PID file, socket, state or runtime directory |
//! | 75   | `EX_TEMPFAIL`    | another instance is already running                         |
//! | 77   | `EX_NOPERM`      | missing permission (privileged port, setuid, file modes)    |
//! | 78   | `EX_CONFIG`      | a configuration file is missing, unreadable or invalid      |
//!
//! Control commands (`-c reload|stop` with no running instance, …) keep NUT's codes. A daemon's
//! message stays one line on stderr/syslog; only the code changes. With systemd,
//! `RestartPreventExitStatus=64 67 78` stops restart loops on errors a restart cannot fix.

use std::error::Error;
use std::io;
use std::process::ExitCode;

use crate::pidfile::PidFileError;
use crate::user::UserError;

/// Why a daemon did not start, as its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Exit {
    /// Not classified: NUT's generic failure code.
    Failure,
    /// Bad command line (`EX_USAGE`).
    Usage,
    /// The account to run as does not exist (`EX_NOUSER`).
    NoUser,
    /// A needed service is unavailable: address in use, no listener (`EX_UNAVAILABLE`).
    Unavailable,
    /// An operating-system call failed (`EX_OSERR`).
    OsError,
    /// A PID file, socket or directory could not be created (`EX_CANTCREAT`).
    CantCreate,
    /// Another instance is running; try again once it has stopped (`EX_TEMPFAIL`).
    AlreadyRunning,
    /// Not allowed: privileged port, setuid, file permissions (`EX_NOPERM`).
    NoPermission,
    /// Configuration missing, unreadable or invalid (`EX_CONFIG`).
    Config,
}

impl Exit {
    /// The numeric exit status.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Failure => 1,
            Exit::Usage => 64,
            Exit::NoUser => 67,
            Exit::Unavailable => 69,
            Exit::OsError => 71,
            Exit::CantCreate => 73,
            Exit::AlreadyRunning => 75,
            Exit::NoPermission => 77,
            Exit::Config => 78,
        }
    }

    /// The status as an `i32`, for `std::process::exit` style entry points.
    pub const fn status(self) -> i32 {
        self.code() as i32
    }

    /// Every class, for tables and tests.
    pub const ALL: [Exit; 9] = [
        Exit::Failure,
        Exit::Usage,
        Exit::NoUser,
        Exit::Unavailable,
        Exit::OsError,
        Exit::CantCreate,
        Exit::AlreadyRunning,
        Exit::NoPermission,
        Exit::Config,
    ];

    /// The class of an I/O error met while creating something (socket, file, directory).
    pub fn of_io(err: &io::Error) -> Exit {
        match err.kind() {
            io::ErrorKind::AddrInUse | io::ErrorKind::AddrNotAvailable => Exit::Unavailable,
            io::ErrorKind::PermissionDenied => Exit::NoPermission,
            _ => Exit::CantCreate,
        }
    }

    /// The first classifiable error in `err`'s `source()` chain (a [`StartupError`], a
    /// [`PidFileError`], a [`UserError`] or an [`io::Error`]); [`Exit::Failure`] if none.
    pub fn of_error(err: &(dyn Error + 'static)) -> Exit {
        let mut next = Some(err);
        while let Some(e) = next {
            if let Some(exit) = Self::of_known(e) {
                return exit;
            }
            next = e.source();
        }
        Exit::Failure
    }

    /// For a configuration file that could not be used: [`Exit::NoPermission`] when the
    /// chain holds a "permission denied", else [`Exit::Config`].
    pub fn of_config_error(err: &(dyn Error + 'static)) -> Exit {
        let mut next = Some(err);
        while let Some(e) = next {
            if let Some(io) = e.downcast_ref::<io::Error>()
                && io.kind() == io::ErrorKind::PermissionDenied
            {
                return Exit::NoPermission;
            }
            next = e.source();
        }
        Exit::Config
    }

    fn of_known(e: &(dyn Error + 'static)) -> Option<Exit> {
        if let Some(s) = e.downcast_ref::<StartupError>() {
            return Some(s.exit);
        }
        if let Some(p) = e.downcast_ref::<PidFileError>() {
            return Some(Exit::from(p));
        }
        if let Some(u) = e.downcast_ref::<UserError>() {
            return Some(Exit::from(u));
        }
        e.downcast_ref::<io::Error>().map(Exit::of_io)
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

impl From<&PidFileError> for Exit {
    fn from(err: &PidFileError) -> Self {
        match err {
            PidFileError::AlreadyRunning { .. } => Exit::AlreadyRunning,
            PidFileError::Unsafe { .. } => Exit::CantCreate,
            PidFileError::Io { source, .. } => match source.kind() {
                io::ErrorKind::PermissionDenied => Exit::NoPermission,
                _ => Exit::CantCreate,
            },
        }
    }
}

impl From<&UserError> for Exit {
    fn from(err: &UserError) -> Self {
        match err {
            UserError::NotFound(_) => Exit::NoUser,
            UserError::Lookup { .. } => Exit::OsError,
            UserError::Switch { .. } => Exit::NoPermission,
        }
    }
}

/// A start-up failure with its message (one line) and its class.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StartupError {
    /// The exit class.
    pub exit: Exit,
    /// The one-line explanation.
    pub message: String,
}

impl StartupError {
    /// A failure of class `exit` explained by `message`.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_class_has_its_own_nonzero_code() {
        let codes: HashSet<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), Exit::ALL.len());
        assert!(!codes.contains(&0));
    }

    #[test]
    fn codes_are_sysexits_values() {
        assert_eq!(Exit::Usage.code(), 64);
        assert_eq!(Exit::NoUser.code(), 67);
        assert_eq!(Exit::Unavailable.code(), 69);
        assert_eq!(Exit::CantCreate.code(), 73);
        assert_eq!(Exit::AlreadyRunning.code(), 75);
        assert_eq!(Exit::NoPermission.code(), 77);
        assert_eq!(Exit::Config.code(), 78);
    }

    #[test]
    fn io_errors_are_classified_by_kind() {
        let in_use = io::Error::from(io::ErrorKind::AddrInUse);
        assert_eq!(Exit::of_io(&in_use), Exit::Unavailable);
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(Exit::of_io(&denied), Exit::NoPermission);
        let missing = io::Error::from(io::ErrorKind::NotFound);
        assert_eq!(Exit::of_io(&missing), Exit::CantCreate);
    }

    #[derive(Debug, thiserror::Error)]
    #[error("wrapped")]
    struct Wrapper(#[source] UserError);

    #[test]
    fn the_source_chain_is_searched() {
        let err = Wrapper(UserError::NotFound("nosuchuser".into()));
        assert_eq!(Exit::of_error(&err), Exit::NoUser);
        let tagged = StartupError::new(Exit::Config, "bad");
        assert_eq!(Exit::of_error(&tagged), Exit::Config);
        let plain = std::fmt::Error;
        assert_eq!(Exit::of_error(&plain), Exit::Failure);
        assert_eq!(Exit::of_config_error(&plain), Exit::Config);
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(Exit::of_config_error(&denied), Exit::NoPermission);
    }

    #[test]
    fn pid_file_errors_map_to_their_classes() {
        let running = PidFileError::AlreadyRunning {
            program: "upsd".into(),
            pid: 42,
            path: "/run/nut/upsd.pid".into(),
        };
        assert_eq!(Exit::from(&running), Exit::AlreadyRunning);
        let io = PidFileError::Io {
            path: "/x".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(Exit::from(&io), Exit::CantCreate);
    }
}
