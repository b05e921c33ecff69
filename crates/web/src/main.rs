//! `nut-web`: serve the status page, the JSON API and `/metrics` (see the nut_web crate docs).
//!
//! Signals, as for the other nut-rs daemons under systemd (`Type=notify`): SIGHUP re-reads
//! hosts.conf and the `-m` list (`RELOADING=1` … `READY=1`; a broken file keeps the previous
//! list), SIGTERM/SIGINT say `STOPPING=1`, stop accepting, let requests in flight finish and
//! exit 0. With `WatchdogSec=`, `WATCHDOG=1` every half period.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use nut_daemon::exit::Exit;
use nut_daemon::notify;
use nut_web::config::{self, Command, ConfigError, Options, Target};
use nut_web::listen;
use nut_web::poll::{Credentials, Poller};
use nut_web::server::{AppState, TargetList, router};

const PROGRAM: &str = "nut-web";

fn fail(exit: Exit, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("{PROGRAM}: {message}");
    ExitCode::from(exit.code())
}

fn main() -> ExitCode {
    let options = match config::parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(o)) => o,
        Ok(Command::Help) => {
            print!("{}", config::usage(PROGRAM));
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("{PROGRAM} {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(Exit::Usage, e),
    };
    nut_daemon::log::init(PROGRAM, 0, nut_daemon::log::Target::Stderr);
    let source = TargetSource {
        options: options.clone(),
        default_hosts: nut_daemon::paths::conf_file("hosts.conf"),
    };
    let targets = match source.load() {
        Ok(targets) => targets,
        Err(e @ ConfigError::Usage(_)) => return fail(Exit::Usage, e),
        Err(e @ ConfigError::Config(_)) => return fail(Exit::Config, e),
    };
    let credentials = match (
        std::env::var("NUT_WEB_USERNAME"),
        std::env::var("NUT_WEB_PASSWORD"),
    ) {
        (Ok(username), Ok(password)) => Some(Credentials { username, password }),
        (Err(_), Err(_)) => None,
        _ => {
            return fail(
                Exit::Config,
                "set both NUT_WEB_USERNAME and NUT_WEB_PASSWORD, or neither",
            );
        }
    };
    // Bind before starting the runtime so that "address in use" is a plain start-up failure.
    let listener = match std::net::TcpListener::bind(options.listen) {
        Ok(l) => l,
        Err(e) => {
            return fail(
                Exit::of_io(&e),
                format!(
                    "cannot listen on {}: {}",
                    options.listen,
                    nut_daemon::log::strerror(&e)
                ),
            );
        }
    };
    if let Err(e) = listener.set_nonblocking(true) {
        return fail(Exit::OsError, format!("socket setup failed: {e}"));
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(Exit::OsError, format!("cannot start the runtime: {e}")),
    };
    let tls = match options.tls.mode() {
        Ok(tls) => tls,
        Err(e) => return fail(Exit::Usage, e),
    };
    if let Err(e) = tls.check() {
        return fail(Exit::Config, e);
    }
    if credentials.is_some() && options.tls.requires_tls() && !options.tls.verifies_server() {
        tracing::warn!(
            "--forcessl without --certverify or --certpin: the password is encrypted but the \
             servers are not authenticated, so a man in the middle can still get it"
        );
    }
    let state = AppState {
        targets: Arc::new(TargetList::new(targets)),
        poller: Arc::new(Poller::new(options.timeout, credentials).with_tls(tls)),
    };
    match runtime.block_on(serve(listener, state, source)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(Exit::Failure, format!("server failed: {e}")),
    }
}

/// Where the UPS list comes from, kept for SIGHUP.
struct TargetSource {
    options: Options,
    default_hosts: PathBuf,
}

impl TargetSource {
    /// Read hosts.conf (if used) and the `-m` list, logging the warnings.
    fn load(&self) -> Result<Vec<Target>, ConfigError> {
        let (targets, warnings) = config::load_targets(&self.options, &self.default_hosts)?;
        for w in warnings {
            tracing::warn!("{w}");
        }
        Ok(targets)
    }

    /// SIGHUP: swap in the new list, or keep the old one when the new configuration is
    /// broken (the error names file and line). Either way systemd gets `READY=1` back.
    fn reload(&self, list: &TargetList) {
        notify::reloading();
        tracing::info!("SIGHUP: reloading the UPS list");
        let status = match self.load() {
            Ok(targets) => {
                let status = serving(targets.len());
                list.replace(targets);
                tracing::info!("reloaded: {status}");
                status
            }
            Err(e) => {
                let status = serving(list.current().len());
                tracing::error!("reload failed, still {status}: {e}");
                status
            }
        };
        notify::reloaded(&status);
    }
}

fn serving(count: usize) -> String {
    format!("serving {count} UPS(es)")
}

/// Serve until SIGTERM or SIGINT, reloading on SIGHUP.
async fn serve(
    listener: std::net::TcpListener,
    state: AppState,
    source: TargetSource,
) -> std::io::Result<()> {
    use nix::sys::signal::Signal;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    // Installed before READY=1, so that a reload right after start-up cannot kill us.
    let mut signals =
        nut_daemon::signals::Signals::new(&[Signal::SIGHUP, Signal::SIGTERM, Signal::SIGINT])?;
    let mut watchdog = notify::Watchdog::from_env();
    let mut limits = source.options.limits;
    if let Some(nofile) = listen::descriptor_limit() {
        let fitted = listen::fit_to_descriptors(limits.max_connections, nofile);
        if fitted < limits.max_connections {
            tracing::info!(
                "serving at most {fitted} connections at once (descriptor limit {nofile})"
            );
        }
        limits.max_connections = fitted;
    }
    let list = state.targets.clone();
    let status = serving(list.current().len());
    tracing::info!("listening on {}, {status}", source.options.listen);
    notify::ready(&status);
    let shutdown = async move {
        let name = loop {
            tokio::select! {
                () = notify::watchdog_due(&mut watchdog) => notify::watchdog(),
                signal = signals.recv() => match signal {
                    Signal::SIGHUP => source.reload(&list),
                    Signal::SIGTERM => break "SIGTERM",
                    _ => break "SIGINT",
                },
            }
        };
        notify::stopping();
        tracing::info!("{name}: finishing the requests in progress and exiting");
    };
    listen::serve(listener, router(state), limits, shutdown).await;
    Ok(())
}
