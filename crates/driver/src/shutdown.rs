//! Powering the UPS off at the end of a system shutdown (`driver -k`) or on the socket's
//! `driver.killpower`: the instant commands of `sdcommands` are tried in order until one is
//! handled; `shutdown.default` stands for the driver's own sequence ([`Driver::shutdown`]).
//! Without `sdcommands` only `shutdown.default` is tried. This is the model of NUT ≥ 2.8.3
//! (`upsdrv_shutdown_sdcommands_or_default`); NUT 2.8.0 only ran the driver's own
//! sequence, which is still what happens when `sdcommands` is not set.

use nut_core::sock::CmdStatus;

use crate::log::Level;
use crate::{Driver, DriverError, Outcome, State};

/// The built-in command that runs the driver's own power-off sequence.
pub const DEFAULT_COMMAND: &str = "shutdown.default";

/// The commands to try, in order: `sdcommands` split at commas (empty items skipped), or
/// `shutdown.default` alone.
pub fn commands(sdcommands: Option<&str>) -> Vec<String> {
    let list: Vec<String> = sdcommands
        .unwrap_or(DEFAULT_COMMAND)
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    list
}

/// How a power-off request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// This command was handled: the UPS will cut the power.
    Done(String),
    /// Every command failed.
    Failed,
    /// The driver can do none of them.
    NotSupported,
}

impl Verdict {
    /// The exit status of `-k`: 0 when the UPS accepted a command, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Done(_) => 0,
            Self::Failed | Self::NotSupported => 1,
        }
    }

    /// The line NUT logs about it.
    pub fn message(&self, ups: &str) -> (Level, String) {
        match self {
            Self::Done(cmd) => (
                Level::Error, // LOG_CRIT in NUT: logged whatever the verbosity
                format!("UPS [{ups}]: shutdown request was successful with '{cmd}'"),
            ),
            Self::Failed => (
                Level::Error,
                format!("UPS [{ups}]: shutdown request(s) failed"),
            ),
            Self::NotSupported => (Level::Error, format!("UPS [{ups}]: shutdown not supported")),
        }
    }

    /// The socket result of `driver.killpower`.
    pub fn status(&self) -> CmdStatus {
        match self {
            Self::Done(_) => CmdStatus::Handled,
            Self::Failed | Self::NotSupported => CmdStatus::Invalid,
        }
    }
}

