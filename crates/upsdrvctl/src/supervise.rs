//! Supervising mode (`upsdrvctl -F start`): the drivers run in the foreground as our
//! children and are restarted when they die.

use std::path::{Path, PathBuf};
use std::process::{ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tokio::sync::watch;

use crate::plan::Target;

/// Longest pause between restarts of a driver that keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A driver that ran at least this long before dying is restarted after the base delay.
const STABLE_RUN: Duration = Duration::from_secs(30);
/// How long a stopping driver gets before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What the supervisor asks its driver tasks to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    Run,
    /// Pass SIGHUP on (the counter makes every request a change).
    Reload(u64),
    Stop,
}

/// Run the supervisor until SIGTERM/SIGINT, or until every driver stopped cleanly.
pub fn run(targets: Vec<Target>, statepath: PathBuf) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Fatal error: can't start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    rt.block_on(supervise(targets, statepath))
}

async fn supervise(targets: Vec<Target>, statepath: PathBuf) -> ExitCode {
    let (tx, rx) = watch::channel(Order::Run);
    let mut tasks = tokio::task::JoinSet::new();
    for t in targets {
        if !t.program.is_file() {
            eprintln!(
                "Can't start {}: No such file or directory",
                t.program.display()
            );
            continue;
        }
        let pidfile = nut_driver::process::pid_file(&t.driver, &t.ups);
        if let Some(pid) = nut_driver::process::lock_holder(&pidfile) {
            eprintln!(
                "Driver for UPS [{}] is already running (PID {pid}); not supervising it",
                t.ups
            );
            continue;
        }
        let socket = nut_driver::process::socket_path(&statepath, &t.driver, &t.ups);
        tasks.spawn(keep_running(t, socket, rx.clone()));
    }
    if tasks.is_empty() {
        return ExitCode::from(1);
    }
    let Ok(mut signals) =
        nut_daemon::signals::Signals::new(&[Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP])
    else {
        eprintln!("Fatal error: can't install signal handlers");
        return ExitCode::from(1);
    };
    let mut reloads = 0;
    loop {
        tokio::select! {
            signal = signals.recv() => {
                if signal != Signal::SIGHUP {
                    break;
                }
                reloads += 1;
                let _ = tx.send(Order::Reload(reloads));
            }
            done = tasks.join_next() => {
                if done.is_none() {
                    nut_driver::notice!("All drivers stopped; exiting");
                    return ExitCode::SUCCESS;
                }
            }
        }
    }
    let _ = tx.send(Order::Stop);
    while tasks.join_next().await.is_some() {}
    ExitCode::SUCCESS
}

fn describe(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => status.to_string(),
    }
}

async fn wait_ready(socket: &Path, child: &mut tokio::process::Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if socket.exists() {
            return true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn signal_child(child: &tokio::process::Child, sig: Signal) {
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
    }
}

/// Keep one driver running.
async fn keep_running(t: Target, socket: PathBuf, mut orders: watch::Receiver<Order>) {
    let mut backoff = t.retry_delay.max(Duration::from_secs(1));
    loop {
        nut_driver::debug!(1, "Starting UPS: {}", t.ups);
        nut_driver::debug!(2, "{}", crate::plan::exec_line(&t));
        // A stale socket file must not look like the new driver being ready.
        let _ = std::fs::remove_file(&socket);
        let started = Instant::now();
        let mut child = match tokio::process::Command::new(&t.program)
            .args(&t.args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("Can't start {}: {e}", t.program.display());
                if pause(backoff, &mut orders).await {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        if wait_ready(&socket, &mut child, t.max_start_delay).await {
            nut_driver::notice!(
                "Driver for UPS [{}] is running (PID {})",
                t.ups,
                child.id().unwrap_or(0)
            );
        }
        let status = loop {
            tokio::select! {
                status = child.wait() => break status,
                changed = orders.changed() => {
                    let order = if changed.is_ok() { *orders.borrow_and_update() } else { Order::Stop };
                    match order {
                        Order::Stop => {
                            stop_child(&mut child).await;
                            return;
                        }
                        Order::Reload(_) => signal_child(&child, Signal::SIGHUP),
                        Order::Run => {}
                    }
                }
            }
        };
        let status = match status {
            Ok(s) => s,
            Err(e) => {
                eprintln!("Lost track of the driver for UPS [{}]: {e}", t.ups);
                return;
            }
        };
        if status.success() {
            nut_driver::notice!(
                "Driver for UPS [{}] stopped (exit status 0); not restarting it",
                t.ups
            );
            return;
        }
        if started.elapsed() >= STABLE_RUN {
            backoff = t.retry_delay.max(Duration::from_secs(1));
        }
        nut_driver::notice!(
            "Driver for UPS [{}] died ({}); restarting it in {} s",
            t.ups,
            describe(&status),
            backoff.as_secs()
        );
        if pause(backoff, &mut orders).await {
            return;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Sleep, unless told to stop first (then true).
async fn pause(d: Duration, orders: &mut watch::Receiver<Order>) -> bool {
    let deadline = tokio::time::Instant::now() + d;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return false,
            changed = orders.changed() => {
                if changed.is_err() || *orders.borrow_and_update() == Order::Stop {
                    return true;
                }
            }
        }
    }
}

async fn stop_child(child: &mut tokio::process::Child) {
    signal_child(child, Signal::SIGTERM);
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}
