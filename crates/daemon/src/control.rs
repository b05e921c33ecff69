//! The `-c <command>` argument of NUT's daemons (`upsd -c reload`, `upsmon -c fsd`, a driver's
//! `-c exit`). NUT accepts any prefix of a command word (`-c rel`), so do we.

use nix::sys::signal::Signal;

/// A command sent to a running daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Re-read configuration (SIGHUP).
    Reload,
    /// Stop (SIGTERM).
    Stop,
    /// upsmon only: set FSD and shut down (SIGUSR1).
    Fsd,
    /// Drivers: exit (SIGTERM).
    Exit,
}

impl Command {
    /// Parse `word` among `allowed`, accepting unambiguous prefixes as NUT does.
    pub fn parse(word: &str, allowed: &[Self]) -> Option<Self> {
        if word.is_empty() {
            return None;
        }
        allowed
            .iter()
            .copied()
            .find(|c| c.name().starts_with(&word.to_ascii_lowercase()))
    }

    /// The command word.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reload => "reload",
            Self::Stop => "stop",
            Self::Fsd => "fsd",
            Self::Exit => "exit",
        }
    }

    /// The signal that carries it.
    pub fn signal(self) -> Signal {
        match self {
            Self::Reload => Signal::SIGHUP,
            Self::Stop | Self::Exit => Signal::SIGTERM,
            Self::Fsd => Signal::SIGUSR1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_accepted() {
        let upsd = [Command::Reload, Command::Stop];
        assert_eq!(Command::parse("rel", &upsd), Some(Command::Reload));
        assert_eq!(Command::parse("STOP", &upsd), Some(Command::Stop));
        assert_eq!(Command::parse("fsd", &upsd), None);
        assert_eq!(Command::parse("", &upsd), None);
        assert_eq!(Command::parse("reloadx", &upsd), None);
    }
}