/// Try `commands` on the driver in order; the first one handled wins.
pub async fn run<D: Driver>(
    driver: &mut D,
    io: &mut D::Transport,
    state: &mut State,
    commands: &[String],
) -> Verdict {
    let mut supported = false;
    for cmd in commands {
        crate::debug!(1, "shutdown: trying {cmd}");
        let status = if cmd == DEFAULT_COMMAND {
            match driver.shutdown(io, state).await {
                Ok(()) => CmdStatus::Handled,
                Err(DriverError::Unsupported(why)) => {
                    crate::debug!(1, "shutdown: {cmd}: {why}");
                    continue;
                }
                Err(e) => {
                    supported = true;
                    crate::error!("shutdown: {cmd}: {e}");
                    CmdStatus::Failed
                }
            }
        } else {
            let status = match driver.instcmd(io, cmd, None, state).await {
                Outcome::Done(s) => s,
                Outcome::Later(rx) => rx.await.unwrap_or(CmdStatus::Failed),
            };
            if status == CmdStatus::Unknown || status == CmdStatus::Invalid {
                crate::debug!(1, "shutdown: {cmd} is not a command of this driver");
                continue;
            }
            supported = true;
            status
        };
        if status == CmdStatus::Handled {
            return Verdict::Done(cmd.clone());
        }
    }
    if supported {
        Verdict::Failed
    } else {
        Verdict::NotSupported
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::NoTransport;

    #[test]
    fn command_list() {
        assert_eq!(commands(None), vec!["shutdown.default"]);
        assert_eq!(
            commands(Some("shutdown.stayoff,, load.off ,shutdown.default")),
            vec!["shutdown.stayoff", "load.off", "shutdown.default"]
        );
        assert!(commands(Some(",")).is_empty());
    }

    /// Records what it was asked; `handles` are the commands that succeed.
    struct Fake {
        handles: &'static [&'static str],
        fails: &'static [&'static str],
        own: Result<(), &'static str>,
        asked: Vec<String>,
    }

    impl Driver for Fake {
        type Transport = NoTransport;
        async fn init_info(
            &mut self,
            _: &mut NoTransport,
            _: &mut State,
        ) -> Result<(), DriverError> {
            Ok(())
        }
        async fn update_info(
            &mut self,
            _: &mut NoTransport,
            _: Instant,
            _: &mut State,
        ) -> Result<(), DriverError> {
            Ok(())
        }
        async fn instcmd(
            &mut self,
            _: &mut NoTransport,
            cmd: &str,
            _: Option<&str>,
            _: &mut State,
        ) -> Outcome {
            self.asked.push(cmd.to_owned());
            if self.handles.contains(&cmd) {
                CmdStatus::Handled.into()
            } else if self.fails.contains(&cmd) {
                CmdStatus::Failed.into()
            } else {
                CmdStatus::Invalid.into()
            }
        }
        async fn shutdown(
            &mut self,
            _: &mut NoTransport,
            _: &mut State,
        ) -> Result<(), DriverError> {
            self.asked.push(DEFAULT_COMMAND.into());
            match self.own {
                Ok(()) => Ok(()),
                Err("unsupported") => Err(DriverError::Unsupported("no".into())),
                Err(why) => Err(DriverError::Timeout(why.into())),
            }
        }
    }

    fn fake(handles: &'static [&'static str], own: Result<(), &'static str>) -> Fake {
        Fake {
            handles,
            fails: &["beeper.off"],
            own,
            asked: Vec::new(),
        }
    }

    async fn try_all(d: &mut Fake, list: &str) -> Verdict {
        let mut st = State::new();
        run(d, &mut NoTransport, &mut st, &commands(Some(list))).await
    }

    #[tokio::test(flavor = "current_thread")]
    async fn first_handled_command_wins_in_order() {
        let mut d = fake(&["load.off", "shutdown.return"], Ok(()));
        let v = try_all(
            &mut d,
            "shutdown.stayoff,beeper.off,shutdown.return,load.off",
        )
        .await;
        assert_eq!(v, Verdict::Done("shutdown.return".into()));
        assert_eq!(
            d.asked,
            ["shutdown.stayoff", "beeper.off", "shutdown.return"]
        );
        assert_eq!(v.exit_code(), 0);
        assert_eq!(
            v.message("ups1").1,
            "UPS [ups1]: shutdown request was successful with 'shutdown.return'"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn default_runs_the_drivers_own_sequence() {
        let mut d = fake(&[], Ok(()));
        let mut st = State::new();
        let v = run(&mut d, &mut NoTransport, &mut st, &commands(None)).await;
        assert_eq!(v, Verdict::Done("shutdown.default".into()));
        let mut d = fake(&[], Err("Q1"));
        let v = try_all(&mut d, "shutdown.default").await;
        assert_eq!(v, Verdict::Failed);
        assert_eq!(v.exit_code(), 1);
        assert_eq!(v.status(), CmdStatus::Invalid);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn nothing_supported_is_said_so() {
        let mut d = fake(&[], Err("unsupported"));
        let v = try_all(&mut d, "shutdown.default,shutdown.stayoff").await;
        assert_eq!(v, Verdict::NotSupported);
        assert_eq!(v.message("u").1, "UPS [u]: shutdown not supported");
        let mut d = fake(&[], Err("unsupported"));
        assert_eq!(try_all(&mut d, "beeper.off").await, Verdict::Failed);
    }
}
