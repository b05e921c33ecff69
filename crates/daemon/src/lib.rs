//! `nut-daemon`: the plumbing every nut-rs daemon shares, written once so that every daemon
//! (each driver, upsd, upsmon, upssched, upslog) behaves the same way.
//!
//! NUT's own daemons each carry their own copy of this logic, and that is where its long-lived
//! service-manager problems come from: `/run/nut` missing for the client package, a PID file
//! that holds a forked child's PID, PID files left behind, a start-up race between the parent
//! exiting and the daemon being ready. Here:
//!
//! * [`alarm`] — a one-shot `timerfd` alarm for tokio loops: one wake-up per deadline.
//! * [`paths`] — NUT's directories and their environment overrides (`NUT_CONFPATH`,
//!   `NUT_STATEPATH`, `NUT_ALTPIDPATH`, `NUT_PIDPATH`), and creating a missing runtime
//!   directory with the right owner and mode.
//! * [`pidfile`] — PID files written in one write and `flock`ed for the daemon's whole life: a
//!   second instance is refused with one clear line naming the running PID, a stale file is
//!   silently replaced, the file is removed at exit. [`pidfile::signal_running`] implements
//!   `-c reload|stop`.
//! * [`socket`] — binding a Unix socket with its mode from the umask and without following
//!   planted links.
//! * [`detach`] — NUT's default background mode: fork, `setsid`, `chdir /`, stdio to
//!   `/dev/null`; the parent exits only once the daemon says it is ready (or exits with the
//!   daemon's start-up failure code), so there is no start-up race. Call it before any async
//!   runtime or thread exists.
//! * [`exec`] — the environment of the programs a daemon runs, built as a value (no
//!   `set_var` before a spawn).
//! * [`fork`] — the one audited `fork`: refused while the process has more than one thread.
//! * [`notify`] — systemd `sd_notify` (`READY=1`, `RELOADING=1`, `STOPPING=1`, `MAINPID=`,
//!   and the one watchdog timer, [`notify::Watchdog`] / [`notify::watchdog_due`]), a no-op when
//!   `NOTIFY_SOCKET` is unset.
//! * [`log`] — the one logger of every daemon, upsdrvctl and every driver: plain lines on
//!   stderr in the foreground (with NUT's relative timestamps and `[D<n>]` tags when
//!   debugging), syslog when detached; NUT's levels (`notice!`, `debug!(level, …)`) and
//!   `tracing` events go through the same lines; [`log::strerror`] for C-style error texts.
//! * [`epoll`] — a level-triggered epoll set, for a loop that waits on its own descriptors
//!   without a runtime (a driver's loop).
//! * [`signals`] — the set of signals each daemon handles, caught in tokio loops or blocked
//!   and read synchronously.
//! * [`user`] — the unprivileged account (`-u`, `RUN_AS_USER`) and switching to it, with the
//!   group lookup done in a short-lived child so no NSS module stays loaded in a daemon.
//! * [`control`] — the `-c <command>` argument shared by the daemons.
//! * [`getopt`] — the getopt-style scanner every daemon's command line is read with.
//! * [`exit`] — one table of start-up exit codes (from `sysexits.h`) for every daemon.
//! * [`family`] — the `-4` / `-6` address-family restriction.

pub mod alarm;
pub mod control;
pub mod detach;
pub mod epoll;
pub mod exec;
pub mod exit;
pub mod family;
pub mod fork;
pub mod getopt;
pub mod localtime;
pub mod log;
pub mod notify;
pub mod paths;
pub mod pidfile;
pub mod signals;
pub mod socket;
pub mod user;
