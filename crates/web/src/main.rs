//! `nut-web`: serve the status page, the JSON API and `/metrics` (see the nut_web crate docs).

use std::process::ExitCode;
use std::sync::Arc;

use nut_daemon::exit::Exit;
use nut_web::config::{self, Command, ConfigError};
use nut_web::poll::{Credentials, Poller};
use nut_web::server::{AppState, router};

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
    let default_hosts = nut_daemon::paths::conf_file("hosts.conf");
    let targets = match config::load_targets(&options, &default_hosts) {
        Ok((targets, warnings)) => {
            for w in warnings {
                tracing::warn!("{w}");
            }
            targets
        }
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
    let count = targets.len();
    let state = AppState {
        targets: Arc::new(targets),
        poller: Arc::new(Poller {
            timeout: options.timeout,
            credentials,
        }),
    };
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        tracing::info!("listening on {} for {count} UPS(es)", options.listen);
        nut_daemon::notify::ready(&format!("serving {count} UPS(es)"));
        axum::serve(listener, router(state)).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(Exit::Failure, format!("server failed: {e}")),
    }
}
